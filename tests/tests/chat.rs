//! Live chat end to end against the real worker (wrangler dev: Durable Objects with SQLite,
//! hibernating WebSockets, alarms, D1), with a Rust WebSocket client speaking core's protocol.

use std::time::Duration;

use floorwalker_core::base::error::ErrorCode;
use floorwalker_core::chat::hub::HubNotification;
use floorwalker_core::chat::protocol::{
    Author, ClientFrame, MessageAction, ServerFrame, Side, MAX_FRAME_BYTES, MAX_MESSAGE_CHARS,
};
use floorwalker_e2e::chat::*;
use floorwalker_e2e::console::now_ms;
use floorwalker_e2e::eventually;
use serde_json::{json, Value};

fn error_code(frame: &ServerFrame) -> Option<(ErrorCode, Option<String>)> {
    match frame {
        ServerFrame::Error { error, client_msg_id } => Some((error.code, client_msg_id.clone())),
        _ => None,
    }
}

#[tokio::test]
async fn visitors_reach_only_their_own_conversations_and_the_console_needs_a_session() {
    let worker = chat_worker("chat-access").await;
    let a = visitor_session(&worker, SHOP, "visitor-aaaa-0001").await;
    let b = visitor_session(&worker, SHOP, "visitor-bbbb-0002").await;
    assert_eq!(a.conversation_id, None, "no conversation before the first start");
    assert!(!a.operator_online);
    let conv_a = start_conversation(&worker, SHOP, &a.token).await;
    let conv_b = start_conversation(&worker, SHOP, &b.token).await;
    assert_ne!(conv_a, conv_b);
    assert_eq!(start_conversation(&worker, SHOP, &a.token).await, conv_a, "one open conversation per visitor");
    assert_eq!(visitor_session(&worker, SHOP, "visitor-aaaa-0001").await.conversation_id.as_deref(), Some(conv_a.as_str()));

    // A's token on B's conversation: refused at the handshake, for reading and for writing.
    let ws = |conv: &str, token: &str| ws_url(&worker, &format!("/v1/chat/conversations/{conv}/ws?token={token}"));
    assert_eq!(refused_status(&ws(&conv_b, &a.token), Some(SHOP), None).await, 403);
    let (status, body) = post_json(&worker, &format!("/v1/chat/conversations/{conv_b}/transcript"), Some(SHOP), &json!({"token": a.token, "email": "a@example.com"})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");
    let (status, _) = post_json(&worker, &format!("/v1/chat/conversations/{conv_b}/callback"), Some(SHOP), &json!({"token": a.token, "email": "a@example.com"})).await;
    assert_eq!(status, 403);
    // No token, a forged token, a foreign Origin, no Origin, an unknown conversation.
    assert_eq!(refused_status(&ws_url(&worker, &format!("/v1/chat/conversations/{conv_a}/ws")), Some(SHOP), None).await, 401);
    let forged = format!("{}x", &a.token[..a.token.len() - 1]);
    assert_eq!(refused_status(&ws(&conv_a, &forged), Some(SHOP), None).await, 401);
    assert_eq!(refused_status(&ws(&conv_a, &a.token), Some("https://evil.example"), None).await, 403);
    assert_eq!(refused_status(&ws(&conv_a, &a.token), None, None).await, 403);
    assert_eq!(refused_status(&ws("cunknown00000000", &a.token), Some(SHOP), None).await, 404);
    let (status, _) = post_json(&worker, "/v1/chat/session", Some("https://evil.example"), &json!({"site": "demo", "visitor": "visitor-cccc-0003"})).await;
    assert_eq!(status, 403, "a session only for the site's own pages");

    // A's own socket works; B's, with B's token, sees nothing of A's.
    let mut sock_a = ChatSocket::visitor(&worker, SHOP, &conv_a, &a.token).await;
    let welcome = sock_a.hello(0).await;
    assert_eq!(welcome.conversation_id, conv_a);
    sock_a.say("a-msg-000001", "A's secret").await;
    sock_a.until("A's ack", |f| matches!(f, ServerFrame::Ack { seq: 1, .. }).then_some(())).await;
    let mut sock_b = ChatSocket::visitor(&worker, SHOP, &conv_b, &b.token).await;
    assert!(sock_b.hello(0).await.history.is_empty());

    // Limits, each with a clear error frame.
    sock_a.send_text(format!(r#"{{"type":"send","client_msg_id":"a-msg-000002","text":"{}"}}"#, "a".repeat(MAX_FRAME_BYTES))).await;
    let (code, _) = sock_a.until("the oversized frame's error", error_code).await.0;
    assert_eq!(code, ErrorCode::PayloadTooLarge);
    sock_a.say("a-msg-000003", &"я".repeat(MAX_MESSAGE_CHARS + 1)).await;
    assert_eq!(sock_a.until("too long", error_code).await.0, (ErrorCode::MessageTooLong, Some("a-msg-000003".into())));
    sock_a.send_text("{not json".into()).await;
    assert_eq!(sock_a.until("bad frame", error_code).await.0 .0, ErrorCode::BadFrame);
    sock_a.send(&ClientFrame::Close).await;
    assert_eq!(sock_a.until("a visitor may not close", error_code).await.0 .0, ErrorCode::Forbidden);
    // Flooding: the burst (10) minus the one already sent, then rate_limited.
    for i in 0..15 {
        sock_a.say(&format!("a-flood-{i:04}"), &format!("flood {i}")).await;
    }
    let (limited, _) = sock_a
        .until("a rate_limited error", |f| match error_code(f) {
            Some((ErrorCode::RateLimited, Some(id))) => Some(id),
            _ => None,
        })
        .await;
    assert!(limited.starts_with("a-flood-"), "{limited}");

    // The console refuses everything without a session, and sockets from other origins.
    for path in ["/v1/console/me", "/v1/console/callbacks", &format!("/v1/console/conversations/{conv_a}")] {
        let status = worker.http().get(worker.url(path)).send().await.expect("GET").status().as_u16();
        assert_eq!(status, 401, "{path}");
    }
    assert_eq!(refused_status(&ws_url(&worker, "/v1/console/ws"), Some(&worker.origin()), None).await, 401);
    assert_eq!(refused_status(&ws_url(&worker, &format!("/v1/console/conversations/{conv_a}/ws")), Some(&worker.origin()), None).await, 401);
    assert_eq!(refused_status(&ws_url(&worker, "/v1/console/ws"), Some(&worker.origin()), Some("__Host-fw_op=forged.session.1.abc")).await, 401);
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let (status, _) = post_json(&worker, "/v1/console/login", Some(&worker.origin()), &json!({"email": "anna@demo.example", "password": "wrong password"})).await;
    assert_eq!(status, 401);
    let (status, _) = post_json(&worker, "/v1/console/login", Some(SHOP), &json!({"email": "anna@demo.example", "password": PASSWORD})).await;
    assert_eq!(status, 403, "login only from the console's own origin");
    let cookie = login(&worker, "anna@demo.example", PASSWORD).await;
    assert_eq!(refused_status(&ws_url(&worker, "/v1/console/ws"), Some(SHOP), Some(&cookie)).await, 403);
    let me = worker.http().get(worker.url("/v1/console/me")).header("cookie", &cookie).send().await.expect("GET me");
    assert_eq!(me.status().as_u16(), 200);

    // A CRM answers with a per-site API key; a wrong key is refused.
    let key = worker
        .http()
        .post(worker.url("/v1/admin/sites/demo/api-keys"))
        .bearer_auth(&worker.admin_token)
        .json(&json!({"name": "Helpdesk"}))
        .send()
        .await
        .expect("creating an API key")
        .json::<serde_json::Value>()
        .await
        .expect("key JSON")["key"]
        .as_str()
        .expect("a key")
        .to_owned();
    let post = |key: String| {
        let worker = &worker;
        let conv = conv_a.clone();
        async move {
            worker
                .http()
                .post(worker.url(&format!("/v1/conversations/{conv}/messages")))
                .bearer_auth(key)
                .json(&json!({"text": "Answer from the helpdesk", "client_msg_id": "crm-000001"}))
                .send()
                .await
                .expect("POST message")
                .status()
                .as_u16()
        }
    };
    assert_eq!(post("fwk_wrong".into()).await, 401);
    assert_eq!(post(key.clone()).await, 201);
    assert_eq!(post(key).await, 201, "a retry with the same client_msg_id is acknowledged, not duplicated");
    let (from_crm, _) = sock_a
        .until("the CRM's answer", |f| match f {
            ServerFrame::Message(m) if m.text == "Answer from the helpdesk" => Some(m.clone()),
            _ => None,
        })
        .await;
    assert_eq!(from_crm.author, Author::Operator { name: "Helpdesk".into() });
    assert!(sock_b.try_next(Duration::from_millis(500)).await.is_none(), "B hears nothing of A's conversation");

    // Core's store contract holds for the Durable Object's real SQLite storage.
    let check: serde_json::Value = worker
        .http()
        .post(worker.url("/v1/admin/chat/store-check"))
        .bearer_auth(&worker.admin_token)
        .send()
        .await
        .expect("store check")
        .json()
        .await
        .expect("store check JSON");
    assert_eq!(check["ok"], true, "{check}");
    sock_a.close().await;
    sock_b.close().await;
}

#[tokio::test]
async fn reconnects_resume_exactly_once_and_survive_a_worker_restart() {
    let mut worker = chat_worker("chat-resume").await;
    // A CRM endpoint for the chat events, so they are written to the delivery outbox (a site
    // without one gets no rows: nothing would deliver them).
    let receiver = floorwalker_e2e::receiver::Receiver::start();
    worker.allow_private_endpoints().await;
    worker
        .add_endpoint(json!({"id": "crm", "url": receiver.url("/hooks"), "preset": {"kind": "generic"}, "events": ["message.created", "conversation.closed"]}))
        .await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let cookie = login(&worker, "anna@demo.example", PASSWORD).await;
    let mut console = ConsoleSocket::open(&worker, &cookie).await;
    console.until("the snapshot", |n| matches!(n, HubNotification::Snapshot { .. }).then_some(())).await;

    let visitor = visitor_session(&worker, SHOP, "visitor-resume-01").await;
    assert!(visitor.operator_online, "Anna's console is open");
    let conv = start_conversation(&worker, SHOP, &visitor.token).await;
    let mut v = ChatSocket::visitor(&worker, SHOP, &conv, &visitor.token).await;
    let welcome = v.hello(0).await;
    assert!(welcome.operator_online);
    v.say("v-msg-000001", "Hello, is the Orsa in stock?").await;
    let entry = console
        .until("the new conversation in the list", |n| match n {
            HubNotification::ConversationOpened { entry } if entry.conversation_id == conv => Some(entry.clone()),
            _ => None,
        })
        .await;
    assert_eq!(entry.unread_by_operator, 1);

    let mut op = ChatSocket::operator(&worker, &conv, &cookie).await;
    let welcome = op.hello(0).await;
    assert_eq!(welcome.history.len(), 1);
    assert_eq!(welcome.unread, 1);
    // Typing and read receipts cross over.
    v.send(&ClientFrame::Typing { on: true }).await;
    op.until("the visitor typing", |f| matches!(f, ServerFrame::Typing { author: Author::Visitor, on: true }).then_some(())).await;
    op.send(&ClientFrame::Read { up_to_seq: 1 }).await;
    v.until("the seen tick", |f| matches!(f, ServerFrame::Read { by: Side::Operator, up_to_seq: 1 }).then_some(())).await;
    op.send(&ClientFrame::Typing { on: true }).await;
    v.until("the operator typing", |f| matches!(f, ServerFrame::Typing { author: Author::Operator { .. }, on: true }).then_some(())).await;

    // The visitor's connection drops; the operator writes meanwhile.
    v.close().await;
    for (i, text) in ["Yes, it is!", "Two colours.", "Shall I reserve one?"].iter().enumerate() {
        op.say(&format!("op-msg-00000{i}"), text).await;
        op.until("the operator's ack", |f| matches!(f, ServerFrame::Ack { .. }).then_some(())).await;
    }
    let mut v = ChatSocket::visitor(&worker, SHOP, &conv, &visitor.token).await;
    let welcome = v.hello(1).await;
    let seqs: Vec<u64> = welcome.history.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, vec![2, 3, 4], "exactly what was missed");
    assert_eq!(welcome.unread, 3);
    assert_eq!(welcome.other_read_up_to, 4, "writing means the operator read everything");
    // A re-send of the first message (the client was unsure it arrived) is acked, not stored again.
    v.say("v-msg-000001", "Hello, is the Orsa in stock?").await;
    let (ack, _) = v.until("the original ack", |f| match f {
        ServerFrame::Ack { seq, .. } => Some(*seq),
        _ => None,
    }).await;
    assert_eq!(ack, 1);
    assert!(v.try_next(Duration::from_millis(400)).await.is_none(), "no duplicate message frame");
    v.send(&ClientFrame::Read { up_to_seq: 4 }).await;
    op.until("the visitor's seen tick", |f| matches!(f, ServerFrame::Read { by: Side::Visitor, up_to_seq: 4 }).then_some(())).await;
    v.close().await;
    op.close().await;
    drop(console);

    // The whole worker restarts (same local state): nothing is lost, sessions still hold.
    worker.restart().await;
    let mut v = ChatSocket::visitor(&worker, SHOP, &conv, &visitor.token).await;
    let welcome = v.hello(0).await;
    let texts: Vec<&str> = welcome.history.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, vec!["Hello, is the Orsa in stock?", "Yes, it is!", "Two colours.", "Shall I reserve one?"]);
    assert_eq!(v.hello(4).await.history, vec![], "resume from the end: nothing to send");
    v.say("v-msg-000002", "Yes please").await;
    let (seq, _) = v.until("the ack after restart", |f| match f {
        ServerFrame::Ack { seq, .. } => Some(*seq),
        _ => None,
    }).await;
    assert_eq!(seq, 5);
    // No console is open since the restart, so nobody is online: the visitor is offered a callback
    // at once (seq 6) instead of waiting for nobody.
    let (offer, _) = v.until("the callback offer", |f| match f {
        ServerFrame::Message(m) if m.action == Some(MessageAction::OfferCallback) => Some(m.seq),
        _ => None,
    }).await;
    assert_eq!(offer, 6);
    let mut op = ChatSocket::operator(&worker, &conv, &cookie).await;
    let missed: Vec<u64> = op.hello(4).await.history.iter().map(|m| m.seq).collect();
    assert_eq!(missed, vec![5, 6], "the operator's cookie survives the restart too");
    op.send(&ClientFrame::Close).await;
    v.until("closed", |f| matches!(f, ServerFrame::Closed { .. }).then_some(())).await;
    v.say("v-msg-000003", "one more thing").await;
    assert_eq!(v.until("closed refusal", error_code).await.0 .0, ErrorCode::ConversationClosed);

    // Every message and the close are in the delivery outbox for the CRM, once each.
    let rows = eventually("six message.created and one conversation.closed", Duration::from_secs(15), || async {
        let messages = outbox(&worker, Some("message.created")).await;
        let closed = outbox(&worker, Some("conversation.closed")).await;
        (messages.len() == 6 && closed.len() == 1).then_some((messages, closed))
    })
    .await;
    let payload: serde_json::Value = serde_json::from_str(rows.1[0]["payload"].as_str().expect("payload")).expect("JSON");
    assert_eq!(payload["type"], "conversation.closed");
    assert_eq!(payload["data"]["transcript"]["messages"].as_array().map(Vec::len), Some(6));
    assert!(payload["data"]["context"].is_object(), "the visitor context goes with the transcript");
    let seqs: Vec<i64> = rows
        .0
        .iter()
        .map(|r| serde_json::from_str::<serde_json::Value>(r["payload"].as_str().unwrap_or_default()).unwrap_or_default()["data"]["message"]["seq"].as_i64().unwrap_or(0))
        .collect();
    let mut seqs = seqs;
    seqs.sort_unstable();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);
    // A new start after the close opens a new conversation.
    assert_ne!(start_conversation(&worker, SHOP, &visitor.token).await, conv);
}

#[tokio::test]
async fn with_nobody_online_the_visitor_is_offered_a_callback_and_operators_get_the_request() {
    let worker = chat_worker("chat-offline").await;
    let visitor = visitor_session(&worker, SHOP, "visitor-offline-1").await;
    assert!(!visitor.operator_online);
    let conv = start_conversation(&worker, SHOP, &visitor.token).await;
    let mut v = ChatSocket::visitor(&worker, SHOP, &conv, &visitor.token).await;
    assert!(!v.hello(0).await.operator_online);
    v.say("v-msg-000001", "Anyone there?").await;
    let (offer, _) = v
        .until("the callback offer", |f| match f {
            ServerFrame::Message(m) if m.action == Some(MessageAction::OfferCallback) => Some(m.clone()),
            _ => None,
        })
        .await;
    assert_eq!(offer.author, Author::System);
    let (status, body) =
        post_json(&worker, &format!("/v1/chat/conversations/{conv}/callback"), Some(SHOP), &json!({"token": visitor.token, "phone": "8 (912) 345-67-89"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["contact"], "+79123456789");
    v.until("the callback notice", |f| match f {
        ServerFrame::Message(m) if m.action == Some(MessageAction::CallbackRequested) => Some(()),
        _ => None,
    })
    .await;
    let (status, body) = post_json(&worker, &format!("/v1/chat/conversations/{conv}/transcript"), Some(SHOP), &json!({"token": visitor.token, "email": "Me@Example.com"})).await;
    assert_eq!(status, 202, "{body}");

    // An operator comes online: the conversation is in the list, flagged, and in the callback queue.
    create_operator(&worker, "boris@demo.example", "Boris", PASSWORD).await;
    let cookie = login(&worker, "boris@demo.example", PASSWORD).await;
    let mut console = ConsoleSocket::open(&worker, &cookie).await;
    // In the snapshot, or within the conversation's one-second list interval when the request came
    // less than a second before (a fast machine logs in that quickly).
    console
        .until("the conversation listed with its callback request", |n| match n {
            HubNotification::Snapshot { conversations, .. } => {
                conversations.iter().find(|e| e.conversation_id == conv).filter(|e| e.callback_requested).map(|_| ())
            }
            HubNotification::CallbackRequested { entry } | HubNotification::ConversationUpdated { entry } => {
                (entry.conversation_id == conv && entry.callback_requested).then_some(())
            }
            _ => None,
        })
        .await;
    let queue: Vec<serde_json::Value> =
        worker.http().get(worker.url("/v1/console/callbacks")).header("cookie", &cookie).send().await.expect("callbacks").json().await.expect("JSON");
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0]["contact"], "+79123456789");
    let done = worker
        .http()
        .post(worker.url(&format!("/v1/console/callbacks/{conv}/done")))
        .header("cookie", &cookie)
        .header("origin", worker.origin())
        .send()
        .await
        .expect("marking done");
    assert_eq!(done.status().as_u16(), 200);
    console.until("the callback done notice", |n| matches!(n, HubNotification::CallbackDone { .. }).then_some(())).await;
    let queue: Vec<serde_json::Value> =
        worker.http().get(worker.url("/v1/console/callbacks")).header("cookie", &cookie).send().await.expect("callbacks").json().await.expect("JSON");
    assert!(queue.is_empty());
    // The visitor is told someone is there now.
    v.until("presence", |f| matches!(f, ServerFrame::Presence { operator_online: true }).then_some(())).await;
    let requested = outbox(&worker, Some("transcript.requested")).await;
    assert_eq!(requested.len(), 1);
    assert!(requested[0]["payload"].as_str().unwrap_or_default().contains("@example.com"), "{}", requested[0]);
}

/// Issue 11, item 9: a moment above 2^53 in the visitor context (a timestamp JS cannot hold
/// exactly; it used to answer 503 and leave the visitor's chat dead) is a 400 naming the field,
/// and stores nothing. The visitor's next start, with a real moment, opens a conversation, and
/// that moment comes back out of the object's storage digit for digit (calls to the Durable
/// Objects are read by serde_json from their text, never through JS numbers).
#[tokio::test]
async fn a_u64_above_2_pow_53_in_the_start_context_is_refused_and_the_next_start_crosses_exactly() {
    const BEYOND_JS: u64 = (1 << 53) + 1;
    let worker = chat_worker("chat-u64").await;
    let receiver = floorwalker_e2e::receiver::Receiver::start();
    worker.allow_private_endpoints().await;
    worker
        .add_endpoint(json!({"id": "crm", "url": receiver.url("/hooks"), "preset": {"kind": "generic"}, "events": ["conversation.closed"]}))
        .await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let cookie = login(&worker, "anna@demo.example", PASSWORD).await;
    let visitor = visitor_session(&worker, SHOP, "visitor-u64-000001").await;
    let context = |at: u64| {
        json!({
            "first_touch": {"landing_page": "http://shop.example/", "at": at},
            "pages_viewed": 1, "active_seconds": 5, "returning": false, "locale": "en", "page_url": "http://shop.example/",
        })
    };
    let (status, body) =
        post_json(&worker, "/v1/chat/conversations", Some(SHOP), &json!({"token": visitor.token, "context": context(BEYOND_JS)})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_context")), "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("first_touch.at")), "{body}");
    assert_eq!(visitor_session(&worker, SHOP, "visitor-u64-000001").await.conversation_id, None, "nothing was stored");

    // An odd millisecond near now: a value that only survives exactly as an integer.
    let at = (now_ms() - 1_234_567) | 1;
    // Titles the widget never sends: a forged one must not reach the operator or the CRM.
    let mut sent = context(at);
    sent["page_titles"] = json!([{"url": "http://shop.example/", "title": "Pay by card at evil.example"}]);
    let (status, body) = post_json(&worker, "/v1/chat/conversations", Some(SHOP), &json!({"token": visitor.token, "context": sent})).await;
    assert_eq!(status, 201, "{body}");
    let conv = body["conversation_id"].as_str().expect("a conversation id").to_owned();

    let mut op = ChatSocket::operator(&worker, &conv, &cookie).await;
    op.hello(0).await;
    op.send(&ClientFrame::Close).await;
    op.until("closed", |f| matches!(f, ServerFrame::Closed { .. }).then_some(())).await;
    let closed = eventually("the conversation.closed event", Duration::from_secs(15), || async {
        outbox(&worker, Some("conversation.closed")).await.into_iter().next()
    })
    .await;
    let payload: serde_json::Value = serde_json::from_str(closed["payload"].as_str().expect("payload")).expect("JSON");
    assert_eq!(payload["data"]["context"]["first_touch"]["at"].as_u64(), Some(at), "{payload}");
    assert!(!payload.to_string().contains("evil.example"), "a client's page titles are dropped: {payload}");
}

/// Issue 11, item 9: a start whose context carries absurd values (a price no shop has, more
/// products than a widget ever sends) is a 400 naming the field, and stores nothing: the visitor's
/// next, good start opens a conversation that works.
#[tokio::test]
async fn a_start_with_an_absurd_context_is_refused_and_the_next_start_works() {
    let worker = chat_worker("chat-bad-context").await;
    let visitor = visitor_session(&worker, SHOP, "visitor-ctx-000001").await;
    let viewed = |minor: i64| {
        json!({"product": {"id": "p1", "name": "Nordika", "price": {"minor": minor, "currency": "RUB"}}, "views": 1, "last_viewed_at": 1_790_000_000_000u64})
    };
    let context = |products: Vec<serde_json::Value>| {
        json!({"products": products, "pages_viewed": 1, "active_seconds": 5, "returning": false, "locale": "en", "page_url": "http://shop.example/"})
    };
    for (case, products, field) in [
        ("a price beyond any shop's", vec![viewed(i64::MAX)], "price"),
        ("a hundred products", vec![viewed(100); 100], "products"),
    ] {
        let (status, body) =
            post_json(&worker, "/v1/chat/conversations", Some(SHOP), &json!({"token": visitor.token, "context": context(products)})).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_context")), "{case}: {body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains(field)), "{case}: names {field}: {body}");
    }
    assert_eq!(visitor_session(&worker, SHOP, "visitor-ctx-000001").await.conversation_id, None, "nothing was stored");

    let (status, body) =
        post_json(&worker, "/v1/chat/conversations", Some(SHOP), &json!({"token": visitor.token, "context": context(vec![viewed(3_490_000)])})).await;
    assert_eq!((status, body["created"].as_bool()), (201, Some(true)), "{body}");
    let conv = body["conversation_id"].as_str().expect("a conversation id").to_owned();
    let mut socket = ChatSocket::visitor(&worker, SHOP, &conv, &visitor.token).await;
    assert_eq!(socket.hello(0).await.conversation_id, conv);
}

/// The site's hub is one object for all its conversations, so a conversation tells it of its
/// list line at most once a second, whatever the message rate (core's `HubFeed`): a new
/// conversation shows at once, a burst of answers costs the hub one request a second, and the
/// line ends up current. Every request carries a newer revision, so each is one console
/// notification: counting those counts the hub's requests from this conversation.
#[tokio::test]
async fn a_busy_conversation_tells_the_hub_at_most_once_a_second() {
    use floorwalker_core::chat::conversation::hub_feed::HUB_FEED_INTERVAL_MS;
    use futures_util::StreamExt;
    use std::time::Instant;
    use tokio_tungstenite::tungstenite::Message;

    let worker = chat_worker("chat-hub-rate").await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let cookie = login(&worker, "anna@demo.example", PASSWORD).await;
    let mut console = ConsoleSocket::open(&worker, &cookie).await;
    console.until("the snapshot", |n| matches!(n, HubNotification::Snapshot { .. }).then_some(())).await;
    let visitor = visitor_session(&worker, SHOP, "visitor-hubrate-01").await;
    let conv = start_conversation(&worker, SHOP, &visitor.token).await;
    let mut v = ChatSocket::visitor(&worker, SHOP, &conv, &visitor.token).await;
    v.hello(0).await;
    let started = Instant::now();
    v.say("v-msg-000001", "Hello?").await;
    console
        .until("the new conversation, without waiting for a second", |n| match n {
            HubNotification::ConversationOpened { entry } if entry.conversation_id == conv => Some(()),
            _ => None,
        })
        .await;
    assert!(started.elapsed() < Duration::from_millis(HUB_FEED_INTERVAL_MS), "a new conversation shows at once: {:?}", started.elapsed());

    let mut op = ChatSocket::operator(&worker, &conv, &cookie).await;
    op.hello(0).await;
    const ANSWERS: usize = 40;
    let tally_before: Value = worker.admin_get("/tally").await;
    let burst = Instant::now();
    for i in 0..ANSWERS {
        op.say(&format!("op-msg-{i:06}"), &format!("answer {i}")).await;
        op.until("the operator's ack", |f| matches!(f, ServerFrame::Ack { .. }).then_some(())).await;
    }
    let written = burst.elapsed();
    let mut lines = Vec::new();
    let last = format!("answer {}", ANSWERS - 1);
    // Until the last answer shows, then a second more for anything still on its way.
    let mut quiet_until: Option<Instant> = None;
    loop {
        let wait = quiet_until.map_or(Duration::from_secs(10), |until| until.saturating_duration_since(Instant::now()));
        let Ok(next) = tokio::time::timeout(wait, console.ws.next()).await else {
            assert!(quiet_until.is_some(), "timed out waiting for the last answer in the list; saw {lines:?}");
            break;
        };
        let Some(Ok(Message::Text(text))) = next else { continue };
        if let Ok(HubNotification::ConversationUpdated { entry }) = serde_json::from_str::<HubNotification>(text.as_str()) {
            if entry.conversation_id == conv {
                if entry.preview == last {
                    quiet_until = Some(Instant::now() + Duration::from_millis(2 * HUB_FEED_INTERVAL_MS));
                }
                lines.push((burst.elapsed(), entry.preview.clone()));
            }
        }
    }
    let span = lines.last().map(|l| l.0).unwrap_or_default();
    let allowed = span.as_millis() as u64 / HUB_FEED_INTERVAL_MS + 2;
    assert!(lines.len() as u64 <= allowed, "{} list updates in {span:?} for {ANSWERS} answers: {lines:?}", lines.len());
    assert_eq!(lines.last().map(|l| l.1.as_str()), Some(last.as_str()), "the list ends with the last answer");
    let shown = lines.iter().find(|l| l.1 == last).map(|l| l.0).unwrap_or_default();
    let lag = shown.saturating_sub(written);
    assert!(lag <= Duration::from_millis(HUB_FEED_INTERVAL_MS + 500), "the line lags at most a second: {lag:?}");
    // What the worker itself counted: its requests to the hub, and what the burst cost in alarms
    // (a line waiting for its second is sent from memory; the alarm, its backstop, is set once,
    // not moved with each message).
    let tally_after: Value = worker.admin_get("/tally").await;
    let counted = |name: &str| tally_after[name].as_u64().unwrap_or(0) - tally_before[name].as_u64().unwrap_or(0);
    assert!(counted("hub_entries") <= allowed, "{} hub requests in {span:?} for {ANSWERS} answers", counted("hub_entries"));
    assert!(counted("conversation_alarms_set") <= 3, "{} alarms set for {ANSWERS} answers", counted("conversation_alarms_set"));
}
