//! Response helpers and request reading shared by every route. Imports nothing of the worker:
//! every other module may use it (CORS is `cors`, which needs the site store).

use floorwalker_core::base::error::{ApiError, ErrorBody, ErrorCode};
use serde::Serialize;
use worker::{Headers, Request, Response, Result};

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

/// An HTML page that runs nothing and leaks nothing (a consent link's URL holds a token).
pub fn html(page: &str, status: u16) -> std::result::Result<Response, ApiError> {
    let headers = Headers::new();
    for (name, value) in [
        ("content-type", "text/html; charset=utf-8"),
        ("cache-control", "no-store"),
        // `form-action 'self'`: the consent page's button posts back to its own URL and nowhere else.
        ("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; img-src https: http:; frame-src 'self'; form-action 'self'"),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
    ] {
        set(&headers, name, value)?;
    }
    Ok(Response::ok(page).map_err(|e| internal("building the page", e))?.with_status(status).with_headers(headers))
}

/// An `ApiError` as its JSON answer. `cors::error_response` makes it readable by the page that caused it.
pub fn error_response(error: &ApiError) -> Result<Response> {
    let body = serde_json::to_string(&ErrorBody { error: error.clone() })?;
    let mut response = Response::ok(body)?.with_status(error.http_status());
    let headers = response.headers_mut();
    headers.set("content-type", "application/json; charset=utf-8")?;
    headers.set("cache-control", "no-store")?;
    Ok(response)
}

pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// The first value of the query parameter `name`.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.url().ok().and_then(|url| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()))
}

/// `?limit=` clamped to `1..=max` (default 100).
pub fn query_limit(req: &Request, max: u32) -> u32 {
    query_param(req, "limit").and_then(|v| v.parse::<u32>().ok()).unwrap_or(100).clamp(1, max)
}

/// Reads the body, refusing more than `limit` bytes, and parses it as JSON. `text/plain` is
/// accepted too: that is what `navigator.sendBeacon` sends, and it needs no preflight.
pub async fn read_json<T: serde::de::DeserializeOwned>(req: &mut Request, limit: usize) -> std::result::Result<T, ApiError> {
    let content_type = header(req, "content-type").unwrap_or_default().to_ascii_lowercase();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    // `application/merge-patch+json` (RFC 7396) is JSON too: the partial changes of `PATCH`.
    if !matches!(media_type, "application/json" | "application/merge-patch+json" | "text/plain" | "") {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!("send JSON as application/json or text/plain, not {media_type}"),
        ));
    }
    let bytes = read_bytes(req, limit).await?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("malformed JSON: {e}")))
}


pub async fn read_bytes(req: &mut Request, limit: usize) -> std::result::Result<Vec<u8>, ApiError> {
    let too_large = || ApiError::new(ErrorCode::PayloadTooLarge, format!("the body must be at most {limit} bytes"));
    if header(req, "content-length").and_then(|l| l.parse::<usize>().ok()).is_some_and(|l| l > limit) {
        return Err(too_large());
    }
    let bytes = req.bytes().await.map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("unreadable body: {e}")))?;
    if bytes.len() > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Milliseconds since the Unix epoch by the worker's clock.
pub fn now_ms() -> u64 {
    worker::Date::now().as_millis()
}
