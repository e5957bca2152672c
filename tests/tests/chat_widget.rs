//! The visitor's chat panel end to end: the demo shop served by the real worker under
//! `wrangler dev`, the widget and its lazily loaded chat module in headless Chromium, and an
//! operator speaking core's protocol over a real WebSocket (the console's routes and cookie).

use std::time::Duration;

use floorwalker_core::chat::protocol::{Author, ClientFrame, ServerFrame, Side};
use floorwalker_core::leads::consent::ConsentPurpose;
use floorwalker_core::leads::lead::{Lead, LeadKind};
use floorwalker_e2e::browser::Browser;
use floorwalker_e2e::chat::{create_operator, login, ChatSocket, ConsoleSocket, PASSWORD};
use floorwalker_e2e::contrast::assert_contrast;
use floorwalker_e2e::worker::Worker;
use floorwalker_e2e::eventually;
use serde_json::Value;

const STROLLER: &str = "/product/puffin-trio-3in1/";
use floorwalker_e2e::browser::WIDGET_ROOT as SHADOW;

/// The demo site without prompts, so that nothing but the chat appears.
async fn shop(name: &str) -> Worker {
    let worker = Worker::start(name).await;
    let mut config = worker.demo_site_config(&[]);
    config.widget.prompts.clear();
    worker.put_site(&config).await;
    worker
}

/// An operator of the demo site, logged in and online (its console socket is open).
async fn operator_online(worker: &Worker) -> (String, ConsoleSocket) {
    create_operator(worker, "anna@demo.example", "Anna", PASSWORD).await;
    let cookie = login(worker, "anna@demo.example", PASSWORD).await;
    let console = ConsoleSocket::open(worker, &cookie).await;
    (cookie, console)
}

async fn open_page(browser: &Browser, url: &str) {
    browser.client.goto(url).await.unwrap_or_else(|e| panic!("opening {url}: {e}"));
    browser
        .wait_for("the widget to mount", &format!("{SHADOW} return !!root && !!root.querySelector('button.launcher');"))
        .await;
    // The widget's warnings, for the failure messages.
    browser
        .eval(
            "window.__warnings = [];
             const warn = console.warn;
             console.warn = function () { window.__warnings.push([...arguments].map(a => (a && a.stack) || String(a)).join(' ')); return warn.apply(this, arguments); };",
            vec![],
        )
        .await;
}

/// Waits until `script` (run with `root`, the widget's shadow root) returns something other than
/// null/false; on a timeout the panic shows the panel's markup.
async fn wait(browser: &Browser, what: &str, script: &str, seconds: u64) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        let value = browser.client.execute(&format!("{SHADOW} if (!root) return null; {script}"), vec![]).await.ok();
        if let Some(value) = value.filter(|v| !v.is_null() && *v != Value::Bool(false)) {
            return value;
        }
        if std::time::Instant::now() > deadline {
            let panel = browser.client.execute(&format!("{SHADOW} return root && root.querySelector('.panel').outerHTML;"), vec![]).await;
            let warnings = browser.client.execute("return window.__warnings;", vec![]).await;
            panic!("timed out after {seconds}s waiting for {what}; the panel: {panel:?}; console warnings: {warnings:?}");
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

async fn click_launcher(browser: &Browser) {
    browser.eval(&format!("{SHADOW} root.querySelector('button.launcher').click();"), vec![]).await;
}

/// Types `text` into the composer and presses Enter, as a visitor would.
async fn type_and_send(browser: &Browser, text: &str) {
    wait(browser, "the composer", "return !!root.querySelector('#fwc-input');", 20).await;
    browser
        .eval(
            &format!(
                "{SHADOW}
                 const input = root.querySelector('#fwc-input');
                 input.focus();
                 input.value = arguments[0];
                 input.dispatchEvent(new Event('input', {{ bubbles: true }}));
                 input.dispatchEvent(new KeyboardEvent('keydown', {{ key: 'Enter', bubbles: true, cancelable: true }}));"
            ),
            vec![Value::from(text)],
        )
        .await;
}

/// The texts of the panel's stored messages, in order.
const TEXTS: &str = "return [...root.querySelectorAll('.msgs li[data-seq] .t')].map(p => p.textContent);";

fn texts(value: &Value) -> Vec<String> {
    value.as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

async fn conversation_id(browser: &Browser) -> String {
    let id = wait(
        browser,
        "the conversation id in storage",
        "const s = JSON.parse(localStorage.getItem('fw:demo:chat') || 'null'); return s && s.conversation_id;",
        20,
    )
    .await;
    id.as_str().expect("a conversation id").to_owned()
}

/// Frames until a message with `text` arrives (it may already be in the welcome's history).
async fn operator_sees(socket: &mut ChatSocket, text: &str) -> u64 {
    let (seq, _) = socket
        .until(&format!("the visitor's {text:?}"), |frame| match frame {
            ServerFrame::Message(m) if m.text == text && m.author == Author::Visitor => Some(m.seq),
            _ => None,
        })
        .await;
    seq
}

#[tokio::test]
async fn a_visitor_chats_from_the_launcher_with_typing_seen_and_an_unread_badge() {
    let worker = shop("chat-widget-live").await;
    let (cookie, _console) = operator_online(&worker).await;
    let browser = Browser::start().await;
    open_page(&browser, &worker.url(STROLLER)).await;
    browser.wait_for_session("the product view in the session", "demo", |s| s["products"].as_array().is_some_and(|p| p.len() == 1)).await;

    click_launcher(&browser).await;
    // Someone is online: the composer, not the offline form; focus is in the message field.
    wait(&browser, "the composer to have focus", "return root.activeElement && root.activeElement.id === 'fwc-input';", 20).await;
    let offline = browser.eval(&format!("{SHADOW} return !!root.querySelector('#fwc-off-message');"), vec![]).await;
    assert_eq!(offline, Value::Bool(false), "an operator is online: no offline form");
    let label = browser.eval(&format!("{SHADOW} return root.querySelector('label[for=fwc-input]').textContent;"), vec![]).await;
    assert_eq!(label, Value::from("Ваше сообщение"), "a labelled field, in the page's language");

    type_and_send(&browser, "Здравствуйте! Есть ли эта коляска в сером цвете?").await;
    let conversation = conversation_id(&browser).await;
    let mut operator = ChatSocket::operator(&worker, &conversation, &cookie).await;
    let welcome = operator.hello(0).await;
    let first = match welcome.history.iter().find(|m| m.author == Author::Visitor) {
        Some(m) => m.seq,
        None => operator_sees(&mut operator, "Здравствуйте! Есть ли эта коляска в сером цвете?").await,
    };
    assert_eq!(first, 1);
    wait(&browser, "the message confirmed (no longer pending)", "return !root.querySelector('.pending') && root.querySelectorAll('.msgs li[data-seq]').length === 1;", 20).await;

    // The visitor types: the operator sees it.
    browser
        .eval(
            &format!(
                "{SHADOW} const input = root.querySelector('#fwc-input'); input.value = 'И ещё'; input.dispatchEvent(new Event('input', {{ bubbles: true }}));"
            ),
            vec![],
        )
        .await;
    operator
        .until("the visitor's typing", |f| matches!(f, ServerFrame::Typing { author: Author::Visitor, on: true }).then_some(()))
        .await;

    // The operator types, then answers; the answer is text, never markup.
    operator.send(&ClientFrame::Typing { on: true }).await;
    wait(&browser, "the operator's typing indicator", "return root.querySelector('.typing').textContent.includes('Anna');", 20).await;
    let reply = "<b>Да</b>, серая есть на складе.";
    operator.say("op-reply-00000001", reply).await;
    let shown = wait(&browser, "the reply in the panel", "const t = root.querySelector('.m.theirs .t'); return t && t.textContent;", 20).await;
    assert_eq!(shown, Value::from(reply));
    let markup = browser.eval(&format!("{SHADOW} return root.querySelectorAll('.msgs b').length;"), vec![]).await;
    assert_eq!(markup, Value::from(0), "message text is never parsed as HTML");
    let typing = browser.eval(&format!("{SHADOW} return root.querySelector('.typing').textContent;"), vec![]).await;
    assert_eq!(typing, Value::from(""), "the indicator goes when the answer arrives");
    // The panel is open and visible: the visitor's side reads the answer.
    operator
        .until("the visitor's read marker", |f| matches!(f, ServerFrame::Read { by: Side::Visitor, up_to_seq: 2 }).then_some(()))
        .await;

    // The answer means the operator read the question: "seen" under it.
    let seen = wait(&browser, "the seen mark", "const s = root.querySelector('li[data-seq=\"1\"] .seen'); return s && s.textContent;", 20).await;
    assert_eq!(seen, Value::from("Прочитано"));
    // A second question is not seen until the operator's `read` says so.
    type_and_send(&browser, "Спасибо! А доставка сколько?").await;
    operator_sees(&mut operator, "Спасибо! А доставка сколько?").await;
    wait(&browser, "the second question confirmed", "return !root.querySelector('.pending') && !!root.querySelector('li[data-seq=\"3\"]');", 20).await;
    let seen = browser.eval(&format!("{SHADOW} return [...root.querySelectorAll('.seen')].map(s => s.closest('li').dataset.seq);"), vec![]).await;
    assert_eq!(seen, serde_json::json!(["1"]), "one mark, on the newest message read");
    operator.send(&ClientFrame::Read { up_to_seq: 3 }).await;
    wait(&browser, "the seen mark to move", "const s = [...root.querySelectorAll('.seen')]; return s.length === 1 && s[0].closest('li').dataset.seq === '3';", 20).await;

    // Closed panel: a new answer shows as a badge on the launcher and in the title.
    let title = browser.eval("return document.title;", vec![]).await;
    browser.eval(&format!("{SHADOW} root.querySelector('.panel .close').click();"), vec![]).await;
    operator.say("op-reply-00000002", "Можем привезти завтра.").await;
    let badge = wait(&browser, "the unread badge", "const b = root.querySelector('.launcher .badge'); return b && !b.hidden && b.textContent;", 20).await;
    assert_eq!(badge, Value::from("1"));
    let notified = browser.eval("return document.title;", vec![]).await;
    assert_eq!(notified.as_str().map(|t| t.starts_with("(1) ")), Some(true), "{notified}");
    click_launcher(&browser).await;
    wait(&browser, "the badge to go", "return root.querySelector('.launcher .badge').hidden;", 20).await;
    assert_eq!(browser.eval("return document.title;", vec![]).await, title, "the page's title is back");
    operator
        .until("the read marker after reopening", |f| matches!(f, ServerFrame::Read { by: Side::Visitor, up_to_seq: 4 }).then_some(()))
        .await;

    // More than the log holds: it scrolls, and the newest message stays in sight.
    for part in 1..=12 {
        operator.say(&format!("op-more-{part:010}"), &format!("Подробности, часть {part}")).await;
    }
    wait(
        &browser,
        "the newest message in sight",
        "const log = root.querySelector('.log');
         const t = [...root.querySelectorAll('.m.theirs .t')].map(p => p.textContent);
         return t.includes('Подробности, часть 12') && log.scrollHeight > log.clientHeight
             && log.scrollTop + log.clientHeight >= log.scrollHeight - 2;",
        20,
    )
    .await;
    browser.close().await;
}

#[tokio::test]
async fn after_a_dropped_connection_and_a_reload_the_history_is_whole_and_nothing_is_doubled() {
    let mut worker = shop("chat-widget-reconnect").await;
    let (cookie, console) = operator_online(&worker).await;
    let browser = Browser::start().await;
    open_page(&browser, &worker.url(STROLLER)).await;
    click_launcher(&browser).await;
    type_and_send(&browser, "Первый вопрос").await;
    let conversation = conversation_id(&browser).await;
    let mut operator = ChatSocket::operator(&worker, &conversation, &cookie).await;
    if !operator.hello(0).await.history.iter().any(|m| m.text == "Первый вопрос") {
        operator_sees(&mut operator, "Первый вопрос").await;
    }
    operator.say("op-answer-00000001", "Первый ответ").await;
    wait(&browser, "the first answer shown", "return [...root.querySelectorAll('.m.theirs .t')].some(t => t.textContent === 'Первый ответ');", 20).await;

    // The worker goes away (a crash, a deploy): the panel says so, and a message written now waits.
    drop(console);
    operator.close().await;
    worker.stop();
    let notice = wait(&browser, "the reconnecting notice", "const l = root.querySelector('.fwc .link'); return l && l.textContent;", 30).await;
    assert!(notice.as_str().is_some_and(|t| t.contains("Переподключаемся")), "{notice}");
    type_and_send(&browser, "Написано без связи").await;
    wait(&browser, "the pending bubble", "return !!root.querySelector('.pending');", 10).await;

    // Back again; the operator answers before the visitor's widget has reconnected (its backoff).
    worker.restart().await;
    let _console = ConsoleSocket::open(&worker, &cookie).await;
    let mut operator = ChatSocket::operator(&worker, &conversation, &cookie).await;
    operator.hello(2).await;
    operator.say("op-meanwhile-000001", "Ответ, пока вас не было").await;
    let all = wait(
        &browser,
        "the reconnected panel with every message",
        "const t = [...root.querySelectorAll('.msgs li[data-seq] .t')].map(p => p.textContent);
         return !root.querySelector('.pending') && !root.querySelector('.fwc .link').textContent
             && t.includes('Написано без связи') && t.includes('Ответ, пока вас не было') && t;",
        90,
    )
    .await;
    assert_eq!(texts(&all).len(), 4, "{all}");

    // A reload: the same history from storage and the server, in order, each message once.
    browser.client.refresh().await.expect("reload");
    wait(&browser, "the widget after the reload", "return !!root.querySelector('button.launcher');", 20).await;
    click_launcher(&browser).await;
    wait(&browser, "the reconnected panel after the reload", "return root.querySelector('.fwc') && !root.querySelector('.fwc .link').textContent && !root.querySelector('.fwc .link').hidden;", 30).await;
    let after = texts(&browser.eval(&format!("{SHADOW} {TEXTS}"), vec![]).await);
    let mut fresh = ChatSocket::operator(&worker, &conversation, &cookie).await;
    let server: Vec<String> = fresh.hello(0).await.history.into_iter().map(|m| m.text).collect();
    assert_eq!(after, server, "the panel shows the server's history, in order");
    assert_eq!(after.len(), 4, "{after:?}");
    for text in ["Первый вопрос", "Первый ответ", "Написано без связи", "Ответ, пока вас не было"] {
        assert_eq!(after.iter().filter(|t| *t == text).count(), 1, "{text:?} exactly once in {after:?}");
    }
    browser.close().await;
}

#[tokio::test]
async fn with_nobody_online_the_panel_says_so_and_takes_a_message_as_a_lead() {
    let worker = shop("chat-widget-offline").await;
    let browser = Browser::start().await;
    open_page(&browser, &worker.url(STROLLER)).await;
    click_launcher(&browser).await;
    let note = wait(&browser, "the offline form", "return root.querySelector('#fwc-off-message') && root.querySelector('#fwc-offline').textContent;", 20).await;
    assert!(note.as_str().is_some_and(|t| t.contains("Оставьте сообщение")), "an honest notice: {note}");
    let composer = browser.eval(&format!("{SHADOW} return !!root.querySelector('#fwc-input');"), vec![]).await;
    assert_eq!(composer, Value::Bool(false), "no chat composer while nobody can answer");

    let fill = |contact: &'static str| {
        format!(
            "{SHADOW}
             const set = (id, value) => {{ const el = root.querySelector(id); el.value = value; el.dispatchEvent(new Event('input', {{ bubbles: true }})); }};
             set('#fwc-off-message', 'Есть ли серая в наличии?');
             set('#fwc-off-contact', '{contact}');
             root.querySelector('form.lead button[type=submit]').click();"
        )
    };
    browser.eval(&fill("not a contact"), vec![]).await;
    let invalid = wait(&browser, "the validation message", "return root.querySelector('#fwc-off-error').textContent || null;", 10).await;
    assert!(invalid.as_str().is_some_and(|t| !t.is_empty()), "{invalid}");
    // A person needs a moment; the server refuses forms sent faster than 1.5 s.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    browser.eval(&fill("anna@example.ru"), vec![]).await;
    let done = wait(&browser, "the confirmation", "const d = root.querySelector('.done'); return d && d.textContent;", 20).await;
    assert!(done.as_str().is_some_and(|t| t.contains("Спасибо")), "{done}");

    let leads: Vec<Lead> = worker.admin_get("/sites/demo/leads").await;
    assert_eq!(leads.len(), 1, "{leads:?}");
    let lead = &leads[0];
    assert_eq!(lead.kind, LeadKind::OfflineMessage);
    assert_eq!(lead.contact.email.as_deref(), Some("anna@example.ru"));
    assert_eq!(lead.contact.message.as_deref(), Some("Есть ли серая в наличии?"));
    assert_eq!(lead.consent.given.purpose, ConsentPurpose::OfflineMessage);
    assert!(lead.page_url.ends_with(STROLLER), "{}", lead.page_url);
    assert_eq!(lead.context.products.len(), 1, "the visitor's context goes with the message");
    browser.close().await;
}

#[tokio::test]
async fn the_chat_module_is_fetched_only_on_first_open_and_a_failed_load_stays_in_the_panel() {
    let worker = shop("chat-widget-lazy").await;
    let browser = Browser::start().await;
    open_page(&browser, &worker.url("/")).await;
    let fetched = "return performance.getEntriesByType('resource').filter(e => e.name.includes('/w/fw-chat-')).map(e => e.name);";
    let widget_loaded = browser
        .eval("return performance.getEntriesByType('resource').some(e => e.name.includes('/w/fw-widget-'));", vec![])
        .await;
    assert_eq!(widget_loaded, Value::Bool(true));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(browser.eval(fetched, vec![]).await, Value::Array(vec![]), "no chat code before the chat is opened");

    // A failing chat download: an honest message in the panel, nothing thrown into the page.
    browser
        .eval(
            "window.__errors = 0;
             window.addEventListener('error', () => window.__errors++);
             window.addEventListener('unhandledrejection', () => window.__errors++);
             window.__fetch = window.fetch;
             window.fetch = function (url) {
                 if (String(url).includes('/w/fw-chat-')) return Promise.reject(new TypeError('offline'));
                 return window.__fetch.apply(this, arguments);
             };
             floorwalker('open');",
            vec![],
        )
        .await;
    let alert = wait(&browser, "the load failure in the panel", "const a = root.querySelector('.panel .chat-state[role=alert]'); return a && !a.hidden && a.textContent;", 20).await;
    assert!(alert.as_str().is_some_and(|t| t.contains("недоступен")), "{alert}");
    assert_eq!(browser.eval("return window.__errors;", vec![]).await, Value::from(0), "nothing thrown into the host page");
    browser.eval("floorwalker('close'); window.fetch = window.__fetch;", vec![]).await;
    wait(&browser, "the panel to close", "return root.querySelector('.panel').hidden;", 10).await;

    // Opened again (by the page's own call): the chat loads and shows.
    browser.eval("floorwalker('open');", vec![]).await;
    wait(&browser, "the chat panel", "return !root.querySelector('.panel').hidden && !!root.querySelector('.fwc');", 20).await;
    // The chat is a chunk of the UI module (its wasm alone), fetched again after the failure.
    let files = browser.eval(fetched, vec![]).await;
    let files = texts(&files);
    assert!(!files.is_empty() && files.iter().all(|f| f.ends_with(".wasm")), "{files:?}");
    let ui = "return performance.getEntriesByType('resource').filter(e => e.name.includes('/w/fw-ui-')).length;";
    assert_eq!(browser.eval(ui, vec![]).await, Value::from(2), "the UI module's glue and wasm, once");
    assert_eq!(browser.eval("return window.__errors;", vec![]).await, Value::from(0));
    browser.close().await;
}

/// The two-browser scenario: a visitor in the widget on the demo shop and an operator in
/// the console, each in their own headless Chromium, with nothing in between but the real worker.
#[tokio::test]
async fn a_visitor_in_the_widget_and_an_operator_in_the_console_talk_both_ways() {
    use floorwalker_e2e::console::{js, Console};

    let worker = shop("chat-two-browsers").await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let console = Console::open(&worker).await;
    console.login("anna@demo.example", PASSWORD).await;
    console.wait_text("[data-test=presence]", "Online").await;

    // 1. The visitor views two products, then opens the chat and writes.
    let visitor = Browser::start().await;
    let mut viewed = Vec::new();
    for path in [STROLLER, "/product/orsa-360-isofix/"] {
        open_page(&visitor, &worker.url(path)).await;
        let name = visitor
            .eval("return JSON.parse(document.querySelector('script[type=\"application/ld+json\"]').textContent).name;", vec![])
            .await;
        viewed.push(name.as_str().expect("a product name").to_owned());
        visitor
            .wait_for_session("the product in the session", "demo", |s| s["products"].as_array().is_some_and(|p| p.len() == viewed.len()))
            .await;
    }
    click_launcher(&visitor).await;
    type_and_send(&visitor, "Здравствуйте! Какая из двух легче?").await;
    wait(&visitor, "the message confirmed", "return !root.querySelector('.pending') && root.querySelectorAll('.msgs li[data-seq]').length === 1;", 20).await;

    // 2. The operator sees the conversation appear, with those products in the visitor panel.
    let row = "[data-test=conversation]";
    console.wait_text(&format!("{row} [data-test=preview]"), "Какая из двух легче?").await;
    console.wait_text(&format!("{row} [data-test=unread]"), "1").await;
    console.click(&format!("{row} button")).await;
    console.wait_text("[data-test=chat]", "Здравствуйте! Какая из двух легче?").await;
    for name in &viewed {
        console
            .wait(
                &format!("{name} in the visitor panel"),
                &format!(
                    "return [...document.querySelectorAll('[data-test=context] [data-test=product-name]')].some(n => n.textContent === {});",
                    js(name)
                ),
            )
            .await;
    }
    // Opening it read the message: the visitor sees "seen" under their own.
    wait(&visitor, "the seen mark on the visitor's message", "const s = root.querySelector('li[data-seq=\"1\"] .seen'); return s && s.textContent;", 20).await;

    // 3 and 4. The operator types (the visitor sees it) and answers; the visitor reads it.
    console.type_into("[data-test=reply]", "Orsa легче на 2 кг.").await;
    wait(&visitor, "the operator typing", "return root.querySelector('.typing').textContent.includes('Anna');", 20).await;
    console.click("[data-test=send]").await;
    let answer = wait(&visitor, "the answer in the panel", "const t = root.querySelector('.m.theirs .t'); return t && t.textContent;", 20).await;
    assert_eq!(answer, "Orsa легче на 2 кг.");
    console.wait_text("[data-test=seen]", "Seen").await;

    // The visitor types back (the operator sees it), then writes.
    visitor
        .eval(
            &format!("{SHADOW} const input = root.querySelector('#fwc-input'); input.value = 'Спасибо'; input.dispatchEvent(new Event('input', {{ bubbles: true }}));"),
            vec![],
        )
        .await;
    console.wait_text("[data-test=typing]", "typing").await;
    type_and_send(&visitor, "Спасибо, беру Orsa").await;
    console.wait_text("[data-test=chat]", "Спасибо, беру Orsa").await;
    console.wait("the typing line to clear", "return (document.querySelector('[data-test=typing]')?.textContent || '') === '';").await;
    let texts = visitor.eval(&format!("{SHADOW} {TEXTS}"), vec![]).await;
    assert_eq!(
        texts,
        Value::from(vec!["Здравствуйте! Какая из двух легче?", "Orsa легче на 2 кг.", "Спасибо, беру Orsa"]),
        "the visitor's panel holds the whole conversation, in order, once"
    );
    visitor.close().await;
    console.close().await;
}

/// The "a visitor can ask for the transcript by email": from the panel, after a refused
/// address, to the local mailbox; the visitor's words arrive as text, never as markup.
#[tokio::test]
async fn a_visitor_asks_for_the_transcript_by_email_and_it_reaches_the_mailbox() {
    use floorwalker_core::outbound::email::StoredEmail;
    use floorwalker_e2e::eventually;

    let worker = shop("chat-widget-transcript").await;
    let (cookie, _console) = operator_online(&worker).await;
    let browser = Browser::start().await;
    open_page(&browser, &worker.url(STROLLER)).await;
    click_launcher(&browser).await;
    wait(&browser, "the composer", "return !!root.querySelector('#fwc-input');", 20).await;
    let none = browser.eval(&format!("{SHADOW} return !!root.querySelector('.transcript');"), vec![]).await;
    assert_eq!(none, Value::Bool(false), "nothing to send before the visitor has written");

    let asked = "Есть <b>серая</b> коляска?";
    type_and_send(&browser, asked).await;
    let conversation = conversation_id(&browser).await;
    let mut operator = ChatSocket::operator(&worker, &conversation, &cookie).await;
    if !operator.hello(0).await.history.iter().any(|m| m.text == asked) {
        operator_sees(&mut operator, asked).await;
    }
    let reply = "Да, серая есть & приедет завтра.";
    operator.say("op-transcript-00001", reply).await;
    wait(&browser, "the reply in the panel", "return !!root.querySelector('.m.theirs .t');", 20).await;

    // The action is a real button that says what it reveals; the field is labelled and focused.
    let action = wait(
        &browser,
        "the transcript action",
        "const b = root.querySelector('.transcript button.secondary'); return b && b.getAttribute('aria-expanded') === 'false' && b.textContent;",
        20,
    )
    .await;
    assert_eq!(action, Value::from("Прислать переписку на почту"));
    browser.eval(&format!("{SHADOW} root.querySelector('.transcript button.secondary').click();"), vec![]).await;
    wait(&browser, "the email field to have focus", "return root.activeElement && root.activeElement.id === 'fwc-tr-email';", 10).await;
    let words = browser
        .eval(
            &format!(
                "{SHADOW} return [root.querySelector('label[for=fwc-tr-email]').textContent, root.querySelector('#fwc-tr-purpose').textContent,
                   root.querySelector('.transcript button.secondary').getAttribute('aria-expanded')];"
            ),
            vec![],
        )
        .await;
    assert_eq!(words[0], "Ваша почта");
    assert!(words[1].as_str().is_some_and(|t| t.contains("только")), "the purpose next to the field: {words}");
    assert_eq!(words[2], "true");

    let send = |email: &str| {
        format!(
            "{SHADOW}
             const input = root.querySelector('#fwc-tr-email');
             input.value = {email:?};
             input.dispatchEvent(new Event('input', {{ bubbles: true }}));
             root.querySelector('#fwc-tr-form button[type=submit]').click();"
        )
    };
    // A broken address: core's check in the visitor's language, and nothing goes out.
    browser.eval(&send("anna@"), vec![]).await;
    let invalid = wait(&browser, "the validation message", "return root.querySelector('#fwc-tr-error').textContent || null;", 10).await;
    assert_eq!(invalid, Value::from("Проверьте адрес почты: например, name@example.ru"));
    let marked = browser.eval(&format!("{SHADOW} return root.querySelector('#fwc-tr-email').getAttribute('aria-invalid');"), vec![]).await;
    assert_eq!(marked, Value::from("true"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let requests = browser
        .eval("return performance.getEntriesByType('resource').filter(e => e.name.includes('/transcript')).length;", vec![])
        .await;
    assert_eq!(requests, Value::from(0), "an invalid address is not sent");

    browser.eval(&send(" Anna@Example.RU "), vec![]).await;
    let status = wait(&browser, "the sent status", "return root.querySelector('#fwc-tr-status[role=status]').textContent || null;", 20).await;
    assert_eq!(status, Value::from("Отправили на Anna@example.ru"));
    let after = browser
        .eval(
            &format!(
                "{SHADOW} return [root.querySelector('#fwc-tr-form').hidden, root.querySelector('#fwc-tr-error').textContent,
                   root.activeElement && root.activeElement.classList.contains('secondary')];"
            ),
            vec![],
        )
        .await;
    assert_eq!(after, serde_json::json!([true, "", true]), "the field closes and focus goes back to the action");

    let email = eventually("the transcript in the local mailbox", Duration::from_secs(30), || async {
        let emails: Vec<StoredEmail> = worker.admin_get("/mailbox").await;
        emails.into_iter().find(|e| e.message.to == "Anna@example.ru")
    })
    .await;
    assert_eq!(email.lead, conversation, "filed under the conversation");
    let message = &email.message;
    for text in [asked, reply] {
        assert!(message.text.contains(text), "{text:?} in {}", message.text);
    }
    assert!(message.html.contains("Есть &lt;b&gt;серая&lt;/b&gt; коляска?"), "{}", message.html);
    assert!(!message.html.contains("<b>серая"), "the visitor's text is never markup: {}", message.html);
    assert!(message.html.contains("Да, серая есть &amp; приедет завтра."), "{}", message.html);
    let leads: Vec<Lead> = worker.admin_get("/sites/demo/leads").await;
    assert!(leads.is_empty(), "the address is for this email only, no lead: {leads:?}");

    // Asked again for the same address with nothing new said: the server refuses (429) and the
    // panel says why, in the visitor's language, with the field still there to change.
    browser.eval(&format!("{SHADOW} root.querySelector('.transcript button.secondary').click();"), vec![]).await;
    wait(&browser, "the email field again", "return !root.querySelector('#fwc-tr-form').hidden;", 10).await;
    browser.eval(&send("anna@example.ru"), vec![]).await;
    let refused = wait(&browser, "the refusal in the panel", "return root.querySelector('#fwc-tr-error').textContent || null;", 20).await;
    let expected = floorwalker_core::leads::contact::message(floorwalker_core::base::error::ErrorCode::TranscriptAlreadySent, floorwalker_core::base::locale::Locale::Ru);
    assert_eq!(refused.as_str(), expected, "core's words for the refusal");
    let form = browser
        .eval(&format!("{SHADOW} return [root.querySelector('#fwc-tr-form').hidden, root.querySelector('#fwc-tr-status').textContent];"), vec![])
        .await;
    assert_eq!(form, serde_json::json!([false, ""]), "the form stays open; no 'sent' status");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let emails: Vec<StoredEmail> = worker.admin_get("/mailbox").await;
    assert_eq!(emails.len(), 1, "no second email");
    browser.close().await;
}

/// A phone (360 px, touch) on a site that asks for consent first: nothing is stored before the
/// visitor acts; opening the chat is acting; the panel fits the screen and the chat works.
#[tokio::test]
async fn on_a_phone_with_consent_required_the_chat_fits_and_storage_starts_with_the_visitor() {
    use floorwalker_core::prompts::config::ConsentMode;

    let worker = Worker::start("chat-widget-phone").await;
    let mut config = worker.demo_site_config(&[]);
    config.widget.prompts.clear();
    config.widget.consent = ConsentMode::Required;
    worker.put_site(&config).await;
    let (cookie, _console) = operator_online(&worker).await;
    let browser = Browser::start_mobile().await;
    open_page(&browser, &worker.url(STROLLER)).await;
    // Give the widget a few ticks to (not) store anything.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let stored = browser.eval("return Object.keys(localStorage).filter(k => k.startsWith('fw:'));", vec![]).await;
    assert_eq!(stored, Value::Array(vec![]), "nothing stored before the visitor acts");
    // Nor on the server: not one event of the visit reached D1 (the funnel counts none of it).
    let stored_events = || worker.d1_select("SELECT COUNT(*) AS n FROM events WHERE site = 'demo'")[0]["n"].as_u64();
    assert_eq!(stored_events(), Some(0), "no event stored before consent");

    click_launcher(&browser).await;
    wait(&browser, "the composer", "return !!root.querySelector('#fwc-input');", 20).await;
    let fits = browser
        .eval(
            &format!(
                "{SHADOW} const r = root.querySelector('.panel').getBoundingClientRect();
                 const i = root.querySelector('#fwc-input').getBoundingClientRect();
                 return [r.left >= 0, r.right <= innerWidth, r.width >= 280, i.width > 150, i.bottom <= innerHeight];"
            ),
            vec![],
        )
        .await;
    assert_eq!(fits, Value::from(vec![true; 5]), "the panel and its field fit a 360 px phone screen");

    type_and_send(&browser, "Пишу с телефона").await;
    let conversation = conversation_id(&browser).await;
    let mut operator = ChatSocket::operator(&worker, &conversation, &cookie).await;
    let welcome = operator.hello(0).await;
    if !welcome.history.iter().any(|m| m.text == "Пишу с телефона") {
        operator_sees(&mut operator, "Пишу с телефона").await;
    }
    let stored = browser.eval("return Object.keys(localStorage).filter(k => k.startsWith('fw:')).length;", vec![]).await;
    assert!(stored.as_u64().unwrap_or(0) > 0, "opening the chat gave consent: the session is stored now");
    eventually("the visit's events after consent", Duration::from_secs(30), || async { (stored_events() > Some(0)).then_some(()) }).await;
    browser.close().await;
}

/// Clicks an element of the widget's shadow root through WebDriver, as a person would: a trusted
/// click that gives the page user activation (a script's `el.click()` does not), which is what
/// browsers require before a page may start audio.
async fn real_click(browser: &Browser, css: &str) {
    use fantoccini::Locator;
    let host = browser.client.find(Locator::Css(floorwalker_e2e::browser::WIDGET_TAG)).await.expect("the widget's host element");
    let root = host.shadow_root().await.expect("its open shadow root");
    let element = root.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css} in the widget: {e}"));
    element.click().await.unwrap_or_else(|e| panic!("clicking {css}: {e}"));
}

/// How many reply tones the panel played (`performance.mark("floorwalker:sound")` each).
async fn tones(browser: &Browser) -> u64 {
    let script = format!("return performance.getEntriesByName({:?}, 'mark').length;", floorwalker_core::chat::panel::CHIME_MARK);
    browser.eval(&script, vec![]).await.as_u64().expect("a count")
}

/// The launcher's badge once it shows `count`.
async fn badge_shows(browser: &Browser, count: u64) {
    wait(
        browser,
        &format!("the unread badge to show {count}"),
        &format!("const b = root.querySelector('.launcher .badge'); return !!b && !b.hidden && b.textContent === '{count}';"),
        20,
    )
    .await;
}

/// The visitor opens the chat with a real click, writes, and the operator's socket joins.
async fn visitor_writes_and_operator_joins(worker: &Worker, browser: &Browser, cookie: &str, text: &str) -> ChatSocket {
    open_page(browser, &worker.url(STROLLER)).await;
    real_click(browser, "button.launcher").await;
    wait(browser, "the composer to have focus", "return root.activeElement && root.activeElement.id === 'fwc-input';", 20).await;
    type_and_send(browser, text).await;
    let conversation = conversation_id(browser).await;
    let mut operator = ChatSocket::operator(worker, &conversation, cookie).await;
    if !operator.hello(0).await.history.iter().any(|m| m.text == text) {
        operator_sees(&mut operator, text).await;
    }
    operator
}

/// `widget.chat_sound: true`: one quiet tone per burst of replies while the panel is closed,
/// none while the visitor is looking at the panel.
#[tokio::test]
async fn with_chat_sound_on_a_reply_to_a_closed_panel_plays_one_tone_per_burst() {
    use floorwalker_core::chat::panel::CHIME_MIN_INTERVAL_MS;

    let worker = Worker::start("chat-widget-sound").await;
    let mut config = worker.demo_site_config(&[]);
    config.widget.prompts.clear();
    config.widget.chat_sound = true;
    worker.put_site(&config).await;
    let (cookie, _console) = operator_online(&worker).await;
    let browser = Browser::start().await;
    let mut operator = visitor_writes_and_operator_joins(&worker, &browser, &cookie, "Есть ли доставка в Казань?").await;

    // The panel is open and visible: the answer is read, not rung.
    operator.say("op-sound-000000001", "Да, за два дня.").await;
    wait(&browser, "the answer in the open panel", "return [...root.querySelectorAll('.m.theirs .t')].some(t => t.textContent === 'Да, за два дня.');", 20).await;
    operator
        .until("the visitor's read marker", |f| matches!(f, ServerFrame::Read { by: Side::Visitor, up_to_seq: 2 }).then_some(()))
        .await;
    assert_eq!(tones(&browser).await, 0, "no tone while the visitor looks at the panel");

    // Closed: a burst of three replies is one tone.
    browser.eval(&format!("{SHADOW} root.querySelector('.panel .close').click();"), vec![]).await;
    wait(&browser, "the panel to close", "return root.querySelector('.panel').hidden;", 10).await;
    for (i, text) in ["Доставка бесплатная.", "Курьер позвонит заранее.", "Оплата при получении."].iter().enumerate() {
        operator.say(&format!("op-sound-burst-{i:04}"), text).await;
    }
    badge_shows(&browser, 3).await;
    assert_eq!(tones(&browser).await, 1, "one tone for the burst");

    // After the quiet interval, the next reply rings again.
    tokio::time::sleep(Duration::from_millis(CHIME_MIN_INTERVAL_MS + 300)).await;
    operator.say("op-sound-000000005", "Ещё вопросы?").await;
    badge_shows(&browser, 4).await;
    assert_eq!(tones(&browser).await, 2, "a later reply gets its own tone");

    // Reopened: reading is silent, and so is a reply the visitor sees arrive.
    real_click(&browser, "button.launcher").await;
    wait(&browser, "the badge to go", "return root.querySelector('.launcher .badge').hidden;", 20).await;
    tokio::time::sleep(Duration::from_millis(CHIME_MIN_INTERVAL_MS + 300)).await;
    operator.say("op-sound-000000006", "Хорошего дня!").await;
    wait(&browser, "the last answer in the open panel", "return [...root.querySelectorAll('.m.theirs .t')].some(t => t.textContent === 'Хорошего дня!');", 20).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(tones(&browser).await, 2, "no tone for a reply to the open panel");
    browser.close().await;
}

/// The default config: the same closed-panel reply shows the badge and the title, and is silent.
#[tokio::test]
async fn by_default_a_reply_to_a_closed_panel_makes_no_sound() {
    let worker = shop("chat-widget-silent").await;
    let (cookie, _console) = operator_online(&worker).await;
    let browser = Browser::start().await;
    let mut operator = visitor_writes_and_operator_joins(&worker, &browser, &cookie, "Здравствуйте!").await;
    browser.eval(&format!("{SHADOW} root.querySelector('.panel .close').click();"), vec![]).await;
    wait(&browser, "the panel to close", "return root.querySelector('.panel').hidden;", 10).await;
    operator.say("op-silent-00000001", "Добрый день! Чем помочь?").await;
    badge_shows(&browser, 1).await;
    let title = browser.eval("return document.title;", vec![]).await;
    assert!(title.as_str().is_some_and(|t| t.starts_with("(1) ")), "the title still says so: {title}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(tones(&browser).await, 0, "sound is off unless the site turns it on");
    browser.close().await;
}

const EN_STROLLER: &str = "/en/product/puffin-trio-3in1/";

fn always_open() -> floorwalker_core::prompts::hours::BusinessHours {
    use floorwalker_core::prompts::hours::{BusinessHours, OpeningHours};
    let day = Some(OpeningHours { open: 0, close: 24 * 60 });
    BusinessHours { mon: day, tue: day, wed: day, thu: day, fri: day, sat: day, sun: day }
}

/// Visible text of the chat module's part of the panel.
const PANEL_TEXT: &str = "return root.querySelector('.fwc').innerText;";

fn has_cyrillic(text: &str) -> bool {
    text.chars().any(|c| ('\u{0400}'..='\u{04ff}').contains(&c))
}

/// An English page (`<html lang="en">` on the demo shop's /en/ pages, which is how the widget picks
/// its language): the panel speaks core's English copy, offline and online, and nothing Russian.
#[tokio::test]
async fn on_an_english_page_the_panel_speaks_core_s_english_copy() {
    use floorwalker_core::base::locale::Locale;
    use floorwalker_core::chat::panel::{copy, ContactForm};

    let en = copy(Locale::En);
    let worker = Worker::start("chat-widget-english").await;
    let mut config = worker.demo_site_config(&[]);
    config.widget.prompts.clear();
    // Open around the clock, so the notice is "nobody online" whatever day the test runs.
    config.widget.business_hours = always_open();
    worker.put_site(&config).await;
    let browser = Browser::start().await;
    open_page(&browser, &worker.url(EN_STROLLER)).await;
    assert_eq!(browser.eval("return document.documentElement.lang;", vec![]).await, "en");
    click_launcher(&browser).await;

    // Nobody online: the honest notice and the leave-a-message form.
    wait(&browser, "the offline form", "return !!root.querySelector('#fwc-off-message');", 20).await;
    let offline = browser
        .eval(
            &format!(
                "{SHADOW} const t = s => root.querySelector(s).textContent;
                 return [t('#fwc-offline'), t('label[for=fwc-off-message]'), t('label[for=fwc-off-contact]'),
                         t('#fwc-off-consent'), t('form.lead button[type=submit]')];"
            ),
            vec![],
        )
        .await;
    let consent = ContactForm::OfflineMessage.consent(Locale::En).text;
    assert_eq!(
        offline,
        serde_json::json!([en.nobody_online, en.message_label, en.contact_label, consent, en.leave_message]),
        "the offline form in English"
    );
    let text = browser.eval(&format!("{SHADOW} {PANEL_TEXT}"), vec![]).await;
    assert!(!has_cyrillic(text.as_str().unwrap_or_default()), "no Russian in the offline panel: {text}");

    // An operator comes online; on the next page the chat itself, in English.
    let (cookie, _console) = operator_online(&worker).await;
    open_page(&browser, &worker.url(EN_STROLLER)).await;
    click_launcher(&browser).await;
    wait(&browser, "the composer", "return !!root.querySelector('#fwc-input');", 20).await;
    let composer = browser
        .eval(
            &format!(
                "{SHADOW} const t = s => root.querySelector(s).textContent;
                 return [t('label[for=fwc-input]'), root.querySelector('#fwc-input').placeholder, t('.composer button.send'),
                         t('#fwc-hint'), t('.msgs .m.sys'), root.querySelector('.log[role=log]').getAttribute('aria-label')];"
            ),
            vec![],
        )
        .await;
    assert_eq!(composer, serde_json::json!([en.input_label, en.placeholder, en.send, en.hint, en.empty, en.title]));

    type_and_send(&browser, "Is the grey one in stock?").await;
    let conversation = conversation_id(&browser).await;
    let mut operator = ChatSocket::operator(&worker, &conversation, &cookie).await;
    if !operator.hello(0).await.history.iter().any(|m| m.text == "Is the grey one in stock?") {
        operator_sees(&mut operator, "Is the grey one in stock?").await;
    }
    operator.send(&ClientFrame::Typing { on: true }).await;
    let typing = wait(&browser, "the typing line", "const t = root.querySelector('.typing').textContent; return t.length > 0 && t;", 20).await;
    assert_eq!(typing, Value::from(format!("Anna {}", en.typing)));
    operator.say("op-english-0000001", "Yes, it ships tomorrow.").await;
    let seen = wait(&browser, "the seen mark", "const s = root.querySelector('li[data-seq=\"1\"] .seen'); return s && s.textContent;", 20).await;
    assert_eq!(seen, Value::from(en.seen));
    let action = wait(&browser, "the transcript action", "const b = root.querySelector('.transcript button.secondary'); return b && b.textContent;", 20).await;
    assert_eq!(action, Value::from(en.transcript_action));
    let you = browser.eval(&format!("{SHADOW} return root.querySelector('.m.mine .who').textContent;"), vec![]).await;
    assert_eq!(you, Value::from(en.you));
    operator.send(&ClientFrame::Close).await;
    let closed = wait(&browser, "the closed notice", "const c = root.querySelector('.note.closed'); return c && c.textContent;", 20).await;
    assert_eq!(closed, Value::from(en.closed));
    // Everything the chat module shows, except what the two people wrote, is English.
    let text = browser.eval(&format!("{SHADOW} {PANEL_TEXT}"), vec![]).await;
    assert!(!has_cyrillic(text.as_str().unwrap_or_default()), "no Russian in the panel: {text}");
    browser.close().await;
}

/// The panel's text against its backgrounds, computed from the browser's own styles, for a light
/// and a dark brand colour: the header and buttons on the brand colour, the bubbles, the field,
/// the notices, offline and online.
#[tokio::test]
async fn the_panel_s_text_meets_wcag_aa_contrast_on_a_light_and_a_dark_brand() {
    for brand in ["#ffd400", "#1a237e"] {
        let worker = Worker::start(&format!("chat-widget-contrast-{}", &brand[1..])).await;
        let mut config = worker.demo_site_config(&[]);
        config.widget.prompts.clear();
        config.widget.theme.brand_color = brand.to_owned();
        worker.put_site(&config).await;
        let browser = Browser::start().await;
        open_page(&browser, &worker.url(EN_STROLLER)).await;
        click_launcher(&browser).await;
        wait(&browser, "the offline form", "return !!root.querySelector('#fwc-off-message');", 20).await;
        // A refused address, so the error line shows too.
        browser
            .eval(&format!("{SHADOW} root.querySelector('form.lead button[type=submit]').click();"), vec![])
            .await;
        wait(&browser, "the validation message", "return root.querySelector('#fwc-off-error').textContent || null;", 10).await;
        let offline = assert_contrast(
            &browser,
            brand,
            &[
                ("header", ".panel .head.brand strong", ""),
                ("close button", ".panel .head .close", ""),
                ("offline notice", "#fwc-offline", ""),
                ("form label", "label[for=fwc-off-message]", ""),
                ("message field", "#fwc-off-message", ""),
                ("contact field", "#fwc-off-contact", ""),
                ("consent", "#fwc-off-consent", ""),
                ("error", "#fwc-off-error", ""),
                ("leave-a-message button", "form.lead button[type=submit]", ""),
            ],
        )
        .await;
        assert_eq!(offline.len(), 9, "every offline element was measured: {offline:?}");

        let (cookie, _console) = operator_online(&worker).await;
        open_page(&browser, &worker.url(EN_STROLLER)).await;
        click_launcher(&browser).await;
        wait(&browser, "the composer", "return !!root.querySelector('#fwc-input');", 20).await;
        // The greeting shows only where someone can answer; measured after the panel's entrance
        // (a fade of 0.18 s), not halfway through it.
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let welcome = assert_contrast(&browser, brand, &[("welcome notice", ".msgs .m.sys", "")]).await;
        assert_eq!(welcome.len(), 1);
        type_and_send(&browser, "Hello, is the grey one in stock?").await;
        let conversation = conversation_id(&browser).await;
        let mut operator = ChatSocket::operator(&worker, &conversation, &cookie).await;
        if !operator.hello(0).await.history.iter().any(|m| m.text == "Hello, is the grey one in stock?") {
            operator_sees(&mut operator, "Hello, is the grey one in stock?").await;
        }
        operator.send(&ClientFrame::Typing { on: true }).await;
        wait(&browser, "the typing line", "return root.querySelector('.typing').textContent.length > 0;", 20).await;
        let typing = assert_contrast(&browser, brand, &[("typing line", ".typing", "")]).await;
        assert_eq!(typing.len(), 1);
        operator.say("op-contrast-000001", "Yes, it ships tomorrow.").await;
        wait(&browser, "the seen mark", "return !!root.querySelector('li[data-seq=\"1\"] .seen');", 20).await;
        let online = assert_contrast(
            &browser,
            brand,
            &[
                ("visitor's message (brand)", ".m.mine .t", ""),
                ("seen mark (brand)", ".m.mine .seen", ""),
                ("visitor's message time (brand)", ".m.mine time", ""),
                ("operator's message time", ".m.theirs time", ""),
                ("operator's message", ".m.theirs .t", ""),
                ("operator's name", ".m.theirs .who", ""),
                ("message field", "#fwc-input", ""),
                ("placeholder", "#fwc-input", "::placeholder"),
                ("send button (brand)", ".composer button.send", ""),
                ("hint", "#fwc-hint", ""),
                ("transcript action", ".transcript button.secondary", ""),
                ("link notice", ".fwc .link", ""),
            ],
        )
        .await;
        assert_eq!(online.len(), 12, "every chat element was measured: {online:?}");
        operator.send(&ClientFrame::Close).await;
        wait(&browser, "the closed notice", "return !!root.querySelector('.note.closed');", 20).await;
        let closed = assert_contrast(&browser, brand, &[("closed notice", ".note.closed", "")]).await;
        assert_eq!(closed.len(), 1);
        browser.close().await;
    }
}

/// Business hours are re-evaluated while the panel is open: a shop that closes a minute or two
/// from now (in UTC, its configured zone) turns "nobody online" into "we're closed" in the open
/// panel, without a reload, and keeps what the visitor was typing into the form.
#[tokio::test]
async fn an_open_panel_notices_closing_time_without_a_reload() {
    use floorwalker_core::base::locale::Locale;
    use floorwalker_core::chat::panel::copy;
    use floorwalker_core::prompts::hours::{BusinessHours, OpeningHours};

    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
    let minute = ((now / 60) % (24 * 60)) as u16;
    // 1970-01-01 was a Thursday.
    let weekday = (now / 86_400 + 4) % 7;
    let today = Some(OpeningHours { open: 0, close: (minute + 2).min(24 * 60) });
    let mut hours = BusinessHours::none();
    match weekday {
        0 => hours.sun = today,
        1 => hours.mon = today,
        2 => hours.tue = today,
        3 => hours.wed = today,
        4 => hours.thu = today,
        5 => hours.fri = today,
        _ => hours.sat = today,
    }
    let worker = Worker::start("chat-widget-hours").await;
    let mut config = worker.demo_site_config(&[]);
    config.widget.prompts.clear();
    config.widget.timezone = "UTC".into();
    config.widget.business_hours = hours;
    worker.put_site(&config).await;

    let en = copy(Locale::En);
    let browser = Browser::start().await;
    open_page(&browser, &worker.url(EN_STROLLER)).await;
    click_launcher(&browser).await;
    let note = wait(&browser, "the offline notice", "const n = root.querySelector('#fwc-offline'); return n && n.textContent;", 20).await;
    assert_eq!(note, Value::from(en.nobody_online), "open now, nobody online");
    browser
        .eval(
            &format!(
                "{SHADOW} window.__samePage = true;
                 const m = root.querySelector('#fwc-off-message');
                 m.__kept = true;
                 m.value = 'Do you deliver on Sundays?';
                 m.dispatchEvent(new Event('input', {{ bubbles: true }}));"
            ),
            vec![],
        )
        .await;
    let after = wait(
        &browser,
        "the closed notice after closing time",
        &format!("const n = root.querySelector('#fwc-offline'); return n && n.textContent === {:?} && n.textContent;", en.after_hours),
        150,
    )
    .await;
    assert_eq!(after, Value::from(en.after_hours));
    let kept = browser
        .eval(
            &format!("{SHADOW} const m = root.querySelector('#fwc-off-message'); return [window.__samePage === true, m.__kept === true, m.value];"),
            vec![],
        )
        .await;
    assert_eq!(kept, serde_json::json!([true, true, "Do you deliver on Sundays?"]), "same page, same form, the text kept");
    browser.close().await;
}

/// Once the operator closes the conversation, the panel asks how it was (1 to 5) without taking
/// focus; the visitor's click reaches the CRM as a signed `conversation.rated` with the
/// transcript, the operators' list shows the score, and the first rating stands. Another
/// visitor's token, a score outside 1-5 and an open conversation are refused.
#[tokio::test]
async fn a_closed_conversation_asks_for_a_rating_that_reaches_the_crm_with_the_transcript_once() {
    use floorwalker_core::chat::hub::HubNotification;
    use floorwalker_e2e::chat::{post_json, visitor_session};
    use floorwalker_e2e::eventually;
    use floorwalker_e2e::receiver::Receiver;
    use serde_json::json;

    let worker = shop("chat-widget-rating").await;
    worker.allow_private_endpoints().await;
    let receiver = Receiver::start();
    let endpoint = worker
        .add_endpoint(json!({"id": "crm", "url": receiver.url("/hooks/crm"), "preset": {"kind": "generic"}, "events": ["conversation.rated"]}))
        .await;
    receiver.set_secrets(vec![endpoint.secret]);
    let (cookie, mut console) = operator_online(&worker).await;
    let browser = Browser::start().await;
    let asked = "Есть серая коляска?";
    let mut operator = visitor_writes_and_operator_joins(&worker, &browser, &cookie, asked).await;
    operator.say("op-rate-000001", "Да, есть.").await;
    wait(&browser, "the reply in the panel", "return !!root.querySelector('.m.theirs .t');", 20).await;
    let stored = browser.eval("return JSON.parse(localStorage.getItem('fw:demo:chat'));", vec![]).await;
    let (conversation, token) = (stored["conversation_id"].as_str().expect("an id").to_owned(), stored["token"].as_str().expect("a token").to_owned());
    let origin = worker.origin();
    let rate = |token: String, score: Value| {
        let (worker, conversation, origin) = (&worker, conversation.clone(), origin.clone());
        async move {
            post_json(worker, &format!("/v1/chat/conversations/{conversation}/rating"), Some(&origin), &json!({"token": token, "score": score})).await
        }
    };
    let none = browser.eval(&format!("{SHADOW} return !!root.querySelector('.rating');"), vec![]).await;
    assert_eq!(none, Value::Bool(false), "nothing to rate while the conversation is open");
    let (status, answer) = rate(token.clone(), json!(5)).await;
    assert_eq!(status, 403, "not before the close: {answer}");

    operator.send(&ClientFrame::Close).await;
    let question = wait(&browser, "the rating question", "return root.querySelector('#fwc-rate-q')?.textContent || null;", 20).await;
    assert_eq!(question, Value::from("Как вам этот разговор?"));
    let shown = browser
        .eval(
            &format!(
                "{SHADOW} return [[...root.querySelectorAll('.rating .rate')].map(b => b.getAttribute('aria-label')),
                   !!(root.activeElement && root.activeElement.classList.contains('rate')), root.querySelector('#fwc-rate-scale').textContent];"
            ),
            vec![],
        )
        .await;
    assert_eq!(shown, json!([["1 из 5", "2 из 5", "3 из 5", "4 из 5", "5 из 5"], false, "1 — плохо, 5 — отлично"]), "asked, not grabbing focus");
    assert_eq!(browser.axe_violations(&["floorwalker-widget", ".panel"]).await, json!([]), "axe-core on the rating");
    floorwalker_e2e::save_screen("chat", "rating-desktop-ru", &browser.screenshot_of_page().await);

    // Refused: another visitor, a score outside 1-5, a score that is not a number.
    let stranger = visitor_session(&worker, &origin, "visitor-rate-other").await;
    assert_eq!(rate(stranger.token, json!(5)).await.0, 403, "another visitor's token");
    for bad in [json!(0), json!(6), json!("five"), json!(-1)] {
        let (status, answer) = rate(token.clone(), bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {answer}");
    }

    real_click(&browser, ".rate[data-score='4']").await;
    let thanks = wait(&browser, "the thanks", "return root.querySelector('.rating [role=status]').textContent || null;", 20).await;
    assert_eq!(thanks, Value::from("Спасибо за оценку!"));
    let buttons = browser
        .eval(&format!("{SHADOW} return [...root.querySelectorAll('.rating .rate')].map(b => [b.getAttribute('aria-pressed'), b.disabled]);"), vec![])
        .await;
    assert_eq!(buttons, json!([["false", true], ["false", true], ["false", true], ["true", false], ["false", true]]));
    browser
        .cdp("Emulation.setDeviceMetricsOverride", json!({"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": true}))
        .await;
    let fits = browser
        .eval(&format!("{SHADOW} const r = root.querySelector('.rating .rate-row').getBoundingClientRect(); return r.left >= 0 && r.right <= innerWidth;"), vec![])
        .await;
    assert_eq!(fits, Value::Bool(true), "the scores fit a 360 px phone");
    floorwalker_e2e::save_screen("chat", "rating-phone-ru", &browser.screenshot_of_page().await);

    // The CRM gets the score with the transcript, signed; the operators' list shows it.
    let rated = eventually("conversation.rated at the CRM", Duration::from_secs(30), || async {
        receiver.received_at("/hooks/crm").into_iter().find(|r| r.delivered() && r.json()["type"] == "conversation.rated")
    })
    .await;
    assert_eq!(rated.signature_valid, Some(true));
    let data = &rated.json()["data"];
    assert_eq!((data["conversation_id"].as_str(), data["rating"]["score"].as_u64()), (Some(conversation.as_str()), Some(4)));
    let texts: Vec<&str> = data["transcript"]["messages"].as_array().expect("messages").iter().filter_map(|m| m["text"].as_str()).collect();
    assert_eq!(texts, [asked, "Да, есть."]);
    console
        .until("the list's entry with the rating", |n| match n {
            HubNotification::ConversationUpdated { entry } if entry.conversation_id == conversation => entry.rating.filter(|s| *s == 4),
            _ => None,
        })
        .await;

    // The first rating stands: another score changes nothing and sends nothing.
    assert_eq!(rate(token.clone(), json!(1)).await.0, 200);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let events: Vec<u64> = receiver
        .received_at("/hooks/crm")
        .iter()
        .filter(|r| r.delivered())
        .filter_map(|r| r.json()["data"]["rating"]["score"].as_u64())
        .collect();
    assert_eq!(events, [4], "one conversation.rated, with the first score");
    // The owner's Results: the range's satisfaction.
    let funnel: Value = worker.admin_get("/sites/demo/funnel").await;
    assert_eq!(funnel["satisfaction"], json!({"ratings": 1, "sum": 4, "satisfied": 1}), "{funnel}");
    browser.close().await;
}

/// Picks a file for the file input `input` (a selector, inside the widget's shadow root when
/// `in_widget`) as a person's file dialog would: a picture drawn on a canvas (a real PNG) or
/// `bytes` as a PDF, then the input's `change`.
async fn pick_file(browser: &Browser, in_widget: bool, input: &str, name: &str, pdf: Option<&[u8]>) {
    let scope = if in_widget { SHADOW.to_owned() } else { "const root = document;".to_owned() };
    let script = format!(
        "{scope}
         const [name, pdf] = [arguments[0], arguments[1]];
         let file;
         if (pdf) {{
           file = new File([new Uint8Array(pdf)], name, {{ type: 'application/pdf' }});
         }} else {{
           const canvas = document.createElement('canvas');
           canvas.width = 320; canvas.height = 200;
           const g = canvas.getContext('2d');
           g.fillStyle = '#dfe7ef'; g.fillRect(0, 0, 320, 200);
           g.fillStyle = '#334'; g.fillRect(40, 120, 240, 30);
           g.beginPath(); g.arc(90, 160, 22, 0, 7); g.arc(230, 160, 22, 0, 7); g.fill();
           g.fillStyle = '#c22'; g.font = 'bold 28px sans-serif'; g.fillText('×', 150, 110);
           const bytes = Uint8Array.from(atob(canvas.toDataURL('image/png').split(',')[1]), c => c.charCodeAt(0));
           file = new File([bytes], name, {{ type: 'image/png' }});
         }}
         const input = root.querySelector({input:?});
         const picked = new DataTransfer();
         picked.items.add(file);
         input.files = picked.files;
         input.dispatchEvent(new Event('change', {{ bubbles: true }}));"
    );
    let pdf = pdf.map_or(Value::Null, |bytes| Value::from(bytes.to_vec()));
    browser.eval(&script, vec![Value::from(name), pdf]).await;
}

/// The "an attachment goes both ways", in the real UIs: the visitor's photo from the
/// panel's picker appears in the console as a picture, the operator's PDF from the console's
/// picker in the panel as a named download; both pictures load for their viewers; axe-core finds
/// nothing and the screens are kept (target/screens/chat/) at desktop and phone widths.
#[tokio::test]
async fn a_photo_from_the_panel_and_a_pdf_from_the_console_reach_the_other_side() {
    use floorwalker_e2e::console::{js, Console};
    use serde_json::json;

    let worker = shop("chat-widget-files").await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let console = Console::open(&worker).await;
    console.login("anna@demo.example", PASSWORD).await;
    console.wait_text("[data-test=presence]", "Online").await;

    let visitor = Browser::start().await;
    open_page(&visitor, &worker.url(STROLLER)).await;
    click_launcher(&visitor).await;
    wait(&visitor, "the composer", "return !!root.querySelector('#fwc-input');", 20).await;
    let before = visitor.eval(&format!("{SHADOW} return !!root.querySelector('#fwc-file');"), vec![]).await;
    assert_eq!(before, Value::Bool(false), "no picker before there is a conversation to send to");
    type_and_send(&visitor, "У коляски сломалось колесо, вот фото").await;
    wait(&visitor, "the picker", "return !!root.querySelector('#fwc-file');", 20).await;
    let label = visitor.eval(&format!("{SHADOW} return root.querySelector('label[for=fwc-file]').textContent;"), vec![]).await;
    assert_eq!(label, Value::from("+Прикрепить картинку или PDF"), "the picker is named for screen readers");

    // The visitor's photo: in their panel as a picture, in the console as one too.
    pick_file(&visitor, true, "#fwc-file", "колесо.png", None).await;
    let shown = wait(
        &visitor,
        "the photo in the panel",
        "const img = root.querySelector('.m.mine .file img'); return img && img.complete && img.naturalWidth > 0 ? [img.naturalWidth, img.alt, img.closest('.file').textContent] : null;",
        20,
    )
    .await;
    assert_eq!(shown[0], 320);
    assert_eq!(shown[1], "колесо.png");
    assert!(shown[2].as_str().unwrap_or_default().starts_with("колесо.png · "), "named and sized: {shown}");
    let row = "[data-test=conversation]";
    console.wait_text(&format!("{row} [data-test=preview]"), "колесо.png").await;
    console.click(&format!("{row} button")).await;
    let seen = console
        .wait(
            "the photo in the console",
            "const img = document.querySelector('[data-test=chat] [data-test=attachment] img'); return img && img.complete && img.naturalWidth > 0 ? img.naturalWidth : null;",
        )
        .await;
    assert_eq!(seen, 320, "the console loads the picture with the operator's session");

    // The operator's PDF: a download link in the panel, with its name and size.
    const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
    pick_file(&console.browser, false, "#attach-file", "Гарантия Puffin.pdf", Some(PDF)).await;
    let link = wait(
        &visitor,
        "the operator's PDF in the panel",
        "const a = root.querySelector('.m.theirs a.file'); return a ? [a.textContent, a.getAttribute('href')] : null;",
        20,
    )
    .await;
    assert_eq!(link[0], Value::from(format!("Гарантия Puffin.pdf · {} B", PDF.len())));
    let href = link[1].as_str().expect("a link").to_owned();
    let download = worker.http().get(&href).send().await.expect("following the link");
    assert_eq!(download.status().as_u16(), 200, "the visitor's link works on its own (an <a> sends no Origin)");
    assert_eq!(download.bytes().await.unwrap().as_ref(), PDF);
    console.wait_text("[data-test=chat]", "Гарантия Puffin.pdf").await;

    // Looked at: the console (en, ru) and the panel, desktop and phone, axe-clean.
    for (lang, anonymous) in [("en", "Visitor "), ("ru", "Посетитель ")] {
        console.set_lang(lang).await;
        let label = console.wait_text(&format!("{row} [data-test=label]"), anonymous).await;
        assert!(label.starts_with(anonymous), "a visitor without a contact is named in the operator's language: {label}");
        assert_eq!(console.browser.axe_violations(&[]).await, json!([]), "axe-core on the console with files ({lang})");
        floorwalker_e2e::save_screen("chat", &format!("files-console-desktop-{lang}"), &console.browser.screenshot_of_page().await);
    }
    assert_eq!(visitor.axe_violations(&["floorwalker-widget", ".panel"]).await, json!([]), "axe-core on the panel with files");
    floorwalker_e2e::save_screen("chat", "files-panel-desktop-ru", &visitor.screenshot_of_page().await);
    open_page(&visitor, &worker.url(EN_STROLLER)).await;
    click_launcher(&visitor).await;
    wait(&visitor, "the files again, in English", "return root.querySelectorAll('.m .file').length === 2 && root.querySelector('label[for=fwc-file]').textContent === '+Attach a picture or a PDF';", 20).await;
    floorwalker_e2e::save_screen("chat", "files-panel-desktop-en", &visitor.screenshot_of_page().await);
    visitor
        .cdp("Emulation.setDeviceMetricsOverride", json!({"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": true}))
        .await;
    const OUTSIDE_THE_PANEL: &str = "const panel = root.querySelector('.panel').getBoundingClientRect();
         if (panel.width > 360 || root.querySelectorAll('.m .file').length !== 2) return null;
         return [...root.querySelectorAll('.panel *')].filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && (r.right > panel.right + 0.5 || r.left < panel.left - 0.5); })
           .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().left) + '..' + Math.round(e.getBoundingClientRect().right) + ' of ' + Math.round(panel.left) + '..' + Math.round(panel.right));";
    let outside = wait(&visitor, "the panel laid out for the phone", OUTSIDE_THE_PANEL, 20).await;
    assert_eq!(outside, json!([]), "at 360 px the files, the picker and the send button stay inside the panel");
    floorwalker_e2e::save_screen("chat", "files-panel-phone-en", &visitor.screenshot_of(0.0, 0.0, 360.0, 740.0).await);
    // The Russian page opened on the phone from the start (its panel laid out as a phone's).
    open_page(&visitor, &worker.url(STROLLER)).await;
    click_launcher(&visitor).await;
    let outside = wait(&visitor, "the Russian panel on the phone", OUTSIDE_THE_PANEL, 20).await;
    assert_eq!(outside, json!([]), "at 360 px, in Russian too");
    assert_eq!(visitor.axe_violations(&["floorwalker-widget", ".panel"]).await, json!([]), "axe-core on the phone's panel with files");
    floorwalker_e2e::save_screen("chat", "files-panel-phone-ru", &visitor.screenshot_of(0.0, 0.0, 360.0, 740.0).await);

    let phone = Console { browser: Browser::start_mobile().await };
    phone.browser.client.goto(&worker.url("/console")).await.expect("opening /console");
    phone.login("anna@demo.example", PASSWORD).await;
    phone.set_lang("ru").await;
    phone.click(&format!("{row} button")).await;
    phone.wait("the files on the phone", "return document.querySelectorAll('[data-test=chat] [data-test=attachment]').length === 2;").await;
    let widths = phone.browser.eval("return [document.documentElement.scrollWidth, innerWidth];", vec![]).await;
    assert!(widths[0].as_f64() <= widths[1].as_f64(), "the console with files is wider than the phone: {widths}");
    let chat = phone.browser.eval(&format!("document.querySelector({}).scrollIntoView(); return null;", js("[data-test=chat]")), vec![]).await;
    assert_eq!(chat, Value::Null);
    assert_eq!(phone.browser.axe_violations(&[]).await, json!([]), "axe-core on the phone's console with files");
    floorwalker_e2e::save_screen("chat", "files-console-phone-ru", &phone.browser.screenshot_of_page().await);
    phone.close().await;
    visitor.close().await;
    console.close().await;
}
