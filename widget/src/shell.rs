//! What every visitor gets on the first load: the host element with its shadow root, the launcher,
//! the (empty) chat panel and the places where the UI module draws a prompt card or the chat.
//!
//! Built with plain DOM calls rather than Leptos so that the first load carries no UI framework:
//! the cards and the chat (Leptos) come with the UI module, loaded only when needed. The skeleton
//! is a constant; every string from the config goes in as a text node or an attribute.

use floorwalker_browser_kit::HOST_TAG;
use floorwalker_core::base::locale::Locale;
use floorwalker_core::chat::panel::badge;
use floorwalker_core::prompts::config::Position;
use floorwalker_core::prompts::contrast::readable_text_on;
use wasm_bindgen::prelude::*;

/// The host element's own style. Inline and `!important`, because a page's stylesheet can reach
/// any element (`*{display:none!important}`, `[style]{…}`) and `:host` rules in the shadow root
/// lose to the page's: an element's `style` attribute wins over every stylesheet rule of the same
/// importance, whatever its selector. `all:initial` also stops the page's inherited styles here.
/// The widget's frame inside is `position:fixed`, so the host itself needs no box.
const HOST_STYLE: &str = "all:initial!important";

/// The widget's styles (shipped as they are, so the reasons live here). The panel is a column of
/// a fixed height that always fits the viewport above the launcher (92 px from the bottom, 12 px
/// to spare at the top; `dvh` where known, so a phone's browser bars are left out), and the chat
/// inside shares it out: a form's button is never cut off below the panel's edge.
const STYLE: &str = include_str!("widget.css");

const SKELETON: &str = concat!(
    r#"<div class="sr" role="status" aria-live="polite"></div>"#,
    r#"<div class="cards"></div>"#,
    // Always in the DOM (hidden when closed), so the chat mounted inside keeps its state.
    // The panel's title bar is a div: a `<header>` here would be a second banner landmark on the
    // shop's page.
    r#"<section class="panel" role="dialog" hidden><div class="head brand"><strong></strong>"#,
    r#"<button type="button" class="close">×</button></div><div class="chat"></div>"#,
    r#"<p class="chat-state" role="status"></p></section>"#,
    r#"<button type="button" class="launcher brand" aria-expanded="false">"#,
    r#"<span class="badge" aria-hidden="true" hidden></span>"#,
    r#"<svg viewBox="0 0 24 24" width="26" height="26" aria-hidden="true"><path fill="currentColor" "#,
    r#"d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg></button>"#,
);

/// The widget's own words on the first load.
struct Copy {
    open: &'static str,
    close: &'static str,
    chat_loading: &'static str,
    chat_failed: &'static str,
    unread: &'static str,
}

fn copy(locale: Locale) -> Copy {
    match locale {
        Locale::Ru => Copy {
            open: "Открыть помощника",
            close: "Закрыть",
            chat_loading: "Загружаем чат…",
            chat_failed: "Чат сейчас недоступен. Попробуйте открыть его ещё раз чуть позже.",
            unread: "новых сообщений",
        },
        Locale::En => Copy {
            open: "Open assistant",
            close: "Close",
            chat_loading: "Loading the chat…",
            chat_failed: "The chat is not available right now. Please try opening it again in a moment.",
            unread: "new messages",
        },
    }
}

/// Where the chat panel's module is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ChatLoad {
    NotLoaded,
    Loading,
    Ready,
    Failed,
}

pub struct Shell {
    pub host: web_sys::Element,
    pub root: web_sys::ShadowRoot,
    live: web_sys::Element,
    /// Where the UI module draws a prompt card.
    pub cards: web_sys::Element,
    pub panel: web_sys::Element,
    /// Where the UI module draws the chat.
    pub chat: web_sys::Element,
    chat_state: web_sys::Element,
    pub launcher: web_sys::HtmlElement,
    pub close: web_sys::Element,
    badge: web_sys::Element,
    copy: Copy,
}

impl Shell {
    /// Adds the host element to the page and draws the closed widget in its shadow root.
    pub fn mount(
        document: &web_sys::Document,
        locale: Locale,
        brand_color: &str,
        position: Position,
        shop_name: &str,
    ) -> Result<Shell, JsValue> {
        if document.query_selector(HOST_TAG)?.is_some() {
            return Err("the widget is already on this page".into());
        }
        let host = document.create_element(HOST_TAG)?;
        host.set_attribute("style", HOST_STYLE)?;
        let root = host.attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))?;
        let style = document.create_element("style")?;
        style.set_text_content(Some(STYLE));
        root.append_child(&style)?;
        let frame = document.create_element("div")?;
        frame.set_class_name(match position {
            Position::BottomRight => "fw right",
            Position::BottomLeft => "fw left",
        });
        frame.set_attribute("lang", if locale == Locale::En { "en" } else { "ru" })?;
        // `concat`, not `format!`, here and below: the first load carries no `core::fmt` (issue 16).
        frame.set_attribute("style", &["--fw-brand:", brand_color, ";--fw-on-brand:", readable_text_on(brand_color)].concat())?;
        // Constant markup only; nothing from the config or the page is in it.
        frame.set_inner_html(SKELETON);
        root.append_child(&frame)?;
        let find = |selector: &str| -> Result<web_sys::Element, JsValue> {
            frame.query_selector(selector)?.ok_or_else(|| JsValue::from_str("widget skeleton"))
        };
        let copy = copy(locale);
        let shell = Shell {
            live: find(".sr")?,
            cards: find(".cards")?,
            panel: find(".panel")?,
            chat: find(".chat")?,
            chat_state: find(".chat-state")?,
            launcher: find(".launcher")?.dyn_into()?,
            close: find(".close")?,
            badge: find(".badge")?,
            host,
            root,
            copy,
        };
        shell.panel.set_attribute("aria-label", shop_name)?;
        find(".panel strong")?.set_text_content(Some(shop_name));
        shell.close.set_attribute("aria-label", shell.copy.close)?;
        shell.set_unread(0);
        shell.set_chat_state(ChatLoad::NotLoaded);
        // The first child of <html>, before <head>, rather than anywhere in <body>: the body's
        // children, and the body's own place among its siblings counted from the end, stay as the
        // page made them, so `body > :last-child`, `main > :last-child` or `:last-child{margin:0}`
        // (which matches the body) hit what they hit without the tag. What it does change:
        // `html > :first-child` and `:first-child + body` mean the host now, not the (unrendered)
        // head, and `body:nth-child(2)` becomes `body:nth-child(3)`, counted from the start.
        document.document_element().ok_or("no document element")?.prepend_with_node_1(&shell.host)?;
        Ok(shell)
    }

    pub fn set_open(&self, open: bool) {
        let _ = self.panel.toggle_attribute_with_force("hidden", !open);
        let _ = self.launcher.set_attribute("aria-expanded", if open { "true" } else { "false" });
        let unread = self.badge.text_content().is_some_and(|t| !t.is_empty());
        let _ = self.badge.toggle_attribute_with_force("hidden", open || !unread);
    }

    pub fn is_open(&self) -> bool {
        !self.panel.has_attribute("hidden")
    }

    /// Operator messages the visitor has not seen: the badge and the launcher's accessible name.
    pub fn set_unread(&self, count: u32) {
        let shown = badge(u64::from(count));
        let label = match &shown {
            Some(count) => [self.copy.open, " (", count, " ", self.copy.unread, ")"].concat(),
            None => self.copy.open.to_owned(),
        };
        let _ = self.launcher.set_attribute("aria-label", &label);
        self.badge.set_text_content(shown.as_deref());
        let _ = self.badge.toggle_attribute_with_force("hidden", shown.is_none() || self.is_open());
    }

    pub fn set_chat_state(&self, state: ChatLoad) {
        let failed = state == ChatLoad::Failed;
        let _ = self.chat_state.toggle_attribute_with_force("hidden", state == ChatLoad::Ready);
        let _ = self.chat_state.set_attribute("role", if failed { "alert" } else { "status" });
        self.chat_state.set_text_content(Some(if failed { self.copy.chat_failed } else { self.copy.chat_loading }));
    }

    /// Tells screen readers what just changed (a card appeared), through the polite live region.
    pub fn announce(&self, text: &str) {
        self.live.set_text_content(Some(text));
    }
}
