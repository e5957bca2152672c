//! Small wrappers over the browser APIs the widget needs, each failing softly: the widget must
//! never break the host page because storage is disabled or a property is missing.

use floorwalker_core::config::{ConsentMode, Locale, PublicSiteConfig};
use floorwalker_core::ids::client_id_from_bytes;
use wasm_bindgen::prelude::*;

/// What every part of the widget needs to know about where it runs.
pub struct Context {
    pub api_base: String,
    pub config: PublicSiteConfig,
    pub locale: Locale,
    pub visitor: String,
    pub session: String,
    pub window: web_sys::Window,
}

impl Context {
    pub fn new(api_base: String, config: PublicSiteConfig) -> Result<Context, JsValue> {
        let window = web_sys::window().ok_or("no window")?;
        let document = window.document().ok_or("no document")?;
        let page_lang = document.document_element().and_then(|html| html.get_attribute("lang")).unwrap_or_default();
        let locale = Locale::from_language_tag(&page_lang).unwrap_or(config.widget.default_locale);
        // Under `consent: required` nothing may be stored before the visitor agrees, so the ids stay
        // in memory only for now.
        let may_store = config.widget.consent == ConsentMode::Implied;
        let visitor_key = format!("fw:{}:visitor", config.site);
        let session_key = format!("fw:{}:session", config.site);
        let visitor = stored_id(may_store.then(|| window.local_storage().ok().flatten()).flatten(), &visitor_key);
        let session = stored_id(may_store.then(|| window.session_storage().ok().flatten()).flatten(), &session_key);
        Ok(Context { api_base, config, locale, visitor, session, window })
    }

    pub fn may_send(&self) -> bool {
        self.config.widget.consent == ConsentMode::Implied
    }
}

/// The id kept under `key`, or a new random one (stored when storage works).
fn stored_id(storage: Option<web_sys::Storage>, key: &str) -> String {
    if let Some(existing) = storage.as_ref().and_then(|s| s.get_item(key).ok().flatten()) {
        if floorwalker_core::ids::validate_client_id("id", &existing).is_ok() {
            return existing;
        }
    }
    let id = random_id();
    if let Some(storage) = storage {
        let _ = storage.set_item(key, &id);
    }
    id
}

/// 128 random bits from `crypto.getRandomValues`, as hex.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .and_then(|c| c.get_random_values_with_u8_array(&mut bytes).ok())
        .is_some();
    if !filled {
        // No Web Crypto (very old browser): ids only need to be unique, not secret.
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (js_sys::Math::random() * 256.0) as u8 ^ (i as u8);
        }
    }
    client_id_from_bytes(&bytes)
}

pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

pub fn warn(message: &str) {
    web_sys::console::warn_1(&JsValue::from_str(message));
}
