//! A bounded fuzz of the worker's whole HTTP surface (public, console, CRM and admin routes) and of
//! the chat's WebSocket frames (issue 11, "Tests"): at least 10,000 requests generated from the
//! real request types (core's types, serialised, then mutated by `floorwalker_e2e::fuzz`), a few
//! connections at a time. No answer may be a 5xx, no request may go unanswered, no chat socket may
//! be closed as an internal error, and at the end the worker still answers normal requests.
//!
//! Deterministic: the seed is printed; `FUZZ_SEED=<n>` replays a run, `FUZZ_REQUESTS=<n>` sets its size.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use floorwalker_core::access::accounts::Role;
use floorwalker_core::access::links::{LinkLookup, NewInvite};
use floorwalker_core::base::locale::Locale;
use floorwalker_core::chat::hub::{ConnectionStatus, ConsoleFrame};
use floorwalker_core::chat::protocol::{ClientFrame, ServerFrame, CHAT_PROTOCOL_VERSION};
use floorwalker_core::leads::lead::LeadKind;
use floorwalker_core::outbound::delivery::SiteDelivery;
use floorwalker_core::outbound::privacy::SubjectQuery;
use floorwalker_core::outbound::email::branding::{MailKind, MailPreviewRequest, MailSettings, MailTestRequest};
use floorwalker_core::prompts::config::SiteConfig;
use floorwalker_core::prompts::install::OriginInput;
use floorwalker_core::visitor::event::EventBatch;
use floorwalker_e2e::chat::*;
use floorwalker_e2e::fuzz::{mutate, mutate_frame, object, Auth, Credentials, FuzzRequest, Rng, Seed};
use floorwalker_e2e::leads;
use floorwalker_e2e::worker::Worker;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const DEFAULT_SEED: u64 = 0x000F_100D_2026_1111;
const DEFAULT_REQUESTS: usize = 10_000;
const DEFAULT_FRAMES: usize = 1_500;
/// Connections at once: enough to overlap requests, few enough for a 2-core machine.
const CONCURRENCY: usize = 6;

/// A request body from core's own type, so the seed is what the route reads.
fn typed(value: impl serde::Serialize) -> Value {
    serde_json::to_value(value).expect("JSON")
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

/// What the fuzz runs against: a conversation, its visitor token, an operator, a CRM key.
struct Fixture {
    conversation: String,
    token: String,
    cookie: String,
    credentials: Credentials,
}

async fn fixture(worker: &Worker) -> Fixture {
    create_operator(worker, "fuzz@demo.example", "Fuzz", PASSWORD).await;
    let cookie = login(worker, "fuzz@demo.example", PASSWORD).await;
    let (status, key) = worker.admin_send(reqwest::Method::POST, "/sites/demo/api-keys", Some(json!({"name": "fuzz"}))).await;
    assert_eq!(status, 201, "{key}");
    let session = visitor_session(worker, SHOP, "visitor-fuzz-0001").await;
    let conversation = start_conversation(worker, SHOP, &session.token).await;
    let credentials = Credentials {
        admin_token: worker.admin_token.clone(),
        api_key: key["key"].as_str().expect("a key").to_owned(),
        cookie: cookie.clone(),
        shop_origin: SHOP.to_owned(),
        own_origin: worker.origin(),
    };
    Fixture { conversation, token: session.token, cookie, credentials }
}

/// Valid requests of every route, from core's types where core has them: the costly ones
/// (password hashing, a new Durable Object per call), picked for one request in a hundred, and
/// the rest, the frequent routes weighted.
fn seeds(worker: &Worker, f: &Fixture) -> (Vec<Seed>, Vec<Seed>) {
    let (c, token) = (&f.conversation, &f.token);
    let batch: EventBatch = serde_json::from_value(json!({"v": 1, "site": "demo", "visitor": "visitor-fuzz-0002", "session": "session-fuzz-1",
        "events": [
            {"id": "evt-fuzz-00000001", "at": 1_790_000_000_000u64, "type": "page_view", "url": format!("{SHOP}/p/1"), "title": "Кроха"},
            {"id": "evt-fuzz-00000002", "at": 1_790_000_001_000u64, "type": "active_time", "seconds": 5},
        ]}))
    .expect("a valid EventBatch");
    let batch = serde_json::to_value(&batch).expect("JSON");
    let lead = |kind| serde_json::to_value(leads::request(kind, "visitor-fuzz-0003", "fuzz-lead", SHOP)).expect("JSON");
    let context = lead(LeadKind::Callback)["context"].clone();
    let mut site = worker.demo_site_config(&[]);
    site.site = "fuzzshop".into();
    site.origins = vec!["https://fuzzshop.example".into()];
    let site: Value = serde_json::to_value::<&SiteConfig>(&site).expect("JSON");
    let delivery = serde_json::to_value(SiteDelivery::default()).expect("JSON");
    let endpoint = json!({"id": "fz", "url": "https://crm.invalid/hook", "preset": {"kind": "generic"}, "events": ["lead.created"], "enabled": false});
    let erase = serde_json::to_value(SubjectQuery { visitor: Some("visitor-fuzz-gone".into()), ..SubjectQuery::default() }).expect("JSON");
    let s = Seed::new;
    let costly = vec![
        s("POST", "/v1/console/login".into(), Some(object(&[("email", json!("fuzz@demo.example")), ("password", json!("wrong password"))])), Auth::Operator, false),
        s("POST", "/v1/admin/sites/demo/operators".into(), Some(object(&[("email", json!("new@demo.example")), ("name", json!("New")), ("password", json!("long enough password"))])), Auth::Admin, false),
        s("POST", "/v1/admin/chat/store-check".into(), None, Auth::Admin, false),
    ];
    let mut seeds = vec![
        s("GET", "/v1/health".into(), None, Auth::None, false),
        s("OPTIONS", "/v1/events".into(), None, Auth::None, true),
        s("GET", "/v1/sites/demo/config".into(), None, Auth::None, true),
        s("GET", "/v1/sites/demo/presence".into(), None, Auth::None, true),
        s("GET", format!("/v1/consent/{}", "cns.e30.e30"), None, Auth::None, false),
        s("POST", format!("/v1/consent/{}", "cns.e30.e30"), None, Auth::None, false),
        s("GET", format!("/v1/mail/alert-confirm/{}", "ZGVtbwp0QGEuZXhhbXBsZQox.AAAA"), None, Auth::None, false),
        s("POST", format!("/v1/mail/alert-confirm/{}", "ZGVtbwp0QGEuZXhhbXBsZQox.AAAA"), None, Auth::None, false),
        s("POST", "/v1/admin/sites/demo/email/alert-link".into(), None, Auth::Admin, false),
        s("GET", "/v1/mailbox".into(), None, Auth::None, false),
        s("GET", "/v1/mailbox/nope".into(), None, Auth::None, false),
        s("POST", "/v1/chat/session".into(), Some(object(&[("site", json!("demo")), ("visitor", json!("visitor-fuzz-0004"))])), Auth::None, true),
        s("POST", "/v1/chat/conversations".into(), Some(object(&[("token", json!(token)), ("context", context)])), Auth::None, true),
        s("POST", format!("/v1/chat/conversations/{c}/callback"), Some(object(&[("token", json!(token)), ("phone", json!("+7 916 123 45 67")), ("time_slot", json!("после 18"))])), Auth::None, true),
        s("POST", format!("/v1/chat/conversations/{c}/transcript"), Some(object(&[("token", json!(token)), ("email", json!("fuzz@example.com"))])), Auth::None, true),
        s("POST", format!("/v1/chat/conversations/{c}/rating"), Some(object(&[("token", json!(token)), ("score", json!(4))])), Auth::None, true),
        s("GET", format!("/v1/chat/conversations/{c}/ws?token={token}"), None, Auth::None, true),
        s("GET", format!("/v1/console/conversations/{c}/ws"), None, Auth::Operator, false),
        // Files: the fuzzed bodies are never a picture, so these exercise the refusals around R2.
        s("POST", format!("/v1/chat/conversations/{c}/files?token={token}&name=a.png&client_msg_id=fuzz-file-0001"), None, Auth::None, true),
        s("GET", format!("/v1/chat/conversations/{c}/files/aaaaaaaaaaaaaaaaaaaaaa?token={token}"), None, Auth::None, false),
        s("POST", format!("/v1/console/conversations/{c}/files?name=a.pdf&client_msg_id=fuzz-file-0002"), None, Auth::Operator, false),
        s("GET", format!("/v1/console/conversations/{c}/files/aaaaaaaaaaaaaaaaaaaaaa"), None, Auth::Operator, false),
        s("POST", format!("/v1/console/callbacks/{c}/done"), None, Auth::Operator, false),
        s("PUT", "/v1/admin/sites/fuzzshop".into(), Some(site), Auth::Admin, false),
        s("PUT", "/v1/admin/sites/demo/delivery".into(), Some(delivery), Auth::Admin, false),
        s("POST", "/v1/admin/sites/demo/endpoints".into(), Some(endpoint.clone()), Auth::Admin, false),
        s("PUT", "/v1/admin/sites/demo/endpoints/fz".into(), Some(endpoint), Auth::Admin, false),
        s("DELETE", "/v1/admin/sites/demo/endpoints/fz-gone".into(), None, Auth::Admin, false),
        s("POST", "/v1/admin/sites/demo/endpoints/fz/rotate".into(), None, Auth::Admin, false),
        s("POST", "/v1/admin/sites/demo/endpoints/fz/retire".into(), None, Auth::Admin, false),
        s("POST", "/v1/admin/sites/demo/deliveries/dlv_nope/replay".into(), None, Auth::Admin, false),
        s("POST", "/v1/admin/sites/demo/api-keys".into(), Some(object(&[("name", json!("crm"))])), Auth::Admin, false),
        s("PUT", "/v1/admin/sites/demo/identity-secret".into(), Some(object(&[("secret", json!("a long identity secret"))])), Auth::Admin, false),
        s("POST", "/v1/admin/sweep".into(), None, Auth::Admin, false),
        s("POST", "/v1/admin/sites/demo/visitors/erase".into(), Some(erase), Auth::Admin, false),
        // The owner's screens (the admin token stands for the owner's session: the same routes).
        s("GET", "/v1/admin/sites/demo/install".into(), None, Auth::Admin, false),
        s("POST", "/v1/admin/sites/demo/origins".into(), Some(typed(OriginInput { origin: "https://fuzz-added.example/p/1".into() })), Auth::Admin, false),
        s("DELETE", "/v1/admin/sites/demo/origins?origin=https%3A%2F%2Ffuzz-added.example".into(), None, Auth::Admin, false),
        s("PATCH", "/v1/admin/sites/demo".into(), Some(json!({"widget": {"callback_minutes": 20, "business_hours": {"sun": {"open": "10:00", "close": "18:00"}}}})), Auth::Admin, false),
        s("PATCH", "/v1/admin/sites/demo/prompts/callback".into(), Some(json!({"copy": {"ru": {"title": "Перезвонить вам?"}}, "cooldown_days": 3})), Auth::Admin, false),
        s("GET", "/v1/admin/sites/demo/email".into(), None, Auth::Admin, false),
        s("PUT", "/v1/admin/sites/demo/email".into(), Some(typed(MailSettings { sender_name: Some("Кроха".into()), ..MailSettings::default() })), Auth::Admin, false),
        s("POST", "/v1/admin/sites/demo/email/preview".into(), Some(typed(MailPreviewRequest { kind: MailKind::Comparison, locale: Locale::Ru, settings: MailSettings::default() })), Auth::Admin, false),
        s("POST", "/v1/admin/sites/demo/email/test".into(), Some(typed(MailTestRequest { kind: MailKind::Transcript, locale: None })), Auth::Admin, false),
        s("POST", "/v1/admin/sites/demo/endpoints/fz/test".into(), None, Auth::Admin, false),
        s("GET", "/v1/admin/sites/demo/leads/lead_nope".into(), None, Auth::Admin, false),
        s("GET", "/v1/admin/sites/demo/leads.csv?kind=callback".into(), None, Auth::Admin, false),
        s("GET", "/v1/admin/sites/demo/invites".into(), None, Auth::Admin, false),
        s("POST", "/v1/admin/sites/demo/invites".into(), Some(typed(NewInvite { email: "invitee@demo.example".into(), role: Role::Operator, expires_in_s: None })), Auth::Admin, false),
        s("POST", "/v1/console/links/lookup".into(), Some(typed(LinkLookup { token: "fwl_fuzz".into() })), Auth::Operator, false),
        s("GET", "/v1/admin/sites/demo/retention".into(), None, Auth::Admin, false),
        s("GET", "/v1/admin/sites/demo/funnel?by=source".into(), None, Auth::Admin, false),
        s("POST", "/v1/admin/sites/demo/deal-tokens".into(), Some(object(&[("name", json!("crm"))])), Auth::Admin, false),
        s("DELETE", "/v1/admin/sites/demo/deal-tokens/dtok_nope".into(), None, Auth::Admin, false),
        s("POST", "/v1/deals/demo?token=fwdeal_nope".into(),
            Some(object(&[("lead", json!("lead_0123456789abcdef01234567")), ("deal", json!("d-1")), ("amount", json!("100.50")), ("currency", json!("RUB"))])), Auth::None, false),
    ];
    // The frequent routes, weighted.
    for _ in 0..6 {
        seeds.extend([
            s("POST", "/v1/events".into(), Some(batch.clone()), Auth::None, true),
            s("POST", "/v1/leads".into(), Some(lead(LeadKind::ComparisonEmail)), Auth::None, true),
            s("POST", "/v1/leads".into(), Some(lead(LeadKind::Callback)), Auth::None, true),
            s("POST", format!("/v1/conversations/{c}/messages"), Some(object(&[("text", json!("Здравствуйте!")), ("client_msg_id", json!("crm-fuzz-1")), ("author_name", json!("CRM"))])), Auth::ApiKey, false),
            s("GET", "/v1/console/me".into(), None, Auth::Operator, false),
            s("GET", "/v1/console/callbacks".into(), None, Auth::Operator, false),
            s("GET", format!("/v1/console/conversations/{c}"), None, Auth::Operator, false),
            s("GET", "/v1/admin/sites/demo".into(), None, Auth::Admin, false),
            s("GET", "/v1/admin/sites/demo/events?visitor=visitor-fuzz-0002&limit=5".into(), None, Auth::Admin, false),
            s("GET", "/v1/admin/sites/demo/leads?limit=5".into(), None, Auth::Admin, false),
            s("GET", "/v1/admin/sites/demo/deliveries?state=failed&limit=5".into(), None, Auth::Admin, false),
            s("GET", "/v1/admin/sites/demo/endpoints".into(), None, Auth::Admin, false),
            s("GET", "/v1/admin/sites/demo/delivery".into(), None, Auth::Admin, false),
            s("GET", "/v1/admin/chat/outbox?site=demo&type=message.created".into(), None, Auth::Admin, false),
            s("GET", "/v1/admin/mailbox?lead=lead_nope".into(), None, Auth::Admin, false),
            s("GET", "/v1/admin/sites/demo/visitors/export?email=fuzz%40example.com".into(), None, Auth::Admin, false),
        ]);
    }
    (costly, seeds)
}

/// One answered request: its status, or the transport error that stood for it.
type Outcome = Result<u16, String>;

async fn send(http: &reqwest::Client, origin: &str, request: &FuzzRequest) -> Outcome {
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|e| e.to_string())?;
    let mut builder = http.request(method, format!("{origin}{}", request.path)).body(request.body.clone());
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let response = builder.send().await.map_err(|e| format!("{e:?}"))?;
    let status = response.status().as_u16();
    // Read the body: an answer that breaks off half-way is a failure too.
    response.bytes().await.map_err(|e| format!("reading the body: {e:?}"))?;
    Ok(status)
}

struct Failure {
    request: FuzzRequest,
    outcome: Outcome,
}

fn describe(failure: &Failure) -> String {
    let r = &failure.request;
    let body = String::from_utf8_lossy(&r.body[..r.body.len().min(300)]).into_owned();
    format!("{:?} ← {} {} [{}] headers {:?} body({} B) {body}", failure.outcome, r.method, r.path, r.mutation, r.headers, r.body.len())
}

/// Chat frames over real sockets, mutated from core's `ClientFrame`s (the visitor's and the
/// operator's conversation sockets) and `ConsoleFrame`s (the console's hub socket). Returns what
/// came back (frame types, close codes) and how many frames were sent.
async fn fuzz_frames(worker: &Worker, f: &Fixture, seed: u64, frames: usize) -> (BTreeMap<String, usize>, usize) {
    let chat: Vec<Value> = [
        ClientFrame::Hello { v: CHAT_PROTOCOL_VERSION, last_seen_seq: 0, client_id: "fuzz-client".into() },
        ClientFrame::Send { client_msg_id: "fuzz-m-1".into(), text: "Есть ли серое?".into() },
        ClientFrame::Typing { on: true },
        ClientFrame::Read { up_to_seq: 1 },
        ClientFrame::Close,
        ClientFrame::Ping,
    ]
    .iter()
    .map(|frame| serde_json::to_value(frame).expect("JSON"))
    .collect();
    let console: Vec<Value> = [ConsoleFrame::Status { status: ConnectionStatus::Online }, ConsoleFrame::Ping]
        .iter()
        .map(|frame| serde_json::to_value(frame).expect("JSON"))
        .collect();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut rng = Rng::new(seed ^ 0xF4A3E5);
    let mut sockets: Vec<Option<Ws>> = vec![None, None, None];
    for n in 0..frames {
        let side = n % 3;
        if sockets[side].is_none() {
            sockets[side] = Some(match side {
                0 => {
                    let mut socket = ChatSocket::visitor(worker, SHOP, &f.conversation, &f.token).await;
                    socket.hello(0).await;
                    socket.ws
                }
                1 => {
                    let mut socket = ChatSocket::operator(worker, &f.conversation, &f.cookie).await;
                    socket.hello(0).await;
                    socket.ws
                }
                _ => ConsoleSocket::open(worker, &f.cookie).await.ws,
            });
        }
        let Some(ws) = sockets[side].as_mut() else { continue };
        let text = mutate_frame(rng.pick(if side == 2 { &console } else { &chat }), &mut rng);
        if ws.send(Message::text(text)).await.is_err() {
            sockets[side] = None;
            *seen.entry("send failed (reconnect)".into()).or_default() += 1;
            continue;
        }
        // Drain what came back without waiting long: frames without an answer (typing) are fine.
        while let Ok(Some(message)) = tokio::time::timeout(Duration::from_millis(15), ws.next()).await {
            match message {
                Ok(Message::Text(text)) => {
                    let frame: Value = serde_json::from_str(text.as_str()).unwrap_or_else(|e| panic!("an unreadable server frame {e}: {text}"));
                    let kind = frame["type"].as_str().unwrap_or("?");
                    // Chat error frames carry the code flat (`{"type":"error","code":..}`), the hub's nested.
                    let code = frame["code"].as_str().or(frame["error"]["code"].as_str()).map(|code| format!(" {code}")).unwrap_or_default();
                    *seen.entry(format!("frame {kind}{code}")).or_default() += 1;
                }
                Ok(Message::Close(close)) => {
                    let code = close.map_or(0, |c| u16::from(c.code));
                    *seen.entry(format!("closed {code}")).or_default() += 1;
                    sockets[side] = None;
                    break;
                }
                Ok(_) => {}
                Err(error) => {
                    *seen.entry(format!("socket error {error}")).or_default() += 1;
                    sockets[side] = None;
                    break;
                }
            }
        }
    }
    (seen, frames)
}

#[tokio::test]
async fn fuzzed_requests_and_frames_never_get_a_5xx_and_the_worker_keeps_answering() {
    let seed = env_number("FUZZ_SEED", DEFAULT_SEED);
    let total = env_number("FUZZ_REQUESTS", DEFAULT_REQUESTS as u64) as usize;
    let frames = env_number("FUZZ_FRAMES", DEFAULT_FRAMES as u64) as usize;
    println!("fuzz: seed {seed} (FUZZ_SEED={seed} replays this run), {total} requests, {frames} chat frames");
    let mut worker = chat_worker("fuzz").await;
    let f = fixture(&worker).await;
    let seeds = Arc::new(seeds(&worker, &f));
    let started = Instant::now();

    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("an HTTP client");
    let next = Arc::new(AtomicUsize::new(0));
    let statuses: Arc<Mutex<BTreeMap<u16, usize>>> = Arc::default();
    let failures: Arc<Mutex<Vec<Failure>>> = Arc::default();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (http, next, statuses, failures, seeds) = (http.clone(), next.clone(), statuses.clone(), failures.clone(), seeds.clone());
        let (origin, credentials) = (worker.origin(), f.credentials.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
                let mut rng = Rng::for_item(seed, n as u64);
                let (costly, cheap) = &*seeds;
                let seed = if rng.chance(1) { rng.pick(costly) } else { rng.pick(cheap) };
                let request = mutate(seed, &credentials, &mut rng);
                let mut outcome = send(&http, &origin, &request).await;
                if outcome.is_err() {
                    // A pooled keep-alive connection the server had just closed: once more, fresh.
                    outcome = send(&http, &origin, &request).await;
                }
                match outcome {
                    Ok(status) if status < 500 => *statuses.lock().expect("lock").entry(status).or_default() += 1,
                    _ => {
                        if let Ok(status) = outcome {
                            *statuses.lock().expect("lock").entry(status).or_default() += 1;
                        }
                        failures.lock().expect("lock").push(Failure { request, outcome });
                    }
                }
            }
        }));
    }
    let (frame_outcomes, frames_sent) = fuzz_frames(&worker, &f, seed, frames).await;
    for task in tasks {
        task.await.expect("a fuzz task");
    }
    let elapsed = started.elapsed();

    let statuses = statuses.lock().expect("lock").clone();
    let answered: usize = statuses.values().sum();
    let server_errors: usize = statuses.iter().filter(|(status, _)| **status >= 500).map(|(_, n)| n).sum();
    let histogram: Vec<String> = statuses.iter().map(|(status, n)| format!("{status}: {n}")).collect();
    println!("fuzz: {total} requests in {:.1} s, {}, 5xx: {server_errors}", elapsed.as_secs_f64(), histogram.join(", "));
    let frame_line: Vec<String> = frame_outcomes.iter().map(|(what, n)| format!("{what}: {n}")).collect();
    println!("fuzz: {frames_sent} chat frames, {}", frame_line.join(", "));

    let (failed, report) = {
        let failures = failures.lock().expect("lock");
        (failures.len(), failures.iter().take(20).map(describe).collect::<Vec<_>>())
    };
    assert_eq!(failed, 0, "{failed} of {total} requests failed (seed {seed}):\n{}", report.join("\n"));
    assert_eq!(answered, total);
    // A socket's 5xx: an `internal` error frame, a close as an internal error, a broken socket.
    let broken = |what: &String| what.ends_with(" internal") || what.starts_with("closed 1011") || what.starts_with("socket error");
    assert!(!frame_outcomes.keys().any(broken), "{frame_outcomes:?}");

    // Still answering, and answering normal requests normally.
    assert!(!worker.has_exited(), "the worker process exited");
    let health = worker.http().get(worker.url("/v1/health")).send().await.expect("health");
    assert_eq!(health.status().as_u16(), 200);
    let batch = json!({"v": 1, "site": "demo", "visitor": "visitor-fuzz-after", "session": "session-after", "events": [
        {"id": "evt-after-0001", "at": 1_790_000_000_000u64, "type": "page_view", "url": format!("{SHOP}/p/after"), "title": "After"}]});
    let (status, body) = post_json(&worker, "/v1/events", Some(SHOP), &batch).await;
    assert!(status == 202 || status == 429, "{status} {body}");
    let session = visitor_session(&worker, SHOP, "visitor-fuzz-after").await;
    let conversation = start_conversation(&worker, SHOP, &session.token).await;
    let mut socket = ChatSocket::visitor(&worker, SHOP, &conversation, &session.token).await;
    socket.hello(0).await;
    socket.say("after-0001", "still there?").await;
    socket.until("the ack", |frame| matches!(frame, ServerFrame::Ack { .. }).then_some(())).await;
    worker.stop();
}
