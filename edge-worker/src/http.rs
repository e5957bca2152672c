//! Response helpers, CORS and request-body reading shared by every route.

use floorwalker_core::base::error::{ApiError, ErrorBody, ErrorCode};
use serde::Serialize;
use worker::{Env, Headers, Request, Response, Result};

use crate::sites;

/// Turns an internal failure (D1 down, binding missing) into an `internal` error.
pub fn internal(context: &str, error: impl std::fmt::Display) -> ApiError {
    worker::console_error!("{context}: {error}");
    ApiError::new(ErrorCode::Internal, format!("{context} failed; please retry"))
}

pub fn json(value: &impl Serialize, status: u16) -> std::result::Result<Response, ApiError> {
    let body = serde_json::to_string(value).map_err(|e| internal("encoding the response", e))?;
    let headers = Headers::new();
    set(&headers, "content-type", "application/json; charset=utf-8")?;
    set(&headers, "cache-control", "no-store")?;
    Ok(Response::ok(body).map_err(|e| internal("building the response", e))?.with_status(status).with_headers(headers))
}

pub fn set(headers: &Headers, name: &str, value: &str) -> std::result::Result<(), ApiError> {
    headers.set(name, value).map_err(|e| internal("setting a header", e))
}

/// Allows `origin` to read the response. Only ever called with an origin the site allows.
pub fn allow_origin(response: &mut Response, origin: &str) -> std::result::Result<(), ApiError> {
    let headers = response.headers_mut();
    set(headers, "access-control-allow-origin", origin)?;
    set(headers, "vary", "Origin")
}

pub fn error_response(error: &ApiError, origin: Option<&str>) -> Result<Response> {
    let body = serde_json::to_string(&ErrorBody { error: error.clone() })?;
    let mut response = Response::ok(body)?.with_status(error.http_status());
    let headers = response.headers_mut();
    headers.set("content-type", "application/json; charset=utf-8")?;
    headers.set("cache-control", "no-store")?;
    // Errors are readable by the page that caused them so the widget can show a useful message;
    // they carry no data of the site's.
    if let Some(origin) = origin {
        headers.set("access-control-allow-origin", origin)?;
        headers.set("vary", "Origin")?;
    }
    Ok(response)
}

/// CORS preflight. Only origins configured for the site named by `?site=` (or, without it, for
/// some site) get an answer that lets the browser proceed.
pub async fn preflight(req: &Request, env: &Env) -> std::result::Result<Response, ApiError> {
    let origin = header(req, "origin").ok_or_else(|| ApiError::new(ErrorCode::OriginNotAllowed, "preflight without Origin"))?;
    let site = req.url().ok().and_then(|url| url.query_pairs().find(|(k, _)| k == "site").map(|(_, v)| v.into_owned()));
    let allowed = match site {
        Some(site) => sites::load(env, &site).await?.is_some_and(|config| config.allows_origin(&origin)),
        None => sites::any_site_allows(env, &origin).await?,
    };
    if !allowed {
        return Err(ApiError::new(ErrorCode::OriginNotAllowed, format!("origin {origin} is not allowed")));
    }
    let mut response = Response::empty().map_err(|e| internal("building the response", e))?.with_status(204);
    allow_origin(&mut response, &origin)?;
    let headers = response.headers_mut();
    set(headers, "access-control-allow-methods", "GET, POST, OPTIONS")?;
    set(headers, "access-control-allow-headers", "content-type, idempotency-key")?;
    set(headers, "access-control-max-age", "86400")?;
    Ok(response)
}

pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// Reads the body, refusing more than `limit` bytes, and parses it as JSON. `text/plain` is
/// accepted too: that is what `navigator.sendBeacon` sends, and it needs no preflight.
pub async fn read_json<T: serde::de::DeserializeOwned>(req: &mut Request, limit: usize) -> std::result::Result<T, ApiError> {
    let content_type = header(req, "content-type").unwrap_or_default().to_ascii_lowercase();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if !matches!(media_type, "application/json" | "text/plain" | "") {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!("send JSON as application/json or text/plain, not {media_type}"),
        ));
    }
    let too_large = || ApiError::new(ErrorCode::PayloadTooLarge, format!("the body must be at most {limit} bytes"));
    if header(req, "content-length").and_then(|l| l.parse::<usize>().ok()).is_some_and(|l| l > limit) {
        return Err(too_large());
    }
    let bytes = req.bytes().await.map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("unreadable body: {e}")))?;
    if bytes.len() > limit {
        return Err(too_large());
    }
    serde_json::from_slice(&bytes).map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("malformed JSON: {e}")))
}

/// Milliseconds since the Unix epoch by the worker's clock.
pub fn now_ms() -> u64 {
    worker::Date::now().as_millis()
}
