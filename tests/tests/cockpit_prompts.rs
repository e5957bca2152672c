//! The owner's Prompts screen end to end: a real worker (`wrangler dev`, D1) with the test-timing
//! switch, the console in headless Chromium, the demo shop's widget. An owner changes one word of
//! the callback's copy → only that word changes in the stored config → a visitor's callback card
//! says it; an English-only shop is accepted; a threshold below the engine's floor is refused
//! with the message next to its field, in the owner's language; an operator, a stranger and
//! another origin are refused. Screenshots (desktop and 360 px, ru and en) go to
//! `target/screens/prompts/`; axe-core finds nothing on the screen.

use floorwalker_core::base::locale::Locale;
use floorwalker_core::prompts::config::SiteConfig;
use floorwalker_e2e::browser::{Browser, WIDGET_ROOT as SHADOW};
use floorwalker_e2e::chat::{create_operator, login};
use floorwalker_e2e::console::{js, Console};
use floorwalker_e2e::worker::Worker;
use reqwest::Method;
use serde_json::{json, Value};

const CAR_SEAT: &str = "/product/orsa-360-isofix/";
use floorwalker_e2e::console::{owned_demo_shop, SHOP_OWNER as OWNER};
const TITLE: &str = "[data-field='widget.prompts[1].copy.ru.title'] input";
const ACTIVE: &str = "[data-field='widget.prompts[1].when.active_seconds_at_least']";


/// The owner's console on the Prompts screen, in `lang`.
async fn prompts_screen(worker: &Worker, browser: Browser, lang: &str) -> Console {
    browser.client.goto(&worker.url("/console")).await.expect("opening /console");
    let console = Console { browser };
    console.submit_login(OWNER.0, OWNER.1).await;
    console.wait("the owner's sections", "return !!document.querySelector('[data-test=nav-prompts]');").await;
    console.click("[data-test=nav-prompts]").await;
    console.wait("the callback's form", "return !!document.querySelector('[data-test=prompt-callback]');").await;
    console.set_lang(lang).await;
    console
}

/// Replaces the text of the input at `selector`: emptied (as select-all and delete would), then
/// typed key by key, as the owner would.
async fn retype(console: &Console, selector: &str, text: &str) {
    let clear = format!(
        "const e = document.querySelector({}); e.focus(); e.value = ''; e.dispatchEvent(new Event('input', {{bubbles: true}}));",
        js(selector)
    );
    console.browser.eval(&clear, vec![]).await;
    console.type_into(selector, text).await;
}

async fn save(console: &Console) {
    console.click("[data-test=save]").await;
}

async fn saved(console: &Console) {
    console
        .wait("the save to finish", "return document.querySelector('[data-test=saved]').textContent.length > 0;")
        .await;
}

/// Saves the viewport as `target/screens/prompts/<name>.png`, with `selector` scrolled into view.
async fn screenshot(browser: &Browser, selector: &str, name: &str) {
    browser.eval(&format!("document.querySelector({})?.scrollIntoView({{block: 'start'}});", js(selector)), vec![]).await;
    shop_screenshot(browser, name).await;
}

/// The callback card's title as a visitor on the Russian demo shop sees it.
async fn callback_title_for_a_visitor(worker: &Worker) -> String {
    let browser = Browser::start().await;
    browser.client.goto(&worker.url(CAR_SEAT)).await.expect("the product page");
    let title = browser
        .wait_for(
            "the callback card",
            &format!("{SHADOW} const card = root?.querySelector('.prompt[data-prompt=callback] h2'); return card ? card.textContent : null;"),
        )
        .await;
    browser.close().await;
    title.as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn an_owner_changes_one_word_of_the_callback_and_only_that_word_changes_for_visitors_too() {
    let (worker, before) = owned_demo_shop("cockpit-prompts-word").await;
    let console = prompts_screen(&worker, Browser::start().await, "en").await;
    assert_eq!(console.browser.axe_violations(&[]).await, json!([]), "axe-core on the Prompts screen (en)");
    screenshot(&console.browser, "[data-test=prompts]", "desktop-en-top").await;
    screenshot(&console.browser, "[data-test=prompt-callback]", "desktop-en-callback").await;

    // «Хотите, мы позвоним?» → «Хотите, мы перезвоним?»: one word.
    let old_title = before.widget.prompts[1].copy.get(Locale::Ru).title.clone();
    assert_eq!(old_title, "Хотите, мы позвоним?");
    retype(&console, TITLE, "Хотите, мы перезвоним?").await;
    // The preview beside the form, drawn by the cards module visitors load, follows the typing
    // before anything is saved, in the owner's brand colour; in English and at phone width too.
    let preview_card = "document.querySelector('[data-test=preview-1] .preview-host')?.shadowRoot";
    console
        .wait(
            "the preview to show the typed title",
            &format!("const h = {preview_card}?.querySelector('.prompt h2'); return h && h.textContent === 'Хотите, мы перезвоним?';"),
        )
        .await;
    let brand = console
        .browser
        .eval(&format!("return {preview_card}.querySelector('.fw').style.getPropertyValue('--fw-brand');"), vec![])
        .await;
    assert_eq!(brand.as_str(), Some(before.widget.theme.brand_color.as_str()), "the preview wears the shop's colour");
    screenshot(&console.browser, "[data-test=preview-1]", "preview-ru-desktop").await;
    let press = |label: &str| {
        format!(
            "[...document.querySelectorAll('[data-test=preview-1] .preview-controls button')].find(b => b.textContent.trim() === {}).click();",
            js(label)
        )
    };
    console.browser.eval(&press("EN"), vec![]).await;
    let english = before.widget.prompts[1].copy.get(Locale::En).title.clone();
    console
        .wait(
            "the preview in English",
            &format!("const h = {preview_card}?.querySelector('.prompt h2'); return h && h.textContent === {};", js(&english)),
        )
        .await;
    let desktop = console.browser.eval("return document.querySelector('[data-test=preview-1] .preview-stage').getBoundingClientRect().width;", vec![]).await;
    console.browser.eval(&press("Phone width"), vec![]).await;
    let phone = console
        .wait("the phone width", "const s = document.querySelector('[data-test=preview-1] .preview-stage.phone'); return s && s.getBoundingClientRect().width;")
        .await;
    assert!(phone.as_f64() < desktop.as_f64(), "the phone stage ({phone}) is narrower than the desktop one ({desktop})");
    screenshot(&console.browser, "[data-test=preview-1]", "preview-en-phone").await;
    save(&console).await;
    saved(&console).await;

    let after: SiteConfig = worker.admin_get("/sites/demo").await;
    let mut expected = before.clone();
    expected.widget.prompts[1].copy.in_locale_mut(Locale::Ru).expect("Russian words").title = "Хотите, мы перезвоним?".into();
    assert_eq!(after, expected, "the one word changed; every other word, rule and setting is as it was");

    // The API takes the same partial change from a script: one English word, nothing else.
    let (status, answer) = worker
        .admin_send(Method::PATCH, "/sites/demo/prompts/callback", Some(json!({"copy": {"en": {"accept": "Call me, please"}}})))
        .await;
    assert_eq!(status, 200, "{answer}");
    let after_api: SiteConfig = worker.admin_get("/sites/demo").await;
    expected.widget.prompts[1].copy.in_locale_mut(Locale::En).expect("English words").accept = "Call me, please".into();
    assert_eq!(after_api, expected);

    // A visitor on the shop sees the new word.
    assert_eq!(callback_title_for_a_visitor(&worker).await, "Хотите, мы перезвоним?");
    console.close().await;
}

#[tokio::test]
async fn a_threshold_below_the_floor_is_refused_next_to_its_field_and_an_english_only_shop_is_accepted() {
    let (worker, before) = owned_demo_shop("cockpit-prompts-floor").await;
    let console = prompts_screen(&worker, Browser::start().await, "ru").await;
    assert_eq!(console.browser.axe_violations(&[]).await, json!([]), "axe-core on the Prompts screen (ru)");
    screenshot(&console.browser, "[data-test=prompts]", "desktop-ru-top").await;

    // The floor is shown beside the field, and a number below it is refused there, in Russian.
    let hint = console.text(&format!("{ACTIVE} .hint")).await.unwrap_or_default();
    assert!(hint.contains("300"), "the floor is shown: {hint:?}");
    retype(&console, &format!("{ACTIVE} input"), "60").await;
    save(&console).await;
    let error = console.wait_text(&format!("{ACTIVE} .field-error"), "300").await;
    assert!(error.contains("не меньше 300 с"), "{error}");
    let invalid = console.browser.eval(&format!("return document.querySelector({}).getAttribute('aria-invalid');", js(&format!("{ACTIVE} input"))), vec![]).await;
    assert_eq!(invalid, "true");
    assert_eq!(console.browser.axe_violations(&[]).await, json!([]), "axe-core with an inline error");
    screenshot(&console.browser, ACTIVE, "desktop-ru-floor-error").await;
    let unchanged: SiteConfig = worker.admin_get("/sites/demo").await;
    assert_eq!(unchanged, before, "nothing was stored");

    // Back to the floor, and the shop becomes English-only: Russian is unticked and saved.
    retype(&console, &format!("{ACTIVE} input"), "300").await;
    console.click("[data-test=locales] [data-field=locales] input").await;
    assert_eq!(console.browser.eval("return document.querySelectorAll('[data-test=words-ru]').length;", vec![]).await, 0);
    save(&console).await;
    saved(&console).await;
    let english: SiteConfig = worker.admin_get("/sites/demo").await;
    assert_eq!(english.locales, vec![Locale::En]);
    assert_eq!(english.widget.default_locale, Locale::En);
    assert_eq!(english.widget.prompts, before.widget.prompts, "the Russian words are kept, not shown");
    // The visitor on the (Russian) demo page gets the words the shop now speaks.
    assert_eq!(callback_title_for_a_visitor(&worker).await, before.widget.prompts[1].copy.get(Locale::En).title);

    // A config written in English only, from scratch, is accepted by the API too.
    let mut only_english = serde_json::to_value(&before).expect("JSON");
    only_english["locales"] = json!(["en"]);
    only_english["widget"]["default_locale"] = json!("en");
    strip_russian(&mut only_english["widget"]["prompts"]);
    assert!(!only_english.to_string().contains("Хотите"), "no Russian left");
    let (status, answer) = worker.admin_send(Method::PUT, "/sites/demo", Some(only_english.clone())).await;
    assert_eq!(status, 200, "an English-only config: {answer}");
    // …and the same words under a site that also speaks Russian are refused, naming the field.
    only_english["locales"] = json!(["en", "ru"]);
    let (status, answer) = worker.admin_send(Method::PUT, "/sites/demo", Some(only_english)).await;
    assert_eq!((status, answer["error"]["field"].as_str()), (400, Some("widget.prompts[0].copy.ru")), "{answer}");
    console.close().await;
}

/// Removes every `"ru"` member below `value` (the words of every prompt, question and choice).
fn strip_russian(value: &mut Value) {
    match value {
        Value::Object(members) => {
            if members.contains_key("en") {
                members.remove("ru");
            }
            members.values_mut().for_each(strip_russian);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_russian),
        _ => {}
    }
}

#[tokio::test]
async fn the_screen_at_360_px_in_both_languages() {
    let (worker, _) = owned_demo_shop("cockpit-prompts-phone").await;
    for lang in ["ru", "en"] {
        let console = prompts_screen(&worker, Browser::start_mobile().await, lang).await;
        let overflow = console.browser.eval("return document.documentElement.scrollWidth - window.innerWidth;", vec![]).await;
        assert!(overflow.as_i64().unwrap_or(1) <= 0, "no sideways scrolling at 360 px ({lang}): {overflow}");
        assert_eq!(console.browser.axe_violations(&[]).await, json!([]), "axe-core at 360 px ({lang})");
        screenshot(&console.browser, "[data-test=prompts]", &format!("phone-{lang}-top")).await;
        screenshot(&console.browser, "[data-test=prompt-child_age]", &format!("phone-{lang}-question")).await;
        // Keyboard: the first field takes focus by Tab order like any other (no traps), and Save is a button.
        let save_is_button = console.browser.eval("return document.querySelector('[data-test=save]').tagName;", vec![]).await;
        assert_eq!(save_is_button, "BUTTON");
        console.close().await;
    }
}

#[tokio::test]
async fn operators_strangers_other_origins_and_bad_patches_are_refused() {
    let (worker, before) = owned_demo_shop("cockpit-prompts-access").await;
    let patch = json!({"copy": {"ru": {"title": "Взлом"}}});
    let url = worker.url("/v1/admin/sites/demo/prompts/callback");
    // An operator's session: 403, for reading and for writing.
    create_operator(&worker, "anna@kroha.example", "Anna", "operator-password-1").await;
    let operator = login(&worker, "anna@kroha.example", "operator-password-1").await;
    let http = worker.http();
    let answer = http.patch(&url).header("cookie", &operator).header("origin", worker.origin()).json(&patch).send().await.expect("PATCH");
    assert_eq!(answer.status().as_u16(), 403);
    let answer = http.get(worker.url("/v1/admin/sites/demo")).header("cookie", &operator).send().await.expect("GET");
    assert_eq!(answer.status().as_u16(), 403);
    // Nobody: 401. The owner from another page (CSRF): 403. The owner on another site: 403.
    assert_eq!(http.patch(&url).json(&patch).send().await.expect("PATCH").status().as_u16(), 401);
    let owner = login(&worker, OWNER.0, OWNER.1).await;
    let answer = http.patch(&url).header("cookie", &owner).header("origin", "https://evil.example").json(&patch).send().await.expect("PATCH");
    assert_eq!(answer.status().as_u16(), 403);
    let other = worker.url("/v1/admin/sites/other/prompts/callback");
    let answer = http.patch(&other).header("cookie", &owner).header("origin", worker.origin()).json(&patch).send().await.expect("PATCH");
    assert_eq!(answer.status().as_u16(), 403);
    // Bad patches from the owner: each a 4xx naming the problem, nothing stored.
    let send = |body: String, content_type: &'static str| {
        http.patch(&url).header("cookie", &owner).header("origin", worker.origin()).header("content-type", content_type).body(body).send()
    };
    for (body, content_type, status) in [
        ("{not json".to_owned(), "application/json", 400),
        ("[1,2]".to_owned(), "application/json", 400),
        (r#"{"copy":{"ru":{"titel":"x"}}}"#.to_owned(), "application/merge-patch+json", 400),
        (r#"{"cooldown_days":"soon"}"#.to_owned(), "application/json", 400),
        (r#"{"id":"renamed"}"#.to_owned(), "application/json", 400),
        (r#"{"copy":{"ru":{"title":""}}}"#.to_owned(), "application/json", 400),
        (r#"{"copy":{"ru":null}}"#.to_owned(), "application/json", 400),
        (r#"{"copy":{"ru":{"title":"x"}}}"#.to_owned(), "application/xml", 415),
        ("x".repeat(70 * 1024), "application/json", 413),
    ] {
        let response = send(body.clone(), content_type).await.expect("PATCH");
        let code = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(code, status, "{}: {text}", &body[..body.len().min(60)]);
    }
    let answer = http
        .patch(worker.url("/v1/admin/sites/demo/prompts/nope"))
        .header("cookie", &owner)
        .header("origin", worker.origin())
        .json(&patch)
        .send()
        .await
        .expect("PATCH");
    assert_eq!(answer.status().as_u16(), 404);
    // An empty title, in Russian for a Russian owner, naming the field.
    let answer = http
        .patch(&url)
        .header("cookie", &owner)
        .header("origin", worker.origin())
        .header("accept-language", "ru-RU,ru;q=0.9,en;q=0.8")
        .json(&json!({"copy": {"ru": {"title": "  "}}}))
        .send()
        .await
        .expect("PATCH");
    let body: Value = answer.json().await.expect("JSON");
    assert_eq!(body["error"]["field"], "widget.prompts[1].copy.ru.title", "{body}");
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains("заполните"), "{body}");
    let unchanged: SiteConfig = worker.admin_get("/sites/demo").await;
    assert_eq!(unchanged, before, "nothing was stored");
}

/// Two editors at once: changes made at the same moment all land (each merge patch is applied
/// over whatever the other stored), and a whole-config `PUT` carrying a stale `If-Match` is
/// refused with 412 instead of silently undoing a change it never saw.
#[tokio::test]
async fn simultaneous_changes_all_land_and_a_stale_whole_config_is_refused() {
    let (worker, _) = owned_demo_shop("cockpit-prompts-together").await;
    let http = worker.http();
    let admin = |method: Method, path: &str| http.request(method, worker.url(&format!("/v1/admin{path}"))).bearer_auth(&worker.admin_token);
    // Eight changes at once: four prompts' titles, four origins.
    let titles: Vec<(String, String)> = ["compare_by_email", "callback", "child_age", "chat_invitation"]
        .iter()
        .map(|id| (id.to_string(), format!("Новый заголовок {id}")))
        .collect();
    let prompts = titles.iter().map(|(id, title)| {
        admin(Method::PATCH, &format!("/sites/demo/prompts/{id}")).json(&json!({"copy": {"ru": {"title": title}}})).send()
    });
    let origins: Vec<String> = (1..=4).map(|n| format!("https://shop{n}.example")).collect();
    let added = origins.iter().map(|origin| admin(Method::POST, "/sites/demo/origins").json(&json!({"origin": origin})).send());
    let (prompts, added) = futures_util::future::join(futures_util::future::join_all(prompts), futures_util::future::join_all(added)).await;
    for answer in prompts.into_iter().chain(added) {
        let answer = answer.expect("a change sent");
        let status = answer.status().as_u16();
        assert_eq!(status, 200, "{}", answer.text().await.unwrap_or_default());
    }
    let stored: SiteConfig = worker.admin_get("/sites/demo").await;
    for (id, title) in &titles {
        let prompt = stored.widget.prompt(id).unwrap_or_else(|| panic!("the demo has {id}"));
        assert_eq!(&prompt.copy.get(Locale::Ru).title, title, "{id}'s new title was kept");
    }
    for origin in &origins {
        assert!(stored.origins.contains(origin), "{origin} was kept: {:?}", stored.origins);
    }

    // A whole-config editor: the ETag of what it read, then someone else's change, then its PUT.
    let read = admin(Method::GET, "/sites/demo").send().await.expect("GET");
    let etag = read.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned).expect("an ETag");
    let mut edited: SiteConfig = read.json().await.expect("the config");
    edited.name = "Кроха (правка целиком)".into();
    let answer = admin(Method::PATCH, "/sites/demo").json(&json!({"widget": {"callback_minutes": 25}})).send().await.expect("PATCH");
    assert_eq!(answer.status().as_u16(), 200);
    let stale = admin(Method::PUT, "/sites/demo").header("if-match", &etag).json(&edited).send().await.expect("PUT");
    assert_eq!(stale.status().as_u16(), 412, "a stale If-Match is refused");
    let body: Value = stale.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "precondition_failed", "{body}");
    let kept: SiteConfig = worker.admin_get("/sites/demo").await;
    assert_eq!((kept.name.as_str(), kept.widget.callback_minutes), ("Кроха", 25), "the other change stands, nothing of the stale PUT");
    // Read again, redo, and it lands; the revision moves on.
    let read = admin(Method::GET, "/sites/demo").send().await.expect("GET");
    let fresh = read.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned).expect("an ETag");
    assert_ne!(fresh, etag);
    let mut edited: SiteConfig = read.json().await.expect("the config");
    edited.name = "Кроха (правка целиком)".into();
    let answer = admin(Method::PUT, "/sites/demo").header("if-match", &fresh).json(&edited).send().await.expect("PUT");
    assert_eq!(answer.status().as_u16(), 200, "{}", answer.text().await.unwrap_or_default());
    let stored: SiteConfig = worker.admin_get("/sites/demo").await;
    assert_eq!(stored, edited);
    // Without If-Match a PUT still replaces the config (scripts that own it whole).
    let answer = admin(Method::PUT, "/sites/demo").json(&kept).send().await.expect("PUT");
    assert_eq!(answer.status().as_u16(), 200);
}

#[tokio::test]
async fn the_comparison_preview_shows_the_shops_own_products_on_the_launchers_side() {
    let (worker, _) = owned_demo_shop("cockpit-prompts-products").await;
    // Before any visitor: the examples.
    let recent: Vec<Value> = worker.admin_get("/sites/demo/products/recent").await;
    assert!(recent.is_empty(), "{recent:?}");

    // A visitor looks at two car seats and a stroller; their views are the shop's catalogue.
    let visitor = Browser::start().await;
    let mut recent = Vec::new();
    for (page, name) in [
        ("/product/orsa-360-isofix/", "Orsa 360"),
        ("/product/nordika-city-lite/", "Nordika City Lite"),
        ("/product/lumi-hug-fix/", "Lumi Hug Fix"),
    ] {
        visitor.client.goto(&worker.url(page)).await.expect("a product page");
        // One view stored before the next, so "newest" is the order they were seen in.
        recent = floorwalker_e2e::eventually(&format!("the view of {name} in D1"), std::time::Duration::from_secs(30), || async {
            let recent: Vec<Value> = worker.admin_get("/sites/demo/products/recent").await;
            recent.iter().any(|p| p["name"].as_str().is_some_and(|n| n.contains(name))).then_some(recent)
        })
        .await;
    }
    visitor.close().await;
    let names: Vec<&str> = recent.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["Автокресло Lumi Hug Fix", "Поворотное автокресло Orsa 360 Isofix"], "two of one category, newest first");

    let console = prompts_screen(&worker, Browser::start().await, "ru").await;
    let preview_card = "document.querySelector('[data-test=preview-0] .preview-host')?.shadowRoot";
    let shown = console
        .wait(
            "the shop's products in the comparison preview",
            &format!("const t = {preview_card}?.querySelector('.prompt')?.textContent || ''; return t.includes('Lumi Hug Fix') && t.includes('Orsa 360') ? t : null;"),
        )
        .await;
    assert!(!shown.as_str().unwrap_or_default().contains("Puffin"), "not the examples: {shown}");
    // The demo's launcher sits bottom right: so does the card, against the preview's right edge.
    let gap = console
        .browser
        .eval(
            "const box = document.querySelector('[data-test=preview-0]').getBoundingClientRect();
             const stage = document.querySelector('[data-test=preview-0] .preview-stage').getBoundingClientRect();
             const card = document.querySelector('[data-test=preview-0] .preview-host').shadowRoot.querySelector('.prompt').getBoundingClientRect();
             return [Math.round(box.right - stage.right), Math.round(stage.right - card.right), Math.round(card.left - stage.left)];",
            vec![],
        )
        .await;
    let gap: Vec<i64> = serde_json::from_value(gap).expect("three numbers");
    assert!(gap[0] <= 16, "the stage is at the right of the preview: {gap:?}");
    assert!(gap[1] >= 0 && gap[2] >= 0, "the card stays inside its stage: {gap:?}");
    screenshot(&console.browser, "[data-test=preview-0]", "preview-ru-shop-products").await;
    console.close().await;
}

/// The preview card on the shop (`shop_path` already carries the `#fw-preview=` fragment) once it
/// is on screen: its title.
async fn preview_on_the_shop(visitor: &Browser, worker: &Worker, shop_path: &str, prompt: &str) -> String {
    visitor.client.goto(&worker.url(shop_path)).await.expect("the shop with a preview link");
    let title = visitor
        .wait_for(
            "the preview card",
            &format!(
                "{SHADOW} const card = root?.querySelector('.prompt[data-prompt={prompt}]');
                 return card && card.querySelector('.preview-note') ? card.querySelector('h2').textContent : null;"
            ),
        )
        .await;
    title.as_str().unwrap_or_default().to_owned()
}

/// Saves the viewport as it is as `target/screens/prompts/<name>.png` (a visitor's page: the card
/// sits where the widget put it).
async fn shop_screenshot(visitor: &Browser, name: &str) {
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let png = visitor.client.screenshot().await.expect("a screenshot");
    floorwalker_e2e::save_screen("prompts", name, &png);
}

#[tokio::test]
async fn the_owner_opens_the_saved_card_on_the_shop_at_once_as_a_preview_that_sends_and_counts_nothing() {
    let (worker, _) = owned_demo_shop("cockpit-prompts-on-site").await;
    let console = prompts_screen(&worker, Browser::start().await, "en").await;
    // A long screen: its index takes the owner (and the keyboard's focus) to a prompt's form.
    console
        .browser
        .eval("[...document.querySelectorAll('.prompt-index button')].find(b => b.textContent === 'Callback').click();", vec![])
        .await;
    console.wait("the callback's heading focused", "return document.activeElement?.id === 'prompt-callback-heading';").await;
    let links = console
        .browser
        .eval("return [...document.querySelectorAll('[data-test=prompt-callback] [data-test=on-site-link]')].map(a => [a.href, a.target, a.rel]);", vec![])
        .await;
    let links: Vec<(String, String, String)> = serde_json::from_value(links).expect("the links");
    for lang in ["ru", "en"] {
        let own = format!("{}/#fw-preview=callback&fw-lang={lang}", worker.origin());
        assert!(
            links.iter().any(|(href, target, rel)| *href == own && target == "_blank" && rel == "noopener"),
            "a link per allowed origin and language, this one among them: {links:?}"
        );
    }

    // An unsaved change: the owner is told the site shows the saved words; saved, the note goes.
    let unsaved = "return !!document.querySelector('[data-test=prompt-callback] [data-test=on-site-unsaved]');";
    assert_eq!(console.browser.eval(unsaved, vec![]).await, json!(false));
    retype(&console, TITLE, "Перезвоним за пять минут?").await;
    console.wait("the unsaved note", unsaved).await;
    save(&console).await;
    saved(&console).await;
    assert_eq!(console.browser.eval(unsaved, vec![]).await, json!(false), "saved: nothing left to warn about");
    screenshot(&console.browser, "[data-test=prompt-callback] [data-test=on-site]", "on-site-links-en").await;

    // The shop's home page: no product, no time spent, so no callback card would come by itself.
    // Through the link it is there at once, with the words just saved, marked as a preview.
    let visitor = Browser::start().await;
    let started = std::time::Instant::now();
    let title = preview_on_the_shop(&visitor, &worker, "/#fw-preview=callback", "callback").await;
    assert_eq!(title, "Перезвоним за пять минут?", "the saved words, not the minute-old cached ones");
    assert!(started.elapsed() < std::time::Duration::from_secs(15), "at once: {:?}", started.elapsed());
    let focus_inside = visitor.eval(&format!("{SHADOW} return !!root?.activeElement;"), vec![]).await;
    assert_eq!(focus_inside, json!(false), "the preview does not take focus either");
    assert_eq!(visitor.axe_violations(&["floorwalker-widget", ".prompt"]).await, json!([]), "axe-core on the preview card");
    shop_screenshot(&visitor, "on-site-preview-ru-desktop").await;

    // The form works as it would, and says that nothing was sent.
    let phone_field = format!("{SHADOW} return root.querySelector('.prompt input[type=tel]');");
    let field = visitor.eval(&phone_field, vec![]).await;
    assert!(!field.is_null(), "the callback form");
    visitor
        .eval(
            &format!(
                "{SHADOW} const input = root.querySelector('.prompt input[type=tel]');
                 input.value = '+7 916 123-45-67'; input.dispatchEvent(new Event('input', {{bubbles: true}}));
                 root.querySelector('.prompt form').requestSubmit();"
            ),
            vec![],
        )
        .await;
    let done = visitor
        .wait_for("the preview's answer", &format!("{SHADOW} return root.querySelector('.prompt .done')?.textContent || null;"))
        .await;
    let done = done.as_str().unwrap_or_default();
    assert!(done.starts_with("Предпросмотр, ничего не отправлено."), "{done}");
    assert!(done.contains("+79161234567"), "what a visitor would read: {done}");

    // Recorded: the owner's page views, as any visit; not the card, not a lead.
    let visitor_id = visitor.wait_for("the visitor id", "return localStorage.getItem('fw:demo:visitor');").await;
    let visitor_id = visitor_id.as_str().unwrap_or_default().to_owned();
    visitor.client.goto(&worker.url("/en/#fw-preview=compare_by_email")).await.expect("the English shop");
    let events = floorwalker_e2e::eventually("both page views in D1", std::time::Duration::from_secs(30), || async {
        let events = worker.events("demo", &visitor_id).await;
        (events.iter().filter(|e| e.event.data.kind() == "page_view").count() >= 2).then_some(events)
    })
    .await;
    let kinds: Vec<&str> = events.iter().map(|e| e.event.data.kind()).collect();
    assert!(kinds.iter().all(|k| !k.starts_with("prompt_")), "a preview records no prompt event: {kinds:?}");
    let leads: Vec<Value> = worker.admin_get("/sites/demo/leads").await;
    assert!(leads.is_empty(), "a preview sends no lead: {leads:?}");
    visitor.close().await;

    // English, and a 360 px phone in both languages: the card fits and stays clean. The link's
    // language wins over the page's (the Russian home page, previewed in English).
    for (lang, path) in [("en", "/#fw-preview=callback&fw-lang=en"), ("ru", "/en/#fw-preview=callback&fw-lang=ru")] {
        let phone = Browser::start_mobile().await;
        preview_on_the_shop(&phone, &worker, path, "callback").await;
        let note = phone.eval(&format!("{SHADOW} return root.querySelector('.prompt .preview-note').textContent;"), vec![]).await;
        let expected = if lang == "en" { "Preview: nothing here is sent or counted." } else { "Предпросмотр: отсюда ничего не отправляется и не учитывается." };
        assert_eq!(note.as_str(), Some(expected));
        let overflow = phone.eval("return document.documentElement.scrollWidth - window.innerWidth;", vec![]).await;
        assert!(overflow.as_i64().unwrap_or(1) <= 0, "no sideways scrolling at 360 px ({lang}): {overflow}");
        assert_eq!(phone.axe_violations(&["floorwalker-widget", ".prompt"]).await, json!([]), "axe-core at 360 px ({lang})");
        shop_screenshot(&phone, &format!("on-site-preview-{lang}-phone")).await;
        phone.close().await;
    }

    // A prompt that is off is not served to the shop, so the screen says so instead of a link.
    console.click("[data-test=prompt-callback] input[type=checkbox]").await;
    save(&console).await;
    console.wait("the note that it is off", "return !!document.querySelector('[data-test=prompt-callback] [data-test=on-site-off]');").await;
    let hidden = console.browser.eval("return document.querySelector('[data-test=prompt-callback] [data-test=on-site] .links').hidden;", vec![]).await;
    assert_eq!(hidden, json!(true), "no link to a card the shop does not have");
    console.close().await;
}
