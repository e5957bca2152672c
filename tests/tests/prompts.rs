//! Context-aware prompts end to end: the demo shop served by the worker under `wrangler dev` with
//! the test-timing switch on (`FLOORWALKER_TEST_TIMING=1`), so the config may run the engine 60×
//! faster (the 30 s dwell is 1 s, the 300 s callback floor 5 s). Everything else is real: the
//! loader, the wasm widget, the shop's own markup and history calls, D1.

use std::time::Duration;

use floorwalker_core::base::locale::Locale;
use floorwalker_core::base::money::{Currency, Money};
use floorwalker_core::leads::consent::ConsentPurpose;
use floorwalker_core::leads::lead::{LeadKind, LeadRequest};
use floorwalker_core::prompts::config::{SiteConfig, TestTiming};
use floorwalker_core::prompts::hours::{BusinessHours, OpeningHours};
use floorwalker_core::visitor::event::{EventData, ExitTrigger};
use floorwalker_e2e::browser::Browser;
use floorwalker_e2e::contrast::assert_contrast;
use floorwalker_e2e::receiver::Receiver;
use floorwalker_e2e::eventually;
use floorwalker_e2e::worker::Worker;
use serde_json::Value;

const STROLLER: &str = "/product/puffin-trio-3in1/";
const CAR_SEAT: &str = "/product/orsa-360-isofix/";
const TIME_SCALE: u32 = 60;

/// A worker with the switch on, and the demo site with only `prompts` of the built-in playbooks.
async fn shop(name: &str, prompts: &[&str], adjust: impl FnOnce(&mut SiteConfig)) -> Worker {
    let worker = Worker::start(name).await;
    let mut config = worker.demo_site_config(&[]);
    config.widget.test_timing = Some(TestTiming { time_scale: TIME_SCALE });
    config.widget.prompts.retain(|prompt| prompts.contains(&prompt.id.as_str()));
    adjust(&mut config);
    worker.put_site(&config).await;
    worker
}

use floorwalker_e2e::browser::WIDGET_ROOT as SHADOW;

async fn open(browser: &Browser, url: &str) {
    browser.client.goto(url).await.unwrap_or_else(|e| panic!("opening {url}: {e}"));
    browser
        .wait_for(
            "the widget to mount",
            &format!("{SHADOW} return !!root && !!root.querySelector('button.launcher');"),
        )
        .await;
}


/// Waits until the stored session has seen `n` distinct products.
async fn products_seen(browser: &Browser, n: usize) {
    browser.wait_for_session(&format!("{n} products in the session"), "demo", |s| s["products"].as_array().is_some_and(|p| p.len() == n)).await;
}

/// The page's own schema.org product: name and price as the shop states them.
async fn shop_product(browser: &Browser) -> (String, Money) {
    let ld = browser
        .eval("return JSON.parse(document.querySelector('script[type=\"application/ld+json\"]').textContent);", vec![])
        .await;
    let name = ld["name"].as_str().expect("a product name").to_owned();
    let price: f64 = ld["offers"]["price"].as_str().expect("a price").parse().expect("a number");
    (name, Money { minor: (price * 100.0).round() as i64, currency: Currency::RUB })
}

async fn visitor(browser: &Browser) -> String {
    let id = browser.wait_for("a visitor id", "return localStorage.getItem('fw:demo:visitor');").await;
    id.as_str().expect("a string id").to_owned()
}

#[tokio::test]
async fn the_card_code_arrives_ahead_of_the_first_card_and_not_for_a_short_visit() {
    // 900 s of dwell is 15 s under the test scale: no card before, and the cards module due at 10 s.
    let worker = shop("prompt-preload", &["compare_by_email"], |c| c.widget.guardrails.min_dwell_seconds = 900).await;
    let browser = Browser::start().await;
    let fetched = |module: &str| format!("return performance.getEntriesByType('resource').some(e => e.name.includes('/w/{module}-'));");
    open(&browser, &worker.url(STROLLER)).await;
    assert_eq!(browser.eval(&fetched("fw-widget"), vec![]).await, Value::Bool(true));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(browser.eval(&fetched("fw-ui"), vec![]).await, Value::Bool(false), "a visitor who leaves within seconds downloads no card code");

    // The visit goes on: the module comes before the dwell is over, while no card is on screen.
    let early = browser
        .wait_for(
            "the cards module ahead of any card",
            &format!(
                "{SHADOW}
                 const ui = performance.getEntriesByType('resource').some(e => e.name.includes('/w/fw-ui-'));
                 return ui ? !root.querySelector('.prompt') : null;"
            ),
        )
        .await;
    assert_eq!(early, Value::Bool(true), "fetched before any card could appear");

    // A second product and the pointer leaving: the card, drawn by the module, lists both.
    open(&browser, &worker.url(CAR_SEAT)).await;
    products_seen(&browser, 2).await;
    let names = browser
        .wait_for(
            "the comparison card",
            &format!(
                "{SHADOW}
                 document.dispatchEvent(new MouseEvent('mouseout', {{ clientX: 400, clientY: -3, relatedTarget: null, bubbles: true }}));
                 const card = root.querySelector('.prompt[data-prompt=compare_by_email]');
                 return card && card.querySelectorAll('.products li').length;"
            ),
        )
        .await;
    assert_eq!(names, Value::from(2));
    let announced = browser.eval(&format!("{SHADOW} return root.querySelector('.sr[aria-live=polite]').textContent;"), vec![]).await;
    let title = browser.eval(&format!("{SHADOW} return root.querySelector('.prompt h2').textContent;"), vec![]).await;
    assert_eq!(announced, title, "the new card is announced by its title");
    assert!(title.as_str().is_some_and(|t| !t.is_empty()), "the title comes from the site config: {title}");
    assert_eq!(browser.eval(&fetched("fw-chat"), vec![]).await, Value::Bool(false), "a card brings no chat code");
    browser.close().await;
}

/// The card's text against its backgrounds, as the browser draws it, for a light and a dark brand
/// colour: title, body, products, field, consent, the validation error and every button.
#[tokio::test]
async fn the_card_s_text_meets_wcag_aa_contrast_on_a_light_and_a_dark_brand() {
    for brand in ["#ffd400", "#1a237e"] {
        let worker = shop(&format!("prompt-contrast-{}", &brand[1..]), &["compare_by_email"], |c| {
            c.widget.theme.brand_color = brand.into();
        })
        .await;
        let browser = Browser::start().await;
        for (n, path) in [STROLLER, CAR_SEAT].into_iter().enumerate() {
            open(&browser, &worker.url(path)).await;
            products_seen(&browser, n + 1).await;
        }
        browser
            .wait_for(
                "the comparison card with a validation error",
                &format!(
                    "{SHADOW}
                     document.dispatchEvent(new MouseEvent('mouseout', {{ clientX: 400, clientY: -3, relatedTarget: null, bubbles: true }}));
                     const input = root.querySelector('#fw-contact');
                     if (!input) return null;
                     input.value = 'not an email';
                     input.dispatchEvent(new Event('input', {{ bubbles: true }}));
                     root.querySelector('form button[type=submit]').click();
                     return root.querySelector('#fw-error').textContent;"
                ),
            )
            .await;
        // Measured as the visitor reads it: after the card's fade-in.
        browser
            .wait_for("the card's entrance to end", &format!("{SHADOW} return root.querySelector('.prompt').getAnimations().length === 0;"))
            .await;
        let measured = assert_contrast(
            &browser,
            brand,
            &[
                ("title", ".prompt h2", ""),
                ("body", "#fw-body", ""),
                ("product name", ".products .name", ""),
                ("price", ".products .price", ""),
                ("field label", "label[for=fw-contact]", ""),
                ("field", "#fw-contact", ""),
                ("consent", "#fw-consent", ""),
                ("validation error", "#fw-error", ""),
                ("accept button", ".prompt button[type=submit]", ""),
                ("dismiss button", ".prompt .secondary", ""),
                ("close button", ".prompt .x", ""),
                ("launcher", "button.launcher", ""),
            ],
        )
        .await;
        assert_eq!(measured.len(), 12, "every element was there to measure: {measured:?}");
        browser.close().await;
    }
}

#[tokio::test]
async fn exit_intent_after_two_products_offers_their_comparison_and_the_form_posts_a_lead() {
    let worker = shop("prompt-compare", &["compare_by_email"], |_| {}).await;
    let browser = Browser::start().await;

    let mut expected = Vec::new();
    for (n, path) in [STROLLER, CAR_SEAT].into_iter().enumerate() {
        open(&browser, &worker.url(path)).await;
        expected.push(shop_product(&browser).await);
        products_seen(&browser, n + 1).await;
    }
    // Leaving through the top of the viewport, as a real pointer would; repeated until the
    // (test-shortened) dwell has passed and the engine answers.
    let listed = browser
        .wait_for(
            "the comparison prompt",
            &format!(
                "{SHADOW}
                 document.dispatchEvent(new MouseEvent('mouseout', {{ clientX: 400, clientY: -3, relatedTarget: null, bubbles: true }}));
                 const card = root.querySelector('.prompt[data-prompt=compare_by_email]');
                 if (!card) return null;
                 return [...card.querySelectorAll('.products li')].map(li =>
                     [li.querySelector('.name').textContent, li.querySelector('.price').textContent]);"
            ),
        )
        .await;
    let expected_rows: Vec<Value> = expected
        .iter()
        .map(|(name, price)| Value::from(vec![name.clone(), price.display(Locale::Ru)]))
        .collect();
    assert_eq!(listed, Value::from(expected_rows), "exactly the two products viewed, with their prices");

    // Submitting: capture what the widget POSTs, whatever the server answers.
    browser
        .eval(
            &format!(
                "{SHADOW}
                 window.__leads = [];
                 const original = window.fetch;
                 window.fetch = function (url, init) {{
                     if (String(url).includes('/v1/leads')) window.__leads.push(init && init.body);
                     return original.apply(this, arguments);
                 }};
                 floorwalker('on', 'lead_submitted', (e) => {{ window.__submitted = e; throw new Error('a host bug'); }});
                 const input = root.querySelector('#fw-contact');
                 input.value = 'not an email';
                 input.dispatchEvent(new Event('input', {{ bubbles: true }}));
                 root.querySelector('form button[type=submit]').click();"
            ),
            vec![],
        )
        .await;
    let invalid = browser
        .wait_for("the client-side validation message", &format!("{SHADOW} return root.querySelector('#fw-error').textContent;"))
        .await;
    assert!(invalid.as_str().unwrap_or_default().contains("адрес"), "localized message: {invalid}");
    // A person needs a moment to type; the server refuses forms filled faster than 1.5 s.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    browser
        .eval(
            &format!(
                "{SHADOW}
                 const input = root.querySelector('#fw-contact');
                 input.value = 'anna@example.ru';
                 input.dispatchEvent(new Event('input', {{ bubbles: true }}));
                 root.querySelector('form button[type=submit]').click();"
            ),
            vec![],
        )
        .await;
    let body = browser.wait_for("the lead POST", "return window.__leads.length ? window.__leads[0] : null;").await;
    let lead: LeadRequest = serde_json::from_str(body.as_str().expect("a text body")).expect("the body is a LeadRequest");
    assert_eq!(lead.kind, LeadKind::ComparisonEmail);
    assert_eq!(lead.prompt.as_deref(), Some("compare_by_email"));
    assert_eq!(lead.contact.email.as_deref(), Some("anna@example.ru"));
    assert_eq!(lead.consent.purpose, ConsentPurpose::ComparisonEmail);
    assert!(!lead.consent.text.is_empty());
    assert!(lead.honeypot.is_empty());
    assert!(lead.submitted_at >= lead.form_shown_at + 1500);
    let names: Vec<&str> = lead.context.products.iter().map(|viewed| viewed.product.name.as_str()).collect();
    assert_eq!(names, expected.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>(), "exactly those products");
    let prices: Vec<Option<Money>> = lead.context.products.iter().map(|viewed| viewed.product.price).collect();
    assert_eq!(prices, expected.iter().map(|(_, price)| Some(*price)).collect::<Vec<_>>());

    // Until the leads route exists the POST fails: the form says so, offers a retry and keeps the
    // address; once it exists, the success state says what will happen.
    let outcome = browser
        .wait_for(
            "the form's answer",
            &format!(
                "{SHADOW}
                 const done = root.querySelector('.done');
                 if (done) return {{ done: done.textContent }};
                 const error = root.querySelector('#fw-error').textContent;
                 if (!error || root.querySelector('form button[type=submit]').getAttribute('aria-busy') === 'true') return null;
                 return {{ error, kept: root.querySelector('#fw-contact').value,
                           button: root.querySelector('form button[type=submit]').textContent }};"
            ),
        )
        .await;
    if let Some(done) = outcome["done"].as_str() {
        assert!(done.contains("anna@example.ru"), "{done}");
    } else {
        assert_eq!(outcome["kept"], "anna@example.ru", "nothing the visitor typed is lost: {outcome}");
        assert_eq!(outcome["button"], "Попробовать ещё раз", "{outcome}");
    }
    browser.close().await;
}

/// The whole promise, in a real browser: two products, the exit-intent prompt, an email typed and
/// sent → the lead in D1 with those products → the promised email in the local mailbox with exactly
/// those products → `lead.created` at a real receiver, signed (verified by the receiver's own code).
#[tokio::test]
async fn a_submitted_comparison_lead_is_stored_emailed_and_signed_to_the_crm() {
    let worker = shop("prompt-lead", &["compare_by_email"], |_| {}).await;
    let receiver = Receiver::start();
    worker.allow_private_endpoints().await;
    let endpoint = worker
        .add_endpoint(serde_json::json!({"id": "crm", "url": receiver.url("/hooks/crm"), "preset": {"kind": "generic"}}))
        .await;
    receiver.set_secrets(vec![endpoint.secret]);
    let browser = Browser::start().await;
    for (n, path) in [STROLLER, CAR_SEAT].into_iter().enumerate() {
        open(&browser, &worker.url(path)).await;
        products_seen(&browser, n + 1).await;
    }
    let visitor = visitor(&browser).await;
    browser
        .wait_for(
            "the comparison prompt",
            &format!(
                "{SHADOW}
                 document.dispatchEvent(new MouseEvent('mouseout', {{ clientY: -3, relatedTarget: null, bubbles: true }}));
                 return !!root.querySelector('.prompt[data-prompt=compare_by_email]');"
            ),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    browser
        .eval(
            &format!(
                "{SHADOW}
                 floorwalker('on', 'lead_submitted', (e) => {{ window.__submitted = e.prompt; }});
                 const input = root.querySelector('#fw-contact');
                 input.value = 'anna@example.ru';
                 input.dispatchEvent(new Event('input', {{ bubbles: true }}));
                 root.querySelector('form button[type=submit]').click();"
            ),
            vec![],
        )
        .await;
    let submitted = browser.wait_for("lead_submitted", "return window.__submitted || null;").await;
    assert_eq!(submitted, "compare_by_email");
    let leads: Vec<Value> = eventually("the lead in D1", Duration::from_secs(15), || async {
        let response = worker
            .http()
            .get(worker.url(&format!("/v1/admin/sites/demo/leads?visitor={visitor}")))
            .bearer_auth(&worker.admin_token)
            .send()
            .await
            .ok()?;
        let leads: Vec<Value> = response.json().await.ok()?;
        (!leads.is_empty()).then_some(leads)
    })
    .await;
    let products: Vec<&str> = leads[0]["context"]["products"]
        .as_array()
        .expect("products")
        .iter()
        .filter_map(|viewed| viewed["product"]["url"].as_str())
        .collect();
    assert_eq!(products.len(), 2, "{products:?}");
    assert_eq!(leads[0]["contact"]["email"], "anna@example.ru");
    let lead_id = leads[0]["id"].as_str().expect("lead id").to_owned();
    let names: Vec<String> = leads[0]["context"]["products"]
        .as_array()
        .expect("products")
        .iter()
        .filter_map(|viewed| viewed["product"]["name"].as_str().map(str::to_owned))
        .collect();

    let emails: Vec<Value> = eventually("the promised email in the mailbox", Duration::from_secs(20), || async {
        let emails: Vec<Value> = worker.admin_get(&format!("/mailbox?lead={lead_id}")).await;
        (!emails.is_empty()).then_some(emails)
    })
    .await;
    assert_eq!(emails.len(), 1, "one promise, one email");
    let email = &emails[0]["message"];
    assert_eq!(email["to"], "anna@example.ru");
    for name in &names {
        assert!(email["html"].as_str().unwrap_or_default().contains(name.as_str()), "the email lists {name}");
    }

    let delivered = eventually("lead.created at the CRM", Duration::from_secs(20), || async {
        receiver.received().into_iter().find(|r| r.delivered() && r.json()["type"] == "lead.created")
    })
    .await;
    assert_eq!(delivered.signature_valid, Some(true), "the receiver verified the Standard Webhooks signature");
    assert_eq!(delivered.json()["data"]["id"], lead_id.as_str(), "{}", delivered.json());
    browser.close().await;
}

#[tokio::test]
async fn the_callback_offer_appears_after_the_shortened_active_time() {
    let worker = shop("prompt-callback", &["callback"], |config| {
        // Always open, so the offer is the "within N minutes" one whatever the hour of the test.
        let day = Some(OpeningHours { open: 0, close: 24 * 60 });
        config.widget.business_hours =
            BusinessHours { mon: day, tue: day, wed: day, thu: day, fri: day, sat: day, sun: day };
    })
    .await;
    let browser = Browser::start().await;
    open(&browser, &worker.url(CAR_SEAT)).await;
    let card = browser
        .wait_for(
            "the callback prompt",
            &format!(
                "{SHADOW}
                 const card = root.querySelector('.prompt[data-prompt=callback]');
                 if (!card) return null;
                 return {{ title: card.querySelector('h2').textContent, body: card.querySelector('#fw-body').textContent,
                           field: card.querySelector('#fw-contact').type, label: card.querySelector('label[for=fw-contact]').textContent,
                           consent: card.querySelector('.consent').textContent }};"
            ),
        )
        .await;
    assert_eq!(card["title"], "Хотите, мы позвоним?", "{card}");
    assert!(card["body"].as_str().unwrap_or_default().contains("15 минут"), "the promise names the minutes: {card}");
    assert_eq!(card["field"], "tel");
    assert_eq!(card["label"], "Ваш телефон");
    assert!(!card["consent"].as_str().unwrap_or_default().is_empty(), "the consent text is next to the field");
    // The engine waited for the (scaled) 300 s of attention, not just the dwell.
    let active = browser.widget_session("demo").await;
    let active = active["visit_active_seconds"].as_u64().unwrap_or(0);
    assert!(active >= u64::from(300 / TIME_SCALE), "shown after {active} active seconds");
    browser.close().await;
}

#[tokio::test]
async fn spa_route_changes_are_page_views_in_d1_each_route_once() {
    let worker = shop("prompt-spa", &[], |_| {}).await;
    let browser = Browser::start().await;
    open(&browser, &worker.url("/guide/")).await;
    let visitor = visitor(&browser).await;
    let click = |tab: &'static str| {
        format!(
            "document.getElementById('{tab}').click();
             return location.pathname;"
        )
    };
    let first = browser.eval(&click("tab-toddler"), vec![]).await;
    assert_eq!(first, "/guide/toddler");
    // The same tab again (the guide does not push), and a replaceState of the same URL: no new route.
    browser.eval(&click("tab-toddler"), vec![]).await;
    browser.eval("history.replaceState(history.state, '', location.href); return null;", vec![]).await;
    let second = browser.eval(&click("tab-travel"), vec![]).await;
    assert_eq!(second, "/guide/travel");
    // Back to the previous route is a navigation too.
    browser.eval("history.back(); return null;", vec![]).await;
    browser.wait_for("back on the toddler tab", "return location.pathname === '/guide/toddler';").await;

    let expected: Vec<String> =
        ["/guide/", "/guide/toddler", "/guide/travel", "/guide/toddler"].iter().map(|p| worker.url(p)).collect();
    let views = eventually("four page views in D1", Duration::from_secs(20), || async {
        let mut events = worker.events("demo", &visitor).await;
        events.sort_by_key(|stored| stored.event.at);
        let views: Vec<String> = events
            .into_iter()
            .filter_map(|stored| match stored.event.data {
                EventData::PageView(view) => Some(view.url),
                _ => None,
            })
            .collect();
        (views.len() >= expected.len()).then_some(views)
    })
    .await;
    assert_eq!(views, expected, "each route change once, nothing for repeats");
    browser.close().await;
}

#[tokio::test]
async fn a_dismissed_prompt_does_not_come_back_on_the_next_page() {
    let worker = shop("prompt-dismiss", &["child_age"], |_| {}).await;
    let browser = Browser::start().await;
    open(&browser, &worker.url(STROLLER)).await;
    products_seen(&browser, 1).await;
    open(&browser, &worker.url("/catalog/strollers/")).await;
    browser
        .wait_for(
            "the question prompt",
            &format!("{SHADOW} return !!root.querySelector('.prompt[data-prompt=child_age]');"),
        )
        .await;
    // Escape dismisses, from the keyboard.
    browser
        .eval(
            &format!(
                "{SHADOW} root.querySelector('.prompt').dispatchEvent(new KeyboardEvent('keydown', {{ key: 'Escape', bubbles: true }}));
                 return null;"
            ),
            vec![],
        )
        .await;
    browser.wait_for("the card to go", &format!("{SHADOW} return !root.querySelector('.prompt');")).await;

    open(&browser, &worker.url(CAR_SEAT)).await;
    let arrived = browser.widget_session("demo").await["visit_active_seconds"].as_u64().unwrap_or(0);
    // Several evaluations later (one per active second, the dwell is 1 s), still nothing.
    browser
        .wait_for_session("a few more active seconds on the next page", "demo", |s| {
            s["visit_active_seconds"].as_u64().is_some_and(|seconds| seconds >= arrived + 3)
        })
        .await;
    let card = browser.eval(&format!("{SHADOW} return !!root.querySelector('.prompt');"), vec![]).await;
    assert_eq!(card, Value::Bool(false), "the dismissed prompt stays away");
    let session = browser.widget_session("demo").await;
    let record = session["prompt_history"].as_array().and_then(|h| h.iter().find(|r| r["prompt"] == "child_age")).cloned();
    let record = record.expect("a history record for child_age");
    assert_eq!(record["shown"], 1, "{record}");
    assert!(record["dismissed_at"].is_u64(), "{record}");
    browser.close().await;
}

#[tokio::test]
async fn without_the_deploy_switch_test_timing_is_refused() {
    let worker = Worker::start_with_real_timing("prompt-strict").await;
    let mut config = worker.demo_site_config(&[]);
    config.widget.test_timing = Some(TestTiming { time_scale: TIME_SCALE });
    let response = worker.try_put_site(&config).await;
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.expect("an error body");
    assert_eq!(body["error"]["code"], "invalid_config", "{body}");
}

// ---- exit intent on a phone -------------------------------------------------------------------
// A phone has no pointer to leave through the top of the window, so the widget reads the gestures
// that come before leaving: a fast scroll up, going back to where the visit began, and switching
// away from the tab. These run in Chromium's device emulation (360×740, touch, coarse pointer).

/// The comparison card's product names, or null while there is none.
const COMPARISON_NAMES: &str = "const card = root.querySelector('.prompt[data-prompt=compare_by_email]');
     return card ? [...card.querySelectorAll('.products li .name')].map(n => n.textContent) : null;";

/// A phone visitor who viewed both products; returns the browser, their id and the names seen.
async fn phone_visitor_after_two_products(worker: &Worker) -> (Browser, String, Vec<String>) {
    let browser = Browser::start_mobile().await;
    let mut names = Vec::new();
    for (n, path) in [STROLLER, CAR_SEAT].into_iter().enumerate() {
        open(&browser, &worker.url(path)).await;
        names.push(shop_product(&browser).await.0);
        products_seen(&browser, n + 1).await;
    }
    let coarse = browser.eval("return matchMedia('(pointer: coarse)').matches && innerWidth === 360;", vec![]).await;
    assert_eq!(coarse, Value::Bool(true), "the emulated phone has a coarse pointer and a 360 px viewport");
    let visitor = visitor(&browser).await;
    (browser, visitor, names)
}

/// Waits for an `exit_intent` event with `trigger` in D1.
async fn exit_intent_stored(worker: &Worker, visitor: &str, trigger: ExitTrigger) {
    eventually(&format!("a {trigger:?} exit intent in D1"), Duration::from_secs(20), || async {
        worker
            .events("demo", visitor)
            .await
            .iter()
            .any(|stored| matches!(&stored.event.data, EventData::ExitIntent(intent) if intent.trigger == trigger))
            .then_some(())
    })
    .await;
}

/// The card is inside the 360 px viewport, not cut off at either side.
async fn assert_card_fits_the_phone(browser: &Browser) {
    let fits = browser
        .eval(
            &format!(
                "{SHADOW} const r = root.querySelector('.prompt').getBoundingClientRect();
                 return r.left >= 0 && r.right <= innerWidth && r.width > 200;"
            ),
            vec![],
        )
        .await;
    assert_eq!(fits, Value::Bool(true), "the card fits a 360 px phone");
}

#[tokio::test]
async fn on_a_phone_a_fast_scroll_up_offers_the_comparison_but_a_slow_one_does_not() {
    let worker = shop("prompt-phone-scroll", &["compare_by_email"], |_| {}).await;
    let (browser, visitor, names) = phone_visitor_after_two_products(&worker).await;
    let tall = browser.eval("return document.documentElement.scrollHeight - innerHeight;", vec![]).await;
    assert!(tall.as_f64().unwrap_or(0.0) >= 600.0, "the product page must scroll on a phone: {tall}");

    // The desktop signal means nothing on a phone (a touch can synthesise odd mouse events).
    // Reading slowly back up, 40 px a frame, is reading, not leaving.
    browser
        .client
        .execute_async(
            "document.dispatchEvent(new MouseEvent('mouseout', { clientX: 100, clientY: -3, relatedTarget: null, bubbles: true }));
             const done = arguments[arguments.length - 1];
             window.scrollTo(0, 900);
             let y = 900;
             const step = () => { y -= 40; window.scrollTo(0, Math.max(y, 0)); if (y > 0) setTimeout(step, 60); else done(null); };
             setTimeout(step, 60);",
            vec![],
        )
        .await
        .expect("a slow scroll up");
    let card = browser.eval(&format!("{SHADOW} {COMPARISON_NAMES}"), vec![]).await;
    assert_eq!(card, Value::Null, "no card after a slow scroll up or a mouseout on a phone");

    // A flick back to the top: 900 px within a couple of frames.
    let listed = browser
        .wait_for(
            "the comparison prompt after a fast scroll up",
            &format!(
                "{SHADOW}
                 const names = (() => {{ {COMPARISON_NAMES} }})();
                 if (names) return names;
                 window.scrollTo(0, 900);
                 requestAnimationFrame(() => requestAnimationFrame(() => window.scrollTo(0, 0)));
                 return null;"
            ),
        )
        .await;
    assert_eq!(listed, Value::from(names), "exactly the two products viewed");
    assert_card_fits_the_phone(&browser).await;
    exit_intent_stored(&worker, &visitor, ExitTrigger::FastScrollUp).await;
    let events = worker.events("demo", &visitor).await;
    assert!(
        !events.iter().any(|s| matches!(&s.event.data, EventData::ExitIntent(i) if i.trigger == ExitTrigger::PointerTop)),
        "no pointer-top exit intent from a phone"
    );
    browser.close().await;
}

#[tokio::test]
async fn on_a_phone_a_flick_after_a_reading_pause_offers_the_comparison() {
    let worker = shop("prompt-phone-flick", &["compare_by_email"], |_| {}).await;
    let (browser, visitor, names) = phone_visitor_after_two_products(&worker).await;
    let tall = browser.eval("return document.documentElement.scrollHeight - innerHeight;", vec![]).await;
    assert!(tall.as_f64().unwrap_or(0.0) >= 600.0, "the product page must scroll on a phone: {tall}");
    // Past the engine's (shortened) dwell, so the flick is the only thing the card waits for.
    browser
        .wait_for_session("a few active seconds", "demo", |s| s["visit_active_seconds"].as_u64().is_some_and(|seconds| seconds >= 3))
        .await;
    browser.flick_up_after_a_pause().await;
    let listed = browser.wait_for("the comparison prompt after the flick", &format!("{SHADOW} {COMPARISON_NAMES}")).await;
    assert_eq!(listed, Value::from(names), "exactly the two products viewed");
    exit_intent_stored(&worker, &visitor, ExitTrigger::FastScrollUp).await;
    browser.close().await;
}

#[tokio::test]
async fn on_a_phone_going_back_to_where_the_visit_began_offers_the_comparison() {
    let worker = shop("prompt-phone-back", &["compare_by_email"], |_| {}).await;
    let (browser, visitor, names) = phone_visitor_after_two_products(&worker).await;
    open(&browser, &worker.url("/guide/")).await;
    // Moving forward inside the page is browsing.
    browser.eval("document.getElementById('tab-toddler').click(); return null;", vec![]).await;
    let card = browser.eval(&format!("{SHADOW} {COMPARISON_NAMES}"), vec![]).await;
    assert_eq!(card, Value::Null, "no card for a forward route change");
    // Back to the page the visitor arrived on, once the route's dwell (5 s, 1 s under the test
    // time scale) has passed: the next back would leave the shop.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    browser.eval("history.back(); return null;", vec![]).await;
    let listed = browser
        .wait_for("the comparison prompt after going back", &format!("{SHADOW} return location.pathname === '/guide/' && (() => {{ {COMPARISON_NAMES} }})();"))
        .await;
    assert_eq!(listed, Value::from(names));
    exit_intent_stored(&worker, &visitor, ExitTrigger::BackNavigation).await;
    browser.close().await;
}

#[tokio::test]
async fn on_a_phone_switching_away_shows_the_comparison_on_return_not_while_hidden() {
    let worker = shop("prompt-phone-hidden", &["compare_by_email"], |_| {}).await;
    let (browser, visitor, names) = phone_visitor_after_two_products(&worker).await;
    // Past the page dwell before leaving, so the switch counts.
    browser
        .wait_for_session("a few active seconds", "demo", |s| s["visit_active_seconds"].as_u64().is_some_and(|seconds| seconds >= 3))
        .await;
    let shop_tab = browser.client.window().await.expect("the current tab");
    let other = browser.client.new_window(true).await.expect("a second tab");
    browser.client.switch_to_window(other.handle).await.expect("switching to the second tab");
    browser.client.goto("about:blank").await.expect("a blank page");
    // Away longer than a notification-shade flicker (2 s).
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    browser.client.switch_to_window(shop_tab).await.expect("back to the shop");
    let hidden_seen = browser.eval("return document.visibilityState;", vec![]).await;
    assert_eq!(hidden_seen, "visible", "the shop tab is in front again");
    exit_intent_stored(&worker, &visitor, ExitTrigger::TabHidden).await;
    let listed = browser.wait_for("the comparison prompt on return", &format!("{SHADOW} {COMPARISON_NAMES}")).await;
    assert_eq!(listed, Value::from(names));
    browser.close().await;
}

// ---- the chat invitation ------------------------------------------------------------------------

/// Three pages and (shortened) active time: what the built-in invitation asks of a visitor.
async fn browse_three_pages(worker: &Worker, browser: &Browser) {
    for path in ["/", STROLLER, "/catalog/strollers/"] {
        open(browser, &worker.url(path)).await;
    }
    browser
        .wait_for_session("three active seconds", "demo", |s| s["visit_active_seconds"].as_u64().is_some_and(|seconds| seconds >= 3))
        .await;
}

const INVITATION: &str = "return !!root.querySelector('.prompt[data-prompt=chat_invitation]');";

#[tokio::test]
async fn the_chat_invitation_comes_only_while_an_operator_is_online_and_opens_the_chat() {
    use floorwalker_e2e::chat::{create_operator, login, ConsoleSocket, PASSWORD};
    use floorwalker_core::chat::hub::HubNotification;

    let worker = shop("prompt-invite", &["chat_invitation"], |_| {}).await;
    let presence = |origin: String| {
        let request = worker.http().get(worker.url("/v1/sites/demo/presence")).header("origin", origin);
        async move {
            let response = request.send().await.expect("GET presence");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap_or_default())
        }
    };
    let (status, body) = presence("https://evil.example".into()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("origin_not_allowed")), "{body}");

    // Nobody online: the same visit brings no invitation.
    assert_eq!(presence(worker.origin()).await.1["operator_online"], Value::Bool(false));
    let browser = Browser::start().await;
    browse_three_pages(&worker, &browser).await;
    let shown = browser.eval(&format!("{SHADOW} {INVITATION}"), vec![]).await;
    assert_eq!(shown, Value::Bool(false), "no invitation while nobody can answer");
    browser.close().await;

    // Anna opens her console: the next visitor is invited, and accepting opens the chat.
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let cookie = login(&worker, "anna@demo.example", PASSWORD).await;
    let mut console = ConsoleSocket::open(&worker, &cookie).await;
    console.until("the snapshot", |n| matches!(n, HubNotification::Snapshot { .. }).then_some(())).await;
    eventually("presence to say online", Duration::from_secs(20), || async {
        (presence(worker.origin()).await.1["operator_online"] == Value::Bool(true)).then_some(())
    })
    .await;
    let browser = Browser::start().await;
    browse_three_pages(&worker, &browser).await;
    browser.wait_for("the chat invitation", &format!("{SHADOW} {INVITATION}")).await;
    browser
        .eval(&format!("{SHADOW} root.querySelector('.prompt[data-prompt=chat_invitation] button.primary').click(); return null;"), vec![])
        .await;
    browser
        .wait_for(
            "the chat to open",
            &format!("{SHADOW} return root.querySelector('button.launcher').getAttribute('aria-expanded') === 'true';"),
        )
        .await;
    let session = browser.widget_session("demo").await;
    let record = session["prompt_history"].as_array().and_then(|h| h.iter().find(|r| r["prompt"] == "chat_invitation")).cloned();
    assert!(record.is_some_and(|r| r["accepted_at"].is_u64()), "the invitation is recorded as accepted: {session}");
    browser.close().await;
}
