//! The owner's "Email" screen end to end: the real worker under `wrangler dev` (local mailbox),
//! the built console in headless Chromium. The owner sets the shop's sender name, reply address,
//! logo and colour, sees the preview follow, sends a test of each kind, and the local mailbox
//! holds it at the owner's own address, from the shop, in the shop's colour. Strangers, operators
//! and the admin token are refused the owner's tests; bad settings are refused inline (400).
//!
//! Screenshots (desktop and 360 px, ru and en) go to `target/screens/email/`.

use std::time::Duration;

use floorwalker_core::outbound::email::branding::MailSettingsView;
use floorwalker_core::outbound::email::StoredEmail;
use floorwalker_e2e::browser::Browser;
use floorwalker_e2e::chat::{create_operator, login};
use floorwalker_e2e::console::{js, Console};
use floorwalker_e2e::worker::Worker;
use floorwalker_e2e::eventually;
use reqwest::Method;
use serde_json::{json, Value};

const PASSWORD: &str = "a long enough password";
const OWNER: &str = "olga@kroha.example";
const OPERATOR: &str = "anna@kroha.example";
const STRANGER: &str = "boris@elsewhere.example";
const COLOR: &str = "#2e7d32";
const LOGO: &str = "https://cdn.kroha.example/logo.png";
const SENDER: &str = "Кроха — детские товары";

async fn create_member(worker: &Worker, site: &str, email: &str, name: &str, role: &str) {
    let body = json!({"email": email, "name": name, "password": PASSWORD, "role": role});
    let (status, answer) = worker.admin_send(Method::POST, &format!("/sites/{site}/operators"), Some(body)).await;
    assert!(status == 200 || status == 201, "creating {email}: {status} {answer}");
}

/// The demo shop with an owner and an operator, and a second site owned by someone else.
async fn cockpit(name: &str) -> Worker {
    let worker = Worker::start(name).await;
    let demo = worker.seed_demo_site(&[]).await;
    let mut other = demo.clone();
    other.site = "elsewhere".into();
    other.name = "Elsewhere".into();
    other.origins = vec!["https://elsewhere.example".into()];
    worker.put_site(&other).await;
    create_member(&worker, "demo", OWNER, "Ольга", "owner").await;
    create_operator(&worker, OPERATOR, "Анна", PASSWORD).await;
    create_member(&worker, "elsewhere", STRANGER, "Boris", "owner").await;
    worker
}

/// `{method} /v1/admin/sites/demo/{rest}` as a console session (cookie, the console's origin).
async fn as_session(worker: &Worker, cookie: &str, method: Method, rest: &str, body: Option<Value>) -> (u16, Value, Option<String>) {
    let mut request =
        worker.http().request(method, worker.url(&format!("/v1/admin/sites/demo/{rest}"))).header("cookie", cookie).header("origin", worker.origin());
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("an admin request");
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, response.json().await.unwrap_or(Value::Null), retry_after)
}

async fn mailbox(worker: &Worker) -> Vec<StoredEmail> {
    worker.admin_get("/mailbox").await
}

#[tokio::test]
async fn only_the_owner_sets_the_shops_mail_and_bad_settings_are_refused_field_by_field() {
    let worker = cockpit("cockpit-email-api").await;
    let owner = login(&worker, OWNER, PASSWORD).await;
    let operator = login(&worker, OPERATOR, PASSWORD).await;
    let stranger = login(&worker, STRANGER, PASSWORD).await;

    // The defaults: the shop's name, never the platform's.
    let (status, view, _) = as_session(&worker, &owner, Method::GET, "email", None).await;
    assert_eq!(status, 200, "{view}");
    let view: MailSettingsView = serde_json::from_value(view).unwrap();
    assert!(view.from.starts_with("Кроха <"), "{}", view.from);
    assert!(!view.from.contains("Floorwalker"), "{}", view.from);
    assert_eq!(view.default_brand_color, "#e4572e");
    assert_eq!(view.test_to.as_deref(), Some(OWNER));

    // Bad values: 400 naming the field, nothing stored.
    for (body, field) in [
        (json!({"logo_url": "http://cdn.kroha.example/logo.png"}), "logo_url"),
        (json!({"logo_url": "javascript:alert(1)"}), "logo_url"),
        (json!({"brand_color": "red"}), "brand_color"),
        (json!({"reply_to": "not an address"}), "reply_to"),
        (json!({"sender_name": "Support <help@bank.example>"}), "sender_name"),
    ] {
        let (status, answer, _) = as_session(&worker, &owner, Method::PUT, "email", Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], "invalid_config");
        assert!(answer["error"]["message"].as_str().unwrap().starts_with(&format!("{field}: ")), "{answer}");
    }
    let (status, answer, _) = as_session(&worker, &owner, Method::PUT, "email", Some(json!({"colour": "#000000"}))).await;
    assert_eq!(status, 400, "an unknown field: {answer}");
    let (_, view, _) = as_session(&worker, &owner, Method::GET, "email", None).await;
    assert_eq!(view["settings"], json!({}), "nothing was stored");

    // A preview with a bad value is refused the same way; a good one renders the shop's colour.
    let (status, _, _) =
        as_session(&worker, &owner, Method::POST, "email/preview", Some(json!({"kind": "comparison", "locale": "ru", "settings": {"brand_color": "blue"}}))).await;
    assert_eq!(status, 400);
    let (status, preview, _) =
        as_session(&worker, &owner, Method::POST, "email/preview", Some(json!({"kind": "comparison", "locale": "en", "settings": {"brand_color": COLOR}}))).await;
    assert_eq!(status, 200, "{preview}");
    assert!(preview["html"].as_str().unwrap().contains(&format!("background:{COLOR}")));
    assert!(preview["subject"].as_str().unwrap().starts_with("[Test] Your comparison from Кроха"));

    // The operator and another site's owner are refused, for reading as for writing and testing.
    for cookie in [&operator, &stranger] {
        for (method, rest, body) in [
            (Method::GET, "email", None),
            (Method::PUT, "email", Some(json!({"brand_color": "#000000"}))),
            (Method::POST, "email/preview", Some(json!({"kind": "comparison", "locale": "ru"}))),
            (Method::POST, "email/test", Some(json!({"kind": "comparison"}))),
        ] {
            let (status, answer, _) = as_session(&worker, cookie, method.clone(), rest, body).await;
            assert_eq!(status, 403, "{method} {rest}: {answer}");
        }
    }
    // A change from another page riding the owner's cookie is refused (CSRF).
    let forged = worker
        .http()
        .put(worker.url("/v1/admin/sites/demo/email"))
        .header("cookie", &owner)
        .header("origin", "https://evil.example")
        .json(&json!({"brand_color": "#000000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    // The admin token has no address to send a test to; no request may name one.
    let (status, answer) = worker.admin_send(Method::POST, "/sites/demo/email/test", Some(json!({"kind": "comparison"}))).await;
    assert_eq!(status, 403, "{answer}");
    let (status, answer, _) =
        as_session(&worker, &owner, Method::POST, "email/test", Some(json!({"kind": "comparison", "to": "victim@example.com"}))).await;
    assert_eq!(status, 400, "{answer}");
    let (status, _, _) = as_session(&worker, &owner, Method::POST, "email/test", Some(json!({"kind": "newsletter"}))).await;
    assert_eq!(status, 400);
    assert!(mailbox(&worker).await.is_empty(), "nothing was sent");

    // Ten tests an hour, then 429 with Retry-After; every one went to the owner.
    for n in 0..10 {
        let kind = if n % 2 == 0 { "comparison" } else { "transcript" };
        let (status, answer, _) = as_session(&worker, &owner, Method::POST, "email/test", Some(json!({"kind": kind}))).await;
        assert_eq!(status, 202, "test {n}: {answer}");
        assert_eq!(answer["to"], OWNER);
    }
    let (status, answer, retry_after) = as_session(&worker, &owner, Method::POST, "email/test", Some(json!({"kind": "comparison"}))).await;
    assert_eq!(status, 429, "{answer}");
    assert!(retry_after.is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s > 0 && s <= 3600)));
    let sent = mailbox(&worker).await;
    assert_eq!(sent.len(), 10);
    assert!(sent.iter().all(|e| e.message.to == OWNER && e.lead.starts_with("test:")), "only to the owner");
}

/// Saves a PNG of the viewport (the form) and one scrolled to the preview.
async fn screenshots(browser: &Browser, name: &str) {
    browser.eval("window.scrollTo(0, 0); return null;", vec![]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    floorwalker_e2e::save_screen("email", &format!("{name}-form"), &browser.client.screenshot().await.expect("a screenshot"));
    browser.eval("document.querySelector('[data-test=email-preview]').scrollIntoView(); return null;", vec![]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    floorwalker_e2e::save_screen("email", &format!("{name}-preview"), &browser.client.screenshot().await.expect("a screenshot"));
}

async fn open_email_screen(console: &Console, worker: &Worker) {
    console.browser.client.goto(&worker.url("/console#email")).await.expect("opening the console");
    console.submit_login(OWNER, PASSWORD).await;
    console.wait("the email screen", "return !!document.querySelector('[data-test=email-form]') && document.querySelector('[data-test=email-from]').textContent.includes('<');").await;
}

/// Replaces a field's text with `text`, typed.
async fn retype(console: &Console, selector: &str, text: &str) {
    console.browser.eval(&format!("const e = document.querySelector({}); e.value = ''; e.dispatchEvent(new Event('input')); return null;", js(selector)), vec![]).await;
    console.type_into(selector, text).await;
}

#[tokio::test]
async fn the_owner_brands_the_mail_sees_the_preview_and_gets_a_test_of_each_kind() {
    let worker = cockpit("cockpit-email-ui").await;
    let console = Console::open(&worker).await;
    open_email_screen(&console, &worker).await;
    console.set_lang("ru").await;

    // A logo over http is refused under its field, in the owner's language, before anything is sent.
    retype(&console, "#logo-url", "http://cdn.kroha.example/logo.png").await;
    console.click("[data-test=email-save]").await;
    let error = console.wait_text("[data-test=error-logo_url]", "https://").await;
    assert!(error.starts_with("Логотип"), "{error}");
    console.set_lang("en").await;
    let error = console.wait_text("[data-test=error-logo_url]", "https://").await;
    assert!(error.starts_with("The logo"), "{error}");
    assert_eq!(console.text("[data-test=email-saved]").await.as_deref(), Some(""), "not saved");
    let invalid = console.browser.eval("return document.querySelector('#logo-url').getAttribute('aria-invalid');", vec![]).await;
    assert_eq!(invalid, "true");
    console.set_lang("ru").await;

    // The real values; the preview (a Russian email) follows the form before it is saved.
    console.click("[data-test=preview-lang-ru]").await;
    retype(&console, "#logo-url", LOGO).await;
    retype(&console, "#sender-name", SENDER).await;
    retype(&console, "#reply-to", "hello@kroha.example").await;
    retype(&console, "#brand-color", COLOR).await;
    retype(&console, "#alert-to", "team@kroha.example").await;
    console
        .wait(
            "the preview in the new colour",
            &format!("const f = document.querySelector('[data-test=preview-frame]'); return !!f && f.srcdoc.includes('background:{COLOR}');"),
        )
        .await;
    let subject = console.wait_text("[data-test=preview-subject]", "Кроха").await;
    assert!(subject.starts_with("[Тест] Сравнение товаров из магазина «Кроха»"), "{subject}");
    console.click("[data-test=email-save]").await;
    console.wait_text("[data-test=email-saved]", "Сохранено").await;
    let from = console.wait_text("[data-test=email-from]", SENDER).await;
    assert!(!from.contains("Floorwalker"), "{from}");
    // The team's new alert address waits for its link (a typo must not get visitors' words).
    let status = console.wait_text("[data-test=alert-status]", "team@kroha.example").await;
    assert!(status.starts_with("Ещё не подтверждено: мы отправили ссылку на team@kroha.example."), "{status}");
    console.wait("the resend button", "return !!document.querySelector('[data-test=alert-link-again]');").await;
    assert_eq!(console.browser.axe_violations(&[".email-screen"]).await, Value::Array(Vec::new()), "axe-core on the email screen (ru)");
    screenshots(&console.browser, "desktop-ru").await;

    // A test of each kind, to the owner's own address.
    console.click("[data-test=email-test-comparison]").await;
    console.wait_text("[data-test=email-test-result]", OWNER).await;
    console.click("[data-test=preview-kind-transcript]").await;
    console.wait("the transcript preview", "const f = document.querySelector('[data-test=preview-frame]'); return !!f && f.srcdoc.includes('data-seq');").await;
    console.click("[data-test=email-test-transcript]").await;
    console.wait_text("[data-test=email-test-result]", OWNER).await;

    let sent = eventually("two tests in the mailbox", Duration::from_secs(10), || async {
        let sent: Vec<StoredEmail> = mailbox(&worker).await.into_iter().filter(|e| e.lead != "alert-confirm").collect();
        (sent.len() >= 2).then_some(sent)
    })
    .await;
    assert_eq!(sent.len(), 2);
    for (kind, email) in [("test:transcript", &sent[0]), ("test:comparison", &sent[1])] {
        let m = &email.message;
        assert_eq!(email.lead, kind);
        assert_eq!(m.to, OWNER, "the owner's own address");
        assert!(m.from.contains(SENDER) && !m.from.contains("Floorwalker"), "{}", m.from);
        assert_eq!(m.reply_to.as_deref(), Some("hello@kroha.example"));
        assert!(m.subject.starts_with("[Тест] "), "{}", m.subject);
        assert!(m.html.contains(&format!("data-brand=\"{COLOR}\"")), "the band in the shop's colour");
        assert!(m.html.contains(&format!("<img src=\"{LOGO}\" alt=\"Кроха\"")), "the logo");
        assert!(m.text.contains("просто ответьте на это письмо"), "a reply is invited");
    }
    assert!(sent[1].message.html.contains("data-comparison=\"side-by-side\"") && sent[1].message.html.contains("data-differs=\"true\""));

    // English, and the screen at a phone's width.
    console.set_lang("en").await;
    console.click("[data-test=preview-kind-comparison]").await;
    console.click("[data-test=preview-lang-en]").await;
    console.wait_text("[data-test=preview-subject]", "Your comparison from").await;
    assert_eq!(console.browser.axe_violations(&[".email-screen"]).await, Value::Array(Vec::new()), "axe-core on the email screen (en)");
    screenshots(&console.browser, "desktop-en").await;
    console.close().await;

    // Whoever reads team@ follows the link: the screen says the alerts go there now.
    worker.confirm_alert_address("team@kroha.example").await;
    let phone = Console { browser: Browser::start_mobile().await };
    open_email_screen(&phone, &worker).await;
    for (lang, confirmed) in [("ru", "Подтверждено: оповещения приходят на team@kroha.example"), ("en", "Confirmed: alerts go to team@kroha.example")] {
        phone.set_lang(lang).await;
        phone.wait_text("[data-test=alert-status]", confirmed).await;
        phone.wait("the preview", "return !!document.querySelector('[data-test=preview-frame]');").await;
        let overflow = phone.browser.eval("return document.documentElement.scrollWidth - window.innerWidth;", vec![]).await;
        assert!(overflow.as_i64().is_some_and(|o| o <= 0), "no sideways scrolling at 360 px: {overflow}");
        assert_eq!(phone.browser.axe_violations(&[".email-screen"]).await, Value::Array(Vec::new()), "axe-core at 360 px ({lang})");
        screenshots(&phone.browser, &format!("phone-{lang}")).await;
    }
    phone.close().await;
}
