//! The Floorwalker widget: a thin browser adapter around `floorwalker-core`.
//!
//! The loader (`loader/fw.js`) fetches the site config, imports this module and calls [`start`].
//! Everything the widget draws lives in a shadow root so the host page's styles and ours never mix.
//! What it observes and how it decides to speak up is described in docs/behaviour.md.

mod app;
mod browser;
pub mod detect;
mod mount;
mod transport;
mod ui;

use floorwalker_core::config::PublicSiteConfig;
use wasm_bindgen::prelude::*;

pub use mount::HOST_ELEMENT_ID;

/// A running widget. The loader keeps it and forwards `floorwalker(...)` calls to [`Widget::command`].
#[wasm_bindgen]
pub struct Widget {
    mounted: mount::Mounted,
}

#[wasm_bindgen]
impl Widget {
    /// Runs one host-page command, given as the `arguments` of a `floorwalker(name, ...)` call.
    pub fn command(&self, args: JsValue) {
        self.mounted.app.command(&js_sys::Array::from(&args));
    }

    /// Removes the widget from the page: listeners, timers and its element.
    pub fn destroy(self) {}
}

/// Mounts the widget for `config` (the JSON served by `GET /v1/sites/:site/config`), talking to
/// the worker at `api_base` (its origin, e.g. `https://edge.example`). `load_chat` (from the
/// loader) returns a Promise of the initialised chat module; it is called on the chat's first
/// opening, so the chat's code is never downloaded by visitors who do not chat.
#[wasm_bindgen]
pub fn start(api_base: String, config: JsValue, load_chat: Option<js_sys::Function>) -> Result<Widget, JsValue> {
    let parsed: PublicSiteConfig = serde_wasm_bindgen::from_value(config.clone())?;
    let mut context = browser::Context::new(api_base, parsed)?;
    context.raw_config = config;
    context.load_chat = load_chat;
    let mounted = mount::mount(context)?;
    Ok(Widget { mounted })
}
