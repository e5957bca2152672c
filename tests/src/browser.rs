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
        Browser::launch(None).await
    }

    /// A phone: Chromium's device emulation at 360×740 with touch, so `(pointer: coarse)` matches
    /// and the page sees a mobile user agent, as on a real Android phone.
    pub async fn start_mobile() -> Browser {
        Browser::launch(Some(json!({
            "deviceMetrics": { "width": 360, "height": 740, "pixelRatio": 3.0, "touch": true },
            "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Mobile Safari/537.36"
        })))
        .await
    }

    async fn launch(mobile_emulation: Option<Value>) -> Browser {
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
                    "--no-first-run", "--disable-quic", "--window-size=1280,900"
                ]
            }
        });
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

    /// A PNG of the CSS-pixel rectangle `(x, y, width, height)` of the viewport, taken by Chromium
    /// itself (DevTools `Page.captureScreenshot` through chromedriver): identical pixels give
    /// identical bytes.
    pub async fn screenshot_of(&self, x: f64, y: f64, width: f64, height: f64) -> Vec<u8> {
        use base64::Engine as _;
        let session = self.client.session_id().await.ok().flatten().expect("a WebDriver session");
        let command = json!({
            "cmd": "Page.captureScreenshot",
            "params": { "format": "png", "clip": { "x": x, "y": y, "width": width, "height": height, "scale": 1 } }
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
