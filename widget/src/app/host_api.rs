//! The host page's API: `floorwalker(name, ...args)` commands (the loader's `window.floorwalker`
//! queue forwards them here) and the `on` callbacks the page registers. Whatever the page passes,
//! nothing here throws into it.

use floorwalker_core::visitor::event::{
    EventData, Identify, Track, MAX_IDENTITY_FIELD_LEN, MAX_TRACK_KEY_LEN, MAX_TRACK_NAME_LEN, MAX_TRACK_PROPS,
    MAX_TRACK_VALUE_LEN,
};
use floorwalker_core::base::text::truncate_chars;
use wasm_bindgen::prelude::*;

use super::App;
use crate::{browser, detect};

impl App {
    /// `floorwalker(name, ...args)`.
    pub fn command(&self, args: &js_sys::Array) {
        let name = args.get(0).as_string().unwrap_or_default();
        let arg = args.get(1);
        match name.as_str() {
            "open" => self.set_open(true),
            "close" => self.set_open(false),
            "consent" => self.set_consent(arg.is_truthy()),
            "product" if arg.is_object() => {
                self.api_product.replace(Some(detect::raw_from_js(&arg)));
                self.page_product.replace(None);
                self.detect_product();
            }
            "track" => {
                let Some(name) = arg.as_string().filter(|n| !n.trim().is_empty()) else { return };
                let mut props = std::collections::BTreeMap::new();
                let given = args.get(2);
                if given.is_object() {
                    for key in js_sys::Object::keys(given.unchecked_ref::<js_sys::Object>()).iter().take(MAX_TRACK_PROPS) {
                        let Some(key) = key.as_string().filter(|k| !k.trim().is_empty()) else { continue };
                        let value = js_sys::Reflect::get(&given, &JsValue::from_str(&key)).unwrap_or_default();
                        let value = value
                            .as_string()
                            .or_else(|| value.as_f64().and_then(browser::number_text))
                            .or_else(|| value.as_bool().map(|b| if b { "true" } else { "false" }.to_owned()));
                        if let Some(value) = value {
                            props.insert(truncate_chars(&key, MAX_TRACK_KEY_LEN), truncate_chars(&value, MAX_TRACK_VALUE_LEN));
                        }
                    }
                }
                self.record(EventData::Track(Track { name: truncate_chars(&name, MAX_TRACK_NAME_LEN), props }));
            }
            "identify" if arg.is_object() => {
                let field = |key: &str| {
                    js_sys::Reflect::get(&arg, &JsValue::from_str(key))
                        .ok()
                        .and_then(|v| v.as_string().or_else(|| v.as_f64().and_then(browser::number_text)))
                        .filter(|v| !v.trim().is_empty())
                        .map(|v| truncate_chars(&v, MAX_IDENTITY_FIELD_LEN))
                };
                let identify =
                    Identify { user_id: field("user_id"), email: field("email"), phone: field("phone"), name: field("name") };
                if identify != Identify::default() {
                    self.record(EventData::Identify(identify));
                }
            }
            "on" => {
                let (Some(event), Ok(callback)) = (arg.as_string(), args.get(2).dyn_into::<js_sys::Function>()) else {
                    browser::warn("floorwalker('on', event, callback) needs an event name and a function");
                    return;
                };
                if let Ok(mut callbacks) = self.callbacks.try_borrow_mut() {
                    callbacks.push((event, callback));
                }
            }
            _ => browser::warn(&["floorwalker: unknown command ", &name].concat()),
        }
    }

    /// Calls the host page's `on` callbacks for `event`, later and each in its own try: a throwing
    /// or re-entrant callback cannot break the widget or the caller.
    pub fn emit(&self, event: &str, prompt: &str) {
        let callbacks: Vec<js_sys::Function> = self
            .callbacks
            .try_borrow()
            .map(|list| list.iter().filter(|(name, _)| name == event).map(|(_, f)| f.clone()).collect())
            .unwrap_or_default();
        if callbacks.is_empty() {
            return;
        }
        let detail = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&detail, &"type".into(), &event.into());
        let _ = js_sys::Reflect::set(&detail, &"prompt".into(), &prompt.into());
        wasm_bindgen_futures::spawn_local(async move {
            for callback in callbacks {
                if let Err(error) = callback.call1(&JsValue::NULL, &detail) {
                    web_sys::console::warn_2(&"floorwalker: an 'on' callback threw".into(), &error);
                }
            }
        });
    }
}
