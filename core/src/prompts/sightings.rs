//! Where a site's tag was seen, so its owner can be told what the shop's page only says in the
//! browser's console: origins the site does not list (the tag sits on a page the config does not
//! name, so the widget records nothing there) and, per listed origin, when the widget last loaded
//! (the install check). Both are bounded per site: an attacker can send any `Origin` header.

use serde::{Deserialize, Serialize};

use crate::prompts::config::{normalize_origin, MAX_ORIGINS};

/// Refused origins kept per site. A flood of made-up origins cannot push out a real one: the most
/// used are kept first (a shop's page sends a request per page view), then the most recent.
pub const MAX_REFUSED_PER_SITE: u32 = 20;
/// A sighting not seen again for this long is forgotten.
pub const SIGHTING_MAX_AGE_MS: u64 = 30 * 24 * 3600 * 1000;
/// A listed origin's load is recorded at most this often: the config is read on every page view,
/// and the install check needs minutes, not milliseconds.
pub const LOAD_RECORD_INTERVAL_MS: u64 = 60 * 1000;
/// Longer `Origin` values are not origins any page has; they are not recorded.
pub const MAX_SIGHTED_ORIGIN_LEN: usize = 200;

/// What happened at an origin.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Sighting {
    /// The site does not list the origin: its config, events or chat were refused there.
    Refused,
    /// The site lists the origin and its widget read the config there.
    Loaded,
}

impl Sighting {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Sighting::Refused => "refused",
            Sighting::Loaded => "loaded",
        }
    }

    /// How many origins of this kind a site keeps: loads happen only on listed origins.
    pub fn max_kept(self) -> u32 {
        match self {
            Sighting::Refused => MAX_REFUSED_PER_SITE,
            Sighting::Loaded => MAX_ORIGINS as u32,
        }
    }

    /// How long after the last recorded sighting of an origin the next one is recorded: every
    /// refusal; a load at most once per [`LOAD_RECORD_INTERVAL_MS`].
    pub fn record_interval_ms(self) -> u64 {
        match self {
            Sighting::Refused => 0,
            Sighting::Loaded => LOAD_RECORD_INTERVAL_MS,
        }
    }
}

/// One origin of one kind: when first and last seen, and how often.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct OriginSighting {
    pub origin: String,
    pub first_seen_at: u64,
    pub last_seen_at: u64,
    /// Requests counted: every refusal; loads at most one per [`LOAD_RECORD_INTERVAL_MS`].
    pub count: u64,
}

/// `GET /v1/admin/sites/:site/origins`: the sightings of the last [`SIGHTING_MAX_AGE_MS`], most
/// recent first, each list at most [`Sighting::max_kept`] long.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct OriginReport {
    /// Origins the site does not list that asked for its config, events or chat: "your tag sits
    /// on an unlisted origin".
    pub refused: Vec<OriginSighting>,
    /// The site's own origins where the widget loaded.
    pub loaded: Vec<OriginSighting>,
}

/// The origin to record for a request's `Origin` header: its normalised form, or `None` for
/// what no page sends (`null` from a sandboxed frame or a file, junk, oversized values).
pub fn sighted_origin(header: &str) -> Option<String> {
    normalize_origin(header).filter(|origin| origin.len() <= MAX_SIGHTED_ORIGIN_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_origins_of_sane_length_are_recorded() {
        assert_eq!(sighted_origin("https://Shop.Example:8443").as_deref(), Some("https://shop.example:8443"));
        for junk in ["null", "", "file://", "javascript:alert(1)", "https://shop.example/path", "https://a b"] {
            assert_eq!(sighted_origin(junk), None, "{junk}");
        }
        let long_host = format!("https://{}.example", "a".repeat(MAX_SIGHTED_ORIGIN_LEN));
        assert_eq!(sighted_origin(&long_host), None);
    }

    #[test]
    fn kinds_have_stable_names() {
        assert_eq!((Sighting::Refused.as_str(), Sighting::Loaded.as_str()), ("refused", "loaded"));
        assert_eq!(serde_json::to_string(&Sighting::Refused).ok().as_deref(), Some("\"refused\""));
    }
}
