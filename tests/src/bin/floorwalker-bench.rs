//! `make bench`: what the widget costs the host page, measured in real headless Chromium.
//!
//! A demo product page is served from its own origin (as a real shop is) with and without the tag,
//! each in a fresh browser (empty cache: a first visit), alternating, `RUNS` times each. Reported as
//! medians: blocking time from long tasks (like Lighthouse's TBT, over the whole visit including the
//! widget's start), main-thread time of the widget's synchronous mount, and the page's load event;
//! then the visitor opens the chat: how long until the panel is drawn (the chat module's download,
//! compile and mount) and the blocking time that adds.

use std::time::Duration;

use floorwalker_e2e::browser::Browser;
use floorwalker_e2e::shop::ShopServer;
use floorwalker_e2e::worker::Worker;
use serde_json::Value;

const PAGE: &str = "/product/orsa-360-isofix/";

/// Observes long tasks from the start of the page (buffered) and reports when the visit settled.
const COLLECT: &str = concat!(
    "const widgetHost = () => ",
    floorwalker_e2e::widget_host!(),
    r#";
    const done = arguments[arguments.length - 1];
    const withWidget = arguments[0];
    const tasks = [];
    new PerformanceObserver(list => tasks.push(...list.getEntries())).observe({ type: 'longtask', buffered: true });
    const started = performance.now();
    (function poll() {
        const mounted = widgetHost();
        const waited = performance.now() - started;
        if ((withWidget && !mounted && waited < 15000) || document.readyState !== 'complete' || waited < 500) {
            return setTimeout(poll, 50);
        }
        // Let the widget's first network round and any follow-up work finish.
        setTimeout(() => {
            const nav = performance.getEntriesByType('navigation')[0];
            const mount = performance.getEntriesByName('floorwalker:mount')[0];
            const blocking = list => list.reduce((sum, t) => sum + Math.max(0, t.duration - 50), 0);
            const result = {
                mounted: !!mounted,
                blocking_ms: blocking(tasks),
                long_tasks: tasks.length,
                mount_ms: mount ? mount.duration : 0,
                load_ms: nav ? nav.loadEventEnd : 0,
            };
            if (!withWidget) return done(result);
            // Then the visitor opens the chat: the chat module's download, compile and mount.
            const opened = performance.now();
            window.floorwalker('open');
            (function settle() {
                const root = widgetHost().shadowRoot;
                const ready = root.querySelector('.panel .fwc');
                if (!ready && performance.now() - opened < 15000) return setTimeout(settle, 20);
                result.open_ms = performance.now() - opened;
                setTimeout(() => {
                    result.open_blocking_ms = blocking(tasks.filter(t => t.startTime >= opened));
                    done(result);
                }, 500);
            })();
        }, 1500);
    })();
"#
);

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

async fn visit(url: &str, with_widget: bool) -> Value {
    let browser = Browser::start().await;
    browser.client.goto(url).await.expect("opening the page");
    let result = browser
        .client
        .execute_async(COLLECT, vec![Value::Bool(with_widget)])
        .await
        .expect("collecting page metrics");
    browser.close().await;
    result
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(7);
    let worker = Worker::start("bench").await;
    let shop = ShopServer::start(&worker.origin());
    worker.seed_demo_site(&[shop.origin()]).await;
    let with_tag = shop.url(PAGE);
    let without_tag = shop.url(&format!("{PAGE}?fw=off"));

    // One untimed visit of each kind warms the worker (first-request compile) and the OS caches.
    visit(&with_tag, true).await;
    visit(&without_tag, false).await;
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        with.push(visit(&with_tag, true).await);
        without.push(visit(&without_tag, false).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(with.iter().all(|r| r["mounted"] == true), "the widget mounted in every run with the tag");
    assert!(without.iter().all(|r| r["mounted"] == false), "no widget without the tag");
    let column = |runs: &[Value], key: &str| median(runs.iter().map(|r| r[key].as_f64().unwrap_or(0.0)).collect());

    println!("\nmain-thread cost on {PAGE} (headless Chromium, cold cache, median of {runs} runs each)");
    println!("{:<38} {:>12} {:>12} {:>12}", "", "with tag", "without", "added");
    for (label, key) in [
        ("blocking time from long tasks, ms", "blocking_ms"),
        ("long tasks (> 50 ms), count", "long_tasks"),
        ("load event end, ms", "load_ms"),
    ] {
        let (a, b) = (column(&with, key), column(&without, key));
        println!("{label:<38} {a:>12.1} {b:>12.1} {:>12.1}", a - b);
    }
    println!("{:<38} {:>12.2}", "widget mount (synchronous start), ms", column(&with, "mount_ms"));
    // scripts/bench.sh holds this figure against its goal.
    if let Ok(path) = std::env::var("BENCH_ADDED_BLOCKING_FILE") {
        let added = column(&with, "blocking_ms") - column(&without, "blocking_ms");
        std::fs::write(&path, format!("{added:.1}")).expect("writing the added blocking time");
    }
    println!("\nopening the chat (chat module fetched, compiled and mounted; median of {runs})");
    println!("{:<38} {:>12.1}", "until the panel is drawn, ms", column(&with, "open_ms"));
    println!("{:<38} {:>12.1}", "blocking time from long tasks, ms", column(&with, "open_blocking_ms"));
}
