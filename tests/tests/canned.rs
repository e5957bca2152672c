//! Issue 13's canned replies, against the real worker: the owner writes them on the Team screen
//! (by keyboard), an operator puts one into a live conversation with `/` and a few letters, and the
//! visitor receives it. The routes are attacked as a stranger and as an operator would, and bad
//! lists are refused at their field. The editor and the open list are checked with axe-core and
//! saved as screenshots under target/screens/canned/.

use floorwalker_core::chat::protocol::{Author, ServerFrame};
use floorwalker_e2e::browser::Browser;
use floorwalker_e2e::chat::{chat_worker, create_operator, login, start_conversation, visitor_session, ChatSocket, PASSWORD, SHOP};
use floorwalker_e2e::console::keys::{ARROW_DOWN, ENTER, ESCAPE};
use floorwalker_e2e::console::{js, Console};
use floorwalker_e2e::worker::Worker;
use reqwest::Method;
use serde_json::{json, Value};

const DELIVERY: &str = "Доставим завтра с 10 до 18; по Москве бесплатно.";
const RETURNS: &str = "Вернуть можно в течение 14 дней, чек не нужен.";

async fn shot(browser: &Browser, name: &str) {
    let png = browser.client.screenshot().await.expect("a screenshot");
    floorwalker_e2e::save_screen("canned", name, &png);
}

async fn add_owner(worker: &Worker) {
    let body = json!({"email": "olga@demo.example", "name": "Olga", "password": PASSWORD, "role": "owner"});
    let (status, answer) = worker.admin_send(Method::POST, "/sites/demo/operators", Some(body)).await;
    assert_eq!(status, 201, "{answer}");
}

/// `method` on `path` with `cookie` (and the worker's own Origin), status and JSON.
async fn call(worker: &Worker, method: Method, path: &str, cookie: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let mut request = worker.http().request(method, worker.url(path)).header("origin", worker.origin());
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_owner_writes_canned_replies_and_an_operator_sends_one_with_a_slash() {
    let worker = chat_worker("canned").await;
    add_owner(&worker).await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let admin = "/v1/admin/sites/demo/canned-replies";

    // Strangers and operators cannot write them; bad lists are refused at their field.
    let anna = login(&worker, "anna@demo.example", PASSWORD).await;
    let list = json!({"replies": [{"shortcut": "x", "text": "y"}]});
    assert_eq!(call(&worker, Method::PUT, admin, None, Some(list.clone())).await.0, 401, "no session");
    assert_eq!(call(&worker, Method::PUT, admin, Some(&anna), Some(list.clone())).await.0, 403, "an operator is not the owner");
    assert_eq!(call(&worker, Method::GET, "/v1/console/canned-replies", None, None).await.0, 401);
    let olga = login(&worker, "olga@demo.example", PASSWORD).await;
    for (body, field) in [
        (json!({"replies": [{"shortcut": "two words", "text": "y"}]}), "replies[0].shortcut"),
        (json!({"replies": [{"shortcut": "a", "text": "y"}, {"shortcut": "A", "text": "z"}]}), "replies[1].shortcut"),
        (json!({"replies": [{"shortcut": "a", "text": "   "}]}), "replies[0].text"),
    ] {
        let (status, answer) = call(&worker, Method::PUT, admin, Some(&olga), Some(body)).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"]["field"], field, "{answer}");
    }
    let (status, _) = call(&worker, Method::PUT, admin, Some(&olga), Some(json!({"replies": [], "extra": 1}))).await;
    assert_eq!(status, 400, "unknown fields are refused");
    let too_many: Vec<Value> = (0..51).map(|i| json!({"shortcut": format!("r{i}"), "text": "x"})).collect();
    assert_eq!(call(&worker, Method::PUT, admin, Some(&olga), Some(json!({"replies": too_many}))).await.0, 400);
    let (status, stored) = call(&worker, Method::GET, admin, Some(&olga), None).await;
    assert_eq!((status, stored), (200, json!({"replies": []})), "nothing refused was stored");
    // Another site's list is not this owner's.
    assert_eq!(call(&worker, Method::GET, "/v1/admin/sites/other/canned-replies", Some(&olga), None).await.0, 403);

    // The owner writes two replies on the Team screen, by keyboard.
    let owner = Console::open(&worker).await;
    owner.login("olga@demo.example", PASSWORD).await;
    owner.press("[data-test=nav-team]", ENTER).await;
    // Adding waits for the stored list: a row added before it arrives would be replaced by it.
    owner.wait("the canned replies' editor, loaded", "return document.querySelector('[data-test=canned-editor]')?.getAttribute('aria-busy') === 'false' && !document.querySelector('[data-test=canned-add]').disabled;").await;
    for (shortcut, text) in [("delivery", DELIVERY), ("returns", RETURNS)] {
        owner.press("[data-test=canned-add]", ENTER).await;
        owner.wait("the new row's focus", "return document.activeElement?.dataset.test === 'canned-shortcut' && document.activeElement.value === '';").await;
        owner.type_into("[data-test=canned-row]:last-of-type [data-test=canned-shortcut]", shortcut).await;
        owner.type_into("[data-test=canned-row]:last-of-type [data-test=canned-text]", text).await;
    }
    owner.press("[data-test=canned-save]", ENTER).await;
    owner.wait_text("[data-test=canned-notice]", "Saved").await;
    let (_, stored) = call(&worker, Method::GET, admin, Some(&olga), None).await;
    assert_eq!(stored["replies"][0], json!({"shortcut": "delivery", "text": DELIVERY}));
    assert_eq!(stored["replies"][1], json!({"shortcut": "returns", "text": RETURNS}));
    assert_eq!(owner.browser.axe_violations(&["[data-test=canned-editor]"]).await, json!([]), "axe-core on the editor");
    owner.browser.eval("document.querySelector('[data-test=canned-editor]').scrollIntoView();", vec![]).await;
    shot(&owner.browser, "editor-desktop").await;
    // A duplicate shortcut typed in the form is refused at its row, nothing changes.
    owner.press("[data-test=canned-add]", ENTER).await;
    owner.type_into("[data-test=canned-row]:last-of-type [data-test=canned-shortcut]", "Delivery").await;
    owner.type_into("[data-test=canned-row]:last-of-type [data-test=canned-text]", "again").await;
    owner.press("[data-test=canned-save]", ENTER).await;
    owner.wait("the refused row", "return !!document.querySelector('[data-test=canned-row]:last-of-type.refused');").await;
    let (_, unchanged) = call(&worker, Method::GET, admin, Some(&olga), None).await;
    assert_eq!(unchanged, stored);
    owner.close().await;

    // The editor on a 360 px phone, in both languages: nothing sideways, axe clean.
    let phone = Console { browser: Browser::start_mobile().await };
    phone.browser.client.goto(&worker.url("/console/")).await.expect("the console on a phone");
    phone.login("olga@demo.example", PASSWORD).await;
    phone.press("[data-test=nav-team]", ENTER).await;
    phone.wait("the editor's rows", "return document.querySelectorAll('[data-test=canned-row]').length === 2;").await;
    for lang in ["en", "ru"] {
        let current = phone.browser.eval("return document.documentElement.lang;", vec![]).await;
        if current.as_str() != Some(lang) {
            phone.click("[data-test=lang]").await;
            phone.wait("the language", &format!("return document.documentElement.lang === {};", js(lang))).await;
        }
        phone.browser.eval("document.querySelector('[data-test=canned-editor]').scrollIntoView();", vec![]).await;
        let widths = phone.browser.eval("return [document.documentElement.scrollWidth, innerWidth];", vec![]).await;
        assert!(widths[0].as_f64() <= widths[1].as_f64(), "the editor is wider than the phone ({lang}): {widths}");
        assert_eq!(phone.browser.axe_violations(&["[data-test=canned-editor]"]).await, json!([]), "axe-core at 360 px ({lang})");
        shot(&phone.browser, &format!("editor-phone-{lang}")).await;
    }
    phone.close().await;

    // A visitor writes; Anna answers with `/de` + Enter, which puts the reply in the box.
    let session = visitor_session(&worker, SHOP, "visitor-canned-01").await;
    let conv = start_conversation(&worker, SHOP, &session.token).await;
    let mut visitor = ChatSocket::visitor(&worker, SHOP, &conv, &session.token).await;
    visitor.hello(0).await;
    visitor.say("v-canned-000001", "Когда доставите?").await;
    let console = Console::open(&worker).await;
    console.login("anna@demo.example", PASSWORD).await;
    let row = format!("[data-test=conversation][data-conversation={conv}] button");
    console.click(&row).await;
    console.wait_text("[data-test=chat]", "Когда доставите?").await;
    console.type_into("[data-test=reply]", "/").await;
    console.wait("both replies listed", "return document.querySelectorAll('[data-test=canned-option]').length === 2;").await;
    assert_eq!(
        console.browser.eval("return document.querySelector('[data-test=reply]').getAttribute('aria-expanded');", vec![]).await,
        json!("true")
    );
    shot(&console.browser, "list-open").await;
    assert_eq!(console.browser.axe_violations(&["[data-test=chat]"]).await, json!([]), "axe-core with the list open");
    // Arrows move through the list and wrap; Escape closes it and keeps what was typed.
    console.press("[data-test=reply]", ARROW_DOWN).await;
    console.wait("the second highlighted", "return document.querySelectorAll('[data-test=canned-option]')[1].getAttribute('aria-selected') === 'true';").await;
    console.press("[data-test=reply]", ARROW_DOWN).await;
    console.wait("the first again", "return document.querySelectorAll('[data-test=canned-option]')[0].getAttribute('aria-selected') === 'true';").await;
    console.press("[data-test=reply]", ESCAPE).await;
    console.wait("the list to close", "return document.querySelector('[data-test=canned-list]').hidden;").await;
    assert_eq!(console.browser.eval("return document.querySelector('[data-test=reply]').value;", vec![]).await, json!("/"));
    // Typing searches again: "re" starts one shortcut only.
    console.type_into("[data-test=reply]", "re").await;
    console.wait("one match", "const o = [...document.querySelectorAll('[data-test=canned-option]')]; return o.length === 1 && o[0].dataset.shortcut === 'returns';").await;
    console.browser.eval("const e = document.querySelector('[data-test=reply]'); e.value = ''; e.dispatchEvent(new Event('input', {bubbles: true}));", vec![]).await;
    console.type_into("[data-test=reply]", "/de").await;
    console.wait("delivery first", "return document.querySelector('[data-test=canned-option]')?.dataset.shortcut === 'delivery';").await;
    console.press("[data-test=reply]", ENTER).await;
    console.wait("the reply in the box", &format!("return document.querySelector('[data-test=reply]').value === {};", js(DELIVERY))).await;
    // The first Enter chose; nothing was sent yet. The second sends.
    assert!(visitor.try_next(std::time::Duration::from_millis(300)).await.is_none_or(|f| !matches!(f, ServerFrame::Message(_))));
    console.press("[data-test=reply]", ENTER).await;
    let (text, _) = visitor
        .until("the canned reply", |f| match f {
            ServerFrame::Message(m) if matches!(m.author, Author::Operator { .. }) => Some(m.text.clone()),
            _ => None,
        })
        .await;
    assert_eq!(text, DELIVERY);
    console.wait("the box to empty", "return document.querySelector('[data-test=reply]').value === '';").await;
    visitor.close().await;
    console.close().await;
}
