//! The end-to-end harness: real parts only. The worker runs under `wrangler dev` (workerd, local D1)
//! on a free port with its own fresh state; Chromium is driven through chromedriver; a separate
//! "shop" server plays a site owner's site that embeds the widget from the worker's origin.

pub mod browser;
pub mod chat;
pub mod console;
pub mod contrast;
pub mod demo;
pub mod fuzz;
pub mod leads;
pub mod receiver;
pub mod shop;
pub mod worker;

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The repository root (the harness runs from `tests/`).
pub fn repo_root() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    root.canonicalize().unwrap_or(root)
}

/// Saves a screenshot as `target/screens/<suite>/<name>.png`, to be looked at.
pub fn save_screen(suite: &str, name: &str, png: &[u8]) {
    let dir = repo_root().join("target/screens").join(suite);
    std::fs::create_dir_all(&dir).expect("the screenshots' folder");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("writing a screenshot");
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("no free port on 127.0.0.1")
}

/// Polls `probe` until it returns `Some`, or panics with `what` after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        // A probe that never answers (a hung request, a browser that stopped responding) fails
        // here with what was awaited, not as a silent hang the runner kills minutes later.
        let left = deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(10);
        match tokio::time::timeout(left, probe()).await {
            Ok(Some(value)) => return value,
            Ok(None) => {}
            Err(_) => panic!("timed out after {timeout:?} waiting for {what}: the last probe did not answer"),
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// Panics with a clear message when the build outputs the tests need are missing.
pub fn require_build() {
    let root = repo_root();
    for needed in ["dist/public/fw.js", "edge-worker/build/index.js", "node_modules/.bin/wrangler"] {
        assert!(root.join(needed).exists(), "{needed} is missing: run `make build` (or `make test`) first");
    }
}

/// Waits, if need be, until at least `needed_s` seconds are left in the current fixed window of
/// `window_s` seconds (the worker's rate-limit windows are aligned to the clock): a test that
/// must stay within one window of a counter would otherwise fail when it straddles the boundary.
pub async fn within_one_window(window_s: u64, needed_s: u64) {
    let window_ms = window_s * 1000;
    let left_ms = window_ms - crate::console::now_ms() % window_ms;
    if left_ms < needed_s * 1000 {
        tokio::time::sleep(Duration::from_millis(left_ms + 50)).await;
    }
}
