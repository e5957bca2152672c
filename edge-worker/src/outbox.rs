//! The durable outbox: events and their deliveries are written to D1 in the same batch as the
//! thing that caused them (a lead, a consent change) — or, for chat events, which the Conversation
//! object already stored with the message, in the batch its flush writes (`chat::outbox`); only
//! then is each delivery's id enqueued.
//! If the enqueue fails or the worker dies before it, the rows are still there and the sweeper
//! (cron) enqueues them again. The consumer reads the state from D1, so a delivery enqueued twice
//! is attempted once at a time and never again after a 2xx.

use floorwalker_core::base::error::ApiError;
use floorwalker_core::outbound::delivery::{delivery_id, QueueMessage, Target};
use floorwalker_core::outbound::endpoint::Endpoint;
use floorwalker_core::outbound::webhook::WebhookEvent;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{BatchMessageBuilder, D1Database, D1PreparedStatement, Env};

use crate::http::internal;
use crate::sites;
use crate::timing::delivery_timing;

pub const QUEUE: &str = "DELIVERIES";
pub const DEAD_LETTERS: &str = "DEAD_LETTERS";
/// Cloudflare Queues take at most 100 messages per `sendBatch`.
const MAX_SEND_BATCH: usize = 100;
const MAX_SWEEP: u32 = 500;

/// The statements that put `event` and one delivery per target into the outbox, and the queue
/// messages for those deliveries. `email_extra` is stored with the email delivery (the public base URL).
pub fn event_statements(
    db: &D1Database,
    site: &str,
    event: &WebhookEvent,
    targets: &[Target],
    email_extra: Option<&str>,
    now_ms: u64,
) -> Result<(Vec<D1PreparedStatement>, Vec<QueueMessage>), ApiError> {
    let msg_id = event.message_id();
    let data = serde_json::to_string(event).map_err(|e| internal("encoding an event", e))?;
    let now = JsValue::from_f64(now_ms as f64);
    let mut statements = vec![db
        .prepare("INSERT OR IGNORE INTO outbox_events (id, site, type, created_at, data) VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(&[
            JsValue::from_str(&msg_id),
            JsValue::from_str(site),
            JsValue::from_str(event.event_type().as_str()),
            now.clone(),
            JsValue::from_str(&data),
        ])
        .map_err(|e| internal("writing the outbox", e))?];
    let mut ids = Vec::with_capacity(targets.len());
    for target in targets {
        let id = delivery_id(&msg_id, target);
        let extra = match (target, email_extra) {
            (Target::Email, Some(extra)) => JsValue::from_str(extra),
            _ => JsValue::NULL,
        };
        statements.push(
            db.prepare(
                "INSERT OR IGNORE INTO deliveries (id, site, event, target, state, next_attempt_at, extra, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6, ?5, ?5)",
            )
            .bind(&[
                JsValue::from_str(&id),
                JsValue::from_str(site),
                JsValue::from_str(&msg_id),
                JsValue::from_str(&target.key()),
                now.clone(),
                extra,
            ])
            .map_err(|e| internal("writing the outbox", e))?,
        );
        ids.push(QueueMessage { delivery: id, lane: target.key() });
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

pub async fn try_enqueue(env: &Env, messages: &[QueueMessage]) -> worker::Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let queue = env.queue(QUEUE)?;
    for chunk in messages.chunks(MAX_SEND_BATCH) {
        queue.send_batch(BatchMessageBuilder::new().messages(chunk.to_vec()).build()).await?;
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
    let db = sites::db(env)?;
    let cutoff = now_ms.saturating_sub(timing.sweep_grace_ms());
    let rows: Vec<IdRow> = db
        .prepare(
            "UPDATE deliveries SET next_attempt_at = ?1, updated_at = ?1 WHERE id IN ( \
               SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at < ?2 AND lease_until < ?1 \
               ORDER BY next_attempt_at LIMIT ?3) RETURNING id, target",
        )
        .bind(&[JsValue::from_f64(now_ms as f64), JsValue::from_f64(cutoff as f64), JsValue::from_f64(f64::from(MAX_SWEEP))])
        .map_err(|e| internal("sweeping the outbox", e))?
        .all()
        .await
        .map_err(|e| internal("sweeping the outbox", e))?
        .results()
        .map_err(|e| internal("sweeping the outbox", e))?;
    let ids: Vec<QueueMessage> = rows.into_iter().map(|r| QueueMessage { delivery: r.id, lane: r.target }).collect();
    try_enqueue(env, &ids).await.map_err(|e| internal("re-enqueueing deliveries", e))?;
    // Rate-limit windows older than a day are of no use to anyone.
    db.prepare("DELETE FROM rate_limits WHERE window < ?1")
        .bind(&[JsValue::from_f64(now_ms.saturating_sub(86_400_000) as f64)])
        .map_err(|e| internal("pruning rate limits", e))?
        .run()
        .await
        .map_err(|e| internal("pruning rate limits", e))?;
    Ok(ids.len())
}
