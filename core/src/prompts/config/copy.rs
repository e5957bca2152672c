//! The prompts' words: the copy a site owner writes per language, its variants (after hours, for
//! an answer) and what the UI module finally renders.

use serde::{Deserialize, Serialize};

#[cfg(feature = "prompt-copy")]
use super::{check_field, PromptKind, MAX_CHOICES, MAX_CONSENT_VERSION_LEN, MAX_COPY_LEN, MAX_LABEL_LEN};
use crate::prompts::rules::AnswerIs;
#[cfg(feature = "prompt-copy")]
use crate::base::error::{Invalid, Rule};

/// Final prompt text for the widget to render.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct RenderedCopy {
    pub title: String,
    pub body: String,
    pub accept: String,
    pub dismiss: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentCopy>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PromptCopy {
    pub title: String,
    /// May contain `{minutes}`, replaced by `callback_minutes`.
    pub body: String,
    pub accept: String,
    pub dismiss: String,
    /// Shown next to the contact field; required for prompts that collect a contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentCopy>,
    /// A callback's words outside business hours, when nobody can call within minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_hours: Option<AfterHoursCopy>,
    /// Other words for a visitor who answered a question a certain way; the first that matches
    /// the visitor's answers is used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answered: Vec<AnsweredCopy>,
}

/// A prompt's title and body for visitors who gave `answer`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AnsweredCopy {
    pub answer: AnswerIs,
    pub title: String,
    pub body: String,
}

/// The consent text exactly as shown, with the version recorded alongside a lead so that what the
/// visitor agreed to can be proven later.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConsentCopy {
    pub text: String,
    pub consent_version: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AfterHoursCopy {
    pub title: String,
    pub body: String,
    pub accept: String,
}

#[cfg(feature = "prompt-copy")]
impl PromptCopy {
    pub(super) fn check(&self, kind: &PromptKind) -> Result<(), Invalid> {
        check_field("title", &self.title, MAX_COPY_LEN)?;
        check_field("body", &self.body, MAX_COPY_LEN)?;
        check_field("accept", &self.accept, MAX_LABEL_LEN)?;
        check_field("dismiss", &self.dismiss, MAX_LABEL_LEN)?;
        let collects_contact = matches!(kind, PromptKind::ComparisonEmail | PromptKind::Callback);
        match &self.consent {
            Some(consent) => {
                check_field("consent.text", &consent.text, MAX_COPY_LEN)?;
                check_field("consent.consent_version", &consent.consent_version, MAX_CONSENT_VERSION_LEN)?;
            }
            None if collects_contact => {
                return Err(Invalid::new("consent", Rule::ConsentRequired));
            }
            None => {}
        }
        match (&self.after_hours, kind) {
            (Some(after), PromptKind::Callback) => {
                check_field("after_hours.title", &after.title, MAX_COPY_LEN)?;
                check_field("after_hours.body", &after.body, MAX_COPY_LEN)?;
                check_field("after_hours.accept", &after.accept, MAX_LABEL_LEN)?;
            }
            (None, PromptKind::Callback) => {
                return Err(Invalid::new("after_hours", Rule::AfterHoursRequired));
            }
            (Some(_), _) => return Err(Invalid::new("after_hours", Rule::AfterHoursNotAllowed)),
            (None, _) => {}
        }
        if self.answered.len() > MAX_CHOICES {
            return Err(Invalid::new("answered", Rule::Count { min: 0, max: MAX_CHOICES }));
        }
        for (index, answered) in self.answered.iter().enumerate() {
            check_field(&format!("answered[{index}].title"), &answered.title, MAX_COPY_LEN)?;
            check_field(&format!("answered[{index}].body"), &answered.body, MAX_COPY_LEN)?;
        }
        Ok(())
    }
}
