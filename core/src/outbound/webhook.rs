//! Webhooks as Standard Webhooks (<https://www.standardwebhooks.com/>) define them: the event
//! envelope, `webhook-id`/`webhook-timestamp`/`webhook-signature` headers, `whsec_` secrets with
//! rotation, and verification. Plus the delivery policy: how an attempt's result is judged, when the
//! next attempt happens, and what is recorded, so that nothing is lost and nothing is retried forever.

use serde::{Deserialize, Serialize};

use crate::base::crypto::{base64_decode, base64_encode, constant_time_eq, hmac_sha256, sha256};
use crate::base::error::{ApiError, ErrorCode};
use crate::base::ids::client_id_from_bytes;
use crate::leads::consent::ConsentUpdated;
use crate::leads::lead::{Lead, LeadKind};
use crate::outbound::chat_events::{ConversationClosed, ConversationRated, ConversationWaiting, MessageCreated, TranscriptRequested};
use crate::outbound::privacy::VisitorErased;

/// What a receiver can subscribe to. The wire names are Standard Webhooks style `noun.verb`.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    #[serde(rename = "lead.created")]
    LeadCreated,
    /// Sent in addition to `lead.created` for callback leads, for receivers that page someone.
    #[serde(rename = "callback.requested")]
    CallbackRequested,
    #[serde(rename = "consent.updated")]
    ConsentUpdated,
    #[serde(rename = "message.created")]
    MessageCreated,
    #[serde(rename = "conversation.closed")]
    ConversationClosed,
    /// A visitor has waited for an answer too long (see `chat_events::ConversationWaiting`).
    #[serde(rename = "conversation.waiting")]
    ConversationWaiting,
    /// The visitor rated a closed conversation (see `chat_events::ConversationRated`).
    #[serde(rename = "conversation.rated")]
    ConversationRated,
    /// A visitor asked for the chat transcript by email. Not a webhook: it goes through the same
    /// outbox (so retries, dead letters and the delivery log apply) but only ever to the email
    /// target. No endpoint can subscribe to it (see [`EventType::is_webhook`]).
    #[serde(rename = "transcript.requested")]
    TranscriptRequested,
    /// Everything about one visitor was erased (`privacy`); receivers erase their copies.
    #[serde(rename = "visitor.erased")]
    VisitorErased,
}

impl EventType {
    /// Every type a receiver can subscribe to (the webhooks).
    pub const ALL: [EventType; 8] = [
        EventType::LeadCreated,
        EventType::CallbackRequested,
        EventType::ConsentUpdated,
        EventType::MessageCreated,
        EventType::ConversationWaiting,
        EventType::ConversationClosed,
        EventType::ConversationRated,
        EventType::VisitorErased,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::LeadCreated => "lead.created",
            EventType::CallbackRequested => "callback.requested",
            EventType::ConsentUpdated => "consent.updated",
            EventType::MessageCreated => "message.created",
            EventType::ConversationClosed => "conversation.closed",
            EventType::ConversationWaiting => "conversation.waiting",
            EventType::ConversationRated => "conversation.rated",
            EventType::TranscriptRequested => "transcript.requested",
            EventType::VisitorErased => "visitor.erased",
        }
    }

    /// Whether endpoints can receive this type; the others are outbox-internal (emails).
    pub fn is_webhook(self) -> bool {
        self != EventType::TranscriptRequested
    }
}

/// An event to deliver, with its data. On the wire: `{"type": "...", "data": {...}}`.
///
/// Chat events carry the chat's own types (`chat_events`), not copies.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "type", content = "data")]
pub enum WebhookEvent {
    #[serde(rename = "lead.created")]
    LeadCreated(Lead),
    #[serde(rename = "callback.requested")]
    CallbackRequested(Lead),
    #[serde(rename = "consent.updated")]
    ConsentUpdated(ConsentUpdated),
    #[serde(rename = "message.created")]
    MessageCreated(MessageCreated),
    #[serde(rename = "conversation.closed")]
    ConversationClosed(ConversationClosed),
    #[serde(rename = "conversation.waiting")]
    ConversationWaiting(ConversationWaiting),
    #[serde(rename = "conversation.rated")]
    ConversationRated(ConversationRated),
    /// Email-only (see [`EventType::TranscriptRequested`]).
    #[serde(rename = "transcript.requested")]
    TranscriptRequested(TranscriptRequested),
    #[serde(rename = "visitor.erased")]
    VisitorErased(VisitorErased),
}

impl WebhookEvent {
    /// The events one new lead produces.
    pub fn for_lead(lead: &Lead) -> Vec<WebhookEvent> {
        let mut events = vec![WebhookEvent::LeadCreated(lead.clone())];
        if lead.kind == LeadKind::Callback {
            events.push(WebhookEvent::CallbackRequested(lead.clone()));
        }
        events
    }

    pub fn event_type(&self) -> EventType {
        match self {
            WebhookEvent::LeadCreated(_) => EventType::LeadCreated,
            WebhookEvent::CallbackRequested(_) => EventType::CallbackRequested,
            WebhookEvent::ConsentUpdated(_) => EventType::ConsentUpdated,
            WebhookEvent::MessageCreated(_) => EventType::MessageCreated,
            WebhookEvent::ConversationClosed(_) => EventType::ConversationClosed,
            WebhookEvent::ConversationWaiting(_) => EventType::ConversationWaiting,
            WebhookEvent::ConversationRated(_) => EventType::ConversationRated,
            WebhookEvent::TranscriptRequested(_) => EventType::TranscriptRequested,
            WebhookEvent::VisitorErased(_) => EventType::VisitorErased,
        }
    }

    /// When the event happened, in milliseconds since the Unix epoch.
    pub fn occurred_at(&self) -> u64 {
        match self {
            WebhookEvent::LeadCreated(lead) | WebhookEvent::CallbackRequested(lead) => lead.created_at,
            WebhookEvent::ConsentUpdated(update) => update.at,
            WebhookEvent::MessageCreated(created) => created.message.at,
            WebhookEvent::ConversationClosed(closed) => closed.transcript.closed_at,
            WebhookEvent::ConversationWaiting(waiting) => waiting.at,
            WebhookEvent::ConversationRated(rated) => rated.rating.at,
            WebhookEvent::TranscriptRequested(requested) => requested.requested_at,
            WebhookEvent::VisitorErased(erased) => erased.erased_at,
        }
    }

    /// The `webhook-id`: derived from the event itself, so it is the same on every retry and even
    /// if the event is enqueued twice, and receivers can deduplicate on it.
    pub fn message_id(&self) -> String {
        let subject = match self {
            WebhookEvent::LeadCreated(lead) | WebhookEvent::CallbackRequested(lead) => lead.id.clone(),
            WebhookEvent::ConsentUpdated(u) => format!("{}\n{:?}\n{}\n{}", u.lead, u.purpose, u.granted, u.at),
            // Message ids are `<conversation>-<seq>`, unique across conversations.
            WebhookEvent::MessageCreated(created) => created.message.id.clone(),
            WebhookEvent::ConversationClosed(closed) => closed.transcript.conversation_id.clone(),
            // One wait per conversation (the callback offer is made once), told once.
            WebhookEvent::ConversationWaiting(waiting) => waiting.conversation_id.clone(),
            // The first rating stands, so there is one per conversation.
            WebhookEvent::ConversationRated(rated) => rated.conversation_id.clone(),
            // One request = one email; the same address asking again later is another request.
            WebhookEvent::TranscriptRequested(r) => format!("{}\n{}\n{}", r.transcript.conversation_id, r.email, r.requested_at),
            // A visitor id may come back (the same browser) and be erased again later: each
            // erasure is its own event; a repeat of the same erasure announces nothing (`privacy`).
            WebhookEvent::VisitorErased(e) => format!("{}\n{}\n{}", e.site, e.visitor_id, e.erased_at),
        };
        let digest = sha256(format!("floorwalker.webhook\n{}\n{subject}", self.event_type().as_str()).as_bytes());
        format!("msg_{}", client_id_from_bytes(&digest[..16]))
    }

    pub fn envelope(&self) -> Envelope {
        Envelope { event: self.clone(), timestamp: rfc3339(self.occurred_at()) }
    }
}

/// The JSON body of a generic webhook: `{"type": ..., "timestamp": RFC 3339, "data": {...}}`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Envelope {
    #[serde(flatten)]
    pub event: WebhookEvent,
    pub timestamp: String,
}

/// Formats milliseconds since the Unix epoch as RFC 3339 UTC with milliseconds.
pub fn rfc3339(ms: u64) -> String {
    let t = crate::base::clock::civil(ms, 0);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second, t.millisecond
    )
}

/// Standard Webhooks secrets hold 24-64 random bytes.
const SECRET_BYTES: std::ops::RangeInclusive<usize> = 24..=64;
const SECRET_PREFIX: &str = "whsec_";

/// A signing key, parsed from its `whsec_<base64>` form. `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(whsec_…)")
    }
}

impl WebhookSecret {
    pub fn parse(text: &str) -> Result<WebhookSecret, ApiError> {
        let invalid = || {
            ApiError::new(ErrorCode::InvalidConfig, "webhook secret must be \"whsec_\" + base64 of 24-64 random bytes")
        };
        let key = text.strip_prefix(SECRET_PREFIX).and_then(base64_decode).ok_or_else(invalid)?;
        if !SECRET_BYTES.contains(&key.len()) {
            return Err(invalid());
        }
        Ok(WebhookSecret { key })
    }

    /// A new secret from 32 random bytes the caller drew (core has no randomness of its own).
    pub fn generate(random: [u8; 32]) -> String {
        format!("{SECRET_PREFIX}{}", base64_encode(&random))
    }

    /// One `v1,<base64>` signature of `{id}.{timestamp}.{body}`.
    pub fn sign(&self, msg_id: &str, timestamp_s: u64, body: &[u8]) -> String {
        format!("v1,{}", base64_encode(&self.mac(msg_id, timestamp_s, body)))
    }

    fn mac(&self, msg_id: &str, timestamp_s: u64, body: &[u8]) -> [u8; 32] {
        let mut signed = format!("{msg_id}.{timestamp_s}.").into_bytes();
        signed.extend_from_slice(body);
        hmac_sha256(&self.key, &signed)
    }
}

/// The three Standard Webhooks headers. Every active secret signs, so during a rotation receivers
/// holding either the old or the new secret accept the message.
pub fn signed_headers(msg_id: &str, timestamp_s: u64, body: &[u8], secrets: &[WebhookSecret]) -> [(&'static str, String); 3] {
    let signatures: Vec<String> = secrets.iter().map(|s| s.sign(msg_id, timestamp_s, body)).collect();
    [
        ("webhook-id", msg_id.to_owned()),
        ("webhook-timestamp", timestamp_s.to_string()),
        ("webhook-signature", signatures.join(" ")),
    ]
}

/// How far `webhook-timestamp` may be from the receiver's clock (replay protection).
pub const TIMESTAMP_TOLERANCE_S: u64 = 5 * 60;

/// Verifies a received webhook as a Standard Webhooks receiver would: timestamp within tolerance,
/// and at least one `v1` signature matching one of `secrets` (constant-time compare).
pub fn verify(
    secrets: &[WebhookSecret],
    msg_id: &str,
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now_s: u64,
) -> Result<(), ApiError> {
    let refuse = |why: &str| ApiError::new(ErrorCode::InvalidSignature, format!("webhook: {why}"));
    if msg_id.is_empty() {
        return Err(refuse("missing webhook-id"));
    }
    let timestamp: u64 = timestamp_header.trim().parse().map_err(|_| refuse("invalid webhook-timestamp"))?;
    if timestamp.abs_diff(now_s) > TIMESTAMP_TOLERANCE_S {
        return Err(refuse("webhook-timestamp is outside the tolerance"));
    }
    let expected: Vec<[u8; 32]> = secrets.iter().map(|s| s.mac(msg_id, timestamp, body)).collect();
    let matched = signature_header
        .split(' ')
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(base64_decode)
        .any(|given| expected.iter().any(|mac| constant_time_eq(&given, mac)));
    if matched {
        Ok(())
    } else {
        Err(refuse("no matching signature"))
    }
}

/// An attempt that has not answered in this long is abandoned and counted as a timeout.
pub const ATTEMPT_TIMEOUT_MS: u64 = 15_000;
/// Retries stop this long after the first attempt; what is still undelivered is dead-lettered.
pub const RETRY_WINDOW_MS: u64 = 3 * 24 * 3600 * 1000;
/// Delays after the 1st, 2nd, ... failed attempt, before jitter; then every 12 hours.
const SCHEDULE_S: [u64; 6] = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600];
const TAIL_DELAY_S: u64 = 12 * 3600;
/// A `Retry-After` longer than this is not waited for in full: the schedule's own tail cadence.
pub const MAX_RETRY_AFTER_S: u64 = TAIL_DELAY_S;
/// Jitter is given in thousandths and clamped to ±10 %.
const MAX_JITTER_PERMILLE: i32 = 100;
/// How much of a response body is kept in an attempt record.
pub const MAX_RECORDED_BODY_BYTES: usize = 1024;

/// The delay before the next attempt, after `failed_attempts` (≥ 1) attempts have failed.
/// `jitter_permille` (a random value in -100..=100 drawn by the caller) spreads retries so that an
/// endpoint coming back up is not hit by every queued message at the same second.
pub fn retry_delay_ms(failed_attempts: u32, jitter_permille: i32) -> u64 {
    let index = usize::try_from(failed_attempts.saturating_sub(1)).unwrap_or(usize::MAX);
    let base_ms = SCHEDULE_S.get(index).copied().unwrap_or(TAIL_DELAY_S) * 1000;
    let jitter = i64::from(jitter_permille.clamp(-MAX_JITTER_PERMILLE, MAX_JITTER_PERMILLE));
    let factor = u64::try_from(1000 + jitter).unwrap_or(1000);
    base_ms * factor / 1000
}

/// `Retry-After` in seconds. The HTTP-date form is ignored (the schedule applies instead): it needs
/// a date parser and receivers that throttle webhooks send seconds.
pub fn parse_retry_after(value: &str) -> Option<u64> {
    value.trim().parse::<u64>().ok().map(|s| s.min(MAX_RETRY_AFTER_S))
}

/// What happened when we tried to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    Response {
        status: u16,
        /// The raw `Retry-After` header, if any.
        retry_after: Option<String>,
        body: Vec<u8>,
    },
    /// No response within [`ATTEMPT_TIMEOUT_MS`].
    Timeout,
    /// DNS, TLS or connection failure.
    ConnectionError(String),
}

/// How an attempt is judged.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AttemptStatus {
    Delivered,
    /// A response other than 2xx or 410 (3xx included: redirects are not followed, since the new
    /// location has not passed the endpoint checks).
    Failed,
    /// 410 Gone: the receiver asked us to stop; the endpoint is disabled.
    EndpointGone,
    Timeout,
    ConnectionError,
}

impl AttemptResult {
    pub fn status(&self) -> AttemptStatus {
        match self {
            AttemptResult::Response { status, .. } if (200..300).contains(status) => AttemptStatus::Delivered,
            AttemptResult::Response { status: 410, .. } => AttemptStatus::EndpointGone,
            AttemptResult::Response { .. } => AttemptStatus::Failed,
            AttemptResult::Timeout => AttemptStatus::Timeout,
            AttemptResult::ConnectionError(_) => AttemptStatus::ConnectionError,
        }
    }
}

/// What the delivery worker does after an attempt.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "next")]
pub enum NextStep {
    Done,
    /// Try again at this time (milliseconds since the Unix epoch).
    RetryAt { at: u64 },
    /// Out of retries: park the message in the dead-letter queue for manual replay.
    DeadLetter,
    /// Disable the endpoint and park its pending messages; nothing is dropped.
    DisableEndpoint,
}

/// Decides what follows an attempt. `attempts_made` counts this one; `first_attempt_at_ms` is when
/// the first attempt of this message was made.
pub fn next_step(
    result: &AttemptResult,
    attempts_made: u32,
    first_attempt_at_ms: u64,
    now_ms: u64,
    jitter_permille: i32,
) -> NextStep {
    match result.status() {
        AttemptStatus::Delivered => return NextStep::Done,
        AttemptStatus::EndpointGone => return NextStep::DisableEndpoint,
        AttemptStatus::Failed | AttemptStatus::Timeout | AttemptStatus::ConnectionError => {}
    }
    let asked_ms = match result {
        AttemptResult::Response { retry_after: Some(value), .. } => parse_retry_after(value).map_or(0, |s| s * 1000),
        _ => 0,
    };
    let delay = retry_delay_ms(attempts_made, jitter_permille).max(asked_ms);
    let at = now_ms.saturating_add(delay);
    if at > first_attempt_at_ms.saturating_add(RETRY_WINDOW_MS) {
        NextStep::DeadLetter
    } else {
        NextStep::RetryAt { at }
    }
}

/// One delivery attempt as shown in the site owner's delivery log.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    /// Milliseconds since the Unix epoch.
    pub at: u64,
    pub status: AttemptStatus,
    pub latency_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_code: Option<u16>,
    /// The first [`MAX_RECORDED_BODY_BYTES`] of the response, cut on a character boundary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl AttemptRecord {
    pub fn new(at: u64, latency_ms: u64, result: &AttemptResult) -> AttemptRecord {
        let (response_code, response_body, error) = match result {
            AttemptResult::Response { status, body, .. } => {
                let text = String::from_utf8_lossy(&body[..body.len().min(MAX_RECORDED_BODY_BYTES + 4)]);
                let body = truncate_on_char_boundary(&text, MAX_RECORDED_BODY_BYTES);
                (Some(*status), (!body.is_empty()).then(|| body.to_owned()), None)
            }
            AttemptResult::Timeout => (None, None, Some(format!("no response within {} s", ATTEMPT_TIMEOUT_MS / 1000))),
            AttemptResult::ConnectionError(e) => {
                (None, None, Some(truncate_on_char_boundary(e, MAX_RECORDED_BODY_BYTES).to_owned()))
            }
        };
        AttemptRecord { at, status: result.status(), latency_ms, response_code, response_body, error }
    }
}

/// The longest prefix of `text` of at most `max_bytes` bytes that ends on a character boundary.
pub fn truncate_on_char_boundary(text: &str, max_bytes: usize) -> &str {
    let mut end = max_bytes.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Attaches the visitor's lead ids to a chat event on its way to the outbox (no-op for others).
/// The webhook id does not depend on them, so a retried flush lands on the same row.
pub fn attach_lead_ids(event: &mut WebhookEvent, lead_ids: &[String]) {
    match event {
        WebhookEvent::MessageCreated(created) => created.lead_ids = lead_ids.to_vec(),
        WebhookEvent::ConversationClosed(closed) => closed.lead_ids = lead_ids.to_vec(),
        WebhookEvent::ConversationWaiting(waiting) => waiting.lead_ids = lead_ids.to_vec(),
        WebhookEvent::ConversationRated(rated) => rated.lead_ids = lead_ids.to_vec(),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
