//! Site configs in D1.

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::base::ids::validate_site_id;
use floorwalker_core::prompts::config::SiteConfig;
use wasm_bindgen::JsValue;
use worker::{D1Database, Env, Request, Response};

use crate::http::{self, internal};

pub fn db(env: &Env) -> Result<D1Database, ApiError> {
    env.d1("DB").map_err(|e| internal("opening D1", e))
}

/// The stored config of `site`, or `None` when there is no such site.
pub async fn load(env: &Env, site: &str) -> Result<Option<SiteConfig>, ApiError> {
    validate_site_id(site)?;
    let statement = db(env)?
        .prepare("SELECT config FROM sites WHERE id = ?1")
        .bind(&[JsValue::from_str(site)])
        .map_err(|e| internal("querying the site", e))?;
    let stored: Option<String> = statement.first(Some("config")).await.map_err(|e| internal("querying the site", e))?;
    stored
        .map(|json| serde_json::from_str(&json).map_err(|e| internal("decoding a stored config", e)))
        .transpose()
}

/// The config of `site`, or `unknown_site`.
pub async fn require(env: &Env, site: &str) -> Result<SiteConfig, ApiError> {
    load(env, site).await?.ok_or_else(|| ApiError::new(ErrorCode::UnknownSite, format!("there is no site {site:?}")))
}

pub async fn any_site_allows(env: &Env, origin: &str) -> Result<bool, ApiError> {
    let Some(origin) = floorwalker_core::prompts::config::normalize_origin(origin) else {
        return Ok(false);
    };
    let statement = db(env)?
        .prepare("SELECT site FROM site_origins WHERE origin = ?1 LIMIT 1")
        .bind(&[JsValue::from_str(&origin)])
        .map_err(|e| internal("querying origins", e))?;
    let site: Option<String> = statement.first(Some("site")).await.map_err(|e| internal("querying origins", e))?;
    Ok(site.is_some())
}

/// Stores a config that has already been validated, replacing the site's previous one.
pub async fn store(env: &Env, config: &SiteConfig, now_ms: u64) -> Result<(), ApiError> {
    let db = db(env)?;
    refuse_origins_of_other_sites(&db, config).await?;
    let json = serde_json::to_string(config).map_err(|e| internal("encoding the config", e))?;
    let site = JsValue::from_str(&config.site);
    let mut statements = vec![
        db.prepare("INSERT INTO sites (id, config, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at")
            .bind(&[site.clone(), JsValue::from_str(&json), JsValue::from_f64(now_ms as f64)]),
        db.prepare("DELETE FROM site_origins WHERE site = ?1").bind(std::slice::from_ref(&site)),
    ];
    for origin in &config.origins {
        statements.push(
            db.prepare("INSERT INTO site_origins (origin, site) VALUES (?1, ?2)")
                .bind(&[JsValue::from_str(origin), site.clone()]),
        );
    }
    let statements = statements.into_iter().collect::<Result<Vec<_>, _>>().map_err(|e| internal("storing the config", e))?;
    db.batch(statements).await.map_err(|e| internal("storing the config", e))?;
    Ok(())
}

/// `origin_taken` when another site already lists one of the config's origins.
async fn refuse_origins_of_other_sites(db: &D1Database, config: &SiteConfig) -> Result<(), ApiError> {
    #[derive(serde::Deserialize)]
    struct Claim {
        origin: String,
        site: String,
    }
    let origins = serde_json::to_string(&config.origins).map_err(|e| internal("encoding the origins", e))?;
    let claim: Option<Claim> = db
        .prepare("SELECT origin, site FROM site_origins WHERE site <> ?1 AND origin IN (SELECT value FROM json_each(?2)) LIMIT 1")
        .bind(&[JsValue::from_str(&config.site), JsValue::from_str(&origins)])
        .map_err(|e| internal("checking the origins", e))?
        .first(None)
        .await
        .map_err(|e| internal("checking the origins", e))?;
    claim.map_or(Ok(()), |claim| Err(floorwalker_core::prompts::config::origin_taken(&claim.origin, &claim.site)))
}

/// Whether this deployment runs the end-to-end tests: only then may a config shorten the prompt
/// engine's time floors (`widget.test_timing`). A deploy-level switch, so no site owner can.
pub fn test_timing_enabled(env: &Env) -> bool {
    env.var("FLOORWALKER_TEST_TIMING").is_ok_and(|value| value.to_string() == "1")
}

/// `GET /v1/sites/:site/config`: the public part of the config, readable only by allowed origins.
pub async fn serve_public_config(req: &Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    let (config, origin) = require_for_origin(req, env, site).await?;
    let mut public = config.public();
    if !test_timing_enabled(env) {
        // Stored while the switch was on; without it the engine keeps its real floors.
        public.widget.test_timing = None;
    }
    public_response(&public, 60, origin.as_deref())
}

/// `GET /v1/sites/:site/presence`: whether an operator is online, for widgets whose rules ask
/// (the chat invitation). Cached briefly: a visitor learning of an operator 15 s late costs
/// nothing, and a busy site's page views do not each wake the site's hub.
pub async fn serve_presence(req: &Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    let (_, origin) = require_for_origin(req, env, site).await?;
    let presence = floorwalker_core::chat::protocol::SitePresence { operator_online: crate::chat::operator_online(env, site).await };
    public_response(&presence, 15, origin.as_deref())
}

/// The site's config, when the request's page (if a browser sent it) is one of the site's origins.
async fn require_for_origin(req: &Request, env: &Env, site: &str) -> Result<(SiteConfig, Option<String>), ApiError> {
    let config = require(env, site).await?;
    let origin = http::header(req, "origin");
    if let Some(origin) = &origin {
        if !config.allows_origin(origin) {
            return Err(ApiError::new(
                ErrorCode::OriginNotAllowed,
                format!("origin {origin} is not allowed for site {site:?}; add it to the site's origins"),
            ));
        }
    }
    Ok((config, origin))
}

fn public_response(body: &impl serde::Serialize, max_age_s: u32, origin: Option<&str>) -> Result<Response, ApiError> {
    let mut response = http::json(body, 200)?;
    http::set(response.headers_mut(), "cache-control", &format!("public, max-age={max_age_s}"))?;
    if let Some(origin) = origin {
        http::allow_origin(&mut response, origin)?;
    }
    Ok(response)
}
