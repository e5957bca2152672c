//! The prompt card: asking the engine (`rules::hold`, `rules::decide`), building the card from
//! core's choices (`prompt_card::compared_products`, `offered_slots`), handing it to the UI module,
//! and what the visitor does with it. A card arrives unasked, so it never takes focus: it is
//! announced through the live region, and focus moves only when the visitor goes into it (and goes
//! back where it was when the card closes). At exit intent a card the visitor has not touched, or
//! one that is finished (its thank-you), may be replaced by the offer the engine picks.

use floorwalker_core::visitor::event::{EventData, PromptRef, QuestionAnswered};
use floorwalker_core::base::wire;
use floorwalker_core::base::locale::Weekday;
use floorwalker_core::prompts::card::{compared_products, offered_slots, preview_locale, preview_requested, PromptCard};
use floorwalker_core::prompts::config::PromptDefinition;
use floorwalker_core::prompts::judgement::{answers, thank_you_ms};
use floorwalker_core::prompts::rules::{self, CopyVariant, Decision, EvalInput};
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
    /// The owner's preview on screen (`show_preview`): nothing it does is recorded, and the
    /// engine leaves it alone until it closes.
    Preview(JsValue),
}

impl App {
    /// Asks the engine whether to speak up now, and shows what it picks.
    pub fn evaluate(&self, exit_intent: bool) {
        // A card on screen may be replaced only at exit intent (the last chance), and never while
        // the visitor is using it (a finished card, its thank-you, is no longer in use); which
        // prompt may replace it is the engine's call.
        let in_use = self.session.try_borrow().map_or(true, |session| session.prompt_touched);
        let busy = match *self.card.borrow() {
            Card::None => false,
            Card::Pending(_) | Card::Preview(_) => true,
            Card::Shown(..) => !exit_intent || in_use,
        };
        if busy || js_sys::Date::now() - self.ui_failed_at.get() < UI_RETRY_MS {
            return;
        }
        let config = &self.cx.config.widget;
        let now = browser::now_ms();
        let page_url = self.cx.href();
        let (held, preload) = {
            let Ok(mut session) = self.session.try_borrow_mut() else { return };
            session.set_chat_open(self.open.get());
            session.set_typing_in_form(self.typing.get());
            (
                rules::hold(config, &session, now, &page_url, exit_intent).is_some(),
                rules::should_preload_ui(config, &session),
            )
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
            visitor: self.cx.visitor.clone(),
        };
        let decision = match self.session.try_borrow() {
            Ok(session) => rules::decide(config, &session, &input),
            Err(_) => return,
        };
        let Decision::Show { prompt, variant } = decision else { return };
        let Some(definition) = config.prompt(&prompt) else { return };
        if let Some(card) = self.card_for(definition, variant, now, weekday, minute_of_day, false) {
            self.present(card);
        }
    }

    /// The page was opened from the owner's "see it on your site" link (`preview_link`): that
    /// prompt's card, at once, whatever its conditions say, as the words are saved now.
    pub(super) fn show_preview(&self) {
        let page_url = self.cx.href();
        let Some(prompt) = preview_requested(&page_url) else { return };
        let config = &self.cx.config.widget;
        let Some(definition) = config.prompt(prompt) else {
            // No `format!`: the first load carries no formatting code for one owner's typo.
            web_sys::console::warn_2(&"floorwalker: no such prompt is on, nothing to preview:".into(), &prompt.into());
            return;
        };
        let now = browser::now_ms();
        let (weekday, minute_of_day) = browser::site_local_time(&config.timezone, now as f64);
        let variant = rules::copy_variant_at(config, &definition.kind, weekday, minute_of_day, self.operator_online.get());
        if let Some(mut card) = self.card_for(definition, variant, now, weekday, minute_of_day, true) {
            // The language the owner previewed, whatever the page says of its own.
            card.locale = preview_locale(&page_url).unwrap_or(card.locale);
            self.present(card);
        }
    }

    /// The card for `prompt` as this visitor would see it now.
    fn card_for(&self, definition: &PromptDefinition, variant: CopyVariant, now: u64, weekday: Weekday, minute_of_day: u16, preview: bool) -> Option<PromptCard> {
        let config = &self.cx.config.widget;
        let (products, answers) =
            self.session.try_borrow().map(|session| (compared_products(&definition.kind, &session), answers(&session))).ok()?;
        Some(PromptCard {
            slots: offered_slots(&definition.kind, variant, &config.business_hours, weekday, minute_of_day),
            prompt: definition.id.clone(),
            kind: definition.kind.clone(),
            variant,
            locale: self.cx.locale,
            products,
            shown_at: now,
            callback_minutes: config.callback_minutes,
            region: config.phone_region(),
            answers,
            thank_you_ms: thank_you_ms(config),
            api_base: self.cx.api_base.clone(),
            site: self.cx.config.site.clone(),
            visitor: self.cx.visitor.clone(),
            preview,
        })
    }

    /// Replaces whatever card is there with `card`, once the UI module is here.
    fn present(&self, card: PromptCard) {
        // The card it replaces (untouched or finished) goes; nothing is recorded for it, it was
        // shown and the visitor simply did not use it.
        self.drop_card();
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
            Ok(handle) if card.preview => {
                let title = card_title(&handle);
                self.card.replace(Card::Preview(handle));
                self.shell.announce(&title);
            }
            Ok(handle) => {
                let title = card_title(&handle);
                self.card.replace(Card::Shown(card.prompt.clone(), handle));
                self.record(EventData::PromptShown(PromptRef { prompt: card.prompt.clone() }));
                self.shell.announce(&title);
                self.emit("prompt_shown", &card.prompt);
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
            Card::Preview(_) => {
                self.preview_event(name);
                return None;
            }
            _ => return None,
        };
        match name {
            "accept" => self.accept(&prompt),
            "dismiss" => self.dismiss(&prompt),
            // A thank-you closing itself after its card was replaced is not about this card.
            "close" if detail.as_string().is_none_or(|id| id == prompt) => self.close_prompt(),
            "chat" => {
                self.accept(&prompt);
                self.close_prompt();
                self.set_open(true);
            }
            "answer" => {
                let pair = js_sys::Array::from(detail);
                let (question, answer) = (pair.get(0).as_string()?, pair.get(1).as_string()?);
                self.answer(&prompt, &question, &answer);
                self.card_finished();
            }
            "lead" => {
                self.emit("lead_submitted", &prompt);
                self.card_finished();
            }
            // The visitor went into the card (focus, tap, typing): it is theirs now, and no
            // other offer replaces it.
            "touch" => {
                if let Ok(mut session) = self.session.try_borrow_mut() {
                    session.set_prompt_touched(true);
                }
            }
            "context" => return self.context_wire(),
            _ => {}
        }
        None
    }

    /// A preview only closes (and its chat button opens the chat): the owner's clicks are no
    /// visitor's answers.
    fn preview_event(&self, name: &str) {
        match name {
            "dismiss" | "close" => self.close_prompt(),
            "chat" => {
                self.close_prompt();
                self.set_open(true);
            }
            _ => {}
        }
    }

    /// The card's work is done (answered, or the lead is in): what stays is a thank-you, which an
    /// offer at exit intent may replace.
    fn card_finished(&self) {
        if let Ok(mut session) = self.session.try_borrow_mut() {
            session.set_prompt_touched(false);
        }
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
        if let Card::Shown(_, handle) | Card::Preview(handle) = self.card.replace(Card::None) {
            // Later: the card's own click handler may be what is running now.
            later(0, move || call_method(&handle, "destroy"));
        }
    }

    // ---- focus --------------------------------------------------------------------------------

    fn remember_focus(&self) {
        let active = self.cx.document().and_then(|d| d.active_element()).and_then(|e| e.dyn_into().ok());
        self.restore_focus.replace(active);
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

/// The card's title, as the UI module's handle gives it, for the live region.
fn card_title(handle: &JsValue) -> String {
    js_sys::Reflect::get(handle, &"title".into()).ok().and_then(|t| t.as_string()).unwrap_or_default()
}
