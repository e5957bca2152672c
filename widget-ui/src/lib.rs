//! The widget's UI module: the visitor's chat panel and the prompt cards (`prompt.rs`), in Leptos.
//! A second wasm module: the first-load widget asks the loader for it when the chat first opens or
//! a card is near, so a visitor who does neither never downloads it.
//!
//! The chat's interface is deliberately small and made of plain JS values:
//! `mount_chat(container, options, on_event)` → a [`ChatHandle`] with `open()`, `close()`,
//! `destroy()`. `options` carries `api_base`, `config` (the public site config as served),
//! `locale` (`"ru"`/`"en"`), `visitor` and `may_store` (consent). Business hours are the panel's
//! own reading of the site's clock: at mount, on opening and each minute while open.
//! `on_event(name, detail)` reports `"unread"` (a count, for the launcher's badge),
//! `"interact"` (the visitor wrote: under `consent: required` that is agreement) and `"close"`
//! (Escape), and answers
//! `"context"` with the visitor context as JSON text (for a new conversation or a lead).
//!
//! Every decision (backoff, unread, seen, offline mode, stored state, copy) is core's
//! (`floorwalker_core::chat::panel`, `floorwalker_core::chat::protocol::ChatClient`); this crate moves frames
//! and draws.

mod net;
mod prompt;
mod sound;
mod view;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use floorwalker_core::base::error::ErrorCode;
use floorwalker_core::base::locale::Locale;
use floorwalker_core::base::phone::PhoneRegion;
use floorwalker_core::chat::panel::{self as chat_panel, Link, StoredChat};
use floorwalker_core::chat::protocol::{
    Author, ChatClient, ChatMessage, ClientEvent, ClientFrame, ConversationStatus, PendingMessage, ServerFrame,
};
use floorwalker_core::prompts::config::PublicSiteConfig;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;

thread_local! {
    static CHAT: RefCell<Option<Rc<Chat>>> = const { RefCell::new(None) };
}

/// Runs `f` with the page's chat, if mounted.
pub(crate) fn with<R>(f: impl FnOnce(&Rc<Chat>) -> R) -> Option<R> {
    let chat = CHAT.with(|slot| slot.try_borrow().ok().and_then(|c| c.clone()));
    chat.map(|chat| f(&chat))
}

/// What the view renders; `Copy`, so view closures hold signals, not the chat.
#[derive(Clone, Copy)]
pub(crate) struct Ui {
    pub messages: RwSignal<Vec<ChatMessage>>,
    pub pending: RwSignal<Vec<PendingMessage>>,
    /// Messages the server refused for good: (client_msg_id, text, reason).
    pub failed: RwSignal<Vec<(String, String, String)>>,
    pub link: RwSignal<Link>,
    /// `None` until the session or a welcome says.
    pub operator_online: RwSignal<Option<bool>>,
    pub status: RwSignal<ConversationStatus>,
    pub has_conversation: RwSignal<bool>,
    /// The operator typing now, by name.
    pub typing: RwSignal<Option<String>>,
    pub operator_read: RwSignal<u64>,
    pub open: RwSignal<bool>,
    /// The callback-offer form, after the visitor chose it under a system message.
    pub offer_form: RwSignal<bool>,
    /// Whether it is within the shop's business hours now: given at mount, then re-evaluated
    /// every minute while the panel is open (see [`Chat::check_hours`]).
    pub within_hours: RwSignal<bool>,
}

pub(crate) struct Options {
    pub api_base: String,
    pub config: PublicSiteConfig,
    pub locale: Locale,
    pub visitor: String,
    pub region: PhoneRegion,
}

/// A DOM callback kept alive as long as its target.
type Listener = Closure<dyn FnMut(JsValue)>;

pub(crate) struct Chat {
    pub opts: Options,
    pub ui: Ui,
    on_event: js_sys::Function,
    client: RefCell<ChatClient>,
    stored: RefCell<StoredChat>,
    may_store: Cell<bool>,
    client_id: String,
    ws: RefCell<Option<(web_sys::WebSocket, Vec<Listener>)>>,
    attempt: Cell<u32>,
    /// Whether a session/conversation/connect step is under way (so retries never overlap).
    busy: Cell<bool>,
    retry_timer: Cell<Option<i32>>,
    typing_sent: Cell<bool>,
    typing_timer: Cell<Option<i32>>,
    last_unread: Cell<Option<u64>>,
    page_title: RefCell<Option<String>>,
    destroyed: Cell<bool>,
    visibility: RefCell<Option<Listener>>,
    /// The next business-hours check while the panel is open.
    hours_timer: Cell<Option<i32>>,
    /// The reply tone, when the site turned it on (`widget.chat_sound`).
    chime: RefCell<sound::Chime>,
    last_chime_at: Cell<Option<u64>>,
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
        with(|chat| chat.set_open(true));
    }

    pub fn close(&self) {
        with(|chat| chat.set_open(false));
    }

    /// Closes the socket, stops the timers, restores the title and removes the panel's nodes.
    pub fn destroy(&self) {
        with(|chat| chat.destroy());
        CHAT.with(|slot| {
            if let Ok(mut slot) = slot.try_borrow_mut() {
                *slot = None;
            }
        });
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
    let config: PublicSiteConfig = serde_wasm_bindgen::from_value(get(&options, "config"))?;
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
    let stored = if may_store { net::load(&opts.config.site) } else { None }.unwrap_or_default();
    let client = ChatClient::new(stored.messages.clone(), stored.pending.clone());
    let ui = Ui {
        messages: RwSignal::new(client.messages().to_vec()),
        pending: RwSignal::new(client.pending().to_vec()),
        failed: RwSignal::new(Vec::new()),
        link: RwSignal::new(Link::Idle),
        operator_online: RwSignal::new(None),
        status: RwSignal::new(stored.status),
        has_conversation: RwSignal::new(stored.conversation_id.is_some()),
        typing: RwSignal::new(None),
        operator_read: RwSignal::new(0),
        open: RwSignal::new(false),
        offer_form: RwSignal::new(false),
        within_hours: RwSignal::new(true),
    };
    let chat = Rc::new(Chat {
        opts,
        ui,
        on_event,
        client: RefCell::new(client),
        stored: RefCell::new(StoredChat { messages: Vec::new(), pending: Vec::new(), ..stored }),
        may_store: Cell::new(may_store),
        client_id: net::random_id(),
        ws: RefCell::new(None),
        attempt: Cell::new(0),
        busy: Cell::new(false),
        retry_timer: Cell::new(None),
        typing_sent: Cell::new(false),
        typing_timer: Cell::new(None),
        last_unread: Cell::new(None),
        page_title: RefCell::new(None),
        destroyed: Cell::new(false),
        visibility: RefCell::new(None),
        hours_timer: Cell::new(None),
        chime: RefCell::new(sound::Chime::default()),
        last_chime_at: Cell::new(None),
    });
    CHAT.with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = Some(chat.clone());
        }
    });
    let locale = chat.opts.locale;
    leptos::mount::mount_to(container, move || view::panel(ui, locale)).forget();
    chat.check_hours();
    chat.watch_visibility();
    chat.resume();
    Ok(ChatHandle { _private: () })
}

impl Chat {
    fn emit(&self, name: &str, detail: &JsValue) -> JsValue {
        self.on_event.call2(&JsValue::NULL, &JsValue::from_str(name), detail).unwrap_or_else(|error| {
            web_sys::console::warn_2(&"floorwalker chat: on_event threw".into(), &error);
            JsValue::NULL
        })
    }

    pub fn set_open(&self, open: bool) {
        self.ui.open.set(open);
        if let Some(timer) = self.hours_timer.take() {
            net::window().clear_timeout_with_handle(timer);
        }
        if open {
            self.check_hours();
            self.prime_sound();
            self.mark_read();
            // A dropped link is retried at once when the visitor looks at it again.
            if self.ui.link.get_untracked() == Link::Reconnecting {
                self.retry_now();
            }
            net::later(0, || {
                with(|chat| chat.focus_input());
            });
        }
        self.sync();
    }

    /// Re-evaluates business hours (core's `BusinessHours::is_open` at the shop's local time, which
    /// the browser's `Intl` gives for the site's time zone), so a panel left open across opening or
    /// closing time says the right thing; then again at the start of the next minute, while open.
    fn check_hours(&self) {
        let widget = &self.opts.config.widget;
        let now = js_sys::Date::now();
        let (day, minute) = net::site_local_time(&widget.timezone, now);
        let open = widget.business_hours.is_open(day, minute);
        if self.ui.within_hours.get_untracked() != open {
            self.ui.within_hours.set(open);
        }
        if self.ui.open.get_untracked() && !self.destroyed.get() {
            // A few milliseconds past the minute, so the check lands after the boundary.
            let delay = 60_000 - (now as i64).rem_euclid(60_000) + 50;
            let id = net::later(delay as i32, || {
                with(|chat| {
                    chat.hours_timer.set(None);
                    chat.check_hours();
                });
            });
            self.hours_timer.set(id);
        }
    }

    pub fn focus_input(&self) {
        if !self.ui.open.get_untracked() {
            return;
        }
        let Some(root) = net::document().and_then(|d| d.query_selector(floorwalker_browser_kit::HOST_TAG).ok().flatten()).and_then(|h| h.shadow_root()) else {
            return;
        };
        let field = root.query_selector("#fwc-input, #fwc-off-message, #fwc-offer-contact").ok().flatten();
        if let Some(field) = field.and_then(|f| f.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = field.focus();
        }
    }

    fn destroy(&self) {
        self.destroyed.set(true);
        self.drop_socket();
        let window = net::window();
        for timer in [self.retry_timer.take(), self.typing_timer.take(), self.hours_timer.take()].into_iter().flatten() {
            window.clear_timeout_with_handle(timer);
        }
        if let Ok(mut chime) = self.chime.try_borrow_mut() {
            chime.close();
        }
        if let (Some(document), Some(closure)) = (net::document(), self.visibility.take()) {
            let _ = document.remove_event_listener_with_callback("visibilitychange", closure.as_ref().unchecked_ref());
        }
        self.set_title(0);
    }

    fn watch_visibility(&self) {
        let closure = Closure::<dyn FnMut(JsValue)>::new(|_| {
            with(|chat| {
                chat.mark_read();
                chat.sync();
            });
        });
        if let Some(document) = net::document() {
            let _ = document.add_event_listener_with_callback("visibilitychange", closure.as_ref().unchecked_ref());
        }
        self.visibility.replace(Some(closure));
    }

    // ---- state -> signals, storage, badge, title ---------------------------------------------------

    /// Copies the client's state into the signals, stores it, and tells the launcher.
    fn sync(&self) {
        let (messages, pending) = {
            let Ok(client) = self.client.try_borrow() else { return };
            (client.messages().to_vec(), client.pending().to_vec())
        };
        if self.ui.messages.with_untracked(|m| m.len() != messages.len() || m.last() != messages.last()) {
            self.ui.messages.set(messages.clone());
        }
        if self.ui.pending.with_untracked(|p| *p != pending) {
            self.ui.pending.set(pending.clone());
        }
        let read_up_to = self.stored.borrow().read_up_to;
        let unread = if self.ui.open.get_untracked() && visible() { 0 } else { chat_panel::unread(&messages, read_up_to) };
        let before = self.last_unread.replace(Some(unread));
        if before != Some(unread) {
            self.emit("unread", &JsValue::from_f64(unread as f64));
        }
        let now = net::now_ms();
        if chat_panel::chime_due(self.opts.config.widget.chat_sound, before, unread, self.last_chime_at.get(), now)
            && self.chime.try_borrow().is_ok_and(|chime| chime.play())
        {
            self.last_chime_at.set(Some(now));
        }
        self.set_title(if self.ui.open.get_untracked() { 0 } else { unread });
        self.save(messages, pending);
    }

    fn save(&self, messages: Vec<ChatMessage>, pending: Vec<PendingMessage>) {
        if !self.may_store.get() {
            return;
        }
        let stored = StoredChat { messages, pending, ..self.stored.borrow().clone() }.trimmed();
        net::store(&self.opts.config.site, &stored);
    }

    fn set_title(&self, unread: u64) {
        let Some(document) = net::document() else { return };
        let mut page_title = self.page_title.borrow_mut();
        if unread == 0 {
            if let Some(original) = page_title.take() {
                document.set_title(&original);
            }
            return;
        }
        let original = page_title.get_or_insert_with(|| document.title()).clone();
        document.set_title(&chat_panel::notify_title(&original, unread, self.opts.locale));
    }

    /// Sends `read` when the panel is open and visible and there is something new.
    fn mark_read(&self) {
        if self.ui.link.get_untracked() != Link::Connected {
            return;
        }
        let read_up_to = self.stored.borrow().read_up_to;
        let next = self
            .client
            .try_borrow()
            .ok()
            .and_then(|c| chat_panel::read_to_send(c.messages(), read_up_to, self.ui.open.get_untracked() && visible()));
        if let Some(seq) = next {
            self.stored.borrow_mut().read_up_to = seq;
            self.send_frame(&ClientFrame::Read { up_to_seq: seq });
        }
    }

    // ---- the visitor's actions -------------------------------------------------------------------

    /// Sends a message: pending at once (shown as "sending"), over the socket when connected,
    /// re-sent with the same id after every reconnect until the server's message frame arrives.
    pub fn send_text(&self, text: &str) -> Result<(), ErrorCode> {
        let text = floorwalker_core::chat::protocol::normalize_message_text(text).map_err(|e| e.code)?;
        self.interacted();
        self.prime_sound();
        if self.ui.status.get_untracked() == ConversationStatus::Closed {
            // A closed conversation is final; writing again starts a new one.
            let pending = self.client.borrow().pending().to_vec();
            self.client.replace(ChatClient::new(Vec::new(), pending));
            {
                let mut stored = self.stored.borrow_mut();
                stored.conversation_id = None;
                stored.read_up_to = 0;
                stored.status = ConversationStatus::Open;
            }
            self.ui.status.set(ConversationStatus::Open);
            self.ui.has_conversation.set(false);
            self.ui.operator_read.set(0);
        }
        let frame = self.client.borrow_mut().send(&format!("m{}", net::random_id()), &text);
        self.typing(false);
        self.sync();
        if self.ui.link.get_untracked() == Link::Connected {
            self.send_frame(&frame);
        } else if self.stored.borrow().conversation_id.is_none() {
            self.resume();
        }
        Ok(())
    }

    /// A visitor's action in the panel (opening it, sending): the moment the browser lets the
    /// reply tone's audio start, if the site wants it.
    pub fn prime_sound(&self) {
        if self.opts.config.widget.chat_sound {
            if let Ok(mut chime) = self.chime.try_borrow_mut() {
                chime.prime();
            }
        }
    }

    /// Escape in the panel: the main widget closes it (and puts focus back on the launcher).
    pub fn request_close(&self) {
        self.emit("close", &JsValue::NULL);
    }

    /// The visitor wrote something: under `consent: required` that is agreement, so the main
    /// widget records it, and from now on the chat may keep its state in storage.
    pub fn interacted(&self) {
        if !self.may_store.get() {
            self.emit("interact", &JsValue::TRUE);
            self.may_store.set(true);
        }
    }

    /// Typing on/off, at most one "on" per burst, "off" after a pause.
    pub fn typing(&self, on: bool) {
        if let Some(timer) = self.typing_timer.take() {
            net::window().clear_timeout_with_handle(timer);
        }
        if on {
            let id = net::later(chat_panel::TYPING_IDLE_MS as i32, || {
                with(|chat| chat.typing(false));
            });
            self.typing_timer.set(id);
        }
        if self.typing_sent.get() != on && self.ui.link.get_untracked() == Link::Connected {
            self.typing_sent.set(on);
            self.send_frame(&ClientFrame::Typing { on });
        }
    }

    /// The visitor's context as the main widget knows it now (for a new conversation and a lead).
    pub fn context(&self) -> Option<floorwalker_core::visitor::context::VisitorContext> {
        let json = self.emit("context", &JsValue::NULL).as_string()?;
        net::from_json(&json)
    }

    pub fn token(&self) -> Option<String> {
        self.stored.borrow().token.clone()
    }

    pub fn conversation_id(&self) -> Option<String> {
        self.stored.borrow().conversation_id.clone()
    }

    // ---- the link: session, conversation, socket, reconnection -----------------------------------

    /// Does whatever the link needs next: a token, a conversation (once there is something to
    /// send), a socket. A failure schedules the next attempt with core's backoff.
    fn resume(&self) {
        if self.busy.get() || self.destroyed.get() {
            return;
        }
        if self.ws.borrow().is_some() {
            return;
        }
        self.busy.set(true);
        wasm_bindgen_futures::spawn_local(async {
            let outcome = net::resume().await;
            with(|chat| {
                chat.busy.set(false);
                match outcome {
                    Ok(()) => {}
                    Err(error) => {
                        net::warn(&format!("floorwalker chat: {error}"));
                        chat.schedule_retry();
                    }
                }
            });
        });
    }

    /// The session's answer: a token, presence and the conversation the server has open.
    pub(crate) fn took_session(&self, session: net::Session) {
        self.ui.operator_online.set(Some(session.operator_online));
        let mine = {
            let mut stored = self.stored.borrow_mut();
            stored.token = Some(session.token);
            stored.token_expires_at = session.expires_at;
            stored.conversation_id.clone()
        };
        match (mine, session.conversation_id) {
            (Some(mine), Some(theirs)) if mine == theirs => {}
            (_, Some(theirs)) => {
                // Another device of the same person, or storage from before: follow the server.
                {
                    let mut stored = self.stored.borrow_mut();
                    stored.conversation_id = Some(theirs);
                    stored.read_up_to = 0;
                    stored.status = ConversationStatus::Open;
                }
                let pending = self.client.borrow().pending().to_vec();
                self.client.replace(ChatClient::new(Vec::new(), pending));
                self.ui.has_conversation.set(true);
                self.ui.status.set(ConversationStatus::Open);
            }
            (Some(_), None) => {
                // Ours was closed meanwhile: keep showing it; writing again starts a new one.
                self.stored.borrow_mut().status = ConversationStatus::Closed;
                self.ui.status.set(ConversationStatus::Closed);
            }
            (None, None) => {}
        }
        self.sync();
    }

    pub(crate) fn started_conversation(&self, id: String) {
        {
            let mut stored = self.stored.borrow_mut();
            stored.conversation_id = Some(id);
            stored.status = ConversationStatus::Open;
        }
        self.ui.has_conversation.set(true);
        self.ui.status.set(ConversationStatus::Open);
        self.sync();
    }

    pub(crate) fn has_pending(&self) -> bool {
        !self.client.borrow().pending().is_empty()
    }

    pub(crate) fn token_usable(&self) -> bool {
        self.stored.borrow().usable_token(net::now_ms()).is_some()
    }

    pub(crate) fn forget_token(&self) {
        self.stored.borrow_mut().token = None;
    }

    /// Opens the visitor's socket for the stored conversation and token.
    pub(crate) fn connect(&self) -> Result<(), String> {
        let (Some(id), Some(token)) = (self.conversation_id(), self.token()) else { return Err("nothing to connect to".into()) };
        let base = self.opts.api_base.replacen("http", "ws", 1);
        let url = format!(
            "{base}/v1/chat/conversations/{}/ws?token={}",
            js_sys::encode_uri_component(&id),
            js_sys::encode_uri_component(&token)
        );
        let ws = web_sys::WebSocket::new(&url).map_err(|e| format!("{e:?}"))?;
        let on_open = Closure::<dyn FnMut(JsValue)>::new(|_| {
            with(|chat| {
                let hello = chat.client.borrow().hello(&chat.client_id);
                chat.send_frame(&hello);
            });
        });
        let on_message = Closure::<dyn FnMut(JsValue)>::new(|event: JsValue| {
            let text = event.unchecked_into::<web_sys::MessageEvent>().data().as_string();
            with(|chat| chat.on_text(text.as_deref().unwrap_or_default()));
        });
        let on_close = Closure::<dyn FnMut(JsValue)>::new(|_| {
            with(|chat| chat.on_drop());
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        self.ws.replace(Some((ws, vec![on_open, on_message, on_close])));
        if self.ui.link.get_untracked() != Link::Reconnecting {
            self.ui.link.set(Link::Connecting);
        }
        Ok(())
    }

    fn drop_socket(&self) {
        if let Some((ws, _closures)) = self.ws.take() {
            ws.set_onopen(None);
            ws.set_onmessage(None);
            ws.set_onclose(None);
            let _ = ws.close();
        }
    }

    fn on_drop(&self) {
        let welcomed = self.ui.link.get_untracked() == Link::Connected;
        self.drop_socket();
        self.ui.typing.set(None);
        self.typing_sent.set(false);
        if self.destroyed.get() {
            return;
        }
        // A socket refused before any welcome, again and again, may be a stale token (the browser
        // hides the handshake's status): the next attempt asks for a new one.
        if !welcomed && self.attempt.get() >= 2 {
            self.forget_token();
        }
        self.schedule_retry();
    }

    fn schedule_retry(&self) {
        if self.destroyed.get() {
            return;
        }
        self.ui.link.set(Link::Reconnecting);
        if let Some(timer) = self.retry_timer.take() {
            net::window().clear_timeout_with_handle(timer);
        }
        let attempt = self.attempt.get();
        self.attempt.set(attempt.saturating_add(1));
        let delay = chat_panel::backoff_ms(attempt, net::random_fraction());
        let id = net::later(delay as i32, || {
            with(|chat| {
                chat.retry_timer.set(None);
                chat.resume();
            });
        });
        self.retry_timer.set(id);
    }

    pub fn retry_now(&self) {
        if let Some(timer) = self.retry_timer.take() {
            net::window().clear_timeout_with_handle(timer);
        }
        self.resume();
    }

    fn send_frame(&self, frame: &ClientFrame) {
        let Some(json) = net::to_json(frame) else { return };
        if let Some((ws, _)) = self.ws.borrow().as_ref() {
            let _ = ws.send_with_str(&json);
        }
    }

    fn on_text(&self, text: &str) {
        let Some(frame) = net::from_json::<ServerFrame>(text) else {
            net::warn("floorwalker chat: a frame did not parse");
            return;
        };
        let before: Vec<PendingMessage> = self.client.borrow().pending().to_vec();
        let event = self.client.borrow_mut().receive(frame);
        match event {
            ClientEvent::None => {}
            ClientEvent::Messages => {
                let from_operator =
                    self.client.borrow().messages().last().is_some_and(|m| matches!(m.author, Author::Operator { .. }));
                if from_operator {
                    self.ui.typing.set(None);
                }
                self.mark_read();
            }
            ClientEvent::SendFailed { client_msg_id, error } => {
                let text = before.iter().find(|p| p.client_msg_id == client_msg_id).map(|p| p.text.clone()).unwrap_or_default();
                self.ui.failed.update(|failed| failed.push((client_msg_id, text, error.message)));
            }
            ClientEvent::SendDeferred { .. } => {
                // Rate limited: the same ids go again a little later.
                net::later(3_000, || {
                    with(|chat| chat.resend_pending());
                });
            }
            ClientEvent::Resync => {
                // A seq was skipped: a fresh hello fetches exactly what is missing.
                self.drop_socket();
                self.resume();
            }
            ClientEvent::Frame(ServerFrame::Welcome(welcome)) => {
                self.attempt.set(0);
                self.ui.link.set(Link::Connected);
                self.ui.operator_online.set(Some(welcome.operator_online));
                self.ui.operator_read.set(welcome.other_read_up_to);
                self.ui.status.set(welcome.status);
                {
                    let client = self.client.borrow();
                    let mut stored = self.stored.borrow_mut();
                    stored.status = welcome.status;
                    if welcome.reset || stored.read_up_to == 0 || stored.read_up_to > welcome.last_seq {
                        stored.read_up_to = chat_panel::read_marker_for(client.messages(), welcome.unread);
                    }
                }
                self.resend_pending();
                self.mark_read();
            }
            ClientEvent::Frame(ServerFrame::Typing { author: Author::Operator { name }, on }) => {
                self.ui.typing.set(on.then_some(name));
            }
            ClientEvent::Frame(ServerFrame::Read { by: floorwalker_core::chat::protocol::Side::Operator, up_to_seq }) => {
                self.ui.operator_read.set(up_to_seq);
            }
            ClientEvent::Frame(ServerFrame::Presence { operator_online }) => self.ui.operator_online.set(Some(operator_online)),
            ClientEvent::Frame(ServerFrame::Closed { .. }) => {
                self.stored.borrow_mut().status = ConversationStatus::Closed;
                self.ui.status.set(ConversationStatus::Closed);
                self.ui.typing.set(None);
            }
            ClientEvent::Frame(ServerFrame::Error { error, .. }) => {
                net::warn(&format!("floorwalker chat: {}", error.message));
            }
            ClientEvent::Frame(_) => {}
        }
        self.sync();
    }

    fn resend_pending(&self) {
        let frames = self.client.borrow().resend_pending();
        for frame in frames {
            self.send_frame(&frame);
        }
    }
}

fn visible() -> bool {
    net::document().is_some_and(|d| !d.hidden())
}
