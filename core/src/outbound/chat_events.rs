//! What the live chat hands to the rest of the world: the data of the `message.created`,
//! `conversation.waiting`, `conversation.closed` and `conversation.rated` webhook events, and the visitor's request for a transcript by email.
//!
//! The chat adapter records each of these in an outbox as it happens (see the edge worker's
//! `chat::outbox`), and the delivery pipeline signs and sends them like every other event.

use serde::{Deserialize, Serialize};

use crate::access::throttle::{Counter, Limit};
use crate::base::error::{ApiError, ErrorCode};
use crate::base::locale::Locale;
use crate::chat::conversation::{ConversationOwner, Transcript};
pub use crate::chat::conversation::{ConversationRated, ConversationWaiting};
use crate::chat::offline::OfflineReply;
use crate::chat::protocol::{message_id, Author, ChatMessage};
use crate::leads::lead::Lead;
use crate::outbound::delivery::{subscribed, Target};
use crate::outbound::endpoint::{Endpoint, Preset};
use crate::outbound::webhook::{EventType, WebhookEvent};
use crate::visitor::context::VisitorContext;

/// `message.created`: one stored chat message, from either side (system notices included, so a
/// CRM timeline shows "we offered a callback").
///
/// On the wire (`data` of the envelope): `site`, `conversation_id`, `visitor_id`, `user_id` (when
/// verified), `lead_ids` (the visitor's leads on the site, when there are any), and `message`:
/// `seq` (1, 2, 3… within the conversation), `id` (`<conversation>-<seq>`), `author`
/// (`{"kind":"visitor"}`, `{"kind":"operator","name":"Anna"}` or `{"kind":"system"}`), `text`
/// (plain text, never HTML), `at` (ms since the epoch; the envelope's `timestamp` is the same
/// instant in RFC 3339).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct MessageCreated {
    pub site: String,
    pub conversation_id: String,
    pub visitor_id: String,
    /// The site's own id for the person, when identity verification vouched for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Leads the same visitor left on the site (a callback form, the comparison email), so a CRM
    /// can attach the message to the record it already has. Filled in when the event leaves the
    /// conversation for the outbox.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lead_ids: Vec<String>,
    pub message: ChatMessage,
}

impl MessageCreated {
    pub fn new(owner: &ConversationOwner, conversation_id: &str, message: ChatMessage) -> MessageCreated {
        MessageCreated {
            site: owner.site.clone(),
            conversation_id: conversation_id.to_owned(),
            visitor_id: owner.visitor_id.clone(),
            user_id: owner.user_id.clone(),
            lead_ids: Vec::new(),
            message,
        }
    }
}

/// The `message.created` an operator's answer to a message left after hours makes
/// (`chat::offline`): in the thread the lead opened, `conversation_id` is the lead's id, the
/// visitor's message is seq 1 and the answers follow, `lead_ids` names the lead.
pub fn offline_reply_event(lead: &Lead, reply: &OfflineReply) -> WebhookEvent {
    let owner = ConversationOwner { site: lead.site.clone(), visitor_id: lead.visitor.clone(), user_id: None };
    let message = ChatMessage {
        seq: reply.seq,
        id: message_id(&lead.id, reply.seq),
        author: Author::Operator { name: reply.author.clone() },
        text: reply.text.clone(),
        at: reply.at,
        client_msg_id: None,
        action: None,
        attachment: None,
    };
    let mut created = MessageCreated::new(&owner, &lead.id, message);
    created.lead_ids = vec![lead.id.clone()];
    WebhookEvent::MessageCreated(created)
}

/// `conversation.closed`: the full transcript (every message in seq order, with the owner: site,
/// visitor id, user id) and what the visitor had shown before writing (`context`: products viewed,
/// pages, attribution, answers).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ConversationClosed {
    pub site: String,
    pub transcript: Transcript,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<VisitorContext>,
    /// As in [`MessageCreated::lead_ids`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lead_ids: Vec<String>,
}

/// A visitor asked for the conversation by email. Not a webhook: it rides the outbox as the
/// email-only `transcript.requested` event, sent to `email` with the transcript as it stood when
/// asked.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TranscriptRequested {
    pub site: String,
    /// Normalised by `contact::normalize_email`.
    pub email: String,
    pub requested_at: u64,
    pub transcript: Transcript,
    /// The language of the conversation (the email is written in it).
    #[serde(default)]
    pub locale: Locale,
}

/// A repeat of the same transcript to the same address is refused for this long, unless new
/// messages arrived since: one email per reason to send it, not a button that mails on every click
/// (a visitor double-clicking, or someone using the form to flood an inbox).
pub const TRANSCRIPT_REPEAT_WINDOW_MS: u64 = 10 * 60 * 1000;
/// Addresses remembered per conversation (the oldest are forgotten first).
const MAX_TRANSCRIPT_LOG: usize = 20;

/// One transcript email sent: to whom, when, and how far the conversation went then.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TranscriptSent {
    /// As normalised by `contact::normalize_email`.
    pub email: String,
    pub at: u64,
    /// The last message seq the email contained.
    pub last_seq: u64,
}

/// The transcript emails a conversation has sent recently, kept in the conversation's storage.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct TranscriptLog {
    #[serde(default)]
    pub sent: Vec<TranscriptSent>,
    /// The first address the transcript was sent to; never forgotten, so the form cannot mail the
    /// conversation (whatever a script wrote in it) to addresses of someone's choosing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_to: Option<String>,
}

impl TranscriptLog {
    /// Whether the conversation as it stands (`last_seq`) may be emailed to `email` at `now`:
    /// refused with [`ErrorCode::TranscriptAlreadySent`] (429) when the same address got the same
    /// messages less than [`TRANSCRIPT_REPEAT_WINDOW_MS`] ago. Addresses compare without case: one
    /// mailbox, however it is typed.
    ///
    /// Any address but the first one ever sent to is refused with
    /// [`ErrorCode::TranscriptAddressLocked`] (409).
    pub fn check(&self, email: &str, last_seq: u64, now: u64) -> Result<(), ApiError> {
        if self.locked_to.as_deref().is_some_and(|first| !first.eq_ignore_ascii_case(email)) {
            return Err(ApiError::new(
                ErrorCode::TranscriptAddressLocked,
                "this conversation's transcript goes only to the address it was first sent to",
            ));
        }
        let repeat = self.sent.iter().rev().find(|sent| {
            sent.email.eq_ignore_ascii_case(email)
                && sent.last_seq >= last_seq
                && now.saturating_sub(sent.at) < TRANSCRIPT_REPEAT_WINDOW_MS
        });
        match repeat {
            None => Ok(()),
            Some(sent) => {
                let wait_minutes = (sent.at + TRANSCRIPT_REPEAT_WINDOW_MS).saturating_sub(now).div_ceil(60_000).max(1);
                Err(ApiError::new(
                    ErrorCode::TranscriptAlreadySent,
                    format!(
                        "this conversation was already emailed to this address and nothing new was said since; \
                         ask again in {wait_minutes} min or after new messages"
                    ),
                ))
            }
        }
    }

    /// Records a sent transcript, forgetting what is older than the window and, past
    /// [`MAX_TRANSCRIPT_LOG`] addresses, the oldest.
    pub fn record(&mut self, email: &str, last_seq: u64, now: u64) {
        self.locked_to.get_or_insert_with(|| email.to_owned());
        self.sent.retain(|sent| now.saturating_sub(sent.at) < TRANSCRIPT_REPEAT_WINDOW_MS && !sent.email.eq_ignore_ascii_case(email));
        self.sent.push(TranscriptSent { email: email.to_owned(), at: now, last_seq });
        let excess = self.sent.len().saturating_sub(MAX_TRANSCRIPT_LOG);
        self.sent.drain(..excess);
    }
}

/// How many visitors left waiting the team is alerted of per site an hour, unless the worker var
/// `WAITING_ALERTS_PER_HOUR` says otherwise.
pub const WAITING_ALERTS_PER_HOUR: u32 = 30;

/// The cap on the team's alerts of visitors left waiting (its Telegram chat, its alert email):
/// `per_hour` a site. A flood of chats while nobody is online, scripted or not, must not become a
/// flood on the team's phones. Counted once per waiting conversation, not per channel.
pub fn waiting_alert_counter(site: &str, per_hour: u32) -> Counter {
    Counter::new("waiting-alert", &[site], Limit::new(per_hour, 3600))
}

/// Whether an endpoint alerts people (a chat the team reads) rather than keeping records (a CRM,
/// the site's own receiver). People are spared floods; records get every event.
pub fn alerts_people(endpoint: &Endpoint) -> bool {
    matches!(endpoint.preset, Preset::Telegram { .. })
}

/// Where a `conversation.waiting` goes: every subscribed endpoint that keeps records; the ones
/// that alert people only while `alert_team` (the site is under [`waiting_alert_counter`]); and
/// the team's alert email when `mail_team` (an address is set) and `alert_team`.
pub fn waiting_targets(endpoints: &[Endpoint], mail_team: bool, alert_team: bool) -> Vec<Target> {
    let mut targets: Vec<Target> = subscribed(endpoints, EventType::ConversationWaiting)
        .filter(|endpoint| alert_team || !alerts_people(endpoint))
        .map(|endpoint| Target::Endpoint(endpoint.id.clone()))
        .collect();
    if mail_team && alert_team {
        targets.push(Target::Email);
    }
    targets
}

/// How long a conversation trusts what it last learned about its site's `message.created`
/// subscribers. A site with none gets no outbox row, D1 batch or flush alarm per message; an
/// endpoint added (or subscribed) meanwhile gets messages from at most this long after, plus the
/// one-second flush (see [`MessageSubscribers::records`]).
pub const MESSAGE_SUBSCRIBERS_TTL_MS: u64 = 60_000;

/// What a conversation last learned, from its own outbox flush (which reads the site's endpoints
/// anyway), about whether any endpoint takes `message.created`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageSubscribers {
    pub learned_at: u64,
    pub any: bool,
}

impl MessageSubscribers {
    /// Whether a stored message needs its `message.created` row. Unknown or stale knowledge
    /// writes it (the flush then learns afresh). Without subscribers only an operator's first
    /// answer is kept: its flush notes the conversation's first response time in D1.
    pub fn records(known: Option<MessageSubscribers>, now: u64, author: &Author, first_operator_answer: bool) -> bool {
        let trusted = known.filter(|k| now.saturating_sub(k.learned_at) < MESSAGE_SUBSCRIBERS_TTL_MS);
        match trusted {
            Some(MessageSubscribers { any: false, .. }) => matches!(author, Author::Operator { .. }) && first_operator_answer,
            _ => true,
        }
    }

    /// What a site's endpoints say (`endpoints` as the flush reads them: the enabled ones).
    pub fn from_endpoints(endpoints: &[Endpoint], now: u64) -> MessageSubscribers {
        MessageSubscribers { learned_at: now, any: subscribed(endpoints, EventType::MessageCreated).next().is_some() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::webhook::{attach_lead_ids, EventType};

    fn message(seq: u64) -> ChatMessage {
        ChatMessage {
            seq,
            id: message_id("conv-0001", seq),
            author: Author::Visitor,
            text: "Is it in stock?".into(),
            at: 1_700_000_000_000 + seq,
            client_msg_id: Some("m-000001".into()),
            action: None,
            attachment: None,
        }
    }

    fn owner() -> ConversationOwner {
        ConversationOwner { site: "demo".into(), visitor_id: "visitor-0001".into(), user_id: None }
    }

    #[test]
    fn message_rows_are_skipped_only_while_the_site_is_known_to_have_no_subscribers() {
        let operator = Author::Operator { name: "Anna".into() };
        let none = Some(MessageSubscribers { learned_at: 1_000, any: false });
        let some = Some(MessageSubscribers { learned_at: 1_000, any: true });
        // Unknown: written, so the flush learns.
        assert!(MessageSubscribers::records(None, 1_000, &Author::Visitor, false));
        assert!(MessageSubscribers::records(some, 1_000, &Author::Visitor, false));
        assert!(!MessageSubscribers::records(none, 1_000, &Author::Visitor, false));
        assert!(!MessageSubscribers::records(none, 1_000, &Author::System, false));
        assert!(!MessageSubscribers::records(none, 1_000, &operator, false));
        // The first answer is the first response time.
        assert!(MessageSubscribers::records(none, 1_000, &operator, true));
        // A new endpoint is heard of within the TTL.
        assert!(!MessageSubscribers::records(none, 1_000 + MESSAGE_SUBSCRIBERS_TTL_MS - 1, &Author::Visitor, false));
        assert!(MessageSubscribers::records(none, 1_000 + MESSAGE_SUBSCRIBERS_TTL_MS, &Author::Visitor, false));
    }

    #[test]
    fn chat_events_are_webhook_events_with_stable_ids() {
        let created = WebhookEvent::MessageCreated(MessageCreated::new(&owner(), "conv-0001", message(1)));
        assert_eq!(created.event_type(), EventType::MessageCreated);
        assert_eq!(created.occurred_at(), 1_700_000_000_001);
        assert_eq!(created.message_id(), WebhookEvent::MessageCreated(MessageCreated::new(&owner(), "conv-0001", message(1))).message_id());
        assert_ne!(created.message_id(), WebhookEvent::MessageCreated(MessageCreated::new(&owner(), "conv-0001", message(2))).message_id());
        let json = serde_json::to_value(created.envelope()).unwrap();
        assert_eq!(json["type"], "message.created");
        assert_eq!(json["data"]["conversation_id"], "conv-0001");
        assert_eq!(json["data"]["message"]["id"], "conv-0001-1");
        assert_eq!(json["timestamp"], "2023-11-14T22:13:20.001Z");

        let transcript = Transcript {
            conversation_id: "conv-0001".into(),
            owner: owner(),
            visitor_label: "Visitor".into(),
            opened_at: 1_700_000_000_000,
            closed_at: 1_700_000_060_000,
            messages: vec![message(1)],
        };
        let closed =
            WebhookEvent::ConversationClosed(ConversationClosed { site: "demo".into(), transcript, context: None, lead_ids: vec![] });
        assert_eq!(closed.event_type(), EventType::ConversationClosed);
        assert_eq!(closed.occurred_at(), 1_700_000_060_000);
        let back: WebhookEvent = serde_json::from_value(serde_json::to_value(&closed).unwrap()).unwrap();
        assert_eq!(back, closed);
    }
    #[test]
    fn message_created_carries_what_a_crm_needs() {
        let owner = ConversationOwner { site: "demo".into(), visitor_id: "visitor-0001".into(), user_id: Some("user-42".into()) };
        let mut operator = message(2);
        operator.author = Author::Operator { name: "Anna".into() };
        operator.client_msg_id = None;
        let mut event = WebhookEvent::MessageCreated(MessageCreated::new(&owner, "conv-0001", operator));
        let id = event.message_id();
        attach_lead_ids(&mut event, &["lead_1".to_owned()]);
        assert_eq!(event.message_id(), id, "lead ids do not change the webhook id");
        let json = serde_json::to_value(event.envelope()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "type": "message.created",
                "timestamp": "2023-11-14T22:13:20.002Z",
                "data": {
                    "site": "demo",
                    "conversation_id": "conv-0001",
                    "visitor_id": "visitor-0001",
                    "user_id": "user-42",
                    "lead_ids": ["lead_1"],
                    "message": {
                        "seq": 2,
                        "id": "conv-0001-2",
                        "author": {"kind": "operator", "name": "Anna"},
                        "text": "Is it in stock?",
                        "at": 1_700_000_000_002u64
                    }
                }
            })
        );
    }

    #[test]
    fn conversation_closed_carries_the_transcript_in_order_and_the_context() {
        let transcript = Transcript {
            conversation_id: "conv-0001".into(),
            owner: owner(),
            visitor_label: "Visitor".into(),
            opened_at: 1_700_000_000_000,
            closed_at: 1_700_000_060_000,
            messages: vec![message(1), message(2), message(3)],
        };
        let context: VisitorContext = serde_json::from_value(serde_json::json!({
            "pages_viewed": 3, "active_seconds": 40, "returning": false, "locale": "en", "page_url": "https://shop.example/p/1"
        }))
        .unwrap();
        let mut event = WebhookEvent::ConversationClosed(ConversationClosed {
            site: "demo".into(),
            transcript,
            context: Some(context),
            lead_ids: vec![],
        });
        attach_lead_ids(&mut event, &["lead_1".to_owned(), "lead_2".to_owned()]);
        let json = serde_json::to_value(event.envelope()).unwrap();
        let data = &json["data"];
        let seqs: Vec<u64> = data["transcript"]["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_u64().unwrap()).collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(data["transcript"]["owner"]["visitor_id"], "visitor-0001");
        assert_eq!(data["transcript"]["opened_at"], 1_700_000_000_000u64);
        assert_eq!(data["context"]["pages_viewed"], 3);
        assert_eq!(data["lead_ids"], serde_json::json!(["lead_1", "lead_2"]));
        assert_eq!(json["timestamp"], "2023-11-14T22:14:20.000Z");
    }

    #[test]
    fn transcript_requests_are_email_only_events_with_stable_ids() {
        let transcript = Transcript {
            conversation_id: "conv-0001".into(),
            owner: owner(),
            visitor_label: "Visitor".into(),
            opened_at: 1_700_000_000_000,
            closed_at: 1_700_000_000_001,
            messages: vec![message(1)],
        };
        let request = |email: &str, at: u64| {
            WebhookEvent::TranscriptRequested(TranscriptRequested {
                site: "demo".into(),
                email: email.into(),
                requested_at: at,
                transcript: transcript.clone(),
                locale: Locale::En,
            })
        };
        let event = request("anna@example.com", 5);
        assert_eq!(event.event_type(), EventType::TranscriptRequested);
        assert!(!event.event_type().is_webhook());
        assert!(!EventType::ALL.contains(&EventType::TranscriptRequested));
        assert_eq!(event.occurred_at(), 5);
        assert_eq!(event.message_id(), request("anna@example.com", 5).message_id());
        assert_ne!(event.message_id(), request("anna@example.com", 6).message_id(), "asking again is another email");
        assert_ne!(event.message_id(), request("boris@example.com", 5).message_id());
        let back: WebhookEvent = serde_json::from_str(&serde_json::to_string(&event).unwrap()).unwrap();
        assert_eq!(back, event);
        // Written before `locale` existed: the default language.
        let mut old = serde_json::to_value(&event).unwrap();
        old["data"].as_object_mut().unwrap().remove("locale");
        assert!(matches!(serde_json::from_value(old).unwrap(), WebhookEvent::TranscriptRequested(r) if r.locale == Locale::Ru));
    }

    /// The Conversation object's outbox held envelopes (`type`, `timestamp`, `data`) before the
    /// delivery pipeline was wired; such rows still decode as events.
    #[test]
    fn events_decode_from_their_envelope() {
        let event = WebhookEvent::MessageCreated(MessageCreated::new(&owner(), "conv-0001", message(1)));
        let envelope = serde_json::to_string(&event.envelope()).unwrap();
        assert_eq!(serde_json::from_str::<WebhookEvent>(&envelope).unwrap(), event);
    }

    #[test]
    fn a_transcript_repeat_to_the_same_address_waits_for_the_window_or_new_messages() {
        let t = 1_790_000_000_000;
        let mut log = TranscriptLog::default();
        assert_eq!(log.check("anna@example.ru", 2, t), Ok(()), "the first request");
        log.record("anna@example.ru", 2, t);
        let refused = log.check("Anna@Example.ru", 2, t + 60_000).expect_err("the same mailbox, nothing new");
        assert_eq!(refused.code, ErrorCode::TranscriptAlreadySent);
        assert_eq!(refused.http_status(), 429, "a 4xx the widget can explain, never a 5xx");
        assert!(refused.message.contains("9 min"), "{}", refused.message);
        let locked = log.check("boris@example.ru", 2, t + 60_000).expect_err("another address");
        assert_eq!((locked.code, locked.http_status()), (ErrorCode::TranscriptAddressLocked, 409));
        assert_eq!(log.check("anna@example.ru", 3, t + 60_000), Ok(()), "a new message since");
        assert!(log.check("anna@example.ru", 2, t + TRANSCRIPT_REPEAT_WINDOW_MS - 1).is_err());
        assert_eq!(log.check("anna@example.ru", 2, t + TRANSCRIPT_REPEAT_WINDOW_MS), Ok(()), "the window has passed");
        // A new send restarts the window for that address and keeps one entry per address.
        log.record("anna@example.ru", 3, t + 120_000);
        assert_eq!(log.sent.len(), 1);
        assert!(log.check("anna@example.ru", 3, t + 130_000).is_err());
        // Old entries are forgotten; the log stays small.
        for i in 0..30u64 {
            log.record(&format!("v{i}@example.ru"), 3, t + 200_000 + i);
        }
        assert_eq!(log.sent.len(), MAX_TRANSCRIPT_LOG);
        log.record("late@example.ru", 3, t + 200_000 + TRANSCRIPT_REPEAT_WINDOW_MS + 100);
        assert_eq!(log.sent.len(), 1);
        let json = serde_json::to_string(&log).unwrap();
        assert_eq!(serde_json::from_str::<TranscriptLog>(&json).unwrap(), log);
    }

    #[test]
    fn a_transcript_goes_to_the_first_address_only_however_long_ago() {
        let t = 1_790_000_000_000;
        let mut log = TranscriptLog::default();
        log.record("anna@example.ru", 2, t);
        let later = t + 100 * TRANSCRIPT_REPEAT_WINDOW_MS;
        for n in 0..25 {
            let refused = log.check(&format!("target{n}@example.com"), 9, later).expect_err("another address");
            assert_eq!(refused.code, ErrorCode::TranscriptAddressLocked);
        }
        assert_eq!(log.check("ANNA@example.ru", 9, later), Ok(()), "the first address, as typed any way");
        log.record("anna@example.ru", 9, later);
        assert_eq!(log.locked_to.as_deref(), Some("anna@example.ru"));
        // Logs stored before the lock existed load unlocked; the next send locks them.
        let old: TranscriptLog = serde_json::from_str(r#"{"sent":[]}"#).unwrap();
        assert_eq!(old.locked_to, None);
    }

    #[test]
    fn an_answer_to_a_message_left_after_hours_is_a_message_in_the_thread_the_lead_opened() {
        let mut lead = crate::leads::lead::tests::lead(crate::leads::lead::LeadKind::OfflineMessage);
        lead.contact.email = Some("olga@example.com".into());
        let first = OfflineReply { seq: 2, author: "Anna".into(), text: "Да".into(), at: 1_700_000_100_000 };
        let event = offline_reply_event(&lead, &first);
        assert_eq!(event.event_type(), EventType::MessageCreated);
        let json = serde_json::to_value(event.envelope()).unwrap();
        assert_eq!(json["data"]["conversation_id"], lead.id.as_str());
        assert_eq!(json["data"]["visitor_id"], lead.visitor.as_str());
        assert_eq!(json["data"]["message"]["id"], format!("{}-2", lead.id));
        assert_eq!(json["data"]["message"]["author"], serde_json::json!({"kind": "operator", "name": "Anna"}));
        assert_eq!(json["data"]["lead_ids"], serde_json::json!([lead.id]));
        assert_ne!(event.message_id(), offline_reply_event(&lead, &OfflineReply { seq: 3, ..first }).message_id());
    }

    #[test]
    fn over_the_cap_the_team_hears_nothing_more_while_records_get_every_wait() {
        let endpoint = |id: &str, preset: Preset| Endpoint {
            id: id.into(),
            url: "https://example.com/".into(),
            secrets: vec!["whsec_x".into()],
            events: None,
            preset,
            enabled: true,
        };
        let telegram = Preset::Telegram { chat_id: "-1".into(), bot_token_secret: "CRM_TG".into() };
        let endpoints = [
            endpoint("crm", Preset::Generic),
            endpoint("tg", telegram),
            endpoint("b24", Preset::Bitrix24),
        ];
        let ids = |targets: Vec<Target>| targets.iter().map(Target::key).collect::<Vec<_>>();
        assert_eq!(ids(waiting_targets(&endpoints, true, true)), ["endpoint:crm", "endpoint:tg", "email"]);
        assert_eq!(ids(waiting_targets(&endpoints, false, true)), ["endpoint:crm", "endpoint:tg"]);
        assert_eq!(ids(waiting_targets(&endpoints, true, false)), ["endpoint:crm"], "capped: records only");
        assert!(waiting_targets(&[], false, true).is_empty());
        assert_eq!(waiting_alert_counter("demo", 2).limit, Limit::new(2, 3600));
        assert_ne!(waiting_alert_counter("demo", 30).key, waiting_alert_counter("other", 30).key, "per site");
    }
}
