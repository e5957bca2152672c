//! Issue 14, an experiment's verdict visible to the owner, end to end: a real worker (`wrangler
//! dev`, D1) with the test-timing switch, the console in headless Chromium, the demo shop's
//! widget. The owner starts an experiment on the comparison prompt from the Prompts screen by
//! keyboard, rewrites variant B's title and moves B's card to the bottom left (the preview draws
//! B on request, in its corner) and saves: the stored config has the experiment and nothing else
//! changed. A visitor in arm B sees B's title on a card at the bottom left; one in the control
//! sees the current words beside the launcher. Then 120 visitors in each arm (B accepted five times as often) are rolled up, and the
//! Results screen shows the experiment, its arms and the verdict "Variant B wins". Screenshots
//! (desktop and 360 px, ru and en) go to target/screens/experiments/; axe-core finds nothing;
//! nothing is wider than a phone.

use std::time::Duration;

use floorwalker_core::base::locale::Locale;
use floorwalker_core::prompts::config::experiment::{Experiment, Variant, FIRST_VARIANT};
use floorwalker_core::prompts::config::{Position, SiteConfig};
use floorwalker_e2e::browser::{Browser, WIDGET_ROOT as SHADOW};
use floorwalker_e2e::console::{js, now_ms, Console};
use floorwalker_e2e::worker::Worker;
use reqwest::Method;
use serde_json::{json, Value};

use floorwalker_e2e::console::{owned_demo_shop, SHOP_OWNER as OWNER};
const COMPARE: &str = "compare_by_email";
/// The comparison is the demo's first prompt.
const B_TITLE_FIELD: &str = "[data-field='widget.prompts[0].experiment.variants[0].copy.ru.title'] input";
const B_TITLE: &str = "Сравним выбранное на почте?";
const B_CORNER_FIELD: &str = "[data-field='widget.prompts[0].experiment.variants[0].position'] select";
const STROLLER: &str = "/product/puffin-trio-3in1/";
const CAR_SEAT: &str = "/product/orsa-360-isofix/";
/// Visitors seeded per arm, and how many of them accepted: 5 % against 25 %.
const PER_ARM: usize = 120;
const ACCEPTED: [usize; 2] = [6, 30];

async fn shop(name: &str) -> (Worker, SiteConfig) {
    let (worker, stored) = owned_demo_shop(name).await;
    assert_eq!(stored.widget.prompts[0].id, COMPARE, "the comparison is the first prompt");
    (worker, stored)
}

/// The owner's console in `lang` on the section `nav` (`prompts`, `results`), once `ready` holds.
async fn console_on(worker: &Worker, browser: Browser, lang: &str, nav: &str, ready: &str) -> Console {
    browser.client.goto(&worker.url("/console")).await.expect("opening /console");
    let console = Console { browser };
    console.submit_login(OWNER.0, OWNER.1).await;
    console.wait("the owner's sections", "return !!document.querySelector('[data-test=nav-prompts]');").await;
    console.set_lang(lang).await;
    console.click(&format!("[data-test=nav-{nav}]")).await;
    console.wait(&format!("the {nav} screen"), ready).await;
    console
}

const PROMPTS_READY: &str = "return !!document.querySelector(\"[data-test='experiment-compare_by_email']\");";
const RESULTS_READY: &str = "return !!document.querySelector('[data-test=experiment][data-prompt=compare_by_email] [data-test=verdict]');";

/// Saves the page as `target/screens/experiments/<name>.png`, `selector` scrolled to the top.
async fn shot(browser: &Browser, selector: &str, name: &str) {
    browser.eval(&format!("document.querySelector({})?.scrollIntoView({{block: 'start'}});", js(selector)), vec![]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    floorwalker_e2e::save_screen("experiments", name, &browser.client.screenshot().await.expect("a screenshot"));
}

async fn assert_clean(browser: &Browser, what: &str) {
    assert_eq!(browser.axe_violations(&[]).await, json!([]), "axe-core on {what}");
    let overflow = browser.eval("return document.documentElement.scrollWidth - window.innerWidth;", vec![]).await;
    assert!(overflow.as_i64().unwrap_or(1) <= 0, "no sideways scrolling on {what}: {overflow}");
}

/// Visitor ids of the widget's form (32 hex digits) in `arm` of `experiment`, `n` of them.
fn visitors_in(experiment: &Experiment, arm: usize, n: usize, salt: u64) -> Vec<String> {
    (0u64..).map(|i| format!("{:016x}{:016x}", salt, i)).filter(|id| experiment.arm_of(id) == arm).take(n).collect()
}

/// One visitor's day as the widget reports it: a page, the comparison shown, maybe accepted.
async fn seed_visit(worker: &Worker, visitor: &str, accepted: bool) {
    let t = now_ms() - 60_000;
    let mut events = vec![
        json!({"type": "page_view", "url": format!("{}/", worker.origin()), "title": "Кроха"}),
        json!({"type": "prompt_shown", "prompt": COMPARE}),
    ];
    if accepted {
        events.push(json!({"type": "prompt_accepted", "prompt": COMPARE}));
    }
    for (i, event) in events.iter_mut().enumerate() {
        event["id"] = json!(format!("{visitor}-e{i}"));
        event["at"] = json!(t + i as u64 * 1000);
    }
    let batch = json!({"v": 1, "site": "demo", "visitor": visitor, "session": format!("s-{visitor}"), "events": events});
    let response = worker
        .http()
        .post(worker.url("/v1/events"))
        .header("content-type", "text/plain;charset=UTF-8")
        .header("origin", worker.origin())
        .body(batch.to_string())
        .send()
        .await
        .expect("POST /v1/events");
    assert_eq!(response.status().as_u16(), 202, "events: {}", response.text().await.unwrap_or_default());
}

/// The comparison card as a visitor whose id is `visitor` sees it on the Russian shop in a
/// 1280 px window: its title, and whether it stands in the left half of the window. The id is
/// put where the widget keeps it before the widget loads again, then two products and a pointer
/// leaving through the top.
async fn comparison_card_for(worker: &Worker, visitor: &str) -> (String, bool) {
    let browser = Browser::start().await;
    browser.client.goto(&worker.url(STROLLER)).await.expect("the shop");
    browser.eval(&format!("localStorage.setItem('fw:demo:visitor', {});", js(visitor)), vec![]).await;
    for path in [STROLLER, CAR_SEAT] {
        browser.client.goto(&worker.url(path)).await.expect("a product page");
        browser.wait_for("the widget to mount", &format!("{SHADOW} return !!root && !!root.querySelector('button.launcher');")).await;
    }
    browser
        .wait_for_session("two products in the session", "demo", |s| s["products"].as_array().is_some_and(|p| p.len() >= 2))
        .await;
    let kept = browser.eval("return localStorage.getItem('fw:demo:visitor');", vec![]).await;
    assert_eq!(kept.as_str(), Some(visitor), "the widget kept the visitor id it found");
    let title = browser
        .wait_for(
            "the comparison card",
            &format!(
                "{SHADOW}
                 document.dispatchEvent(new MouseEvent('mouseout', {{ clientX: 400, clientY: -3, relatedTarget: null, bubbles: true }}));
                 const card = root?.querySelector('.prompt[data-prompt={COMPARE}]');
                 const h = card?.querySelector('h2');
                 return h ? [h.textContent, card.getBoundingClientRect().right < innerWidth / 2] : null;"
            ),
        )
        .await;
    browser.close().await;
    (title[0].as_str().unwrap_or_default().to_owned(), title[1] == json!(true))
}

#[tokio::test]
async fn the_owner_starts_an_experiment_by_keyboard_a_visitor_in_b_sees_it_and_results_name_the_winner() {
    let (worker, before) = shop("cockpit-experiments").await;

    // Results before any experiment: one line on what experiments are and where to start one.
    let console = console_on(&worker, Browser::start().await, "en", "results", "return !!document.querySelector('[data-test=experiments-none]');").await;
    console.wait_text("[data-test=experiments-none]", "Try other words").await;
    console.close().await;

    // The Prompts screen: "Try other words" by keyboard.
    let console = console_on(&worker, Browser::start().await, "ru", "prompts", PROMPTS_READY).await;
    let part = "[data-test='experiment-compare_by_email']";
    console.browser.eval(&format!("document.querySelector({}).focus();", js(&format!("{part} [data-test=experiment-start]"))), vec![]).await;
    let focused = console.browser.client.active_element().await.expect("the focused button");
    focused.send_keys("\u{E007}").await.expect("Enter"); // Enter on the button
    console.wait("variant B's fields", &format!("return !!document.querySelector({});", js(B_TITLE_FIELD))).await;
    // B starts as a copy of the current words, and the focus is in its first field.
    let copied = console.browser.eval(&format!("return document.querySelector({}).value;", js(B_TITLE_FIELD)), vec![]).await;
    assert_eq!(copied.as_str(), Some(before.widget.prompts[0].copy.get(Locale::Ru).title.as_str()));
    let focus_in_b = console.browser.eval(&format!("return !!document.activeElement?.closest({});", js(&format!("{part} [data-test=variant-b]"))), vec![]).await;
    assert_eq!(focus_in_b, json!(true), "the focus moved into variant B");

    // B's title, typed; the preview draws B on request, the current words otherwise.
    let clear = format!("const e = document.querySelector({}); e.focus(); e.value = ''; e.dispatchEvent(new Event('input', {{bubbles: true}}));", js(B_TITLE_FIELD));
    console.browser.eval(&clear, vec![]).await;
    console.type_into(B_TITLE_FIELD, B_TITLE).await;
    // B also moves the card to the other corner from the launcher.
    console.browser.eval(&format!("const e = document.querySelector({}); e.value = 'bottom_left'; e.dispatchEvent(new Event('change', {{bubbles: true}}));", js(B_CORNER_FIELD)), vec![]).await;
    console.click("[data-test=preview-0] [data-test=preview-arm-b]").await;
    let preview_title = |title: &str| {
        format!(
            "const h = document.querySelector('[data-test=preview-0] .preview-host')?.shadowRoot?.querySelector('.prompt h2'); return !!h && h.textContent === {};",
            js(title)
        )
    };
    console.wait("the preview to draw B", &preview_title(B_TITLE)).await;
    console.wait("the preview to draw B at the left", "return !!document.querySelector('[data-test=preview-0] .preview-stage.at-left');").await;
    assert_clean(&console.browser, "the Prompts screen with an experiment (ru)").await;
    shot(&console.browser, part, "prompts-desktop-ru").await;
    console.set_lang("en").await;
    console.wait_text(part, "Stop the experiment").await;
    assert_clean(&console.browser, "the Prompts screen with an experiment (en)").await;
    shot(&console.browser, part, "prompts-desktop-en").await;
    console.click("[data-test=preview-0] [data-test=preview-arm-control]").await;
    let current = before.widget.prompts[0].copy.get(Locale::Ru).title.clone();
    console.wait("the preview back on the current words", &preview_title(&current)).await;

    console.click("[data-test=save]").await;
    console.wait("the save to finish", "return document.querySelector('[data-test=saved]').textContent.length > 0;").await;
    console.close().await;

    // Stored: the experiment, and nothing else.
    let after: SiteConfig = worker.admin_get("/sites/demo").await;
    let experiment = after.widget.prompts[0].experiment.clone().expect("the comparison has an experiment");
    assert!(experiment.id.starts_with("compare_by_email-"), "{}", experiment.id);
    let mut words = before.widget.prompts[0].copy.clone();
    words.keep(&before.locales);
    words.in_locale_mut(Locale::Ru).expect("Russian words").title = B_TITLE.into();
    let mut expected = before.clone();
    expected.widget.prompts[0].experiment =
        Some(Experiment { id: experiment.id.clone(), variants: vec![Variant { id: FIRST_VARIANT.into(), copy: Some(words), when: None, position: Some(Position::BottomLeft) }] });
    assert_eq!(after, expected, "the experiment was added; every other word, rule and setting is as it was");

    // A visitor in B sees B's title at the bottom left; one in the control sees the current words
    // beside the launcher, at the right. The other cards are switched off, so the comparison is
    // the card that answers the exit.
    for prompt in before.widget.prompts.iter().filter(|p| p.id != COMPARE) {
        let (status, answer) = worker.admin_send(Method::PATCH, &format!("/sites/demo/prompts/{}", prompt.id), Some(json!({"enabled": false}))).await;
        assert_eq!(status, 200, "{answer}");
    }
    let in_b = visitors_in(&experiment, 1, 1, 0xb).remove(0);
    assert_eq!(comparison_card_for(&worker, &in_b).await, (B_TITLE.to_owned(), true));
    let in_control = visitors_in(&experiment, 0, 1, 0xc).remove(0);
    assert_eq!(comparison_card_for(&worker, &in_control).await, (before.widget.prompts[0].copy.get(Locale::Ru).title.clone(), false));

    // 120 visitors a day in each arm, B accepted five times as often; rolled up.
    for (arm, accepted) in ACCEPTED.into_iter().enumerate() {
        let visitors = visitors_in(&experiment, arm, PER_ARM, 0x5eed + arm as u64);
        for chunk in visitors.chunks(10).enumerate().map(|(c, ids)| ids.iter().enumerate().map(move |(i, id)| (c * 10 + i, id))) {
            futures_util::future::join_all(chunk.map(|(n, id)| seed_visit(&worker, id, n < accepted))).await;
        }
    }
    let (status, answer) = worker.admin_send(Method::POST, "/funnel/run", None).await;
    assert_eq!(status, 200, "{answer}");
    let results: Value = worker.admin_get("/sites/demo/experiments").await;
    let arms = &results["experiments"][0]["arms"];
    assert_eq!(arms[0]["shown"], json!(PER_ARM), "{results}");
    assert!(arms[1]["shown"].as_u64().is_some_and(|n| n >= PER_ARM as u64), "{results}");
    assert_eq!(results["experiments"][0]["verdict"]["winner"]["variant"], "b", "{results}");

    // The Results screen: the arms and the verdict, in both languages, on a desktop and a phone.
    let console = console_on(&worker, Browser::start().await, "en", "results", RESULTS_READY).await;
    let card = "[data-test=experiment][data-prompt=compare_by_email]";
    let verdict = console.wait_text(&format!("{card} [data-test=verdict]"), "Variant B wins").await;
    assert!(verdict.contains("Make it the prompt's words"), "{verdict}");
    let kind = console.browser.eval(&format!("return document.querySelector({}).dataset.verdict;", js(&format!("{card} [data-test=verdict]"))), vec![]).await;
    assert_eq!(kind, json!("winner"));
    let control_rate = console.text(&format!("{card} [data-test=arm][data-variant=control] [data-test=arm-rate]")).await.unwrap_or_default();
    assert!(control_rate.starts_with("5.0\u{a0}% ("), "the control's rate with its interval: {control_rate:?}");
    assert_clean(&console.browser, "the Results screen with an experiment (en)").await;
    shot(&console.browser, "[data-test=experiments]", "results-desktop-en").await;
    console.set_lang("ru").await;
    console.wait_text(&format!("{card} [data-test=verdict]"), "Вариант B лучше").await;
    assert_clean(&console.browser, "the Results screen with an experiment (ru)").await;
    shot(&console.browser, "[data-test=experiments]", "results-desktop-ru").await;
    console.close().await;

    for lang in ["ru", "en"] {
        let phone = console_on(&worker, Browser::start_mobile().await, lang, "results", RESULTS_READY).await;
        assert_clean(&phone.browser, &format!("the Results screen at 360 px ({lang})")).await;
        shot(&phone.browser, "[data-test=experiments]", &format!("results-phone-{lang}")).await;
        phone.close().await;
        let phone = console_on(&worker, Browser::start_mobile().await, lang, "prompts", PROMPTS_READY).await;
        phone.wait_text("[data-test='experiment-compare_by_email']", if lang == "ru" { "Вариант B" } else { "Variant B" }).await;
        assert_clean(&phone.browser, &format!("the Prompts screen with an experiment at 360 px ({lang})")).await;
        shot(&phone.browser, "[data-test='experiment-compare_by_email']", &format!("prompts-phone-{lang}")).await;
        phone.close().await;
    }
}
