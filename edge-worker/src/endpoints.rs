//! Webhook endpoints in D1 and their admin routes. Validation (SSRF guard, presets, secrets) is
//! core's `Endpoint::validate`; this module stores and lists.

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::outbound::delivery::{EndpointInput, EndpointSecret, EndpointView};
use floorwalker_core::outbound::endpoint::{Endpoint, MAX_ACTIVE_SECRETS};
use floorwalker_core::outbound::webhook::WebhookSecret;
use serde::Deserialize;
use worker::{D1PreparedStatement, D1Result, Env, Request, Response};

use crate::http::{self, internal};
use crate::platform::d1::{db, rows, Db};
use crate::platform::random::random_bytes;
use crate::{settings, sites};

const MAX_ENDPOINT_BYTES: usize = 8 * 1024;
const MAX_ENDPOINTS_PER_SITE: usize = 20;

#[derive(Deserialize)]
struct EndpointRow {
    config: String,
    disabled_reason: Option<String>,
}

/// Every endpoint of the site, with why it was disabled (if it was).
pub async fn load_all(env: &Env, site: &str) -> Result<Vec<(Endpoint, Option<String>)>, ApiError> {
    let db = db(env)?;
    let result = db.batch(vec![all_statement(&db, site)?], LOADING).await?;
    loaded_all(result.first().ok_or_else(|| internal(LOADING, "no result"))?)
}

/// The site's endpoints that can receive events now.
pub async fn active(env: &Env, site: &str) -> Result<Vec<Endpoint>, ApiError> {
    Ok(only_active(load_all(env, site).await?))
}

const LOADING: &str = "loading endpoints";

/// The statement [`load_all`] runs, for a caller that batches it with its own reads.
pub fn all_statement(db: &Db, site: &str) -> Result<D1PreparedStatement, ApiError> {
    db.query("SELECT config, disabled_reason FROM endpoints WHERE site = ?1 ORDER BY id", &[&site]).statement(LOADING)
}

/// The endpoints an [`all_statement`] found.
pub fn loaded_all(result: &D1Result) -> Result<Vec<(Endpoint, Option<String>)>, ApiError> {
    rows::<EndpointRow>(result, LOADING)?
        .into_iter()
        .map(|row| {
            let endpoint = serde_json::from_str(&row.config).map_err(|e| internal("decoding an endpoint", e))?;
            Ok((endpoint, row.disabled_reason))
        })
        .collect()
}

/// Those that can receive events now.
pub fn only_active(all: Vec<(Endpoint, Option<String>)>) -> Vec<Endpoint> {
    all.into_iter().map(|(e, _)| e).filter(|e| e.enabled).collect()
}

pub async fn load(env: &Env, site: &str, id: &str) -> Result<Option<(Endpoint, Option<String>)>, ApiError> {
    let db = db(env)?;
    let result = db.batch(vec![one_statement(&db, site, id)?], LOADING_ONE).await?;
    loaded_one(result.first().ok_or_else(|| internal(LOADING_ONE, "no result"))?)
}

const LOADING_ONE: &str = "loading an endpoint";

/// The statement [`load`] runs, for a caller that batches it with its own reads.
pub fn one_statement(db: &Db, site: &str, id: &str) -> Result<D1PreparedStatement, ApiError> {
    db.query("SELECT config, disabled_reason FROM endpoints WHERE site = ?1 AND id = ?2", &[&site, &id]).statement(LOADING_ONE)
}

/// The endpoint a [`one_statement`] found, with why it was disabled (if it was).
pub fn loaded_one(result: &D1Result) -> Result<Option<(Endpoint, Option<String>)>, ApiError> {
    Ok(loaded_all(result)?.into_iter().next())
}

async fn require(env: &Env, site: &str, id: &str) -> Result<(Endpoint, Option<String>), ApiError> {
    load(env, site, id).await?.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("site {site:?} has no endpoint {id:?}")))
}

/// Writes the endpoint (insert or replace), with `disabled_reason` cleared unless given.
pub async fn store(env: &Env, site: &str, endpoint: &Endpoint, disabled_reason: Option<&str>, now_ms: u64) -> Result<(), ApiError> {
    let json = serde_json::to_string(endpoint).map_err(|e| internal("encoding an endpoint", e))?;
    db(env)?
        .query(
            "INSERT INTO endpoints (site, id, config, disabled_reason, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5) \
             ON CONFLICT (site, id) DO UPDATE SET config = excluded.config, disabled_reason = excluded.disabled_reason, \
             updated_at = excluded.updated_at",
            &[&site, &endpoint.id, &json, &disabled_reason, &now_ms],
        )
        .run("storing an endpoint")
        .await
}

fn new_secret() -> Result<String, ApiError> {
    Ok(WebhookSecret::generate(random_bytes::<32>()?))
}

async fn validated(env: &Env, site: &str, endpoint: &Endpoint) -> Result<(), ApiError> {
    let settings = settings::load(env, site).await?;
    endpoint.validate(settings.allow_private_endpoints)
}

/// `POST /v1/admin/sites/:site/endpoints`: the new endpoint and its first secret, shown this once.
pub async fn create(req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    sites::require(env, site).await?;
    let input: EndpointInput = http::read_json(req, MAX_ENDPOINT_BYTES).await.map_err(as_config_error)?;
    let existing = load_all(env, site).await?;
    if existing.iter().any(|(e, _)| e.id == input.id) {
        return Err(ApiError::new(ErrorCode::InvalidConfig, format!("endpoint {:?} exists; PUT to change it", input.id)));
    }
    if existing.len() >= MAX_ENDPOINTS_PER_SITE {
        return Err(ApiError::new(ErrorCode::InvalidConfig, format!("at most {MAX_ENDPOINTS_PER_SITE} endpoints per site")));
    }
    let secret = new_secret()?;
    let endpoint = input.into_endpoint(vec![secret.clone()]);
    validated(env, site, &endpoint).await?;
    store(env, site, &endpoint, None, http::now_ms()).await?;
    http::json(&EndpointSecret { endpoint: EndpointView::of(&endpoint, None), secret }, 201)
}

/// `PUT /v1/admin/sites/:site/endpoints/:id`: changes everything but the secrets; re-enables.
pub async fn update(req: &mut Request, env: &Env, site: &str, id: &str) -> Result<Response, ApiError> {
    let (current, _) = require(env, site, id).await?;
    let input: EndpointInput = http::read_json(req, MAX_ENDPOINT_BYTES).await.map_err(as_config_error)?;
    if input.id != id {
        return Err(ApiError::new(ErrorCode::InvalidConfig, format!("the body is for endpoint {:?}, the URL for {id:?}", input.id)));
    }
    let endpoint = input.into_endpoint(current.secrets);
    validated(env, site, &endpoint).await?;
    store(env, site, &endpoint, None, http::now_ms()).await?;
    http::json(&EndpointView::of(&endpoint, None), 200)
}

pub async fn delete(env: &Env, site: &str, id: &str) -> Result<Response, ApiError> {
    require(env, site, id).await?;
    db(env)?.query("DELETE FROM endpoints WHERE site = ?1 AND id = ?2", &[&site, &id]).run("deleting an endpoint").await?;
    http::json(&serde_json::json!({"deleted": id}), 200)
}

pub async fn list(env: &Env, site: &str) -> Result<Response, ApiError> {
    sites::require(env, site).await?;
    let views: Vec<EndpointView> = load_all(env, site).await?.iter().map(|(e, reason)| EndpointView::of(e, reason.clone())).collect();
    http::json(&views, 200)
}

/// `POST .../endpoints/:id/rotate`: adds a secret; old and new both sign until `retire`.
pub async fn rotate(env: &Env, site: &str, id: &str) -> Result<Response, ApiError> {
    let (mut endpoint, reason) = require(env, site, id).await?;
    if endpoint.secrets.len() >= MAX_ACTIVE_SECRETS {
        return Err(ApiError::new(
            ErrorCode::InvalidConfig,
            format!("endpoint {id:?} already has {MAX_ACTIVE_SECRETS} active secrets; retire the old ones first"),
        ));
    }
    let secret = new_secret()?;
    endpoint.secrets.push(secret.clone());
    store(env, site, &endpoint, reason.as_deref(), http::now_ms()).await?;
    http::json(&EndpointSecret { endpoint: EndpointView::of(&endpoint, reason), secret }, 200)
}

/// `POST .../endpoints/:id/retire`: keeps only the newest secret, once receivers have switched.
pub async fn retire(env: &Env, site: &str, id: &str) -> Result<Response, ApiError> {
    let (mut endpoint, reason) = require(env, site, id).await?;
    let keep = endpoint.secrets.split_off(endpoint.secrets.len().saturating_sub(1));
    endpoint.secrets = keep;
    store(env, site, &endpoint, reason.as_deref(), http::now_ms()).await?;
    http::json(&EndpointView::of(&endpoint, reason), 200)
}

fn as_config_error(e: ApiError) -> ApiError {
    if e.code == ErrorCode::InvalidJson {
        ApiError::new(ErrorCode::InvalidConfig, e.message)
    } else {
        e
    }
}
