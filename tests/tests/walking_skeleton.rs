//! The walking skeleton, for real: demo shop page → loader → wasm widget in a shadow root →
//! worker under wrangler dev → D1, and the page surviving a dead worker.

use std::time::Duration;

use floorwalker_core::visitor::event::EventData;
use floorwalker_e2e::browser::Browser;
use floorwalker_e2e::shop::ShopServer;
use floorwalker_e2e::worker::Worker;
use floorwalker_e2e::{eventually, widget_host};
use serde_json::Value;

const PRODUCT_PAGE: &str = "/product/orsa-360-isofix/";

/// Returns the launcher's computed background once the widget has mounted in a shadow root.
const WIDGET_MOUNTED: &str = concat!(
    "const host = ",
    widget_host!(),
    r#";
    if (!host || !host.shadowRoot) return null;
    const launcher = host.shadowRoot.querySelector('button.launcher');
    if (!launcher) return null;
    return {
        background: getComputedStyle(launcher).backgroundColor,
        label: launcher.getAttribute('aria-label'),
        inLightDom: document.querySelector('button.launcher') !== null,
    };
"#
);

const VISITOR_ID: &str = "return localStorage.getItem('fw:demo:visitor');";

async fn page_views_of(worker: &Worker, visitor: &str) -> Vec<String> {
    worker
        .events("demo", visitor)
        .await
        .into_iter()
        .filter_map(|stored| match stored.event.data {
            EventData::PageView(view) => Some(view.url),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn widget_mounts_in_a_shadow_root_and_its_page_view_reaches_d1() {
    let worker = Worker::start("skeleton").await;
    worker.seed_demo_site(&[]).await;
    let browser = Browser::start().await;
    let page = worker.url(PRODUCT_PAGE);
    browser.client.goto(&page).await.expect("opening the product page");

    let mounted = browser.wait_for("the widget to mount in a shadow root", WIDGET_MOUNTED).await;
    // #e4572e is the demo site's brand colour in demo-site/site.json.
    assert_eq!(mounted["background"], "rgb(228, 87, 46)", "{mounted}");
    assert_eq!(mounted["label"], "Открыть помощника", "the Russian page gets Russian copy");
    assert_eq!(mounted["inLightDom"], false, "the widget's elements stay out of the host DOM");

    let visitor = browser.wait_for("a visitor id", VISITOR_ID).await;
    let visitor = visitor.as_str().expect("visitor id is a string").to_owned();
    let views = eventually("the page_view in D1", Duration::from_secs(30), || async {
        let views = page_views_of(&worker, &visitor).await;
        (!views.is_empty()).then_some(views)
    })
    .await;
    assert_eq!(views, vec![page.clone()]);

    // The launcher works inside the shadow root (handlers fire without Leptos's delegation).
    browser
        .eval(concat!(widget_host!(), ".shadowRoot.querySelector('button.launcher').click();"), vec![])
        .await;
    browser
        .wait_for(
            "the launcher to open its panel",
            concat!(
                "const root = ",
                widget_host!(),
                ".shadowRoot;
             return root.querySelector('button.launcher').getAttribute('aria-expanded') === 'true'
                 && root.querySelector('.panel') !== null;"
            ),
        )
        .await;
    browser.close().await;
}

#[tokio::test]
async fn a_shop_on_another_origin_embeds_the_widget_and_keeps_working_when_the_worker_is_down() {
    let mut worker = Worker::start("cross-origin").await;
    let shop = ShopServer::start(&worker.origin());
    worker.seed_demo_site(&[shop.origin()]).await;
    let browser = Browser::start().await;

    // Cross-origin embed: config, glue and wasm all come from the worker's origin (CORS).
    let page = shop.url("/en/product/orsa-360-isofix/");
    browser.client.goto(&page).await.expect("opening the shop page");
    let mounted = browser.wait_for("the widget to mount on the shop's page", WIDGET_MOUNTED).await;
    assert_eq!(mounted["label"], "Open assistant", "the English page gets English copy");
    let visitor = browser.wait_for("a visitor id", VISITOR_ID).await;
    let visitor = visitor.as_str().expect("visitor id is a string").to_owned();
    eventually("the shop page's page_view in D1", Duration::from_secs(15), || async {
        page_views_of(&worker, &visitor).await.contains(&page).then_some(())
    })
    .await;

    // The worker restarts (a deploy, a crash) while the visitor moves on: the batch that could not
    // be sent is kept and goes with a later flush, not dropped.
    browser
        .eval(
            "window.__warnings = []; const warn = console.warn;
             console.warn = (...args) => { window.__warnings.push(args.join(' ')); warn.apply(console, args); };
             return true;",
            vec![],
        )
        .await;
    worker.stop();
    let moved_to = shop.url("/en/catalog/car-seats/?while=down");
    browser.eval("history.pushState({}, '', arguments[0]); return true;", vec![Value::String(moved_to.clone())]).await;
    browser
        .wait_for(
            "the widget to fail sending the batch",
            "return window.__warnings.some(w => w.includes('events not sent'));",
        )
        .await;
    worker.restart().await;
    let views = eventually("the page_view made while the worker was down, in D1", Duration::from_secs(30), || async {
        let views = page_views_of(&worker, &visitor).await;
        views.contains(&moved_to).then_some(views)
    })
    .await;
    assert_eq!(views.iter().filter(|url| **url == moved_to).count(), 1, "sent again, stored once: {views:?}");

    browser.close().await;

    // The worker goes away: for a new visitor (nothing cached) the shop must behave exactly as
    // without the tag.
    worker.stop();
    assert!(worker.http().get(worker.url("/v1/health")).send().await.is_err(), "the worker is really down");
    let browser = Browser::start().await;
    browser.client.goto(&shop.url("/product/orsa-360-isofix/")).await.expect("reloading with the worker down");
    let heading = browser.wait_for("the product heading", "return document.querySelector('h1')?.textContent;").await;
    assert!(heading.as_str().unwrap_or_default().contains("Orsa 360"), "{heading}");
    let count = browser
        .eval(
            "localStorage.removeItem('krokha-cart');
             document.getElementById('add-to-cart').click();
             document.getElementById('add-to-cart').click();
             return document.getElementById('cart-count').textContent;",
            vec![],
        )
        .await;
    assert_eq!(count, Value::String("2".into()), "the shop's own add-to-cart button still works");
    let category_link = browser
        .eval("const a = document.querySelector('nav a[href^=\"/catalog/\"]'); a.click(); return a.getAttribute('href');", vec![])
        .await;
    let category_link = category_link.as_str().expect("a category link").to_owned();
    eventually("the category page to open", Duration::from_secs(10), || async {
        let url = browser.client.current_url().await.ok()?;
        url.as_str().ends_with(&category_link).then_some(())
    })
    .await;
    // Give the loader every chance to run, then check it left no trace.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let host = browser.eval(concat!("return ", widget_host!(), " === null;"), vec![]).await;
    assert_eq!(host, Value::Bool(true), "no widget element is added when the worker is down");
    browser.close().await;
}
