//! The chat's outbox: every `message.created` / `conversation.closed` (and every transcript
//! request) is written first into the Conversation object's own SQLite, in the same synchronous
//! step as the message itself, then moved to D1's `chat_outbox` table by [`flush`] (retried by the
//! object's alarm until it succeeds). Nothing is lost if the object stops between the two.
//!
//! `chat_outbox` is where the delivery pipeline (the queue consumer that signs and POSTs webhooks,
//! and the email sender) picks events up. Until that pipeline is merged, rows simply accumulate
//! with `delivered_at` NULL; wiring it means reading `chat_outbox` (or replacing the body of
//! [`flush`] with a queue send) — this is the single place to change.

use floorwalker_core::api::ApiError;
use floorwalker_core::webhook::WebhookEvent;
use wasm_bindgen::JsValue;
use worker::Env;

use super::store::SqlStore;
use crate::http::internal;

/// The outbox type of a transcript-by-email request (not a webhook; the email pipeline's).
pub const TRANSCRIPT_REQUESTED: &str = "transcript.requested";

/// Records a webhook event in the object's outbox, keyed by its stable webhook id.
pub fn enqueue_webhook(store: &SqlStore, event: &WebhookEvent, now: u64) -> Result<(), ApiError> {
    let payload = serde_json::to_string(&event.envelope()).map_err(|e| internal("encoding a chat event", e))?;
    store.enqueue(&event.message_id(), event.event_type().as_str(), &payload, now)
}

#[derive(serde::Deserialize)]
struct Peek {
    #[serde(default)]
    data: Option<PeekData>,
}

#[derive(serde::Deserialize)]
struct PeekData {
    #[serde(default)]
    site: Option<String>,
    #[serde(default)]
    conversation_id: Option<String>,
    #[serde(default)]
    transcript: Option<PeekTranscript>,
}

#[derive(serde::Deserialize)]
struct PeekTranscript {
    conversation_id: String,
    closed_at: u64,
}

/// Copies the object's pending events to D1 (idempotent by id), then forgets them locally. A
/// closed conversation's D1 row is marked closed in the same batch as its `conversation.closed`.
pub async fn flush(env: &Env, store: &SqlStore) -> Result<usize, ApiError> {
    let pending = store.pending_events(100)?;
    if pending.is_empty() {
        return Ok(0);
    }
    let db = crate::sites::db(env)?;
    let mut statements = Vec::new();
    for (id, kind, payload, created_at) in &pending {
        let (site, conversation, closed) = match serde_json::from_str::<Peek>(payload).ok().and_then(|p| p.data) {
            Some(data) => {
                let closed = data.transcript.map(|t| (t.conversation_id, t.closed_at));
                let conversation = data.conversation_id.or_else(|| closed.as_ref().map(|c| c.0.clone()));
                (data.site, conversation, closed)
            }
            None => {
                // transcript.requested has no envelope: its fields are at the top level.
                let value: serde_json::Value = serde_json::from_str(payload).unwrap_or_default();
                let site = value["site"].as_str().map(str::to_owned);
                let conversation = value["transcript"]["conversation_id"].as_str().map(str::to_owned);
                (site, conversation, None)
            }
        };
        let conversation = conversation.unwrap_or_else(|| store.conversation_id().to_owned());
        statements.push(
            db.prepare(
                "INSERT OR IGNORE INTO chat_outbox (id, site, type, conversation_id, payload, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .bind(&[
                JsValue::from_str(id),
                JsValue::from_str(site.as_deref().unwrap_or_default()),
                JsValue::from_str(kind),
                JsValue::from_str(&conversation),
                JsValue::from_str(payload),
                JsValue::from_f64(*created_at as f64),
            ])
            .map_err(|e| internal("queueing chat events", e))?,
        );
        if let Some((conversation_id, closed_at)) = closed {
            statements.push(
                db.prepare("UPDATE chat_conversations SET status = 'closed', closed_at = ?2 WHERE id = ?1")
                    .bind(&[JsValue::from_str(&conversation_id), JsValue::from_f64(closed_at as f64)])
                    .map_err(|e| internal("closing the conversation row", e))?,
            );
        }
    }
    db.batch(statements).await.map_err(|e| internal("queueing chat events", e))?;
    let ids: Vec<String> = pending.iter().map(|p| p.0.clone()).collect();
    store.forget_events(&ids)?;
    Ok(ids.len())
}
