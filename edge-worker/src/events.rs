//! `POST /v1/events`: a batch of visitor events, validated by core and stored in D1.

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::visitor::event::{EventBatch, MAX_BATCH_BYTES};
use worker::{Env, Request, Response};

use crate::http::{self, internal};
use crate::platform::d1::db;
use crate::{cors, sites};

pub async fn ingest(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    let origin = http::header(&req, "origin")
        .ok_or_else(|| ApiError::new(ErrorCode::OriginNotAllowed, "events are accepted only from a browser page (Origin header)"))?;
    let batch: EventBatch = http::read_json(&mut req, MAX_BATCH_BYTES).await?;
    batch.validate_received(http::now_ms())?;
    let config = sites::require(env, &batch.site).await?;
    cors::require_listed(env, &config, &origin).await?;
    let stored = store(env, &batch, http::now_ms()).await?;
    let mut response = http::json(&serde_json::json!({"accepted": batch.events.len(), "stored": stored}), 202)?;
    cors::allow_origin(&mut response, &origin)?;
    Ok(response)
}

/// Inserts the batch in one D1 transaction; events already stored (a retried batch) are skipped.
/// Returns how many were new.
async fn store(env: &Env, batch: &EventBatch, received_at: u64) -> Result<usize, ApiError> {
    const DOING: &str = "storing events";
    let db = db(env)?;
    let mut statements = Vec::with_capacity(batch.events.len());
    for event in &batch.events {
        let data = serde_json::to_string(&event.data).map_err(|e| internal("encoding an event", e))?;
        let statement = db
            .query(
                "INSERT OR IGNORE INTO events (site, id, visitor, session, type, at, received_at, data) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                &[&batch.site, &event.id, &batch.visitor, &batch.session, &event.data.kind(), &event.at, &received_at, &data],
            )
            .statement(DOING)?;
        statements.push(statement);
    }
    let results = db.batch(statements, DOING).await?;
    let mut written = 0;
    for result in results {
        if let Ok(Some(meta)) = result.meta() {
            written += meta.changes.unwrap_or(0);
        }
    }
    Ok(written)
}
