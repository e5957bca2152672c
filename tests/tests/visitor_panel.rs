//! The visitor's chat panel as a visitor meets it, on a 1280×800 desktop and a 360×640 phone, in
//! Russian and in English, against the real worker: the offline form of a shop that is closed,
//! its thank-you, the chat with message times on the shop's clock (also in the operator's
//! console), the contact form after nobody answered, and its thank-you. In every state axe-core
//! finds nothing, the form's button is on screen without scrolling anything, and a screenshot
//! goes to `target/screens/visitor/`.

use std::time::Duration;

use floorwalker_core::base::locale::Locale;
use floorwalker_core::chat::panel::{callback_notice, copy};
use floorwalker_core::chat::protocol::{Author, MessageAction, ServerFrame};
use floorwalker_core::prompts::hours::BusinessHours;
use floorwalker_e2e::browser::{Browser, WIDGET_ROOT as SHADOW};
use floorwalker_e2e::chat::{create_operator, login, ChatSocket, ConsoleSocket, PASSWORD};
use floorwalker_e2e::console::{js, Console};
use floorwalker_e2e::worker::Worker;
use serde_json::{json, Value};

/// A zone far from UTC without daylight saving, so the expected wall clock is a fixed +10:00.
const ZONE: &str = "Asia/Vladivostok";
const ZONE_OFFSET_MINUTES: u64 = 600;

struct Device {
    name: &'static str,
    browser: Browser,
    width: u64,
    height: u64,
}

async fn devices() -> Vec<Device> {
    vec![
        Device { name: "desktop", browser: Browser::start_sized(1280, 800).await, width: 1280, height: 800 },
        Device { name: "phone", browser: Browser::start_mobile_sized(360, 640).await, width: 360, height: 640 },
    ]
}

fn page(locale: Locale) -> &'static str {
    match locale {
        Locale::Ru => "/product/puffin-trio-3in1/",
        Locale::En => "/en/product/puffin-trio-3in1/",
    }
}

fn tag(locale: Locale) -> &'static str {
    match locale {
        Locale::Ru => "ru",
        Locale::En => "en",
    }
}

/// Runs `script` with `root` bound to the widget's shadow root.
async fn eval(browser: &Browser, script: &str) -> Value {
    browser.eval(&format!("{SHADOW} {script}"), vec![]).await
}

/// Waits (up to `seconds`) until `script` (with `root`) returns something other than null/false;
/// on a timeout the panic shows the panel's markup.
async fn wait(browser: &Browser, what: &str, script: &str, seconds: u64) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        let value = browser.client.execute(&format!("{SHADOW} if (!root) return null; {script}"), vec![]).await.ok();
        if let Some(value) = value.filter(|v| !v.is_null() && *v != Value::Bool(false)) {
            return value;
        }
        if std::time::Instant::now() > deadline {
            let panel = browser.client.execute(&format!("{SHADOW} return root && root.querySelector('.panel').outerHTML;"), vec![]).await;
            panic!("timed out after {seconds}s waiting for {what}; the panel: {panel:?}");
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

async fn open_panel(device: &Device, url: &str) {
    let browser = &device.browser;
    browser.client.goto(url).await.unwrap_or_else(|e| panic!("opening {url}: {e}"));
    wait(browser, "the widget to mount", "return !!root.querySelector('button.launcher');", 20).await;
    let viewport = browser.eval("return [innerWidth, innerHeight];", vec![]).await;
    assert_eq!(viewport, json!([device.width, device.height]), "the {} viewport", device.name);
    eval(browser, "root.querySelector('button.launcher').click();").await;
    wait(browser, "the chat module in the open panel", "return !!root.querySelector('.panel:not([hidden]) .fwc');", 20).await;
}

async fn assert_accessible(device: &Device, state: &str) {
    // After the panel's entrance and any smooth scrolling.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let violations = device.browser.axe_violations(&["floorwalker-widget", ".panel"]).await;
    assert_eq!(violations, json!([]), "axe-core on the {} panel, {state}", device.name);
}

/// Whether `selector` (in the shadow root) is wholly inside the viewport and inside the panel, and
/// is what a tap on its middle would hit: on screen without scrolling the page or the panel, and
/// not covered by anything.
async fn assert_on_screen(device: &Device, selector: &str, state: &str) {
    let seen = eval(
        &device.browser,
        &format!(
            "const el = root.querySelector({sel});
             if (!el) return 'missing';
             const r = el.getBoundingClientRect(), p = root.querySelector('.panel').getBoundingClientRect();
             const inside = r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth
                 && r.top >= p.top && r.bottom <= p.bottom && r.height > 0;
             const hit = root.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
             return [inside, !!hit && (hit === el || el.contains(hit)), [r.top, r.bottom, p.top, p.bottom, innerHeight].map(Math.round)];",
            sel = js(selector)
        ),
    )
    .await;
    assert_eq!([&seen[0], &seen[1]], [&json!(true), &json!(true)], "{selector} on the {} screen, {state}: {seen}", device.name);
}

async fn screenshot(device: &Device, locale: Locale, state: &str) {
    tokio::time::sleep(Duration::from_millis(300)).await;
    let png = device.browser.client.screenshot().await.expect("a screenshot of the viewport");
    floorwalker_e2e::save_screen("visitor", &format!("{}-{}-{state}", device.name, tag(locale)), &png);
}

/// The visible text of the chat module's part of the panel.
async fn panel_text(browser: &Browser) -> String {
    eval(browser, "return root.querySelector('.fwc').innerText;").await.as_str().unwrap_or_default().to_owned()
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// `HH:MM` of `at_ms` on the shop's clock (UTC+10), worked out here independently of core.
fn shop_clock(at_ms: u64) -> String {
    let minutes = (at_ms / 60_000 + ZONE_OFFSET_MINUTES) % (24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Types `text` into a field and fires its `input` event.
async fn fill(browser: &Browser, selector: &str, text: &str) {
    eval(
        browser,
        &format!(
            "const el = root.querySelector({}); el.value = {}; el.dispatchEvent(new Event('input', {{ bubbles: true }}));",
            js(selector),
            js(text)
        ),
    )
    .await;
}

async fn conversation_id(browser: &Browser) -> String {
    let id = wait(browser, "the conversation id in storage", "const s = JSON.parse(localStorage.getItem('fw:demo:chat') || 'null'); return s && s.conversation_id;", 20).await;
    id.as_str().expect("a conversation id").to_owned()
}

async fn walk_through(locale: Locale) {
    let words = copy(locale);
    let worker = Worker::start(&format!("visitor-panel-{}", tag(locale))).await;
    let mut config = worker.demo_site_config(&[]);
    config.widget.prompts.clear();
    config.widget.timezone = ZONE.into();
    // Closed every day: with nobody online the panel says "we're closed", never "we answer here".
    config.widget.business_hours = BusinessHours::none();
    worker.put_site(&config).await;
    let url = worker.url(page(locale));
    let devices = devices().await;

    // 1. The shop is closed and nobody is online: the notice and the leave-a-message form.
    for device in &devices {
        let browser = &device.browser;
        open_panel(device, &url).await;
        let note = wait(browser, "the offline form", "return root.querySelector('#fwc-off-message') && root.querySelector('#fwc-offline').textContent;", 20).await;
        assert_eq!(note, Value::from(words.after_hours), "the {} panel says the shop is closed", device.name);
        let text = panel_text(browser).await;
        assert_eq!(count(&text, words.empty), 0, "no \"we answer here\" above \"we're closed\": {text}");
        assert_on_screen(device, "form.lead button[type=submit]", "offline form").await;
        assert_accessible(device, "offline form").await;
        screenshot(device, locale, "offline-form").await;
    }
    // A person needs a moment; the server refuses forms sent faster than 1.5 s.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    for device in &devices {
        let browser = &device.browser;
        fill(browser, "#fwc-off-message", "Есть ли серая в наличии? / Is the grey one in stock?").await;
        fill(browser, "#fwc-off-contact", &format!("{}@example.ru", device.name)).await;
        eval(browser, "root.querySelector('form.lead button[type=submit]').click();").await;
        wait(browser, "the offline thank-you", "const d = root.querySelector('.offline .done'); return d && d.textContent;", 20).await;
        let text = panel_text(browser).await;
        assert_eq!(count(&text, words.offline_done), 1, "the thank-you shows once on the {}: {text}", device.name);
        assert_accessible(device, "offline thank-you").await;
        screenshot(device, locale, "offline-thanks").await;
    }

    // 2. An operator comes online: the chat, with message times on the shop's clock.
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let cookie = login(&worker, "anna@demo.example", PASSWORD).await;
    let console_socket = ConsoleSocket::open(&worker, &cookie).await;
    let mut conversations = Vec::new();
    for device in &devices {
        let browser = &device.browser;
        open_panel(device, &url).await;
        wait(browser, "the composer", "return !!root.querySelector('#fwc-input');", 20).await;
        let text = panel_text(browser).await;
        assert_eq!(count(&text, words.empty), 1, "someone can answer: the greeting: {text}");
        let hint = eval(browser, "const h = root.querySelector('#fwc-hint'); return h && h.textContent;").await;
        let described = eval(browser, "return root.querySelector('#fwc-input').getAttribute('aria-describedby');").await;
        if device.name == "phone" {
            assert_eq!(hint, Value::Null, "no Shift+Enter hint on a touch screen");
            assert_eq!(described, Value::from("fwc-error"));
        } else {
            assert_eq!(hint, Value::from(words.hint), "the keyboard hint on a desktop");
            assert_eq!(described, Value::from("fwc-hint fwc-error"));
        }
        let question = format!("Вопрос с {} / A question from the {}", device.name, device.name);
        fill(browser, "#fwc-input", &question).await;
        eval(browser, "root.querySelector('#fwc-input').dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));").await;
        let conversation = conversation_id(browser).await;
        let mut operator = ChatSocket::operator(&worker, &conversation, &cookie).await;
        let welcome = operator.hello(0).await;
        let asked_at = match welcome.history.iter().find(|m| m.text == question) {
            Some(m) => m.at,
            None => {
                operator
                    .until("the visitor's question", |f| match f {
                        ServerFrame::Message(m) if m.text == question => Some(m.at),
                        _ => None,
                    })
                    .await
                    .0
            }
        };
        operator.say(&format!("op-{}-0000001", device.name), "Да, есть. / Yes, it is.").await;
        let (answered_at, _) = operator
            .until("the operator's answer", |f| match f {
                ServerFrame::Message(m) if matches!(m.author, Author::Operator { .. }) => Some(m.at),
                _ => None,
            })
            .await;
        wait(browser, "the answer in the panel", "return !!root.querySelector('.m.theirs time') && !root.querySelector('.pending');", 20).await;
        let times = eval(
            browser,
            "return [...root.querySelectorAll('.msgs li[data-seq]')].map(li => { const t = li.querySelector('time'); return [t.textContent, t.getAttribute('datetime')]; });",
        )
        .await;
        let expected: Vec<String> = [asked_at, answered_at].into_iter().map(shop_clock).collect();
        let shown = times.as_array().expect("times");
        assert_eq!(shown.len(), 2, "{times}");
        for (shown, expected) in shown.iter().zip(&expected) {
            assert_eq!(shown[0], Value::from(expected.as_str()), "the time on the shop's clock ({ZONE}), not UTC or the browser's: {times}");
            assert!(shown[1].as_str().is_some_and(|d| d.ends_with("+10:00")), "the moment with the shop's offset: {times}");
        }
        assert_accessible(device, "chat").await;
        screenshot(device, locale, "chat").await;
        conversations.push((conversation, operator, expected));
    }

    // The operator's console shows the same times, on the shop's clock too.
    let console = Console::open(&worker).await;
    console.login("anna@demo.example", PASSWORD).await;
    let (desktop_conversation, _, desktop_times) = &conversations[0];
    let row = format!("[data-test=conversation][data-conversation={desktop_conversation}] button");
    console.click(&row).await;
    let console_times = console
        .wait(
            "message times in the console",
            "const t = [...document.querySelectorAll('[data-test=message] [data-test=message-time]')]; return t.length >= 2 && t.map(e => [e.textContent, e.getAttribute('datetime')]);",
        )
        .await;
    for (shown, expected) in console_times.as_array().expect("times").iter().zip(desktop_times) {
        assert_eq!(shown[0], Value::from(expected.as_str()), "the console shows the shop's clock: {console_times}");
        assert!(shown[1].as_str().is_some_and(|d| d.ends_with("+10:00")), "{console_times}");
    }
    let png = console.browser.client.screenshot().await.expect("a screenshot of the console");
    floorwalker_e2e::save_screen("visitor", &format!("console-desktop-{}-conversation", tag(locale)), &png);
    console.close().await;

    // 3. The operator leaves; the visitor writes again and nobody can answer: the server offers a
    //    callback, the visitor chooses it, and the contact form takes the composer's place.
    drop(console_socket);
    for (device, (_, operator, _)) in devices.iter().zip(conversations.iter_mut()) {
        let browser = &device.browser;
        // The operator's presence is gone once the hub says so to the widget's next session; the
        // conversation learns it from the hub and its alarm offers the callback at once.
        fill(browser, "#fwc-input", "Алло? / Hello?").await;
        eval(browser, "root.querySelector('#fwc-input').dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));").await;
        operator
            .until("the callback offer", |f| match f {
                ServerFrame::Message(m) if m.action == Some(MessageAction::OfferCallback) => Some(()),
                _ => None,
            })
            .await;
        wait(browser, "the offer's button", "return !!root.querySelector('.m.sys button.secondary');", 30).await;
        eval(browser, "root.querySelector('.m.sys button.secondary').click();").await;
        wait(browser, "the contact form", "return !!root.querySelector('#fwc-offer-contact');", 10).await;
        let composer = eval(browser, "return !!root.querySelector('#fwc-input');").await;
        assert_eq!(composer, Value::Bool(false), "the contact form replaces the composer, never under it");
        wait(browser, "focus in the contact field", "return root.activeElement && root.activeElement.id === 'fwc-offer-contact';", 10).await;
        assert_on_screen(device, ".offer form.lead button[type=submit]", "contact form").await;
        assert_on_screen(device, "#fwc-offer-contact", "contact form").await;
        assert_accessible(device, "contact form").await;
        screenshot(device, locale, "contact-form").await;
    }
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let notice_start = callback_notice("", locale);
    for device in &devices {
        let browser = &device.browser;
        fill(browser, "#fwc-offer-contact", "+7 912 345-67-89").await;
        eval(browser, "root.querySelector('.offer form.lead button[type=submit]').click();").await;
        wait(
            browser,
            "the conversation's thank-you and the composer back",
            &format!(
                "return [...root.querySelectorAll('.m.sys .t')].some(t => t.textContent.startsWith({})) && !!root.querySelector('#fwc-input');",
                js(&notice_start)
            ),
            20,
        )
        .await;
        let text = panel_text(browser).await;
        assert_eq!(count(&text, &callback_notice("+79123456789", locale)), 1, "the thank-you shows once, in the page's language: {text}");
        assert_eq!(count(&text, words.contact_done), 0, "and no second one from the form: {text}");
        let offers = eval(browser, "return root.querySelectorAll('.m.sys button.secondary, form.lead').length;").await;
        assert_eq!(offers, Value::from(0), "the offer is answered: no button, no form");
        assert_accessible(device, "contact thank-you").await;
        screenshot(device, locale, "contact-thanks").await;
    }
    for device in devices {
        device.browser.close().await;
    }
}

#[tokio::test]
async fn the_panel_in_russian_fits_each_screen_is_accessible_and_keeps_the_shop_s_clock() {
    walk_through(Locale::Ru).await;
}

#[tokio::test]
async fn the_panel_in_english_fits_each_screen_is_accessible_and_keeps_the_shop_s_clock() {
    walk_through(Locale::En).await;
}
