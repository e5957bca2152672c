//! Small wrappers over the browser APIs the widget needs, each failing softly: the widget must
//! never break the host page because storage is disabled or a property is missing.

use std::cell::Cell;

use floorwalker_core::base::locale::Locale;
use floorwalker_core::prompts::config::{ConsentMode, PublicSiteConfig};
use wasm_bindgen::prelude::*;

pub use floorwalker_browser_kit::{later, now_ms, random_id, site_clock_ready, site_local_time, warn};

/// What every part of the widget needs to know about where it runs.
pub struct Context {
    pub api_base: String,
    pub config: PublicSiteConfig,
    pub locale: Locale,
    pub visitor: String,
    pub session: String,
    pub window: web_sys::Window,
    /// Whether the visitor agreed (or the site needs no agreement) to storage and sending.
    consent: Cell<bool>,
    /// The config as the loader fetched it (its wire form, a `Uint8Array`), handed on to the UI
    /// modules, which read the prompts' words in it.
    pub raw_config: JsValue,
    /// The loader's `loadUi(name)`: a Promise of the UI module `name` (`"cards"` or `"chat"`).
    pub load_ui: Option<js_sys::Function>,
}

impl Context {
    pub fn new(api_base: String, config: PublicSiteConfig) -> Result<Context, JsValue> {
        let window = web_sys::window().ok_or("no window")?;
        let document = window.document().ok_or("no document")?;
        let page_lang = document.document_element().and_then(|html| html.get_attribute("lang")).unwrap_or_default();
        let locale = Locale::from_language_tag(&page_lang).unwrap_or(config.widget.default_locale);
        // Under `consent: required` nothing may be stored before the visitor agrees, so the ids stay
        // in memory only for now (and are written if they agree).
        let consent = config.widget.consent == ConsentMode::Implied;
        let visitor_key = key(&config.site, "visitor");
        let session_key = key(&config.site, "session");
        let visitor = stored_id(consent.then(|| local(&window)).flatten(), &visitor_key);
        let session = stored_id(consent.then(|| session_storage(&window)).flatten(), &session_key);
        Ok(Context {
            api_base,
            config,
            locale,
            visitor,
            session,
            window,
            consent: Cell::new(consent),
            raw_config: JsValue::UNDEFINED,
            load_ui: None,
        })
    }

    /// Whether anything may be stored or sent now.
    pub fn may_send(&self) -> bool {
        self.consent.get()
    }

    /// Records the visitor's choice; on agreement the in-memory ids are stored, on refusal
    /// everything the widget stored for this site is removed.
    pub fn set_consent(&self, granted: bool) {
        self.consent.set(granted);
        let site = &self.config.site;
        if granted {
            if let Some(storage) = local(&self.window) {
                let _ = storage.set_item(&key(site, "visitor"), &self.visitor);
            }
            if let Some(storage) = session_storage(&self.window) {
                let _ = storage.set_item(&key(site, "session"), &self.session);
            }
        } else {
            for name in ["visitor", "state", "chat"] {
                if let Some(storage) = local(&self.window) {
                    let _ = storage.remove_item(&key(site, name));
                }
            }
            if let Some(storage) = session_storage(&self.window) {
                let _ = storage.remove_item(&key(site, "session"));
            }
        }
    }

    /// The stored value under this site's `name`, if storage is allowed and works.
    pub fn load(&self, name: &str) -> Option<String> {
        if !self.may_send() {
            return None;
        }
        local(&self.window)?.get_item(&key(&self.config.site, name)).ok().flatten()
    }

    pub fn store(&self, name: &str, value: &str) {
        if self.may_send() {
            if let Some(storage) = local(&self.window) {
                let _ = storage.set_item(&key(&self.config.site, name), value);
            }
        }
    }

    pub fn document(&self) -> Option<web_sys::Document> {
        self.window.document()
    }

    /// The page's URL now.
    pub fn href(&self) -> String {
        self.window.location().href().unwrap_or_default()
    }
}

/// Storage keys are scoped to the site, so two Floorwalker sites on one origin never mix.
fn key(site: &str, name: &str) -> String {
    ["fw:", site, ":", name].concat()
}

// Reading `localStorage` throws when cookies are blocked; that is "no storage", not an error.
fn local(window: &web_sys::Window) -> Option<web_sys::Storage> {
    window.local_storage().ok().flatten()
}

fn session_storage(window: &web_sys::Window) -> Option<web_sys::Storage> {
    window.session_storage().ok().flatten()
}

/// The id kept under `key`, or a new random one (stored when storage works).
fn stored_id(storage: Option<web_sys::Storage>, key: &str) -> String {
    if let Some(existing) = storage.as_ref().and_then(|s| s.get_item(key).ok().flatten()) {
        // The worker's rule for a client id, without its words (`Refused`).
        if floorwalker_core::base::ids::client_id_within::<floorwalker_core::base::error::Refused>("id", &existing).is_ok() {
            return existing;
        }
    }
    let id = random_id();
    if let Some(storage) = storage {
        let _ = storage.set_item(key, &id);
    }
    id
}

/// A number as JavaScript writes it (`19.99`), formatted by the browser so that the wasm carries
/// no float formatting code.
pub fn number_text(n: f64) -> Option<String> {
    js_sys::Number::from(n).to_string_with_radix(10).ok().map(String::from)
}

/// Runs `f` when the browser is idle (within `timeout_ms` at the latest); where there is no
/// `requestIdleCallback` (Safari), after `timeout_ms`.
pub fn when_idle(timeout_ms: u32, f: impl FnOnce() + 'static) {
    let Some(window) = web_sys::window() else { return };
    let callback = Closure::once_into_js(f);
    let idle = js_sys::Reflect::get(&window, &"requestIdleCallback".into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let scheduled = idle.is_some_and(|idle| {
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"timeout".into(), &JsValue::from(timeout_ms));
        idle.call2(&window, &callback, &options).is_ok()
    });
    if !scheduled {
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), timeout_ms as i32);
    }
}
