//! The widget's UI modules, in Leptos: the prompt cards (`prompt.rs`) and the visitor's chat panel.
//! This crate is built once into the UI module (`fw-ui`: `mount_prompt`, `chat_chunk`,
//! `mount_chat`), fetched when a card is near, and the chat is split off it into a chunk
//! (`fw-chat`, see `chat_exports` below and scripts/build-widget.sh), fetched when the chat first
//! opens. So a visitor who sees a card never downloads the chat, and one who does neither
//! downloads nothing more. The `cards` and `chat` features (both by default) still build either
//! part alone, for `cargo check`.
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

/// The chat's export surface. It stays in the UI module while the chat itself is split off into
/// a chunk of its own (`wasm_split`, see scripts/build-widget.sh) that `chat_chunk` fetches before
/// `mount_chat` runs: the cards' visitors never download the chat, and the chat shares the cards'
/// Leptos runtime instead of carrying a second copy.
#[cfg(feature = "chat")]
mod chat_exports {
    use std::cell::Cell;
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    use floorwalker_core::base::locale::Locale;
    use floorwalker_core::prompts::config::PublicSiteConfig;
    use wasm_bindgen::prelude::*;
    use wasm_split_helpers::{wasm_split, SplitLoaderError};

    use crate::chat::{self, with, Options};

    /// What the main widget asks of a mounted chat.
    #[derive(Clone, Copy)]
    enum Control {
        Open,
        Close,
        Destroy,
    }

    thread_local! {
        /// Set by the chat chunk when it mounts: a call through it reaches the chunk's code
        /// without `ChatHandle` pulling the chat into the UI module.
        static CONTROL: Cell<Option<fn(Control)>> = const { Cell::new(None) };
    }

    fn control(what: Control) {
        if let Some(control) = CONTROL.with(Cell::get) {
            control(what);
        }
    }

    /// The running chat panel, as the main widget holds it.
    #[wasm_bindgen]
    pub struct ChatHandle {
        _private: (),
    }

    #[wasm_bindgen]
    impl ChatHandle {
        /// The panel became visible: read what is there, focus the message field.
        pub fn open(&self) {
            control(Control::Open);
        }

        pub fn close(&self) {
            control(Control::Close);
        }

        /// Closes the socket, stops the timers, restores the title and removes the panel's nodes.
        pub fn destroy(&self) {
            control(Control::Destroy);
        }
    }

    /// Why the chat did not mount: its chunk did not load, or `options` were wrong.
    struct MountError(JsValue);

    impl From<SplitLoaderError> for MountError {
        fn from(_: SplitLoaderError) -> Self {
            MountError("the chat chunk did not load".into())
        }
    }

    impl From<JsValue> for MountError {
        fn from(error: JsValue) -> Self {
            MountError(error)
        }
    }

    impl From<&str> for MountError {
        fn from(error: &str) -> Self {
            MountError(error.into())
        }
    }

    fn get(options: &JsValue, key: &str) -> JsValue {
        js_sys::Reflect::get(options, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }

    /// Fetches the chat chunk, once; a failed fetch is tried again on the next call. The loader
    /// awaits it before it hands the module to the widget as `"chat"` (widget/loader/fw.js).
    #[wasm_bindgen]
    pub async fn chat_chunk() -> Result<(), JsValue> {
        load_chat_chunk().await.map_err(|_| JsValue::from_str("the chat chunk did not load"))
    }

    /// Mounts the chat into `container` (an element in the widget's shadow root). See the crate
    /// docs. The chunk must be loaded (`chat_chunk`): the split call then completes at once.
    #[wasm_bindgen]
    pub fn mount_chat(container: web_sys::HtmlElement, options: JsValue, on_event: js_sys::Function) -> Result<ChatHandle, JsValue> {
        if CONTROL.with(Cell::get).is_some() {
            return Err("the chat is already mounted".into());
        }
        let mounting = std::pin::pin!(mount_in_chunk(container, options, on_event));
        match mounting.poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Ok(())) => Ok(ChatHandle { _private: () }),
            Poll::Ready(Err(MountError(error))) => Err(error),
            Poll::Pending => Err("the chat chunk is not loaded".into()),
        }
    }

    #[wasm_split(chat, fallible, preload(load_chat_chunk))]
    fn mount_in_chunk(container: web_sys::HtmlElement, options: JsValue, on_event: js_sys::Function) -> Result<(), MountError> {
        fn control_chunk(what: Control) {
            match what {
                Control::Open => drop(with(|chat| chat.set_open(true))),
                Control::Close => drop(with(|chat| chat.set_open(false))),
                Control::Destroy => {
                    chat::unmount();
                    CONTROL.with(|slot| slot.set(None));
                }
            }
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
        // Opaque to the optimiser: seeing the only value ever stored, LTO would call
        // `control_chunk` directly from `ChatHandle`'s methods and so keep the chat in the UI module.
        CONTROL.with(|slot| slot.set(Some(std::hint::black_box(control_chunk as fn(Control)))));
        Ok(())
    }
}
