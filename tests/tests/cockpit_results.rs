//! Issue 14, the owner's "Results" screen («Результаты») end to end: the real worker, an owner
//! created by `make owner`, the console in headless Chromium. A scripted set of visits, a lead and
//! a deal reported by the CRM show as the comparison's funnel and revenue; the split by source; a
//! deal token created from the screen (its URL shown once) and revoked. Screenshots (desktop and
//! 360 px, ru and en) go to target/screens/results/; axe-core finds no violation; nothing is wider
//! than a phone; the period is chosen by keyboard.

use std::time::Duration;

use floorwalker_core::leads::lead::{Lead, LeadKind};
use floorwalker_e2e::browser::Browser;
use floorwalker_e2e::chat::PASSWORD;
use floorwalker_e2e::console::{make_member, now_ms, post_events, Console};
use floorwalker_e2e::leads::{post, request};
use floorwalker_e2e::worker::Worker;
use reqwest::Method;
use serde_json::{json, Value};

const OWNER: &str = "olga@demo.example";

async fn shot(browser: &Browser, name: &str) {
    tokio::time::sleep(Duration::from_millis(300)).await;
    floorwalker_e2e::save_screen("results", name, &browser.screenshot_of_page().await);
}

async fn assert_accessible(browser: &Browser, what: &str) {
    assert_eq!(browser.axe_violations(&[]).await, json!([]), "axe-core on {what}");
}

async fn open_results(console: &Console) {
    console.click("[data-test=nav-results]").await;
    console.wait("the comparison's funnel", "return !!document.querySelector('[data-test=funnel-prompt][data-prompt=compare_by_email] [data-test=step-eligible]');").await;
}

fn step(prompt: &str, step: &str) -> String {
    format!("return document.querySelector('[data-test=funnel-prompt][data-prompt={prompt}] [data-test=step-{step}] .n')?.textContent;")
}

#[tokio::test]
async fn the_owner_sees_each_prompts_funnel_and_revenue_and_manages_deal_tokens() {
    let worker = Worker::start("cockpit-results").await;
    worker.seed_demo_site(&[]).await;
    make_member(&worker, "owner", "demo", OWNER, "Olga", PASSWORD);
    let o = worker.origin();
    let t = now_ms() - 30_000;
    let e = |i: u64, data: Value| {
        let mut data = data;
        data["id"] = json!(format!("results-e{i:04}"));
        data["at"] = json!(t + i * 1000);
        data
    };
    post_events(&worker, &o, "visitor-results-1", vec![
        e(1, json!({"type": "page_view", "url": format!("{o}/?utm_source=yandex"), "title": "x"})),
        e(2, json!({"type": "product_view", "product": {"id": "a", "name": "A"}})),
        e(3, json!({"type": "page_view", "url": format!("{o}/product/b/"), "title": "x"})),
        e(4, json!({"type": "product_view", "product": {"id": "b", "name": "B"}})),
        e(5, json!({"type": "exit_intent", "trigger": "tab_hidden"})),
        e(6, json!({"type": "prompt_shown", "prompt": "compare_by_email"})),
        e(7, json!({"type": "prompt_accepted", "prompt": "compare_by_email"})),
    ])
    .await;
    let mut lead = request(LeadKind::Callback, "visitor-results-1", "results-1", &o);
    lead.prompt = Some("compare_by_email".into());
    assert_eq!(post(&worker, &o, &serde_json::to_string(&lead).unwrap()).await.status().as_u16(), 201);
    let lead_id = Lead::id_for("demo", "visitor-results-1", &lead.idempotency_key);
    let (status, token) = worker.admin_send(Method::POST, "/sites/demo/deal-tokens", Some(json!({"name": "Bitrix24"}))).await;
    assert_eq!(status, 201);
    let deal = json!({"lead": lead_id, "deal": "B24-7", "amount": "44990", "currency": "RUB"});
    let reported = worker.http().post(token["url"].as_str().unwrap()).json(&deal).send().await.unwrap();
    assert_eq!(reported.status().as_u16(), 201);

    let console = Console::open(&worker).await;
    console.set_lang("ru").await;
    console.login(OWNER, PASSWORD).await;
    open_results(&console).await;
    console.wait("the hash to name the section", "return location.hash === '#results';").await;
    for (name, n) in [("eligible", "1"), ("shown", "1"), ("accepted", "1"), ("leads", "1")] {
        assert_eq!(console.browser.eval(&step("compare_by_email", name), vec![]).await, json!(n), "{name}");
    }
    let revenue = console.wait_text("[data-test=funnel-prompt][data-prompt=compare_by_email] [data-test=prompt-revenue]", "44").await;
    assert!(revenue.contains("44\u{a0}990\u{a0}₽"), "{revenue}");
    // The Bitrix24 token says what its last call did, in the owner's language.
    let last = console.wait_text("[data-test=deal-token-last-call]", "записано сделок: 1").await;
    assert!(last.starts_with("Последний вызов "), "{last}");
    assert_accessible(&console.browser, "the Results screen (ru)").await;
    shot(&console.browser, "desktop-ru").await;

    // The period by keyboard, then the split by source.
    console.browser.eval("document.querySelector('[data-test=results-days]').focus();", vec![]).await;
    let focused = console.browser.client.active_element().await.unwrap();
    focused.send_keys("\u{E015}").await.unwrap(); // ArrowDown: the next period
    console.wait("the period to change", "return document.querySelector('[data-test=results-days]').value === '90';").await;
    console.browser.eval("const s = document.querySelector('[data-test=results-by]'); s.value = 'source'; s.dispatchEvent(new Event('change'));", vec![]).await;
    console.wait_text("[data-test=site-groups]", "yandex").await;

    // A deal token from the screen: its URL once, then revoked.
    console.set_lang("en").await;
    console.type_into("[data-test=deal-token-name]", "amoCRM").await;
    console.click("[data-test=deal-token-create]").await;
    let url = console.wait_text("[data-test=deal-token-url]", "/v1/deals/demo?token=fwdeal_").await;
    assert!(url.contains(&o), "{url}");
    assert_accessible(&console.browser, "the Results screen with a new token (en)").await;
    shot(&console.browser, "desktop-en-token").await;
    console.wait("two tokens listed", "return document.querySelectorAll('[data-test=deal-token]').length === 2;").await;
    console.wait_text("[data-test=deal-token-last-call]", "No call yet").await;
    console.click("[data-test=deal-token-revoke]").await;
    console.wait("one token left to revoke", "return document.querySelectorAll('[data-test=deal-token-revoke]').length === 1;").await;
    console.close().await;

    // At 360 px, in both languages.
    let phone = Console { browser: Browser::start_mobile().await };
    phone.browser.client.goto(&worker.url("/console/")).await.expect("opening /console on a phone");
    phone.set_lang("ru").await;
    phone.login(OWNER, PASSWORD).await;
    open_results(&phone).await;
    let overflow = phone.browser.eval("return document.documentElement.scrollWidth - document.documentElement.clientWidth;", vec![]).await;
    assert_eq!(overflow, json!(0), "nothing wider than the phone");
    assert_accessible(&phone.browser, "the Results screen at 360 px (ru)").await;
    shot(&phone.browser, "phone-ru").await;
    phone.set_lang("en").await;
    phone.wait_text("[data-test=results]", "Eligible").await;
    assert_accessible(&phone.browser, "the Results screen at 360 px (en)").await;
    shot(&phone.browser, "phone-en").await;
    phone.close().await;
}
