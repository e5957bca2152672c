//! Leads: a contact left under one promise, with the context that makes it worth calling back.
//!
//! [`LeadRequest`] is what the widget POSTs to `/v1/leads`; [`LeadRequest::validate`] is the only way
//! to a [`ValidLead`], which holds the normalised [`Lead`] that is stored, emailed and forwarded.

use serde::{Deserialize, Serialize};

use crate::base::crypto::sha256;
use crate::base::error::{ApiError, ErrorCode};
use crate::base::ids::{client_id_from_bytes, validate_client_id, validate_site_id};
use crate::base::locale::Locale;
use crate::base::phone::PhoneRegion;
use crate::base::text::{check_len, MAX_URL_LEN};
use crate::base::url::validate_http_url;
use crate::leads::consent::{ConsentPurpose, ConsentRecord, ConsentText};
use crate::leads::contact::{
    multi_line, normalize_email, normalize_phone, single_line, MAX_MESSAGE_LEN, MAX_NAME_LEN, MAX_TIME_SLOT_LEN,
};
use crate::visitor::context::{Touch, VisitorContext};

/// Faster than this from the form appearing to its submission is a script, not a person.
pub const MIN_FILL_MS: u64 = 1500;
/// Largest request body the worker should accept for a lead, in bytes.
pub const MAX_LEAD_BYTES: usize = 32 * 1024;
pub const MAX_RECENT_PAGES: usize = 20;
const MAX_LEAD_PRODUCT_ID_LEN: usize = 128;
const MAX_LEAD_PRODUCT_NAME_LEN: usize = 300;
const MAX_LEAD_CATEGORY_LEN: usize = 200;
const MAX_UTM_LEN: usize = 200;
const MAX_LEAD_QUESTION_LEN: usize = 300;
const MAX_LEAD_ANSWER_LEN: usize = 500;
const MAX_LEAD_PROMPT_ID_LEN: usize = 64;

/// What the visitor was promised. Each kind has its own form, required fields and consent purpose.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum LeadKind {
    /// "Email me a comparison of what I looked at."
    ComparisonEmail,
    /// "Call me back."
    Callback,
    /// A question prompt answered, with an email for the personalised reply.
    QuestionAnswer,
    /// A message left while no operator was online.
    OfflineMessage,
    /// A contact left in the chat so the conversation can continue later.
    ChatContact,
}

/// Which contact fields a kind's form shows. A field outside this set was never offered to the
/// visitor under this promise, so it is refused rather than silently kept.
#[derive(Clone, Copy)]
struct Form {
    email: Field,
    phone: Field,
    time_slot: bool,
    message: Field,
    /// At least one of email and phone.
    email_or_phone: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Absent,
    Optional,
    Required,
}

impl LeadKind {
    /// The single purpose the contact may be used for.
    pub fn consent_purpose(self) -> ConsentPurpose {
        match self {
            LeadKind::ComparisonEmail => ConsentPurpose::ComparisonEmail,
            LeadKind::Callback => ConsentPurpose::Callback,
            LeadKind::QuestionAnswer => ConsentPurpose::QuestionAnswer,
            LeadKind::OfflineMessage => ConsentPurpose::OfflineMessage,
            LeadKind::ChatContact => ConsentPurpose::ChatTranscript,
        }
    }

    /// Every kind, in the order the owner's screens list them.
    pub const ALL: [LeadKind; 5] =
        [LeadKind::ComparisonEmail, LeadKind::Callback, LeadKind::QuestionAnswer, LeadKind::OfflineMessage, LeadKind::ChatContact];

    /// The kind named by its wire name (`callback`).
    pub fn parse(text: &str) -> Option<LeadKind> {
        LeadKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LeadKind::ComparisonEmail => "comparison_email",
            LeadKind::Callback => "callback",
            LeadKind::QuestionAnswer => "question_answer",
            LeadKind::OfflineMessage => "offline_message",
            LeadKind::ChatContact => "chat_contact",
        }
    }

    /// A short label for people (CRM titles, alerts).
    pub fn label(self, locale: Locale) -> &'static str {
        match (self, locale) {
            (LeadKind::ComparisonEmail, Locale::Ru) => "Сравнение на почту",
            (LeadKind::ComparisonEmail, Locale::En) => "Comparison by email",
            (LeadKind::Callback, Locale::Ru) => "Обратный звонок",
            (LeadKind::Callback, Locale::En) => "Callback",
            (LeadKind::QuestionAnswer, Locale::Ru) => "Ответ на вопрос",
            (LeadKind::QuestionAnswer, Locale::En) => "Question answered",
            (LeadKind::OfflineMessage, Locale::Ru) => "Сообщение вне часов работы",
            (LeadKind::OfflineMessage, Locale::En) => "Offline message",
            (LeadKind::ChatContact, Locale::Ru) => "Контакт из чата",
            (LeadKind::ChatContact, Locale::En) => "Chat contact",
        }
    }

    fn form(self) -> Form {
        use Field::*;
        let form = |email, phone, time_slot, message, email_or_phone| Form { email, phone, time_slot, message, email_or_phone };
        match self {
            LeadKind::ComparisonEmail | LeadKind::QuestionAnswer => form(Required, Absent, false, Absent, false),
            LeadKind::Callback => form(Absent, Required, true, Optional, false),
            LeadKind::OfflineMessage => form(Optional, Optional, false, Required, true),
            LeadKind::ChatContact => form(Optional, Optional, false, Absent, true),
        }
    }
}

/// Contact details: as typed in a [`LeadRequest`], normalised in a [`Lead`] (email with a lowercase
/// domain, phone in E.164, text trimmed).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When to call back, in the visitor's words ("tomorrow after 18").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_slot: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The body of `POST /v1/leads`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LeadRequest {
    pub site: String,
    pub visitor: String,
    pub kind: LeadKind,
    /// The prompt that collected the contact, if any (chat contacts have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(default)]
    pub contact: Contact,
    /// A field hidden from people; only form-filling bots put anything in it.
    #[serde(default)]
    pub honeypot: String,
    /// When the form appeared, by the visitor's clock (milliseconds since the Unix epoch).
    pub form_shown_at: u64,
    /// When the visitor submitted, by the same clock. The fill time is the difference of two
    /// readings of one clock, so a visitor clock that is hours off does not matter.
    pub submitted_at: u64,
    /// Random per form submission; resending the same submission yields the same lead.
    pub idempotency_key: String,
    /// Consent for the kind's purpose, in the words the visitor saw.
    pub consent: ConsentText,
    /// A separate, explicit "send me more like this", only if the visitor ticked it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketing_consent: Option<ConsentText>,
    pub context: VisitorContext,
    pub locale: Locale,
    pub page_url: String,
}

/// A stored lead: what the promised email, the operator alert and each CRM are built from.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Lead {
    /// `lead_` + 24 hex digits, derived from site, visitor and idempotency key.
    pub id: String,
    pub site: String,
    pub visitor: String,
    /// Milliseconds since the Unix epoch, by the server's clock.
    pub created_at: u64,
    pub kind: LeadKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    pub contact: Contact,
    pub consent: ConsentRecord,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketing_consent: Option<ConsentRecord>,
    /// The visitor's context, including the answers to question prompts.
    pub context: VisitorContext,
    pub locale: Locale,
    pub page_url: String,
}

impl Lead {
    /// The lead id for a submission. Deterministic, so a retried POST (lost response, double click)
    /// lands on the same row and the same webhook message ids instead of a duplicate lead.
    pub fn id_for(site: &str, visitor: &str, idempotency_key: &str) -> String {
        let digest = sha256(format!("floorwalker.lead\n{site}\n{visitor}\n{idempotency_key}").as_bytes());
        format!("lead_{}", client_id_from_bytes(&digest[..12]))
    }

    /// Whether "send me more like this" was ticked on the form (later changes: `consent::is_granted`).
    pub fn marketing_opted_in(&self) -> bool {
        self.marketing_consent.is_some()
    }
}

/// A lead that passed [`LeadRequest::validate`]; the only way to obtain one.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidLead(Lead);

impl ValidLead {
    pub fn lead(&self) -> &Lead {
        &self.0
    }

    pub fn into_lead(self) -> Lead {
        self.0
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidLead, message)
}

fn missing(field: &str) -> ApiError {
    ApiError::new(ErrorCode::MissingField, format!("{field}: required for this kind of lead"))
}

/// Re-labels an error from a shared helper with this request's field path, keeping its code.
fn at(field: &str) -> impl Fn(ApiError) -> ApiError + '_ {
    move |e| ApiError::new(e.code, format!("{field}: {}", e.message))
}

impl LeadRequest {
    /// Checks everything the server must not trust and normalises the contact. Spam checks come
    /// first so a bot learns nothing about which fields were wrong.
    pub fn validate(&self, default_region: PhoneRegion, now_ms: u64) -> Result<ValidLead, ApiError> {
        if !self.honeypot.is_empty() {
            return Err(ApiError::new(ErrorCode::SpamSuspected, "the form could not be accepted"));
        }
        if self.submitted_at.checked_sub(self.form_shown_at).is_none_or(|fill_ms| fill_ms < MIN_FILL_MS) {
            return Err(ApiError::new(ErrorCode::SubmittedTooFast, "the form was submitted too quickly"));
        }
        validate_site_id(&self.site)?;
        validate_client_id("visitor", &self.visitor).map_err(|e| invalid(e.message))?;
        let key_ok = (16..=64).contains(&self.idempotency_key.len())
            && self.idempotency_key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !key_ok {
            return Err(invalid("idempotency_key must be 16-64 characters of [A-Za-z0-9_-]"));
        }
        if let Some(prompt) = &self.prompt {
            let ok = !prompt.is_empty()
                && prompt.len() <= MAX_LEAD_PROMPT_ID_LEN
                && prompt.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !ok {
                return Err(invalid(format!("prompt must be 1-{MAX_LEAD_PROMPT_ID_LEN} characters of [A-Za-z0-9_-]")));
            }
        }
        validate_http_url(ErrorCode::InvalidLead, "page_url", &self.page_url)?;
        let contact = self.normalized_contact(default_region)?;
        self.check_consent()?;
        validate_context(&self.context)?;
        if self.kind == LeadKind::QuestionAnswer && self.context.answers.is_empty() {
            return Err(missing("context.answers"));
        }

        let record = |given: &ConsentText| ConsentRecord {
            given: given.clone(),
            locale: self.locale,
            granted_at: now_ms,
            page_url: self.page_url.clone(),
        };
        Ok(ValidLead(Lead {
            id: Lead::id_for(&self.site, &self.visitor, &self.idempotency_key),
            site: self.site.clone(),
            visitor: self.visitor.clone(),
            created_at: now_ms,
            kind: self.kind,
            prompt: self.prompt.clone(),
            contact,
            consent: record(&self.consent),
            marketing_consent: self.marketing_consent.as_ref().map(record),
            context: self.context.clone(),
            locale: self.locale,
            page_url: self.page_url.clone(),
        }))
    }

    fn normalized_contact(&self, region: PhoneRegion) -> Result<Contact, ApiError> {
        let form = self.kind.form();
        let given = &self.contact;
        let present = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.trim().is_empty());
        let check = |field: Field, name: &str, value: &Option<String>| match field {
            Field::Absent if present(value) => {
                Err(invalid(format!("contact.{name}: not collected by a {} form", self.kind.as_str())))
            }
            Field::Required if !present(value) => Err(missing(&format!("contact.{name}"))),
            _ => Ok(()),
        };
        check(form.email, "email", &given.email)?;
        check(form.phone, "phone", &given.phone)?;
        check(form.message, "message", &given.message)?;
        check(if form.time_slot { Field::Optional } else { Field::Absent }, "time_slot", &given.time_slot)?;
        if form.email_or_phone && !present(&given.email) && !present(&given.phone) {
            return Err(missing("contact.email or contact.phone"));
        }

        let email = given.email.as_deref().filter(|v| !v.trim().is_empty()).map(normalize_email).transpose()?;
        let phone =
            given.phone.as_deref().filter(|v| !v.trim().is_empty()).map(|p| normalize_phone(p, region)).transpose()?;
        let text = |name: &str, value: &Option<String>, max, multi: bool| match value {
            Some(v) if multi => multi_line(&format!("contact.{name}"), v, max),
            Some(v) => single_line(&format!("contact.{name}"), v, max),
            None => Ok(None),
        };
        Ok(Contact {
            email,
            phone,
            name: text("name", &given.name, MAX_NAME_LEN, false)?,
            time_slot: text("time_slot", &given.time_slot, MAX_TIME_SLOT_LEN, false)?,
            message: text("message", &given.message, MAX_MESSAGE_LEN, true)?,
        })
    }

    fn check_consent(&self) -> Result<(), ApiError> {
        let expected = self.kind.consent_purpose();
        if self.consent.purpose != expected {
            return Err(ApiError::new(
                ErrorCode::InvalidConsent,
                format!("consent.purpose must be {expected:?} for a {} lead", self.kind.as_str()),
            ));
        }
        self.consent.validate("consent")?;
        if let Some(marketing) = &self.marketing_consent {
            if marketing.purpose != ConsentPurpose::Marketing {
                return Err(ApiError::new(ErrorCode::InvalidConsent, "marketing_consent.purpose must be marketing"));
            }
            marketing.validate("marketing_consent")?;
        }
        Ok(())
    }
}

/// Bounds every list and string in the context: it is stored with the lead and sent to CRMs.
fn validate_context(context: &VisitorContext) -> Result<(), ApiError> {
    let list = |field: &str, len: usize, max: usize| {
        if len > max {
            return Err(ApiError::new(ErrorCode::FieldTooLong, format!("{field}: at most {max} entries")));
        }
        Ok(())
    };
    list("context.recent_pages", context.recent_pages.len(), MAX_RECENT_PAGES)?;
    // The same bounds the session builds contexts with, so a context the widget made is never refused.
    list("context.products", context.products.len(), crate::visitor::session::MAX_CONTEXT_PRODUCTS)?;
    list("context.answers", context.answers.len(), crate::visitor::session::MAX_CONTEXT_ANSWERS)?;
    check_len("context.page_url", &context.page_url, MAX_URL_LEN)?;
    for page in &context.recent_pages {
        check_len("context.recent_pages[]", page, MAX_URL_LEN)?;
    }
    for (field, touch) in [("context.first_touch", &context.first_touch), ("context.last_touch", &context.last_touch)] {
        if let Some(touch) = touch {
            validate_touch(touch).map_err(at(field))?;
        }
    }
    for (index, viewed) in context.products.iter().enumerate() {
        let field = format!("context.products[{index}]");
        let product = &viewed.product;
        check_len("id", &product.id, MAX_LEAD_PRODUCT_ID_LEN).map_err(at(&field))?;
        check_len("name", &product.name, MAX_LEAD_PRODUCT_NAME_LEN).map_err(at(&field))?;
        for (name, value, max) in [
            ("image", &product.image, MAX_URL_LEN),
            ("url", &product.url, MAX_URL_LEN),
            ("category", &product.category, MAX_LEAD_CATEGORY_LEN),
        ] {
            if let Some(value) = value {
                check_len(name, value, max).map_err(at(&field))?;
            }
        }
        if product.price.is_some_and(|p| p.minor < 0) {
            return Err(invalid(format!("{field}.price: must not be negative")));
        }
    }
    for (index, answer) in context.answers.iter().enumerate() {
        let field = format!("context.answers[{index}]");
        single_line("question", &answer.question, MAX_LEAD_QUESTION_LEN).map_err(at(&field))?;
        multi_line("answer", &answer.answer, MAX_LEAD_ANSWER_LEN).map_err(at(&field))?;
    }
    Ok(())
}

fn validate_touch(touch: &Touch) -> Result<(), ApiError> {
    for (name, value) in [
        ("utm_source", &touch.utm_source),
        ("utm_medium", &touch.utm_medium),
        ("utm_campaign", &touch.utm_campaign),
        ("utm_content", &touch.utm_content),
        ("utm_term", &touch.utm_term),
        ("gclid", &touch.gclid),
        ("yclid", &touch.yclid),
    ] {
        if let Some(value) = value {
            single_line(name, value, MAX_UTM_LEN)?;
        }
    }
    if let Some(referrer) = &touch.referrer {
        check_len("referrer", referrer, MAX_URL_LEN)?;
    }
    check_len("landing_page", &touch.landing_page, MAX_URL_LEN)
}

#[cfg(test)]
pub(crate) mod tests;
