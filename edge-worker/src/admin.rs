//! `/v1/admin/*`: site owners' and operators' tooling, behind the `ADMIN_TOKEN` secret.

use floorwalker_core::base::crypto::constant_time_eq;
use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::base::ids::validate_client_id;
use floorwalker_core::leads::lead::Lead;
use floorwalker_core::outbound::delivery::SiteDelivery;
use floorwalker_core::prompts::config::{SiteConfig, MAX_CONFIG_BYTES};
use floorwalker_core::visitor::event::{Event, StoredEvent};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{Env, Method, Request, Response};

use crate::http::{self, internal};
use crate::{endpoints, mailbox, outbox, records, settings, sites};

const MAX_EVENTS_LISTED: u32 = 500;
const MAX_LEADS_LISTED: u32 = 500;

pub async fn route(mut req: Request, env: &Env, method: Method, path: &[&str]) -> Result<Response, ApiError> {
    authorize(&req, env)?;
    match (method, path) {
        (Method::Put, ["sites", site]) => put_site(&mut req, env, site).await,
        (Method::Get, ["sites", site]) => http::json(&sites::require(env, site).await?, 200),
        (Method::Get, ["sites", site, "events"]) => list_events(&req, env, site).await,
        (Method::Get, ["sites", site, "delivery"]) => http::json(&settings::load(env, site).await?, 200),
        (Method::Put, ["sites", site, "delivery"]) => put_delivery(&mut req, env, site).await,
        (Method::Get, ["sites", site, "endpoints"]) => endpoints::list(env, site).await,
        (Method::Post, ["sites", site, "endpoints"]) => endpoints::create(&mut req, env, site).await,
        (Method::Put, ["sites", site, "endpoints", id]) => endpoints::update(&mut req, env, site, id).await,
        (Method::Delete, ["sites", site, "endpoints", id]) => endpoints::delete(env, site, id).await,
        (Method::Post, ["sites", site, "endpoints", id, "rotate"]) => endpoints::rotate(env, site, id).await,
        (Method::Post, ["sites", site, "endpoints", id, "retire"]) => endpoints::retire(env, site, id).await,
        (Method::Get, ["sites", site, "leads"]) => list_leads(&req, env, site).await,
        (Method::Get, ["sites", site, "deliveries"]) => records::list_deliveries(&req, env, site).await,
        (Method::Post, ["sites", site, "deliveries", id, "replay"]) => records::replay(env, site, id).await,
        (Method::Get, ["mailbox"]) => {
            let lead = req.url().ok().and_then(|u| u.query_pairs().find(|(k, _)| k == "lead").map(|(_, v)| v.into_owned()));
            http::json(&mailbox::stored(env, lead.as_deref(), None).await?, 200)
        }
        (Method::Post, ["sweep"]) => http::json(&serde_json::json!({"enqueued": outbox::sweep(env, http::now_ms()).await?}), 200),
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


async fn put_delivery(req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    sites::require(env, site).await?;
    let delivery: SiteDelivery = http::read_json(req, 4096)
        .await
        .map_err(|e| if e.code == ErrorCode::InvalidJson { ApiError::new(ErrorCode::InvalidConfig, e.message) } else { e })?;
    delivery.validate()?;
    settings::store(env, site, &delivery, http::now_ms()).await?;
    http::json(&delivery, 200)
}

#[derive(Deserialize)]
struct LeadRow {
    data: String,
}

/// `GET /v1/admin/sites/:site/leads?limit=`: newest first, each with its consent and context.
async fn list_leads(req: &Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    sites::require(env, site).await?;
    let limit = query_limit(req, MAX_LEADS_LISTED);
    let rows: Vec<LeadRow> = sites::db(env)?
        .prepare("SELECT data FROM leads WHERE site = ?1 ORDER BY created_at DESC, id LIMIT ?2")
        .bind(&[JsValue::from_str(site), JsValue::from_f64(f64::from(limit))])
        .map_err(|e| internal("listing leads", e))?
        .all()
        .await
        .map_err(|e| internal("listing leads", e))?
        .results()
        .map_err(|e| internal("listing leads", e))?;
    let leads = rows
        .iter()
        .map(|row| serde_json::from_str::<Lead>(&row.data).map_err(|e| internal("decoding a lead", e)))
        .collect::<Result<Vec<_>, _>>()?;
    http::json(&leads, 200)
}

/// `?limit=` clamped to `max` (default 100).
pub fn query_limit(req: &Request, max: u32) -> u32 {
    req.url()
        .ok()
        .and_then(|u| u.query_pairs().find(|(k, _)| k == "limit").and_then(|(_, v)| v.parse::<u32>().ok()))
        .unwrap_or(100)
        .clamp(1, max)
}
