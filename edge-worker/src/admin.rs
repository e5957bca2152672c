//! `/v1/admin/*`: site owners' and operators' tooling, behind the `ADMIN_TOKEN` secret. One route
//! table (the chat's additions included, handled in `chat::admin`) behind one [`authorize`].

use floorwalker_core::access::accounts::Actor;
use floorwalker_core::base::crypto::constant_time_eq;
use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::base::ids::validate_client_id;
use floorwalker_core::leads::lead::Lead;
use floorwalker_core::outbound::delivery::SiteDelivery;
use floorwalker_core::prompts::config::{SiteConfig, MAX_CONFIG_BYTES};
use floorwalker_core::visitor::event::{Event, StoredEvent};
use serde::Deserialize;
use worker::{Env, Method, Request, Response};

use crate::http::{self, internal};
use crate::platform::d1::db;
use crate::platform::vars::{key, test_timing, KeyProblem};
use crate::chat::members;
use crate::{chat, delivery_log, endpoints, mailbox, outbox, settings, sites};

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
        (Method::Get, ["sites", site, "deliveries"]) => delivery_log::list(&req, env, site).await,
        (Method::Post, ["sites", site, "deliveries", id, "replay"]) => delivery_log::replay(env, site, id).await,
        (Method::Get, ["sites", site, "operators"]) => members::list(Actor::Admin, env, site).await,
        (Method::Post, ["sites", site, "operators"]) => members::create(Actor::Admin, &mut req, env, site).await,
        (Method::Get, ["sites", site, "operators", id]) => members::show(Actor::Admin, env, site, id).await,
        (Method::Delete, ["sites", site, "operators", id]) => members::remove(Actor::Admin, env, site, id).await,
        (Method::Post, ["sites", site, "operators", id, "disable"]) => members::disable(Actor::Admin, env, site, id).await,
        (Method::Post, ["sites", site, "operators", id, "enable"]) => members::enable(Actor::Admin, env, site, id).await,
        (Method::Put, ["sites", site, "operators", id, "password"]) => {
            members::reset_password(Actor::Admin, &mut req, env, site, id).await
        }
        (Method::Get, ["sites", site, "api-keys"]) => members::list_api_keys(Actor::Admin, env, site).await,
        (Method::Post, ["sites", site, "api-keys"]) => members::create_api_key(Actor::Admin, &mut req, env, site).await,
        (Method::Delete, ["sites", site, "api-keys", id]) => members::revoke_api_key(Actor::Admin, env, site, id).await,
        (Method::Put, ["sites", site, "identity-secret"]) => chat::admin::identity_secret(&mut req, env, site).await,
        (Method::Get, ["chat", "outbox"]) => chat::admin::outbox(&req, env).await,
        (Method::Post, ["chat", "store-check"]) => chat::admin::store_check(env).await,
        (Method::Get, ["mailbox"]) => http::json(&mailbox::stored(env, http::query_param(&req, "lead").as_deref(), None).await?, 200),
        (Method::Post, ["sweep"]) => http::json(&serde_json::json!({"enqueued": outbox::sweep(env, http::now_ms()).await?}), 200),
        (method, _) => Err(ApiError::new(ErrorCode::NotFound, format!("no admin route for {method:?} {}", path.join("/")))),
    }
}

/// The request carries `Authorization: Bearer $ADMIN_TOKEN`.
fn authorize(req: &Request, env: &Env) -> Result<(), ApiError> {
    let invalid = || ApiError::new(ErrorCode::Unauthorized, "a valid admin bearer token is required");
    let expected = match key(env, "ADMIN_TOKEN") {
        Ok(expected) => expected,
        Err(KeyProblem::Unset) => {
            return Err(ApiError::new(ErrorCode::Unauthorized, "the admin API is disabled: set the ADMIN_TOKEN secret"))
        }
        Err(KeyProblem::TooShort) => return Err(invalid()),
    };
    let given = http::header(req, "authorization").unwrap_or_default();
    let given = given.strip_prefix("Bearer ").unwrap_or_default();
    if !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        return Err(invalid());
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
    if config.uses_test_timing() && !test_timing(env) {
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
    let rows: Vec<EventRow> = db(env)?
        .query(
            "SELECT id, visitor, session, at, received_at, data FROM events \
             WHERE site = ?1 AND (?2 IS NULL OR visitor = ?2) ORDER BY at DESC, id LIMIT ?3",
            &[&site, &query.visitor.as_deref(), &limit],
        )
        .all("listing events")
        .await?;
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
    let limit = http::query_limit(req, MAX_LEADS_LISTED);
    let rows: Vec<LeadRow> = db(env)?
        .query("SELECT data FROM leads WHERE site = ?1 ORDER BY created_at DESC, id LIMIT ?2", &[&site, &limit])
        .all("listing leads")
        .await?;
    let leads = rows
        .iter()
        .map(|row| serde_json::from_str::<Lead>(&row.data).map_err(|e| internal("decoding a lead", e)))
        .collect::<Result<Vec<_>, _>>()?;
    http::json(&leads, 200)
}
