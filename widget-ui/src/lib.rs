//! The widget's UI modules, in Leptos: the prompt cards (`prompt.rs`) and the visitor's chat panel.
//! This crate is built twice, into two wasm modules the first-load widget asks the loader for:
//! `--features cards` (`fw-cards`: `mount_prompt`), fetched when a card is near, and `--features
//! chat` (`fw-chat`: `mount_chat`), fetched when the chat first opens. So a visitor who sees a card
//! never downloads the chat, and one who does neither downloads nothing more. The default
//! features build both, for `cargo check`, clippy and tests.
//!
//! The chat's interface is deliberately small and made of plain JS values:
//! `mount_chat(container, options, on_event)` → a [`ChatHandle`] with `open()`, `close()`,
//! `destroy()`. `options` carries `api_base`, `config` (the public site config as served),
//! `locale` (`"ru"`/`"en"`), `visitor` and `may_store` (consent). Business hours are the panel's
//! own reading of the site's clock: at mount, on opening and each minute while open.
//! `on_event(name, detail)` reports `"unread"` (a count, for the launcher's badge),
//! `"interact"` (the visitor wrote: under `consent: required` that is agreement) and `"close"`
//! (Escape), and answers
//! `"context"` with the visitor context in core's wire form (for a new conversation or a lead).
//!
//! Every decision (backoff, unread, seen, offline mode, stored state, copy) is core's
//! (`floorwalker_core::chat::panel`, `floorwalker_core::chat::protocol::ChatClient`); this crate moves frames
//! and draws. This file is the modules' export surface (the cards' is in `prompt.rs`); the chat's
//! controller is `chat.rs` (its link to the server `chat/link.rs`, its routes `chat/routes.rs`), its
//! view `view.rs` (with two pieces of Leptos cut to the chat's size: `lazy.rs`, a lighter erased
//! view, and `rows.rs`, the conversation's keyed list); `form.rs` and `net.rs` serve both modules.

// A build of one module leaves some of the shared helpers unused.
#![cfg_attr(not(all(feature = "cards", feature = "chat")), allow(unused))]

#[cfg(feature = "chat")]
mod chat;
mod form;
mod net;
#[cfg(feature = "cards")]
mod prompt;
#[cfg(feature = "chat")]
mod sound;
#[cfg(feature = "chat")]
mod view;
#[cfg(feature = "chat")]
mod lazy;
#[cfg(feature = "chat")]
mod rows;

#[cfg(feature = "chat")]
pub use chat_exports::*;

/// The chat module's export surface.
#[cfg(feature = "chat")]
mod chat_exports {
    use floorwalker_core::base::locale::Locale;
    use floorwalker_core::prompts::config::PublicSiteConfig;
    use wasm_bindgen::prelude::*;

    use crate::chat::{self, with, Options};

    /// The running chat panel, as the main widget holds it.
    #[wasm_bindgen]
    pub struct ChatHandle {
        _private: (),
    }

    #[wasm_bindgen]
    impl ChatHandle {
        /// The panel became visible: read what is there, focus the message field.
        pub fn open(&self) {
            with(|chat| chat.set_open(true));
        }

        pub fn close(&self) {
            with(|chat| chat.set_open(false));
        }

        /// Closes the socket, stops the timers, restores the title and removes the panel's nodes.
        pub fn destroy(&self) {
            chat::unmount();
        }
    }

    fn get(options: &JsValue, key: &str) -> JsValue {
        js_sys::Reflect::get(options, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }

    /// Mounts the chat into `container` (an element in the widget's shadow root). See the crate docs.
    #[wasm_bindgen]
    pub fn mount_chat(container: web_sys::HtmlElement, options: JsValue, on_event: js_sys::Function) -> Result<ChatHandle, JsValue> {
        if with(|_| ()).is_some() {
            return Err("the chat is already mounted".into());
        }
        let config: PublicSiteConfig = crate::net::site_config_without_prompts(&get(&options, "config"))?;
        let locale = match get(&options, "locale").as_string().as_deref() {
            Some("en") => Locale::En,
            Some("ru") => Locale::Ru,
            _ => config.widget.default_locale,
        };
        let region = config.widget.phone_region();
        let opts = Options {
            api_base: get(&options, "api_base").as_string().ok_or("options.api_base is required")?,
            visitor: get(&options, "visitor").as_string().ok_or("options.visitor is required")?,
            config,
            locale,
            region,
        };
        let may_store = get(&options, "may_store").as_bool().unwrap_or(false);
        chat::mount(container, opts, may_store, on_event);
        Ok(ChatHandle { _private: () })
    }
}
