//! Growth without bound (issue 11, item 13): requests for conversations that do not exist leave
//! no storage behind, the retention cron prunes every table in bounded batches, idle
//! conversations close by themselves and leave the operators' list, and storage stays flat
//! under a load of old rows.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use floorwalker_core::chat::hub::HubNotification;
use floorwalker_core::chat::protocol::{ClientFrame, ConversationStatus, ServerFrame};
use floorwalker_core::upkeep::pruning::PruneReport;
use floorwalker_core::leads::lead::LeadKind;
use floorwalker_core::upkeep::retention::{Kept, RetentionPolicy, DAY_MS};
use floorwalker_e2e::chat::*;
use floorwalker_e2e::receiver::Receiver;
use floorwalker_e2e::worker::Worker;
use floorwalker_e2e::eventually;
use reqwest::Method;
use serde_json::{json, Value};

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_millis() as u64
}

/// Row counts of the tables retention prunes, read from the worker's local D1 (the worker has
/// no route that counts rows).
fn d1_counts(worker: &Worker) -> BTreeMap<String, u64> {
    let tables = [
        "events", "presence_changes", "leads", "outbox_events", "deliveries", "delivery_attempts", "mailbox", "rate_limits",
        "account_sessions", "chat_conversations", "chat_callbacks",
    ];
    let select: Vec<String> = tables.iter().map(|t| format!("(SELECT COUNT(*) FROM {t}) AS {t}")).collect();
    let rows = worker.d1_select(&format!("SELECT {}", select.join(", ")));
    let row = &rows[0];
    tables.iter().map(|t| ((*t).to_owned(), row[*t].as_u64().unwrap_or_else(|| panic!("{t} in {row}")))).collect()
}

/// SQLite files under a local state folder (workerd's metadata left out).
#[derive(Debug, Clone, Copy, Default)]
struct Disk {
    /// The database files themselves.
    db_bytes: u64,
    /// Their write-ahead logs (SQLite checkpoints them at ~1000 pages, then reuses the space).
    wal_bytes: u64,
    databases: usize,
    /// Databases holding more than an empty schema page (an erased object keeps an empty 4 KB
    /// file locally; the platform frees an erased object's storage).
    holding_data: usize,
}

fn disk(dir: &Path) -> Disk {
    let mut disk = Disk::default();
    let Ok(entries) = std::fs::read_dir(dir) else { return disk };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
        if name.starts_with("metadata.sqlite") {
            continue;
        }
        if name.ends_with(".sqlite") {
            disk.db_bytes += len;
            disk.databases += 1;
            disk.holding_data += usize::from(len > 4096);
        } else if name.ends_with(".sqlite-wal") {
            disk.wal_bytes += len;
            disk.holding_data += usize::from(len > 0 && std::fs::metadata(dir.join(name.trim_end_matches("-wal"))).is_ok_and(|m| m.len() <= 4096));
        }
    }
    disk
}

/// Runs the pruner through the admin API as if the clock read `at` (a test deployment only).
async fn prune_at(worker: &Worker, at: u64) -> PruneReport {
    let (status, body) = worker.admin_send(Method::POST, &format!("/retention/run?at={at}"), None).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).expect("a prune report")
}

/// The Conversation objects that have storage of their own (one SQLite file each, locally).
fn conversation_files(state: &Path) -> Vec<String> {
    let dir = state.join("v3/do/floorwalker-Conversation");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .filter(|name| name.ends_with(".sqlite") && name != "metadata.sqlite")
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn requests_for_unknown_conversations_create_no_storage() {
    let worker = chat_worker("retention-unknown").await;
    let visitor = visitor_session(&worker, SHOP, "visitor-unkn-0001").await;
    let real = start_conversation(&worker, SHOP, &visitor.token).await;
    let before = conversation_files(worker.state_dir());
    assert_eq!(before.len(), 1, "one conversation, one object with storage: {before:?}");

    // Forty strangers, each from an address of its own, so the routes' rate limits (per client
    // and per visitor) stay out of the way and every request reaches the id check.
    floorwalker_e2e::chat::one_address_per_request();
    for n in 0..40 {
        let id = format!("crandom{n:08}x{}", floorwalker_e2e::worker::random_token());
        let visitor = visitor_session(&worker, SHOP, &format!("visitor-stranger-{n:04}")).await;
        let socket = ws_url(&worker, &format!("/v1/chat/conversations/{id}/ws?token={}", visitor.token));
        assert_eq!(refused_status(&socket, Some(SHOP), None).await, 404, "socket for {id}");
        let (status, body) =
            post_json(&worker, &format!("/v1/chat/conversations/{id}/transcript"), Some(SHOP), &json!({"token": visitor.token, "email": "a@example.com"})).await;
        assert_eq!(status, 404, "transcript for {id}: {body}");
        let (status, body) =
            post_json(&worker, &format!("/v1/chat/conversations/{id}/callback"), Some(SHOP), &json!({"token": visitor.token, "email": "a@example.com"})).await;
        assert_eq!(status, 404, "callback for {id}: {body}");
    }
    // The retention cron asks no object about a conversation D1 does not hold either.
    let report = prune_at(&worker, now_ms() + 400 * DAY_MS).await;
    assert_eq!(report.pruned.get(&Kept::ClosedConversations).copied().unwrap_or(0), 0);
    // Local storage writes are flushed with the request; a moment for the files to appear if any would.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let after = conversation_files(worker.state_dir());
    assert_eq!(after, before, "unknown ids must not create objects with storage");
    // The real one still works.
    let visitor = visitor_session(&worker, SHOP, "visitor-unkn-0001").await;
    let mut socket = ChatSocket::visitor(&worker, SHOP, &real, &visitor.token).await;
    assert_eq!(socket.hello(0).await.conversation_id, real);
}

/// Issue 11, item 13: conversations close themselves after the site's silence, exactly as an
/// operator's close (the `closed` frame, `conversation.closed` to subscribers, the D1 row), and
/// the hub's list drops them one idle period later, so what every console receives stays bounded.
#[tokio::test]
async fn a_silent_conversation_closes_itself_and_leaves_the_operators_list() {
    let worker = chat_worker("retention-idle").await;
    worker.allow_private_endpoints().await;
    let receiver = Receiver::start();
    let endpoint = worker
        .add_endpoint(json!({"id": "crm", "url": receiver.url("/hooks/crm"), "preset": {"kind": "generic"}, "events": ["conversation.closed"]}))
        .await;
    receiver.set_secrets(vec![endpoint.secret]);
    for refused in [json!({"idle_close_seconds": 0}), json!({"events_days": 0}), json!({"events_day": 30}), json!("30")] {
        let (status, body) = worker.admin_send(Method::PUT, "/sites/demo/retention", Some(refused.clone())).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_config")), "{refused}: {body}");
    }
    let (status, body) = worker.admin_send(Method::PUT, "/sites/demo/retention", Some(json!({"idle_close_seconds": 2}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(worker.admin_get::<Value>("/sites/demo/retention").await, json!({"idle_close_seconds": 2}));

    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let cookie = login(&worker, "anna@demo.example", PASSWORD).await;
    let mut console = ConsoleSocket::open(&worker, &cookie).await;
    console.until("the snapshot", |n| matches!(n, HubNotification::Snapshot { .. }).then_some(())).await;

    let visitor = visitor_session(&worker, SHOP, "visitor-idle-0001").await;
    let conversation = start_conversation(&worker, SHOP, &visitor.token).await;
    let mut socket = ChatSocket::visitor(&worker, SHOP, &conversation, &visitor.token).await;
    socket.hello(0).await;
    socket.say("idle-msg-0001", "Is the pram in stock?").await;
    socket.until("the ack", |f| matches!(f, ServerFrame::Ack { .. }).then_some(())).await;
    console
        .until("the new conversation", |n| matches!(n, HubNotification::ConversationOpened { entry } if entry.conversation_id == conversation).then_some(()))
        .await;

    // Nobody writes: two seconds later the conversation closes by itself.
    let (closed_at, _) = socket.until("the close for silence", |f| match f {
        ServerFrame::Closed { at } => Some(*at),
        _ => None,
    })
    .await;
    let entry = console
        .until("the closed entry", |n| match n {
            HubNotification::ConversationUpdated { entry } if entry.conversation_id == conversation && entry.status == ConversationStatus::Closed => {
                Some(entry.clone())
            }
            _ => None,
        })
        .await;
    assert_eq!(entry.listed_until, Some(closed_at + 2_000), "listed for one more idle period");
    let closed = eventually("conversation.closed at the CRM", Duration::from_secs(20), || async {
        receiver
            .received_at("/hooks/crm")
            .into_iter()
            .map(|r| r.json())
            .find(|event| event["type"] == "conversation.closed" && event["data"]["transcript"]["conversation_id"] == conversation.as_str())
    })
    .await;
    assert_eq!(closed["data"]["transcript"]["messages"][0]["text"], "Is the pram in stock?");
    assert_eq!(visitor_session(&worker, SHOP, "visitor-idle-0001").await.conversation_id, None, "D1 knows it is closed");
    socket.say("idle-msg-0002", "Hello?").await;
    let (refusal, _) = socket.until("the refusal", |f| match f {
        ServerFrame::Error { error, .. } => Some(error.code),
        _ => None,
    })
    .await;
    assert_eq!(refusal, floorwalker_core::base::error::ErrorCode::ConversationClosed);

    // Once its time in the list is over, the next change to the list drops it, for every console.
    tokio::time::sleep(Duration::from_millis((closed_at + 2_100).saturating_sub(now_ms()))).await;
    let other = visitor_session(&worker, SHOP, "visitor-idle-0002").await;
    let second = start_conversation(&worker, SHOP, &other.token).await;
    let mut other_socket = ChatSocket::visitor(&worker, SHOP, &second, &other.token).await;
    other_socket.hello(0).await;
    other_socket.say("idle-msg-0003", "Hi").await;
    console
        .until("the removal", |n| matches!(n, HubNotification::ConversationRemoved { conversation_id } if *conversation_id == conversation).then_some(()))
        .await;
    let mut fresh = ConsoleSocket::open(&worker, &cookie).await;
    let listed = fresh
        .until("the snapshot", |n| match n {
            HubNotification::Snapshot { conversations, .. } => Some(conversations.iter().map(|e| e.conversation_id.clone()).collect::<Vec<_>>()),
            _ => None,
        })
        .await;
    assert_eq!(listed, vec![second], "the snapshot holds only what is current");
    socket.close().await;
}

/// Issue 11, item 13: the retention cron prunes every table in bounded steps, and under a load
/// of rows that age past their periods the storage stays flat: rounds of events, chats with
/// deliveries and sessions, each followed by a run as if months had passed, end where the first
/// ended. Prints the figures.
#[tokio::test]
async fn storage_stays_flat_while_the_cron_prunes_old_rows() {
    const ROUNDS: usize = 4;
    const EVENT_BATCHES: usize = 10;
    const CONVERSATIONS: usize = 4;
    let worker = chat_worker("retention-load").await;
    worker.allow_private_endpoints().await;
    let receiver = Receiver::start();
    let endpoint = worker
        .add_endpoint(json!({"id": "crm", "url": receiver.url("/hooks/crm"), "preset": {"kind": "generic"}, "events": ["message.created", "conversation.closed"]}))
        .await;
    receiver.set_secrets(vec![endpoint.secret]);
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;

    // A stranger may neither run nor configure it.
    for (method, path) in [(Method::POST, "/v1/admin/retention/run"), (Method::PUT, "/v1/admin/sites/demo/retention"), (Method::GET, "/v1/admin/sites/demo/retention")] {
        let response = worker.http().request(method, worker.url(path)).body("{}").send().await.expect("sent");
        assert_eq!(response.status().as_u16(), 401, "{path}");
    }

    let d1_dir = worker.state_dir().join("v3/d1/miniflare-D1DatabaseObject");
    let do_dir = worker.state_dir().join("v3/do/floorwalker-Conversation");
    let mut figures = Vec::new();
    let mut clock_days: u64 = 0;
    for round in 0..ROUNDS {
        for batch in 0..EVENT_BATCHES {
            let visitor = format!("visitor-load-{round}-{batch:03}");
            let events: Vec<Value> = (0..50)
                .map(|n| json!({"id": format!("evt-{round}-{batch:03}-{n:03}"), "at": now_ms(), "type": "page_view", "url": format!("{SHOP}/p/{n}"), "title": "Коляска"}))
                .collect();
            let body = json!({"v": 1, "site": "demo", "visitor": visitor, "session": format!("session-{round}-{batch}"), "events": events});
            let (status, answer) = post_json(&worker, "/v1/events", Some(SHOP), &body).await;
            assert!(status < 300, "events: {status} {answer}");
        }
        // A lead a round: kept three years, so only the later rounds' clocks reach it.
        let lead = floorwalker_e2e::leads::request(LeadKind::Callback, &format!("visitor-lead-{round}"), &format!("lead-key-{round}"), SHOP);
        let response = floorwalker_e2e::leads::post(&worker, SHOP, &serde_json::to_string(&lead).expect("a lead")).await;
        assert!(response.status().is_success(), "lead: {}", response.status());
        let cookie = login(&worker, "anna@demo.example", PASSWORD).await;
        // Anna comes online and leaves: two presence changes a round.
        let console = ConsoleSocket::open(&worker, &cookie).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(console);
        for n in 0..CONVERSATIONS {
            let visitor = visitor_session(&worker, SHOP, &format!("visitor-chat-{round}-{n:03}")).await;
            let conversation = start_conversation(&worker, SHOP, &visitor.token).await;
            let mut v = ChatSocket::visitor(&worker, SHOP, &conversation, &visitor.token).await;
            v.hello(0).await;
            v.say(&format!("load-{round}-{n}-1"), "Do you deliver to Kazan?").await;
            v.until("the ack", |f| matches!(f, ServerFrame::Ack { .. }).then_some(())).await;
            let mut op = ChatSocket::operator(&worker, &conversation, &cookie).await;
            op.hello(0).await;
            op.say(&format!("load-op-{round}-{n}"), "Yes, in two days.").await;
            op.until("the ack", |f| matches!(f, ServerFrame::Ack { .. }).then_some(())).await;
            op.send(&ClientFrame::Close).await;
            v.until("the close", |f| matches!(f, ServerFrame::Closed { .. }).then_some(())).await;
        }
        // Every chat event reaches the CRM before the clock moves on (pending deliveries are never pruned).
        let expected = (round + 1) * CONVERSATIONS * 3;
        eventually("the chat events delivered", Duration::from_secs(60), || async {
            (receiver.received_at("/hooks/crm").iter().filter(|r| r.delivered()).count() >= expected).then_some(())
        })
        .await;
        eventually("no delivery pending", Duration::from_secs(30), || async {
            let pending: Vec<Value> = worker.admin_get("/sites/demo/deliveries?limit=1000").await;
            pending.iter().all(|d| d["state"] != "pending").then_some(())
        })
        .await;
        let peak = d1_counts(&worker);
        assert!(peak["events"] >= (EVENT_BATCHES * 50) as u64, "{peak:?}");
        assert!(peak["presence_changes"] >= 2, "Anna's comings and goings were recorded: {peak:?}");
        // Months pass: past every period but the leads' three years.
        clock_days += 400;
        let report = prune_at(&worker, now_ms() + clock_days * DAY_MS).await;
        let mut runs = 1;
        let mut pruned = report.pruned.clone();
        let mut last = report;
        while !last.complete {
            last = prune_at(&worker, now_ms() + clock_days * DAY_MS).await;
            for (kind, n) in &last.pruned {
                *pruned.entry(*kind).or_default() += n;
            }
            runs += 1;
            assert!(runs <= 10, "pruning never completes: {last:?}");
        }
        assert!(last.subrequests <= 40, "{last:?}");
        let after = d1_counts(&worker);
        for table in ["events", "presence_changes", "outbox_events", "deliveries", "delivery_attempts", "chat_conversations", "account_sessions"] {
            assert_eq!(after[table], 0, "{table} after pruning: {after:?} (pruned {pruned:?})");
        }
        assert_eq!(pruned.get(&Kept::ClosedConversations).copied(), Some(CONVERSATIONS as u64), "{pruned:?}");
        let leads_kept = if clock_days * DAY_MS > RetentionPolicy::default().keep_ms(Kept::Leads, None) { 0 } else { round as u64 + 1 };
        assert_eq!(after["leads"], leads_kept, "leads go after three years, not with the rest: {after:?}");
        let (d1, objects) = (disk(&d1_dir), disk(&do_dir));
        println!(
            "retention load, round {round}: peak rows events {} deliveries {} attempts {} conversations {}; pruned {pruned:?} in {runs} run(s); \
             after: D1 rows {after:?}; D1 file {} bytes (+ WAL {} bytes); Conversation objects holding data {} of {} files ({} bytes)",
            peak["events"], peak["deliveries"], peak["delivery_attempts"], peak["chat_conversations"],
            d1.db_bytes, d1.wal_bytes, objects.holding_data, objects.databases, objects.db_bytes + objects.wal_bytes
        );
        assert_eq!(objects.holding_data, 0, "every pruned conversation's object erased its storage: {objects:?}");
        figures.push(d1);
    }
    // Flat: after the first round (which grows the file and its WAL to their working size) the
    // pages freed by one round are reused by the next.
    let warm = figures[1];
    for (round, d1) in figures.iter().enumerate().skip(1) {
        assert!(d1.db_bytes <= warm.db_bytes + warm.db_bytes / 10, "D1 grew in round {round}: {figures:?}");
        assert!(d1.wal_bytes <= 8 << 20, "the WAL is checkpointed: {figures:?}");
    }

    // The cron itself runs the same pruner (at the real time nothing fresh is due) and logs it.
    let fresh = d1_counts(&worker);
    worker.sweep().await;
    // The admin runs log their lines with "(admin)"; the cron's has none.
    let line = eventually("the cron's retention log line", Duration::from_secs(10), || async {
        let log = std::fs::read_to_string(worker.state_dir().join("wrangler.log")).ok()?;
        log.lines().find(|line| line.contains("retention: pruned") && !line.contains("(admin)")).map(str::to_owned)
    })
    .await;
    assert!(line.contains("retention: pruned nothing"), "a fresh row is never due: {line}");
    assert_eq!(d1_counts(&worker)["mailbox"], fresh["mailbox"]);
}

/// Outside a test deployment the clock cannot be moved and a site cannot close chats after
/// seconds; the run itself works for the owner and reports what it did.
#[tokio::test]
async fn a_production_deployment_keeps_its_clock_and_its_floors() {
    let worker = Worker::start_with_real_timing("retention-real").await;
    worker.seed_demo_site(&[]).await;
    let (status, body) = worker.admin_send(Method::PUT, "/sites/demo/retention", Some(json!({"idle_close_seconds": 2}))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_config")), "{body}");
    let (status, body) = worker.admin_send(Method::PUT, "/sites/demo/retention", Some(json!({"idle_close_seconds": 600, "events_days": 30}))).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = worker.admin_send(Method::POST, &format!("/retention/run?at={}", now_ms() + 400 * DAY_MS), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");
    let (status, body) = worker.admin_send(Method::POST, "/retention/run?at=soon", None).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = worker.admin_send(Method::PUT, "/sites/nosuchsite/retention", Some(json!({}))).await;
    assert_eq!(status, 404, "{body}");
    let report = prune_at_now(&worker).await;
    assert!(report.complete && report.total() == 0, "{report:?}");
}

async fn prune_at_now(worker: &Worker) -> PruneReport {
    let (status, body) = worker.admin_send(Method::POST, "/retention/run", None).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).expect("a prune report")
}
