//! Same-origin HTTP (the session cookie rides along) and WebSocket helpers. Answers and frames are
//! parsed by serde_json from the text, so no number passes through a JS number on the way; timers,
//! ids and JSON encoding are the browser kit's (`floorwalker-browser-kit`).

use floorwalker_core::base::error::ErrorCode;
use floorwalker_core::chat::panel::backoff_ms;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

pub use floorwalker_browser_kit::{later, now_ms, random_id};

use crate::i18n::{Lang, Pick};

#[derive(Clone, Debug, PartialEq)]
pub struct HttpError {
    /// The HTTP status, 0 when the request never got an answer.
    pub status: u16,
    /// The server's machine code, which the console words for people ([`HttpError::said`]).
    pub code: Option<ErrorCode>,
    /// The server's message: for developers and in English, except a field's problem, which core
    /// words in the language the request asked for.
    pub message: String,
    /// The field the server's error is about (`widget.prompts[1].copy.en.title`), for a form to
    /// show the message next to it.
    pub field: Option<String>,
}

impl HttpError {
    fn network(message: String) -> Self {
        HttpError { status: 0, code: None, message, field: None }
    }

    /// A refusal that came in a chat frame rather than as an HTTP answer.
    pub fn from_api(error: floorwalker_core::base::error::ApiError) -> Self {
        HttpError { status: error.http_status(), code: Some(error.code), message: error.message, field: error.field }
    }

    /// What went wrong, in words for the person at the console, in `lang`.
    pub fn said(&self, lang: Lang) -> String {
        if self.field.is_some() {
            return self.message.clone();
        }
        match (self.status, self.code) {
            (0, _) => lang.pick("the server did not answer; check the connection and try again", "сервер не ответил; проверьте связь и попробуйте снова").to_owned(),
            (_, Some(code)) if code.message_names_the_input() => format!("{} — {}", code.for_people(lang), self.message),
            (_, Some(code)) => code.for_people(lang).to_owned(),
            (status, None) => format!("{} {status}", lang.pick("the server answered", "сервер ответил")),
        }
    }
}

async fn fetch(method: &str, path: &str, body: Option<String>) -> Result<(u16, String), HttpError> {
    fetch_in(method, path, body.map(json_body), None).await
}

/// A request body and its media type.
type Body = (JsValue, &'static str);

fn json_body(json: String) -> Body {
    (JsValue::from_str(&json), "application/json")
}

/// [`fetch`], asking for the server's words in `language` (`Accept-Language`), for forms whose
/// problems are shown to the owner as the server words them.
async fn fetch_in(method: &str, path: &str, body: Option<Body>, language: Option<&str>) -> Result<(u16, String), HttpError> {
    let fail = |e: JsValue| HttpError::network(e.as_string().unwrap_or_else(|| "network error".into()));
    let window = web_sys::window().ok_or_else(|| fail("no window".into()))?;
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    let headers = web_sys::Headers::new().map_err(fail)?;
    if let Some(language) = language {
        headers.set("accept-language", language).map_err(fail)?;
    }
    if let Some((body, media_type)) = body {
        headers.set("content-type", media_type).map_err(fail)?;
        init.set_body(&body);
    }
    init.set_headers(&headers);
    let request = web_sys::Request::new_with_str_and_init(path, &init).map_err(fail)?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request)).await.map_err(fail)?.unchecked_into();
    let text = JsFuture::from(response.text().map_err(fail)?).await.map_err(fail)?.as_string().unwrap_or_default();
    Ok((response.status(), text))
}

fn decode<T: DeserializeOwned>(status: u16, text: &str) -> Result<T, HttpError> {
    if status >= 400 {
        let (code, message, field) = serde_json::from_str::<floorwalker_core::base::error::ErrorBody>(text)
            .map(|b| (Some(b.error.code), b.error.message, b.error.field))
            .unwrap_or_else(|_| (None, format!("HTTP {status}"), None));
        return Err(HttpError { status, code, message, field });
    }
    serde_json::from_str(text).map_err(|e| HttpError { status, code: None, message: e.to_string(), field: None })
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, HttpError> {
    let (status, text) = fetch("GET", path, None).await?;
    decode(status, &text)
}

pub async fn post<T: DeserializeOwned>(path: &str, body: &impl Serialize) -> Result<T, HttpError> {
    let body = serde_json::to_string(body).map_err(|e| HttpError::network(e.to_string()))?;
    let (status, text) = fetch("POST", path, Some(body)).await?;
    decode(status, &text)
}

pub async fn put<T: DeserializeOwned>(path: &str, body: &impl Serialize) -> Result<T, HttpError> {
    let body = serde_json::to_string(body).map_err(|e| HttpError::network(e.to_string()))?;
    let (status, text) = fetch("PUT", path, Some(body)).await?;
    decode(status, &text)
}

/// A JSON merge patch (RFC 7396): only what changed; problems worded in `language` (`"ru"`/`"en"`).
pub async fn patch<T: DeserializeOwned>(path: &str, body: &impl Serialize, language: &str) -> Result<T, HttpError> {
    let body = serde_json::to_string(body).map_err(|e| HttpError::network(e.to_string()))?;
    let (status, text) = fetch_in("PATCH", path, Some(json_body(body)), Some(language)).await?;
    decode(status, &text)
}

/// POSTs a file as the body (what it is, the server tells from its bytes).
pub async fn upload<T: DeserializeOwned>(path: &str, file: &web_sys::Blob) -> Result<T, HttpError> {
    let (status, text) = fetch_in("POST", path, Some((file.into(), "application/octet-stream")), None).await?;
    decode(status, &text)
}

pub async fn delete<T: DeserializeOwned>(path: &str) -> Result<T, HttpError> {
    let (status, text) = fetch("DELETE", path, None).await?;
    decode(status, &text)
}

/// `/v1/admin/sites/<site>/<rest>`: the owner's routes (the session cookie authorises them for the
/// session's own site).
pub fn site_path(site: &str, rest: &str) -> String {
    format!("/v1/admin/sites/{site}/{rest}")
}

/// `ws://` or `wss://` on the console's own host.
pub fn ws_url(path: &str) -> String {
    let location = web_sys::window().map(|w| w.location());
    let host = location.as_ref().and_then(|l| l.host().ok()).unwrap_or_default();
    let secure = location.and_then(|l| l.protocol().ok()).is_some_and(|p| p == "https:");
    format!("{}://{host}{path}", if secure { "wss" } else { "ws" })
}

pub fn send_json(ws: &web_sys::WebSocket, value: &impl Serialize) {
    if ws.ready_state() == web_sys::WebSocket::OPEN {
        if let Some(text) = floorwalker_browser_kit::to_json(value) {
            let _ = ws.send_with_str(&text);
        }
    }
}

/// Opens a socket whose frames (parsed as `T`) go to `on_frame`, and which calls `on_close`.
pub fn open<T: DeserializeOwned + 'static>(
    path: &str,
    on_open: impl FnMut() + 'static,
    mut on_frame: impl FnMut(T) + 'static,
    on_close: impl FnMut() + 'static,
) -> Option<web_sys::WebSocket> {
    let ws = web_sys::WebSocket::new(&ws_url(path)).ok()?;
    let opened = Closure::<dyn FnMut()>::new(on_open);
    ws.set_onopen(Some(opened.as_ref().unchecked_ref()));
    opened.forget();
    let message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
        if let Some(text) = event.data().as_string() {
            match serde_json::from_str::<T>(&text) {
                Ok(frame) => on_frame(frame),
                Err(error) => floorwalker_browser_kit::warn(&format!("unreadable frame: {error}")),
            }
        }
    });
    ws.set_onmessage(Some(message.as_ref().unchecked_ref()));
    message.forget();
    let closed = Closure::<dyn FnMut()>::new(on_close);
    ws.set_onclose(Some(closed.as_ref().unchecked_ref()));
    closed.forget();
    Some(ws)
}

/// Closes a socket for good when its screen goes: its handlers are taken off first, so the close
/// the browser reports later reaches nothing of a screen that no longer exists (a late handler
/// would reconnect, or send a console just logged in again back to the login form).
pub fn close_for_good(ws: &web_sys::WebSocket) {
    ws.set_onopen(None);
    ws.set_onmessage(None);
    ws.set_onclose(None);
    let _ = ws.close();
}

/// Runs `reconnect` after core's reconnection backoff for failed attempt number `attempt`
/// (0 = the first retry), jittered so that consoles dropped together do not return together.
pub fn after_backoff(attempt: u32, reconnect: impl FnOnce() + 'static) {
    let delay = backoff_ms(attempt, floorwalker_browser_kit::random_fraction());
    later(i32::try_from(delay).unwrap_or(i32::MAX), reconnect);
}

/// What both of the console's sockets do when they close: unless the view that owns the socket is
/// gone, count the failed attempt and `connect` again after core's backoff.
pub fn reconnect_unless_disposed(
    attempt: leptos::prelude::StoredValue<u32>,
    disposed: leptos::prelude::StoredValue<bool>,
    connect: impl FnOnce() + 'static,
) {
    use leptos::prelude::{SetValue, WithValue};
    // Read with `try_`: once the screen is gone, so are these values, and a late timer must not
    // panic on them.
    let gone = move || disposed.try_with_value(|d| *d).unwrap_or(true);
    if gone() {
        return;
    }
    let Some(failed) = attempt.try_with_value(|a| *a) else { return };
    attempt.set_value(failed.saturating_add(1));
    after_backoff(failed, move || {
        if !gone() {
            connect();
        }
    });
}
