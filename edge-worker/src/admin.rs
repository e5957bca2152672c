//! `/v1/admin/*`: site owners' and operators' tooling, behind the `ADMIN_TOKEN` secret.

use floorwalker_core::api::{ApiError, ErrorCode};
use floorwalker_core::auth::constant_time_eq;
use floorwalker_core::config::{SiteConfig, MAX_CONFIG_BYTES};
use floorwalker_core::event::{Event, StoredEvent};
use floorwalker_core::ids::validate_client_id;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{Env, Method, Request, Response};

use crate::http::{self, internal};
use crate::sites;

const MAX_EVENTS_LISTED: u32 = 500;

pub async fn route(mut req: Request, env: &Env, method: Method, path: &[&str]) -> Result<Response, ApiError> {
    authorize(&req, env)?;
    match (method, path) {
        (Method::Put, ["sites", site]) => put_site(&mut req, env, site).await,
        (Method::Get, ["sites", site]) => http::json(&sites::require(env, site).await?, 200),
        (Method::Get, ["sites", site, "events"]) => list_events(&req, env, site).await,
        (method, _) => Err(ApiError::new(ErrorCode::NotFound, format!("no admin route for {method:?} {}", path.join("/")))),
    }
}

pub fn authorize(req: &Request, env: &Env) -> Result<(), ApiError> {
    let expected = env
        .secret("ADMIN_TOKEN")
        .map(|s| s.to_string())
        .map_err(|_| ApiError::new(ErrorCode::Unauthorized, "the admin API is disabled: set the ADMIN_TOKEN secret"))?;
    let given = http::header(req, "authorization").unwrap_or_default();
    let given = given.strip_prefix("Bearer ").unwrap_or_default();
    if expected.len() < 16 || !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        return Err(ApiError::new(ErrorCode::Unauthorized, "a valid admin bearer token is required"));
    }
    Ok(())
}

async fn put_site(req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    let config: SiteConfig = http::read_json(req, MAX_CONFIG_BYTES)
        .await
        .map_err(|e| if e.code == ErrorCode::InvalidJson { ApiError::new(ErrorCode::InvalidConfig, e.message) } else { e })?;
    if config.site != site {
        return Err(ApiError::new(ErrorCode::InvalidConfig, format!("the body is for site {:?}, the URL for {site:?}", config.site)));
    }
    config.validate()?;
    if config.uses_test_timing() && !sites::test_timing_enabled(env) {
        return Err(ApiError::new(
            ErrorCode::InvalidConfig,
            "widget.test_timing: accepted only by a test deployment (FLOORWALKER_TEST_TIMING=1)",
        ));
    }
    sites::store(env, &config, http::now_ms()).await?;
    http::json(&config, 200)
}

#[derive(Deserialize)]
struct EventQuery {
    visitor: Option<String>,
    limit: Option<u32>,
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

async fn list_events(req: &Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    sites::require(env, site).await?;
    let query: EventQuery = req
        .query()
        .map_err(|e| ApiError::new(ErrorCode::NotFound, format!("bad query: {e}")))?;
    if let Some(visitor) = &query.visitor {
        validate_client_id("visitor", visitor)?;
    }
    let limit = query.limit.unwrap_or(100).min(MAX_EVENTS_LISTED);
    let visitor = query.visitor.as_deref().map_or(JsValue::NULL, JsValue::from_str);
    let result = sites::db(env)?
        .prepare(
            "SELECT id, visitor, session, at, received_at, data FROM events \
             WHERE site = ?1 AND (?2 IS NULL OR visitor = ?2) ORDER BY at DESC, id LIMIT ?3",
        )
        .bind(&[JsValue::from_str(site), visitor, JsValue::from_f64(f64::from(limit))])
        .map_err(|e| internal("listing events", e))?
        .all()
        .await
        .map_err(|e| internal("listing events", e))?;
    let rows: Vec<EventRow> = result.results().map_err(|e| internal("listing events", e))?;
    let events = rows
        .into_iter()
        .map(|row| {
            let data = serde_json::from_str(&row.data).map_err(|e| internal("decoding a stored event", e))?;
            Ok(StoredEvent {
                visitor: row.visitor,
                session: row.session,
                received_at: row.received_at as u64,
                event: Event { id: row.id, at: row.at as u64, data },
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    http::json(&events, 200)
}

