//! What both UI modules send to the worker (`text/plain` JSON, no preflight): the leads of the
//! cards' and the chat's forms. The chat's own routes and storage are `chat/routes.rs`. Timers
//! and ids come from the browser kit (`floorwalker-browser-kit`), JSON from core's `base::json`.

use floorwalker_core::base::error::ErrorCode;
use floorwalker_core::base::wire;
use floorwalker_core::leads::contact;
use floorwalker_core::leads::lead::LeadRequest;
use floorwalker_core::prompts::config::PublicSiteConfig;
use floorwalker_core::visitor::context::VisitorContext;
use wasm_bindgen::prelude::*;

pub use floorwalker_browser_kit::{message_time, now_ms, random_fraction, random_id, site_local_time, warn};
/// JSON without serde (core's `base::json`): serde's decoder was most of the chat module (issue 16).
pub use floorwalker_core::base::json::{from_json, to_json};
use wasm_bindgen_futures::JsFuture;

/// Runs `f` once after `ms` milliseconds (the browser kit's `later`); the timer's id. Boxed here,
/// so the modules' many callers share one instantiation of wasm-bindgen's one-shot closure glue
/// (the first load keeps the kit's generic one: few callers, each inlined).
pub fn later(ms: i32, f: impl FnOnce() + 'static) -> Option<i32> {
    later_boxed(ms, Box::new(f))
}

fn later_boxed(ms: i32, f: Box<dyn FnOnce()>) -> Option<i32> {
    floorwalker_browser_kit::later(ms, f)
}

/// The site config as the widget hands it over: its wire form (core's `base::wire`, a
/// `Uint8Array`), the prompts' words included.
pub fn site_config(value: &JsValue) -> Result<PublicSiteConfig, JsValue> {
    wire::decode(&config_bytes(value)?).ok_or_else(|| "config: not in this module's wire form".into())
}

/// [`site_config`] without the prompts ([`PublicSiteConfig::decode_without_prompts`]), as the
/// chat reads it: it has no use for them, and their decoder would be most of the config's code in
/// its module (1.7 KB brotli, measured 2026-12-05).
pub fn site_config_without_prompts(value: &JsValue) -> Result<PublicSiteConfig, JsValue> {
    PublicSiteConfig::decode_without_prompts(&config_bytes(value)?).ok_or_else(|| "config: not in this module's wire form".into())
}

fn config_bytes(value: &JsValue) -> Result<Vec<u8>, JsValue> {
    Ok(value.dyn_ref::<js_sys::Uint8Array>().ok_or("config: not the wire form's bytes")?.to_vec())
}

/// The visitor context the widget answers `"context"` with: its wire form (a `Uint8Array`).
pub fn visitor_context(value: &JsValue) -> Option<VisitorContext> {
    wire::decode(&value.dyn_ref::<js_sys::Uint8Array>()?.to_vec())
}

pub fn window() -> web_sys::Window {
    // The chat only runs on a page; a missing window would have failed the mount already.
    web_sys::window().unwrap_or_else(|| wasm_bindgen::throw_str("no window"))
}

pub fn document() -> Option<web_sys::Document> {
    web_sys::window()?.document()
}

/// POSTs `json` as text/plain (no CORS preflight) and returns the response, whatever its status.
pub(crate) async fn post(url: &str, json: &str) -> Result<web_sys::Response, JsValue> {
    post_body(url, &JsValue::from_str(json), "text/plain;charset=UTF-8").await
}

/// POSTs `body` as `media_type`, without cookies, and returns the response, whatever its status.
pub(crate) async fn post_body(url: &str, body: &JsValue, media_type: &str) -> Result<web_sys::Response, JsValue> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_mode(web_sys::RequestMode::Cors);
    init.set_credentials(web_sys::RequestCredentials::Omit);
    init.set_body(body);
    let headers = web_sys::Headers::new()?;
    headers.set("content-type", media_type)?;
    init.set_headers(&headers);
    JsFuture::from(window().fetch_with_str_and_init(url, &init)).await?.dyn_into()
}

/// Why a form did not go through.
pub enum FormError {
    /// A code the visitor can act on (`contact::message` has words for it).
    Refused(ErrorCode),
    Unavailable,
}

/// `POST /v1/leads`; the error is read from `error.code` only.
pub async fn submit_lead(api_base: &str, request: &LeadRequest) -> Result<(), FormError> {
    let response = post(&format!("{api_base}/v1/leads"), &to_json(request)).await.map_err(|_| FormError::Unavailable)?;
    if response.ok() {
        return Ok(());
    }
    Err(refusal(response).await)
}

/// A refused form's error, read from the body's `error.code` only.
pub(crate) async fn refusal(response: web_sys::Response) -> FormError {
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    let code = js_sys::JSON::parse(&text)
        .ok()
        .and_then(|body| js_sys::Reflect::get(&body, &"error".into()).ok())
        .and_then(|error| js_sys::Reflect::get(&error, &"code".into()).ok())
        .and_then(|code| code.as_string())
        .unwrap_or_default();
    contact::visitor_code(&code).map_or(FormError::Unavailable, FormError::Refused)
}
