//! The chat panel's controller: the state behind the view (`Ui` signals), first-party storage,
//! the launcher's badge and the page title, the visitor's actions, business hours. Its link to the
//! server (session, conversation, socket, reconnection) is `link.rs`. Every decision is core's
//! (`chat::panel`, `chat::protocol::ChatClient`).

mod link;
pub(crate) mod routes;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use floorwalker_core::base::error::ErrorCode;
use floorwalker_core::base::locale::Locale;
use floorwalker_core::base::phone::PhoneRegion;
use floorwalker_core::chat::panel::{self as chat_panel, Link, StoredChat};
use floorwalker_core::chat::protocol::{ChatClient, ChatMessage, ClientFrame, ConversationStatus, PendingMessage};
use floorwalker_core::prompts::config::PublicSiteConfig;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use crate::{net, sound, view};

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
    /// The link's notice as the panel shows it (empty when all is well) and whether it is
    /// reconnecting (the "retry now" button): what the view needs of `Chat::link`, in signal
    /// types the panel has anyway (a `Link` signal would cost the module code of its own).
    pub link_notice: RwSignal<String>,
    pub reconnecting: RwSignal<bool>,
    /// Read through [`Ui::operator_online`]: two `bool` signals, where an `Option<bool>` signal
    /// would cost the module the code of a signal type of its own.
    operator_online: RwSignal<bool>,
    presence_known: RwSignal<bool>,
    /// Whether the conversation was closed (its `ConversationStatus` as a `bool`: a signal of a type
    /// the panel has anyway costs the module no code of its own).
    pub closed: RwSignal<bool>,
    pub has_conversation: RwSignal<bool>,
    /// The operator typing now, as the panel says it ("Anna is typing…"), or empty. A `String`
    /// signal, not an `Option`: each signal value type costs the module its own code.
    pub typing: RwSignal<String>,
    pub operator_read: RwSignal<u64>,
    pub open: RwSignal<bool>,
    /// The callback-offer form, after the visitor chose it under a system message.
    pub offer_form: RwSignal<bool>,
    /// Whether it is within the shop's business hours now: given at mount, then re-evaluated
    /// every minute while the panel is open (see [`Chat::check_hours`]).
    pub within_hours: RwSignal<bool>,
}

impl Ui {
    /// Whether an operator is online; `None` until the session or a welcome says (tracked).
    pub fn operator_online(&self) -> Option<bool> {
        self.presence_known.get().then(|| self.operator_online.get())
    }

    pub fn set_operator_online(&self, online: bool) {
        self.operator_online.set(online);
        self.presence_known.set(true);
    }
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
    /// The link's state; the view's part of it is in `Ui` ([`Chat::set_link`]).
    link: Cell<Link>,
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

/// Mounts the panel into `container` and starts the chat: business hours, visibility, the link.
pub(crate) fn mount(container: web_sys::HtmlElement, opts: Options, may_store: bool, on_event: js_sys::Function) {
    let stored = if may_store { routes::load(&opts.config.site) } else { None }.unwrap_or_default();
    let client = ChatClient::new(stored.messages.clone(), stored.pending.clone());
    let ui = Ui {
        messages: RwSignal::new(client.messages().to_vec()),
        pending: RwSignal::new(client.pending().to_vec()),
        failed: RwSignal::new(Vec::new()),
        link_notice: RwSignal::new(String::new()),
        reconnecting: RwSignal::new(false),
        operator_online: RwSignal::new(false),
        presence_known: RwSignal::new(false),
        closed: RwSignal::new(stored.status == ConversationStatus::Closed),
        has_conversation: RwSignal::new(stored.conversation_id.is_some()),
        typing: RwSignal::new(String::new()),
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
        link: Cell::new(Link::Idle),
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
    let timezone = chat.opts.config.widget.timezone.clone();
    let touch = touch_screen();
    leptos::mount::mount_to(container, move || view::panel(ui, locale, timezone, touch)).forget();
    chat.check_hours();
    chat.watch_visibility();
    chat.resume();
}

/// Whether the visitor is on a touch screen without a hovering pointer (a phone or tablet): no
/// hardware keyboard to speak of, so no keyboard hints.
fn touch_screen() -> bool {
    net::window().match_media("(hover: none) and (pointer: coarse)").ok().flatten().is_some_and(|query| query.matches())
}

/// Stops the chat (socket, timers, title) and forgets it.
pub(crate) fn unmount() {
    with(|chat| chat.destroy());
    CHAT.with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = None;
        }
    });
}

impl Chat {
    fn emit(&self, name: &str, detail: &JsValue) -> JsValue {
        self.on_event.call2(&JsValue::NULL, &JsValue::from_str(name), detail).unwrap_or_else(|error| {
            web_sys::console::warn_2(&"floorwalker chat: on_event threw".into(), &error);
            JsValue::NULL
        })
    }

    pub(crate) fn set_link(&self, link: Link) {
        self.link.set(link);
        self.ui.link_notice.set(chat_panel::link_notice(link, self.opts.locale).unwrap_or_default().to_owned());
        self.ui.reconnecting.set(link == Link::Reconnecting);
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
            if self.link.get() == Link::Reconnecting {
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
        focus("#fwc-input, #fwc-off-message, #fwc-offer-contact");
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
        routes::store(&self.opts.config.site, &stored);
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
        if self.link.get() != Link::Connected {
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
        if self.ui.closed.get_untracked() {
            // A closed conversation is final; writing again starts a new one.
            let pending = self.client.borrow().pending().to_vec();
            self.client.replace(ChatClient::new(Vec::new(), pending));
            {
                let mut stored = self.stored.borrow_mut();
                stored.conversation_id = None;
                stored.read_up_to = 0;
                stored.status = ConversationStatus::Open;
            }
            self.ui.closed.set(false);
            self.ui.has_conversation.set(false);
            self.ui.operator_read.set(0);
        }
        let frame = self.client.borrow_mut().send(&format!("m{}", net::random_id()), &text);
        self.typing(false);
        self.sync();
        if self.link.get() == Link::Connected {
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
        if self.typing_sent.get() != on && self.link.get() == Link::Connected {
            self.typing_sent.set(on);
            self.send_frame(&ClientFrame::Typing { on });
        }
    }

    /// The visitor's context as the main widget knows it now (for a new conversation and a lead).
    pub fn context(&self) -> Option<floorwalker_core::visitor::context::VisitorContext> {
        net::visitor_context(&self.emit("context", &JsValue::NULL))
    }

    pub fn token(&self) -> Option<String> {
        self.stored.borrow().token.clone()
    }

    pub fn conversation_id(&self) -> Option<String> {
        self.stored.borrow().conversation_id.clone()
    }
}

/// The first element `selector` finds in the widget's shadow root (where the panel is). The view
/// finds its few elements so, not through node refs (each a type of its own in the module).
pub(crate) fn shadow_query(selector: &str) -> Option<web_sys::Element> {
    let root = net::document()?.query_selector(floorwalker_browser_kit::HOST_TAG).ok()??.shadow_root()?;
    root.query_selector(selector).ok()?
}

/// Focuses the first element `selector` finds in the widget's shadow root.
pub(crate) fn focus(selector: &str) {
    if let Some(element) = shadow_query(selector).and_then(|found| found.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = element.focus();
    }
}

fn visible() -> bool {
    net::document().is_some_and(|d| !d.hidden())
}
