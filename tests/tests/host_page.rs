//! The host page is never harmed: on a shop whose theme is hostile to anything a plugin adds, the
//! launcher stays visible and clickable, and the page's own content looks exactly the same with
//! and without the widget's tag.

use std::time::Duration;

use fantoccini::Locator;
use floorwalker_e2e::browser::{Browser, WIDGET_ROOT, WIDGET_TAG};
use floorwalker_e2e::shop::{ShopServer, Theme};
use floorwalker_e2e::worker::Worker;
use floorwalker_e2e::{eventually, widget_host};
use serde_json::Value;

const PAGE: &str = "/en/product/orsa-360-isofix/";

/// What real themes do, at their worst, to whatever a plugin adds to the page; every rule here
/// could reach the widget's host element. The credit line makes the body end with a visible
/// element that the theme's `:last-child` rules style.
const HOSTILE_THEME: Theme = Theme {
    head: r#"<style>
/* Tidying up: empty containers, and divs that third parties inject into the body. */
div:empty, body > div { display: none !important; }
*:empty:not(img) { display: none !important; }
/* Debugging leftovers. */
[id] { outline: 5px solid #d00 !important; outline-offset: -5px !important; }
[style] { visibility: hidden !important; opacity: 0 !important; }
/* Spacing that depends on which element comes last. */
:last-child { margin-bottom: 0 !important; }
body > :last-child { display: block; margin: 0; padding: 18px; background: #fde68a; border-top: 6px solid #92400e; text-align: center; }
</style>"#,
    body_end: r#"<p class="theme-credit">Theme “Sharp Edges”, for the Floorwalker tests</p>"#,
};

/// The launcher as the visitor meets it: its box, whether it is inside the viewport, whether the
/// page's hit testing reaches it (through the shadow root) at its centre, and the widget's frame
/// (launcher, badge and their shadow) to leave out of the page comparison.
const LAUNCHER: &str = concat!(
    "const host = ",
    widget_host!(),
    r#";
    const launcher = host && host.shadowRoot && host.shadowRoot.querySelector('button.launcher');
    if (!launcher) return null;
    const r = launcher.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    const hit = host.shadowRoot.elementFromPoint(x, y);
    const frame = launcher.parentElement.getBoundingClientRect();
    return {
        width: r.width, height: r.height,
        inViewport: r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight,
        pageHitsHost: document.elementFromPoint(x, y) === host,
        hitIsLauncher: !!hit && (hit === launcher || launcher.contains(hit)),
        visible: launcher.checkVisibility({ opacityProperty: true, visibilityProperty: true }),
        frame: { left: frame.left, top: frame.top },
        viewport: { width: innerWidth, height: innerHeight },
    };
"#
);

/// True once the page has finished loading, its images included (the lazy ones below the fold
/// load when scrolled to).
const SETTLED: &str = "return document.readyState === 'complete' && [...document.images].every(i => i.complete);";

/// The page's own pixels at the top and at the very bottom (where the theme's last-child rules
/// show), leaving out the corner where the launcher is drawn, and the document's size.
async fn page_pixels(browser: &Browser, corner: (f64, f64), viewport: (f64, f64)) -> (Value, Vec<Vec<u8>>) {
    // The launcher's box shadow reaches about 20 px beyond its frame.
    let (left, top) = (corner.0 - 24.0, corner.1 - 24.0);
    let (width, height) = viewport;
    let mut shots = Vec::new();
    for scroll in ["window.scrollTo(0, 0);", "window.scrollTo(0, document.documentElement.scrollHeight);"] {
        browser.eval(scroll, vec![]).await;
        browser.wait_for("the page to settle", SETTLED).await;
        // Two frames, so that what was scrolled into view is painted.
        browser
            .client
            .execute_async("requestAnimationFrame(() => requestAnimationFrame(arguments[0]));", vec![])
            .await
            .expect("animation frames");
        shots.push(browser.screenshot_of(0.0, 0.0, width, top).await);
        shots.push(browser.screenshot_of(0.0, top, left, height - top).await);
    }
    let size = browser
        .eval(
            "const d = document.documentElement;
             return [d.scrollWidth, d.scrollHeight, window.scrollY, document.body.getBoundingClientRect().height];",
            vec![],
        )
        .await;
    (size, shots)
}

#[tokio::test]
async fn on_a_hostile_theme_the_launcher_works_and_the_page_looks_the_same_with_and_without_the_tag() {
    let worker = Worker::start("host-page").await;
    let shop = ShopServer::start_with_theme(&worker.origin(), HOSTILE_THEME);
    let mut config = worker.demo_site_config(&[shop.origin()]);
    // No prompt cards: nothing but the launcher may differ between the two pages.
    config.widget.prompts.clear();
    worker.put_site(&config).await;
    let browser = Browser::start().await;

    browser.client.goto(&shop.url(PAGE)).await.expect("opening the themed page");
    let launcher = eventually("the launcher to be on screen", Duration::from_secs(20), || async {
        let value = browser.client.execute(LAUNCHER, vec![]).await.ok()?;
        (!value.is_null()).then_some(value)
    })
    .await;
    assert!(launcher["width"].as_f64() > Some(40.0) && launcher["height"].as_f64() > Some(40.0), "{launcher}");
    assert_eq!(launcher["inViewport"], true, "{launcher}");
    assert_eq!(launcher["visible"], true, "{launcher}");
    assert_eq!(launcher["pageHitsHost"], true, "the page's hit testing reaches the widget: {launcher}");
    assert_eq!(launcher["hitIsLauncher"], true, "{launcher}");

    let number = |v: &Value| v.as_f64().expect("a number");
    let corner = (number(&launcher["frame"]["left"]), number(&launcher["frame"]["top"]));
    let viewport = (number(&launcher["viewport"]["width"]), number(&launcher["viewport"]["height"]));
    let (size_with, with_tag) = page_pixels(&browser, corner, viewport).await;

    browser.client.goto(&shop.url(&format!("{PAGE}?fw=off"))).await.expect("opening the page without the tag");
    browser.wait_for("the page without the tag", "return !!document.querySelector('.theme-credit');").await;
    let (size_without, without_tag) = page_pixels(&browser, corner, viewport).await;
    let host = browser.eval(concat!("return ", widget_host!(), " === null;"), vec![]).await;
    assert_eq!(host, Value::Bool(true), "the comparison page really has no widget");

    assert_eq!(size_with, size_without, "the document's size (width, height, bottom scroll, body height)");
    for (index, (with, without)) in with_tag.iter().zip(&without_tag).enumerate() {
        if with != without {
            let dir = std::env::temp_dir();
            let (a, b) = (dir.join(format!("host-page-{index}-with.png")), dir.join(format!("host-page-{index}-without.png")));
            let _ = std::fs::write(&a, with);
            let _ = std::fs::write(&b, without);
            panic!("screenshot {index} differs with the tag: compare {} and {}", a.display(), b.display());
        }
    }

    // And it is clickable as a person clicks: WebDriver refuses a click that something covers.
    browser.client.goto(&shop.url(PAGE)).await.expect("opening the themed page again");
    browser.wait_for("the widget to mount", &format!("{WIDGET_ROOT} return !!root && !!root.querySelector('button.launcher');")).await;
    let host = browser.client.find(Locator::Css(WIDGET_TAG)).await.expect("the widget's host element");
    let root = host.shadow_root().await.expect("its open shadow root");
    let button = root.find(Locator::Css("button.launcher")).await.expect("the launcher");
    button.click().await.expect("a real click on the launcher");
    let panel = browser
        .wait_for(
            "the panel to open",
            &format!(
                "{WIDGET_ROOT} const p = root.querySelector('.panel'); const r = p.getBoundingClientRect();
                 return !p.hidden && p.checkVisibility({{ opacityProperty: true, visibilityProperty: true }})
                     && root.querySelector('button.launcher').getAttribute('aria-expanded') === 'true'
                     && {{ width: r.width, height: r.height, top: r.top }};"
            ),
        )
        .await;
    let on_screen = panel["width"].as_f64() > Some(200.0) && panel["height"].as_f64() > Some(40.0) && panel["top"].as_f64() >= Some(0.0);
    assert!(on_screen, "the open panel is on screen: {panel}");
    browser.close().await;
}
