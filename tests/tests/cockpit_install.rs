//! Issue 12, "Install": the owner's Install screen end to end. The real worker under `wrangler
//! dev`; an owner created by `make owner` (the README's way); the console in headless Chromium; the
//! demo shop on an origin of its own carrying the tag the console copied. The shop is refused until
//! the owner allows its origin from the screen, then the widget loads there and the screen says so.
//! Unhappy paths: bad input gets core's reason next to the field, in the owner's language; an
//! operator has no Install section and the routes refuse them; strangers and other sites' owners are
//! refused; nothing a refusal touches changes the config. Screenshots (desktop and 360 px, ru and
//! en) go to target/screens/install/; axe-core finds no violation; the screen works by keyboard.

use std::time::Duration;

use floorwalker_core::base::locale::Locale;
use floorwalker_core::prompts::config::SiteConfig;
use floorwalker_core::prompts::install::OriginProblem;
use floorwalker_e2e::browser::{Browser, WIDGET_TAG};
use floorwalker_e2e::chat::{login, PASSWORD};
use floorwalker_e2e::console::{js, make_member, Console};
use floorwalker_e2e::shop::ShopServer;
use floorwalker_e2e::worker::Worker;
use floorwalker_e2e::eventually;
use serde_json::{json, Value};

const OWNER: &str = "olga@demo.example";
const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

fn origin_row(origin: &str) -> String {
    format!("[data-test=origin][data-origin=\"{origin}\"]")
}

fn refused_row(origin: &str) -> String {
    format!("[data-test=refused-origin][data-origin=\"{origin}\"]")
}

/// A worker with the demo site and its owner, created by `make owner`.
async fn owner_worker(name: &str) -> Worker {
    let worker = Worker::start(name).await;
    worker.seed_demo_site(&[]).await;
    let owner = make_member(&worker, "owner", "demo", OWNER, "Olga", PASSWORD);
    assert_eq!((owner["email"].as_str(), owner["role"].as_str()), (Some(OWNER), Some("owner")), "{owner}");
    worker
}

async fn open_install(console: &Console) {
    console.click("[data-test=nav-install]").await;
    console.wait("the Install screen with its tag", "return !!document.querySelector('[data-test=install] [data-test=tag]')?.value;").await;
}

/// Saves the whole page as target/screens/install/<name>.png (to be looked at).
async fn shot(browser: &Browser, name: &str) {
    // After the last change has been laid out and painted.
    tokio::time::sleep(Duration::from_millis(300)).await;
    floorwalker_e2e::save_screen("install", name, &browser.screenshot_of_page().await);
}

async fn assert_accessible(browser: &Browser, what: &str) {
    assert_eq!(browser.axe_violations(&[]).await, json!([]), "axe-core on {what}");
}

/// Presses Tab (at most `limit` times) until the focus is on `selector`; what the focus passed.
async fn tab_to(console: &Console, selector: &str, limit: usize) -> Vec<String> {
    let mut passed = Vec::new();
    for _ in 0..limit {
        let there = console.browser.eval(&format!("return document.activeElement.matches({});", js(selector)), vec![]).await;
        if there == Value::Bool(true) {
            return passed;
        }
        let focused = console.browser.client.active_element().await.expect("the focused element");
        focused.send_keys(TAB).await.expect("pressing Tab");
        let name = console.browser.eval("const e = document.activeElement; return e.dataset.test || e.id || e.tagName;", vec![]).await;
        passed.push(name.as_str().unwrap_or_default().to_owned());
    }
    panic!("Tab never reached {selector}; it passed {passed:?}");
}

async fn press(console: &Console, key: &str) {
    let focused = console.browser.client.active_element().await.expect("the focused element");
    focused.send_keys(key).await.expect("pressing a key");
}

/// The shop's page shows the widget (its host element with the shadow root it mounts into).
async fn widget_mounted(shop: &Browser) -> bool {
    shop.eval(&format!("return !!document.querySelector('{WIDGET_TAG}')?.shadowRoot;"), vec![]).await == Value::Bool(true)
}

/// The stored config without its origins: what an origin change must leave as it was.
fn without_origins(mut config: SiteConfig) -> SiteConfig {
    config.origins.clear();
    config
}

#[tokio::test]
async fn an_owner_copies_the_tag_sees_the_refusal_allows_the_origin_and_sees_the_widget_load() {
    let worker = owner_worker("cockpit-install").await;
    let before: SiteConfig = worker.admin_get("/sites/demo").await;

    let console = Console::open(&worker).await;
    console.set_lang("en").await;
    console.login(OWNER, PASSWORD).await;
    open_install(&console).await;
    console.wait("the hash to name the section", "return location.hash === '#install';").await;

    // The tag names this worker and the site.
    let tag = console.wait("the tag", "return document.querySelector('[data-test=tag]').value || null;").await;
    let tag = tag.as_str().expect("text").to_owned();
    assert_eq!(tag, format!(r#"<script async src="{}/fw.js" data-site="demo"></script>"#, worker.origin()));

    // Copying puts it on the clipboard and says so.
    console
        .browser
        .cdp(
            "Browser.grantPermissions",
            json!({"origin": worker.origin(), "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]}),
        )
        .await;
    console.click("[data-test=copy-tag]").await;
    console.wait_text("[data-test=copy-status]", "Copied").await;
    let copied = console
        .browser
        .client
        .execute_async("const done = arguments[0]; navigator.clipboard.readText().then(done, e => done('unreadable: ' + e));", vec![])
        .await
        .expect("reading the clipboard");
    assert_eq!(copied, Value::from(tag.clone()), "the clipboard holds the tag");
    let copied = copied.as_str().expect("text").to_owned();

    // Nothing seen yet; the worker's own origin is listed and has no load.
    console.wait("the not-seen verdict", "return document.querySelector('[data-test=verdict]')?.dataset.verdict === 'not_seen';").await;
    console.wait(&origin_row(&worker.origin()), &format!("return document.querySelector('{}')?.dataset.state === 'never';", origin_row(&worker.origin()))).await;

    // The shop pastes the copied tag on an origin it has not listed: refused, the page untouched.
    let shop = ShopServer::start_with_tag(&copied);
    let shop_origin = shop.origin();
    let visitor = Browser::start().await;
    visitor.client.goto(&shop.url("/")).await.expect("opening the shop");
    visitor.wait_for("the shop's page", "return document.readyState === 'complete';").await;

    // The screen shows the refusal by itself (it polls), and says what it means.
    console.wait(&refused_row(&shop_origin), &format!("return !!document.querySelector('{}');", refused_row(&shop_origin))).await;
    console.wait("the unlisted verdict", "return document.querySelector('[data-test=verdict]')?.dataset.verdict === 'unlisted';").await;
    console.wait_text("[data-test=verdict]", "not in your list of origins").await;
    console.wait_text(&format!("{} [data-test=refused-detail]", refused_row(&shop_origin)), "refused").await;
    assert!(!widget_mounted(&visitor).await, "no widget on an unlisted origin");
    assert_accessible(&console.browser, "the Install screen with a refusal (en)").await;
    shot(&console.browser, "desktop-en-refused").await;
    console.set_lang("ru").await;
    console.wait_text("[data-test=verdict]", "нет в списке адресов").await;
    console.wait_text(&format!("{} [data-test=allow-origin]", refused_row(&shop_origin)), "Разрешить этот адрес").await;
    assert_accessible(&console.browser, "the Install screen with a refusal (ru)").await;
    shot(&console.browser, "desktop-ru-refused").await;

    // Bad input is refused next to the field with core's reason, in the owner's language, and
    // nothing is sent. Typed and submitted by keyboard.
    console.browser.eval("document.querySelector('#new-origin').focus();", vec![]).await;
    console.type_into("#new-origin", "shop.example").await;
    press(&console, ENTER).await;
    console.wait_text("[data-test=origin-error]", OriginProblem::NoScheme.message(Locale::Ru)).await;
    assert_eq!(console.browser.eval("return document.querySelector('#new-origin').getAttribute('aria-invalid');", vec![]).await, json!("true"));
    shot(&console.browser, "desktop-ru-bad-input").await;
    console.set_lang("en").await;
    console.wait_text("[data-test=origin-error]", OriginProblem::NoScheme.message(Locale::En)).await;
    assert_accessible(&console.browser, "the Install screen with an inline error (en)").await;
    shot(&console.browser, "desktop-en-bad-input").await;
    let own_origin = worker.origin();
    for (typed, problem) in [
        ("ftp://shop.example", OriginProblem::NotWeb),
        ("https://shop example", OriginProblem::BadHost),
        (own_origin.as_str(), OriginProblem::AlreadyListed),
    ] {
        console.browser.eval("document.querySelector('#new-origin').value = '';", vec![]).await;
        console.type_into("#new-origin", typed).await;
        console.click("[data-test=add-origin-submit]").await;
        console.wait_text("[data-test=origin-error]", problem.message(Locale::En)).await;
    }
    // Typing again clears the complaint.
    console.type_into("#new-origin", "x").await;
    console.wait("the error to clear", "return document.querySelector('[data-test=origin-error]').textContent === '';").await;
    console.browser.eval("document.querySelector('#new-origin').value = '';", vec![]).await;
    let unchanged: SiteConfig = worker.admin_get("/sites/demo").await;
    assert_eq!(unchanged, before, "refused input changed nothing");

    // "Allow this origin", reached and pressed by keyboard.
    console.browser.eval("document.querySelector('[data-test=refresh]').focus();", vec![]).await;
    let passed = tab_to(&console, &format!("{} [data-test=allow-origin]", refused_row(&shop_origin)), 10).await;
    assert_eq!(passed, vec!["allow-origin"], "the refused origin's button comes right after 'Check again'");
    press(&console, ENTER).await;
    console.wait(&origin_row(&shop_origin), &format!("return !!document.querySelector('{}');", origin_row(&shop_origin))).await;
    console.wait("the refusal to go", "return !document.querySelector('[data-test=refused]');").await;
    console.wait("the focus on the origins' heading", "return document.activeElement?.id === 'origins-heading';").await;
    let after: SiteConfig = worker.admin_get("/sites/demo").await;
    assert_eq!(after.origins.last(), Some(&shop_origin), "{:?}", after.origins);
    assert_eq!(after.origins.len(), before.origins.len() + 1);
    assert_eq!(without_origins(after), without_origins(before.clone()), "only the origins changed");

    // The shop's next page view loads the widget, and the screen shows the load.
    visitor.client.refresh().await.expect("reloading the shop");
    eventually("the widget on the newly allowed origin", Duration::from_secs(20), || async { widget_mounted(&visitor).await.then_some(()) }).await;
    console
        .wait(
            "the shop origin's load",
            &format!("return document.querySelector('{}')?.dataset.state === 'recent';", origin_row(&shop_origin)),
        )
        .await;
    console.wait("the working verdict", "return document.querySelector('[data-test=verdict]')?.dataset.verdict === 'working';").await;
    console.wait_text(&format!("{} [data-test=origin-load]", origin_row(&shop_origin)), "widget loaded").await;
    console.wait_text("[data-test=verdict]", &shop_origin).await;
    assert_accessible(&console.browser, "the Install screen working (en)").await;
    shot(&console.browser, "desktop-en-working").await;
    console.set_lang("ru").await;
    console.wait_text(&format!("{} [data-test=origin-load]", origin_row(&shop_origin)), "виджет загрузился").await;
    assert_accessible(&console.browser, "the Install screen working (ru)").await;
    shot(&console.browser, "desktop-ru-working").await;

    // Every control of the screen is on the Tab path, in reading order.
    console.browser.eval("document.querySelector('[data-test=refresh]').focus();", vec![]).await;
    let passed = tab_to(&console, "[data-test=add-origin-submit]", 40).await;
    let copy = passed.iter().position(|p| p == "copy-tag");
    let remove = passed.iter().position(|p| p == "remove-origin");
    let field = passed.iter().position(|p| p == "new-origin");
    assert!(copy.is_some() && remove.is_some() && field.is_some(), "{passed:?}");
    assert!(copy < remove && remove < field, "reading order: {passed:?}");

    // Removing an origin by keyboard: the widget stops loading there (and the rest stays).
    console.browser.eval(&format!("document.querySelector('{} [data-test=remove-origin]').focus();", origin_row(&shop_origin)), vec![]).await;
    press(&console, ENTER).await;
    // Asked once more, the focus on the question's own button: one stray Enter removes nothing.
    console
        .wait("the confirmation's focus", "return document.activeElement?.dataset.test === 'confirm-remove-origin';")
        .await;
    let asked: SiteConfig = worker.admin_get("/sites/demo").await;
    assert!(asked.origins.contains(&shop_origin), "nothing removed before the answer");
    press(&console, ENTER).await;
    console.wait("the shop origin to go", &format!("return !document.querySelector('{}');", origin_row(&shop_origin))).await;
    let removed: SiteConfig = worker.admin_get("/sites/demo").await;
    assert_eq!(removed, before, "back to the config as it was");
    // And added back through the form, pasted as a page address.
    console.browser.eval("document.querySelector('#new-origin').focus();", vec![]).await;
    console.type_into("#new-origin", &format!("{shop_origin}/catalog/?utm_source=x")).await;
    press(&console, ENTER).await;
    console.wait(&origin_row(&shop_origin), &format!("return !!document.querySelector('{}');", origin_row(&shop_origin))).await;
    console.wait("the field to empty", "return document.querySelector('#new-origin').value === '';").await;

    // The demo shop on the worker's own origin: the browser sends no Origin header for a
    // same-origin fetch, and the load is seen all the same.
    visitor.client.goto(&worker.url("/")).await.expect("opening the demo shop");
    eventually("the widget on the worker's own origin", Duration::from_secs(20), || async { widget_mounted(&visitor).await.then_some(()) }).await;
    console
        .wait(
            "the worker origin's load",
            &format!("return document.querySelector('{}')?.dataset.state === 'recent';", origin_row(&worker.origin())),
        )
        .await;

    visitor.close().await;
    console.close().await;

    // At 360 px, in both languages.
    let phone = Console { browser: Browser::start_mobile().await };
    phone.browser.client.goto(&worker.url("/console/")).await.expect("opening /console on a phone");
    phone.set_lang("ru").await;
    phone.login(OWNER, PASSWORD).await;
    open_install(&phone).await;
    phone.wait(&origin_row(&shop_origin), &format!("return document.querySelector('{}')?.dataset.state === 'recent';", origin_row(&shop_origin))).await;
    let overflow = phone.browser.eval("return document.documentElement.scrollWidth - document.documentElement.clientWidth;", vec![]).await;
    assert_eq!(overflow, json!(0), "nothing wider than the phone");
    assert_accessible(&phone.browser, "the Install screen at 360 px (ru)").await;
    shot(&phone.browser, "phone-ru-working").await;
    phone.set_lang("en").await;
    phone.wait_text("[data-test=verdict]", "The widget works").await;
    assert_accessible(&phone.browser, "the Install screen at 360 px (en)").await;
    shot(&phone.browser, "phone-en-working").await;
    phone.browser.eval("document.querySelector('#new-origin').value = '';", vec![]).await;
    phone.type_into("#new-origin", "https://магазин.рф").await;
    phone.click("[data-test=add-origin-submit]").await;
    phone.wait_text("[data-test=origin-error]", OriginProblem::NotAscii.message(Locale::En)).await;
    shot(&phone.browser, "phone-en-bad-input").await;
    phone.close().await;
}

#[tokio::test]
async fn operators_strangers_and_other_owners_are_refused_and_bad_requests_are_4xx() {
    let worker = owner_worker("cockpit-install-refusals").await;
    make_member(&worker, "operator", "demo", "anna@demo.example", "Anna", PASSWORD);
    let before: SiteConfig = worker.admin_get("/sites/demo").await;

    // An operator's console has no Install section, not even by its link.
    let console = Console::open(&worker).await;
    console.login("anna@demo.example", PASSWORD).await;
    assert_eq!(console.text("[data-test=nav-install]").await, None, "no Install link for an operator");
    assert_eq!(console.text("[data-test=nav]").await, None, "an operator has one section, so no section bar");
    console.browser.client.goto(&worker.url("/console/#install")).await.expect("the Install link");
    console.wait("the inbox instead", "return !!document.querySelector('main[data-test=screen-inbox]');").await;
    assert_eq!(console.text("[data-test=install]").await, None);
    console.close().await;

    let operator = login(&worker, "anna@demo.example", PASSWORD).await;
    let owner = login(&worker, OWNER, PASSWORD).await;
    let http = worker.http();
    let install = worker.url("/v1/admin/sites/demo/install");
    let origins = worker.url("/v1/admin/sites/demo/origins");
    let status = |r: reqwest::Response| r.status().as_u16();

    // Without a session: 401; an operator's session: 403, on every route of the screen.
    assert_eq!(status(http.get(&install).send().await.expect("GET")), 401);
    assert_eq!(status(http.get(&install).header("cookie", &operator).send().await.expect("GET")), 403);
    let add = |cookie: &str, origin: &str, body: Value| {
        http.post(&origins).header("cookie", cookie.to_owned()).header("origin", origin.to_owned()).json(&body).send()
    };
    let shop = json!({"origin": "https://shop-two.example"});
    assert_eq!(status(add(&operator, &worker.origin(), shop.clone()).await.expect("POST")), 403);
    let remove = |cookie: &str, query: &str| {
        http.delete(format!("{origins}{query}")).header("cookie", cookie.to_owned()).header("origin", worker.origin()).send()
    };
    assert_eq!(status(remove(&operator, &format!("?origin={}", worker.origin())).await.expect("DELETE")), 403);
    // The owner's cookie from another page: refused (CSRF), as is a wrong admin token.
    assert_eq!(status(add(&owner, "https://evil.example", shop.clone()).await.expect("POST")), 403);
    let forged = http.post(&origins).bearer_auth("not-the-token-but-long-enough-0000").json(&shop).send().await.expect("POST");
    assert_eq!(status(forged), 401);

    // The owner of another site reaches theirs, not this one; and cannot take this one's origin.
    let mut other = worker.demo_site_config(&[]);
    other.site = "other".into();
    other.origins = vec!["https://other.example".into()];
    worker.put_site(&other).await;
    make_member(&worker, "owner", "other", "pavel@other.example", "Pavel", PASSWORD);
    let pavel = login(&worker, "pavel@other.example", PASSWORD).await;
    assert_eq!(status(http.get(&install).header("cookie", &pavel).send().await.expect("GET")), 403);
    let theirs = worker.url("/v1/admin/sites/other/origins");
    let take = http
        .post(&theirs)
        .header("cookie", &pavel)
        .header("origin", worker.origin())
        .json(&json!({"origin": worker.origin()}))
        .send()
        .await
        .expect("POST");
    assert_eq!(take.status().as_u16(), 409);
    let refusal: Value = take.json().await.expect("JSON");
    assert_eq!(refusal["error"]["code"], "origin_taken", "{refusal}");
    let message = refusal["error"]["message"].as_str().unwrap_or_default();
    assert_eq!(OriginProblem::recognise(message), Some(OriginProblem::Taken), "{message}");
    assert!(!message.contains("demo"), "another site's id is not told: {message}");
    // Their last origin stays.
    let last = http
        .delete(format!("{theirs}?origin=https://other.example"))
        .header("cookie", &pavel)
        .header("origin", worker.origin())
        .send()
        .await
        .expect("DELETE");
    assert_eq!(last.status().as_u16(), 400);

    // The owner's bad requests: each a 4xx with a reason, none a 5xx, none a change.
    for (body, wanted) in [
        (json!({"origin": "shop.example"}), 400),
        (json!({"origin": "javascript:alert(1)"}), 400),
        (json!({"origin": "https://<script>alert(1)</script>"}), 400),
        (json!({"origin": format!("https://{}.example", "a".repeat(300))}), 400),
        (json!({"origin": 42}), 400),
        (json!({"origin": "https://ok.example", "site": "other"}), 400),
        (json!({}), 400),
    ] {
        let response = add(&owner, &worker.origin(), body.clone()).await.expect("POST");
        let code = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(code, wanted, "{body}: {text}");
    }
    let not_json = http
        .post(&origins)
        .header("cookie", &owner)
        .header("origin", worker.origin())
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("POST");
    assert_eq!(status(not_json), 400);
    let as_form = http
        .post(&origins)
        .header("cookie", &owner)
        .header("origin", worker.origin())
        .header("content-type", "application/x-www-form-urlencoded")
        .body("origin=https://x.example")
        .send()
        .await
        .expect("POST");
    assert_eq!(status(as_form), 415);
    assert_eq!(status(remove(&owner, "").await.expect("DELETE")), 400);
    assert_eq!(status(remove(&owner, "?origin=nonsense").await.expect("DELETE")), 400);
    // Removing what is not listed, or adding what is, changes nothing and says so with the check.
    let absent = remove(&owner, "?origin=https://never-listed.example").await.expect("DELETE");
    assert_eq!(absent.status().as_u16(), 200);
    let again = add(&owner, &worker.origin(), json!({"origin": format!("{}/", worker.origin())})).await.expect("POST");
    assert_eq!(again.status().as_u16(), 200);
    let check: Value = again.json().await.expect("the check");
    assert_eq!(check["site"], "demo");
    let after: SiteConfig = worker.admin_get("/sites/demo").await;
    assert_eq!(after, before, "no refused or idempotent request changed the config");
    // An unknown site: 404 for the admin token.
    let (code, _) = worker.admin_send(reqwest::Method::GET, "/sites/no-such-site/install", None).await;
    assert_eq!(code, 404);
}
