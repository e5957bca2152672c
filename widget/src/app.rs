//! The running widget: browser events in, core events and decisions out.
//!
//! Everything here turns something the browser reports (a navigation, a second of attention, the
//! pointer leaving through the top) into a `floorwalker_core::visitor::event::Event`, folds it into the
//! `Session`, queues it for `POST /v1/events`, and asks `rules::decide` whether to speak up.
//! The heuristics are documented in docs/behaviour.md.
//!
//! One `App` per page lives in a thread-local, so that DOM callbacks and Leptos views reach it
//! without owning it. No `RefCell` borrow is held across a call into the browser that could call
//! back synchronously (focus, host callbacks), so re-entrancy never panics.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use floorwalker_core::base::text::truncate_chars;
use floorwalker_core::base::url::without_fragment;
use floorwalker_core::prompts::card::PromptCard;
use floorwalker_core::prompts::config::PromptKind;
use floorwalker_core::prompts::rules::{self, CopyVariant, Decision, EvalInput};
use floorwalker_core::visitor::event::{
    ActiveTime, Consent, Event, EventBatch, EventData, ExitIntent, ExitTrigger, Identify, PageView, ProductView,
    PromptRef, QuestionAnswered, Track, EVENT_BATCH_VERSION, MAX_EVENTS_PER_BATCH, MAX_IDENTITY_FIELD_LEN,
    MAX_TRACK_KEY_LEN, MAX_TRACK_NAME_LEN, MAX_TRACK_PROPS, MAX_TRACK_VALUE_LEN,
};
use floorwalker_core::visitor::product::RawProduct;
use floorwalker_core::visitor::session::Session;
use wasm_bindgen::prelude::*;

use crate::browser::{self, later, Context};
use crate::shell::{ChatLoad, Shell};
use crate::{detect, transport};

/// Input within this long counts the visitor as present.
const ACTIVE_WINDOW_MS: f64 = 30_000.0;
/// Seconds of active time folded into one `active_time` event (real time; test timing shortens it).
const REPORT_EVERY_SECONDS: u32 = 5;
/// Flush the queue at this many events, or every `FLUSH_EVERY_TICKS` seconds.
const FLUSH_AT_EVENTS: usize = 10;
const FLUSH_EVERY_TICKS: u32 = 5;
/// Events kept while nothing may be sent (consent pending, network down).
const MAX_QUEUED: usize = 100;
/// Exit intent is ignored this soon after a page (or route) opened, and this soon after the last.
const EXIT_MIN_PAGE_DWELL_S: u32 = 5;
const EXIT_REPEAT_S: u32 = 10;
/// Mobile fast scroll-up: this far up, at least this fast, after having read this far down.
const FAST_SCROLL_MIN_PX: f64 = 200.0;
const FAST_SCROLL_MIN_PX_PER_MS: f64 = 1.0;
const FAST_SCROLL_AFTER_PX: f64 = 400.0;
/// Hidden for less than this is a flicker (a notification shade), not leaving.
const HIDDEN_MIN_MS: f64 = 2_000.0;
/// Operator presence is asked again this often (ticks = seconds) while the tab is visible.
const PRESENCE_EVERY_TICKS: u32 = 60;
/// Products a comparison card shows.
const MAX_COMPARED: usize = 4;
/// After the UI module failed to load, no card is tried again for this long.
const UI_RETRY_MS: f64 = 60_000.0;

thread_local! {
    static APP: RefCell<Option<Rc<App>>> = const { RefCell::new(None) };
}

/// Runs `f` with the widget of this page, if it runs.
pub fn with<R>(f: impl FnOnce(&Rc<App>) -> R) -> Option<R> {
    let app = APP.with(|slot| slot.try_borrow().ok().and_then(|app| app.clone()));
    app.map(|app| f(&app))
}

/// The prompt card's life: the UI module is fetched when the engine picks a card, so a card is
/// first pending, then on screen.
enum Card {
    None,
    /// Picked; waiting for the UI module. The number tells a stale arrival (the visitor moved on)
    /// from the current one.
    Pending(u32),
    /// On screen: its prompt id and the UI module's handle (`destroy()`).
    Shown(String, JsValue),
}

struct Page {
    /// Without fragment: what "a route" is.
    url: String,
    /// The route this document was loaded at; going back to it means the next back leaves.
    first_url: String,
    opened_at: f64,
    product: Option<String>,
}

/// Last scroll position and time, and where the current upward run started (position, time).
type ScrollState = (f64, f64, Option<(f64, f64)>);

type Listener = (web_sys::EventTarget, &'static str, bool, Closure<dyn FnMut(web_sys::Event)>);

pub struct App {
    pub cx: Context,
    pub shell: Shell,
    open: Cell<bool>,
    card: RefCell<Card>,
    card_generation: Cell<u32>,
    /// The UI module (cards and chat): requested once, then the loader's cached promise.
    ui_requested: Cell<bool>,
    clock_requested: Cell<bool>,
    ui_failed_at: Cell<f64>,
    chat_load: Cell<ChatLoad>,
    session: RefCell<Session>,
    queue: RefCell<Vec<Event>>,
    page: RefCell<Page>,
    api_product: RefCell<Option<RawProduct>>,
    callbacks: RefCell<Vec<(String, js_sys::Function)>>,
    listeners: RefCell<Vec<Listener>>,
    interval: Cell<Option<i32>>,
    last_input: Cell<f64>,
    unreported: Cell<u32>,
    ticks: Cell<u32>,
    last_exit: Cell<f64>,
    hidden_at: Cell<Option<f64>>,
    pending_exit: Cell<bool>,
    typing: Cell<bool>,
    operator_online: Cell<bool>,
    coarse_pointer: bool,
    scroll: Cell<ScrollState>,
    deepest_scroll: Cell<f64>,
    restore_focus: RefCell<Option<web_sys::HtmlElement>>,
    /// The chat module's handle (`open()`, `close()`, `destroy()`), once mounted.
    chat: RefCell<Option<JsValue>>,
}

impl App {
    /// Creates the page's widget state, restores the stored session and starts observing.
    pub fn start(cx: Context, shell: Shell) -> Rc<App> {
        let now = js_sys::Date::now();
        let mut session =
            cx.load("state").and_then(|json| browser::from_json::<Session>(&json)).map(Session::from_storage).unwrap_or_default();
        // A card never follows the visitor to a new page load, so none is on screen now.
        session.visible_prompt = None;
        let coarse_pointer =
            cx.window.match_media("(pointer: coarse)").ok().flatten().is_some_and(|query| query.matches());
        let url = without_fragment(&cx.href()).to_owned();
        let app = Rc::new(App {
            cx,
            shell,
            open: Cell::new(false),
            card: RefCell::new(Card::None),
            card_generation: Cell::new(0),
            ui_requested: Cell::new(false),
            clock_requested: Cell::new(false),
            ui_failed_at: Cell::new(f64::NEG_INFINITY),
            chat_load: Cell::new(ChatLoad::NotLoaded),
            session: RefCell::new(session),
            queue: RefCell::new(Vec::new()),
            page: RefCell::new(Page { url: url.clone(), first_url: url, opened_at: now, product: None }),
            api_product: RefCell::new(None),
            callbacks: RefCell::new(Vec::new()),
            listeners: RefCell::new(Vec::new()),
            interval: Cell::new(None),
            // Arriving on a page is the visitor acting.
            last_input: Cell::new(now),
            unreported: Cell::new(0),
            ticks: Cell::new(0),
            last_exit: Cell::new(0.0),
            hidden_at: Cell::new(None),
            pending_exit: Cell::new(false),
            typing: Cell::new(false),
            operator_online: Cell::new(false),
            coarse_pointer,
            scroll: Cell::new((0.0, now, None)),
            deepest_scroll: Cell::new(0.0),
            restore_focus: RefCell::new(None),
            chat: RefCell::new(None),
        });
        APP.with(|slot| {
            if let Ok(mut slot) = slot.try_borrow_mut() {
                *slot = Some(app.clone());
            }
        });
        let document = app.cx.document();
        let referrer = document.as_ref().map(|d| d.referrer()).filter(|r| !r.is_empty());
        app.record(EventData::PageView(PageView { url: app.cx.href(), title: title(&app.cx), referrer }));
        app.observe();
        app.refresh_presence();
        // After the commands queued before load ran (a `product` call wins over markup).
        later(0, || {
            with(|app| app.detect_product());
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
        if let Some(id) = self.interval.take() {
            self.cx.window.clear_interval_with_handle(id);
        }
        for (target, kind, capture, closure) in self.listeners.take() {
            let _ = target.remove_event_listener_with_callback_and_bool(kind, closure.as_ref().unchecked_ref(), capture);
        }
        APP.with(|slot| {
            if let Ok(mut slot) = slot.try_borrow_mut() {
                *slot = None;
            }
        });
    }

    fn time_scale(&self) -> u32 {
        rules::time_scale(&self.cx.config.widget)
    }

    /// Real-time seconds under the config's (test) time scale, in milliseconds.
    fn scaled_ms(&self, seconds: u32) -> f64 {
        f64::from(rules::scaled(&self.cx.config.widget, seconds)) * 1000.0
    }

    // ---- events -------------------------------------------------------------------------------

    /// Folds an observation into the session, queues it for the server, stores the session.
    pub fn record(&self, data: EventData) {
        let event = Event { id: browser::random_id(), at: browser::now_ms(), data };
        if let Ok(mut session) = self.session.try_borrow_mut() {
            session.apply(&event);
        }
        self.enqueue(event);
        self.save();
    }

    fn enqueue(&self, event: Event) {
        // One bad event (a file:// URL, an oversized prop) would make the server refuse the whole
        // batch, so each is checked alone before it joins one.
        let alone = EventBatch {
            v: EVENT_BATCH_VERSION,
            site: self.cx.config.site.clone(),
            visitor: self.cx.visitor.clone(),
            session: self.cx.session.clone(),
            events: vec![event],
        };
        if let Err(error) = alone.validate() {
            browser::warn(&format!("floorwalker: event dropped: {}", error.message));
            return;
        }
        let full = {
            let Ok(mut queue) = self.queue.try_borrow_mut() else { return };
            queue.extend(alone.events);
            if queue.len() > MAX_QUEUED {
                let excess = queue.len() - MAX_QUEUED;
                queue.drain(..excess);
            }
            queue.len() >= FLUSH_AT_EVENTS
        };
        if full {
            self.flush(false);
        }
    }

    fn save(&self) {
        let json = self.session.try_borrow().ok().and_then(|session| browser::to_json(&*session));
        if let Some(json) = json {
            self.cx.store("state", &json);
        }
    }

    /// Sends what is queued: `fetch` with keepalive normally, `sendBeacon` when the page goes away.
    pub fn flush(&self, leaving: bool) {
        if !self.cx.may_send() {
            return;
        }
        if leaving {
            self.report_active_time();
        }
        loop {
            let events: Vec<Event> = {
                let Ok(mut queue) = self.queue.try_borrow_mut() else { return };
                let take = queue.len().min(MAX_EVENTS_PER_BATCH);
                queue.drain(..take).collect()
            };
            if events.is_empty() {
                return;
            }
            transport::send_events(&self.cx, events, leaving);
        }
    }

    fn report_active_time(&self) {
        let seconds = self.unreported.replace(0);
        if seconds > 0 {
            // Already folded into the session second by second; this tells the server.
            self.enqueue(Event {
                id: browser::random_id(),
                at: browser::now_ms(),
                data: EventData::ActiveTime(ActiveTime { seconds }),
            });
            self.save();
        }
    }

    // ---- the page -----------------------------------------------------------------------------

    fn detect_product(&self) {
        let Some(document) = self.cx.document() else { return };
        let api = self.api_product.borrow().clone();
        let Some(product) = detect::page_product(&document, &self.cx.href(), api.as_ref()) else { return };
        {
            let Ok(mut page) = self.page.try_borrow_mut() else { return };
            if page.product.as_deref() == Some(product.id.as_str()) {
                return;
            }
            page.product = Some(product.id.clone());
        }
        self.record(EventData::ProductView(ProductView { product }));
        self.evaluate(false);
    }

    /// A route change in a single-page app (pushState/replaceState via the loader's hook, popstate).
    fn route_changed(&self) {
        let href = self.cx.href();
        let url = without_fragment(&href).to_owned();
        let previous = {
            let Ok(mut page) = self.page.try_borrow_mut() else { return };
            if page.url == url {
                return;
            }
            page.opened_at = js_sys::Date::now();
            page.product = None;
            std::mem::replace(&mut page.url, url)
        };
        self.api_product.replace(None);
        // The card does not follow the visitor to the next route; the session drops it too.
        self.drop_card();
        self.record(EventData::PageView(PageView { url: href, title: title(&self.cx), referrer: Some(previous) }));
        // Give the app a moment to render the new route's markup.
        later(300, || {
            with(|app| app.detect_product());
        });
    }

    // ---- time and attention -------------------------------------------------------------------

    fn tick(&self) {
        let now = js_sys::Date::now();
        let visible = self.cx.document().is_some_and(|d| !d.hidden());
        if visible && now - self.last_input.get() <= ACTIVE_WINDOW_MS {
            let event = Event { id: String::new(), at: now as u64, data: EventData::ActiveTime(ActiveTime { seconds: 1 }) };
            if let Ok(mut session) = self.session.try_borrow_mut() {
                session.apply(&event);
            }
            let unreported = self.unreported.get() + 1;
            self.unreported.set(unreported);
            if unreported >= (REPORT_EVERY_SECONDS / self.time_scale()).max(1) {
                self.report_active_time();
            }
        }
        let ticks = self.ticks.get().wrapping_add(1);
        self.ticks.set(ticks);
        if ticks.is_multiple_of(FLUSH_EVERY_TICKS) {
            self.flush(false);
        }
        if visible && ticks.is_multiple_of(PRESENCE_EVERY_TICKS) {
            self.refresh_presence();
        }
        if visible {
            self.evaluate(false);
        }
    }

    /// Learns whether an operator is online, for sites whose rules ask (the chat invitation).
    fn refresh_presence(&self) {
        if !self.cx.config.widget.needs_operator_presence() {
            return;
        }
        let (api_base, site) = (self.cx.api_base.clone(), self.cx.config.site.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let online = crate::transport::operator_online(&api_base, &site).await.unwrap_or(false);
            with(|app| app.operator_online.set(online));
        });
    }

    fn exit_intent(&self, trigger: ExitTrigger) {
        let opened_at = self.page.try_borrow().map_or_else(|_| js_sys::Date::now(), |page| page.opened_at);
        self.exit_intent_after_dwell_from(trigger, opened_at);
    }

    /// `opened_at` is when the route being left was opened: for a back navigation that is the
    /// route before the popstate, not the one it lands on (which opened just now).
    fn exit_intent_after_dwell_from(&self, trigger: ExitTrigger, opened_at: f64) {
        let now = js_sys::Date::now();
        if now - opened_at < self.scaled_ms(EXIT_MIN_PAGE_DWELL_S)
            || now - self.last_exit.get() < self.scaled_ms(EXIT_REPEAT_S)
        {
            return;
        }
        self.last_exit.set(now);
        self.record(EventData::ExitIntent(ExitIntent { trigger }));
        if trigger == ExitTrigger::TabHidden {
            // Nobody sees a card in a hidden tab: the reaction waits for their return.
            self.pending_exit.set(true);
        } else {
            self.evaluate(true);
        }
    }

    // ---- the prompt engine --------------------------------------------------------------------

    /// Asks the engine whether to speak up now, and shows what it picks.
    pub fn evaluate(&self, exit_intent: bool) {
        if !matches!(*self.card.borrow(), Card::None) || js_sys::Date::now() - self.ui_failed_at.get() < UI_RETRY_MS {
            return;
        }
        let config = &self.cx.config.widget;
        let now = browser::now_ms();
        let page_url = self.cx.href();
        let (held, preload) = {
            let Ok(mut session) = self.session.try_borrow_mut() else { return };
            session.set_chat_open(self.open.get());
            session.set_typing_in_form(self.typing.get());
            (rules::hold(config, &session, now, &page_url).is_some(), rules::should_preload_ui(config, &session))
        };
        if preload && !self.ui_requested.get() {
            self.import_ui(|_, _| {});
            self.warm_site_clock();
        }
        // The site's clock (a time-zone lookup in the browser, tens of milliseconds the first time)
        // is read only once a card could be shown at all, and first built while the page is idle.
        // Exit intent does not wait: it is a moment that will not come back.
        if held {
            return;
        }
        if !exit_intent && !browser::site_clock_ready(&config.timezone) {
            self.warm_site_clock();
            return;
        }
        let (weekday, minute_of_day) = browser::site_local_time(&config.timezone, now as f64);
        let input = EvalInput {
            now,
            weekday,
            minute_of_day,
            page_url,
            locale: self.cx.locale,
            operator_online: self.operator_online.get(),
            exit_intent,
        };
        let decision = match self.session.try_borrow() {
            Ok(session) => rules::decide(config, &session, &input),
            Err(_) => return,
        };
        let Decision::Show { prompt, variant } = decision else { return };
        let Some(definition) = config.prompt(&prompt) else { return };
        let products = match definition.kind {
            PromptKind::ComparisonEmail => self.session.try_borrow().map_or_else(
                |_| Vec::new(),
                |session| {
                    let skip = session.products.len().saturating_sub(MAX_COMPARED);
                    session.products[skip..].iter().map(|viewed| viewed.product.clone()).collect()
                },
            ),
            _ => Vec::new(),
        };
        let slots = match (&definition.kind, variant) {
            (PromptKind::Callback, CopyVariant::AfterHours) => config.business_hours.next_slots(weekday, minute_of_day, 180, 4),
            _ => Vec::new(),
        };
        let card = PromptCard {
            prompt,
            kind: definition.kind.clone(),
            variant,
            locale: self.cx.locale,
            products,
            slots,
            shown_at: now,
            callback_minutes: config.callback_minutes,
            region: config.phone_region(),
            api_base: self.cx.api_base.clone(),
            site: self.cx.config.site.clone(),
            visitor: self.cx.visitor.clone(),
        };
        let generation = self.card_generation.get().wrapping_add(1);
        self.card_generation.set(generation);
        self.card.replace(Card::Pending(generation));
        self.import_ui(move |app, module| app.show_card(generation, card, module));
    }

    /// Builds the site's clock in an idle moment; the next tick's evaluation then finds it ready.
    fn warm_site_clock(&self) {
        if self.clock_requested.replace(true) {
            return;
        }
        browser::when_idle(2000, || {
            with(|app| browser::site_local_time(&app.cx.config.widget.timezone, js_sys::Date::now()));
        });
    }

    /// The UI module arrived (or failed) for the card picked as `generation`.
    fn show_card(&self, generation: u32, card: PromptCard, module: Result<JsValue, JsValue>) {
        let current = matches!(*self.card.borrow(), Card::Pending(g) if g == generation);
        if !current {
            return;
        }
        // The visitor opened the chat while the module loaded: no card over it.
        if self.open.get() {
            self.card.replace(Card::None);
            return;
        }
        self.remember_focus();
        match module.and_then(|module| self.mount_card(&module, &card)) {
            Ok(handle) => {
                let title = js_sys::Reflect::get(&handle, &"title".into()).ok().and_then(|t| t.as_string());
                self.card.replace(Card::Shown(card.prompt.clone(), handle));
                self.record(EventData::PromptShown(PromptRef { prompt: card.prompt.clone() }));
                self.shell.announce(&title.unwrap_or_default());
                self.emit("prompt_shown", &card.prompt);
                self.focus_prompt();
            }
            Err(error) => {
                web_sys::console::warn_2(&"floorwalker: the prompt did not load".into(), &error);
                self.card.replace(Card::None);
                self.ui_failed_at.set(js_sys::Date::now());
            }
        }
    }

    fn mount_card(&self, module: &JsValue, card: &PromptCard) -> Result<JsValue, JsValue> {
        let json = browser::to_json(card).ok_or("a prompt card that does not encode")?;
        let mount: js_sys::Function = js_sys::Reflect::get(module, &"mount_prompt".into())?.dyn_into()?;
        let args = js_sys::Array::of4(&self.shell.cards, &JsValue::from_str(&json), &self.cx.raw_config, &on_event(App::card_event));
        mount.apply(&JsValue::NULL, &args)
    }

    /// What the visitor did on the card (see the UI module's `mount_prompt`).
    fn card_event(&self, name: &str, detail: &JsValue) -> Option<String> {
        let prompt = match &*self.card.borrow() {
            Card::Shown(prompt, _) => prompt.clone(),
            _ => return None,
        };
        match name {
            "accept" => self.accept(&prompt),
            "dismiss" => self.dismiss(&prompt),
            "close" => self.close_prompt(),
            "chat" => {
                self.accept(&prompt);
                self.close_prompt();
                self.set_open(true);
            }
            "answer" => {
                let pair = js_sys::Array::from(detail);
                let (question, answer) = (pair.get(0).as_string()?, pair.get(1).as_string()?);
                self.answer(&prompt, &question, &answer);
            }
            "lead" => self.emit("lead_submitted", &prompt),
            "context" => return self.context_json(),
            _ => {}
        }
        None
    }

    /// The visitor said no (button, ×, Escape).
    pub fn dismiss(&self, prompt: &str) {
        self.grant_consent();
        self.record(EventData::PromptDismissed(PromptRef { prompt: prompt.to_owned() }));
        self.close_prompt();
        self.emit("prompt_dismissed", prompt);
    }

    /// The visitor said yes: submitted the form, answered, or accepted the chat invitation.
    pub fn accept(&self, prompt: &str) {
        self.grant_consent();
        self.record(EventData::PromptAccepted(PromptRef { prompt: prompt.to_owned() }));
        self.emit("prompt_accepted", prompt);
    }

    pub fn answer(&self, prompt: &str, question: &str, answer: &str) {
        self.accept(prompt);
        self.record(EventData::QuestionAnswered(QuestionAnswered {
            prompt: prompt.to_owned(),
            question: question.to_owned(),
            answer: answer.to_owned(),
        }));
    }

    pub fn close_prompt(&self) {
        self.return_focus();
        self.drop_card();
    }

    /// Removes the card (or forgets a pending one) without recording anything.
    fn drop_card(&self) {
        let generation = self.card_generation.get().wrapping_add(1);
        self.card_generation.set(generation);
        if let Card::Shown(_, handle) = self.card.replace(Card::None) {
            // Later: the card's own click handler may be what is running now.
            later(0, move || call_method(&handle, "destroy"));
        }
    }

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

    // ---- the UI module (cards and chat) -------------------------------------------------------

    /// Gets the UI module through the loader (which fetches it once) and hands it to `then`.
    fn import_ui(&self, then: impl FnOnce(&App, Result<JsValue, JsValue>) + 'static) {
        self.ui_requested.set(true);
        let Some(load) = self.cx.load_ui.clone() else {
            then(self, Err("the loader gave no UI module".into()));
            return;
        };
        wasm_bindgen_futures::spawn_local(async move {
            let module = match load.call0(&JsValue::NULL) {
                Ok(promise) => wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(promise)).await,
                Err(error) => Err(error),
            };
            with(|app| then(app, module));
        });
    }

    fn chat_call(&self, method: &str) {
        let handle = self.chat.borrow().clone();
        if let Some(handle) = handle {
            call_method(&handle, method);
        }
    }

    /// Mounts the chat into the panel once the UI module is there. A failure is shown in the panel
    /// and never reaches the host page; the next opening tries again.
    fn load_chat(&self) {
        if matches!(self.chat_load.get(), ChatLoad::Loading | ChatLoad::Ready) {
            return;
        }
        self.set_chat_load(ChatLoad::Loading);
        self.import_ui(|app, module| match module.and_then(|module| app.mount_chat(&module)) {
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
            floorwalker_core::base::locale::Locale::Ru => "ru",
            floorwalker_core::base::locale::Locale::En => "en",
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
    fn chat_event(&self, name: &str, detail: &JsValue) -> Option<String> {
        match name {
            "unread" => self.shell.set_unread(detail.as_f64().unwrap_or(0.0) as u32),
            "interact" => self.grant_consent(),
            "close" => self.set_open(false),
            "context" => return self.context_json(),
            _ => {}
        }
        None
    }

    /// The visitor context as JSON text, fresh for a new conversation or a lead.
    fn context_json(&self) -> Option<String> {
        self.visitor_context().and_then(|c| browser::to_json(&c))
    }

    /// The visitor touched the widget, which under `consent: required` counts as agreement.
    pub fn grant_consent(&self) {
        if !self.cx.may_send() {
            self.set_consent(true);
        }
    }

    pub fn set_consent(&self, granted: bool) {
        if granted {
            self.cx.set_consent(true);
            self.record(EventData::Consent(Consent { granted: true }));
            self.flush(false);
        } else {
            // The withdrawal itself is the last thing sent; then nothing is kept or sent.
            self.record(EventData::Consent(Consent { granted: false }));
            self.flush(true);
            self.cx.set_consent(false);
            self.queue.replace(Vec::new());
        }
    }

    /// The session's summary for a lead, as of now.
    pub fn visitor_context(&self) -> Option<floorwalker_core::visitor::context::VisitorContext> {
        self.session.try_borrow().ok().map(|session| session.context(self.cx.locale, &self.cx.href()))
    }

    // ---- focus --------------------------------------------------------------------------------

    fn remember_focus(&self) {
        let active = self.cx.document().and_then(|d| d.active_element()).and_then(|e| e.dyn_into().ok());
        self.restore_focus.replace(active);
    }

    /// Moves focus into a new card, unless the visitor is busy with something on the page.
    fn focus_prompt(&self) {
        let document = self.cx.document();
        let page_focus = document.as_ref().and_then(|d| d.active_element());
        let body = document.as_ref().and_then(|d| d.body()).map(web_sys::Element::from);
        let idle = page_focus.is_none() || page_focus == body;
        if self.typing.get() || !idle {
            return;
        }
        // The first control of the card's body in document order (not the × before it).
        let target = self
            .shell
            .cards
            .query_selector(".prompt .body input:not([tabindex='-1']), .prompt .body select, .prompt .body button")
            .ok()
            .flatten();
        if let Some(target) = target.and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = target.focus();
        }
    }

    fn return_focus(&self) {
        let inside = self.shell.root.active_element();
        let Some(inside) = inside.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) else { return };
        match self.restore_focus.take().filter(|e| e.is_connected()) {
            Some(previous) => {
                let _ = previous.focus();
            }
            None => {
                let _ = inside.blur();
            }
        }
    }

    // ---- the host page's API ------------------------------------------------------------------

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
                if let Ok(mut page) = self.page.try_borrow_mut() {
                    page.product = None;
                }
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
                            .or_else(|| value.as_bool().map(|b| b.to_string()));
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
            _ => browser::warn(&format!("floorwalker: unknown command {name}")),
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

    // ---- wiring -------------------------------------------------------------------------------

    fn observe(&self) {
        let window: web_sys::EventTarget = self.cx.window.clone().into();
        let Some(document) = self.cx.document() else { return };
        let document: web_sys::EventTarget = document.into();
        for kind in ["pointerdown", "keydown", "wheel", "touchstart", "mousemove"] {
            self.listen(&document, kind, true, |app, _| app.last_input.set(js_sys::Date::now()));
        }
        self.listen(&window, "scroll", false, |app, _| app.on_scroll());
        self.listen(&document, "mouseout", false, |app, event| {
            let Some(event) = event.dyn_ref::<web_sys::MouseEvent>() else { return };
            // Leaving the window through its top edge, towards the tabs and the address bar.
            if event.related_target().is_none() && event.client_y() <= 0 && !app.coarse_pointer {
                app.exit_intent(ExitTrigger::PointerTop);
            }
        });
        self.listen(&document, "visibilitychange", false, |app, _| app.on_visibility());
        self.listen(&window, "pagehide", false, |app, _| {
            app.flush(true);
            app.save();
        });
        self.listen(&window, "popstate", false, |app, _| {
            let left_route_opened_at = app.page.try_borrow().map_or_else(|_| js_sys::Date::now(), |page| page.opened_at);
            app.route_changed();
            let back_to_start = app.page.try_borrow().is_ok_and(|page| page.url == page.first_url);
            if app.coarse_pointer && back_to_start {
                app.exit_intent_after_dwell_from(ExitTrigger::BackNavigation, left_route_opened_at);
            }
        });
        // Dispatched by the loader's pushState/replaceState hook, after the page's own call returned.
        self.listen(&window, "floorwalker:navigate", false, |_, _| {
            later(0, || {
                with(|app| app.route_changed());
            });
        });
        self.listen(&document, "focusin", true, |app, event| {
            app.typing.set(event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|e| is_typing_field(&e)));
        });
        self.listen(&document, "focusout", true, |app, _| app.typing.set(false));

        let tick = Closure::<dyn FnMut()>::new(|| {
            with(|app| app.tick());
        });
        let id = self
            .cx
            .window
            .set_interval_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), 1000)
            .ok();
        self.interval.set(id);
        // Lives as long as the page: the interval is cleared in `stop`, the closure is tiny.
        tick.forget();
    }

    /// The launcher toggles the panel (touching it is consent); × and Escape close it, also
    /// before the chat's module has loaded.
    pub fn listen_to_shell(&self) {
        let launcher: web_sys::EventTarget = self.shell.launcher.clone().into();
        self.listen(&launcher, "click", false, |app, _| {
            app.grant_consent();
            app.set_open(!app.open.get());
        });
        let close: web_sys::EventTarget = self.shell.close.clone().into();
        self.listen(&close, "click", false, |app, _| app.set_open(false));
        let panel: web_sys::EventTarget = self.shell.panel.clone().into();
        self.listen(&panel, "keydown", false, |app, event| {
            if event.dyn_ref::<web_sys::KeyboardEvent>().is_some_and(|key| key.key() == "Escape") {
                app.set_open(false);
            }
        });
    }

    fn listen(&self, target: &web_sys::EventTarget, kind: &'static str, capture: bool, handler: fn(&App, &web_sys::Event)) {
        let closure = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            with(|app| handler(app, &event));
        });
        let options = web_sys::AddEventListenerOptions::new();
        options.set_passive(true);
        options.set_capture(capture);
        if target
            .add_event_listener_with_callback_and_add_event_listener_options(kind, closure.as_ref().unchecked_ref(), &options)
            .is_ok()
        {
            if let Ok(mut listeners) = self.listeners.try_borrow_mut() {
                listeners.push((target.clone(), kind, capture, closure));
            }
        }
    }

    fn on_scroll(&self) {
        let now = js_sys::Date::now();
        self.last_input.set(now);
        if !self.coarse_pointer {
            return;
        }
        let y = self.cx.window.scroll_y().unwrap_or(0.0);
        let (last_y, last_t, run) = self.scroll.get();
        if y >= last_y {
            self.deepest_scroll.set(self.deepest_scroll.get().max(y));
            self.scroll.set((y, now, None));
            return;
        }
        let (start_y, start_t) = run.unwrap_or((last_y, last_t));
        let distance = start_y - y;
        let elapsed = (now - start_t).max(1.0);
        self.scroll.set((y, now, Some((start_y, start_t))));
        if distance >= FAST_SCROLL_MIN_PX
            && distance / elapsed >= FAST_SCROLL_MIN_PX_PER_MS
            && self.deepest_scroll.get() >= FAST_SCROLL_AFTER_PX
        {
            self.scroll.set((y, now, None));
            self.exit_intent(ExitTrigger::FastScrollUp);
        }
    }

    fn on_visibility(&self) {
        let hidden = self.cx.document().is_some_and(|d| d.hidden());
        let now = js_sys::Date::now();
        if hidden {
            self.hidden_at.set(Some(now));
            self.flush(true);
            self.save();
            if self.coarse_pointer {
                self.exit_intent(ExitTrigger::TabHidden);
            }
        } else {
            let away = self.hidden_at.take().map_or(0.0, |at| now - at);
            self.last_input.set(now);
            if self.pending_exit.replace(false) && away >= HIDDEN_MIN_MS {
                self.evaluate(true);
            }
        }
    }
}

/// A host-page field the visitor types into: text inputs, textareas, contenteditable.
fn is_typing_field(element: &web_sys::Element) -> bool {
    match element.tag_name().to_ascii_lowercase().as_str() {
        "textarea" => true,
        "input" => !matches!(
            element.get_attribute("type").unwrap_or_default().to_ascii_lowercase().as_str(),
            "button" | "submit" | "reset" | "checkbox" | "radio" | "range" | "color" | "file" | "image" | "hidden"
        ),
        _ => element.dyn_ref::<web_sys::HtmlElement>().is_some_and(|e| e.is_content_editable()),
    }
}

fn title(cx: &Context) -> String {
    cx.document().map(|d| truncate_chars(&d.title(), floorwalker_core::visitor::event::MAX_TITLE_LEN)).unwrap_or_default()
}

/// Calls `handle.method()` on a handle the UI module returned; a throw is logged, never raised.
fn call_method(handle: &JsValue, method: &str) {
    let call = js_sys::Reflect::get(handle, &method.into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    if let Some(Err(error)) = call.map(|f| f.call0(handle)) {
        web_sys::console::warn_2(&"floorwalker: UI module".into(), &error);
    }
}

/// The `on_event(name, detail)` callback handed to the UI module: one callback both ways, so the
/// module reports what the visitor did and asks for what it needs (an answer is JSON text).
fn on_event(handler: impl Fn(&App, &str, &JsValue) -> Option<String> + 'static) -> JsValue {
    Closure::<dyn Fn(JsValue, JsValue) -> JsValue>::new(move |name: JsValue, detail: JsValue| {
        with(|app| handler(app, name.as_string().as_deref().unwrap_or_default(), &detail))
            .flatten()
            .map_or(JsValue::NULL, JsValue::from)
    })
    .into_js_value()
}
