//! Messages left after hours (the offline form's `offline_message` lead) in the operators' inbox,
//! and the operator's answer to one by email.
//!
//! The message is a lead like any other (stored, forwarded as `lead.created`); what the inbox adds
//! is its answers and "done". An answer goes to the address the visitor gave in that message and
//! nowhere else (the request carries only the text), and it reaches the CRM as a `message.created` (`outbound::chat_events::offline_reply_event`)
//! in the thread the lead opened: `conversation_id` is the lead's id, the visitor's message is
//! seq 1 and the answers follow (2, 3, …), so a CRM files them like chat messages.

use serde::{Deserialize, Serialize};

use crate::base::error::{ApiError, ErrorCode};
use crate::base::locale::Locale;
use crate::chat::protocol::{Author, ChatMessage, MAX_MESSAGE_CHARS};
use crate::leads::contact::multi_line;
use crate::leads::lead::{Contact, Lead, LeadKind};

/// Longest answer, in characters: a chat message's bound.
pub const MAX_REPLY_CHARS: usize = MAX_MESSAGE_CHARS;
/// Largest reply request body the worker reads, in bytes (the text at four bytes a character, and room).
pub const MAX_REPLY_BYTES: usize = MAX_REPLY_CHARS * 4 + 1024;
/// Messages the inbox lists at once (oldest waiting first).
pub const MAX_LISTED: u32 = 200;

/// One answer an operator sent.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct OfflineReply {
    /// 2, 3, … (the visitor's message is 1).
    pub seq: u64,
    pub author: String,
    pub text: String,
    /// Milliseconds since the Unix epoch.
    pub at: u64,
}

impl OfflineReply {
    /// The answer a `message.created` of [`reply_event`] carries; `None` for anyone but an operator.
    pub fn from_message(message: &ChatMessage) -> Option<OfflineReply> {
        match &message.author {
            Author::Operator { name } => Some(OfflineReply { seq: message.seq, author: name.clone(), text: message.text.clone(), at: message.at }),
            Author::Visitor | Author::System => None,
        }
    }
}

/// A message left after hours as the inbox shows it (`GET /v1/console/offline`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct OfflineMessage {
    pub lead_id: String,
    /// Milliseconds since the Unix epoch.
    pub received_at: u64,
    /// Who to show: the name, email or phone the visitor gave.
    pub visitor_label: String,
    pub contact: Contact,
    pub locale: Locale,
    pub page_url: String,
    /// Whether an answer by email is possible (the visitor left an address).
    pub can_email: bool,
    #[serde(default)]
    pub replies: Vec<OfflineReply>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_by: Option<String>,
}

impl OfflineMessage {
    /// The inbox's view of `lead`; `None` for any other kind of lead.
    pub fn of(lead: &Lead, replies: Vec<OfflineReply>, done_at: Option<u64>, done_by: Option<String>) -> Option<OfflineMessage> {
        (lead.kind == LeadKind::OfflineMessage).then(|| OfflineMessage {
            lead_id: lead.id.clone(),
            received_at: lead.created_at,
            visitor_label: contact_label(&lead.contact).unwrap_or_else(|| lead.visitor.chars().take(12).collect()),
            contact: lead.contact.clone(),
            locale: lead.locale,
            page_url: lead.page_url.clone(),
            can_email: lead.contact.email.is_some(),
            replies,
            done_at,
            done_by,
        })
    }

    /// The visitor's own words.
    pub fn text(&self) -> &str {
        self.contact.message.as_deref().unwrap_or_default()
    }
}

/// How a visitor who left a contact is named to operators: their name, else their email, else
/// their phone; `None` when they left none of these.
pub fn contact_label(contact: &Contact) -> Option<String> {
    [&contact.name, &contact.email, &contact.phone].into_iter().flatten().find(|v| !v.trim().is_empty()).cloned()
}

/// How an anonymous visitor's name starts, as stored and sent to the CRM ("Visitor 82ea7f ·
/// google"); the console says it in the operator's language ([`visitor_label_in`]).
pub const ANONYMOUS_VISITOR: &str = "Visitor ";

/// How operators see a visitor in the list before they leave a contact: a verified id, else a
/// short id and where they came from (the first touch's `utm_source`, else the referrer's host).
pub fn visitor_label(visitor_id: &str, user_id: Option<&str>, context: Option<&crate::visitor::context::VisitorContext>) -> String {
    if let Some(user) = user_id {
        return user.chars().take(60).collect();
    }
    let short: String = visitor_id.chars().take(6).collect();
    let source = context.and_then(|c| c.first_touch.as_ref()).and_then(|t| {
        t.utm_source.clone().or_else(|| t.referrer.as_deref().and_then(|r| r.split("//").nth(1)).and_then(|r| r.split('/').next()).map(str::to_owned))
    });
    match source {
        Some(source) => format!("{ANONYMOUS_VISITOR}{short} · {}", source.chars().take(40).collect::<String>()),
        None => format!("{ANONYMOUS_VISITOR}{short}"),
    }
}

/// A visitor's label in the operator's language: the anonymous prefix translated, anything a
/// visitor gave (a name, an email, a verified id) as it is.
pub fn visitor_label_in(label: &str, locale: crate::base::locale::Locale) -> std::borrow::Cow<'_, str> {
    match (locale, label.strip_prefix(ANONYMOUS_VISITOR)) {
        (crate::base::locale::Locale::Ru, Some(rest)) => format!("Посетитель {rest}").into(),
        _ => label.into(),
    }
}

#[cfg(test)]
mod label_tests {
    use super::*;
    use crate::base::locale::Locale;

    #[test]
    fn an_anonymous_visitor_is_named_in_the_operators_language_and_a_contact_as_given() {
        let label = visitor_label("82ea7f01", None, None);
        assert_eq!(label, "Visitor 82ea7f");
        assert_eq!(visitor_label_in(&label, Locale::Ru), "Посетитель 82ea7f");
        assert_eq!(visitor_label_in(&label, Locale::En), "Visitor 82ea7f");
        assert_eq!(visitor_label_in("Visitorka Anna", Locale::Ru), "Visitorka Anna", "only the prefix with its space");
        assert_eq!(visitor_label_in("anna@example.com", Locale::Ru), "anna@example.com");
        assert_eq!(visitor_label("82ea7f01", Some("user-42"), None), "user-42");
    }
}

/// `POST /v1/console/offline/:lead/reply`. Only the text: the address is the message's own.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    pub text: String,
}

impl ReplyRequest {
    /// The text as it will be sent: line breaks unified, trimmed, within [`MAX_REPLY_CHARS`].
    pub fn text(&self) -> Result<String, ApiError> {
        match multi_line("text", &self.text, MAX_REPLY_CHARS) {
            Ok(Some(text)) => Ok(text),
            Ok(None) => Err(ApiError::new(ErrorCode::EmptyMessage, "text: write the answer first")),
            Err(e) if e.code == ErrorCode::FieldTooLong => {
                Err(ApiError::new(ErrorCode::MessageTooLong, format!("text: an answer is at most {MAX_REPLY_CHARS} characters")))
            }
            Err(e) => Err(e),
        }
    }
}

/// The address an answer to `lead` goes to: the email the visitor gave in it. A message with a
/// phone only is answered by calling (the operator marks it done).
pub fn reply_address(lead: &Lead) -> Result<String, ApiError> {
    if lead.kind != LeadKind::OfflineMessage {
        return Err(ApiError::new(ErrorCode::NotFound, "there is no such message on your site"));
    }
    lead.contact
        .email
        .clone()
        .ok_or_else(|| ApiError::new(ErrorCode::MissingField, "this visitor left no email: call them back, then mark the message done"))
}

/// The seq of the answer after `replies_so_far` answers.
pub fn next_seq(replies_so_far: &[OfflineReply]) -> u64 {
    replies_so_far.iter().map(|r| r.seq).max().unwrap_or(1) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(kind: LeadKind, contact: Contact) -> Lead {
        let mut lead = crate::leads::lead::tests::lead(kind);
        lead.contact = contact;
        lead
    }

    fn contact(email: Option<&str>, phone: Option<&str>) -> Contact {
        Contact { email: email.map(Into::into), phone: phone.map(Into::into), message: Some("Есть ли <b>размер</b> 86?".into()), ..Contact::default() }
    }

    #[test]
    fn the_answer_goes_to_the_address_the_visitor_gave_or_nowhere() {
        let with_email = lead(LeadKind::OfflineMessage, contact(Some("olga@example.com"), Some("+79161234567")));
        assert_eq!(reply_address(&with_email).unwrap(), "olga@example.com");
        let phone_only = lead(LeadKind::OfflineMessage, contact(None, Some("+79161234567")));
        assert_eq!(reply_address(&phone_only).unwrap_err().code, ErrorCode::MissingField);
        let callback = lead(LeadKind::Callback, contact(None, Some("+79161234567")));
        assert_eq!(reply_address(&callback).unwrap_err().code, ErrorCode::NotFound, "only offline messages are answered here");
        // The request has no field for an address: one that names it is refused whole.
        assert!(serde_json::from_str::<ReplyRequest>(r#"{"text":"hi","to":"evil@example.com"}"#).is_err());
    }

    #[test]
    fn answers_are_checked_text() {
        let text = |t: &str| ReplyRequest { text: t.into() }.text();
        assert_eq!(text("  Да, есть.\r\nЖдём!  ").unwrap(), "Да, есть.\nЖдём!");
        assert_eq!(text(" \n ").unwrap_err().code, ErrorCode::EmptyMessage);
        assert_eq!(text(&"я".repeat(MAX_REPLY_CHARS + 1)).unwrap_err().code, ErrorCode::MessageTooLong);
        assert!(text(&"я".repeat(MAX_REPLY_CHARS)).is_ok());
        assert_eq!(text("a\u{202e}b").unwrap_err().code, ErrorCode::InvalidText);
    }

    #[test]
    fn answers_follow_the_visitors_message_in_seq() {
        let first = OfflineReply { seq: next_seq(&[]), author: "Anna".into(), text: "Да".into(), at: 1 };
        assert_eq!(first.seq, 2, "the visitor's message is 1");
        assert_eq!(next_seq(std::slice::from_ref(&first)), 3);
        let message = ChatMessage { seq: 2, id: "lead_1-2".into(), author: Author::Operator { name: "Anna".into() }, text: "Да".into(), at: 1, client_msg_id: None, action: None, attachment: None };
        assert_eq!(OfflineReply::from_message(&message), Some(first));
        assert_eq!(OfflineReply::from_message(&ChatMessage { author: Author::Visitor, ..message }), None);
    }

    #[test]
    fn the_inbox_names_the_visitor_by_the_contact_they_gave() {
        let message = OfflineMessage::of(&lead(LeadKind::OfflineMessage, contact(None, Some("+79161234567"))), vec![], None, None).unwrap();
        assert_eq!(message.visitor_label, "+79161234567");
        assert!(!message.can_email);
        assert_eq!(message.text(), "Есть ли <b>размер</b> 86?");
        let mut named = contact(Some("olga@example.com"), None);
        named.name = Some("Ольга".into());
        assert_eq!(contact_label(&named).as_deref(), Some("Ольга"));
        assert!(OfflineMessage::of(&lead(LeadKind::Callback, contact(None, Some("+79161234567"))), vec![], None, None).is_none());
    }
}
