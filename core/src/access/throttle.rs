//! Fixed-window rate limits: who a request is counted as, the window it falls in, and the refusal.
//! The worker keeps the counters (one D1 upsert per key, batched); every decision is here.

use std::net::{IpAddr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use crate::base::error::{ApiError, ErrorCode};

/// The longest window: counters whose window started more than this long ago may be deleted.
pub const MAX_WINDOW_S: u32 = 86_400;

/// At most this many requests per window. Serialised in site settings as `{"max": 30, "window_s": 600}`.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    pub max: u32,
    pub window_s: u32,
}

impl Limit {
    pub const fn new(max: u32, window_s: u32) -> Self {
        Limit { max, window_s }
    }

    /// A limit of zero requests or a zero-length window is a configuration mistake, not a way
    /// to switch something off. Windows end within a day because counters older than a day are
    /// pruned.
    pub fn validate(&self, what: &str) -> Result<(), ApiError> {
        if self.max == 0 || self.window_s == 0 || self.window_s > MAX_WINDOW_S {
            return Err(ApiError::new(
                ErrorCode::InvalidConfig,
                format!("{what}: max must be at least 1 and window_s between 1 and {MAX_WINDOW_S} seconds"),
            ));
        }
        Ok(())
    }
}

/// Answers to messages left after hours one operator may send in ten minutes: a working pace,
/// not a mail cannon.
pub const OFFLINE_REPLIES_PER_OPERATOR: Limit = Limit::new(30, 600);
/// Answers to one message left after hours in an hour: a follow-up or two, not a flood of one inbox.
pub const OFFLINE_REPLIES_PER_MESSAGE: Limit = Limit::new(5, 3600);

/// The counters one answer to a message left after hours hits (`chat::offline`): the operator's
/// pace and the message's.
pub fn offline_reply_counters(site: &str, operator_id: &str, lead_id: &str) -> [Counter; 2] {
    [
        Counter::new("offline-reply-operator", &[site, operator_id], OFFLINE_REPLIES_PER_OPERATOR),
        Counter::new("offline-reply-message", &[site, lead_id], OFFLINE_REPLIES_PER_MESSAGE),
    ]
}

/// One counter a request hits: the key it is counted under (scope, site, who) and its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pub key: String,
    pub limit: Limit,
}

impl Counter {
    /// `scope` names the route or action ("events", "login"), `parts` who is counted
    /// (a site, a client key, an email). Parts are joined with '|', which none of them may hold
    /// ambiguously: a client key never contains it and ids are validated before they are counted.
    pub fn new(scope: &str, parts: &[&str], limit: Limit) -> Self {
        let mut key = String::from(scope);
        for part in parts {
            key.push('|');
            key.push_str(part);
        }
        Counter { key, limit }
    }

    /// The start of the window `now_ms` falls in: with the key, the row the count is kept in.
    pub fn window(&self, now_ms: u64) -> u64 {
        rate_window(now_ms, self.limit.window_s).0
    }
}

/// Given each counter with its count after this request, the `Retry-After` (seconds) if any
/// counter is over its limit: the longest wait among them, since waiting less would be refused again.
pub fn verdict(counted: &[(&Counter, u32)], now_ms: u64) -> Option<u64> {
    counted
        .iter()
        .filter(|(counter, count)| *count > counter.limit.max)
        .map(|(counter, _)| rate_window(now_ms, counter.limit.window_s).1)
        .max()
}

/// Whom a request is counted as, from the address Cloudflare reports (`CF-Connecting-IP`).
/// IPv4 by address; IPv6 by its /64, since one subscriber gets a whole /64 and can pick any
/// address in it. An IPv4-mapped IPv6 address is its IPv4 address. A missing or unparsable value
/// (only possible off Cloudflare, e.g. local development) is one shared "unknown" client.
pub fn client_key(connecting_ip: Option<&str>) -> String {
    let parsed = connecting_ip.and_then(|ip| ip.trim().parse::<IpAddr>().ok());
    match parsed {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                format!("{}/64", Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        },
        None => "unknown".to_owned(),
    }
}

/// The fixed window `now_ms` falls in: its start (the counter's row) and the seconds until it ends
/// (the `Retry-After` of a refusal).
pub fn rate_window(now_ms: u64, window_s: u32) -> (u64, u64) {
    let window_ms = u64::from(window_s.max(1)) * 1000;
    let start = now_ms - now_ms % window_ms;
    (start, (start + window_ms - now_ms).div_ceil(1000))
}

/// The error for a request over a limit.
pub fn rate_limited(retry_after_s: u64) -> ApiError {
    ApiError::new(ErrorCode::RateLimited, format!("too many requests; try again in {retry_after_s} s"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_retry_after() {
        assert_eq!(rate_window(600_000, 600), (600_000, 600));
        assert_eq!(rate_window(1_199_001, 600), (600_000, 1));
        assert_eq!(rate_window(1_000_500, 600), (600_000, 200));
        assert_eq!(rate_limited(5).code, ErrorCode::RateLimited);
    }

    #[test]
    fn clients_are_keyed_by_ipv4_address_and_ipv6_slash_64() {
        assert_eq!(client_key(Some("203.0.113.7")), "203.0.113.7");
        assert_eq!(client_key(Some(" 203.0.113.7 ")), "203.0.113.7");
        assert_eq!(client_key(Some("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(client_key(Some("2001:db8:1:2:ffff:ffff:ffff:ffff")), client_key(Some("2001:db8:1:2::9")));
        assert_ne!(client_key(Some("2001:db8:1:3::1")), client_key(Some("2001:db8:1:2::1")));
        assert_eq!(client_key(Some("::ffff:198.51.100.1")), "198.51.100.1");
        assert_eq!(client_key(None), "unknown");
        assert_eq!(client_key(Some("not an ip|evil")), "unknown");
        assert!(!client_key(Some("2001:db8::1")).contains('|'));
    }

    #[test]
    fn the_verdict_is_the_longest_wait_among_counters_over_their_limit() {
        let per_minute = Counter::new("events", &["demo", "203.0.113.7"], Limit::new(2, 60));
        let per_day = Counter::new("mail", &["demo"], Limit::new(5, 86_400));
        assert_eq!(per_minute.key, "events|demo|203.0.113.7");
        let now = 86_400_000 + 30_000;
        assert_eq!(verdict(&[(&per_minute, 2), (&per_day, 5)], now), None);
        assert_eq!(verdict(&[(&per_minute, 3), (&per_day, 5)], now), Some(30));
        assert_eq!(verdict(&[(&per_minute, 3), (&per_day, 6)], now), Some(86_370));
        assert_eq!(per_minute.window(now), 86_400_000);
    }

    #[test]
    fn limits_of_zero_are_refused() {
        assert!(Limit::new(1, 1).validate("x").is_ok());
        assert_eq!(Limit::new(0, 60).validate("x").unwrap_err().code, ErrorCode::InvalidConfig);
        assert!(Limit::new(5, 0).validate("x").is_err());
        assert!(Limit::new(5, 86_400).validate("x").is_ok());
        assert!(Limit::new(5, 86_401).validate("x").is_err());
    }
}
