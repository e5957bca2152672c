//! Sending events to the worker. Bodies go as `text/plain` so the browser needs no CORS preflight,
//! and with `keepalive` so a batch survives the page being closed.

use floorwalker_core::event::{Event, EventBatch, EventData, PageView, EVENT_BATCH_VERSION};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::browser::{self, Context};

pub fn send_page_view(context: &Context) {
    let document = context.window.document();
    let referrer = document.as_ref().map(|d| d.referrer()).filter(|r| !r.is_empty());
    let view = PageView {
        url: context.window.location().href().unwrap_or_default(),
        title: document.map(|d| d.title()).unwrap_or_default(),
        referrer,
    };
    send(context, vec![new_event(EventData::PageView(view))]);
}

fn new_event(data: EventData) -> Event {
    Event { id: browser::random_id(), at: browser::now_ms(), data }
}

/// Sends the events in the background; a failure is logged once and never reaches the host page.
pub fn send(context: &Context, events: Vec<Event>) {
    if !context.may_send() {
        return;
    }
    let batch = EventBatch {
        v: EVENT_BATCH_VERSION,
        site: context.config.site.clone(),
        visitor: context.visitor.clone(),
        session: context.session.clone(),
        events,
    };
    let url = format!("{}/v1/events", context.api_base);
    let window = context.window.clone();
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(error) = post_json(&window, &url, &batch).await {
            browser::warn(&format!("floorwalker: events not sent: {}", describe(&error)));
        }
    });
}

async fn post_json(window: &web_sys::Window, url: &str, body: &impl Serialize) -> Result<(), JsValue> {
    let value = body.serialize(&serde_wasm_bindgen::Serializer::json_compatible())?;
    let json = js_sys::JSON::stringify(&value)?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_mode(web_sys::RequestMode::Cors);
    init.set_credentials(web_sys::RequestCredentials::Omit);
    // `keepalive` is missing from web-sys's RequestInit; it lets the request outlive the page.
    js_sys::Reflect::set(&init, &JsValue::from_str("keepalive"), &JsValue::TRUE)?;
    init.set_body(&json);
    let headers = web_sys::Headers::new()?;
    headers.set("content-type", "text/plain;charset=UTF-8")?;
    init.set_headers(&headers);
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init)).await?.dyn_into()?;
    if response.ok() {
        Ok(())
    } else {
        Err(JsValue::from_str(&format!("HTTP {}", response.status())))
    }
}

fn describe(error: &JsValue) -> String {
    error.as_string().unwrap_or_else(|| format!("{error:?}"))
}
