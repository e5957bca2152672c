//! An A/B experiment on one prompt: the owner writes up to three challengers (other words, other
//! timing, another corner), the prompt as defined is the control, and each visitor sees one arm,
//! always the same.
//!
//! A challenger replaces only the prompt's copy, its `when` and the corner its card appears in;
//! the prompt's id, kind, priority, cooldown and every guardrail stay the prompt's, so a
//! visitor's history (shown, dismissed, accepted) belongs to the prompt whichever arm they are
//! in, and no arm can be pushier than the engine allows.
//!
//! Assignment is a hash of the experiment's id and the visitor's id, computed wherever it is
//! needed (the widget deciding, the UI module choosing words, the worker's rollup counting) with
//! nothing stored: the same visitor lands in the same arm everywhere. A new experiment id
//! reshuffles everyone.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::{check_when, Position, PromptDefinition, WidgetConfig};
use crate::base::error::{Invalid, Rule};
use crate::base::ids::is_valid_prompt_id;
use crate::base::locale::Locale;
#[cfg(feature = "prompt-copy")]
use super::{Localized, PromptCopy};
use crate::prompts::rules::Condition;

/// The arm that sees the prompt as defined.
pub const CONTROL: &str = "control";
/// Most challengers one experiment may have: every arm needs its own visitors, and a shop's
/// traffic rarely gives four arms enough for an answer.
pub const MAX_CHALLENGERS: usize = 3;
/// Longest experiment or variant id.
pub const MAX_EXPERIMENT_ID_LEN: usize = 32;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// `[a-z0-9_-]`, 1-32 characters. Part of every visitor's assignment: a new id starts a new
    /// experiment with visitors shuffled afresh.
    pub id: String,
    /// The challengers (1-3); the prompt as defined is the control.
    pub variants: Vec<Variant>,
}

/// One challenger: what it changes of the prompt (absent: the control's).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
// Without `prompt-copy` the `copy` field is read past, not refused (as a prompt's own).
#[cfg_attr(feature = "prompt-copy", serde(deny_unknown_fields))]
pub struct Variant {
    /// `[a-z0-9_-]`, 1-32 characters, unique in the experiment, not `control`.
    pub id: String,
    #[cfg(feature = "prompt-copy")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy: Option<Localized<PromptCopy>>,
    /// The timing: when this arm's card may appear, instead of the prompt's `when`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// The corner this arm's card appears in, instead of the prompt's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
}

impl Experiment {
    /// The control and each challenger.
    pub fn arms(&self) -> usize {
        self.variants.len() + 1
    }

    /// The visitor's arm: 0 is the control, `n` the `n`th variant.
    pub fn arm_of(&self, visitor: &str) -> usize {
        assign(&self.id, visitor, self.arms())
    }

    /// The arm's name: [`CONTROL`] or the variant's id.
    pub fn arm_name(&self, arm: usize) -> &str {
        arm.checked_sub(1).and_then(|index| self.variants.get(index)).map_or(CONTROL, |variant| variant.id.as_str())
    }

    /// The variant the visitor sees, `None` for the control.
    pub fn variant_of(&self, visitor: &str) -> Option<&Variant> {
        self.arm_of(visitor).checked_sub(1).and_then(|index| self.variants.get(index))
    }
}

impl PromptDefinition {
    /// The arm `visitor` is in, by name: `None` when the prompt has no experiment.
    pub fn arm_for(&self, visitor: &str) -> Option<&str> {
        let experiment = self.experiment.as_ref()?;
        Some(experiment.arm_name(experiment.arm_of(visitor)))
    }

    /// When the prompt may appear to `visitor`: their variant's timing, else the prompt's.
    pub fn when_for(&self, visitor: &str) -> &Condition {
        self.experiment.as_ref().and_then(|e| e.variant_of(visitor)).and_then(|v| v.when.as_ref()).unwrap_or(&self.when)
    }

    /// The prompt as `visitor` sees it (their variant's words, timing and corner in place of the
    /// control's), and their arm's name when the prompt has an experiment. Borrowed for the
    /// control and for prompts without one.
    pub fn for_visitor(&self, visitor: &str) -> (Cow<'_, PromptDefinition>, Option<&str>) {
        (self.as_arm(self.arm_index(visitor)), self.arm_for(visitor))
    }

    /// The arm `visitor` is in: 0 (the control) when the prompt has no experiment.
    pub fn arm_index(&self, visitor: &str) -> usize {
        self.experiment.as_ref().map_or(0, |e| e.arm_of(visitor))
    }

    /// The variant arm `arm` shows (0, the control, and an arm the prompt does not have: none).
    fn arm_variant(&self, arm: usize) -> Option<&Variant> {
        self.experiment.as_ref()?.variants.get(arm.checked_sub(1)?)
    }

    /// The corner arm `arm`'s card appears in: the variant's, else the prompt's.
    pub fn corner_of_arm(&self, arm: usize) -> Option<Position> {
        self.arm_variant(arm).and_then(|variant| variant.position).or(self.position)
    }

    /// The words arm `arm`'s card shows: the variant's, else the prompt's. Borrowed, so the cards
    /// module draws a visitor's arm without cloning the prompt (its rule among it).
    #[cfg(feature = "prompt-copy")]
    pub fn copy_of_arm(&self, arm: usize) -> &Localized<PromptCopy> {
        self.arm_variant(arm).and_then(|variant| variant.copy.as_ref()).unwrap_or(&self.copy)
    }

    /// The prompt as arm `arm` shows it (0: the control; `n`: the `n`th variant's words, timing
    /// and corner in place of the control's): what a visitor in that arm sees, and what the owner's
    /// preview draws for that arm. Borrowed for the control, a prompt without an experiment and
    /// an arm it does not have.
    pub fn as_arm(&self, arm: usize) -> Cow<'_, PromptDefinition> {
        let Some(variant) = self.arm_variant(arm) else {
            return Cow::Borrowed(self);
        };
        let mut seen = self.clone();
        if let Some(when) = &variant.when {
            seen.when = when.clone();
        }
        seen.position = self.corner_of_arm(arm);
        #[cfg(feature = "prompt-copy")]
        {
            seen.copy = self.copy_of_arm(arm).clone();
        }
        Cow::Owned(seen)
    }
}

/// The first challenger's id: the owner's second version of the words is "B" against the
/// control's "A".
pub const FIRST_VARIANT: &str = "b";
/// Characters of the prompt's id an experiment id keeps, so the date and the nonce always fit in
/// [`MAX_EXPERIMENT_ID_LEN`] (`-yyyymmdd-` and six characters).
const STEM_LEN: usize = MAX_EXPERIMENT_ID_LEN - 16;

impl Experiment {
    /// A new experiment id for `prompt` at `at_ms`: `<prompt>-<yyyymmdd>-<nonce>`, readable in
    /// the rollups and a CSV (which prompt, started when), and unique by the nonce's first six
    /// `[a-z0-9]` characters (the console passes a random id). Never the id of an earlier
    /// experiment: the rollups keep earlier experiments' rows under their ids, and two
    /// experiments under one id would add up each other's arms of the same name, and assign
    /// visitors as the first did.
    pub fn fresh_id(prompt: &str, at_ms: u64, nonce: &str) -> String {
        let (year, month, day) = crate::base::clock::civil_from_days((at_ms / 86_400_000) as i64);
        let stem: String = prompt.chars().take(STEM_LEN).collect();
        let nonce: String = nonce.chars().map(|c| c.to_ascii_lowercase()).filter(char::is_ascii_alphanumeric).take(6).collect();
        format!("{stem}-{year:04}{month:02}{day:02}-{nonce}")
    }
}

/// The owner's moves on a prompt's experiment, as the console offers them. Each move that changes
/// the list of arms gives the experiment a new id ([`Experiment::fresh_id`] with `at_ms` and
/// `nonce`): under the same id a changed list would move some visitors between arms and add the
/// new arms' visitors to counts gathered under the old list (see the docs' "Experiments").
#[cfg(feature = "prompt-copy")]
impl PromptDefinition {
    /// Starts an experiment with one challenger, [`FIRST_VARIANT`], whose words start as the
    /// prompt's own in `locales` (the site's languages: a language the site dropped is not
    /// copied, so validation does not ask for it) for the owner to rewrite, and whose timing is
    /// the prompt's (no `when`). Replaces an experiment already there.
    pub fn start_experiment(&mut self, locales: &[Locale], at_ms: u64, nonce: &str) {
        let variant = Variant { id: FIRST_VARIANT.to_owned(), copy: Some(self.words_in(locales)), when: None, position: None };
        self.experiment = Some(Experiment { id: Experiment::fresh_id(&self.id, at_ms, nonce), variants: vec![variant] });
    }

    /// Adds a challenger (the next letter: `c`, `d`) with the prompt's words, as
    /// [`Self::start_experiment`] does; starts the experiment when there is none. `false` when
    /// it already has [`MAX_CHALLENGERS`].
    pub fn add_variant(&mut self, locales: &[Locale], at_ms: u64, nonce: &str) -> bool {
        let words = self.words_in(locales);
        let Some(experiment) = &mut self.experiment else {
            self.start_experiment(locales, at_ms, nonce);
            return true;
        };
        if experiment.variants.len() >= MAX_CHALLENGERS {
            return false;
        }
        let id = ('b'..='z').map(String::from).find(|id| experiment.variants.iter().all(|v| v.id != *id)).unwrap_or_default();
        experiment.variants.push(Variant { id, copy: Some(words), when: None, position: None });
        experiment.id = Experiment::fresh_id(&self.id, at_ms, nonce);
        true
    }

    /// Removes the challenger `variant`; the experiment stops with its last one.
    pub fn remove_variant(&mut self, variant: &str, at_ms: u64, nonce: &str) {
        let Some(experiment) = &mut self.experiment else { return };
        let before = experiment.variants.len();
        experiment.variants.retain(|v| v.id != variant);
        if experiment.variants.is_empty() {
            self.experiment = None;
        } else if experiment.variants.len() != before {
            experiment.id = Experiment::fresh_id(&self.id, at_ms, nonce);
        }
    }

    /// Makes the challenger `variant` the prompt as defined and ends the experiment: its words
    /// replace the prompt's in each language it has (a language it lacks keeps the prompt's), and
    /// its timing and its corner, if it has its own, replace the prompt's, since what won is the
    /// arm as the visitors saw it. `false` (nothing changed) when there is no such challenger.
    pub fn keep_variant(&mut self, variant: &str) -> bool {
        let Some(kept) = self.experiment.as_ref().and_then(|e| e.variants.iter().find(|v| v.id == variant)).cloned() else {
            return false;
        };
        if let Some(copy) = &kept.copy {
            for (locale, words) in copy.each() {
                self.copy.set(locale, words.clone());
            }
        }
        if let Some(when) = kept.when {
            self.when = when;
        }
        if kept.position.is_some() {
            self.position = kept.position;
        }
        self.experiment = None;
        true
    }

    /// The prompt's words in `locales` only (all of them when it has none of those).
    fn words_in(&self, locales: &[Locale]) -> Localized<PromptCopy> {
        let mut words = self.copy.clone();
        words.keep(locales);
        words
    }
}

impl Experiment {
    /// Errors come back with the field relative to the experiment (`variants[0].id`).
    // Without `prompt-copy` there are no words to check in `locales`.
    #[cfg_attr(not(feature = "prompt-copy"), allow(unused_variables))]
    pub(super) fn check(&self, prompt: &PromptDefinition, config: &WidgetConfig, locales: &[Locale]) -> Result<(), Invalid> {
        if !is_valid_experiment_id(&self.id) {
            return Err(Invalid::new("id", Rule::Format { example: "spring-words (a-z, 0-9, _ and -, at most 32)" }));
        }
        if !(1..=MAX_CHALLENGERS).contains(&self.variants.len()) {
            return Err(Invalid::new("variants", Rule::Count { min: 1, max: MAX_CHALLENGERS }));
        }
        for (index, variant) in self.variants.iter().enumerate() {
            let at = format!("variants[{index}]");
            if !is_valid_experiment_id(&variant.id) {
                return Err(Invalid::new(format!("{at}.id"), Rule::Format { example: "short-title (a-z, 0-9, _ and -, at most 32)" }));
            }
            // The control's name is taken by the prompt itself.
            if variant.id == CONTROL || self.variants[..index].iter().any(|earlier| earlier.id == variant.id) {
                return Err(Invalid::new(format!("{at}.id"), Rule::Duplicate { value: variant.id.clone() }));
            }
            #[cfg(feature = "prompt-copy")]
            if let Some(copy) = &variant.copy {
                copy.check_each(locales, |copy| copy.check(&prompt.kind)).map_err(|e| e.under(&format!("{at}.copy")))?;
            }
            if let Some(when) = &variant.when {
                check_when(when, &prompt.kind, config).map_err(|e| e.under(&format!("{at}.when")))?;
            }
        }
        Ok(())
    }
}

fn is_valid_experiment_id(id: &str) -> bool {
    id.len() <= MAX_EXPERIMENT_ID_LEN && is_valid_prompt_id(id)
}

/// The arm (0 = control) of `visitor` in experiment `experiment_id` with `arms` arms (0 when
/// `arms` is 0). FNV-1a over both ids, then the splitmix64 finaliser: FNV alone mixes the last
/// bytes poorly, and visitor ids that differ only at the end must still spread evenly. The
/// top 32 bits are scaled into `arms` (multiply-shift), without the bias of a modulo.
pub fn assign(experiment_id: &str, visitor: &str, arms: usize) -> usize {
    const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
    // 0xff never occurs in UTF-8, so ("ab", "c") and ("a", "bc") hash apart.
    let bytes = experiment_id.bytes().chain([0xff]).chain(visitor.bytes());
    let mut hash = bytes.fold(FNV_OFFSET, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME));
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^= hash >> 31;
    (((hash >> 32) * arms as u64) >> 32) as usize
}

#[cfg(test)]
mod tests;
