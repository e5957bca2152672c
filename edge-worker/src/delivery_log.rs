//! The delivery log for site owners: deliveries with every attempt, and replay of failed ones.

use std::collections::HashMap;

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::outbound::delivery::{DeliveryState, DeliveryView, QueueMessage};
use floorwalker_core::outbound::webhook::{AttemptRecord, EventType};
use serde::Deserialize;
use worker::{Env, Request, Response};

use crate::http::{self, internal};
use crate::platform::d1::db;
use crate::{outbox, sites};

const MAX_DELIVERIES_LISTED: u32 = 1000;

/// A row of `deliveries` with its event's type, as the delivery log and a privacy export read it.
#[derive(Deserialize)]
pub struct DeliveryRow {
    pub id: String,
    pub event: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub target: String,
    pub state: String,
    pub created_at: f64,
    pub delivered_at: Option<f64>,
    pub last_error: Option<String>,
}

impl DeliveryRow {
    /// The event type and state, from their stored text.
    pub fn decoded(&self) -> Result<(EventType, DeliveryState), ApiError> {
        let event_type = serde_json::from_value(serde_json::Value::String(self.event_type.clone()))
            .map_err(|e| internal("decoding an event type", e))?;
        let state = DeliveryState::parse(&self.state).ok_or_else(|| internal("decoding a delivery", "unknown state"))?;
        Ok((event_type, state))
    }
}

#[derive(Deserialize)]
struct AttemptRow {
    delivery: String,
    data: String,
}

/// `GET /v1/admin/sites/:site/deliveries?state=failed&limit=`: newest first.
pub async fn list(req: &Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    sites::require(env, site).await?;
    let state = match http::query_param(req, "state") {
        Some(state) => Some(
            DeliveryState::parse(&state)
                .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "state must be pending, delivered or failed"))?,
        ),
        None => None,
    };
    let limit = http::query_limit(req, MAX_DELIVERIES_LISTED);
    let db = db(env)?;
    let rows: Vec<DeliveryRow> = db
        .query(
            "SELECT d.id, d.event, e.type, d.target, d.state, d.created_at, d.delivered_at, d.last_error \
             FROM deliveries d JOIN outbox_events e ON e.id = d.event \
             WHERE d.site = ?1 AND (?2 IS NULL OR d.state = ?2) ORDER BY d.created_at DESC, d.id LIMIT ?3",
            &[&site, &state, &limit],
        )
        .all("listing deliveries")
        .await?;
    // One query for the attempts of every listed delivery.
    let attempts: Vec<AttemptRow> = db
        .query(
            "SELECT a.delivery, a.data FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery \
             WHERE d.site = ?1 AND (?2 IS NULL OR d.state = ?2) ORDER BY a.delivery, a.n",
            &[&site, &state],
        )
        .all("listing attempts")
        .await?;
    let mut by_delivery: HashMap<String, Vec<AttemptRecord>> = HashMap::new();
    for row in attempts {
        let record = serde_json::from_str(&row.data).map_err(|e| internal("decoding an attempt", e))?;
        by_delivery.entry(row.delivery).or_default().push(record);
    }
    let views = rows
        .into_iter()
        .map(|row| {
            let (event_type, state) = row.decoded()?;
            Ok(DeliveryView {
                attempts: by_delivery.remove(&row.id).unwrap_or_default(),
                id: row.id,
                event_id: row.event,
                event_type,
                target: row.target,
                state,
                created_at: row.created_at as u64,
                delivered_at: row.delivered_at.map(|at| at as u64),
                last_error: row.last_error,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    http::json(&views, 200)
}

#[derive(Deserialize)]
struct Replayed {
    id: String,
    target: String,
}

/// `POST /v1/admin/sites/:site/deliveries/:id/replay`: a failed delivery starts over (a new retry
/// window, the same webhook-id) and is enqueued. Delivered ones are never sent again.
pub async fn replay(env: &Env, site: &str, id: &str) -> Result<Response, ApiError> {
    let now = http::now_ms();
    let replayed: Option<Replayed> = db(env)?
        .query(
            "UPDATE deliveries SET state = ?4, first_attempt_at = NULL, cycle_attempts = 0, next_attempt_at = ?3, lease_until = 0, \
             updated_at = ?3 WHERE id = ?1 AND site = ?2 AND state = ?5 RETURNING id, target",
            &[&id, &site, &now, &DeliveryState::Pending, &DeliveryState::Failed],
        )
        .first("replaying a delivery")
        .await?;
    let Some(replayed) = replayed else {
        return Err(ApiError::new(ErrorCode::NotFound, format!("site {site:?} has no failed delivery {id:?}")));
    };
    outbox::enqueue(env, &[QueueMessage::to_attempt(replayed.id.clone(), replayed.target)]).await;
    http::json(&serde_json::json!({"replayed": replayed.id}), 202)
}
