//! What a site's own pages read before a visitor does anything: `GET /v1/sites/:site/config` and
//! `GET /v1/sites/:site/presence`, each readable only by the site's origins and briefly cacheable
//! (`Vary: Origin`: the answer to one origin is never another's). A refused origin is recorded for
//! the owner, and so is a load on a listed one (`sightings`). Both are rate limited per client
//! address; the counters ride in the same D1 batch as the config's read (one round trip, as before
//! they were counted). Also the preflight's limit, in front of `cors::preflight`.

use floorwalker_core::access::public_limits::PublicRoute;
use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::base::wire;
use floorwalker_core::prompts::config::SiteConfig;
use floorwalker_core::prompts::sightings::Sighting;
use worker::{Context, Env, Request, Response};

use crate::platform::d1::db;
use crate::platform::vars::test_timing;
use crate::{chat, cors, http, rate_limit, sightings, sites};

/// `GET /v1/sites/:site/config`: the public part of the config, readable only by allowed origins.
pub async fn serve_config(req: &Request, env: &Env, ctx: &Context, site: &str) -> Result<Response, ApiError> {
    let (config, origin) = match require_for_origin(req, env, site, PublicRoute::Config).await? {
        Allowed::Yes(config, origin) => (config, origin),
        Allowed::TooMany(refusal) => return Ok(refusal),
    };
    let mut public = config.public();
    if !test_timing(env) {
        // Stored while the switch was on; without it the engine keeps its real floors.
        public.widget.test_timing = None;
    }
    // A page on the worker's own origin (the demo shop) fetches without an Origin header; the
    // browser's `Sec-Fetch-Site` says so, and the owner's install check should see that load too.
    let loaded_on = origin.clone().or_else(|| {
        let same_origin = http::header(req, "sec-fetch-site").is_some_and(|site| site == "same-origin");
        let own = req.url().ok().map(|url| url.origin().ascii_serialization());
        own.filter(|own| same_origin && config.allows_origin(own))
    });
    if let Some(origin) = loaded_on {
        // After the answer: the widget's start waits for this config, not for the bookkeeping.
        ctx.wait_until(sightings::record_later(env.clone(), site.to_owned(), Sighting::Loaded, origin, http::now_ms()));
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
    let origin = match require_for_origin(req, env, site, PublicRoute::Presence).await? {
        Allowed::Yes(_, origin) => origin,
        Allowed::TooMany(refusal) => return Ok(refusal),
    };
    let presence = floorwalker_core::chat::protocol::SitePresence { operator_online: chat::operator_online(env, site).await };
    public_response(&presence, 15, origin.as_deref())
}

enum Allowed {
    /// The site's config and the request's Origin, which the site lists (if a browser sent one).
    Yes(SiteConfig, Option<String>),
    /// The 429 to answer: the client asked too often.
    TooMany(Response),
}

/// Counts the request on `route`'s limit (per client address: the site may not exist, and
/// counters for made-up sites would be rows for nothing) and reads the site's config, in one D1
/// batch; then checks the request's page (if a browser sent it) is one of the site's origins.
async fn require_for_origin(req: &Request, env: &Env, site: &str, route: PublicRoute) -> Result<Allowed, ApiError> {
    let now = http::now_ms();
    let counters = route.counters("", &rate_limit::client(req), None);
    let db = db(env)?;
    let mut statements = counters.iter().map(|counter| rate_limit::hit_statement(&db, counter, now)).collect::<Result<Vec<_>, _>>()?;
    statements.push(sites::load_statement(&db, site)?);
    let results = db.batch(statements, "reading the site").await?;
    let (counted, read) = results.split_at(counters.len());
    let config = read.first().map(sites::loaded).transpose()?.flatten().ok_or_else(|| sites::unknown(site))?;
    let origin = http::header(req, "origin");
    // Over the limit first: a flood is not also recorded origin by origin.
    if let Some(retry_after_s) = rate_limit::verdict_of(&counters, counted, now) {
        let listed = origin.as_deref().filter(|origin| config.allows_origin(origin));
        return Ok(Allowed::TooMany(rate_limit::too_many(retry_after_s, listed)?));
    }
    if let Some(origin) = &origin {
        cors::require_listed(env, &config, origin).await?;
    }
    Ok(Allowed::Yes(config, origin))
}

/// `OPTIONS /v1/*`: counted per client address, then answered by `cors::preflight`.
pub async fn preflight(req: &Request, env: &Env) -> Result<Response, ApiError> {
    let counters = PublicRoute::Preflight.counters("", &rate_limit::client(req), None);
    if let Some(refusal) = rate_limit::check(env, &counters, http::now_ms(), None).await? {
        return Ok(refusal);
    }
    cors::preflight(req, env).await
}

fn public_response(body: &impl serde::Serialize, max_age_s: u32, origin: Option<&str>) -> Result<Response, ApiError> {
    cacheable(http::json(body, 200)?, max_age_s, origin)
}

fn cacheable(mut response: Response, max_age_s: u32, origin: Option<&str>) -> Result<Response, ApiError> {
    http::set(response.headers_mut(), "cache-control", &format!("public, max-age={max_age_s}"))?;
    match origin {
        Some(origin) => cors::allow_origin(&mut response, origin)?,
        None => cors::vary_on_origin(&mut response)?,
    }
    Ok(response)
}
