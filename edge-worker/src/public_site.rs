//! What a site's own pages read before a visitor does anything: `GET /v1/sites/:site/config` and
//! `GET /v1/sites/:site/presence`, each readable only by the site's origins and briefly cacheable.

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::base::wire;
use floorwalker_core::prompts::config::SiteConfig;
use worker::{Env, Request, Response};

use crate::platform::vars::test_timing;
use crate::{chat, cors, http, sites};

/// `GET /v1/sites/:site/config`: the public part of the config, readable only by allowed origins.
pub async fn serve_config(req: &Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    let (config, origin) = require_for_origin(req, env, site).await?;
    let mut public = config.public();
    if !test_timing(env) {
        // Stored while the switch was on; without it the engine keeps its real floors.
        public.widget.test_timing = None;
    }
    // `?wire=N`: the compact form the widget decodes (core's `base::wire`), in the version it was
    // built for; JSON otherwise, for people and tools.
    match http::query_param(req, "wire") {
        None => public_response(&public, 60, origin.as_deref()),
        Some(version) if version == wire::VERSION.to_string() => {
            let response = Response::from_bytes(wire::encode(&public)).map_err(|e| http::internal("wire config", e))?;
            http::set(response.headers(), "content-type", "application/octet-stream")?;
            cacheable(response, 60, origin.as_deref())
        }
        Some(version) => Err(ApiError::new(
            ErrorCode::UnsupportedVersion,
            format!("wire form version {version:?} is not served; this worker serves version {}", wire::VERSION),
        )),
    }
}

/// `GET /v1/sites/:site/presence`: whether an operator is online, for widgets whose rules ask
/// (the chat invitation). Cached briefly: a visitor learning of an operator 15 s late costs
/// nothing, and a busy site's page views do not each wake the site's hub.
pub async fn serve_presence(req: &Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    let (_, origin) = require_for_origin(req, env, site).await?;
    let presence = floorwalker_core::chat::protocol::SitePresence { operator_online: chat::operator_online(env, site).await };
    public_response(&presence, 15, origin.as_deref())
}

/// The site's config, when the request's page (if a browser sent it) is one of the site's origins.
async fn require_for_origin(req: &Request, env: &Env, site: &str) -> Result<(SiteConfig, Option<String>), ApiError> {
    let config = sites::require(env, site).await?;
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
    cacheable(http::json(body, 200)?, max_age_s, origin)
}

fn cacheable(mut response: Response, max_age_s: u32, origin: Option<&str>) -> Result<Response, ApiError> {
    http::set(response.headers_mut(), "cache-control", &format!("public, max-age={max_age_s}"))?;
    if let Some(origin) = origin {
        cors::allow_origin(&mut response, origin)?;
    }
    Ok(response)
}
