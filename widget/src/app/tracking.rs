//! Tracking and sending: observations become events, folded into the session and queued in core's
//! `EventQueue`; the visitor's attention (active seconds, exit intent) is core's `Attention`, fed here
//! and obeyed here.

use floorwalker_core::visitor::attention::{Attention, Reaction, Tick};
use floorwalker_core::visitor::event::{ActiveTime, Consent, Event, EventData, ExitIntent, PageView, ProductView};
use floorwalker_core::base::text::truncate_chars;
use floorwalker_core::base::wire;
use floorwalker_core::base::url::without_fragment;

use super::{with, App};
use crate::browser::{self, later, Context};
use crate::{detect, transport};

impl App {
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
        let full = match self.event_queue.try_borrow_mut().map(|mut event_queue| event_queue.push(event)) {
            Ok(Ok(full)) => full,
            Ok(Err(_)) => {
                // Without the worker's words (which field, which rule): they cost the first load
                // ~1.6 KB brotli (issue 16); the worker's 400 for the same event has them.
                browser::warn("floorwalker: event dropped: the worker would refuse it");
                return;
            }
            Err(_) => return,
        };
        if full {
            self.flush(false);
        }
    }

    pub(super) fn save(&self) {
        let text = self.session.try_borrow().ok().map(|session| wire::to_text(&*session));
        if let Some(text) = text {
            self.cx.store("state", &text);
        }
    }

    /// Sends what is queued: `fetch` with keepalive normally, `sendBeacon` when the page goes away.
    pub fn flush(&self, leaving: bool) {
        if !self.cx.may_send() {
            return;
        }
        if leaving {
            let seconds = self.attention.try_borrow_mut().map_or(0, |mut attention| attention.take_unreported());
            self.report_active_time(seconds);
        }
        loop {
            let Some(batch) = self.event_queue.try_borrow_mut().ok().and_then(|mut event_queue| event_queue.next_batch()) else { return };
            transport::send_events(&self.cx, batch, leaving, |batch| {
                // Sent again with the next flush (every few seconds, or on leaving by beacon).
                // Not when the visitor withdrew consent meanwhile (the queue was cleared for that).
                with(|app| {
                    if app.cx.may_send() {
                        let _ = app.event_queue.try_borrow_mut().map(|mut queue| queue.put_back(batch));
                    }
                });
            });
        }
    }

    fn report_active_time(&self, seconds: u32) {
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

    pub(super) fn detect_product(&self) {
        let Some(document) = self.cx.document() else { return };
        let api = self.api_product.borrow().clone();
        let Some(product) = detect::page_product(&document, &self.cx.href(), api.as_ref()) else { return };
        {
            let Ok(mut recorded) = self.page_product.try_borrow_mut() else { return };
            if recorded.as_deref() == Some(product.id.as_str()) {
                return;
            }
            *recorded = Some(product.id.clone());
        }
        self.record(EventData::ProductView(ProductView { product }));
        self.evaluate(false);
    }

    /// A route change in a single-page app (pushState/replaceState via the loader's hook, or a
    /// `popstate`).
    pub(super) fn route_changed(&self, popstate: bool) {
        let href = self.cx.href();
        let route = without_fragment(&href);
        let Ok(change) = self.attention.try_borrow_mut().map(|mut attention| attention.route_changed(browser::now_ms(), route, popstate))
        else {
            return;
        };
        if let Some(previous) = change.left {
            self.page_product.replace(None);
            self.api_product.replace(None);
            // The card does not follow the visitor to the next route; the session drops it too.
            self.drop_card();
            self.record(EventData::PageView(PageView { url: href, title: title(&self.cx), referrer: Some(previous) }));
            // Give the app a moment to render the new route's markup.
            later(300, || {
                with(|app| app.detect_product());
            });
        }
        self.react(change.reaction);
    }

    // ---- time and attention -------------------------------------------------------------------

    /// Feeds an observation to the page's `Attention` and does what it says.
    pub(super) fn attend(&self, observe: impl FnOnce(&mut Attention, u64) -> Reaction) {
        let now = browser::now_ms();
        if let Ok(reaction) = self.attention.try_borrow_mut().map(|mut attention| observe(&mut attention, now)) {
            self.react(reaction);
        }
    }

    /// Records an exit intent and asks the engine, as core's `Attention` said.
    fn react(&self, reaction: Reaction) {
        if let Some(trigger) = reaction.exit_intent {
            self.record(EventData::ExitIntent(ExitIntent { trigger }));
        }
        if reaction.ask_engine {
            self.evaluate(true);
        }
    }

    /// Once a second (the interval set up in `listeners`).
    pub(super) fn tick(&self) {
        let visible = self.cx.document().is_some_and(|d| !d.hidden());
        let now = browser::now_ms();
        let Ok(tick) = self.attention.try_borrow_mut().map(|mut attention| attention.tick(now, visible)) else { return };
        let Tick { active_second, report_seconds, flush, refresh_presence, ask_engine } = tick;
        if active_second {
            let event = Event { id: String::new(), at: now, data: EventData::ActiveTime(ActiveTime { seconds: 1 }) };
            if let Ok(mut session) = self.session.try_borrow_mut() {
                session.apply(&event);
            }
        }
        self.report_active_time(report_seconds);
        if flush {
            self.flush(false);
        }
        if refresh_presence {
            self.refresh_presence();
        }
        if ask_engine {
            self.evaluate(false);
        }
        if visible {
            self.keep_launcher_off_text();
        }
    }

    /// Learns whether an operator is online, for sites whose rules ask (the chat invitation).
    pub(super) fn refresh_presence(&self) {
        if !self.cx.config.widget.needs_operator_presence() {
            return;
        }
        let (api_base, site) = (self.cx.api_base.clone(), self.cx.config.site.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let online = crate::transport::operator_online(&api_base, &site).await.unwrap_or(false);
            with(|app| app.operator_online.set(online));
        });
    }

    // ---- consent and context ------------------------------------------------------------------

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
            if let Ok(mut event_queue) = self.event_queue.try_borrow_mut() {
                event_queue.clear();
            }
        }
    }

    /// The session's summary for a lead, as of now.
    pub fn visitor_context(&self) -> Option<floorwalker_core::visitor::context::VisitorContext> {
        self.session.try_borrow().ok().map(|session| session.context(self.cx.locale, &self.cx.href()))
    }

    /// The visitor context in its wire form (a `Uint8Array`), fresh for a new conversation or a
    /// lead: what the UI modules get when they ask for `"context"`.
    pub(super) fn context_wire(&self) -> Option<wasm_bindgen::JsValue> {
        self.visitor_context().map(|c| js_sys::Uint8Array::from(&wire::encode(&c)[..]).into())
    }
}

pub(super) fn title(cx: &Context) -> String {
    cx.document().map(|d| truncate_chars(&d.title(), floorwalker_core::visitor::event::MAX_TITLE_LEN)).unwrap_or_default()
}
