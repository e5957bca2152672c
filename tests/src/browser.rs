//! Headless Chromium driven through chromedriver (WebDriver), one browser per test.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};

use crate::{eventually, free_port};

/// A JS expression: the widget's host element, or null before it mounts. The tag is
/// `browser_kit::HOST_TAG`; were they ever to differ, every widget test would fail at once.
#[macro_export]
macro_rules! widget_host {
    () => {
        "document.querySelector('floorwalker-widget')"
    };
}

/// The widget's host element as a CSS selector, for WebDriver's locators.
pub const WIDGET_TAG: &str = "floorwalker-widget";

/// A JS statement that binds `root` to the widget's shadow root (undefined before it mounts).
pub const WIDGET_ROOT: &str = concat!("const root = ", widget_host!(), "?.shadowRoot;");

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    pub client: Client,
    driver: Child,
    /// chromedriver's address, for the Chrome-specific commands fantoccini does not wrap.
    webdriver: String,
}

impl Browser {
    /// A desktop browser: a fine pointer and a 1280×900 window.
    pub async fn start() -> Browser {
        Browser::launch(None, (1280, 900)).await
    }

    /// A desktop browser whose viewport is `width`×`height` CSS pixels.
    pub async fn start_sized(width: u32, height: u32) -> Browser {
        let browser = Browser::launch(None, (width, height)).await;
        // The window's size includes the browser's own bars, headless too: grow it by their height.
        let inner = browser.eval("return [innerWidth, innerHeight];", vec![]).await;
        let (inner_width, inner_height) = (inner[0].as_u64().unwrap_or(0) as u32, inner[1].as_u64().unwrap_or(0) as u32);
        if (inner_width, inner_height) != (width, height) {
            let (outer_width, outer_height) = ((2 * width).saturating_sub(inner_width), (2 * height).saturating_sub(inner_height));
            browser.client.set_window_size(outer_width, outer_height).await.expect("resizing the window");
        }
        browser
    }

    /// A phone as [`Browser::start_mobile`] with a `width`×`height` screen.
    pub async fn start_mobile_sized(width: u32, height: u32) -> Browser {
        Browser::launch(Some(phone(width, height)), (1280, 900)).await
    }

    /// A phone: Chromium's device emulation at 360×740 with touch, so `(pointer: coarse)` matches
    /// and the page sees a mobile user agent, as on a real Android phone.
    pub async fn start_mobile() -> Browser {
        Browser::start_mobile_sized(360, 740).await
    }

    async fn launch(mobile_emulation: Option<Value>, (width, height): (u32, u32)) -> Browser {
        use std::os::unix::process::CommandExt;
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            // Its own process group, so a failing test that never reaches close() still takes
            // Chromium down with the driver (see Drop).
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting /usr/bin/chromedriver (apt-get install chromium-driver)");
        let webdriver = format!("http://127.0.0.1:{port}");
        let mut capabilities = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--disable-quic", format!("--window-size={width},{height}")
                ]
            }
        });
        // WebDriver's own limits, well under the runner's: a page that never loads or a script that
        // never returns is an error naming the call, not a hang.
        capabilities["timeouts"] = json!({"pageLoad": 30_000, "script": 30_000});
        if let Some(emulation) = mobile_emulation {
            capabilities["goog:chromeOptions"]["mobileEmulation"] = emulation;
        }
        let Value::Object(capabilities) = capabilities else { unreachable!("a JSON object literal") };
        let client = eventually("chromedriver to start a session", Duration::from_secs(30), || {
            let (webdriver, capabilities) = (webdriver.clone(), capabilities.clone());
            async move {
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(capabilities)
                    .connect(&webdriver)
                    .await
                    .ok()
            }
        })
        .await;
        Browser { client, driver, webdriver }
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page and returns its value.
    /// Reads down the page, rests two seconds, then scrolls 600 px up in six frames (about 100 ms):
    /// the flick that comes before leaving on a phone; most real flicks follow a pause like this.
    pub async fn flick_up_after_a_pause(&self) {
        self.client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 const top = Math.min(900, document.documentElement.scrollHeight - innerHeight);
                 window.scrollTo(0, top);
                 setTimeout(() => {
                   let y = top;
                   const frame = () => { y -= 100; window.scrollTo(0, y); if (y > top - 600) requestAnimationFrame(frame); else done(null); };
                   requestAnimationFrame(frame);
                 }, 2000);",
                vec![],
            )
            .await
            .expect("a flick after a reading pause");
    }

    /// axe-core's violations (rule id, help, where) within `include` (a selector path that may go
    /// through shadow roots: `&["floorwalker-widget", ".panel"]`; empty for the whole document),
    /// `[]` when clean. axe-core is a pinned npm package (package.json), put in the page once.
    pub async fn axe_violations(&self, include: &[&str]) -> Value {
        if self.eval("return typeof window.axe === 'object';", vec![]).await != json!(true) {
            let path = crate::repo_root().join("node_modules/axe-core/axe.min.js");
            let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (make setup installs it)", path.display()));
            self.eval(&format!("{source}\n;return null;"), vec![]).await;
        }
        self.client
            .execute_async(
                "const [include, done] = [arguments[0], arguments[arguments.length - 1]];
                 axe.run(include.length ? { include: [include] } : document, { resultTypes: ['violations'] })
                    .then(r => done(r.violations.map(v => [v.id, v.help, v.nodes.map(n => n.target.join(' ')).join(', ')])),
                          e => done(['axe failed', String(e)]));",
                vec![json!(include)],
            )
            .await
            .expect("axe-core ran")
    }

    pub async fn eval(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Waits until `script` returns something other than null/false, and returns it.
    pub async fn wait_for(&self, what: &str, script: &str) -> Value {
        eventually(what, Duration::from_secs(20), || async {
            let value = self.client.execute(script, vec![]).await.ok()?;
            (!value.is_null() && value != Value::Bool(false)).then_some(value)
        })
        .await
    }

    /// The widget's stored session for `site` (kept in `localStorage` in core's wire form) as JSON,
    /// `null` when there is none or it does not decode.
    pub async fn widget_session(&self, site: &str) -> Value {
        let text = self.eval(&format!("return localStorage.getItem('fw:{site}:state');"), vec![]).await;
        let session = text.as_str().and_then(floorwalker_core::base::wire::from_text::<floorwalker_core::visitor::session::Session>);
        session.map_or(Value::Null, |session| serde_json::to_value(session).unwrap_or(Value::Null))
    }

    /// Waits until the widget's stored session for `site` satisfies `ready` (given it as JSON).
    pub async fn wait_for_session(&self, what: &str, site: &str, ready: impl Fn(&Value) -> bool) -> Value {
        eventually(what, Duration::from_secs(20), || async {
            let session = self.widget_session(site).await;
            ready(&session).then_some(session)
        })
        .await
    }

    /// A PNG of the CSS-pixel rectangle `(x, y, width, height)` of the viewport, taken by Chromium
    /// itself (DevTools `Page.captureScreenshot` through chromedriver): identical pixels give
    /// identical bytes.
    pub async fn screenshot_of(&self, x: f64, y: f64, width: f64, height: f64) -> Vec<u8> {
        let clip = json!({ "x": x, "y": y, "width": width, "height": height, "scale": 1 });
        self.capture(json!({ "format": "png", "clip": clip })).await
    }

    /// A PNG of the whole page, below the fold too (DevTools `captureBeyondViewport`): a screen as
    /// long as a phone makes it, in one picture.
    pub async fn screenshot_of_page(&self) -> Vec<u8> {
        self.capture(json!({ "format": "png", "captureBeyondViewport": true })).await
    }

    async fn capture(&self, params: Value) -> Vec<u8> {
        use base64::Engine as _;
        let response = self.cdp("Page.captureScreenshot", params).await;
        let data = response["data"].as_str().unwrap_or_else(|| panic!("no screenshot in {response}"));
        base64::engine::general_purpose::STANDARD.decode(data).expect("base64 PNG")
    }

    /// Runs a DevTools command through chromedriver (`Browser.grantPermissions`, ...); its result.
    pub async fn cdp(&self, command: &str, params: Value) -> Value {
        let session = self.client.session_id().await.ok().flatten().expect("a WebDriver session");
        let response: Value = reqwest::Client::new()
            .post(format!("{}/session/{session}/goog/cdp/execute", self.webdriver))
            .json(&json!({ "cmd": command, "params": params }))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .unwrap_or_else(|e| panic!("chromedriver's DevTools bridge ({command}): {e}"))
            .json()
            .await
            .expect("a JSON answer");
        response["value"].clone()
    }

    /// A PNG of the whole page, beyond the viewport (DevTools `captureBeyondViewport`), for
    /// looking at a screen as a person would scroll through it.
    pub async fn screenshot_full_page(&self) -> Vec<u8> {
        let size = self.eval("return [document.documentElement.scrollWidth, document.documentElement.scrollHeight];", vec![]).await;
        let width = size[0].as_f64().unwrap_or(1280.0);
        let height = size[1].as_f64().unwrap_or(900.0).min(8000.0);
        use base64::Engine as _;
        let session = self.client.session_id().await.ok().flatten().expect("a WebDriver session");
        let command = json!({
            "cmd": "Page.captureScreenshot",
            "params": { "format": "png", "captureBeyondViewport": true,
                        "clip": { "x": 0, "y": 0, "width": width, "height": height, "scale": 1 } }
        });
        let response: Value = reqwest::Client::new()
            .post(format!("{}/session/{session}/goog/cdp/execute", self.webdriver))
            .json(&command)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .expect("chromedriver's DevTools bridge")
            .json()
            .await
            .expect("a JSON answer");
        let data = response["value"]["data"].as_str().unwrap_or_else(|| panic!("no screenshot in {response}"));
        base64::engine::general_purpose::STANDARD.decode(data).expect("base64 PNG")
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.driver.wait();
    }
}

/// Chromium's emulation of an Android phone with a `width`×`height` screen and touch, so
/// `(pointer: coarse)` and `(hover: none)` match and the page sees a mobile user agent.
fn phone(width: u32, height: u32) -> Value {
    json!({
        "deviceMetrics": { "width": width, "height": height, "pixelRatio": 3.0, "touch": true },
        "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Mobile Safari/537.36"
    })
}
