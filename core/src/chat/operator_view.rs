//! What the operator console and the worker's console API exchange, and the few decisions the
//! console's views make (a callback request's contact, the visitor panel's lines). One definition
//! serves the worker (which writes these as JSON) and the console (which reads them).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::base::error::{ApiError, ErrorCode};
use crate::base::locale::Locale;
use crate::base::phone::PhoneRegion;
use crate::chat::protocol::ConversationStatus;
use crate::leads::contact::{normalize_email, normalize_phone, single_line, MAX_TIME_SLOT_LEN};
use crate::leads::lead::{Contact, Lead, LeadKind};
use crate::visitor::context::{Answer, Touch, VisitorContext};
use crate::prompts::config::Localized;
#[cfg(feature = "prompt-copy")]
use crate::prompts::config::{PromptKind, WidgetConfig};
use crate::visitor::session::Session;

/// The logged-in operator (`POST /v1/console/login`, `GET /v1/console/me`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct OperatorProfile {
    pub id: String,
    pub site: String,
    pub email: String,
    pub name: String,
}

/// How to reach a visitor who asked to be called or written back, normalised.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CallbackContact {
    /// An E.164 phone number or an email address.
    pub contact: String,
    /// When the visitor would like the call, in their own words ("after 18:00").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_slot: Option<String>,
}

/// Checks what the chat's callback form sent: an email or a phone (an email wins when both are
/// given, as the form offers one or the other), and an optional preferred time on one line.
pub fn callback_contact(
    email: Option<&str>,
    phone: Option<&str>,
    time_slot: Option<&str>,
    region: PhoneRegion,
) -> Result<CallbackContact, ApiError> {
    fn given(value: Option<&str>) -> Option<&str> {
        value.map(str::trim).filter(|v| !v.is_empty())
    }
    let contact = match (given(email), given(phone)) {
        (Some(email), _) => normalize_email(email)?,
        (None, Some(phone)) => normalize_phone(phone, region)?,
        (None, None) => return Err(ApiError::new(ErrorCode::MissingField, "leave an email or a phone number")),
    };
    let time_slot = match given(time_slot) {
        Some(slot) => single_line("time_slot", slot, MAX_TIME_SLOT_LEN)?,
        None => None,
    };
    Ok(CallbackContact { contact, time_slot })
}

/// One row of the console's callback queue (`GET /v1/console/callbacks`): still to be handled.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CallbackEntry {
    pub conversation_id: String,
    pub contact: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_slot: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub requested_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_label: Option<String>,
}

/// A conversation's callback request as the visitor panel shows it, handled or not.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CallbackState {
    pub contact: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_slot: Option<String>,
    pub requested_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_by: Option<String>,
}

/// A conversation in the panel's "earlier conversations".
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ConversationSummary {
    pub id: String,
    pub status: ConversationStatus,
    pub opened_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_label: Option<String>,
    /// The visitor's score (1-5), once they rated it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
}

/// A lead the visitor left (a comparison by email, a callback, ...), for the panel.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct LeadSummary {
    pub id: String,
    pub kind: LeadKind,
    pub created_at: u64,
    pub contact: Contact,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
}

impl From<&Lead> for LeadSummary {
    fn from(lead: &Lead) -> LeadSummary {
        LeadSummary {
            id: lead.id.clone(),
            kind: lead.kind,
            created_at: lead.created_at,
            contact: lead.contact.clone(),
            prompt: lead.prompt.clone(),
        }
    }
}

/// What happened to one prompt for this visitor: shown how often, and what they did with it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PromptSummary {
    pub prompt: String,
    pub shown: u32,
    pub accepted: bool,
    pub dismissed: bool,
    /// The answer, for a question prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
}

/// The prompts a visitor was shown (or answered), most recently active last.
pub fn prompt_summary(session: &Session) -> Vec<PromptSummary> {
    let mut records: Vec<_> = session.prompt_history.iter().filter(|r| r.shown > 0 || r.accepted_at.is_some()).collect();
    records.sort_by_key(|r| [r.last_shown_at, r.dismissed_at, r.accepted_at].into_iter().flatten().max().unwrap_or(0));
    records
        .into_iter()
        .map(|record| PromptSummary {
            prompt: record.prompt.clone(),
            shown: record.shown,
            accepted: record.accepted_at.is_some(),
            dismissed: record.dismissed_at.is_some(),
            answer: session.answers.iter().find(|a| a.prompt == record.prompt).map(|a| a.answer.clone()),
        })
        .collect()
}

/// `GET /v1/console/conversations/:id`: everything the visitor panel shows.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ConversationDetails {
    pub conversation: ConversationSummary,
    /// What the visitor had done when the conversation started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<VisitorContext>,
    #[serde(default)]
    pub previous: Vec<ConversationSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<CallbackState>,
    #[serde(default)]
    pub leads: Vec<LeadSummary>,
    #[serde(default)]
    pub prompts: Vec<PromptSummary>,
    /// The shop's IANA time zone (the site config's `widget.timezone`): the console shows message
    /// times on the shop's clock, as the visitor's panel does, whatever the operator's own zone.
    /// Empty (an older worker) reads as UTC.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub timezone: String,
    /// Words for the prompts' ids and the answers' values, so the operator reads «До года», not `0-1`.
    #[serde(default, skip_serializing_if = "PanelLabels::is_empty")]
    pub labels: PanelLabels,
}

/// Words for what the visitor panel would otherwise show as ids, from the site's config: each
/// prompt's name (a question's question, another card's title) and each question's choices, in
/// the languages the shop writes. Whatever has no words (a prompt since removed) shows its id.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct PanelLabels {
    #[serde(default)]
    pub prompts: BTreeMap<String, Localized<String>>,
    /// Prompt id → choice value → its label.
    #[serde(default)]
    pub choices: BTreeMap<String, BTreeMap<String, Localized<String>>>,
}

impl PanelLabels {
    #[cfg(feature = "prompt-copy")]
    pub fn of(config: &WidgetConfig) -> PanelLabels {
        let mut labels = PanelLabels::default();
        for prompt in &config.prompts {
            let name = match &prompt.kind {
                PromptKind::Question(question) => {
                    let choices = question.choices.iter().map(|c| (c.value.clone(), c.label.clone()));
                    labels.choices.insert(prompt.id.clone(), choices.collect());
                    question.question.clone()
                }
                _ => prompt.copy.map(|copy| copy.title.clone()),
            };
            labels.prompts.insert(prompt.id.clone(), name);
        }
        labels
    }

    pub fn is_empty(&self) -> bool {
        self.prompts.is_empty() && self.choices.is_empty()
    }

    /// The prompt's name in `locale`, else its id.
    pub fn prompt(&self, id: &str, locale: Locale) -> String {
        self.prompts.get(id).map_or_else(|| id.to_owned(), |name| name.get(locale).clone())
    }

    /// The label of the choice `value` of question `prompt` in `locale`, else the value.
    pub fn answer(&self, prompt: &str, value: &str, locale: Locale) -> String {
        self.choices.get(prompt).and_then(|choices| choices.get(value)).map_or_else(|| value.to_owned(), |label| label.get(locale).clone())
    }

    /// [`PanelLabels::answer`] for an answer that names its question as the visitor read it (the
    /// visitor context's), not its prompt: the question is recognised in either language.
    pub fn answer_to(&self, question: &str, value: &str, locale: Locale) -> String {
        let prompt = self.prompts.iter().find(|(id, name)| self.choices.contains_key(*id) && name.each().any(|(_, words)| words == question));
        prompt.map_or_else(|| value.to_owned(), |(id, _)| self.answer(id, value, locale))
    }
}

/// Where a visit came from, on one line: the campaign tags, else the referring site, else
/// "direct".
pub fn source_line(touch: &Touch) -> String {
    let tags: Vec<&str> =
        [&touch.utm_source, &touch.utm_medium, &touch.utm_campaign].into_iter().filter_map(|t| t.as_deref()).collect();
    if !tags.is_empty() {
        return tags.join(" / ");
    }
    match touch.referrer.as_deref() {
        Some(referrer) => crate::base::url::host_of(referrer).unwrap_or_else(|| referrer.to_owned()),
        None => "direct".to_owned(),
    }
}

/// Active time as operators read it: `0:45`, `4:05`, `1:02:03`.
pub fn active_time(seconds: u32) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visitor::event::{Event, EventData, PromptRef, QuestionAnswered};

    #[test]
    fn the_panel_says_prompts_and_answers_in_the_operator_s_words() {
        let config = WidgetConfig { prompts: crate::prompts::playbooks::builtin_playbooks(), ..WidgetConfig::default() };
        let labels = PanelLabels::of(&config);
        assert_eq!(labels.prompt("child_age", Locale::Ru), "Сколько лет ребёнку?");
        assert_eq!(labels.prompt("child_age", Locale::En), "How old is your child?");
        assert_ne!(labels.prompt("compare_by_email", Locale::En), "compare_by_email", "a card is named by its title");
        assert_eq!(labels.answer("child_age", "0-1", Locale::Ru), "До года");
        // The visitor read the question in English; the Russian operator reads the choice in Russian.
        assert_eq!(labels.answer_to("How old is your child?", "0-1", Locale::Ru), "До года");
        // What the config no longer has shows as it was stored.
        assert_eq!(labels.prompt("gone", Locale::Ru), "gone");
        assert_eq!(labels.answer("child_age", "7-9", Locale::Ru), "7-9");
        assert_eq!(labels.answer_to("Another question?", "0-1", Locale::Ru), "0-1");
        let json = serde_json::to_value(&labels).expect("labels as JSON");
        assert_eq!(json["choices"]["child_age"]["0-1"]["ru"], "До года");
    }

    #[test]
    fn callback_contacts() {
        let ok = callback_contact(None, Some("8 (912) 345-67-89"), Some("  tomorrow   after 18:00 "), PhoneRegion::Ru).unwrap();
        assert_eq!(ok, CallbackContact { contact: "+79123456789".into(), time_slot: Some("tomorrow after 18:00".into()) });
        let email = callback_contact(Some(" Me@Example.COM "), Some(""), None, PhoneRegion::Ru).unwrap();
        assert_eq!(email, CallbackContact { contact: "Me@example.com".into(), time_slot: None });
        assert_eq!(callback_contact(Some(" "), Some("  "), Some("now"), PhoneRegion::Ru).unwrap_err().code, ErrorCode::MissingField);
        assert_eq!(callback_contact(None, Some("12"), None, PhoneRegion::Ru).unwrap_err().code, ErrorCode::InvalidPhone);
        let long = "x".repeat(MAX_TIME_SLOT_LEN + 1);
        assert_eq!(callback_contact(None, Some("+79123456789"), Some(&long), PhoneRegion::Ru).unwrap_err().code, ErrorCode::FieldTooLong);
        // One line, as in a lead's form.
        assert_eq!(callback_contact(None, Some("+79123456789"), Some("a\nb"), PhoneRegion::Ru).unwrap_err().code, ErrorCode::InvalidText);
        // An empty slot is no slot.
        assert_eq!(callback_contact(None, Some("+79123456789"), Some("  "), PhoneRegion::Ru).unwrap().time_slot, None);
    }

    fn touch(utm: Option<(&str, &str, &str)>, referrer: Option<&str>) -> Touch {
        Touch {
            utm_source: utm.map(|u| u.0.into()),
            utm_medium: utm.map(|u| u.1.into()),
            utm_campaign: utm.map(|u| u.2.into()),
            referrer: referrer.map(str::to_owned),
            landing_page: "https://shop.example/".into(),
            ..Touch::default()
        }
    }

    #[test]
    fn panel_lines() {
        assert_eq!(source_line(&touch(Some(("yandex", "cpc", "spring")), Some("https://ya.ru/"))), "yandex / cpc / spring");
        assert_eq!(source_line(&touch(None, Some("https://www.google.com/search?q=x"))), "www.google.com");
        assert_eq!(source_line(&touch(None, None)), "direct");
        assert_eq!(active_time(0), "0:00");
        assert_eq!(active_time(245), "4:05");
        assert_eq!(active_time(3723), "1:02:03");
    }

    #[test]
    fn prompts_shown_and_answered() {
        let mut session = Session::new();
        let event = |id: &str, at: u64, data: EventData| Event { id: id.into(), at, data };
        let shown = |p: &str| EventData::PromptShown(PromptRef { prompt: p.into() });
        session.apply(&event("e1", 1000, shown("compare_by_email")));
        session.apply(&event("e2", 2000, EventData::PromptDismissed(PromptRef { prompt: "compare_by_email".into() })));
        session.apply(&event("e3", 3000, shown("child_age")));
        session.apply(&event(
            "e4",
            4000,
            EventData::QuestionAnswered(QuestionAnswered { prompt: "child_age".into(), question: "How old?".into(), answer: "1-2".into() }),
        ));
        let summary = prompt_summary(&session);
        assert_eq!(
            summary,
            vec![
                PromptSummary { prompt: "compare_by_email".into(), shown: 1, accepted: false, dismissed: true, answer: None },
                PromptSummary {
                    prompt: "child_age".into(),
                    shown: 1,
                    accepted: true,
                    dismissed: false,
                    answer: Some(Answer { question: "How old?".into(), answer: "1-2".into() })
                },
            ]
        );
        assert!(prompt_summary(&Session::new()).is_empty());
    }

    #[test]
    fn details_wire_shape() {
        let details = ConversationDetails {
            conversation: ConversationSummary {
                id: "c1".into(),
                status: ConversationStatus::Open,
                opened_at: 5,
                closed_at: None,
                visitor_label: None,
                rating: None,
            },
            context: None,
            previous: vec![],
            callback: Some(CallbackState { contact: "+79123456789".into(), time_slot: Some("now".into()), requested_at: 7, done_at: None, done_by: None }),
            leads: vec![],
            prompts: vec![],
            timezone: String::new(),
            labels: PanelLabels::default(),
        };
        let json = serde_json::to_string(&details).unwrap();
        assert_eq!(
            json,
            r#"{"conversation":{"id":"c1","status":"open","opened_at":5},"previous":[],"callback":{"contact":"+79123456789","time_slot":"now","requested_at":7},"leads":[],"prompts":[]}"#
        );
        assert_eq!(serde_json::from_str::<ConversationDetails>(&json).unwrap(), details);
    }
}
