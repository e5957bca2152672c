//! CORS: which pages may read the API's answers. Only origins a site lists get an answer they can
//! read; the preflight asks the site store (the site named by `?site=`, or any site).

use floorwalker_core::base::error::{ApiError, ErrorCode};
use worker::{Env, Headers, Request, Response};

use crate::http::{self, internal};
use crate::sites;

fn allow(headers: &Headers, origin: &str) -> worker::Result<()> {
    headers.set("access-control-allow-origin", origin)?;
    headers.set("vary", "Origin")
}

/// Allows `origin` to read the response. Only ever called with an origin the site allows.
pub fn allow_origin(response: &mut Response, origin: &str) -> Result<(), ApiError> {
    allow(response.headers_mut(), origin).map_err(|e| internal("setting a header", e))
}

/// An `ApiError` as its JSON answer, readable by the page that caused it (when a browser sent
/// one) so the widget can show a useful message; errors carry no data of the site's.
pub fn error_response(error: &ApiError, origin: Option<&str>) -> worker::Result<Response> {
    let mut response = http::error_response(error)?;
    if let Some(origin) = origin {
        allow(response.headers_mut(), origin)?;
    }
    Ok(response)
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
