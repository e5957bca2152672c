//! The salesperson's judgement, tried as visitors would on the demo's own config (every built-in
//! prompt, as `demo-site/site.json` ships it), with the engine's clock 60× faster under the
//! test-timing switch: two products → the question card appears by itself → the visitor ignores it
//! (or answers it) → they leave → the comparison card with both products. On a desktop and on a
//! 360 px phone; the card never takes focus, and on a phone it is a compact sheet.

use std::time::Duration;

use floorwalker_core::prompts::config::{SiteConfig, TestTiming};
use floorwalker_e2e::browser::{Browser, WIDGET_ROOT as SHADOW};
use floorwalker_e2e::worker::Worker;
use serde_json::Value;

const STROLLER: &str = "/product/puffin-trio-3in1/";
const CAR_SEAT: &str = "/product/orsa-360-isofix/";
/// A booster for 3.5–12 years: no fit for a baby.
const BOOSTER: &str = "/product/safenest-voyager/";
const TIME_SCALE: u32 = 60;

/// The demo's own config, only sped up.
async fn demo_shop(name: &str) -> (Worker, SiteConfig) {
    let worker = Worker::start(name).await;
    let mut config = worker.demo_site_config(&[]);
    assert!(config.widget.prompts.len() >= 4, "the shipped config keeps every built-in prompt");
    config.widget.test_timing = Some(TestTiming { time_scale: TIME_SCALE });
    worker.put_site(&config).await;
    (worker, config)
}

async fn open(browser: &Browser, url: &str) {
    browser.client.goto(url).await.unwrap_or_else(|e| panic!("opening {url}: {e}"));
    browser.wait_for("the widget to mount", &format!("{SHADOW} return !!root && !!root.querySelector('button.launcher');")).await;
}

async fn products_seen(browser: &Browser, n: usize) {
    browser.wait_for_session(&format!("{n} products in the session"), "demo", |s| s["products"].as_array().is_some_and(|p| p.len() == n)).await;
}

/// Views `paths` in order and returns the products' names as their pages give them.
async fn view_products(browser: &Browser, worker: &Worker, paths: &[&str]) -> Vec<String> {
    let mut names = Vec::new();
    for (n, path) in paths.iter().enumerate() {
        open(browser, &worker.url(path)).await;
        let name = browser
            .eval("return JSON.parse(document.querySelector('script[type=\"application/ld+json\"]').textContent).name;", vec![])
            .await;
        names.push(name.as_str().expect("a product name").to_owned());
        products_seen(browser, n + 1).await;
    }
    names
}

/// Puts keyboard focus on the page's own «add to cart» button, where a visitor might have it.
async fn focus_the_page(browser: &Browser) {
    let focused = browser.eval("const b = document.getElementById('add-to-cart'); b.focus(); return document.activeElement === b;", vec![]).await;
    assert_eq!(focused, Value::Bool(true));
}

/// Focus is still where the visitor left it: on the page's button, nothing inside the widget.
async fn assert_focus_stayed_on_the_page(browser: &Browser, when: &str) {
    let focus = browser
        .eval(
            &format!(
                "{SHADOW} return {{ page: document.activeElement && document.activeElement.id, widget: !!root.activeElement }};"
            ),
            vec![],
        )
        .await;
    assert_eq!(focus, serde_json::json!({ "page": "add-to-cart", "widget": false }), "{when}: the card took focus");
}

/// Waits for the card of `prompt` and returns its rectangle and the viewport's height.
async fn card_of(browser: &Browser, prompt: &str) -> Value {
    browser
        .wait_for(
            &format!("the {prompt} card"),
            &format!(
                "{SHADOW} const card = root.querySelector('.prompt[data-prompt={prompt}]');
                 if (!card || card.getAnimations().length) return null;
                 const r = card.getBoundingClientRect();
                 return {{ top: r.top, height: r.height, viewport: innerHeight, title: card.querySelector('h2').textContent,
                           announced: root.querySelector('.sr[aria-live=polite]').textContent }};"
            ),
        )
        .await
}

/// The comparison card's rows: name, price, and the note if the row is pointed out.
const COMPARISON_ROWS: &str = "const card = root.querySelector('.prompt[data-prompt=compare_by_email]');
     if (!card || root.querySelector('.prompt[data-prompt=child_age]')) return null;
     return [...card.querySelectorAll('.products li')].map(li => [
         li.querySelector('.name').firstChild.textContent, li.querySelector('.price').textContent,
         li.querySelector('.fit') ? li.querySelector('.fit').textContent : null]);";

/// The pointer leaves through the top of the window, repeatedly, until the comparison is there.
async fn leave_by_the_top_for_the_comparison(browser: &Browser) -> Value {
    browser
        .wait_for(
            "the comparison card at exit intent",
            &format!(
                "{SHADOW}
                 const rows = (() => {{ {COMPARISON_ROWS} }})();
                 if (rows) return rows;
                 document.dispatchEvent(new MouseEvent('mouseout', {{ clientX: 400, clientY: -3, relatedTarget: null, bubbles: true }}));
                 return null;"
            ),
        )
        .await
}

/// A price as read: the card groups digits with no-break spaces (a price never wraps), the page
/// with plain ones; they look the same.
fn same_spaces(text: &Value) -> String {
    text.as_str().unwrap_or_default().replace('\u{a0}', " ")
}

fn names_of(rows: &Value) -> Vec<String> {
    rows.as_array().expect("rows").iter().map(|row| row[0].as_str().unwrap_or_default().to_owned()).collect()
}

/// Saves a PNG of the viewport when `SALESPERSON_SHOTS` names a directory (to look at the cards as
/// a visitor would).
async fn screenshot(browser: &Browser, name: &str) {
    let Ok(dir) = std::env::var("SALESPERSON_SHOTS") else { return };
    // After the card's entrance, as the visitor sees it.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let png = browser.client.screenshot().await.expect("a screenshot of the viewport");
    std::fs::write(format!("{dir}/salesperson-{name}.png"), png).expect("writing the screenshot");
}

#[tokio::test]
async fn an_ignored_question_gives_way_to_the_comparison_when_the_visitor_leaves_and_focus_never_moves() {
    let (worker, _) = demo_shop("salesperson-desktop").await;
    let browser = Browser::start().await;
    let names = view_products(&browser, &worker, &[STROLLER, CAR_SEAT]).await;
    focus_the_page(&browser).await;

    let question = card_of(&browser, "child_age").await;
    assert_eq!(question["announced"], question["title"], "the card is announced through the live region");
    assert_focus_stayed_on_the_page(&browser, "the question appeared").await;
    assert_eq!(browser.axe_violations(&["floorwalker-widget", ".prompt"]).await, Value::Array(Vec::new()), "axe-core on the question card");
    screenshot(&browser, "desktop-ru-question").await;

    // The visitor ignores it, then leaves: the comparison replaces the untouched question.
    let rows = leave_by_the_top_for_the_comparison(&browser).await;
    assert_eq!(names_of(&rows), names, "the comparison lists both products viewed");
    assert_focus_stayed_on_the_page(&browser, "the comparison appeared").await;
    // Prices as the page writes them.
    let page_price = browser.eval("return document.querySelector('.price').textContent;", vec![]).await;
    assert_eq!(same_spaces(&rows[1][1]), same_spaces(&page_price), "{rows}");
    assert_eq!(browser.axe_violations(&["floorwalker-widget", ".prompt"]).await, Value::Array(Vec::new()), "axe-core on the comparison card");
    screenshot(&browser, "desktop-ru-comparison").await;
    browser.close().await;
}

#[tokio::test]
async fn a_visitor_who_answers_sees_the_thank_you_close_itself_and_then_the_comparison_with_what_fits() {
    let (worker, _) = demo_shop("salesperson-answer").await;
    let browser = Browser::start().await;
    let names = view_products(&browser, &worker, &[STROLLER, BOOSTER]).await;
    card_of(&browser, "child_age").await;
    // «До года»: the second choice.
    browser.eval(&format!("{SHADOW} root.querySelectorAll('.prompt .choice')[1].click(); return null;"), vec![]).await;
    let thanks = browser.wait_for("the thank-you", &format!("{SHADOW} const d = root.querySelector('.prompt .done'); return d && d.textContent;")).await;
    assert!(thanks.as_str().is_some_and(|t| t.starts_with("Спасибо")), "{thanks}");
    browser.wait_for("the thank-you to close itself", &format!("{SHADOW} return !root.querySelector('.prompt');")).await;

    let rows = leave_by_the_top_for_the_comparison(&browser).await;
    assert_eq!(names_of(&rows), names);
    assert_eq!(rows[0][2], "Подходит по возрасту", "the stroller from birth suits a baby: {rows}");
    assert_eq!(rows[1][2], Value::Null, "a booster from 3.5 years is not pointed out: {rows}");
    let title = browser.eval(&format!("{SHADOW} return root.querySelector('.prompt h2').textContent;"), vec![]).await;
    assert_eq!(title, "Сравнить то, что подходит по возрасту?", "the answer picked the card's words");
    screenshot(&browser, "desktop-ru-answered-comparison").await;

    // The owner's funnel counts this visit from what the widget itself sent: once its last
    // events are stored, one read (it rolls today up) shows the question answered and the
    // comparison eligible and shown, not yet taken.
    let shown_compare = "SELECT COUNT(*) AS n FROM events WHERE site = 'demo' AND type = 'prompt_shown' AND data LIKE '%compare_by_email%'";
    floorwalker_e2e::eventually("the widget's prompt_shown of the comparison in D1", Duration::from_secs(30), || async {
        (worker.d1_select(shown_compare)[0]["n"].as_u64() == Some(1)).then_some(())
    })
    .await;
    let funnel: floorwalker_core::insights::funnel::Funnel = worker.admin_get("/sites/demo/funnel").await;
    let counts = |prompt: &str| {
        let found = funnel.prompts.iter().find(|p| p.prompt == prompt).unwrap_or_else(|| panic!("{prompt} in {funnel:#?}"));
        let c = &found.counts;
        (c.eligible, c.shown, c.accepted, c.dismissed)
    };
    assert_eq!(counts("child_age"), (1, 1, 1, 0), "the question, answered");
    assert_eq!(counts("compare_by_email"), (1, 1, 0, 0), "the comparison, shown at exit");
    assert_eq!(funnel.site.visitors, 1);
    browser.close().await;
}

#[tokio::test]
async fn on_a_phone_the_question_is_a_compact_sheet_and_a_flick_after_a_pause_brings_the_comparison() {
    let (worker, _) = demo_shop("salesperson-phone").await;
    let browser = Browser::start_mobile().await;
    let names = view_products(&browser, &worker, &[STROLLER, CAR_SEAT]).await;
    focus_the_page(&browser).await;
    let question = card_of(&browser, "child_age").await;
    let share = |card: &Value| card["height"].as_f64().unwrap_or(f64::MAX) / card["viewport"].as_f64().unwrap_or(1.0);
    assert!(share(&question) <= 0.35, "the question covers {:.0} % of the phone's screen", share(&question) * 100.0);
    assert_focus_stayed_on_the_page(&browser, "the question appeared").await;
    screenshot(&browser, "phone-ru-question").await;

    browser.flick_up_after_a_pause().await;
    let rows = browser.wait_for("the comparison after the flick", &format!("{SHADOW} {COMPARISON_ROWS}")).await;
    assert_eq!(names_of(&rows), names);
    let comparison = card_of(&browser, "compare_by_email").await;
    assert!(share(&comparison) <= 0.35, "the comparison covers {:.0} % of the phone's screen", share(&comparison) * 100.0);
    assert_focus_stayed_on_the_page(&browser, "the comparison appeared").await;
    assert_eq!(browser.axe_violations(&["floorwalker-widget", ".prompt"]).await, Value::Array(Vec::new()), "axe-core on the compact sheet");
    screenshot(&browser, "phone-ru-comparison").await;

    // The visitor opens the sheet: now the form is there and focus goes into it.
    browser.eval(&format!("{SHADOW} root.querySelector('.prompt .expand').click(); return null;"), vec![]).await;
    let field = browser.wait_for("focus in the opened form", &format!("{SHADOW} return root.activeElement && root.activeElement.id;")).await;
    assert_eq!(field, "fw-contact");
    screenshot(&browser, "phone-ru-comparison-open").await;
    browser.close().await;
}

#[tokio::test]
async fn on_a_360_px_phone_the_launcher_covers_none_of_the_product_page_s_text() {
    let (worker, _) = demo_shop("salesperson-launcher").await;
    let browser = Browser::start_mobile().await;
    for path in [STROLLER.to_owned(), format!("/en{CAR_SEAT}"), BOOSTER.to_owned()] {
        open(&browser, &worker.url(&path)).await;
        // Every text node's boxes against the launcher's, at the top of the page and scrolled to its end.
        for scroll in ["0", "document.documentElement.scrollHeight"] {
            browser.eval(&format!("window.scrollTo(0, {scroll}); return null;"), vec![]).await;
            // The widget looks again within a second of the page moving.
            tokio::time::sleep(Duration::from_millis(1_500)).await;
            let covered = browser
                .eval(
                    &format!(
                        "{SHADOW} const l = root.querySelector('button.launcher').getBoundingClientRect();
                         const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
                         const hits = [];
                         for (let node = walker.nextNode(); node; node = walker.nextNode()) {{
                           if (!node.textContent.trim()) continue;
                           const range = document.createRange(); range.selectNodeContents(node);
                           for (const r of range.getClientRects()) {{
                             if (r.width && r.height && r.left < l.right && r.right > l.left && r.top < l.bottom && r.bottom > l.top)
                               hits.push(node.textContent.trim().slice(0, 40));
                           }}
                         }}
                         return hits;"
                    ),
                    vec![],
                )
                .await;
            assert_eq!(covered, Value::Array(Vec::new()), "{path} scrolled to {scroll}: the launcher covers text");
        }
    }
    browser.close().await;
}

#[tokio::test]
async fn an_english_visitor_reads_the_page_s_prices_on_the_card() {
    let (worker, _) = demo_shop("salesperson-english").await;
    let browser = Browser::start().await;
    let paths = [format!("/en{STROLLER}"), format!("/en{CAR_SEAT}")];
    view_products(&browser, &worker, &[&paths[0], &paths[1]]).await;
    let page_price = browser.eval("return document.querySelector('.price').textContent;", vec![]).await;
    assert!(page_price.as_str().is_some_and(|p| p.ends_with('₽')), "the page's own format: {page_price}");
    card_of(&browser, "child_age").await;
    screenshot(&browser, "desktop-en-question").await;
    let rows = leave_by_the_top_for_the_comparison(&browser).await;
    assert_eq!(same_spaces(&rows[1][1]), same_spaces(&page_price), "the card writes the price as the page does: {rows}");
    screenshot(&browser, "desktop-en-comparison").await;
    browser.close().await;
}
