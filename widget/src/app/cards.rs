//! The prompt card: asking the engine (`rules::hold`, `rules::decide`), building the card from
//! core's choices (`prompt_card::compared_products`, `offered_slots`), handing it to the UI module,
//! and what the visitor does with it. Focus moves into a new card only when the visitor is not
//! busy, and goes back where it was when the card closes.

use floorwalker_core::visitor::event::{EventData, PromptRef, QuestionAnswered};
use floorwalker_core::base::wire;
use floorwalker_core::prompts::card::{compared_products, offered_slots, PromptCard};
use floorwalker_core::prompts::rules::{self, Decision, EvalInput};
use wasm_bindgen::prelude::*;

use super::{call_method, on_event, with, App, UiModule};
use crate::browser::{self, later};

/// After the UI module failed to load, no card is tried again for this long.
const UI_RETRY_MS: f64 = 60_000.0;

/// The prompt card's life: the UI module is fetched when the engine picks a card, so a card is
/// first pending, then on screen.
pub(super) enum Card {
    None,
    /// Picked; waiting for the UI module. The number tells a stale arrival (the visitor moved on)
    /// from the current one.
    Pending(u32),
    /// On screen: its prompt id and the UI module's handle (`destroy()`).
    Shown(String, JsValue),
}

impl App {
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
        if preload && !self.cards_requested.get() {
            self.import_ui(UiModule::Cards, |_, _| {});
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
        let products =
            self.session.try_borrow().map_or_else(|_| Vec::new(), |session| compared_products(&definition.kind, &session));
        let card = PromptCard {
            slots: offered_slots(&definition.kind, variant, &config.business_hours, weekday, minute_of_day),
            prompt,
            kind: definition.kind.clone(),
            variant,
            locale: self.cx.locale,
            products,
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
        self.import_ui(UiModule::Cards, move |app, module| app.show_card(generation, card, module));
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
        let card = js_sys::Uint8Array::from(&wire::encode(card)[..]);
        let mount: js_sys::Function = js_sys::Reflect::get(module, &"mount_prompt".into())?.dyn_into()?;
        let args = js_sys::Array::of4(&self.shell.cards, &card, &self.cx.raw_config, &on_event(App::card_event));
        mount.apply(&JsValue::NULL, &args)
    }

    /// What the visitor did on the card (see the UI module's `mount_prompt`).
    fn card_event(&self, name: &str, detail: &JsValue) -> Option<JsValue> {
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
            "context" => return self.context_wire(),
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
    pub(super) fn drop_card(&self) {
        let generation = self.card_generation.get().wrapping_add(1);
        self.card_generation.set(generation);
        if let Card::Shown(_, handle) = self.card.replace(Card::None) {
            // Later: the card's own click handler may be what is running now.
            later(0, move || call_method(&handle, "destroy"));
        }
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
}
