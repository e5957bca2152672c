//! Issue 12's team flow in real browsers against the real worker: the owner invites someone from
//! the Team screen (by keyboard), the invitee opens the link in a browser of their own, chooses a
//! name and password and lands in the inbox; the owner disables them and their console returns
//! to the login form at once. The Team screen and the link page are checked with axe-core and
//! saved as screenshots, desktop and 360 px, English and Russian, under target/screens/team/.

use floorwalker_e2e::browser::Browser;
use floorwalker_e2e::chat::{chat_worker, create_operator, PASSWORD};
use floorwalker_e2e::console::keys::ENTER;
use floorwalker_e2e::console::{js, Console};
use floorwalker_e2e::worker::Worker;
use reqwest::Method;
use serde_json::json;

async fn add_owner(worker: &Worker, email: &str, name: &str) {
    let body = json!({"email": email, "name": name, "password": PASSWORD, "role": "owner"});
    let (status, answer) = worker.admin_send(Method::POST, "/sites/demo/operators", Some(body)).await;
    assert_eq!(status, 201, "{answer}");
}

/// The viewport as a PNG in target/screens/team/<name>.png (to be looked at), scrolled to `y`
/// (WebDriver's own screenshot: what the window shows).
async fn shot(browser: &Browser, name: &str, y: f64) {
    browser.eval(&format!("window.scrollTo(0, {y}); return null;"), vec![]).await;
    let png = browser.client.screenshot().await.expect("a screenshot");
    floorwalker_e2e::save_screen("team", name, &png);
}

/// Nothing sticks out sideways (a 360 px phone scrolls only down).
async fn fits_the_width(browser: &Browser, what: &str) {
    let widths = browser.eval("return [document.documentElement.scrollWidth, innerWidth];", vec![]).await;
    assert!(widths[0].as_f64() <= widths[1].as_f64(), "{what} is wider than the screen: {widths}");
}

/// Opens the Team screen from the navigation, by keyboard (focus the link, Enter).
async fn open_team(console: &Console) {
    console.wait("the navigation", "return !!document.querySelector('[data-test=nav-team]');").await;
    console.press("[data-test=nav-team]", ENTER).await;
    console.wait("the team screen", "return !!document.querySelector('[data-test=team]');").await;
}

fn member(email: &str) -> String {
    format!("[data-test=member][data-email={}]", js(email))
}

#[tokio::test]
async fn an_owner_invites_an_operator_who_joins_and_is_then_disabled() {
    let worker = chat_worker("cockpit-team").await;
    add_owner(&worker, "olga@demo.example", "Olga").await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;

    // The owner invites Ivan from the Team screen, by keyboard only.
    let owner = Console::open(&worker).await;
    owner.login("olga@demo.example", PASSWORD).await;
    owner.set_lang("en").await;
    open_team(&owner).await;
    owner.wait_text("[data-test=site]", "Кроха").await;
    owner.wait("the members", &format!("return !!document.querySelector({});", js(&member("anna@demo.example")))).await;
    owner.type_into("#invite-email", "ivan@demo.example").await;
    owner.press("#invite-email", ENTER).await;
    let url = owner.wait("the invite link", "const e = document.querySelector('[data-test=issued-url]'); return e && e.value;").await;
    let url = url.as_str().expect("the link").to_owned();
    assert!(url.starts_with(&format!("{}/console/#link=fwl_", worker.origin())), "{url}");
    owner.wait("the pending invitation", "return !!document.querySelector('[data-test=invite][data-pending=true]');").await;
    assert_eq!(owner.browser.axe_violations(&["[data-test=team]"]).await, json!([]), "axe-core on the Team screen (en)");
    shot(&owner.browser, "team-desktop-en", 0.0).await;
    owner.set_lang("ru").await;
    owner.wait_text("[data-test=team] h2", "Команда").await;
    assert_eq!(owner.browser.axe_violations(&["[data-test=team]"]).await, json!([]), "axe-core on the Team screen (ru)");
    shot(&owner.browser, "team-desktop-ru", 0.0).await;

    // Ivan opens the link in a browser of his own.
    let ivan = Console { browser: Browser::start().await };
    ivan.browser.client.goto(&url).await.expect("opening the invite link");
    ivan.set_lang("ru").await;
    ivan.wait_text("[data-test=link-lead]", "«Кроха»").await;
    assert_eq!(ivan.browser.axe_violations(&["main"]).await, json!([]), "axe-core on the link page (ru)");
    shot(&ivan.browser, "link-desktop-ru", 0.0).await;
    ivan.set_lang("en").await;
    ivan.wait_text("[data-test=link-lead]", "You are invited").await;
    ivan.wait_text("[data-test=link-lead]", "«Кроха»").await;
    assert_eq!(ivan.browser.axe_violations(&["main"]).await, json!([]), "axe-core on the link page (en)");
    shot(&ivan.browser, "link-desktop-en", 0.0).await;
    ivan.type_into("#link-name", "Ivan").await;
    ivan.type_into("#link-password", PASSWORD).await;
    ivan.press("#link-password", ENTER).await;
    ivan.wait("Ivan's inbox", "return document.querySelector('[data-test=connection]')?.dataset.connected === 'true';").await;
    assert_eq!(ivan.text("[data-test=operator-name]").await.as_deref(), Some("Ivan"));
    let hash = ivan.browser.eval("return location.hash;", vec![]).await;
    assert!(!hash.as_str().unwrap_or_default().contains("fwl_"), "the token left the address bar: {hash}");
    assert_eq!(ivan.text("[data-test=nav]").await, None, "an operator sees no owner screens");

    // The owner, back at the console's window (it gets the focus again), sees him without a
    // reload, and disables him: his console ends.
    owner.browser.eval("window.dispatchEvent(new FocusEvent('focus'));", vec![]).await;
    let ivan_row = member("ivan@demo.example");
    owner.wait("Ivan in the list", &format!("return document.querySelector({})?.dataset.status === 'active';", js(&ivan_row))).await;
    owner.press(&format!("{ivan_row} [data-test=member-toggle]"), ENTER).await;
    owner.wait("Ivan disabled", &format!("return document.querySelector({})?.dataset.status === 'disabled';", js(&ivan_row))).await;
    ivan.wait("Ivan's console to return to the login form", "return !!document.querySelector('[data-test=login]');").await;
    let (status, _) = worker.admin_send(Method::GET, "/sites/demo/operators", None).await;
    assert_eq!(status, 200);

    // The link cannot be used again, in a third browser.
    let again = Console { browser: Browser::start().await };
    again.browser.client.goto(&url).await.expect("opening the used link");
    again.wait("the refusal", "return !!document.querySelector('[data-test=link-refused]');").await;
    again.close().await;

    // The owner's own row cannot switch her off: she is the site's last owner.
    owner.press(&format!("{} [data-test=member-toggle]", member("olga@demo.example")), ENTER).await;
    owner.wait_text("[data-test=team-error]", "владелец").await;
    assert_eq!(owner.browser.eval(&format!("return document.querySelector({}).dataset.status;", js(&member("olga@demo.example"))), vec![]).await, "active");
    shot(&owner.browser, "team-desktop-ru-refused", 0.0).await;
    ivan.close().await;
    owner.close().await;

    // The same screen on a 360 px phone, in both languages.
    let phone = Console { browser: Browser::start_mobile().await };
    phone.browser.client.goto(&worker.url("/console")).await.expect("opening /console");
    phone.login("olga@demo.example", PASSWORD).await;
    for lang in ["en", "ru"] {
        phone.set_lang(lang).await;
        open_team(&phone).await;
        phone.wait("the members", &format!("return !!document.querySelector({});", js(&member("ivan@demo.example")))).await;
        fits_the_width(&phone.browser, "the Team screen").await;
        assert_eq!(phone.browser.axe_violations(&["[data-test=team]"]).await, json!([]), "axe-core on the phone ({lang})");
        let top = phone.browser.eval("return document.querySelector('[data-test=team]').getBoundingClientRect().top + scrollY;", vec![]).await;
        shot(&phone.browser, &format!("team-phone-{lang}"), top.as_f64().unwrap_or(0.0)).await;
        let members = phone.browser.eval("return document.querySelector('[data-test=members]').getBoundingClientRect().top + scrollY;", vec![]).await;
        shot(&phone.browser, &format!("team-phone-{lang}-members"), members.as_f64().unwrap_or(0.0)).await;
        phone.click("[data-test=nav-inbox]").await;
    }
    phone.close().await;

    // The link page on a phone.
    let (status, issued) = worker.admin_send(Method::POST, "/sites/demo/invites", Some(json!({"email": "petr@demo.example"}))).await;
    assert_eq!(status, 201, "{issued}");
    let phone = Console { browser: Browser::start_mobile().await };
    phone.browser.client.goto(&worker.url(issued["path"].as_str().expect("a path"))).await.expect("opening the link");
    for lang in ["en", "ru"] {
        phone.set_lang(lang).await;
        phone.wait("the form", "return !!document.querySelector('#link-name');").await;
        fits_the_width(&phone.browser, "the link page").await;
        assert_eq!(phone.browser.axe_violations(&["main"]).await, json!([]), "axe-core on the link page, phone ({lang})");
        shot(&phone.browser, &format!("link-phone-{lang}"), 0.0).await;
    }
    phone.close().await;
}
