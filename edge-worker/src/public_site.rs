//! What a site's own pages read before a visitor does anything: `GET /v1/sites/:site/config` and
//! `GET /v1/sites/:site/presence`, each readable only by the site's origins and briefly cacheable
//! (`Vary: Origin`: the answer to one origin is never another's). A refused origin is recorded for
//! the owner, and so is a load on a listed one (`sightings`).

use floorwalker_core::base::error::ApiError;
use floorwalker_core::prompts::config::SiteConfig;
use floorwalker_core::prompts::sightings::Sighting;
use worker::{Context, Env, Request, Response};

use crate::platform::vars::test_timing;
use crate::{chat, cors, http, sightings, sites};

/// `GET /v1/sites/:site/config`: the public part of the config, readable only by allowed origins.
pub async fn serve_config(req: &Request, env: &Env, ctx: &Context, site: &str) -> Result<Response, ApiError> {
    let (config, origin) = require_for_origin(req, env, site).await?;
    let mut public = config.public();
    if !test_timing(env) {
        // Stored while the switch was on; without it the engine keeps its real floors.
        public.widget.test_timing = None;
    }
    if let Some(origin) = &origin {
        // After the answer: the widget's start waits for this config, not for the bookkeeping.
        ctx.wait_until(sightings::record_later(env.clone(), site.to_owned(), Sighting::Loaded, origin.clone(), http::now_ms()));
    }
    public_response(&public, 60, origin.as_deref())
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
        cors::require_listed(env, &config, origin).await?;
    }
    Ok((config, origin))
}

fn public_response(body: &impl serde::Serialize, max_age_s: u32, origin: Option<&str>) -> Result<Response, ApiError> {
    let mut response = http::json(body, 200)?;
    http::set(response.headers_mut(), "cache-control", &format!("public, max-age={max_age_s}"))?;
    match origin {
        Some(origin) => cors::allow_origin(&mut response, origin)?,
        None => cors::vary_on_origin(&mut response)?,
    }
    Ok(response)
}
