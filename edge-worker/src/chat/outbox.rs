//! The chat's side of the durable outbox. Every `message.created` / `conversation.waiting` /
//! `conversation.closed` / `conversation.rated` (and every transcript-by-email request) is written
//! first into the Conversation object's own SQLite, in the same synchronous step as the message itself; [`flush`] then hands it to the delivery
//! pipeline every other event uses: `outbox_events` + one `deliveries` row per target, written in
//! ONE D1 batch with `crate::outbox::event_statements`, then enqueued with `crate::outbox::enqueue`.
//! From there signing, retries, dead letters, the sweeper and the admin delivery log apply as
//! they do to leads.
//!
//! Idempotent end to end: the object's rows are keyed by the webhook id, the D1 rows by the same
//! id and the stable delivery id (`INSERT OR IGNORE`), and the object forgets a row only after
//! the batch and the enqueue. A flush that dies halfway is retried by the object's alarm:
//! - before the batch: nothing was written, the retry writes it;
//! - after the batch, before the enqueue: the retry's inserts are no-ops and it enqueues (and if
//!   the enqueue itself fails, the sweeper finds the pending rows);
//! - after the enqueue, before forgetting: the retry enqueues again; the consumer claims only
//!   pending, due, unleased deliveries, so the second message is acked without a send.
//!
//! There is no D1 staging table any more (`chat_outbox` was dropped by migration 0011): the
//! object's own outbox is the staging area, `outbox_events`/`deliveries` the one record.
//!
//! Events with no target (a site without a subscribed endpoint) are not written to D1 at all:
//! nothing would ever read or prune them. Each flush also tells the object whether the site has
//! `message.created` subscribers ([`Flushed::subscribers`]); while it knows there are none, the
//! object writes no `message.created` row at all (core's `MessageSubscribers::records` says which,
//! and for how long that knowledge holds).

use std::collections::HashMap;

use floorwalker_core::base::error::ApiError;
use floorwalker_core::chat::protocol::Author;
use floorwalker_core::outbound::chat_events::{
    alerts_people, waiting_alert_counter, waiting_targets, MessageSubscribers, TranscriptRequested, WAITING_ALERTS_PER_HOUR,
};
use floorwalker_core::outbound::delivery::{subscribed, QueueMessage, Target};
use floorwalker_core::outbound::endpoint::Endpoint;
use floorwalker_core::outbound::webhook::{attach_lead_ids, EventType, WebhookEvent};
use serde::Deserialize;
use worker::Env;

use super::store::{state, SqlStore};
use crate::http::{internal, now_ms};
use crate::{outbox, rate_limit, settings};
use crate::platform::d1::{db, Db};

/// The outbox type of a transcript-by-email request as the object recorded it before the
/// pipeline was wired (a bare `TranscriptRequested`, not an event); still decoded.
const TRANSCRIPT_REQUESTED: &str = "transcript.requested";
/// Events taken from the object per flush.
const FLUSH_BATCH: u32 = 100;
/// Statements per D1 batch, well under the per-invocation query limit (1000 on the paid plan,
/// each statement of a batch counting): 100 events to 3 endpoints need 400. What does not fit
/// stays in the object for the next alarm, a second later.
const MAX_STATEMENTS: usize = 500;
/// Lead ids attached to a chat event.
const MAX_LEAD_IDS: u32 = 20;

/// Records an event in the object's outbox, keyed by its stable webhook id (the payload is the
/// event as `outbox_events.data` stores it).
pub fn enqueue_webhook(store: &SqlStore, event: &WebhookEvent, now: u64) -> Result<(), ApiError> {
    let payload = serde_json::to_string(event).map_err(|e| internal("encoding a chat event", e))?;
    store.enqueue(&event.message_id(), event.event_type().as_str(), &payload, now)
}

/// An object outbox row as an event. Also reads rows written before the pipeline was wired:
/// envelopes (they decode as events) and bare transcript requests.
fn decode(kind: &str, payload: &str) -> Option<WebhookEvent> {
    serde_json::from_str::<WebhookEvent>(payload).ok().or_else(|| {
        (kind == TRANSCRIPT_REQUESTED)
            .then(|| serde_json::from_str::<TranscriptRequested>(payload).ok().map(WebhookEvent::TranscriptRequested))
            .flatten()
    })
}

/// The site and the visitor an event belongs to.
fn owner(event: &WebhookEvent) -> Option<(&str, &str)> {
    match event {
        WebhookEvent::MessageCreated(created) => Some((&created.site, &created.visitor_id)),
        WebhookEvent::ConversationClosed(closed) => Some((&closed.site, &closed.transcript.owner.visitor_id)),
        WebhookEvent::ConversationWaiting(waiting) => Some((&waiting.site, &waiting.visitor_id)),
        WebhookEvent::ConversationRated(rated) => Some((&rated.site, &rated.visitor_id)),
        WebhookEvent::TranscriptRequested(requested) => Some((&requested.site, &requested.transcript.owner.visitor_id)),
        // Written in full: a new chat event that is missing here would be dropped by the flush.
        WebhookEvent::LeadCreated(_) | WebhookEvent::CallbackRequested(_) | WebhookEvent::ConsentUpdated(_) | WebhookEvent::VisitorErased(_) => None,
    }
}

/// Whether the team hears of this conversation's wait: counted once under the site's hourly cap
/// (core's `waiting_alert_counter`, `WAITING_ALERTS_PER_HOUR`) and the answer kept in the object,
/// so a flush retried after a failed batch neither counts the wait again nor changes its mind.
/// A counter that cannot be read alerts: one alert too many beats a visitor nobody hears of.
async fn team_alerted(env: &Env, store: &SqlStore, site: &str, now: u64) -> bool {
    if let Ok(Some(decided)) = store.get(state::TEAM_ALERTED) {
        return decided;
    }
    let per_hour = crate::platform::vars::var(env, "WAITING_ALERTS_PER_HOUR").and_then(|v| v.parse().ok()).unwrap_or(WAITING_ALERTS_PER_HOUR);
    let alerted = match rate_limit::hit(env, &[waiting_alert_counter(site, per_hour)], now).await {
        Ok(verdict) => verdict.is_none(),
        Err(error) => {
            worker::console_error!("site {site}: counting the team's alerts: {error}");
            true
        }
    };
    if !alerted {
        worker::console_log!("site {site}: the hourly cap on the team's alerts is reached; this wait goes to records only");
    }
    if let Err(error) = store.put(state::TEAM_ALERTED, &alerted) {
        worker::console_error!("keeping the alert decision: {error}");
    }
    alerted
}

/// Whether the site has an address for the team's alert email. Unreadable settings mail nobody
/// (and are logged); the rest of the flush goes on.
async fn mails_team(env: &Env, site: &str) -> bool {
    match settings::mail(env, site).await {
        Ok(mail) => mail.alert_address().is_some(),
        Err(error) => {
            worker::console_error!("site {site}: reading the email settings for an alert: {error}");
            false
        }
    }
}

#[derive(Deserialize)]
struct EndpointRow {
    config: String,
}

#[derive(Deserialize)]
struct LeadRow {
    id: String,
}

/// What a flush needs to know about a (site, visitor): the site's active endpoints and the
/// visitor's lead ids, in ONE D1 round trip (a batch of two reads).
async fn lookup(db: &Db, site: &str, visitor: &str) -> Result<(Vec<Endpoint>, Vec<String>), ApiError> {
    const DOING: &str = "reading endpoints and leads for chat events";
    let fail = |e| internal(DOING, e);
    let statements = vec![
        db.query("SELECT config FROM endpoints WHERE site = ?1 ORDER BY id", &[&site]).statement(DOING)?,
        db.query("SELECT id FROM leads WHERE site = ?1 AND visitor = ?2 ORDER BY created_at, id LIMIT ?3", &[&site, &visitor, &MAX_LEAD_IDS])
            .statement(DOING)?,
    ];
    let results = db.batch(statements, DOING).await?;
    let mut results = results.into_iter();
    let endpoints: Vec<EndpointRow> = results.next().map(|r| r.results()).transpose().map_err(fail)?.unwrap_or_default();
    let leads: Vec<LeadRow> = results.next().map(|r| r.results()).transpose().map_err(fail)?.unwrap_or_default();
    let endpoints = endpoints
        .into_iter()
        .filter_map(|row| serde_json::from_str::<Endpoint>(&row.config).ok())
        .filter(|endpoint| endpoint.enabled)
        .collect();
    Ok((endpoints, leads.into_iter().map(|row| row.id).collect()))
}

/// What one flush did.
pub struct Flushed {
    /// Rows are left for the next flush (more than a batch, or more than a D1 batch takes).
    pub remaining: bool,
    /// What the site's endpoints said, when the flush read them.
    pub subscribers: Option<MessageSubscribers>,
}

/// Hands the object's pending events to the delivery pipeline (see the module docs), then forgets
/// them locally. A closed conversation's D1 row is marked closed in the same batch as its
/// `conversation.closed`.
pub async fn flush(env: &Env, store: &SqlStore) -> Result<Flushed, ApiError> {
    let pending = store.pending_events(FLUSH_BATCH)?;
    if pending.is_empty() {
        return Ok(Flushed { remaining: false, subscribers: None });
    }
    let db = db(env)?;
    let now = now_ms();
    // Normally one (site, visitor) per object: one lookup per flush, not per event.
    let mut known: HashMap<(String, String), (Vec<Endpoint>, Vec<String>)> = HashMap::new();
    let mut statements = Vec::new();
    let mut messages: Vec<QueueMessage> = Vec::new();
    let mut handled: Vec<String> = Vec::new();
    let mut subscribers = None;
    for (id, kind, payload, _created_at) in &pending {
        let Some(mut event) = decode(kind, payload) else {
            // Unreadable: it can never be delivered, and keeping it would retry forever.
            worker::console_error!("chat outbox row {id} ({kind}) cannot be decoded and is dropped: {payload}");
            handled.push(id.clone());
            continue;
        };
        let Some((site, visitor)) = owner(&event).map(|(s, v)| (s.to_owned(), v.to_owned())) else {
            worker::console_error!("chat outbox row {id} is not a chat event ({kind}); dropped");
            handled.push(id.clone());
            continue;
        };
        let key = (site.clone(), visitor.clone());
        if !known.contains_key(&key) {
            let found = lookup(&db, &site, &visitor).await?;
            subscribers = Some(MessageSubscribers::from_endpoints(&found.0, now));
            known.insert(key.clone(), found);
        }
        let (endpoints, lead_ids) = &known[&key];
        let targets = match &event {
            WebhookEvent::TranscriptRequested(_) => vec![Target::Email],
            WebhookEvent::ConversationWaiting(_) => {
                let mail_team = mails_team(env, &site).await;
                // Counted against the cap only when someone would be alerted.
                let anyone = mail_team || subscribed(endpoints, EventType::ConversationWaiting).any(alerts_people);
                waiting_targets(endpoints, mail_team, anyone && team_alerted(env, store, &site, now).await)
            }
            _ => outbox::endpoint_targets(endpoints, &event),
        };
        let (mut more, mut queued) = (Vec::new(), Vec::new());
        if !targets.is_empty() {
            attach_lead_ids(&mut event, lead_ids);
            (more, queued) = outbox::event_statements(&db, &site, &event, &targets, None, now, 0)?;
        }
        if let WebhookEvent::ConversationClosed(closed) = &event {
            more.push(
                db.query(
                    "UPDATE chat_conversations SET status = 'closed', closed_at = ?2 WHERE id = ?1",
                    &[&closed.transcript.conversation_id, &closed.transcript.closed_at],
                )
                .statement("closing the conversation row")?,
            );
        }
        // The visitor's rating, for the Results screen's satisfaction.
        if let WebhookEvent::ConversationRated(rated) = &event {
            let score = u64::from(rated.rating.score);
            more.push(
                db.query("UPDATE chat_conversations SET rating = ?2 WHERE id = ?1", &[&rated.conversation_id, &score])
                    .statement("noting the rating")?,
            );
        }
        // An operator's first answer: when it came is the funnel's first response time.
        if let WebhookEvent::MessageCreated(created) = &event {
            if matches!(created.message.author, Author::Operator { .. }) {
                more.push(
                    db.query(
                        "UPDATE chat_conversations SET first_reply_at = ?2 WHERE id = ?1 AND first_reply_at IS NULL",
                        &[&created.conversation_id, &created.message.at],
                    )
                    .statement("noting the first answer")?,
                );
            }
        }
        if !statements.is_empty() && statements.len() + more.len() > MAX_STATEMENTS {
            break;
        }
        statements.extend(more);
        messages.append(&mut queued);
        handled.push(id.clone());
    }
    if !statements.is_empty() {
        db.batch(statements, "writing chat events to the outbox").await?;
    }
    outbox::enqueue(env, &messages).await;
    store.forget_events(&handled)?;
    let remaining = handled.len() < pending.len() || pending.len() == FLUSH_BATCH as usize;
    Ok(Flushed { remaining, subscribers })
}
