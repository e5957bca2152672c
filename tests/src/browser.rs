//! Headless Chromium driven through chromedriver (WebDriver), one browser per test.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};

use crate::{eventually, free_port};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    pub client: Client,
    driver: Child,
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
        Browser { client, driver }
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page and returns its value.
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
