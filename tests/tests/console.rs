//! The operator console end to end: the real worker under `wrangler dev`, the built console at
//! `/console` in headless Chromium (one browser per operator, each with its own cookie jar), and
//! visitors speaking core's chat protocol over real WebSockets after real `/v1/events` batches.

use std::time::Duration;

use floorwalker_core::base::locale::Locale;
use floorwalker_core::base::money::{Currency, Money};
use floorwalker_core::chat::protocol::{Author, ClientFrame, ServerFrame, Side};
use floorwalker_core::leads::lead::LeadKind;
use floorwalker_e2e::chat::*;
use floorwalker_e2e::console::{js, now_ms, post_events, Console};
use floorwalker_e2e::worker::Worker;
use floorwalker_e2e::eventually;
use serde_json::{json, Value};

fn chat(id: &str) -> String {
    format!("[data-test=chat][data-conversation={id}]")
}

fn row(id: &str) -> String {
    format!("[data-test=conversation][data-conversation={id}]")
}

/// What the hub says about operators, as a visitor's widget learns it.
async fn operator_online(worker: &Worker, visitor: &str) -> bool {
    visitor_session(worker, SHOP, visitor).await.operator_online
}

/// A visitor who came from a Yandex campaign, looked at two products and stayed a while.
async fn browsing_visitor(worker: &Worker, visitor: &str) -> Vec<(String, Money)> {
    let at = now_ms() - 60_000;
    let products = vec![
        ("puffin-trio-3in1", "Puffin Trio 3-in-1", 4_299_000i64),
        ("orsa-360-isofix", "Orsa 360 Isofix", 2_499_000),
    ];
    let mut events = vec![json!({
        "id": format!("{visitor}-pv1"), "at": at, "type": "page_view",
        "url": format!("{SHOP}/?utm_source=yandex&utm_medium=cpc&utm_campaign=spring"), "title": "Кроха",
        "referrer": "https://ya.ru/"
    })];
    for (i, (id, name, minor)) in products.iter().enumerate() {
        let url = format!("{SHOP}/product/{id}/");
        let at = at + 10_000 * (i as u64 + 1);
        events.push(json!({"id": format!("{visitor}-pv{}", i + 2), "at": at, "type": "page_view", "url": url, "title": name}));
        events.push(json!({
            "id": format!("{visitor}-pr{}", i + 2), "at": at + 1, "type": "product_view",
            "product": {"id": id, "name": name, "price": {"minor": minor, "currency": "RUB"}, "url": url}
        }));
    }
    events.push(json!({"id": format!("{visitor}-at1"), "at": at + 40_000, "type": "active_time", "seconds": 95}));
    events.push(json!({"id": format!("{visitor}-ps1"), "at": at + 41_000, "type": "prompt_shown", "prompt": "compare_by_email"}));
    post_events(worker, SHOP, visitor, events).await;
    products.into_iter().map(|(_, name, minor)| (name.to_owned(), Money { minor, currency: Currency::RUB })).collect()
}

#[tokio::test]
async fn console_login_session_cookie_origin_checks_and_logout() {
    let worker = chat_worker("console-auth").await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;

    // Without a session the page shows the login form, and nothing of the console.
    let console = Console::open(&worker).await;
    console.wait("the login form", "return !!document.querySelector('[data-test=login]');").await;
    assert_eq!(console.text("[data-test=console]").await, None);

    // A wrong password is refused with a clear message, and no cookie is set.
    console.submit_login("anna@demo.example", "not the password").await;
    console.wait_text("[data-test=login-error]", "Wrong email or password").await;
    assert!(console.browser.client.get_all_cookies().await.expect("cookies").is_empty());

    // The API and both sockets refuse requests without a session (401)...
    let conv = {
        let visitor = visitor_session(&worker, SHOP, "visitor-auth-0001").await;
        start_conversation(&worker, SHOP, &visitor.token).await
    };
    for path in ["/v1/console/me", "/v1/console/callbacks", &format!("/v1/console/conversations/{conv}")] {
        let status = worker.http().get(worker.url(path)).send().await.expect("GET").status().as_u16();
        assert_eq!(status, 401, "{path} without a session");
    }
    let done = worker.http().post(worker.url(&format!("/v1/console/callbacks/{conv}/done"))).header("origin", worker.origin()).send().await.expect("POST");
    assert_eq!(done.status().as_u16(), 401);
    assert_eq!(refused_status(&ws_url(&worker, "/v1/console/ws"), Some(&worker.origin()), None).await, 401);
    assert_eq!(refused_status(&ws_url(&worker, &format!("/v1/console/conversations/{conv}/ws")), Some(&worker.origin()), None).await, 401);

    // ...a plain HTTP login gets an HttpOnly, Secure, SameSite=Strict, host-only cookie...
    let response = worker
        .http()
        .post(worker.url("/v1/console/login"))
        .header("origin", worker.origin())
        .json(&json!({"email": "anna@demo.example", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(response.status().as_u16(), 200);
    let set_cookie = response.headers().get("set-cookie").expect("a Set-Cookie header").to_str().expect("ASCII").to_owned();
    let attributes: Vec<String> = set_cookie.split(';').skip(1).map(|a| a.trim().to_ascii_lowercase()).collect();
    assert!(set_cookie.starts_with("__Host-fw_op="), "{set_cookie}");
    for wanted in ["httponly", "secure", "samesite=strict", "path=/"] {
        assert!(attributes.iter().any(|a| a == wanted), "{wanted} missing from {set_cookie}");
    }
    assert!(!attributes.iter().any(|a| a.starts_with("domain")), "a __Host- cookie has no Domain: {set_cookie}");
    let cookie = set_cookie.split(';').next().expect("name=value").to_owned();

    // ...and even with it, requests from another origin are refused (403).
    assert_eq!(refused_status(&ws_url(&worker, "/v1/console/ws"), Some("https://evil.example"), Some(&cookie)).await, 403);
    assert_eq!(refused_status(&ws_url(&worker, "/v1/console/ws"), None, Some(&cookie)).await, 403);
    assert_eq!(refused_status(&ws_url(&worker, &format!("/v1/console/conversations/{conv}/ws")), Some(SHOP), Some(&cookie)).await, 403);
    let foreign = |path: String| {
        worker.http().post(worker.url(&path)).header("origin", "https://evil.example").header("cookie", &cookie).json(&json!({})).send()
    };
    assert_eq!(foreign(format!("/v1/console/callbacks/{conv}/done")).await.expect("POST").status().as_u16(), 403);
    assert_eq!(foreign("/v1/console/logout".into()).await.expect("POST").status().as_u16(), 403);
    let login_elsewhere = worker
        .http()
        .post(worker.url("/v1/console/login"))
        .header("origin", "https://evil.example")
        .json(&json!({"email": "anna@demo.example", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(login_elsewhere.status().as_u16(), 403);

    // The browser logs in through the form: Chromium stores the cookie on http://127.0.0.1 (a
    // potentially trustworthy origin) with its attributes intact and sends it on the WebSocket
    // upgrade — the console only shows "connected" once the hub accepted the session.
    console.login("anna@demo.example", PASSWORD).await;
    console.wait_text("[data-test=operator-name]", "Anna").await;
    let cookies = console.browser.client.get_all_cookies().await.expect("cookies");
    let session = cookies.iter().find(|c| c.name() == "__Host-fw_op").unwrap_or_else(|| panic!("no session cookie in {cookies:?}"));
    assert_eq!(session.http_only(), Some(true), "{session:?}");
    assert_eq!(session.secure(), Some(true), "{session:?}");
    assert_eq!(format!("{:?}", session.same_site()), "Some(Strict)", "{session:?}");
    let script_sees = console.browser.eval("return document.cookie;", vec![]).await;
    assert!(!script_sees.as_str().unwrap_or_default().contains("fw_op"), "HttpOnly: scripts must not read it ({script_sees})");
    let browser_cookie = format!("__Host-fw_op={}", session.value());
    assert!(operator_online(&worker, "visitor-auth-0002").await, "the console's hub socket made Anna online");
    // A reload keeps the session.
    console.browser.client.refresh().await.expect("reload");
    console.wait("the console after a reload", "return document.querySelector('[data-test=connection]')?.dataset.connected === 'true';").await;

    // Logging out revokes the session on the server, not just in this browser.
    console.click("[data-test=logout]").await;
    console.wait("the login form after logout", "return !!document.querySelector('[data-test=login]');").await;
    let me = worker.http().get(worker.url("/v1/console/me")).header("cookie", &browser_cookie).send().await.expect("GET me");
    assert_eq!(me.status().as_u16(), 401, "the logged-out session no longer works");
    assert!(!console.browser.client.get_all_cookies().await.expect("cookies").iter().any(|c| c.name() == "__Host-fw_op"));
    eventually("Anna offline after logout", Duration::from_secs(10), || async {
        (!operator_online(&worker, "visitor-auth-0003").await).then_some(())
    })
    .await;
    console.browser.client.refresh().await.expect("reload");
    console.wait("the login form after a reload", "return !!document.querySelector('[data-test=login]');").await;
    // The API-level session is separate and still valid until it is logged out too.
    let me = worker.http().get(worker.url("/v1/console/me")).header("cookie", &cookie).send().await.expect("GET me");
    assert_eq!(me.status().as_u16(), 200);
    console.close().await;
}

/// Logging out and straight back in: the old inbox's socket closes after it is gone, and must not
/// send the new session back to the login form (it used to ask `/me` as the old session and
/// act on the 401).
#[tokio::test]
async fn logging_out_and_straight_back_in_keeps_the_new_session() {
    let worker = chat_worker("console-relogin").await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let console = Console::open(&worker).await;
    for round in 0..3 {
        // Out again before the hub's socket has even opened, as a quick hand does.
        console.submit_login("anna@demo.example", PASSWORD).await;
        console.click("[data-test=logout]").await;
        console.wait(&format!("the login form ({round})"), "return !!document.querySelector('[data-test=login] #email');").await;
    }
    console.submit_login("anna@demo.example", PASSWORD).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let state = console
        .browser
        .eval("return [!!document.querySelector('[data-test=login]'), document.querySelector('[data-test=connection]')?.dataset.connected ?? null];", vec![])
        .await;
    assert_eq!(state, json!([false, "true"]), "still in, connected, after the old sockets closed");
    console.close().await;
}

#[tokio::test]
async fn an_operator_answers_a_visitor_live_with_the_visitor_context_at_hand() {
    let worker = chat_worker("console-live").await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let console = Console::open(&worker).await;
    console.login("anna@demo.example", PASSWORD).await;

    // The presence toggle: away, then online again, as visitors see it.
    console.wait_text("[data-test=presence]", "Online").await;
    assert!(operator_online(&worker, "visitor-live-probe1").await);
    console.click("[data-test=presence-toggle]").await;
    console.wait_text("[data-test=presence]", "Away").await;
    eventually("Anna away for visitors", Duration::from_secs(10), || async {
        (!operator_online(&worker, "visitor-live-probe2").await).then_some(())
    })
    .await;
    console.click("[data-test=presence-toggle]").await;
    console.wait_text("[data-test=presence]", "Online").await;
    eventually("Anna online for visitors", Duration::from_secs(10), || async {
        operator_online(&worker, "visitor-live-probe3").await.then_some(())
    })
    .await;

    // A visitor who browsed first starts a conversation and writes.
    let visitor = "visitor-live-0001";
    let products = browsing_visitor(&worker, visitor).await;
    // They also asked for a callback through a prompt earlier: a real lead.
    let lead = floorwalker_e2e::leads::request(LeadKind::Callback, visitor, "live-lead-1", SHOP);
    let posted = floorwalker_e2e::leads::post(&worker, SHOP, &serde_json::to_string(&lead).expect("a lead")).await;
    assert_eq!(posted.status().as_u16(), 201, "lead: {}", posted.text().await.unwrap_or_default());
    let session = visitor_session(&worker, SHOP, visitor).await;
    assert!(session.operator_online);
    let conv = start_conversation(&worker, SHOP, &session.token).await;
    let mut v = ChatSocket::visitor(&worker, SHOP, &conv, &session.token).await;
    v.hello(0).await;
    v.say("v-live-000001", "Hello! Is the Puffin in stock?").await;
    v.say("v-live-000002", "And in grey?").await;

    // It appears in the list with its unread count, and an alert says so.
    console.wait_text(&format!("{} [data-test=unread]", row(&conv)), "2").await;
    console.wait_text(&format!("{} [data-test=preview]", row(&conv)), "And in grey?").await;
    console.wait_text("[data-test=alert]", "New conversation").await;
    console.wait("the tab title to count unread", "return document.title.startsWith('(2)');").await;

    // Opening it: the messages, and the visitor panel with products, prices and the source.
    console.click(&format!("{} button", row(&conv))).await;
    console.wait_text(&chat(&conv), "Hello! Is the Puffin in stock?").await;
    let locale = worker.demo_site_config(&[]).widget.default_locale;
    assert_eq!(locale, Locale::Ru);
    for (name, price) in &products {
        let listed = console
            .wait(
                &format!("{name} in the visitor panel"),
                &format!(
                    "return [...document.querySelectorAll('[data-test=context] [data-test=product]')].map(li => [li.querySelector('[data-test=product-name]').textContent, li.querySelector('[data-test=product-price]').textContent]).find(p => p[0] === {}) || null;",
                    js(name)
                ),
            )
            .await;
        assert_eq!(listed[1], Value::from(price.display(locale)), "{name}'s price");
    }
    console.wait_text("[data-test=context] [data-test=source]", "yandex / cpc / spring").await;
    console.wait_text("[data-test=context] [data-test=landing]", "utm_source=yandex").await;
    console.wait_text("[data-test=context] [data-test=active-time]", "1:35").await;
    // The prompt by its card's title in the operator's language, not by its id.
    let shown = console.wait_text("[data-test=context] [data-test=prompt][data-prompt=compare_by_email]", " — ").await;
    let comparison = floorwalker_core::prompts::playbooks::builtin_playbooks().into_iter().find(|p| p.id == "compare_by_email").expect("the comparison");
    assert!(
        [Locale::En, Locale::Ru].iter().any(|&l| shown.starts_with(&comparison.copy.get(l).title)) && !shown.contains("compare_by_email"),
        "{shown}"
    );
    let lead_line = console.wait_text("[data-test=context] [data-test=lead]", "+79161234567").await;
    // The kind in the operator's language (this console's is English), the visitor's words as given.
    let console_lang = console.browser.eval("return document.documentElement.lang;", vec![]).await;
    let operator_locale = if console_lang == "ru" { Locale::Ru } else { Locale::En };
    assert!(lead_line.contains(LeadKind::Callback.label(operator_locale)) && lead_line.contains("после 18:00"), "{lead_line}");
    assert_eq!(console.text("[data-test=context] [data-test=previous-conversation]").await, None, "a first conversation");
    // Reading it cleared the unread count.
    console.wait("the unread badge to go", &format!("return !document.querySelector('{} [data-test=unread]');", row(&conv))).await;
    v.until("the operator's read marker", |f| matches!(f, ServerFrame::Read { by: Side::Operator, up_to_seq: 2 }).then_some(())).await;

    // The operator types (the visitor sees it) and answers in the UI; the visitor receives it.
    console.type_into("[data-test=reply]", "Yes, in grey too.").await;
    v.until("the operator typing", |f| matches!(f, ServerFrame::Typing { author: Author::Operator { .. }, on: true }).then_some(())).await;
    console.click("[data-test=send]").await;
    let (answer, _) = v
        .until("the operator's answer", |f| match f {
            ServerFrame::Message(m) if matches!(m.author, Author::Operator { .. }) => Some(m.clone()),
            _ => None,
        })
        .await;
    assert_eq!(answer.text, "Yes, in grey too.");
    assert_eq!(answer.author, Author::Operator { name: "Anna".into() });
    console.wait_text(&format!("{} [data-test=message][data-author=operator]", chat(&conv)), "Yes, in grey too.").await;
    assert_eq!(console.text("[data-test=seen]").await, None, "not seen before the visitor read it");

    // The visitor's typing shows, and stops showing when they send.
    v.send(&ClientFrame::Typing { on: true }).await;
    console.wait_text("[data-test=typing]", "typing").await;
    // The visitor reads the answer: the operator's message shows as seen.
    v.send(&ClientFrame::Read { up_to_seq: answer.seq }).await;
    console.wait_text("[data-test=seen]", "Seen").await;
    v.say("v-live-000003", "Great, thanks!").await;
    console.wait_text(&chat(&conv), "Great, thanks!").await;
    console.wait("the typing line to clear", "return (document.querySelector('[data-test=typing]')?.textContent || '') === '';").await;

    // Closing: the visitor is told, the console shows it closed and stops offering a reply.
    console.click("[data-test=close]").await;
    v.until("closed", |f| matches!(f, ServerFrame::Closed { .. }).then_some(())).await;
    console.wait_text("[data-test=closed-label]", "Closed").await;
    console.wait("the reply box to be disabled", "return document.querySelector('[data-test=reply]').disabled;").await;
    console.wait(&format!("{} to be marked closed", row(&conv)), &format!("return !!document.querySelector('{} [data-test=closed]');", row(&conv))).await;
    v.close().await;

    // The visitor comes back: a new conversation, whose panel lists the closed one.
    let again = start_conversation(&worker, SHOP, &session.token).await;
    assert_ne!(again, conv);
    let mut v = ChatSocket::visitor(&worker, SHOP, &again, &session.token).await;
    v.hello(0).await;
    v.say("v-live-000004", "Me again").await;
    console.click(&format!("{} button", row(&again))).await;
    console.wait_text(&chat(&again), "Me again").await;
    console.wait_text("[data-test=context] [data-test=previous-conversation]", "closed").await;
    v.close().await;
    console.close().await;
}

#[tokio::test]
async fn two_operators_see_the_same_conversation_update_live() {
    let worker = chat_worker("console-two").await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    create_operator(&worker, "boris@demo.example", "Boris", PASSWORD).await;
    let anna = Console::open(&worker).await;
    anna.login("anna@demo.example", PASSWORD).await;
    let boris = Console::open(&worker).await;
    boris.login("boris@demo.example", PASSWORD).await;
    anna.wait_text("[data-test=operators-online]", "2 online").await;

    let visitor = "visitor-two-00001";
    browsing_visitor(&worker, visitor).await;
    let session = visitor_session(&worker, SHOP, visitor).await;
    let conv = start_conversation(&worker, SHOP, &session.token).await;
    let mut v = ChatSocket::visitor(&worker, SHOP, &conv, &session.token).await;
    v.hello(0).await;
    v.say("v-two-0000001", "Hi, anyone?").await;
    // Unread counts belong to the operators' side: both see 1 until one of them reads it.
    for console in [&anna, &boris] {
        console.wait_text(&format!("{} [data-test=unread]", row(&conv)), "1").await;
        console.wait_text("[data-test=alert]", "New conversation").await;
    }
    for console in [&anna, &boris] {
        console.click(&format!("{} button", row(&conv))).await;
        console.wait_text(&chat(&conv), "Hi, anyone?").await;
    }

    // The visitor writes: both open views show it.
    v.say("v-two-0000002", "Looking for a stroller").await;
    for console in [&anna, &boris] {
        console.wait_text(&chat(&conv), "Looking for a stroller").await;
    }
    // Anna answers: Boris sees her answer, under her name, live.
    anna.type_into("[data-test=reply]", "Hello, Anna here!").await;
    anna.click("[data-test=send]").await;
    let answered = boris
        .wait_text(&format!("{} [data-test=message][data-author=operator]", chat(&conv)), "Hello, Anna here!")
        .await;
    assert!(answered.contains("Anna"), "shown under Anna's name: {answered}");
    // Boris answers: Anna sees it; the visitor got both.
    boris.type_into("[data-test=reply]", "Boris too.").await;
    boris.click("[data-test=send]").await;
    anna.wait_text(&chat(&conv), "Boris too.").await;
    let mut heard = Vec::new();
    while heard.len() < 2 {
        let (text, _) = v
            .until("the operators' answers", |f| match f {
                ServerFrame::Message(m) if matches!(m.author, Author::Operator { .. }) => Some(m.text.clone()),
                _ => None,
            })
            .await;
        heard.push(text);
    }
    assert_eq!(heard, vec!["Hello, Anna here!", "Boris too."]);
    // The list row moves for both (preview of the last message).
    for console in [&anna, &boris] {
        console.wait_text(&format!("{} [data-test=preview]", row(&conv)), "Boris too.").await;
    }
    // One closes it: the other's view follows.
    boris.click("[data-test=close]").await;
    anna.wait_text("[data-test=closed-label]", "Closed").await;
    v.close().await;
    anna.close().await;
    boris.close().await;
}

#[tokio::test]
async fn callback_requests_queue_up_with_phone_and_time_and_leave_every_console_when_done() {
    let worker = chat_worker("console-callbacks").await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    create_operator(&worker, "boris@demo.example", "Boris", PASSWORD).await;
    let anna = Console::open(&worker).await;
    anna.login("anna@demo.example", PASSWORD).await;
    let boris = Console::open(&worker).await;
    boris.login("boris@demo.example", PASSWORD).await;
    anna.wait_text("[data-test=callbacks]", "None waiting").await;

    let visitor = "visitor-cb-000001";
    let session = visitor_session(&worker, SHOP, visitor).await;
    let conv = start_conversation(&worker, SHOP, &session.token).await;
    let (status, body) = post_json(
        &worker,
        &format!("/v1/chat/conversations/{conv}/callback"),
        Some(SHOP),
        &json!({"token": session.token, "phone": "8 (912) 345-67-89", "time_slot": "tomorrow after 18:00"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["contact"], "+79123456789");

    let item = format!("[data-test=callback][data-conversation={conv}]");
    for console in [&anna, &boris] {
        console.wait_text(&format!("{item} [data-test=callback-contact]"), "+79123456789").await;
        console.wait_text(&format!("{item} [data-test=callback-time]"), "tomorrow after 18:00").await;
        console.wait(&format!("{} flagged", row(&conv)), &format!("return !!document.querySelector('{} [data-test=callback-flag]');", row(&conv))).await;
    }
    anna.wait_text("[data-test=alert]", "Callback").await;
    // Opening the conversation from the queue shows the request in the visitor panel too.
    anna.click(&format!("{item} [data-test=callback-open]")).await;
    anna.wait_text("[data-test=context] [data-test=callback-state]", "tomorrow after 18:00").await;

    // Anna marks it done: it leaves her queue and Boris's, live.
    anna.click(&format!("{item} [data-test=callback-done]")).await;
    for console in [&anna, &boris] {
        console.wait(&format!("{item} to leave the queue"), &format!("return !document.querySelector('{item}');")).await;
        console.wait_text("[data-test=callbacks]", "None waiting").await;
    }
    let queue: Vec<Value> = worker.http().get(worker.url("/v1/console/callbacks")).header("cookie", login(&worker, "boris@demo.example", PASSWORD).await).send().await.expect("GET").json().await.expect("JSON");
    assert!(queue.is_empty(), "{queue:?}");
    anna.close().await;
    boris.close().await;
}

#[tokio::test]
async fn what_visitors_write_is_shown_as_text_never_as_markup() {
    let worker = chat_worker("console-escape").await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let console = Console::open(&worker).await;
    console.login("anna@demo.example", PASSWORD).await;

    const IMG: &str = "<img src=x onerror=\"window.__pwned='img'\">";
    const SCRIPT: &str = "<script>window.__pwned='script'</script>";
    let visitor = "visitor-xss-00001";
    let session = visitor_session(&worker, SHOP, visitor).await;
    // Visitor-provided context, as the widget sends it when the chat starts.
    let context = json!({
        "first_touch": {"utm_source": SCRIPT, "utm_medium": IMG, "landing_page": format!("{SHOP}/?q={IMG}"), "at": now_ms()},
        "pages_viewed": 1,
        "recent_pages": [format!("{SHOP}/{SCRIPT}")],
        "products": [{"product": {"id": "p-xss", "name": IMG, "price": {"minor": 100, "currency": "RUB"}}, "views": 1, "last_viewed_at": now_ms()}],
        "active_seconds": 5,
        "answers": [{"question": SCRIPT, "answer": IMG}],
        "returning": false,
        "locale": "ru",
        "page_url": format!("{SHOP}/{IMG}")
    });
    let (status, body) = post_json(&worker, "/v1/chat/conversations", Some(SHOP), &json!({"token": session.token, "context": context})).await;
    assert_eq!(status, 201, "{body}");
    let conv = body["conversation_id"].as_str().expect("an id").to_owned();
    let mut v = ChatSocket::visitor(&worker, SHOP, &conv, &session.token).await;
    v.hello(0).await;
    v.say("v-xss-0000001", IMG).await;
    v.say("v-xss-0000002", SCRIPT).await;

    console.wait_text(&format!("{} [data-test=preview]", row(&conv)), SCRIPT).await;
    console.click(&format!("{} button", row(&conv))).await;
    console.wait_text(&chat(&conv), SCRIPT).await;
    console.wait_text(&chat(&conv), IMG).await;
    console.wait_text("[data-test=context] [data-test=product-name]", IMG).await;
    console.wait_text("[data-test=context] [data-test=source]", SCRIPT).await;
    console.wait_text("[data-test=context] [data-test=answers]", SCRIPT).await;
    // Nothing was turned into an element, and nothing ran.
    let injected = console
        .browser
        .eval(
            "return { imgs: document.querySelectorAll('img').length,
                      scripts: [...document.querySelectorAll('script')].filter(s => s.type !== 'module').length,
                      pwned: window.__pwned || null };",
            vec![],
        )
        .await;
    assert_eq!(injected, json!({"imgs": 0, "scripts": 0, "pwned": null}));
    v.close().await;
    console.close().await;
}

/// Issue 11 item 8: a disabled operator's open console does not linger. The server closes its
/// socket, the page goes back to the login form (no reconnect loop), and no new conversation
/// reaches it; the visitor's widget learns nobody is online.
#[tokio::test]
async fn disabling_an_operator_ends_their_open_console_at_once() {
    let worker = chat_worker("console-revoked").await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let console = Console::open(&worker).await;
    console.login("anna@demo.example", PASSWORD).await;
    assert!(operator_online(&worker, "visitor-revoke-probe1").await);
    let members: Vec<Value> = worker.admin_get("/sites/demo/operators").await;
    let anna = members[0]["id"].as_str().expect("an id").to_owned();

    let (status, answer) = worker.admin_send(reqwest::Method::POST, &format!("/sites/demo/operators/{anna}/disable"), None).await;
    assert_eq!(status, 200, "{answer}");
    console.wait("the login form after being disabled", "return !!document.querySelector('[data-test=login]');").await;
    eventually("Anna offline once disabled", Duration::from_secs(10), || async {
        (!operator_online(&worker, "visitor-revoke-probe2").await).then_some(())
    })
    .await;
    let visitor = visitor_session(&worker, SHOP, "visitor-revoke-0001").await;
    start_conversation(&worker, SHOP, &visitor.token).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(console.text("[data-test=conversations]").await.is_none(), "the console is gone, not just disconnected");
    console.close().await;
}
