//! Talking to the worker. A batch goes in core's wire form (`POST /v1/events?wire=N`: no JSON
//! encoder in the first load) as a body without a content type, so the browser needs no CORS
//! preflight, with `keepalive` (or `sendBeacon` when the page goes away) so it survives the page
//! closing.

use floorwalker_core::base::text::decimal;
use floorwalker_core::base::wire;
use floorwalker_core::visitor::event::EventBatch;
use floorwalker_core::visitor::event_queue::worth_resending;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::browser::{self, Context};

/// Sends a batch in the background; a failure is logged and never reaches the host page. A batch
/// that may arrive later (core's `worth_resending`) is handed to `undelivered` to be queued again.
pub fn send_events(cx: &Context, batch: EventBatch, leaving: bool, undelivered: impl FnOnce(EventBatch) + 'static) {
    // `concat` and core's `decimal`, not `format!`: the first load carries no `core::fmt` (issue 16).
    let url = [&cx.api_base, "/v1/events?wire=", &decimal(wire::VERSION.into())].concat();
    let body = js_sys::Uint8Array::from(&wire::encode(&batch)[..]);
    if leaving {
        let queued = cx.window.navigator().send_beacon_with_opt_js_u8_array(&url, Some(&body)).unwrap_or(false);
        if queued {
            return;
        }
    }
    let window = cx.window.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let (status, failure) = match post(&window, &url, &body).await {
            Ok(response) if response.ok() => return,
            Ok(response) => (Some(response.status()), ["HTTP ", &decimal(response.status().into())].concat()),
            Err(error) => (None, describe(&error)),
        };
        browser::warn(&["floorwalker: events not sent: ", &failure].concat());
        if worth_resending(status) {
            undelivered(batch);
        }
    });
}

/// `GET {api_base}/v1/sites/:site/presence` (core's `chat::protocol::SitePresence`); `None` when it cannot be had (nobody is then
/// assumed online, so no chat invitation promises an answer that will not come).
pub async fn operator_online(api_base: &str, site: &str) -> Option<bool> {
    let window = web_sys::window()?;
    let init = web_sys::RequestInit::new();
    init.set_mode(web_sys::RequestMode::Cors);
    init.set_credentials(web_sys::RequestCredentials::Omit);
    let url = [api_base, "/v1/sites/", site, "/presence"].concat();
    let response: web_sys::Response =
        JsFuture::from(window.fetch_with_str_and_init(&url, &init)).await.ok()?.dyn_into().ok()?;
    if !response.ok() {
        return None;
    }
    // `SitePresence`'s one field, read from the browser's parse rather than through a serde
    // decoder (which cost the first load ~600 B of wasm for one boolean).
    let presence = JsFuture::from(response.json().ok()?).await.ok()?;
    js_sys::Reflect::get(&presence, &"operator_online".into()).ok()?.as_bool()
}

/// POSTs `body` and returns the response, whatever its status.
async fn post(window: &web_sys::Window, url: &str, body: &js_sys::Uint8Array) -> Result<web_sys::Response, JsValue> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_mode(web_sys::RequestMode::Cors);
    init.set_credentials(web_sys::RequestCredentials::Omit);
    // `keepalive` is missing from web-sys's RequestInit; it lets the request outlive the page.
    js_sys::Reflect::set(&init, &JsValue::from_str("keepalive"), &JsValue::TRUE)?;
    init.set_body(body);
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init)).await?.dyn_into()?;
    Ok(response)
}

fn describe(error: &JsValue) -> String {
    error.as_string().unwrap_or_default()
}
