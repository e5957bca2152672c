//! The durable outbox: events and their deliveries are written to D1 in the same batch as the
//! thing that caused them (a lead, a consent change) — or, for chat events, which the Conversation
//! object already stored with the message, in the batch its flush writes (`chat::outbox`); only
//! then is each delivery's id enqueued.
//! If the enqueue fails or the worker dies before it, the rows are still there and the sweeper
//! (cron) enqueues them again. The consumer reads the state from D1, so a delivery enqueued twice
//! is attempted once at a time and never again after a 2xx.

use floorwalker_core::base::error::ApiError;
use floorwalker_core::outbound::delivery::{delivery_id, DeliveryState, QueueMessage, Target};
use floorwalker_core::outbound::endpoint::Endpoint;
use floorwalker_core::outbound::webhook::WebhookEvent;
use serde::Deserialize;
use worker::{BatchMessageBuilder, D1PreparedStatement, Env};

use crate::http::internal;
use crate::platform::d1::{db, Db};
use crate::platform::vars::delivery_timing;

pub const QUEUE: &str = "DELIVERIES";
pub const DEAD_LETTERS: &str = "DEAD_LETTERS";
/// Cloudflare Queues take at most 100 messages per `sendBatch`.
const MAX_SEND_BATCH: usize = 100;
const MAX_SWEEP: u32 = 500;

/// The statements that put `event` and one delivery per target into the outbox, and the queue
/// messages for those deliveries. `email_extra` is stored with the email delivery (the public base
/// URL). `leased_until` is 0, or the end of the lease of the writer's own first attempt.
pub fn event_statements(
    db: &Db,
    site: &str,
    event: &WebhookEvent,
    targets: &[Target],
    email_extra: Option<&str>,
    now_ms: u64,
    leased_until: u64,
) -> Result<(Vec<D1PreparedStatement>, Vec<QueueMessage>), ApiError> {
    let msg_id = event.message_id();
    let data = serde_json::to_string(event).map_err(|e| internal("encoding an event", e))?;
    const DOING: &str = "writing the outbox";
    let mut statements = vec![db
        .query(
            "INSERT OR IGNORE INTO outbox_events (id, site, type, created_at, data) VALUES (?1, ?2, ?3, ?4, ?5)",
            &[&msg_id, &site, &event.event_type().as_str(), &now_ms, &data],
        )
        .statement(DOING)?];
    let mut ids = Vec::with_capacity(targets.len());
    for target in targets {
        let id = delivery_id(&msg_id, target);
        let extra = match target {
            Target::Email => email_extra,
            Target::Endpoint(_) => None,
        };
        statements.push(
            db.query(
                "INSERT OR IGNORE INTO deliveries (id, site, event, target, state, next_attempt_at, extra, created_at, updated_at, lease_until) \
                 VALUES (?1, ?2, ?3, ?4, ?7, ?5, ?6, ?5, ?5, ?8)",
                &[&id, &site, &msg_id, &target.key(), &now_ms, &extra, &DeliveryState::Pending, &leased_until],
            )
            .statement(DOING)?,
        );
        ids.push(QueueMessage::to_attempt(id, target.key()));
    }
    Ok((statements, ids))
}

/// The targets of `event` among the site's endpoints.
pub fn endpoint_targets(endpoints: &[Endpoint], event: &WebhookEvent) -> Vec<Target> {
    floorwalker_core::outbound::delivery::subscribed(endpoints, event.event_type()).map(|e| Target::Endpoint(e.id.clone())).collect()
}

/// Hands deliveries to the queue. A failure is logged and left to the sweeper: the rows are in D1.
pub async fn enqueue(env: &Env, messages: &[QueueMessage]) {
    if let Err(e) = try_enqueue(env, messages).await {
        worker::console_error!("enqueue of {} deliveries failed, the sweeper will retry: {e}", messages.len());
    }
}

/// The same, delivered to the consumer `delay_s` seconds from now.
pub async fn enqueue_in(env: &Env, messages: &[QueueMessage], delay_s: u32) {
    if let Err(e) = send(env, messages, Some(delay_s)).await {
        worker::console_error!("enqueue of {} deliveries failed, the sweeper will retry: {e}", messages.len());
    }
}

pub async fn try_enqueue(env: &Env, messages: &[QueueMessage]) -> worker::Result<()> {
    send(env, messages, None).await
}

async fn send(env: &Env, messages: &[QueueMessage], delay_s: Option<u32>) -> worker::Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let queue = env.queue(QUEUE)?;
    for chunk in messages.chunks(MAX_SEND_BATCH) {
        let mut batch = BatchMessageBuilder::new().messages(chunk.to_vec());
        if let Some(delay_s) = delay_s {
            batch = batch.delay_seconds(delay_s);
        }
        queue.send_batch(batch.build()).await?;
    }
    Ok(())
}

#[derive(Deserialize)]
struct IdRow {
    id: String,
    target: String,
}

/// Re-enqueues pending deliveries whose next attempt is overdue by more than the grace period and
/// that no consumer holds. Returns how many were re-enqueued.
pub async fn sweep(env: &Env, now_ms: u64) -> Result<usize, ApiError> {
    let timing = delivery_timing(env);
    let db = db(env)?;
    let cutoff = now_ms.saturating_sub(timing.sweep_grace_ms());
    let rows: Vec<IdRow> = db
        .query(
            "UPDATE deliveries SET next_attempt_at = ?1, updated_at = ?1 WHERE id IN ( \
               SELECT id FROM deliveries WHERE state = ?4 AND next_attempt_at < ?2 AND lease_until < ?1 \
               ORDER BY next_attempt_at LIMIT ?3) RETURNING id, target",
            &[&now_ms, &cutoff, &MAX_SWEEP, &DeliveryState::Pending],
        )
        .all("sweeping the outbox")
        .await?;
    let ids: Vec<QueueMessage> = rows.into_iter().map(|r| QueueMessage::to_attempt(r.id, r.target)).collect();
    try_enqueue(env, &ids).await.map_err(|e| internal("re-enqueueing deliveries", e))?;
    // Old rate-limit windows are pruned by the retention run, in bounded steps.
    Ok(ids.len())
}
