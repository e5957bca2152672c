//! The Floorwalker widget: a thin browser adapter around `floorwalker-core`.
//!
//! The loader (`loader/fw.js`) fetches the site config, imports this module and calls [`start`].
//! Everything the widget draws lives in a shadow root so the host page's styles and ours never mix.
//! What it observes and how it decides to speak up is described in docs/behaviour.md.

mod app;
mod browser;
pub mod detect;
mod shell;
mod transport;

use floorwalker_core::base::wire;
use floorwalker_core::prompts::config::PublicSiteConfig;
use wasm_bindgen::prelude::*;

pub use floorwalker_browser_kit::HOST_TAG;

/// A running widget. The loader keeps it and forwards `floorwalker(...)` calls to [`Widget::command`].
#[wasm_bindgen]
pub struct Widget {
    app: std::rc::Rc<app::App>,
}

impl Drop for Widget {
    fn drop(&mut self) {
        self.app.stop();
        self.app.shell.host.remove();
    }
}

#[wasm_bindgen]
impl Widget {
    /// Runs one host-page command, given as the `arguments` of a `floorwalker(name, ...)` call.
    pub fn command(&self, args: JsValue) {
        self.app.command(&js_sys::Array::from(&args));
    }

    /// Removes the widget from the page: listeners, timers and its element.
    pub fn destroy(self) {}
}

/// Mounts the widget for `config` (the wire form served by `GET /v1/sites/:site/config?wire=4`,
/// core's `base::wire`; the prompts' words in it are skipped here, for the UI modules), talking to
/// the worker at `api_base` (its origin, e.g. `https://edge.example`). `load_ui(name)` (from the
/// loader) returns a Promise of an initialised UI module in Leptos, `"cards"` (the prompt cards) or
/// `"chat"`; the cards are asked for when a card is about to appear, the chat when it opens, so
/// visitors never download what they do not see.
#[wasm_bindgen]
pub fn start(api_base: String, config: &[u8], load_ui: Option<js_sys::Function>) -> Result<Widget, JsValue> {
    let parsed: PublicSiteConfig = wire::decode(config).ok_or("the site config is not in this widget's wire form")?;
    let mut context = browser::Context::new(api_base, parsed)?;
    context.raw_config = js_sys::Uint8Array::from(config).into();
    context.load_ui = load_ui;
    let document = context.document().ok_or("no document")?;
    let widget = &context.config.widget;
    let shell =
        shell::Shell::mount(&document, context.locale, &widget.theme.brand_color, widget.theme.position, &context.config.name)?;
    let app = app::App::start(context, shell);
    app.listen_to_shell();
    Ok(Widget { app })
}

/// The first load's allocator: lol_alloc's first-fit free list (coalescing), ~1 KB of wasm where
/// std's dlmalloc is ~5 KB: measured 2,111 B brotli less on the first load (issue 16). The widget
/// keeps a small heap (the config, the session, a few queued events), so a walk of a short free
/// list costs nothing measurable. The UI modules (Leptos, many short-lived allocations) keep dlmalloc.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());
