//! CORS: which pages may read the API's answers. Only origins a site lists get an answer they can
//! read, errors included; the preflight asks the site store (the site named by `?site=`, or any
//! site). Every answer whose CORS headers depend on the request's Origin says so (`Vary: Origin`),
//! so no cache hands one origin's answer to another.

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::prompts::config::SiteConfig;
use floorwalker_core::prompts::sightings::Sighting;
use worker::{Env, Headers, Request, Response};

use crate::http::{self, internal};
use crate::{sightings, sites};

fn allow(headers: &Headers, origin: &str) -> worker::Result<()> {
    headers.set("access-control-allow-origin", origin)?;
    vary(headers)
}

fn vary(headers: &Headers) -> worker::Result<()> {
    headers.set("vary", "Origin")
}

/// Allows `origin` to read the response. Only ever called with an origin the site allows.
pub fn allow_origin(response: &mut Response, origin: &str) -> Result<(), ApiError> {
    allow(response.headers_mut(), origin).map_err(|e| internal("setting a header", e))
}

/// Marks a response that some origins may read and others not (`Vary: Origin`), when this
/// request's answer has no `Access-Control-Allow-Origin` (no Origin was sent).
pub fn vary_on_origin(response: &mut Response) -> Result<(), ApiError> {
    vary(response.headers_mut()).map_err(|e| internal("setting a header", e))
}

/// An `ApiError` as its JSON answer, readable by `origin`, which the caller has checked against
/// the site (so the widget can show a useful message); errors carry no data of the site's.
pub fn error_response(error: &ApiError, origin: Option<&str>) -> worker::Result<Response> {
    let mut response = http::error_response(error)?;
    match origin {
        Some(origin) => allow(response.headers_mut(), origin)?,
        None => vary(response.headers_mut())?,
    }
    Ok(response)
}

/// An `ApiError` as its JSON answer to a request whose Origin (if any) nobody has checked yet:
/// readable only by an origin some site lists, and never after the origin itself was refused.
pub async fn error_response_if_allowed(error: &ApiError, origin: Option<&str>, env: &Env) -> worker::Result<Response> {
    let readable = match origin {
        Some(origin) if error.code != ErrorCode::OriginNotAllowed => {
            sites::any_site_allows(env, origin).await.unwrap_or(false).then_some(origin)
        }
        _ => None,
    };
    error_response(error, readable)
}

/// `origin_not_allowed` unless `config` lists `origin`; a refusal is recorded for the owner
/// (`sightings`). Every route a site's pages call checks their Origin with it.
pub async fn require_listed(env: &Env, config: &SiteConfig, origin: &str) -> Result<(), ApiError> {
    if config.allows_origin(origin) {
        return Ok(());
    }
    sightings::record(env, &config.site, Sighting::Refused, origin, http::now_ms()).await;
    Err(ApiError::new(
        ErrorCode::OriginNotAllowed,
        format!("origin {origin} is not allowed for site {:?}; add it to the site's origins", config.site),
    ))
}

/// `OPTIONS /v1/*`: the preflight. Only origins configured for the site named by `?site=` (or,
/// without it, for some site) get an answer that lets the browser proceed.
pub async fn preflight(req: &Request, env: &Env) -> Result<Response, ApiError> {
    let origin = http::header(req, "origin").ok_or_else(|| ApiError::new(ErrorCode::OriginNotAllowed, "preflight without Origin"))?;
    let allowed = match http::query_param(req, "site") {
        Some(site) => sites::load(env, &site).await?.is_some_and(|config| config.allows_origin(&origin)),
        None => sites::any_site_allows(env, &origin).await?,
    };
    if !allowed {
        return Err(ApiError::new(ErrorCode::OriginNotAllowed, format!("origin {origin} is not allowed")));
    }
    let mut response = Response::empty().map_err(|e| internal("building the response", e))?.with_status(204);
    allow_origin(&mut response, &origin)?;
    let headers = response.headers_mut();
    http::set(headers, "access-control-allow-methods", "GET, POST, OPTIONS")?;
    http::set(headers, "access-control-allow-headers", "content-type, idempotency-key")?;
    http::set(headers, "access-control-max-age", "86400")?;
    Ok(response)
}
