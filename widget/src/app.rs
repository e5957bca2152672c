//! The running widget: browser events in, core events and decisions out.
//!
//! Everything here turns something the browser reports (a navigation, a second of attention, the
//! pointer leaving through the top) into core's inputs and acts on core's answers: the visitor's
//! attention and exit intent are `floorwalker_core::visitor::attention`'s, the queue and when it goes out
//! `event_queue`'s, whether to speak up `rules::decide`'s, what a card shows `prompt_card`'s.
//! The heuristics are documented in docs/behaviour.md. One `App`, its parts in one file each:
//!
//! - [`tracking`]: events into the session and the event queue, sending, the page and its product,
//!   attention (ticks, exit intent), consent;
//! - [`cards`]: asking the engine and showing, answering and removing the prompt card;
//! - [`chat_bridge`]: the UI modules (cards, chat), the chat panel's opening and closing, what the
//!   chat asks;
//! - [`host_api`]: the host page's `floorwalker(...)` commands and `on` callbacks;
//! - [`listeners`]: the DOM listeners and the one-second interval that feed the others.
//!
//! One `App` per page lives in a thread-local, so that DOM callbacks reach it without owning it.
//! No `RefCell` borrow is held across a call into the browser that could call back synchronously
//! (focus, host callbacks), so re-entrancy never panics.

mod cards;
mod chat_bridge;
mod host_api;
mod listeners;
mod placement;
mod tracking;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use floorwalker_core::visitor::attention::Attention;
use floorwalker_core::visitor::event::{EventData, PageView};
use floorwalker_core::visitor::event_queue::EventQueue;
use floorwalker_core::visitor::product::RawProduct;
use floorwalker_core::prompts::rules;
use floorwalker_core::visitor::session::Session;
use floorwalker_core::base::url::without_fragment;
use floorwalker_core::base::wire;
use wasm_bindgen::prelude::*;

use crate::browser::{self, later, Context};
use crate::shell::{ChatLoad, Shell};

use cards::Card;
use chat_bridge::UiModule;
use listeners::Listener;

thread_local! {
    static APP: RefCell<Option<Rc<App>>> = const { RefCell::new(None) };
}

/// Runs `f` with the widget of this page, if it runs.
pub fn with<R>(f: impl FnOnce(&Rc<App>) -> R) -> Option<R> {
    let app = APP.with(|slot| slot.try_borrow().ok().and_then(|app| app.clone()));
    app.map(|app| f(&app))
}

pub struct App {
    pub cx: Context,
    pub shell: Shell,
    // tracking
    session: RefCell<Session>,
    event_queue: RefCell<EventQueue>,
    attention: RefCell<Attention>,
    /// The product recorded for the current route, so that it is recorded once.
    page_product: RefCell<Option<String>>,
    /// The host page's `floorwalker('product', ...)` for the current route.
    api_product: RefCell<Option<RawProduct>>,
    operator_online: Cell<bool>,
    /// Focus is in a host-page field the visitor types into.
    typing: Cell<bool>,
    // cards
    card: RefCell<Card>,
    card_generation: Cell<u32>,
    clock_requested: Cell<bool>,
    ui_failed_at: Cell<f64>,
    restore_focus: RefCell<Option<web_sys::HtmlElement>>,
    // the chat bridge
    open: Cell<bool>,
    /// The cards module: requested once (preloaded), then the loader's cached promise.
    cards_requested: Cell<bool>,
    chat_load: Cell<ChatLoad>,
    /// The chat module's handle (`open()`, `close()`, `destroy()`), once mounted.
    chat: RefCell<Option<JsValue>>,
    // the host page's API
    callbacks: RefCell<Vec<(String, js_sys::Function)>>,
    // listeners
    listeners: RefCell<Vec<Listener>>,
    interval: Cell<Option<i32>>,
}

impl App {
    /// Creates the page's widget state, restores the stored session and starts observing.
    pub fn start(cx: Context, shell: Shell) -> Rc<App> {
        let now = browser::now_ms();
        // Stored in core's wire form (`wire::to_text`): no JSON decoder in the first load. Anything
        // else there (an older build's JSON) reads as a new session.
        let mut session = cx.load("state").and_then(|text| wire::from_text::<Session>(&text)).map(Session::from_storage).unwrap_or_default();
        // A card never follows the visitor to a new page load, so none is on screen now.
        session.visible_prompt = None;
        let phone = cx.window.match_media("(pointer: coarse)").ok().flatten().is_some_and(|query| query.matches());
        let route = without_fragment(&cx.href()).to_owned();
        let attention = Attention::new(now, route, phone, rules::time_scale(&cx.config.widget));
        let event_queue = EventQueue::new(cx.config.site.clone(), cx.visitor.clone(), cx.session.clone());
        let app = Rc::new(App {
            cx,
            shell,
            session: RefCell::new(session),
            event_queue: RefCell::new(event_queue),
            attention: RefCell::new(attention),
            page_product: RefCell::new(None),
            api_product: RefCell::new(None),
            operator_online: Cell::new(false),
            typing: Cell::new(false),
            card: RefCell::new(Card::None),
            card_generation: Cell::new(0),
            clock_requested: Cell::new(false),
            ui_failed_at: Cell::new(f64::NEG_INFINITY),
            restore_focus: RefCell::new(None),
            open: Cell::new(false),
            cards_requested: Cell::new(false),
            chat_load: Cell::new(ChatLoad::NotLoaded),
            chat: RefCell::new(None),
            callbacks: RefCell::new(Vec::new()),
            listeners: RefCell::new(Vec::new()),
            interval: Cell::new(None),
        });
        APP.with(|slot| {
            if let Ok(mut slot) = slot.try_borrow_mut() {
                *slot = Some(app.clone());
            }
        });
        let document = app.cx.document();
        let referrer = document.as_ref().map(|d| d.referrer()).filter(|r| !r.is_empty());
        app.record(EventData::PageView(PageView { url: app.cx.href(), title: tracking::title(&app.cx), referrer }));
        app.observe();
        app.refresh_presence();
        // After the commands queued before load ran (a `product` call wins over markup).
        later(0, || {
            with(|app| {
                app.detect_product();
                // After the page's product is in the session: a comparison preview shows it.
                app.show_preview();
            });
        });
        // A visitor who chatted before gets the chat back at once (unread badge, title), without
        // waiting for them to open it.
        if app.cx.load("chat").is_some() {
            later(1000, || {
                with(|app| app.load_chat());
            });
        }
        app
    }

    /// Stops observing and forgets the page's widget.
    pub fn stop(&self) {
        self.drop_card();
        self.chat_call("destroy");
        self.flush(true);
        self.stop_listening();
        APP.with(|slot| {
            if let Ok(mut slot) = slot.try_borrow_mut() {
                *slot = None;
            }
        });
    }
}

/// Calls `handle.method()` on a handle the UI module returned; a throw is logged, never raised.
fn call_method(handle: &JsValue, method: &str) {
    let call = js_sys::Reflect::get(handle, &method.into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    if let Some(Err(error)) = call.map(|f| f.call0(handle)) {
        web_sys::console::warn_2(&"floorwalker: UI module".into(), &error);
    }
}

/// The `on_event(name, detail)` callback handed to the UI module: one callback both ways, so the
/// module reports what the visitor did and asks for what it needs (an answer is in core's wire form).
fn on_event(handler: impl Fn(&App, &str, &JsValue) -> Option<JsValue> + 'static) -> JsValue {
    Closure::<dyn Fn(JsValue, JsValue) -> JsValue>::new(move |name: JsValue, detail: JsValue| {
        with(|app| handler(app, name.as_string().as_deref().unwrap_or_default(), &detail))
            .flatten()
            .unwrap_or(JsValue::NULL)
    })
    .into_js_value()
}
