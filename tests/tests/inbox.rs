//! Issue 13, the operator's one inbox: a message left after hours (the offline form's lead) shows
//! in the console of the site's operators at once, with its text and contact; the operator
//! answers it by email from the console, and the answer reaches the local mailbox (addressed to
//! the email the visitor gave) and the CRM as a signed `message.created`; then it is marked done.
//! Another site's operator cannot see or answer it; empty, oversized and over-limit answers are
//! refused with a clear 4xx. axe-core and screenshots (target/screens/inbox/) at 1280 and 360 px,
//! English and Russian.

use std::time::Duration;

use floorwalker_core::leads::lead::LeadKind;
use floorwalker_core::outbound::email::StoredEmail;
use floorwalker_e2e::browser::Browser;
use floorwalker_e2e::chat::{chat_worker, create_operator, login, PASSWORD, SHOP};
use floorwalker_e2e::console::{js, Console};
use floorwalker_e2e::receiver::Receiver;
use floorwalker_e2e::worker::Worker;
use floorwalker_e2e::{eventually, leads};
use reqwest::Method;
use serde_json::{json, Value};

const OTHER: &str = "http://other-shop.example";

/// Leaves a message through the offline form's route as the widget does; the lead's id.
async fn leave_message(worker: &Worker, visitor: &str, email: Option<&str>, phone: Option<&str>, text: &str) -> String {
    let mut request = leads::request(LeadKind::OfflineMessage, visitor, visitor, SHOP);
    request.prompt = None;
    request.contact.email = email.map(Into::into);
    request.contact.phone = phone.map(Into::into);
    request.contact.message = Some(text.into());
    let response = leads::post(worker, SHOP, &serde_json::to_string(&request).unwrap()).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().expect("a lead id").to_owned()
}

/// A console route as `cookie`'s session calls it, from the console's own origin.
async fn console_post(worker: &Worker, cookie: Option<&str>, path: &str, body: &Value) -> (u16, Value) {
    let mut request = worker.http().post(worker.url(path)).header("origin", worker.origin()).json(body);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.expect("POST");
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

async fn console_get(worker: &Worker, cookie: &str, path: &str) -> (u16, Value) {
    let response = worker.http().get(worker.url(path)).header("cookie", cookie).send().await.expect("GET");
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

/// The viewport as target/screens/inbox/<name>.png, to be looked at.
async fn shot(browser: &Browser, name: &str) {
    let png = browser.client.screenshot().await.expect("a screenshot");
    floorwalker_e2e::save_screen("inbox", name, &png);
}

fn item(lead: &str) -> String {
    format!("[data-test=offline-message][data-lead={lead}]")
}

#[tokio::test]
async fn an_after_hours_message_is_answered_by_email_from_the_inbox() {
    let worker = chat_worker("inbox-offline").await;
    worker.allow_private_endpoints().await;
    let receiver = Receiver::start();
    let endpoint = worker
        .add_endpoint(json!({"id": "crm", "url": receiver.url("/hooks/crm"), "preset": {"kind": "generic"}, "events": ["message.created"]}))
        .await;
    receiver.set_secrets(vec![endpoint.secret]);
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    // Another site with its own operator.
    let mut other = worker.demo_site_config(&[]);
    other.site = "other".into();
    other.origins = vec![OTHER.to_owned()];
    worker.put_site(&other).await;
    let (status, body) = worker
        .admin_send(Method::POST, "/sites/other/operators", Some(json!({"email": "boris@other.example", "name": "Boris", "password": PASSWORD})))
        .await;
    assert_eq!(status, 201, "{body}");

    // Anna is at work in the console when the message comes in: it shows at once, with an alert.
    let console = Console::open(&worker).await;
    console.login("anna@demo.example", PASSWORD).await;
    console.set_lang("en").await;
    let text = "Is the <b>grey</b> one in stock?\nI need it by Friday.";
    let lead = leave_message(&worker, "visitor-offline-0001", Some("Olga@Example.com"), None, text).await;
    console.wait_text(&item(&lead), "Olga@example.com").await;
    console.wait_text("[data-test=alert]", "after hours").await;
    let preview = console.text(&format!("{} [data-test=offline-preview]", item(&lead))).await.unwrap_or_default();
    assert_eq!(preview, "Is the <b>grey</b> one in stock? I need it by Friday.", "the visitor's text, as text");
    let markup = console.browser.eval("return document.querySelectorAll('[data-test=offline-messages] b').length;", vec![]).await;
    assert_eq!(markup, json!(0), "nothing the visitor typed becomes markup");

    // Opened: the whole text and the contact.
    console.click(&format!("{} button", item(&lead))).await;
    console.wait_text("[data-test=offline-text]", "I need it by Friday.").await;
    assert_eq!(console.text("[data-test=offline-email]").await.as_deref(), Some("Olga@example.com"));

    // The unhappy paths, over HTTP: no session, another site's operator, bad answers.
    let anna = login(&worker, "anna@demo.example", PASSWORD).await;
    let boris = login(&worker, "boris@other.example", PASSWORD).await;
    let reply_path = format!("/v1/console/offline/{lead}/reply");
    assert_eq!(console_post(&worker, None, &reply_path, &json!({"text": "hi"})).await.0, 401);
    let (status, body) = console_post(&worker, Some(&boris), &reply_path, &json!({"text": "hi"})).await;
    assert_eq!(status, 404, "another site's operator: {body}");
    assert_eq!(console_post(&worker, Some(&boris), &format!("/v1/console/offline/{lead}/done"), &json!({})).await.0, 404);
    let (_, listed) = console_get(&worker, &boris, "/v1/console/offline").await;
    assert_eq!(listed, json!([]), "nothing of demo's on other's list");
    let (status, body) = console_post(&worker, Some(&anna), &reply_path, &json!({"text": "  \n "})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("empty_message")), "{body}");
    let (status, body) = console_post(&worker, Some(&anna), &reply_path, &json!({"text": "я".repeat(2001)})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("message_too_long")), "{body}");
    let (status, body) = console_post(&worker, Some(&anna), &reply_path, &json!({"text": "hi", "to": "evil@example.com"})).await;
    assert_eq!(status, 400, "the address is never the request's: {body}");
    let (status, _) = console_post(&worker, Some(&anna), "/v1/console/offline/lead_nope/reply", &json!({"text": "hi"})).await;
    assert_eq!(status, 404);
    let foreign = worker
        .http()
        .post(worker.url(&reply_path))
        .header("origin", "https://evil.example")
        .header("cookie", &anna)
        .json(&json!({"text": "hi"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(foreign.status().as_u16(), 403);

    // The answer, from the console.
    let answer = "Yes, the grey one is in stock.\nWe hold it for you until Friday.";
    console.type_into("[data-test=offline-reply-text]", answer).await;
    console.click("[data-test=offline-send]").await;
    console.wait_text("[data-test=offline-sent]", "Olga@example.com").await;
    console.wait_text("[data-test=offline-reply]", "We hold it for you").await;

    // It reaches the visitor's mailbox (the address they gave, as normalised)...
    let email = eventually("the answer in the local mailbox", Duration::from_secs(30), || async {
        let emails: Vec<StoredEmail> = worker.admin_get("/mailbox").await;
        emails.into_iter().find(|e| e.lead == lead)
    })
    .await;
    assert_eq!(email.message.to, "Olga@example.com");
    assert!(email.message.text.contains(answer), "{}", email.message.text);
    assert!(email.message.text.contains("> Is the <b>grey</b> one in stock?"), "their message quoted: {}", email.message.text);
    assert!(email.message.html.contains("Is the &lt;b&gt;grey&lt;/b&gt; one"), "{}", email.message.html);
    assert!(email.message.html.contains("Yes, the grey one is in stock.<br>We hold it"));

    // ...and the CRM, signed, as a message in the thread the lead opened.
    let hook = eventually("message.created at the CRM", Duration::from_secs(30), || async {
        receiver.received().into_iter().find(|r| r.path == "/hooks/crm" && r.delivered())
    })
    .await;
    assert_eq!(hook.signature_valid, Some(true), "the Standard Webhooks signature verifies");
    let body = hook.json();
    assert_eq!(body["type"], "message.created");
    assert_eq!(body["data"]["conversation_id"], lead.as_str());
    assert_eq!(body["data"]["lead_ids"], json!([lead]));
    assert_eq!(body["data"]["message"]["text"], answer);
    assert_eq!(body["data"]["message"]["author"], json!({"kind": "operator", "name": "Anna"}));
    assert_eq!(body["data"]["message"]["seq"], 2);

    // The inbox at 1280 px: axe-core finds nothing, in English and in Russian.
    for lang in ["en", "ru"] {
        console.set_lang(lang).await;
        let violations = console.browser.axe_violations(&[]).await;
        assert_eq!(violations, json!([]), "axe-core on the inbox with a message open ({lang})");
        // The announcement made in English reads in the language chosen since.
        let said = if lang == "ru" { "Сообщение в нерабочее время" } else { "Message left after hours" };
        console.wait_text("[data-test=alert]", said).await;
        shot(&console.browser, &format!("inbox-desktop-{lang}")).await;
    }

    // Done: it leaves the inbox (and another console's, after a reload).
    console.click("[data-test=offline-done]").await;
    console.wait("the message to leave the list", &format!("return !document.querySelector({});", js(&item(&lead)))).await;
    let (_, listed) = console_get(&worker, &anna, "/v1/console/offline").await;
    assert_eq!(listed, json!([]));
    console.close().await;

    // Answers are limited per message: five an hour, then a clear 429.
    let busy = leave_message(&worker, "visitor-offline-0002", Some("ivan@example.com"), None, "Hello?").await;
    for n in 0..5 {
        let (status, body) = console_post(&worker, Some(&anna), &format!("/v1/console/offline/{busy}/reply"), &json!({"text": format!("answer {n}")})).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = console_post(&worker, Some(&anna), &format!("/v1/console/offline/{busy}/reply"), &json!({"text": "one more"})).await;
    assert_eq!(status, 429, "{body}");

    // A message with a phone only is answered by calling: no email is offered.
    let call = leave_message(&worker, "visitor-offline-0003", None, Some("+7 916 123 45 67"), "Перезвоните, пожалуйста, насчёт коляски.").await;
    let (status, body) = console_post(&worker, Some(&anna), &format!("/v1/console/offline/{call}/reply"), &json!({"text": "hi"})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("missing_field")), "{body}");

    // On a 360 px phone, in both languages: it fits, axe-core finds nothing.
    let phone = Console { browser: Browser::start_mobile().await };
    phone.browser.client.goto(&worker.url("/console")).await.expect("opening /console");
    phone.login("anna@demo.example", PASSWORD).await;
    phone.wait_text(&item(&call), "+79161234567").await;
    for lang in ["en", "ru"] {
        phone.set_lang(lang).await;
        let widths = phone.browser.eval("return [document.documentElement.scrollWidth, innerWidth];", vec![]).await;
        assert!(widths[0].as_f64() <= widths[1].as_f64(), "the inbox is wider than the phone: {widths}");
        assert_eq!(phone.browser.axe_violations(&[]).await, json!([]), "axe-core on the phone's inbox ({lang})");
        shot(&phone.browser, &format!("inbox-phone-{lang}")).await;
    }
    phone.click(&format!("{} button", item(&call))).await;
    phone.wait("the call note", "return !!document.querySelector('[data-test=offline-call]');").await;
    let top = phone.browser.eval("return document.querySelector('[data-test=offline-view]').getBoundingClientRect().top + scrollY;", vec![]).await;
    phone.browser.eval(&format!("window.scrollTo(0, {}); return null;", top.as_f64().unwrap_or(0.0)), vec![]).await;
    assert_eq!(phone.browser.axe_violations(&[]).await, json!([]), "axe-core on the phone with a message open");
    shot(&phone.browser, "inbox-phone-ru-message").await;
    phone.close().await;
}

/// Sends the visitor's events as the widget does, without waiting for anything else.
async fn send_events(worker: &Worker, visitor: &str, events: Vec<Value>) {
    let batch = json!({"v": 1, "site": "demo", "visitor": visitor, "session": format!("s-{visitor}"), "events": events});
    let response = worker
        .http()
        .post(worker.url("/v1/events"))
        .header("content-type", "text/plain;charset=UTF-8")
        .header("origin", SHOP)
        .body(batch.to_string())
        .send()
        .await
        .expect("POST /v1/events");
    assert_eq!(response.status().as_u16(), 202);
}

fn viewed(visitor: &str, n: u32, id: &str, name: &str, at: u64) -> Vec<Value> {
    let url = format!("{SHOP}/product/{id}/");
    vec![
        json!({"id": format!("{visitor}-pv{n}"), "at": at, "type": "page_view", "url": url, "title": name}),
        json!({"id": format!("{visitor}-pr{n}"), "at": at + 1, "type": "product_view",
               "product": {"id": id, "name": name, "price": {"minor": 1_999_000, "currency": "RUB"}, "url": url}}),
    ]
}

#[tokio::test]
async fn the_operator_sees_the_visitor_move_to_another_product_within_a_second() {
    use floorwalker_e2e::chat::{start_conversation, visitor_session, ChatSocket};
    use floorwalker_e2e::console::now_ms;
    let worker = chat_worker("inbox-live").await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let console = Console::open(&worker).await;
    console.login("anna@demo.example", PASSWORD).await;
    console.set_lang("en").await;

    // A visitor looks at one product, leaves a phone number in a form, then writes in the chat.
    let visitor = "visitor-live-ctx-01";
    send_events(&worker, visitor, viewed(visitor, 1, "puffin-trio-3in1", "Puffin Trio 3-in-1", now_ms() - 30_000)).await;
    let mut contact = leads::request(LeadKind::ChatContact, visitor, "live-ctx-contact", SHOP);
    contact.prompt = None;
    let posted = leads::post(&worker, SHOP, &serde_json::to_string(&contact).unwrap()).await;
    assert_eq!(posted.status().as_u16(), 201);
    let session = visitor_session(&worker, SHOP, visitor).await;
    let conv = start_conversation(&worker, SHOP, &session.token).await;
    let mut v = ChatSocket::visitor(&worker, SHOP, &conv, &session.token).await;
    v.hello(0).await;
    v.say("v-ctx-000001", "Is this one good for a newborn?").await;

    // Named by the contact they gave, not "Visitor 1a2b3c".
    let row = format!("[data-test=conversation][data-conversation={conv}]");
    console.wait_text(&format!("{row} [data-test=label]"), "+79161234567").await;
    console.click(&format!("{row} button")).await;
    console.wait_text("[data-test=context] [data-test=product-name]", "Puffin Trio 3-in-1").await;

    // The visitor moves to another product; the panel shows it through the conversation's socket.
    let new_url = format!("{SHOP}/product/orsa-360-isofix/");
    console
        .browser
        .eval(
            "window.__movedAt = null; const url = arguments[0];
             new MutationObserver((_, observer) => {
               const now = document.querySelector('[data-test=context] [data-test=page-url]');
               const names = [...document.querySelectorAll('[data-test=context] [data-test=product-name]')].map(e => e.textContent);
               if (now && now.textContent === url && names.includes('Orsa 360 Isofix')) { window.__movedAt = Date.now(); observer.disconnect(); }
             }).observe(document.body, { subtree: true, childList: true, characterData: true });
             return null;",
            vec![json!(new_url)],
        )
        .await;
    let started = now_ms();
    send_events(&worker, visitor, viewed(visitor, 2, "orsa-360-isofix", "Orsa 360 Isofix", now_ms())).await;
    let moved_at = console.wait("the panel to show the new product", "return window.__movedAt;").await.as_u64().expect("a time");
    let took = moved_at.saturating_sub(started);
    println!("live context: the operator's panel showed the new product {took} ms after the visitor's events were sent");
    assert!(took < 1000, "the panel took {took} ms");
    assert_eq!(console.text("[data-test=context] [data-test=pages-viewed]").await.as_deref(), Some("2"));
    // Pages read as their titles, the address under each.
    assert_eq!(console.text("[data-test=context] [data-test=page-title]").await.as_deref(), Some("Orsa 360 Isofix"));
    let recent = console
        .browser
        .eval("return [...document.querySelectorAll('[data-test=context] [data-test=recent-title]')].map(e => e.textContent);", vec![])
        .await;
    assert_eq!(recent, json!(["Puffin Trio 3-in-1", "Orsa 360 Isofix"]));

    // A reload reads the same (the conversation's row keeps the newest context). From now on the
    // page's sockets are within the test's reach, to drop them as a network would.
    console
        .browser
        .cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": "window.__fwSockets = []; const Native = window.WebSocket; \
                window.WebSocket = class extends Native { constructor(...a) { super(...a); window.__fwSockets.push(this); } };"}),
        )
        .await;
    console.browser.client.refresh().await.expect("reload");
    console.wait("the console", "return document.querySelector('[data-test=connection]')?.dataset.connected === 'true';").await;
    console.click(&format!("{row} button")).await;
    console.wait_text("[data-test=context] [data-test=page-url]", &new_url).await;
    shot(&console.browser, "live-context-desktop-en").await;

    // The operator's sockets drop; meanwhile the visitor writes and moves on. When the console is
    // back it has caught up: the message and the page it missed.
    console.wait("the conversation's socket", "return document.querySelector('[data-test=chat]')?.dataset.online === 'true';").await;
    let dropped = console.browser.eval("const open = window.__fwSockets.filter(ws => ws.readyState === 1); open.forEach(ws => ws.close()); return open.length;", vec![]).await;
    assert_eq!(dropped, json!(2), "the hub's socket and the conversation's");
    v.say("v-ctx-000002", "And the Lumi, is it in grey?").await;
    send_events(&worker, visitor, viewed(visitor, 3, "lumi-hug-fix", "Lumi Hug Fix", now_ms())).await;
    console.wait_text("[data-test=chat]", "And the Lumi, is it in grey?").await;
    console.wait_text("[data-test=context] [data-test=page-url]", &format!("{SHOP}/product/lumi-hug-fix/")).await;
    console.wait("both sockets back", "return window.__fwSockets.filter(ws => ws.readyState === 1).length === 2;").await;

    console.close().await;
}

#[tokio::test]
async fn one_operator_takes_a_conversation_and_the_other_sees_it_taken() {
    use floorwalker_e2e::chat::{start_conversation, visitor_session, ChatSocket};
    let worker = chat_worker("inbox-assign").await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    create_operator(&worker, "boris@demo.example", "Boris", PASSWORD).await;
    let anna = Console::open(&worker).await;
    anna.login("anna@demo.example", PASSWORD).await;
    anna.set_lang("en").await;
    let boris = Console::open(&worker).await;
    boris.login("boris@demo.example", PASSWORD).await;
    boris.set_lang("en").await;

    let session = visitor_session(&worker, SHOP, "visitor-assign-0001").await;
    let conv = start_conversation(&worker, SHOP, &session.token).await;
    let mut v = ChatSocket::visitor(&worker, SHOP, &conv, &session.token).await;
    v.hello(0).await;
    v.say("v-assign-000001", "Hello, anyone?").await;
    let row = format!("[data-test=conversation][data-conversation={conv}]");
    for console in [&anna, &boris] {
        console.wait_text(&format!("{row} [data-test=preview]"), "Hello, anyone?").await;
    }

    // Anna takes it: Boris's list says so.
    anna.click(&format!("{row} button")).await;
    anna.click("[data-test=chat] [data-test=take]").await;
    anna.wait_text("[data-test=chat] [data-test=assignee]", "Taken by Anna").await;
    boris.wait_text(&format!("{row} [data-test=assignee]"), "Anna").await;

    // Boris opens it and hands it to himself through the list of operators online.
    boris.click(&format!("{row} button")).await;
    boris.wait_text("[data-test=chat] [data-test=assignee]", "Taken by Anna").await;
    let boris_id = boris
        .wait("Boris among the operators", "return [...document.querySelectorAll('[data-test=reassign] option')].find(o => o.textContent === 'Boris')?.value || null;")
        .await;
    let boris_id = boris_id.as_str().expect("an id").to_owned();
    boris
        .browser
        .eval(
            "const s = document.querySelector('[data-test=reassign]'); s.value = arguments[0]; s.dispatchEvent(new Event('change', {bubbles: true})); return null;",
            vec![json!(boris_id)],
        )
        .await;
    anna.wait_text(&format!("{row} [data-test=assignee]"), "Boris").await;
    anna.wait_text("[data-test=chat] [data-test=assignee]", "Taken by Boris").await;

    // Only members of the site: anyone else is refused.
    let cookie = login(&worker, "anna@demo.example", PASSWORD).await;
    let path = format!("/v1/console/conversations/{conv}/assign");
    let (status, _) = console_post(&worker, Some(&cookie), &path, &json!({"operator_id": "acct-nobody-here"})).await;
    assert_eq!(status, 404);
    assert_eq!(console_post(&worker, None, &path, &json!({})).await.0, 401);
    anna.close().await;
    boris.close().await;
}
