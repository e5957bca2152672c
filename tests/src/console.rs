//! The operator console (`/console`) driven in headless Chromium: log in through its form, and
//! read and act on the page through its `data-test` hooks.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::{json, Value};

use crate::browser::Browser;
use crate::eventually;
use crate::worker::Worker;

/// One operator's console in a browser of its own (its own cookie jar).
pub struct Console {
    pub browser: Browser,
}

impl Console {
    pub async fn open(worker: &Worker) -> Console {
        let browser = Browser::start().await;
        browser.client.goto(&worker.url("/console")).await.expect("opening /console");
        Console { browser }
    }

    /// Types into an element (real key events, so the page's `input` handlers run).
    /// A field a render has just replaced, or not yet laid out, is looked up again for a few
    /// seconds (WebDriver refuses keys to it before anything is typed).
    pub async fn type_into(&self, selector: &str, text: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let element = self.browser.client.find(Locator::Css(selector)).await.unwrap_or_else(|e| panic!("{selector}: {e}"));
            match element.send_keys(text).await {
                Ok(()) => return,
                Err(error) if std::time::Instant::now() < deadline && is_transient(&error) => tokio::time::sleep(Duration::from_millis(100)).await,
                Err(error) => panic!("typing into {selector}: {error}"),
            }
        }
    }

    /// Presses `key` (one of [`keys`]) on the element, which takes the focus first, as a keyboard
    /// user's Tab would give it.
    pub async fn press(&self, selector: &str, key: &str) {
        let element = self.browser.client.find(Locator::Css(selector)).await.unwrap_or_else(|e| panic!("{selector}: {e}"));
        element.send_keys(key).await.unwrap_or_else(|e| panic!("pressing a key on {selector}: {e}"));
    }

    /// Clicks an element once it is enabled. A live list may re-render between finding the
    /// element and clicking it (WebDriver then refuses the click, so nothing was clicked): it is
    /// looked up again for a few seconds.
    pub async fn click(&self, selector: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            self.wait(&format!("{selector} to be clickable"), &format!("const e = document.querySelector({}); return !!e && !e.disabled;", js(selector))).await;
            let element = self.browser.client.find(Locator::Css(selector)).await.unwrap_or_else(|e| panic!("{selector}: {e}"));
            match element.click().await {
                Ok(()) => return,
                Err(error) if std::time::Instant::now() < deadline && is_transient(&error) => tokio::time::sleep(Duration::from_millis(100)).await,
                Err(error) => panic!("clicking {selector}: {error}"),
            }
        }
    }

    /// Fills the login form and submits it.
    pub async fn submit_login(&self, email: &str, password: &str) {
        self.wait("the login form", "return !!document.querySelector('[data-test=login] #email');").await;
        self.browser.eval("document.querySelector('#email').value = ''; document.querySelector('#password').value = '';", vec![]).await;
        self.type_into("#email", email).await;
        self.type_into("#password", password).await;
        self.click("[data-test=login] button[type=submit]").await;
    }

    /// Logs in and waits until the console is connected to the site hub (which needs the session
    /// cookie on the WebSocket upgrade).
    pub async fn login(&self, email: &str, password: &str) {
        self.submit_login(email, password).await;
        self.wait("the console to connect", "return document.querySelector('[data-test=connection]')?.dataset.connected === 'true';").await;
    }

    /// Switches the console to `lang` ("ru", "en") by its switch (the button names the other
    /// language), and waits until the page says so.
    pub async fn set_lang(&self, lang: &str) {
        let script = format!("return document.documentElement.lang === {};", js(lang));
        if self.browser.eval(&script, vec![]).await != Value::Bool(true) {
            self.click("[data-test=lang]").await;
        }
        self.wait(&format!("the console in {lang}"), &script).await;
    }

    pub async fn wait(&self, what: &str, script: &str) -> Value {
        self.browser.wait_for(what, script).await
    }

    /// Waits until `selector` exists and its text contains `needle`; returns the text.
    pub async fn wait_text(&self, selector: &str, needle: &str) -> String {
        let script = format!(
            "const e = document.querySelector({}); return e && e.textContent.includes({}) ? e.textContent : null;",
            js(selector),
            js(needle)
        );
        self.wait(&format!("{selector} to show {needle:?}"), &script).await.as_str().unwrap_or_default().to_owned()
    }

    /// The text of `selector`, or `None` when it is not on the page.
    pub async fn text(&self, selector: &str) -> Option<String> {
        let value = self.browser.eval(&format!("const e = document.querySelector({}); return e ? e.textContent : null;", js(selector)), vec![]).await;
        value.as_str().map(str::to_owned)
    }

    pub async fn close(self) {
        self.browser.close().await;
    }
}

/// A JavaScript string literal.
pub fn js(text: &str) -> String {
    Value::from(text).to_string()
}

/// Sends the visitor's events as the widget would (`POST /v1/events` from the shop's page).
pub async fn post_events(worker: &Worker, origin: &str, visitor: &str, events: Vec<Value>) {
    let batch = json!({"v": 1, "site": "demo", "visitor": visitor, "session": format!("s-{visitor}"), "events": events});
    let response = worker
        .http()
        .post(worker.url("/v1/events"))
        .header("content-type", "text/plain;charset=UTF-8")
        .header("origin", origin)
        .body(batch.to_string())
        .send()
        .await
        .expect("POST /v1/events");
    let status = response.status();
    assert_eq!(status.as_u16(), 202, "events: {}", response.text().await.unwrap_or_default());
    let stored = eventually("the events in D1", Duration::from_secs(10), || async {
        let n = worker.events("demo", visitor).await.len();
        (n >= batch["events"].as_array().map_or(0, Vec::len)).then_some(n)
    })
    .await;
    assert!(stored > 0);
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Runs `make owner` or `make operator` (`target`) against the worker, as an owner following the
/// README would; the member the admin API answered.
pub fn make_member(worker: &Worker, target: &str, site: &str, email: &str, name: &str, password: &str) -> Value {
    let output = std::process::Command::new("make")
        .current_dir(crate::repo_root())
        // Not the caller's jobserver (`make test` runs the suites): this make stands alone.
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .args(["--no-print-directory", target])
        .arg(format!("EMAIL={email}"))
        .arg(format!("NAME={name}"))
        .arg(format!("PASSWORD={password}"))
        .arg(format!("ADMIN_TOKEN={}", worker.admin_token))
        .arg(format!("URL={}", worker.origin()))
        .arg(format!("SITE={site}"))
        .output()
        .expect("running make");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "make {target} failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let member = stdout.lines().next().unwrap_or_default();
    serde_json::from_str(member).unwrap_or_else(|e| panic!("make {target} printed no member ({e}):\n{stdout}"))
}

/// WebDriver's codes for the keys the tests press.
pub mod keys {
    pub const ENTER: &str = "\u{E007}";
    pub const TAB: &str = "\u{E004}";
    pub const ESCAPE: &str = "\u{E00C}";
    pub const ARROW_UP: &str = "\u{E013}";
    pub const ARROW_DOWN: &str = "\u{E015}";
}

/// The owner account [`owned_demo_shop`] creates.
pub const SHOP_OWNER: (&str, &str) = ("owner@kroha.example", "owner-password-1");

/// The demo shop (every built-in prompt), open around the clock so a callback promises a call,
/// 60× faster, with [`SHOP_OWNER`]'s account; the worker and the stored config.
pub async fn owned_demo_shop(name: &str) -> (crate::worker::Worker, floorwalker_core::prompts::config::SiteConfig) {
    use floorwalker_core::prompts::config::TestTiming;
    use floorwalker_core::prompts::hours::{BusinessHours, OpeningHours};
    let worker = crate::worker::Worker::start(name).await;
    let mut config = worker.demo_site_config(&[]);
    config.widget.test_timing = Some(TestTiming { time_scale: 60 });
    let day = Some(OpeningHours { open: 0, close: 24 * 60 });
    config.widget.business_hours = BusinessHours { mon: day, tue: day, wed: day, thu: day, fri: day, sat: day, sun: day };
    worker.put_site(&config).await;
    let owner = serde_json::json!({"email": SHOP_OWNER.0, "name": "Olga", "password": SHOP_OWNER.1, "role": "owner"});
    let (status, answer) = worker.admin_send(reqwest::Method::POST, "/sites/demo/operators", Some(owner)).await;
    assert!(status == 201 || status == 200, "creating the owner: {status} {answer}");
    let stored = worker.admin_get("/sites/demo").await;
    (worker, stored)
}

/// WebDriver's refusals that a moment's wait can mend: an element a render replaced or has not
/// laid out yet.
fn is_transient(error: &fantoccini::error::CmdError) -> bool {
    let text = error.to_string();
    text.contains("not interactable") || text.contains("stale element")
}
