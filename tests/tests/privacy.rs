//! Privacy operations end to end (issue 11 item 14): export and erase one visitor across D1 and the
//! Durable Objects through the admin API, `visitor.erased` to a subscribed endpoint (signed, checked
//! by the receiver's own verifier), idempotence, lookup by email and phone, refusals. The curl
//! examples of docs/privacy.md run in `docs_examples.rs`.

use std::time::Duration;

use floorwalker_core::chat::hub::HubNotification;
use floorwalker_core::chat::protocol::ServerFrame;
use floorwalker_core::leads::lead::LeadKind;
use floorwalker_core::outbound::privacy::{contact_hash, ErasureReport, Export};
use floorwalker_e2e::chat::*;
use floorwalker_e2e::eventually;
use floorwalker_e2e::leads;
use floorwalker_e2e::receiver::Receiver;
use floorwalker_e2e::worker::Worker;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const SECRET_TEXT: &str = "my card ends in 4242, call me at home";

async fn worker(name: &str) -> (Worker, Receiver) {
    let worker = chat_worker(name).await;
    worker.allow_private_endpoints().await;
    let receiver = Receiver::start();
    let endpoint = worker
        .add_endpoint(json!({"id": "crm", "url": receiver.url("/hooks/crm"), "preset": {"kind": "generic"},
            "events": ["lead.created", "message.created", "visitor.erased"]}))
        .await;
    receiver.set_secrets(vec![endpoint.secret]);
    (worker, receiver)
}

async fn post_events(worker: &Worker, visitor: &str) {
    let batch = json!({"v": 1, "site": "demo", "visitor": visitor, "session": "session-privacy-1", "events": [
        {"id": format!("evt-{visitor}-1"), "at": 1_790_000_000_000u64, "type": "page_view", "url": format!("{SHOP}/product/orsa-360-isofix/"), "title": "Orsa"},
    ]});
    let (status, body) = post_json(worker, "/v1/events", Some(SHOP), &batch).await;
    assert_eq!(status, 202, "{body}");
}

/// A comparison lead left by `visitor` with `email`; returns its id.
async fn comparison_lead(worker: &Worker, visitor: &str, email: &str) -> String {
    let mut request = leads::request(LeadKind::ComparisonEmail, visitor, visitor, SHOP);
    request.contact.email = Some(email.into());
    let response = leads::post(worker, SHOP, &serde_json::to_string(&request).expect("JSON")).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("a receipt");
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().expect("a lead id").to_owned()
}

async fn export(worker: &Worker, query: &str) -> Export {
    worker.admin_get(&format!("/sites/demo/visitors/export?{query}")).await
}

async fn erase(worker: &Worker, body: Value) -> ErasureReport {
    let (status, answer) = worker.admin_send(reqwest::Method::POST, "/sites/demo/visitors/erase", Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    serde_json::from_value(answer.clone()).unwrap_or_else(|e| panic!("{e}: {answer}"))
}

/// The close code the server ends the socket with (frames before it are skipped), within 10 s.
async fn close_code(socket: &mut ChatSocket) -> Option<u16> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.ws.next()).await.expect("the socket closes within 10 s") {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => continue,
            _ => return None,
        }
    }
}

async fn erased_events(receiver: &Receiver) -> Vec<Value> {
    receiver.received_at("/hooks/crm").into_iter().map(|r| r.json()).filter(|body| body["type"] == "visitor.erased").collect()
}

#[tokio::test]
async fn a_visitor_is_exported_then_erased_everywhere_and_the_crm_is_told_once() {
    let (worker, receiver) = worker("privacy").await;
    let visitor = "visitor-privacy-0001";
    post_events(&worker, visitor).await;
    let lead = comparison_lead(&worker, visitor, "anna.privacy@example.com").await;

    // A conversation with messages from both sides, an operator's console on it, a callback contact.
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let cookie = login(&worker, "anna@demo.example", PASSWORD).await;
    let mut console = ConsoleSocket::open(&worker, &cookie).await;
    console.until("the snapshot", |n| matches!(n, HubNotification::Snapshot { .. }).then_some(())).await;
    let session = visitor_session(&worker, SHOP, visitor).await;
    let conversation = start_conversation(&worker, SHOP, &session.token).await;
    let mut v = ChatSocket::visitor(&worker, SHOP, &conversation, &session.token).await;
    v.hello(0).await;
    let mut op = ChatSocket::operator(&worker, &conversation, &cookie).await;
    op.hello(0).await;
    v.say("msg-0001", SECRET_TEXT).await;
    v.until("the ack", |f| matches!(f, ServerFrame::Ack { .. }).then_some(())).await;
    op.say("msg-0002", "Thank you, we will call").await;
    op.until("the ack", |f| matches!(f, ServerFrame::Ack { .. }).then_some(())).await;
    let (status, body) = post_json(&worker, &format!("/v1/chat/conversations/{conversation}/callback"), Some(SHOP),
        &json!({"token": session.token, "phone": "+7 916 555 44 33"})).await;
    assert_eq!(status, 200, "{body}");
    // The visitor's message reached the CRM: its delivery is one a receiver already has.
    eventually("message.created at the CRM", Duration::from_secs(30), || async {
        receiver.received_at("/hooks/crm").iter().any(|r| r.json()["type"] == "message.created" && r.delivered()).then_some(())
    })
    .await;

    // Export: every kind of record is there.
    let before = export(&worker, &format!("visitor={visitor}")).await;
    assert_eq!(before.visitors.len(), 1);
    let held = &before.visitors[0];
    assert!(held.events.iter().any(|e| e.event.id == format!("evt-{visitor}-1")), "events: {:?}", held.events);
    assert_eq!(held.leads.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(), [lead.as_str()]);
    assert_eq!(held.conversations.len(), 1);
    let exported = &held.conversations[0];
    assert_eq!(exported.id, conversation);
    assert!(exported.messages.iter().any(|m| m.text == SECRET_TEXT), "{:?}", exported.messages);
    assert_eq!(exported.callback_contact.as_deref(), Some("+79165554433"));
    assert!(held.deliveries.iter().any(|d| d.target == "endpoint:crm"), "{:?}", held.deliveries);
    // By email and by phone: the same visitor.
    let by_email = export(&worker, "email=Anna.Privacy@EXAMPLE.com").await;
    assert_eq!(by_email.visitors.iter().map(|v| v.visitor_id.as_str()).collect::<Vec<_>>(), [visitor]);
    let by_phone = export(&worker, "phone=%2B79165554433").await;
    assert_eq!(by_phone.visitors.iter().map(|v| v.visitor_id.as_str()).collect::<Vec<_>>(), [visitor]);
    // Pages past the end are empty; unknown or malformed parameters are a 400, not a guess.
    let paged = export(&worker, &format!("visitor={visitor}&events_offset=1000")).await;
    assert!(paged.visitors[0].events.is_empty() && paged.visitors[0].next_events_offset.is_none());
    for query in [format!("visitor={visitor}&everything=1"), format!("visitor={visitor}&events_offset=-1"), "events_offset=0".to_owned()] {
        let (status, answer) = worker.admin_send(reqwest::Method::GET, &format!("/sites/demo/visitors/export?{query}"), None).await;
        assert_eq!(status, 400, "{query}: {answer}");
    }

    // Erase.
    let report = erase(&worker, json!({"visitor": visitor})).await;
    let erased = &report.visitors[0];
    assert_eq!((erased.leads, erased.conversations, erased.consents_kept), (1, 1, 1), "{report:?}");
    assert!(erased.events >= 1 && erased.messages >= 2, "{report:?}");
    assert!(erased.deliveries_kept >= 1, "the delivered message.created keeps its row: {report:?}");
    let announced = erased.announced.clone().expect("the erasure is announced");
    assert!(report.kept.iter().any(|k| k.what.contains("consent")));

    // The open sockets of the conversation are closed; reconnecting finds no conversation.
    assert_eq!(close_code(&mut op).await, Some(4410), "the operator's socket is closed as erased");
    let url = ws_url(&worker, &format!("/v1/console/conversations/{conversation}/ws"));
    assert_eq!(refused_status(&url, Some(&worker.origin()), Some(&cookie)).await, 404);
    // The console drops it from its list at once, and a reloaded console never shows it.
    let listed = console
        .until("a snapshot without the conversation", |n| match n {
            HubNotification::Snapshot { conversations, .. } => Some(conversations.iter().any(|e| e.conversation_id == conversation)),
            _ => None,
        })
        .await;
    assert!(!listed);
    let mut reloaded = ConsoleSocket::open(&worker, &cookie).await;
    let listed = reloaded
        .until("the snapshot", |n| match n {
            HubNotification::Snapshot { conversations, .. } => Some(conversations.iter().any(|e| e.conversation_id == conversation)),
            _ => None,
        })
        .await;
    assert!(!listed, "a reloaded console does not list the erased conversation");
    let page = worker.http().get(worker.url(&format!("/v1/console/conversations/{conversation}")))
        .header("origin", worker.origin()).header("cookie", &cookie).send().await.expect("GET conversation");
    assert_eq!(page.status().as_u16(), 404);
    let callbacks: Value = worker.http().get(worker.url("/v1/console/callbacks")).header("origin", worker.origin())
        .header("cookie", &cookie).send().await.expect("callbacks").json().await.expect("JSON");
    assert!(!callbacks.to_string().contains("79165554433"), "{callbacks}");

    // Export: empty, except the consent proof, found by the contact's hash.
    let after = export(&worker, &format!("visitor={visitor}")).await;
    assert!(after.visitors.is_empty(), "{after:?}");
    assert!(after.kept_consents.is_empty(), "an export by visitor id finds no proof: it does not keep the visitor id");
    let after = export(&worker, "email=anna.privacy@example.com").await;
    assert!(after.visitors.is_empty(), "{after:?}");
    assert_eq!(after.kept_consents.len(), 1);
    assert_eq!(after.kept_consents[0].lead, lead);
    assert_eq!(after.kept_consents[0].email_hash.as_deref(), Some(contact_hash("demo", "anna.privacy@example.com").as_str()));
    assert!(!serde_json::to_string(&after.kept_consents).expect("JSON").contains("anna.privacy"), "the proof keeps only the hash");

    // The admin listings no longer show it.
    let listed_leads: Vec<Value> = worker.admin_get("/sites/demo/leads").await;
    assert!(listed_leads.iter().all(|l| l["visitor"] != visitor));
    assert!(worker.events("demo", visitor).await.is_empty());
    let chat_outbox = outbox(&worker, None).await;
    assert!(!serde_json::to_string(&chat_outbox).expect("JSON").contains(SECRET_TEXT), "{chat_outbox:?}");
    let deliveries: Value = worker.admin_get("/sites/demo/deliveries?limit=1000").await;
    assert!(deliveries.as_array().expect("a list").iter().any(|d| d["event_type"] == "message.created" && d["state"] == "delivered"),
        "a delivered row stays as the record of where the data went: {deliveries}");
    let mailbox: Value = worker.admin_get(&format!("/mailbox?lead={lead}")).await;
    assert_eq!(mailbox, json!([]));
    // A new session of the same browser starts afresh.
    assert_eq!(visitor_session(&worker, SHOP, visitor).await.conversation_id, None);

    // visitor.erased reaches the CRM, signed.
    let event = eventually("visitor.erased at the CRM", Duration::from_secs(30), || async {
        receiver.received_at("/hooks/crm").into_iter().find(|r| r.json()["type"] == "visitor.erased")
    })
    .await;
    assert_eq!(event.signature_valid, Some(true));
    assert_eq!(event.header("webhook-id"), Some(announced.as_str()));
    let data = &event.json()["data"];
    assert_eq!(data["visitor_id"], visitor);
    assert_eq!(data["lead_ids"], json!([lead]));
    assert_eq!(data["conversation_ids"], json!([conversation]));
    assert!(!event.json().to_string().contains("anna.privacy"), "the event carries no contact");

    // Idempotent: a repeat erases nothing, announces nothing.
    let again = erase(&worker, json!({"visitor": visitor})).await;
    assert_eq!(again.visitors[0].announced, None, "{again:?}");
    assert_eq!((again.visitors[0].events, again.visitors[0].leads, again.visitors[0].messages), (0, 0, 0));
    worker.sweep().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(erased_events(&receiver).await.len(), 1);
}

#[tokio::test]
async fn erasing_by_email_or_phone_finds_each_visitor_who_gave_it_and_strangers_are_refused() {
    let (worker, receiver) = worker("privacy-lookup").await;
    // The same address on two browsers, and one phone left only in the chat's callback form.
    let first = comparison_lead(&worker, "visitor-lookup-0001", "boris@example.com").await;
    let second = comparison_lead(&worker, "visitor-lookup-0002", "BORIS@example.com").await;
    post_events(&worker, "visitor-lookup-0003").await;
    let session = visitor_session(&worker, SHOP, "visitor-lookup-0003").await;
    let conversation = start_conversation(&worker, SHOP, &session.token).await;
    let (status, body) = post_json(&worker, &format!("/v1/chat/conversations/{conversation}/callback"), Some(SHOP),
        &json!({"token": session.token, "phone": "8 916 777 66 55"})).await;
    assert_eq!(status, 200, "{body}");

    // Strangers: no token, a wrong one, the site's own CRM API key; a site that does not exist.
    let url = worker.url("/v1/admin/sites/demo/visitors/erase");
    let (status, key) = worker.admin_send(reqwest::Method::POST, "/sites/demo/api-keys", Some(json!({"name": "crm"}))).await;
    assert_eq!(status, 201);
    let api_key = key["key"].as_str().expect("a key").to_owned();
    for bearer in [None, Some("wrong-token-0123456789abcdef0123"), Some(api_key.as_str())] {
        let mut request = worker.http().post(&url).json(&json!({"email": "boris@example.com"}));
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        assert_eq!(request.send().await.expect("sent").status().as_u16(), 401, "bearer {bearer:?}");
        let export = worker.http().get(worker.url("/v1/admin/sites/demo/visitors/export?email=boris@example.com"));
        let export = match bearer { Some(bearer) => export.bearer_auth(bearer), None => export };
        assert_eq!(export.send().await.expect("sent").status().as_u16(), 401, "bearer {bearer:?}");
    }
    // An operator's console session is known but is no owner's: forbidden, not unauthenticated.
    create_operator(&worker, "op@demo.example", "Op", PASSWORD).await;
    let cookie = login(&worker, "op@demo.example", PASSWORD).await;
    let with_cookie = worker.http().post(&url).header("cookie", &cookie).header("origin", worker.origin())
        .json(&json!({"email": "boris@example.com"})).send().await.expect("sent");
    assert_eq!(with_cookie.status().as_u16(), 403);
    let (status, _) = worker.admin_send(reqwest::Method::POST, "/sites/nosuchshop/visitors/erase", Some(json!({"visitor": "visitor-lookup-0001"}))).await;
    assert_eq!(status, 404);
    // Bad requests are 4xx.
    for body in [json!({}), json!({"visitor": "v", "email": "boris@example.com"}), json!({"email": "nope"}), json!({"visitor": 12}), json!([1])] {
        let (status, answer) = worker.admin_send(reqwest::Method::POST, "/sites/demo/visitors/erase", Some(body.clone())).await;
        assert_eq!(status, 400, "{body} → {answer}");
    }
    assert!(receiver.received_at("/hooks/crm").iter().all(|r| r.json()["type"] != "visitor.erased"), "nothing erased yet");

    let report = erase(&worker, json!({"email": "boris@example.com"})).await;
    let ids: Vec<&str> = report.visitors.iter().map(|v| v.visitor_id.as_str()).collect();
    assert_eq!(ids, ["visitor-lookup-0001", "visitor-lookup-0002"]);
    assert!(report.visitors.iter().all(|v| v.leads == 1 && v.announced.is_some()));
    let listed: Vec<Value> = worker.admin_get("/sites/demo/leads").await;
    assert!(listed.iter().all(|l| l["id"] != first.as_str() && l["id"] != second.as_str()));

    let report = erase(&worker, json!({"phone": "+7 (916) 777-66-55"})).await;
    assert_eq!(report.visitors.iter().map(|v| v.visitor_id.as_str()).collect::<Vec<_>>(), ["visitor-lookup-0003"]);
    assert_eq!(report.visitors[0].conversations, 1);
    assert!(worker.events("demo", "visitor-lookup-0003").await.is_empty());
    let announced = eventually("three visitor.erased events", Duration::from_secs(30), || async {
        let events = erased_events(&receiver).await;
        (events.len() >= 3).then_some(events)
    })
    .await;
    assert_eq!(announced.len(), 3);
}
