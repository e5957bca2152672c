//! Just enough URL handling for attribution and path rules. A full URL parser would cost the widget
//! size for no gain: event validation already guarantees absolute http(s) URLs of bounded length.

use crate::base::error::{ApiError, ErrorCode, Mistake};
use crate::base::text::{len_within, MAX_URL_LEN};

/// The host of an absolute URL (`https://Shop.Example:8080/x` → `shop.example:8080`), lowercase,
/// or `None` when there is no `scheme://host`.
pub fn host_of(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // Credentials in the authority never identify the site.
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Whether `host` (as [`host_of`] gives it, with or without a port) is this machine: `localhost`,
/// `127.0.0.0/8` or `[::1]`. Only there may a request's own Host header be trusted, since nobody
/// else can send to it.
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(bracketed) => {
            let ip = bracketed.split_once(']').map(|(ip, _)| ip);
            return ip.is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok_and(|ip| ip.is_loopback()));
        }
        None => host.split(':').next().unwrap_or_default(),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// The path of an absolute URL, without query or fragment; `/` when it has none.
pub fn path_of(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path_start = after_scheme.find(['/', '?', '#']).map_or(after_scheme.len(), |i| i);
    let from_path = &after_scheme[path_start..];
    let path = from_path.split(['?', '#']).next().unwrap_or_default();
    if path.is_empty() {
        "/"
    } else {
        path
    }
}

/// The URL without its `#fragment`, which changes on in-page navigation but never means a new page.
pub fn without_fragment(url: &str) -> &str {
    url.split('#').next().unwrap_or_default()
}

/// The decoded `name=value` pairs of the URL's query, in order. `+` is a space, as browsers encode
/// forms; broken escapes are kept literally rather than dropping the pair.
pub fn query_pairs(url: &str) -> Vec<(String, String)> {
    let Some((_, after_question)) = without_fragment(url).split_once('?') else {
        return Vec::new();
    };
    form_pairs(after_question)
}

/// The decoded `name=value` pairs of an `application/x-www-form-urlencoded` body, in order (a
/// query's rules; a `#` is data here, not a fragment).
pub fn form_pairs(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

/// The first value of query parameter `name` (exact, case-sensitive match), if present and non-empty.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    query_pairs(url).into_iter().find(|(key, _)| key == name).map(|(_, value)| value).filter(|v| !v.is_empty())
}

/// Decodes `%xx` escapes and `+` as in `application/x-www-form-urlencoded`. Bytes that do not form
/// UTF-8 become U+FFFD so that a mangled campaign tag is still stored, visibly.
pub fn percent_decode(encoded: &str) -> String {
    let bytes = encoded.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => decoded.push(b' '),
            b'%' => {
                let escaped = bytes.get(i + 1..i + 3).and_then(|hex| {
                    let hex = std::str::from_utf8(hex).ok()?;
                    u8::from_str_radix(hex, 16).ok()
                });
                if let Some(byte) = escaped {
                    decoded.push(byte);
                    i += 3;
                    continue;
                }
                decoded.push(b'%');
            }
            other => decoded.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// An absolute http(s) URL of bounded length; a mistake is reported with the caller's `code` (an
/// invalid event, an invalid lead).
pub fn validate_http_url(code: ErrorCode, field: &str, url: &str) -> Result<(), ApiError> {
    http_url_within(code, field, url)
}

/// [`validate_http_url`] for any [`Mistake`].
pub fn http_url_within<E: Mistake>(code: ErrorCode, field: &str, url: &str) -> Result<(), E> {
    len_within(code, field, url, MAX_URL_LEN)?;
    let host = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).and_then(|rest| rest.split(['/', '?', '#']).next());
    if host.is_none_or(str::is_empty) || url.chars().any(char::is_control) {
        return Err(E::new(code, || format!("{field} must be an absolute http(s) URL")));
    }
    Ok(())
}

/// Path patterns for `exclude_paths` and `url_matches`: `*` matches within one segment, `**` (a whole
/// segment) matches any number of segments, everything else is literal and case-sensitive.
/// A trailing slash is ignored on both sides, so `/product/*` matches `/product/stroller/`.
pub mod glob {
    /// Longest pattern accepted in a config.
    pub const MAX_PATTERN_LEN: usize = 256;

    /// Why a pattern is refused, for the config validator's message.
    pub fn check(pattern: &str) -> Result<(), String> {
        if !pattern.starts_with('/') {
            return Err("must start with '/' (patterns match the URL path)".into());
        }
        if pattern.len() > MAX_PATTERN_LEN {
            return Err(format!("must be at most {MAX_PATTERN_LEN} bytes"));
        }
        if pattern.chars().any(|c| c.is_control() || c == '?' || c == '#') {
            return Err("must not contain a query, fragment or control characters".into());
        }
        if segments(pattern).any(|segment| segment.contains("**") && segment != "**") {
            return Err("'**' must be a whole segment, like /blog/**".into());
        }
        Ok(())
    }

    /// Whether `path` (no query) matches `pattern`.
    pub fn matches(pattern: &str, path: &str) -> bool {
        let pattern: Vec<&str> = segments(pattern).collect();
        let path: Vec<&str> = segments(path).collect();
        match_segments(&pattern, &path)
    }

    fn segments(path: &str) -> impl Iterator<Item = &str> {
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
        // The root path has no segments at all, so `/` matches only `/` (and `/**`).
        trimmed.split('/').filter(move |_| !trimmed.is_empty())
    }

    /// Dynamic programming over (pattern segment, path segment): a pattern such as `/**/a/**/a/**`
    /// cannot make matching exponential on a long path.
    fn match_segments(pattern: &[&str], path: &[&str]) -> bool {
        // `rest[j]`: does pattern[i+1..] match path[j..]? Built from the last pattern segment back.
        let mut rest: Vec<bool> = (0..=path.len()).map(|j| j == path.len()).collect();
        for segment in pattern.iter().rev() {
            let mut here = vec![false; path.len() + 1];
            for j in (0..=path.len()).rev() {
                here[j] = if *segment == "**" {
                    rest[j] || (j < path.len() && here[j + 1])
                } else {
                    j < path.len() && rest[j + 1] && match_segment(segment.as_bytes(), path[j].as_bytes())
                };
            }
            rest = here;
        }
        rest[0]
    }

    /// Classic wildcard match with one backtrack point: linear in practice, no recursion blow-up.
    fn match_segment(pattern: &[u8], text: &[u8]) -> bool {
        let (mut p, mut t) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            if p < pattern.len() && pattern[p] == b'*' {
                star = Some((p, t));
                p += 1;
            } else if p < pattern.len() && pattern[p] == text[t] {
                p += 1;
                t += 1;
            } else if let Some((star_p, star_t)) = star {
                p = star_p + 1;
                t = star_t + 1;
                star = Some((star_p, star_t + 1));
            } else {
                return false;
            }
        }
        pattern[p..].iter().all(|&b| b == b'*')
    }
}

#[cfg(test)]
mod tests {
    use super::glob;
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "LOCALHOST:8787", "127.0.0.1", "127.8.9.10:80", "[::1]", "[::1]:8787", "[0:0:0:0:0:0:0:1]"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in ["evil.example", "localhost.evil.example", "128.0.0.1", "127.0.0.1.evil.example", "[::2]", "[::ffff:127.0.0.1]", "", "[::1"] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn hosts_and_paths() {
        assert_eq!(host_of("https://Shop.Example:8080/x?y#z").as_deref(), Some("shop.example:8080"));
        assert_eq!(host_of("https://user:pw@shop.example/").as_deref(), Some("shop.example"));
        assert_eq!(host_of("android-app://com.google.android.gm/").as_deref(), Some("com.google.android.gm"));
        assert_eq!(host_of("/relative"), None);
        assert_eq!(path_of("https://a.b"), "/");
        assert_eq!(path_of("https://a.b?x=1"), "/");
        assert_eq!(path_of("https://a.b/product/x/?utm_source=y#top"), "/product/x/");
    }

    #[test]
    fn query_decoding() {
        let url = "https://a.b/?utm_source=yandex&utm_campaign=%D0%BA%D0%BE%D0%BB%D1%8F%D1%81%D0%BA%D0%B8+2025&flag&x=%zz&e=#utm_term=no";
        assert_eq!(
            query_pairs(url),
            vec![
                ("utm_source".into(), "yandex".into()),
                ("utm_campaign".into(), "коляски 2025".into()),
                ("flag".into(), String::new()),
                ("x".into(), "%zz".into()),
                ("e".into(), String::new()),
            ]
        );
        assert_eq!(query_param(url, "utm_term"), None, "the fragment is not the query");
        assert_eq!(query_param(url, "e"), None, "empty values count as absent");
        assert_eq!(percent_decode("%41%4a%4A%"), "AJJ%");
        assert_eq!(percent_decode("%FF"), "\u{FFFD}");
    }

    #[test]
    fn form_decoding() {
        // amoCRM's webhook, as it encodes its brackets and as a hand-written curl leaves them.
        let body = "leads%5Bstatus%5D%5B0%5D%5Bid%5D=25399013&leads[status][0][status_id]=142&note=a%23b+c&&flag";
        assert_eq!(
            form_pairs(body),
            vec![
                ("leads[status][0][id]".into(), "25399013".into()),
                ("leads[status][0][status_id]".into(), "142".into()),
                ("note".into(), "a#b c".into()),
                ("flag".into(), String::new()),
            ]
        );
        assert_eq!(form_pairs(""), vec![]);
        assert_eq!(query_pairs(&format!("?{body}")), form_pairs(body), "a query and a form read alike");
    }

    #[test]
    fn globs() {
        let cases = [
            ("/product/*", "/product/nordika/", true),
            ("/product/*", "/product/nordika", true),
            ("/product/*", "/product/", false),
            ("/product/*", "/product/a/b", false),
            ("/product/**", "/product/a/b", true),
            ("/product/**", "/product", true),
            ("/**/checkout", "/ru/shop/checkout", true),
            ("/**/checkout", "/checkout", true),
            ("/**", "/", true),
            ("/", "/", true),
            ("/", "/a", false),
            ("/cart*", "/cart-summary", true),
            ("/*.html", "/index.html", true),
            ("/a*b*c", "/aXbYc", true),
            ("/a*b*c", "/aXbY", false),
            ("/Product/*", "/product/x", false),
        ];
        for (pattern, path, expected) in cases {
            assert_eq!(glob::matches(pattern, path), expected, "{pattern} vs {path}");
        }
    }

    #[test]
    fn glob_checks() {
        assert!(glob::check("/checkout/**").is_ok());
        assert!(glob::check("checkout").is_err());
        assert!(glob::check("/a**b").is_err());
        assert!(glob::check("/a?x=1").is_err());
        assert!(glob::check(&format!("/{}", "a".repeat(glob::MAX_PATTERN_LEN))).is_err());
    }
}
