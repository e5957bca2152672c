//! Where each site's tag was seen (core's `prompts::sightings`), in the `origin_sightings` table:
//! a refusal whenever a site's config, events or chat are asked from an origin it does not list, a
//! load when its widget reads the config on one it lists. The owner reads them through
//! `GET /v1/admin/sites/:site/origins`.
//!
//! Recording never fails the request it describes: a fault is logged and the answer goes out.

use floorwalker_core::base::error::ApiError;
use floorwalker_core::prompts::sightings::{sighted_origin, OriginReport, OriginSighting, Sighting, SIGHTING_MAX_AGE_MS};
use serde::Deserialize;
use worker::{Env, Response};

use crate::http;
use crate::platform::d1::db;

/// Records that `origin_header` was seen on `site` as `kind`: an upsert (counted, or skipped while
/// the last one is recent) and the prune that keeps the site's list bounded, in one D1 batch.
pub async fn record(env: &Env, site: &str, kind: Sighting, origin_header: &str, now_ms: u64) {
    let Some(origin) = sighted_origin(origin_header) else { return };
    if let Err(e) = try_record(env, site, kind, &origin, now_ms).await {
        worker::console_error!("recording origin {origin} ({}) of site {site}: {}", kind.as_str(), e.message);
    }
}

/// [`record`] with owned values, for `Context::wait_until` (after the answer is sent).
pub async fn record_later(env: Env, site: String, kind: Sighting, origin_header: String, now_ms: u64) {
    record(&env, &site, kind, &origin_header, now_ms).await;
}

async fn try_record(env: &Env, site: &str, kind: Sighting, origin: &str, now_ms: u64) -> Result<(), ApiError> {
    const DOING: &str = "recording an origin";
    let db = db(env)?;
    let kind_name = kind.as_str();
    let upsert = db
        .query(
            "INSERT INTO origin_sightings (site, kind, origin, first_seen_at, last_seen_at, count) VALUES (?1, ?2, ?3, ?4, ?4, 1) \
             ON CONFLICT (site, kind, origin) DO UPDATE SET last_seen_at = excluded.last_seen_at, count = count + 1 \
             WHERE excluded.last_seen_at >= origin_sightings.last_seen_at + ?5",
            &[&site, &kind_name, &origin, &now_ms, &kind.record_interval_ms()],
        )
        .statement(DOING)?;
    let prune = db
        .query(
            "DELETE FROM origin_sightings WHERE site = ?1 AND kind = ?2 AND (last_seen_at < ?3 OR origin NOT IN \
             (SELECT origin FROM origin_sightings WHERE site = ?1 AND kind = ?2 ORDER BY count DESC, last_seen_at DESC LIMIT ?4))",
            &[&site, &kind_name, &now_ms.saturating_sub(SIGHTING_MAX_AGE_MS), &kind.max_kept()],
        )
        .statement(DOING)?;
    db.batch(vec![upsert, prune], DOING).await?;
    Ok(())
}

#[derive(Deserialize)]
struct Row {
    kind: String,
    origin: String,
    first_seen_at: f64,
    last_seen_at: f64,
    count: f64,
}

/// `GET /v1/admin/sites/:site/origins` (of a site the caller found): [`OriginReport`], most recent first.
pub async fn report(env: &Env, site: &str, now_ms: u64) -> Result<Response, ApiError> {
    http::json(&load(env, site, now_ms).await?, 200)
}

/// The [`OriginReport`] of `site` (for the report route and the install check).
pub async fn load(env: &Env, site: &str, now_ms: u64) -> Result<OriginReport, ApiError> {
    let rows: Vec<Row> = db(env)?
        .query(
            "SELECT kind, origin, first_seen_at, last_seen_at, count FROM origin_sightings \
             WHERE site = ?1 AND last_seen_at >= ?2 ORDER BY last_seen_at DESC, origin",
            &[&site, &now_ms.saturating_sub(SIGHTING_MAX_AGE_MS)],
        )
        .all("listing origins")
        .await?;
    let mut report = OriginReport::default();
    for row in rows {
        let sighting = OriginSighting {
            origin: row.origin,
            first_seen_at: row.first_seen_at as u64,
            last_seen_at: row.last_seen_at as u64,
            count: row.count as u64,
        };
        if row.kind == Sighting::Loaded.as_str() {
            report.loaded.push(sighting);
        } else {
            report.refused.push(sighting);
        }
    }
    Ok(report)
}
