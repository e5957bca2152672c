//! A site's origins: each a plain lowercase `scheme://host[:port]`, each listed once, and each
//! belonging to one site only (CORS preflights that name no site find the site by origin).

use crate::base::error::{ApiError, ErrorCode};

/// Checks a config's origin list: well-formed and without repeats (a repeat would be stored twice).
pub(super) fn check_origins(origins: &[String]) -> Result<(), ApiError> {
    for (index, origin) in origins.iter().enumerate() {
        if normalize_origin(origin).as_deref() != Some(origin.as_str()) {
            return Err(super::invalid(format!(
                "origins: {origin:?} is not a lowercase origin like \"https://shop.example\" (no path, no trailing slash)"
            )));
        }
        if origins[..index].contains(origin) {
            return Err(super::invalid(format!("origins: {origin:?} is listed twice; list each origin once")));
        }
    }
    Ok(())
}

/// The refusal for a config that lists `origin`, which `owner` (another site) already has.
pub fn origin_taken(origin: &str, owner: &str) -> ApiError {
    ApiError::new(
        ErrorCode::OriginTaken,
        format!("origins: {origin:?} already belongs to site {owner:?}; an origin belongs to one site (remove it there first)"),
    )
}

/// `scheme://host[:port]` in lowercase, or `None` if `origin` is not a plain http(s) origin.
pub fn normalize_origin(origin: &str) -> Option<String> {
    let lower = origin.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"))?;
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || rest.starts_with('[') => (host, Some(port)),
        _ => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    (host_ok && port_ok).then_some(lower)
}
