//! An A/B experiment on one prompt: the owner writes up to three challengers (other words, other
//! timing), the prompt as defined is the control, and each visitor sees one arm, always the same.
//!
//! A challenger replaces only the prompt's copy and its `when`; the prompt's id, kind, priority,
//! cooldown and every guardrail stay the prompt's, so a visitor's history (shown, dismissed,
//! accepted) belongs to the prompt whichever arm they are in, and no arm can be pushier than the
//! engine allows. Position is not an arm's to change: only the site's theme has one.
//!
//! Assignment is a hash of the experiment's id and the visitor's id, computed wherever it is
//! needed (the widget deciding, the UI module choosing words, the worker's rollup counting) with
//! nothing stored: the same visitor lands in the same arm everywhere. A new experiment id
//! reshuffles everyone.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::{check_when, PromptDefinition, WidgetConfig};
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

    /// The prompt as `visitor` sees it (their variant's words and timing in place of the
    /// control's), and their arm's name when the prompt has an experiment. Borrowed for the
    /// control and for prompts without one.
    pub fn for_visitor(&self, visitor: &str) -> (Cow<'_, PromptDefinition>, Option<&str>) {
        let arm = self.arm_for(visitor);
        let Some(variant) = self.experiment.as_ref().and_then(|e| e.variant_of(visitor)) else {
            return (Cow::Borrowed(self), arm);
        };
        let mut seen = self.clone();
        if let Some(when) = &variant.when {
            seen.when = when.clone();
        }
        #[cfg(feature = "prompt-copy")]
        if let Some(copy) = &variant.copy {
            seen.copy = copy.clone();
        }
        (Cow::Owned(seen), arm)
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
