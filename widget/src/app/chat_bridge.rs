//! The bridge to the UI modules (Leptos, loaded on demand: the cards, the chat): fetching them
//! through the loader, opening and closing the chat panel, mounting the chat into it, and answering
//! what the chat reports and asks (`unread`, `interact`, `close`, `context`).

use floorwalker_core::base::locale::Locale;
use floorwalker_core::visitor::event::EventData;
use wasm_bindgen::prelude::*;

use super::{call_method, on_event, with, App};
use crate::shell::ChatLoad;

/// The two UI modules the loader fetches on demand, each on its own: a visitor who sees a card
/// does not download the chat, and one who only chats does not download the cards.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum UiModule {
    Cards,
    Chat,
}

impl UiModule {
    /// The loader's name for it (`loadUi(name)` in loader/fw.js).
    fn name(self) -> &'static str {
        match self {
            UiModule::Cards => "cards",
            UiModule::Chat => "chat",
        }
    }
}

impl App {
    pub fn set_open(&self, open: bool) {
        let was_open = self.open.replace(open);
        if open && !was_open {
            self.record(EventData::ChatOpened);
        }
        self.shell.set_open(open);
        if open {
            self.load_chat();
            self.chat_call("open");
        } else {
            self.chat_call("close");
            // Focus left in a closed panel would be lost: it goes back to the launcher.
            if was_open && self.shell.root.active_element().is_some() {
                let _ = self.shell.launcher.focus();
            }
        }
    }

    /// Gets a UI module through the loader (which fetches each once) and hands it to `then`.
    pub(super) fn import_ui(&self, which: UiModule, then: impl FnOnce(&App, Result<JsValue, JsValue>) + 'static) {
        if which == UiModule::Cards {
            self.cards_requested.set(true);
        }
        let Some(load) = self.cx.load_ui.clone() else {
            then(self, Err("the loader gave no UI module".into()));
            return;
        };
        wasm_bindgen_futures::spawn_local(async move {
            let module = match load.call1(&JsValue::NULL, &JsValue::from_str(which.name())) {
                Ok(promise) => wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(promise)).await,
                Err(error) => Err(error),
            };
            with(|app| then(app, module));
        });
    }

    pub(super) fn chat_call(&self, method: &str) {
        let handle = self.chat.borrow().clone();
        if let Some(handle) = handle {
            call_method(&handle, method);
        }
    }

    /// Mounts the chat into the panel once the UI module is there. A failure is shown in the panel
    /// and never reaches the host page; the next opening tries again.
    pub(super) fn load_chat(&self) {
        if matches!(self.chat_load.get(), ChatLoad::Loading | ChatLoad::Ready) {
            return;
        }
        self.set_chat_load(ChatLoad::Loading);
        self.import_ui(UiModule::Chat, |app, module| match module.and_then(|module| app.mount_chat(&module)) {
            Ok(handle) => {
                app.chat.replace(Some(handle));
                app.set_chat_load(ChatLoad::Ready);
                if app.open.get() {
                    app.chat_call("open");
                }
            }
            Err(error) => {
                web_sys::console::warn_2(&"floorwalker: the chat did not load".into(), &error);
                app.set_chat_load(ChatLoad::Failed);
            }
        });
    }

    fn set_chat_load(&self, state: ChatLoad) {
        self.chat_load.set(state);
        self.shell.set_chat_state(state);
    }

    fn mount_chat(&self, module: &JsValue) -> Result<JsValue, JsValue> {
        let options = js_sys::Object::new();
        let locale = match self.cx.locale {
            Locale::Ru => "ru",
            Locale::En => "en",
        };
        for (key, value) in [
            ("api_base", JsValue::from_str(&self.cx.api_base)),
            ("config", self.cx.raw_config.clone()),
            ("locale", locale.into()),
            ("visitor", JsValue::from_str(&self.cx.visitor)),
            ("may_store", self.cx.may_send().into()),
        ] {
            js_sys::Reflect::set(&options, &key.into(), &value)?;
        }
        let mount: js_sys::Function = js_sys::Reflect::get(module, &"mount_chat".into())?.dyn_into()?;
        mount.call3(&JsValue::NULL, &self.shell.chat, &options, &on_event(App::chat_event))
    }

    /// What the chat reports (`unread`, `interact`, `close`: Escape) and asks (`context`).
    fn chat_event(&self, name: &str, detail: &JsValue) -> Option<JsValue> {
        match name {
            "unread" => self.shell.set_unread(detail.as_f64().unwrap_or(0.0) as u32),
            "interact" => self.grant_consent(),
            "close" => self.set_open(false),
            "context" => return self.context_wire(),
            _ => {}
        }
        None
    }
}
