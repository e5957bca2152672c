//! Chat events to the CRM and the transcript by email, end to end with real parts only: the worker
//! under wrangler dev (Durable Objects, D1, Queues), visitor and operator over real WebSockets, a
//! real webhook receiver on 127.0.0.1 that verifies Standard Webhooks signatures with its own
//! verifier, and the local mailbox. Test timing: an hour of the retry schedule per second.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use floorwalker_core::chat::hub::HubNotification;
use floorwalker_core::chat::protocol::{ClientFrame, MessageAction, ServerFrame};
use floorwalker_core::leads::lead::LeadKind;
use floorwalker_core::outbound::delivery::{DeliveryState, DeliveryView};
use floorwalker_core::outbound::email::StoredEmail;
use floorwalker_core::outbound::webhook::{AttemptStatus, EventType};
use floorwalker_e2e::chat::*;
use floorwalker_e2e::eventually;
use floorwalker_e2e::receiver::{Received, Receiver, Reply};
use floorwalker_e2e::worker::Worker;
use serde_json::{json, Value};

/// The shop's origin as the site config lists it.
const CHAT_EVENTS: [&str; 2] = ["message.created", "conversation.closed"];

/// A worker with the demo site (SHOP allowed) and private endpoints allowed (the receiver is on
/// loopback).
async fn worker(name: &str) -> Worker {
    let worker = chat_worker(name).await;
    worker.allow_private_endpoints().await;
    worker
}

/// A generic endpoint for the chat events at `/hooks/crm`, its secret given to the receiver.
async fn crm_endpoint(worker: &Worker, receiver: &Receiver) {
    let endpoint = worker
        .add_endpoint(json!({"id": "crm", "url": receiver.url("/hooks/crm"), "preset": {"kind": "generic"}, "events": CHAT_EVENTS}))
        .await;
    receiver.set_secrets(vec![endpoint.secret]);
}

async fn deliveries(worker: &Worker) -> Vec<DeliveryView> {
    worker.admin_get("/sites/demo/deliveries?limit=1000").await
}

/// An operator (online through the console, so nobody is offered a callback) and a visitor in a
/// new conversation started with `context`, both sockets joined.
struct Chat {
    conversation: String,
    visitor: VisitorSession,
    v: ChatSocket,
    op: ChatSocket,
    cookie: String,
    _console: ConsoleSocket,
}

async fn open_chat(worker: &Worker, visitor_id: &str, context: Option<Value>) -> Chat {
    create_operator(worker, "anna@demo.example", "Anna", PASSWORD).await;
    let cookie = login(worker, "anna@demo.example", PASSWORD).await;
    let mut console = ConsoleSocket::open(worker, &cookie).await;
    console.until("the snapshot", |n| matches!(n, HubNotification::Snapshot { .. }).then_some(())).await;
    let visitor = visitor_session(worker, SHOP, visitor_id).await;
    let mut body = json!({"token": visitor.token});
    if let Some(context) = context {
        body["context"] = context;
    }
    let (status, answer) = post_json(worker, "/v1/chat/conversations", Some(SHOP), &body).await;
    assert_eq!(status, 201, "{answer}");
    let conversation = answer["conversation_id"].as_str().expect("a conversation id").to_owned();
    let mut v = ChatSocket::visitor(worker, SHOP, &conversation, &visitor.token).await;
    assert!(v.hello(0).await.operator_online);
    let mut op = ChatSocket::operator(worker, &conversation, &cookie).await;
    op.hello(0).await;
    Chat { conversation, visitor, v, op, cookie, _console: console }
}

/// Sends a message and waits for its ack; returns its seq.
async fn say(socket: &mut ChatSocket, client_msg_id: &str, text: &str) -> u64 {
    socket.say(client_msg_id, text).await;
    socket
        .until("the ack", |f| match f {
            ServerFrame::Ack { seq, client_msg_id: id, .. } if id == client_msg_id => Some(*seq),
            _ => None,
        })
        .await
        .0
}

/// Waits until the socket's visitor is offered a callback: the moment a wait is announced.
async fn until_callback_offer(socket: &mut ChatSocket) {
    socket
        .until("the callback offer", |f| matches!(f, ServerFrame::Message(m) if m.action == Some(MessageAction::OfferCallback)).then_some(()))
        .await;
}

/// A visitor starts a conversation while no operator is online and writes `text`: offered a
/// callback at once. Returns the conversation.
async fn a_visitor_waits_with_nobody_online(worker: &Worker, visitor_id: &str, client_msg_id: &str, text: &str) -> String {
    let visitor = visitor_session(worker, SHOP, visitor_id).await;
    assert!(!visitor.operator_online);
    let conversation = start_conversation(worker, SHOP, &visitor.token).await;
    let mut socket = ChatSocket::visitor(worker, SHOP, &conversation, &visitor.token).await;
    socket.hello(0).await;
    say(&mut socket, client_msg_id, text).await;
    until_callback_offer(&mut socket).await;
    conversation
}

/// Delivered requests at `prefix` of one event type, by webhook-id.
fn delivered_of(receiver: &Receiver, prefix: &str, kind: &str) -> Vec<Received> {
    receiver.received_at(prefix).into_iter().filter(|r| r.delivered() && r.json()["type"] == kind).collect()
}

/// Every request the receiver got, grouped by webhook-id: each must be signed, delivered exactly
/// once, never retried after its 2xx, and carry the same body on every attempt.
fn assert_exactly_once(received: &[Received]) -> HashMap<String, Vec<Received>> {
    let mut by_id: HashMap<String, Vec<Received>> = HashMap::new();
    for r in received {
        assert_eq!(r.signature_valid, Some(true), "every attempt is signed: {:?}", r.path);
        by_id.entry(r.header("webhook-id").unwrap_or_default().to_owned()).or_default().push(r.clone());
    }
    for (id, attempts) in &by_id {
        let answers: Vec<u16> = attempts.iter().map(|r| r.answered).collect();
        assert_eq!(attempts.iter().filter(|r| r.delivered()).count(), 1, "{id} delivered exactly once: {answers:?}");
        assert!(attempts.last().is_some_and(Received::delivered), "{id}: nothing sent after the 2xx: {answers:?}");
        assert_eq!(attempts.iter().map(|r| &r.body).collect::<HashSet<_>>().len(), 1, "{id}: the same body on every attempt");
    }
    by_id
}

/// Like [`assert_exactly_once`] for a run with timeouts. Delivery is at least once: an attempt
/// the worker gave up on after its timeout may still have reached the receiver (locally a request
/// can wait for a connection behind a hung one while its timeout runs; see "Known limits" in
/// docs/leads-and-webhooks.md), and the retry then arrives with the same webhook-id and body for
/// the receiver to drop. So: one delivered attempt in the worker's log per event, nothing sent
/// after it, and any extra 2xx at the receiver matched by an attempt the worker logged as a
/// timeout. Prints how many such repeats happened.
fn assert_once_per_recorded_attempt(received: &[Received], log: &[DeliveryView]) -> HashMap<String, Vec<Received>> {
    let mut by_id: HashMap<String, Vec<Received>> = HashMap::new();
    for r in received {
        assert_eq!(r.signature_valid, Some(true), "every attempt is signed: {:?}", r.path);
        by_id.entry(r.header("webhook-id").unwrap_or_default().to_owned()).or_default().push(r.clone());
    }
    let mut repeats = 0;
    for (id, attempts) in &by_id {
        let answers: Vec<u16> = attempts.iter().map(|r| r.answered).collect();
        let view = log.iter().find(|d| &d.event_id == id).unwrap_or_else(|| panic!("{id} in the delivery log"));
        let statuses: Vec<AttemptStatus> = view.attempts.iter().map(|a| a.status).collect();
        assert_eq!(statuses.iter().filter(|s| **s == AttemptStatus::Delivered).count(), 1, "{id}: {statuses:?}");
        assert_eq!(statuses.last(), Some(&AttemptStatus::Delivered), "{id}: nothing attempted after the 2xx: {statuses:?}");
        assert!(attempts.last().is_some_and(Received::delivered), "{id}: nothing sent after the 2xx: {answers:?}");
        let ok = attempts.iter().filter(|r| r.delivered()).count();
        let timeouts = statuses.iter().filter(|s| **s == AttemptStatus::Timeout).count();
        assert!(ok >= 1 && ok <= 1 + timeouts, "{id}: {ok} 2xx at the receiver, {timeouts} timeouts logged: {answers:?} / {statuses:?}");
        repeats += ok - 1;
        assert_eq!(attempts.iter().map(|r| &r.body).collect::<HashSet<_>>().len(), 1, "{id}: the same body on every attempt");
    }
    eprintln!("{} events, {repeats} repeated after a late 2xx (same webhook-id)", by_id.len());
    by_id
}

#[tokio::test]
async fn messages_and_the_close_reach_the_crm_signed_exactly_once_with_the_transcript_and_context() {
    let worker = worker("chat-crm").await;
    let receiver = Receiver::start();
    crm_endpoint(&worker, &receiver).await;
    // Endpoints that must get nothing from the chat: one subscribed to leads only, and a Bitrix24
    // one subscribed to everything (its preset has no shape for chat events).
    worker.add_endpoint(json!({"id": "leads", "url": receiver.url("/hooks/leads"), "preset": {"kind": "generic"}, "events": ["lead.created"]})).await;
    worker.add_endpoint(json!({"id": "b24", "url": receiver.url("/rest/1/code/"), "preset": {"kind": "bitrix24"}})).await;

    // The visitor left a callback lead before writing: the chat events name it.
    let visitor_id = "visitor-crm-0001";
    let lead_request = floorwalker_e2e::leads::request(LeadKind::Callback, visitor_id, "crm1", SHOP);
    let response = floorwalker_e2e::leads::post(&worker, SHOP, &serde_json::to_string(&lead_request).unwrap()).await;
    assert_eq!(response.status().as_u16(), 201);
    let lead_id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let context = serde_json::to_value(&lead_request.context).unwrap();

    let mut chat = open_chat(&worker, visitor_id, Some(context)).await;
    let script = [
        (true, "Hello! Is the Orsa 360 in stock?"),
        (false, "Hello, yes: grey and black."),
        (true, "Grey please. <b>Fast</b> delivery & \"gift wrap\"?"),
        (false, "Done — it ships tomorrow."),
    ];
    let mut sent_at = HashMap::new();
    for (n, (visitor, text)) in script.iter().enumerate() {
        let socket = if *visitor { &mut chat.v } else { &mut chat.op };
        let started = Instant::now();
        let seq = say(socket, &format!("msg-crm-{n:04}"), text).await;
        assert_eq!(seq, n as u64 + 1);
        sent_at.insert(seq, started);
    }

    // One signed message.created per message, as each happens.
    let messages = eventually("four message.created at the CRM", Duration::from_secs(30), || async {
        let delivered = delivered_of(&receiver, "/hooks/crm", "message.created");
        (delivered.len() >= 4).then_some(delivered)
    })
    .await;
    let mut latencies: Vec<u128> = Vec::new();
    for hook in &messages {
        let body = hook.json();
        let data = &body["data"];
        let seq = data["message"]["seq"].as_u64().expect("a seq");
        let (visitor, text) = script[seq as usize - 1];
        assert_eq!(data["site"], "demo");
        assert_eq!(data["conversation_id"], chat.conversation.as_str());
        assert_eq!(data["visitor_id"], visitor_id);
        assert_eq!(data["lead_ids"], json!([lead_id]), "the visitor's lead is named");
        assert_eq!(data["message"]["id"], format!("{}-{seq}", chat.conversation));
        assert_eq!(data["message"]["text"], text);
        let author = if visitor { json!({"kind": "visitor"}) } else { json!({"kind": "operator", "name": "Anna"}) };
        assert_eq!(data["message"]["author"], author);
        let at = data["message"]["at"].as_u64().expect("at");
        assert!(at > 1_700_000_000_000);
        assert_eq!(body["timestamp"].as_str().map(|t| t.len()), Some(24), "RFC 3339 with ms: {}", body["timestamp"]);
        latencies.push(hook.at.duration_since(sent_at[&seq]).as_millis());
    }
    latencies.sort_unstable();
    eprintln!("message.created latency (ack sent → received), ms: {latencies:?}");

    // The operator closes: one conversation.closed with the whole transcript in order and the
    // context the visitor came with.
    chat.op.send(&ClientFrame::Close).await;
    chat.v.until("closed", |f| matches!(f, ServerFrame::Closed { .. }).then_some(())).await;
    let closed = eventually("conversation.closed at the CRM", Duration::from_secs(30), || async {
        delivered_of(&receiver, "/hooks/crm", "conversation.closed").into_iter().next()
    })
    .await;
    let data = &closed.json()["data"];
    assert_eq!(data["site"], "demo");
    assert_eq!(data["transcript"]["conversation_id"], chat.conversation.as_str());
    assert_eq!(data["transcript"]["owner"]["visitor_id"], visitor_id);
    let texts: Vec<&str> = data["transcript"]["messages"].as_array().expect("messages").iter().filter_map(|m| m["text"].as_str()).collect();
    assert_eq!(texts, script.iter().map(|(_, t)| *t).collect::<Vec<_>>(), "the full transcript, in order");
    let seqs: Vec<u64> = data["transcript"]["messages"].as_array().unwrap().iter().filter_map(|m| m["seq"].as_u64()).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    assert_eq!(data["context"]["products"].as_array().map(Vec::len), Some(2), "the visitor context: {}", data["context"]);
    assert_eq!(data["context"]["first_touch"]["utm_source"], "yandex");
    assert_eq!(data["lead_ids"], json!([lead_id]));

    // Nothing more arrives; every webhook-id was delivered exactly once.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let by_id = assert_exactly_once(&receiver.received_at("/hooks/crm"));
    assert_eq!(by_id.len(), 5, "4 messages + 1 close");
    let at_leads: Vec<Value> = receiver.received_at("/hooks/leads").iter().map(|r| r.json()["type"].clone()).collect();
    assert_eq!(at_leads, [json!("lead.created")], "the leads-only endpoint got its lead and no chat event");
    // The Bitrix24 endpoint got the lead (crm.lead.add) and nothing else: once, or once more for
    // each attempt that got no answer in time (on a starved machine the answer can come after the
    // 5 s limit; delivery is at least once, docs/leads-and-webhooks.md). Never again after an
    // attempt that was answered.
    let b24: Vec<String> = receiver.received_at("/rest/1/code/").into_iter().map(|r| r.path).collect();
    let attempts: Vec<floorwalker_core::outbound::webhook::AttemptRecord> =
        deliveries(&worker).await.into_iter().filter(|d| d.target.contains("b24")).flat_map(|d| d.attempts).collect();
    let (last, earlier) = attempts.split_last().expect("the Bitrix24 delivery was attempted");
    let resent_only_after_timeouts = earlier.iter().all(|a| a.status == floorwalker_core::outbound::webhook::AttemptStatus::Timeout);
    assert!(
        b24.len() == attempts.len() && last.status == floorwalker_core::outbound::webhook::AttemptStatus::Delivered && resent_only_after_timeouts,
        "the Bitrix24 lead was sent {} times: {b24:?}; its delivery's attempts: {attempts:#?}",
        b24.len()
    );

    // The delivery log: one row per chat event, for `crm` only, all delivered.
    let log = deliveries(&worker).await;
    let chat_rows: Vec<&DeliveryView> =
        log.iter().filter(|d| matches!(d.event_type, EventType::MessageCreated | EventType::ConversationClosed)).collect();
    assert_eq!(chat_rows.len(), 5, "{chat_rows:#?}");
    assert!(chat_rows.iter().all(|d| d.target == "endpoint:crm" && d.state == DeliveryState::Delivered));
    // The conversation is closed in D1 too: a new start opens a new one.
    assert_ne!(start_conversation(&worker, SHOP, &chat.visitor.token).await, chat.conversation);
    let _ = chat.cookie;
}

#[tokio::test]
async fn a_crm_outage_delays_chat_events_but_loses_and_duplicates_nothing() {
    let worker = worker("chat-outage").await;
    let receiver = Receiver::start();
    crm_endpoint(&worker, &receiver).await;
    // Errors, then hangs past the 5 s test timeout, then a throttle, then recovery.
    receiver.script(std::iter::repeat_n(Reply::Status(500), 6));
    receiver.script(std::iter::repeat_n(Reply::Hang(Duration::from_secs(7)), 2));
    receiver.script([Reply::RetryAfter(429, 2)]);

    let mut chat = open_chat(&worker, "visitor-outage-01", None).await;
    for n in 0..3 {
        say(&mut chat.v, &format!("v-outage-{n:04}"), &format!("visitor message {n}")).await;
        say(&mut chat.op, &format!("op-outage-{n:04}"), &format!("operator answer {n}")).await;
    }
    chat.op.send(&ClientFrame::Close).await;
    chat.v.until("closed", |f| matches!(f, ServerFrame::Closed { .. }).then_some(())).await;

    let expected = 7;
    eventually("every chat event delivered after the outage", Duration::from_secs(120), || async {
        let ids: HashSet<String> = receiver
            .received_at("/hooks/crm")
            .iter()
            .filter(|r| r.delivered())
            .filter_map(|r| r.header("webhook-id").map(str::to_owned))
            .collect();
        (ids.len() >= expected).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received = receiver.received_at("/hooks/crm");
    let log = deliveries(&worker).await;
    let by_id = assert_once_per_recorded_attempt(&received, &log);
    assert_eq!(by_id.len(), expected);
    assert!(received.iter().any(|r| r.answered == 500) && received.iter().any(|r| r.answered == 429), "the outage happened");
    let mut seqs: Vec<u64> = received
        .iter()
        .filter(|r| r.delivered() && r.json()["type"] == "message.created")
        .filter_map(|r| r.json()["data"]["message"]["seq"].as_u64())
        .collect();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6], "every message (one webhook-id each, checked above)");
    let closed = received.iter().find(|r| r.delivered() && r.json()["type"] == "conversation.closed").expect("the close");
    assert_eq!(closed.json()["data"]["transcript"]["messages"].as_array().map(Vec::len), Some(6));

    assert_eq!(log.len(), expected);
    assert!(log.iter().all(|d| d.state == DeliveryState::Delivered), "{log:#?}");
    let statuses: Vec<AttemptStatus> = log.iter().flat_map(|d| d.attempts.iter().map(|a| a.status)).collect();
    for status in [AttemptStatus::Failed, AttemptStatus::Timeout, AttemptStatus::Delivered] {
        assert!(statuses.contains(&status), "{status:?} in the attempt log: {statuses:?}");
    }
}

#[tokio::test]
async fn a_worker_restart_between_message_and_delivery_loses_nothing() {
    let mut worker = worker("chat-restart").await;
    let receiver = Receiver::start();
    crm_endpoint(&worker, &receiver).await;
    receiver.set_reply(Reply::Status(503));
    let mut chat = open_chat(&worker, "visitor-restart-1", None).await;
    say(&mut chat.v, "v-restart-0001", "before the restart").await;
    // The event reached the queue and its first attempt failed; the retry is in the (in-memory,
    // local) queue when the worker goes down.
    eventually("the first attempt to fail", Duration::from_secs(20), || async {
        (!receiver.received_at("/hooks/crm").is_empty()).then_some(())
    })
    .await;
    worker.restart().await;
    receiver.set_reply(Reply::Ok);

    // A message acked just before a restart: it is in the conversation's own outbox only, its
    // flush (the object's alarm, a second later) not yet run.
    let cookie = chat.cookie.clone();
    drop(chat);
    let mut op = ChatSocket::operator(&worker, &conversation_of(&worker, "visitor-restart-1").await, &cookie).await;
    op.hello(0).await;
    say(&mut op, "op-restart-0001", "right before the second restart").await;
    worker.restart().await;

    // The sweeper (cron) re-enqueues what the queue lost; the object's alarm flushes its outbox.
    // (With the console gone nobody is online, so a system callback offer may be among them.)
    let wanted = ["before the restart", "right before the second restart"];
    eventually("both messages delivered after the restarts", Duration::from_secs(60), || async {
        worker.sweep().await;
        let texts: Vec<String> = delivered_of(&receiver, "/hooks/crm", "message.created")
            .iter()
            .filter_map(|r| r.json()["data"]["message"]["text"].as_str().map(str::to_owned))
            .collect();
        wanted.iter().all(|w| texts.iter().any(|t| t == w)).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let received = receiver.received_at("/hooks/crm");
    assert_exactly_once(&received);
    for text in wanted {
        let copies = received.iter().filter(|r| r.delivered() && r.json()["data"]["message"]["text"] == text).count();
        assert_eq!(copies, 1, "{text:?} delivered once");
    }
}

/// The visitor's open conversation, as the session reports it.
async fn conversation_of(worker: &Worker, visitor: &str) -> String {
    visitor_session(worker, SHOP, visitor).await.conversation_id.expect("an open conversation")
}

#[tokio::test]
async fn the_transcript_by_email_reaches_the_mailbox_and_sites_without_chat_endpoints_get_no_rows() {
    let worker = worker("chat-transcript").await;
    let receiver = Receiver::start();
    // Subscribed to leads only: the chat must leave no delivery rows for it.
    let endpoint = worker.add_endpoint(json!({"id": "crm", "url": receiver.url("/hooks/crm"), "preset": {"kind": "generic"}, "events": ["lead.created"]}),
    )
    .await;
    receiver.set_secrets(vec![endpoint.secret]);
    let mut chat = open_chat(&worker, "visitor-mail-0001", None).await;
    let script = [
        (true, "Do you have <script>alert('x')</script> seats?"),
        (false, "We have car seats & strollers.\nWhich one?"),
        (true, "The \"Orsa\" one."),
    ];
    for (n, (visitor, text)) in script.iter().enumerate() {
        let socket = if *visitor { &mut chat.v } else { &mut chat.op };
        say(socket, &format!("msg-mail-{n:04}"), text).await;
    }
    let (status, body) = post_json(
        &worker,
        &format!("/v1/chat/conversations/{}/transcript", chat.conversation),
        Some(SHOP),
        &json!({"token": chat.visitor.token, "email": "Visitor.Mail@Example.com"}),
    )
    .await;
    assert_eq!(status, 202, "{body}");

    let email = eventually("the transcript in the local mailbox", Duration::from_secs(30), || async {
        let emails: Vec<StoredEmail> = worker.admin_get("/mailbox").await;
        emails.into_iter().find(|e| e.message.to == "Visitor.Mail@example.com")
    })
    .await;
    assert_eq!(email.lead, chat.conversation, "filed under the conversation");
    let message = &email.message;
    assert!(message.subject.contains("Кроха"), "{}", message.subject);
    // Plain text: every message as written, in order.
    let positions: Vec<usize> = ["Do you have <script>alert('x')</script> seats?", "We have car seats & strollers.", "Which one?", "The \"Orsa\" one."]
        .iter()
        .map(|t| message.text.find(t).unwrap_or_else(|| panic!("{t:?} in {}", message.text)))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "in order: {}", message.text);
    assert!(message.text.contains("Anna:"), "the operator by name");
    // HTML: the messages are there, escaped; nothing of theirs is markup.
    assert!(!message.html.contains("<script"), "{}", message.html);
    assert!(message.html.contains("Do you have &lt;script&gt;alert('x')&lt;/script&gt; seats?"));
    assert!(message.html.contains("We have car seats &amp; strollers.<br>Which one?"));
    assert!(message.html.contains("The &quot;Orsa&quot; one."));
    // The local mailbox page shows it.
    let page = worker.http().get(worker.url("/v1/mailbox")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Visitor.Mail@example.com"), "the address as normalised (the domain lowercased)");

    // The delivery log: the email, delivered; and no row for the chat events, since no endpoint
    // takes them. The transcript request was flushed after the messages (the object's outbox is
    // ordered), so their absence is not a matter of waiting longer.
    let log = deliveries(&worker).await;
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!((log[0].event_type, log[0].target.as_str(), log[0].state), (EventType::TranscriptRequested, "email", DeliveryState::Delivered));
    assert!(outbox(&worker, Some("message.created")).await.is_empty(), "no outbox rows nothing would deliver");
    assert_eq!(outbox(&worker, Some("transcript.requested")).await.len(), 1);
    // Closing sends nothing either, and still closes the conversation's D1 row.
    chat.op.send(&ClientFrame::Close).await;
    chat.v.until("closed", |f| matches!(f, ServerFrame::Closed { .. }).then_some(())).await;
    eventually("the conversation closed in D1", Duration::from_secs(15), || async {
        (visitor_session(&worker, SHOP, "visitor-mail-0001").await.conversation_id.is_none()).then_some(())
    })
    .await;
    assert!(outbox(&worker, Some("conversation.closed")).await.is_empty());
    assert_eq!(deliveries(&worker).await.len(), 1);
    assert!(receiver.received().is_empty(), "the CRM heard nothing of the chat");
}

/// Asking again for the same transcript to the same address is refused (429, a message the widget
/// can show, never a 5xx) until new messages arrive or the window passes; another address is
/// refused for good (409: the transcript goes to the first address only). Exactly the emails that
/// were accepted reach the mailbox.
#[tokio::test]
async fn a_repeated_transcript_request_is_refused_until_something_new_was_said() {
    let worker = worker("chat-transcript-repeat").await;
    let mut chat = open_chat(&worker, "visitor-repeat-0001", None).await;
    say(&mut chat.v, "msg-repeat-0001", "Is the Orsa in stock?").await;
    say(&mut chat.op, "msg-repeat-0002", "Yes, two left.").await;
    let path = format!("/v1/chat/conversations/{}/transcript", chat.conversation);
    let ask = |email: &'static str| {
        let (worker, path, token) = (&worker, path.clone(), chat.visitor.token.clone());
        async move { post_json(worker, &path, Some(SHOP), &json!({"token": token, "email": email})).await }
    };

    let (status, body) = ask("anna@example.com").await;
    assert_eq!(status, 202, "the first request: {body}");
    // The same mailbox, typed differently, a moment later: refused, with a reason.
    let (status, body) = ask(" Anna@EXAMPLE.com ").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "transcript_already_sent", "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("already emailed") && m.contains("min")), "{body}");
    // The refusal is readable by the shop's page (CORS), so the panel can say why.
    let response = worker
        .http()
        .post(worker.url(&path))
        .header("origin", SHOP)
        .header("content-type", "text/plain;charset=UTF-8")
        .body(json!({"token": chat.visitor.token, "email": "anna@example.com"}).to_string())
        .send()
        .await
        .expect("POST transcript");
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some(SHOP));

    // Another address is refused: one address per conversation.
    let (status, body) = ask("boris@example.com").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "transcript_address_locked", "{body}");
    // Something new was said: the first address may have the longer conversation.
    say(&mut chat.op, "msg-repeat-0003", "Shall I reserve one?").await;
    let (status, body) = ask("anna@example.com").await;
    assert_eq!(status, 202, "after a new message: {body}");
    let (status, body) = ask("anna@example.com").await;
    assert_eq!(status, 429, "and again nothing new: {body}");

    // The mailbox holds exactly the two accepted emails, both for Anna (the second with the new
    // message); none for Boris.
    eventually("two transcripts in the mailbox", Duration::from_secs(30), || async {
        let emails: Vec<StoredEmail> = worker.admin_get("/mailbox").await;
        (emails.len() >= 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let emails: Vec<StoredEmail> = worker.admin_get("/mailbox").await;
    assert_eq!(emails.len(), 2, "{:?}", emails.iter().map(|e| &e.message.to).collect::<Vec<_>>());
    let to_anna: Vec<&StoredEmail> = emails.iter().filter(|e| e.message.to == "anna@example.com").collect();
    assert_eq!(to_anna.len(), 2);
    assert_eq!(to_anna.iter().filter(|e| e.message.text.contains("Shall I reserve one?")).count(), 1, "one of them with the new message");
    assert_eq!(emails.iter().filter(|e| e.message.to == "boris@example.com").count(), 0);
    let log = deliveries(&worker).await;
    assert_eq!(log.iter().filter(|d| d.event_type == EventType::TranscriptRequested).count(), 2, "{log:#?}");
}

/// The Telegram alerts' bot token (a worker secret, `CRM_TG_ALERTS`): it appears in the Bot API's path.
const TOKEN: &str = "123456:TEST-token_value";

/// The demo shop with a 3 s reply wait (and `vars`), a Telegram alert endpoint at `/tg` and a
/// generic signed endpoint for `conversation.waiting` at `/hooks/crm`, both at one receiver.
async fn waiting_shop(name: &str, vars: &[(&str, &str)]) -> (Worker, Receiver) {
    let mut all = vec![("CRM_TG_ALERTS", TOKEN), ("CHAT_REPLY_WAIT_SECONDS", "3")];
    all.extend_from_slice(vars);
    let worker = Worker::start_with_vars(name, &all).await;
    worker.seed_demo_site(&[SHOP.to_owned()]).await;
    worker.allow_private_endpoints().await;
    let receiver = Receiver::start();
    let telegram = json!({"kind": "telegram", "chat_id": "-100200300", "bot_token_secret": "CRM_TG_ALERTS"});
    worker.add_endpoint(json!({"id": "tg", "url": receiver.url("/tg"), "preset": telegram})).await;
    let hooks = worker
        .add_endpoint(json!({"id": "crm", "url": receiver.url("/hooks/crm"), "preset": {"kind": "generic"}, "events": ["conversation.waiting"]}))
        .await;
    receiver.set_secrets(vec![hooks.secret]);
    (worker, receiver)
}

/// A transcript goes to one address per conversation: a script that asks for it to 25 addresses
/// sends one email (to the first), and every other address gets 409 `transcript_address_locked`.
#[tokio::test]
async fn a_conversation_emails_its_transcript_to_one_address_only() {
    let worker = worker("chat-transcript-relay").await;
    let mut chat = open_chat(&worker, "visitor-relay-0001", None).await;
    say(&mut chat.v, "msg-relay-0001", "Pay the fee at https://evil.example/pay").await;
    let path = format!("/v1/chat/conversations/{}/transcript", chat.conversation);
    let mut statuses = Vec::new();
    for n in 0..25 {
        let (status, body) = post_json(&worker, &path, Some(SHOP), &json!({"token": chat.visitor.token, "email": format!("target{n}@example.com")})).await;
        if n > 0 {
            assert_eq!(body["error"]["code"], "transcript_address_locked", "{body}");
        }
        statuses.push(status);
    }
    assert_eq!(statuses[0], 202);
    assert!(statuses[1..].iter().all(|&s| s == 409), "{statuses:?}");
    eventually("the one transcript in the mailbox", Duration::from_secs(30), || async {
        let emails: Vec<StoredEmail> = worker.admin_get("/mailbox").await;
        (!emails.is_empty()).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let emails: Vec<StoredEmail> = worker.admin_get("/mailbox").await;
    assert_eq!(emails.iter().map(|e| e.message.to.as_str()).collect::<Vec<_>>(), ["target0@example.com"]);
}

/// The shop's Telegram chat hears of a visitor nobody answers, in the Bot API's documented shape
/// (`POST /bot<token>/sendMessage`, JSON `chat_id`, `text`, `parse_mode`): with an operator online
/// once the reply wait has passed, and at once when nobody is online; the visitor's words escaped
/// for Telegram's HTML; once per conversation. A generic endpoint gets the same event signed.
#[tokio::test]
async fn a_visitor_nobody_answers_reaches_the_shops_telegram_once_in_the_bot_api_shape() {
    let (worker, receiver) = waiting_shop("chat-waiting", &[]).await;
    let alerts = || receiver.received_at("/tg/");

    // An operator is online but does not answer: the alert comes after the wait, not before.
    let mut chat = open_chat(&worker, "visitor-wait-00001", None).await;
    let asked = Instant::now();
    say(&mut chat.v, "v-wait-000001", "Is the <b>blue</b> one in stock?").await;
    until_callback_offer(&mut chat.v).await;
    assert!(asked.elapsed() >= Duration::from_secs(3), "offered after the 3 s wait, not before: {:?}", asked.elapsed());
    let alert = eventually("the Telegram alert", Duration::from_secs(30), || async { alerts().into_iter().next() }).await;
    assert_eq!((alert.method.as_str(), alert.path.as_str()), ("POST", format!("/tg/bot{TOKEN}/sendMessage").as_str()));
    assert_eq!(alert.header("content-type"), Some("application/json"));
    let body = alert.json();
    assert_eq!((body["chat_id"].as_str(), body["parse_mode"].as_str()), (Some("-100200300"), Some("HTML")), "{body}");
    let text = body["text"].as_str().expect("a text");
    assert!(text.starts_with("<b>Посетитель ждёт ответа в чате</b>\n"), "{text}");
    assert!(text.contains("«Is the &lt;b&gt;blue&lt;/b&gt; one in stock?»"), "escaped: {text}");
    assert!(!text.contains("Никого из операторов нет"), "an operator was online: {text}");
    let signed = eventually("the signed event", Duration::from_secs(30), || async {
        delivered_of(&receiver, "/hooks/crm", "conversation.waiting").into_iter().next()
    })
    .await;
    assert_eq!(signed.signature_valid, Some(true));
    let data = &signed.json()["data"];
    assert_eq!((data["conversation_id"].as_str(), data["operator_online"].as_bool()), (Some(chat.conversation.as_str()), Some(true)));
    assert_eq!(data["messages"][0]["text"], "Is the <b>blue</b> one in stock?", "the event carries the words as written");

    // Writing again does not alert again: the shop has been told about this conversation.
    say(&mut chat.v, "v-wait-000002", "Hello?").await;

    // Nobody online: a new visitor's question alerts at once, saying so.
    let Chat { v, op, _console: mut console, .. } = chat;
    v.close().await;
    op.close().await;
    console.ws.close(None).await.ok();
    let second = eventually("nobody online", Duration::from_secs(15), || async {
        let session = visitor_session(&worker, SHOP, "visitor-wait-00002").await;
        (!session.operator_online).then_some(session)
    })
    .await;
    let conversation = start_conversation(&worker, SHOP, &second.token).await;
    let mut v = ChatSocket::visitor(&worker, SHOP, &conversation, &second.token).await;
    v.hello(0).await;
    say(&mut v, "v-wait-000003", "Do you deliver to Kazan?").await;
    let alert = eventually("the second alert", Duration::from_secs(30), || async { alerts().into_iter().nth(1) }).await;
    let text = alert.json()["text"].as_str().unwrap_or_default().to_owned();
    assert!(text.contains("«Do you deliver to Kazan?»") && text.ends_with("Никого из операторов нет в сети."), "{text}");
    // Long enough for a repeat of the first alert to have arrived: none did.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let texts: Vec<String> = alerts().iter().map(|r| r.json()["text"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(texts.len(), 2, "one alert per conversation: {texts:?}");
    assert!(texts.iter().all(|t| !t.contains("Hello?")), "{texts:?}");
}

/// The owner's address for alerts (the Email screen's `alert_to`) hears of a visitor waiting
/// unanswered: one email per conversation, in the owner's language, the visitor's words escaped.
/// A bad address is refused with its field named; a new address hears nothing of visitors until
/// the link emailed to it is followed (a GET only shows the button, a forged or stale link
/// confirms nothing); cleared, nothing is mailed.
#[tokio::test]
async fn a_visitor_nobody_answers_is_mailed_to_the_teams_alert_address_once() {
    use floorwalker_core::outbound::email::StoredEmail;
    let worker = Worker::start_with_vars("chat-alert-mail", &[("CHAT_REPLY_WAIT_SECONDS", "3")]).await;
    worker.seed_demo_site(&[SHOP.to_owned()]).await;
    let put_email = |alert_to: Value| {
        let worker = &worker;
        async move { worker.admin_send(reqwest::Method::PUT, "/sites/demo/email", Some(json!({"alert_to": alert_to}))).await }
    };
    let (status, answer) = put_email(json!("team@")).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"]["message"].as_str().is_some_and(|m| m.starts_with("alert_to: ")), "{answer}");
    let (status, answer) = put_email(json!(" Team@Kroha.Example ")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["settings"]["alert_to"], "team@kroha.example");
    assert_eq!((answer["alert_link_sent"].as_bool(), &answer["settings"]["alert_confirmed"]), (Some(true), &Value::Null), "{answer}");
    let alerts = || async {
        let emails: Vec<StoredEmail> = worker.admin_get("/mailbox").await;
        emails.into_iter().filter(|e| e.message.to == "team@kroha.example" && e.lead != "alert-confirm").collect::<Vec<_>>()
    };

    // Unconfirmed: a visitor's wait reaches nobody's inbox (a typo must not mail a stranger).
    a_visitor_waits_with_nobody_online(&worker, "visitor-alert-0000", "v-alert-000000", "Кто-нибудь есть?").await;
    // A forged token, and the link's page opened (as a mail scanner would), confirm nothing.
    let link = worker.alert_link("team@kroha.example").await;
    let forged = worker.http().post(worker.url("/v1/mail/alert-confirm/dGVzdA.AAAA")).send().await.expect("sent");
    assert_eq!(forged.status().as_u16(), 400);
    assert_eq!(worker.http().get(worker.url(&link)).send().await.expect("sent").status().as_u16(), 200);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(alerts().await.len(), 0, "no alert before the address is confirmed");
    let (_, shown) = worker.admin_send(reqwest::Method::GET, "/sites/demo/email", None).await;
    assert_eq!(shown["settings"]["alert_confirmed"], Value::Null, "a GET of the link changes nothing");
    let mail: Vec<StoredEmail> = worker.admin_get("/mailbox").await;
    let asked = mail.iter().find(|e| e.lead == "alert-confirm").expect("the confirmation email");
    assert!(asked.message.text.contains("Кроха") && !asked.message.text.contains("Кто-нибудь"), "who asks, and nothing of visitors: {}", asked.message.text);
    worker.confirm_alert_address("team@kroha.example").await;
    let (_, shown) = worker.admin_send(reqwest::Method::GET, "/sites/demo/email", None).await;
    assert_eq!(shown["settings"]["alert_confirmed"], "team@kroha.example");
    // Saving another field keeps the confirmation.
    let (_, kept) = worker
        .admin_send(reqwest::Method::PUT, "/sites/demo/email", Some(json!({"alert_to": "team@kroha.example", "sender_name": "Кроха"})))
        .await;
    assert_eq!((kept["settings"]["alert_confirmed"].as_str(), kept["alert_link_sent"].as_bool()), (Some("team@kroha.example"), None), "{kept}");

    // Nobody online: the visitor's question is an alert at once.
    let visitor = visitor_session(&worker, SHOP, "visitor-alert-0001").await;
    let conversation = start_conversation(&worker, SHOP, &visitor.token).await;
    let mut v = ChatSocket::visitor(&worker, SHOP, &conversation, &visitor.token).await;
    v.hello(0).await;
    say(&mut v, "v-alert-000001", "Есть <b>серая</b> коляска?").await;
    say(&mut v, "v-alert-000002", "Алло?").await;
    let email = eventually("the alert in the local mailbox", Duration::from_secs(30), || async { alerts().await.into_iter().next() }).await;
    assert_eq!(email.lead, conversation, "filed under the conversation");
    assert!(email.message.subject.starts_with("Посетитель ждёт ответа в чате: "), "{}", email.message.subject);
    assert!(email.message.html.contains("Есть &lt;b&gt;серая&lt;/b&gt; коляска?"), "{}", email.message.html);
    assert!(!email.message.html.contains("<b>серая"), "the visitor's words are never markup");
    assert!(email.message.text.contains("Никого из операторов нет в сети."), "{}", email.message.text);

    // Cleared: the next visitor's wait is not mailed.
    assert_eq!(put_email(Value::Null).await.0, 200);
    a_visitor_waits_with_nobody_online(&worker, "visitor-alert-0002", "v-alert-000003", "Доставляете в Казань?").await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(alerts().await.len(), 1, "one alert for the confirmed address's conversation, none once cleared");

    // A link for an address since replaced confirms nothing.
    let (_, moved) = put_email(json!("sales@kroha.example")).await;
    assert_eq!(moved["settings"]["alert_confirmed"], Value::Null, "a new address is confirmed again: {moved}");
    let stale = worker.http().post(worker.url(&link)).send().await.expect("sent");
    assert_eq!(stale.status().as_u16(), 409);
    let (_, shown) = worker.admin_send(reqwest::Method::GET, "/sites/demo/email", None).await;
    assert_eq!(shown["settings"]["alert_confirmed"], Value::Null);
}

/// A flood of visitors while nobody is online (scripted or not) does not become a flood on the
/// team's phones: past the site's hourly cap (`WAITING_ALERTS_PER_HOUR`, 2 here) the Telegram chat
/// and the alert address hear nothing more, while the CRM's signed endpoint gets every wait.
#[tokio::test]
async fn past_the_hourly_cap_the_team_hears_no_more_waits_but_the_crm_gets_every_one() {
    use floorwalker_core::outbound::email::StoredEmail;
    let (worker, receiver) = waiting_shop("chat-alert-cap", &[("WAITING_ALERTS_PER_HOUR", "2")]).await;
    let (status, answer) = worker.admin_send(reqwest::Method::PUT, "/sites/demo/email", Some(json!({"alert_to": "team@kroha.example"}))).await;
    assert_eq!(status, 200, "{answer}");
    worker.confirm_alert_address("team@kroha.example").await;

    // Nobody is online: each visitor's first message is a wait at once.
    for n in 1..=3 {
        a_visitor_waits_with_nobody_online(&worker, &format!("visitor-flood-000{n}"), &format!("v-flood-00000{n}"), &format!("Question number {n}")).await;
    }
    let signed = eventually("three signed waits", Duration::from_secs(30), || async {
        let got = delivered_of(&receiver, "/hooks/crm", "conversation.waiting");
        (got.len() >= 3).then_some(got)
    })
    .await;
    assert!(signed.iter().all(|r| r.signature_valid == Some(true)));
    // Long enough for a third alert to have arrived, had it been sent.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let texts: Vec<String> = receiver.received_at("/tg/").iter().map(|r| r.json()["text"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(texts.len(), 2, "two alerts in the hour: {texts:?}");
    assert!(texts.iter().any(|t| t.contains("Question number 1")) && texts.iter().any(|t| t.contains("Question number 2")), "{texts:?}");
    let emails: Vec<StoredEmail> = worker.admin_get("/mailbox").await;
    let mailed: Vec<&StoredEmail> = emails.iter().filter(|e| e.message.to == "team@kroha.example" && e.lead != "alert-confirm").collect();
    assert_eq!(mailed.len(), 2, "the alert email shares the cap: one count per wait, not per channel");
    assert_eq!(delivered_of(&receiver, "/hooks/crm", "conversation.waiting").len(), 3, "the CRM's record is whole");
}
