//! The salesperson's judgement: which offer matters more (each prompt's priority), when a card on
//! screen gives way to a better one, and what a visitor's answers change (the words a later prompt
//! uses, the products a comparison points out).
//!
//! A good salesperson who asked a question and got no reply does not stand in the doorway when the
//! customer turns to leave: they make the one offer that still matters. So a card the visitor has
//! not touched gives way, at exit intent (the last chance), to an eligible prompt of higher
//! priority; a card the visitor is using never does. A thank-you closes itself after a few seconds.

use serde::{Deserialize, Serialize};

use crate::base::error::{Invalid, Rule, Unit};
use crate::base::locale::Locale;
use crate::prompts::config::{Localized, PromptDefinition, PromptKind, WidgetConfig};
use crate::prompts::rules::{scaled, AnswerIs};
use crate::visitor::context::{AgeRange, Product};
use crate::visitor::session::Session;

/// The highest priority a config may give a prompt.
pub const MAX_PRIORITY: u8 = 100;
/// How long "thank you" stays after an answer before the card closes itself.
pub const THANK_YOU_SECONDS: u32 = 4;

/// A prompt's priority when its config names none, by what it offers: the comparison (a visitor
/// who compared models and leaves) first, then a callback, a question, the chat invitation. The
/// built-in playbooks list them in this order, so a config written before priorities existed
/// behaves as it did.
pub fn default_priority(kind: &PromptKind) -> u8 {
    match kind {
        PromptKind::ComparisonEmail => 40,
        PromptKind::Callback => 30,
        PromptKind::Question(_) => 20,
        PromptKind::ChatInvitation => 10,
    }
}

/// The priority the engine uses: the config's, else [`default_priority`].
pub fn effective_priority(prompt: &PromptDefinition) -> u8 {
    prompt.priority.unwrap_or_else(|| default_priority(&prompt.kind))
}

/// Whether the card on screen may give way now: only at exit intent and only if the visitor has
/// not touched it (no focus, tap, click or typing in it). Which prompt may replace it is
/// [`outranks`]'s question.
pub fn may_yield(session: &Session, exit_intent: bool) -> bool {
    exit_intent && !session.prompt_touched
}

/// Whether `candidate` may replace the card of prompt `visible` (an id; a prompt no longer in the
/// config ranks lowest).
pub fn outranks(config: &WidgetConfig, candidate: &PromptDefinition, visible: &str) -> bool {
    let visible = config.prompt(visible).map_or(0, effective_priority);
    effective_priority(candidate) > visible
}

/// How long a thank-you stays on screen, in milliseconds (shortened under test timing).
pub fn thank_you_ms(config: &WidgetConfig) -> u32 {
    scaled(config, THANK_YOU_SECONDS).saturating_mul(1000)
}

/// What a question's choice makes the widget point out later: the products whose pages say they
/// suit this age (schema.org `audience`), with a short note beside each.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Highlight {
    pub suits_age: AgeRange,
    pub note: Localized<String>,
}

/// The products a card points out, and the note shown beside each.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Highlighted {
    pub products: Vec<String>,
    pub note: String,
}

/// The visitor's answers to question prompts, as rules and cards read them.
pub fn answers(session: &Session) -> Vec<AnswerIs> {
    session.answers.iter().map(|answer| AnswerIs { prompt: answer.prompt.clone(), is: answer.answer.answer.clone() }).collect()
}

/// Which of `products` the visitor's `answers` point out: the first answered choice in the config
/// that has a [`Highlight`] decides. `None` when no answer highlights anything or no product fits.
pub fn highlighted(config: &WidgetConfig, answers: &[AnswerIs], products: &[Product], locale: Locale) -> Option<Highlighted> {
    answers.iter().find_map(|answer| {
        let PromptKind::Question(question) = &config.prompt(&answer.prompt)?.kind else { return None };
        let highlight = question.choices.iter().find(|choice| choice.value == answer.is)?.highlight.as_ref()?;
        let fitting: Vec<String> = products
            .iter()
            .filter(|product| product.suits_age.is_some_and(|ages| ages.overlaps(&highlight.suits_age)))
            .map(|product| product.id.clone())
            .collect();
        (!fitting.is_empty()).then(|| Highlighted { products: fitting, note: highlight.note.get(locale).clone() })
    })
}

impl Highlight {
    pub(crate) fn check(&self, locales: &[Locale]) -> Result<(), Invalid> {
        if self.suits_age.max_months.is_some_and(|max| max < self.suits_age.min_months) {
            return Err(Invalid::new("suits_age", Rule::Detail("max_months must not be below min_months".into())));
        }
        for &locale in locales {
            let Some(note) = self.note.in_locale(locale) else {
                return Err(Invalid::new(format!("note.{}", locale.code()), Rule::MissingLocale { locale }));
            };
            if note.trim().is_empty() || note.chars().count() > MAX_NOTE_LEN {
                let rule = Rule::Between { min: 1, max: MAX_NOTE_LEN as u64, unit: Unit::Characters };
                return Err(Invalid::new(format!("note.{}", locale.code()), rule));
            }
        }
        Ok(())
    }
}

const MAX_NOTE_LEN: usize = 40;

#[cfg(test)]
mod tests;
