//! Privacy operations on one visitor: who a request is about, what an erasure removes, what it
//! keeps and why, what the `visitor.erased` webhook says, and the shape of an export.
//!
//! A request names a visitor id, an email or a phone ([`SubjectQuery`]). An email or a phone
//! leads to every visitor id that gave it (in a lead or in the chat's contact form); the worker
//! then erases or exports per visitor id. What survives an erasure is decided here, once:
//!
//! - the consent the visitor gave, as a [`ConsentProof`]: the wording, purpose, time and page,
//!   with the contact replaced by a keyed hash ([`contact_hash`]). A shop must be able to show that
//!   a contact it used had agreed to that use (GDPR art. 7(1), 152-FZ art. 9); the hash lets it
//!   answer "did this address agree?" when someone presents the address, without keeping it;
//! - delivery rows the CRM already received ([`delivery_fate`]): their id, target, type and time
//!   say where the data went (so the shop can ask that CRM to erase its copy), the payload is
//!   replaced by [`ErasedPayload`];
//! - the erasure's own log row (when, how much, a hash of the visitor id): proof that it happened.
//!
//! Everything else about the visitor (events, leads, consent changes, conversations and their
//! messages, callback requests, emails, undelivered and failed deliveries) is deleted.

use serde::{Deserialize, Serialize};

use crate::base::crypto::sha256;
use crate::base::error::{ApiError, ErrorCode};
use crate::base::ids::{client_id_from_bytes, validate_client_id};
use crate::base::phone::PhoneRegion;
use crate::chat::protocol::ChatMessage;
use crate::leads::consent::{ConsentRecord, ConsentUpdated};
use crate::leads::contact::{normalize_email, normalize_phone};
use crate::leads::lead::{Lead, LeadKind};
use crate::outbound::delivery::DeliveryState;
use crate::outbound::email::StoredEmail;
use crate::outbound::webhook::EventType;
use crate::visitor::context::VisitorContext;
use crate::visitor::event::StoredEvent;

/// Most visitor ids one email or phone may lead to in one request; more is refused, not cut, so
/// that an erasure never silently leaves someone out.
pub const MAX_VISITORS_PER_SUBJECT: usize = 50;
/// Events per visitor in one export page (`events_offset` pages on).
pub const MAX_EXPORT_EVENTS: u32 = 1000;
/// Messages per conversation in an export; a conversation longer than that is flagged.
pub const MAX_EXPORT_MESSAGES: usize = 5000;

/// `?visitor=`, `?email=` or `?phone=` (the export's query), or the same as the erase's JSON body.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SubjectQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// Who a privacy request is about, validated and normalised.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum Subject {
    Visitor(String),
    /// Normalised as leads store it (`contact::normalize_email`).
    Email(String),
    /// E.164, as leads and callback requests store it.
    Phone(String),
}

impl SubjectQuery {
    /// Exactly one of the three, in the form stored rows use (so a lookup by equality finds them).
    pub fn subject(&self, region: PhoneRegion) -> Result<Subject, ApiError> {
        match (&self.visitor, &self.email, &self.phone) {
            (Some(visitor), None, None) => {
                validate_client_id("visitor", visitor)?;
                Ok(Subject::Visitor(visitor.clone()))
            }
            (None, Some(email), None) => Ok(Subject::Email(normalize_email(email)?)),
            (None, None, Some(phone)) => Ok(Subject::Phone(normalize_phone(phone, region)?)),
            _ => Err(ApiError::new(ErrorCode::MissingField, "name exactly one of visitor, email or phone")),
        }
    }
}

impl Subject {
    /// The contact it names, if it is one.
    pub fn contact(&self) -> Option<&str> {
        match self {
            Subject::Visitor(_) => None,
            Subject::Email(contact) | Subject::Phone(contact) => Some(contact),
        }
    }
}

/// The visitor ids a request is about: the visitor itself, or everyone who gave the contact.
/// Refuses more than [`MAX_VISITORS_PER_SUBJECT`] (an erasure must not leave anyone out).
pub fn visitor_ids(subject: &Subject, mut found: Vec<String>) -> Result<Vec<String>, ApiError> {
    if let Subject::Visitor(visitor) = subject {
        return Ok(vec![visitor.clone()]);
    }
    found.sort();
    found.dedup();
    if found.len() > MAX_VISITORS_PER_SUBJECT {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("this contact was given by {} visitors; erase or export them by visitor id", found.len()),
        ));
    }
    Ok(found)
}

/// A contact as the erasure keeps it: a hash keyed by the site (the same address hashes
/// differently on two sites), `sha256:` + 64 hex digits. Pseudonymous, not anonymous: whoever
/// holds a candidate address can check it, which is exactly what the proof is for.
pub fn contact_hash(site: &str, contact: &str) -> String {
    let digest = sha256(format!("floorwalker.erased-contact\n{site}\n{contact}").as_bytes());
    format!("sha256:{}", client_id_from_bytes(&digest))
}

/// The visitor id in the erasure log, hashed like a contact (the log proves an erasure happened
/// without keeping whom it was about).
pub fn visitor_hash(site: &str, visitor: &str) -> String {
    contact_hash(site, &format!("visitor:{visitor}"))
}

/// What an erasure keeps of a lead: its consent, with the contact hashed.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ConsentProof {
    pub lead: String,
    pub site: String,
    pub kind: LeadKind,
    /// When the lead was left (ms since the epoch).
    pub created_at: u64,
    pub consent: ConsentRecord,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketing_consent: Option<ConsentRecord>,
    /// Later grants and withdrawals (the one-click links), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<ConsentUpdated>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_hash: Option<String>,
    pub erased_at: u64,
}

/// A page URL without its query and fragment: the page proves where consent was given; a query
/// string may carry the visitor's own data (`?email=`, a tracking id).
pub fn page_only(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    url[..end].to_owned()
}

fn record_without_query(record: &ConsentRecord) -> ConsentRecord {
    ConsentRecord { page_url: page_only(&record.page_url), ..record.clone() }
}

impl ConsentProof {
    /// The proof an erasure keeps of `lead` and its later consent `changes`. Nothing of the
    /// contact but its hash, nothing of the context, the name or the message.
    pub fn of(lead: &Lead, changes: &[ConsentUpdated], erased_at: u64) -> ConsentProof {
        let mut changes: Vec<ConsentUpdated> = changes
            .iter()
            .map(|change| ConsentUpdated { record: change.record.as_ref().map(record_without_query), ..change.clone() })
            .collect();
        changes.sort_by_key(|change| change.at);
        ConsentProof {
            lead: lead.id.clone(),
            site: lead.site.clone(),
            kind: lead.kind,
            created_at: lead.created_at,
            consent: record_without_query(&lead.consent),
            marketing_consent: lead.marketing_consent.as_ref().map(record_without_query),
            changes,
            email_hash: lead.contact.email.as_deref().map(|email| contact_hash(&lead.site, email)),
            phone_hash: lead.contact.phone.as_deref().map(|phone| contact_hash(&lead.site, phone)),
            erased_at,
        }
    }

    /// Whether this proof is about `contact` (an email or an E.164 phone).
    pub fn concerns(&self, contact: &str) -> bool {
        let hash = contact_hash(&self.site, contact);
        self.email_hash.as_deref() == Some(hash.as_str()) || self.phone_hash.as_deref() == Some(hash.as_str())
    }
}

/// What happens to one delivery of an event about an erased visitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryFate {
    /// Not sent yet (pending) or never received (failed): deleted, so it is never sent.
    Delete,
    /// The receiver has it: the row stays as the record of where the data went; the payload goes.
    KeepWithoutPayload,
}

pub fn delivery_fate(state: DeliveryState) -> DeliveryFate {
    match state {
        DeliveryState::Delivered => DeliveryFate::KeepWithoutPayload,
        DeliveryState::Pending | DeliveryState::Failed => DeliveryFate::Delete,
    }
}

/// What `outbox_events.data` holds once the event's visitor was erased (its delivered deliveries
/// still point at the row): the type and when, nothing else.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ErasedPayload {
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub erased_at: u64,
}

/// `visitor.erased`: everything the worker held about one visitor on the site was erased. A CRM
/// that stored the visitor's leads or messages erases its own copies: it knows them by
/// `lead_ids`, by `conversation_ids` and by `visitor_id` (which `message.created` carried).
/// No contact: the event must not spread what it announces is gone.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct VisitorErased {
    pub site: String,
    pub visitor_id: String,
    #[serde(default)]
    pub lead_ids: Vec<String>,
    #[serde(default)]
    pub conversation_ids: Vec<String>,
    /// Ms since the epoch; the envelope's `timestamp` is the same instant.
    pub erased_at: u64,
}

/// What was found about one visitor id, before anything is removed.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    pub events: u64,
    pub lead_ids: Vec<String>,
    pub conversation_ids: Vec<String>,
    pub emails: u64,
    pub outbox_events: u64,
}

impl Found {
    /// Whether there is anything to erase (and so anything to announce).
    pub fn is_empty(&self) -> bool {
        self.events == 0 && self.lead_ids.is_empty() && self.conversation_ids.is_empty() && self.emails == 0 && self.outbox_events == 0
    }
}

/// The erasure of one visitor id, as the erase route answers it.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct VisitorErasure {
    pub visitor_id: String,
    pub events: u64,
    pub leads: u64,
    pub conversations: u64,
    pub messages: u64,
    pub emails: u64,
    /// Deliveries removed before anyone received them.
    pub deliveries_deleted: u64,
    /// Deliveries a receiver already had: kept, payload erased.
    pub deliveries_kept: u64,
    /// Consent proofs kept (one per lead).
    pub consents_kept: u64,
    /// The `visitor.erased` event's webhook id; `None` when there was nothing left to erase
    /// (a repeated erasure announces nothing new).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announced: Option<String>,
}

/// The answer of `POST /v1/admin/sites/:site/visitors/erase`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ErasureReport {
    pub site: String,
    pub subject: Subject,
    pub visitors: Vec<VisitorErasure>,
    /// What survives and why ([`KEPT`]), so whoever runs the erasure can tell the person.
    pub kept: Vec<Retained>,
}

/// Something an erasure keeps, and why.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Retained {
    pub what: String,
    pub why: String,
}

/// What survives an erasure and why; docs/privacy.md says the same in prose.
pub const KEPT: [(&str, &str); 3] = [
    (
        "consent proof: wording, purpose, time and page of each consent, the contact as a keyed SHA-256 hash",
        "the shop must be able to demonstrate that a contact it used had agreed to that use (GDPR art. 7(1), 152-FZ art. 9)",
    ),
    (
        "delivery rows a receiver already acknowledged: id, target, event type and times, without the payload",
        "they record which CRM holds a copy, so the shop can ask it to erase that copy too",
    ),
    (
        "the erasure log: when, what was erased (counts), the visitor id as a keyed hash",
        "proof that the request was carried out",
    ),
];

pub fn kept() -> Vec<Retained> {
    KEPT.iter().map(|(what, why)| Retained { what: (*what).to_owned(), why: (*why).to_owned() }).collect()
}

/// One conversation in an export, messages included.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ConversationExport {
    pub id: String,
    pub status: String,
    pub opened_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<VisitorContext>,
    /// The contact left in the chat's callback form, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_contact: Option<String>,
    pub messages: Vec<ChatMessage>,
    /// More than [`MAX_EXPORT_MESSAGES`] messages: the oldest ones are listed.
    #[serde(default)]
    pub messages_truncated: bool,
}

/// A delivery of an event about the visitor: where their data went.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct DeliveryExport {
    pub id: String,
    pub event_id: String,
    pub event_type: EventType,
    pub target: String,
    pub state: DeliveryState,
    pub created_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<u64>,
}

/// Everything held about one visitor id.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
pub struct VisitorExport {
    pub visitor_id: String,
    /// Oldest first, one page ([`MAX_EXPORT_EVENTS`]).
    pub events: Vec<StoredEvent>,
    /// Set when more events follow: ask again with `events_offset` = this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_events_offset: Option<u32>,
    pub leads: Vec<Lead>,
    pub consent_changes: Vec<ConsentUpdated>,
    pub conversations: Vec<ConversationExport>,
    pub emails: Vec<StoredEmail>,
    pub deliveries: Vec<DeliveryExport>,
}

impl VisitorExport {
    /// Whether nothing at all is held about the visitor.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
            && self.leads.is_empty()
            && self.consent_changes.is_empty()
            && self.conversations.is_empty()
            && self.emails.is_empty()
            && self.deliveries.is_empty()
    }
}

/// The answer of `GET /v1/admin/sites/:site/visitors/export`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Export {
    pub site: String,
    pub subject: Subject,
    pub visitors: Vec<VisitorExport>,
    /// Consent proofs kept by earlier erasures that concern the contact asked about.
    pub kept_consents: Vec<ConsentProof>,
}

/// The next page's offset when a page of `limit` came back full.
pub fn next_offset(offset: u32, returned: usize, limit: u32) -> Option<u32> {
    (returned as u64 >= u64::from(limit)).then(|| offset.saturating_add(limit))
}

#[cfg(test)]
#[path = "privacy/tests.rs"]
mod tests;
