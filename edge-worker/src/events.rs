//! `POST /v1/events`: a batch of visitor events, validated by core and stored in D1.

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::visitor::event::{Event, EventBatch, StoredEvent, MAX_BATCH_BYTES};
use serde::Deserialize;
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
    if !config.allows_origin(&origin) {
        return Err(ApiError::new(
            ErrorCode::OriginNotAllowed,
            format!("origin {origin} is not allowed for site {:?}", batch.site),
        ));
    }
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

#[derive(Deserialize)]
struct EventRow {
    id: String,
    visitor: String,
    session: String,
    at: f64,
    received_at: f64,
    data: String,
}

/// Which stored events to read back, and in which order.
pub struct EventPage<'a> {
    pub site: &'a str,
    pub visitor: Option<&'a str>,
    /// Newest first (the admin listing) or oldest first (an export, page by page).
    pub newest_first: bool,
    pub limit: u32,
    pub offset: u32,
}

/// Stored events as core's type (the admin listing, a visitor's export).
pub async fn stored(env: &Env, page: EventPage<'_>) -> Result<Vec<StoredEvent>, ApiError> {
    let sql = if page.newest_first {
        "SELECT id, visitor, session, at, received_at, data FROM events \
         WHERE site = ?1 AND (?2 IS NULL OR visitor = ?2) ORDER BY at DESC, id LIMIT ?3 OFFSET ?4"
    } else {
        "SELECT id, visitor, session, at, received_at, data FROM events \
         WHERE site = ?1 AND (?2 IS NULL OR visitor = ?2) ORDER BY at, id LIMIT ?3 OFFSET ?4"
    };
    let rows: Vec<EventRow> =
        db(env)?.query(sql, &[&page.site, &page.visitor, &page.limit, &page.offset]).all("listing events").await?;
    rows.into_iter()
        .map(|row| {
            let data = serde_json::from_str(&row.data).map_err(|e| internal("decoding a stored event", e))?;
            Ok(StoredEvent {
                visitor: row.visitor,
                session: row.session,
                received_at: row.received_at as u64,
                event: Event { id: row.id, at: row.at as u64, data },
            })
        })
        .collect()
}
