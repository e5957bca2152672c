//! What the owner's "Install" screen («Установка») shows and accepts, decided here so that the
//! console and the worker only carry it: the tag to paste, what an origin typed by a person means
//! (and why it is refused, in the owner's language), adding and removing an origin without touching
//! the rest of the config, and the install check (per listed origin, when the widget last loaded
//! there; the origins that were refused).

use serde::{Deserialize, Serialize};

use crate::base::error::{ApiError, ErrorCode};
use crate::base::locale::Locale;
use crate::prompts::config::{normalize_origin, SiteConfig, MAX_ORIGINS};
use crate::prompts::sightings::{OriginReport, OriginSighting, MAX_SIGHTED_ORIGIN_LEN};

/// A sighting this recent is news: a load means the tag works there now (a quiet shop may go hours
/// without a visit, so a day), a refusal that it is there now. Older ones still show with when, so
/// the owner can judge; they no longer set the verdict.
pub const RECENT_MS: u64 = 24 * 3600 * 1000;

/// The tag an owner pastes before `</body>` (README, "Install on a site"). `edge_origin` is where
/// the worker answers; the site id is validated (`[a-z0-9-]`), so nothing needs escaping.
pub fn script_tag(edge_origin: &str, site: &str) -> String {
    format!(r#"<script async src="{}/fw.js" data-site="{site}"></script>"#, edge_origin.trim_end_matches('/'))
}

/// Why an origin the owner typed, or a change to the list, is refused.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OriginProblem {
    Empty,
    TooLong,
    /// `shop.example`: browsers name an origin with its scheme.
    NoScheme,
    /// `ftp://…`, `file://…`: no page there can load the widget.
    NotWeb,
    /// `https://магазин.рф`: browsers send the `xn--` form, which is what must be listed.
    NotAscii,
    /// Credentials, spaces, empty labels, a label starting or ending with `-`.
    BadHost,
    BadPort,
    AlreadyListed,
    TooMany,
    /// Another site lists it: an origin belongs to one site (CORS preflights find the site by it).
    Taken,
    /// A site lists at least one origin.
    LastOrigin,
}

impl OriginProblem {
    const ALL: [OriginProblem; 11] = [
        OriginProblem::Empty,
        OriginProblem::TooLong,
        OriginProblem::NoScheme,
        OriginProblem::NotWeb,
        OriginProblem::NotAscii,
        OriginProblem::BadHost,
        OriginProblem::BadPort,
        OriginProblem::AlreadyListed,
        OriginProblem::TooMany,
        OriginProblem::Taken,
        OriginProblem::LastOrigin,
    ];

    /// What to tell the owner, next to the field.
    pub fn message(self, locale: Locale) -> &'static str {
        let (en, ru) = match self {
            OriginProblem::Empty => ("Type the address of your shop, like https://shop.example", "Введите адрес магазина, например https://shop.example"),
            OriginProblem::TooLong => ("This is too long for a web address", "Слишком длинно для адреса сайта"),
            OriginProblem::NoScheme => (
                "Start with https:// (or http://), as in the browser's address bar",
                "Начните с https:// (или http://), как в адресной строке браузера",
            ),
            OriginProblem::NotWeb => ("Only http:// and https:// pages can show the widget", "Виджет работает только на страницах http:// и https://"),
            OriginProblem::NotAscii => (
                "Write a domain in another script in its xn-- form, as the browser sends it",
                "Домен на кириллице укажите в виде xn--…, как его передаёт браузер",
            ),
            OriginProblem::BadHost => ("This is not a valid domain name", "Это не похоже на доменное имя"),
            OriginProblem::BadPort => ("The port must be a number up to 65535", "Порт — число не больше 65535"),
            OriginProblem::AlreadyListed => ("This origin is listed already", "Этот адрес уже в списке"),
            OriginProblem::TooMany => ("A site lists at most 32 origins", "У сайта может быть не больше 32 адресов"),
            OriginProblem::Taken => (
                "Another site in Floorwalker lists this origin; remove it there first",
                "Этот адрес уже указан у другого сайта в Floorwalker; сначала удалите его там",
            ),
            OriginProblem::LastOrigin => (
                "Keep at least one origin: add the new one before removing the last",
                "Должен остаться хотя бы один адрес: добавьте новый, потом удалите старый",
            ),
        };
        match locale {
            Locale::En => en,
            Locale::Ru => ru,
        }
    }

    /// The API's refusal: a stable code and the English message, which [`OriginProblem::recognise`]
    /// turns back into the problem so the console can say it in the owner's language.
    pub fn error(self) -> ApiError {
        let code = match self {
            OriginProblem::Taken => ErrorCode::OriginTaken,
            _ => ErrorCode::InvalidConfig,
        };
        ApiError::new(code, format!("origins: {}", self.message(Locale::En)))
    }

    /// The problem an API refusal's message names, if it is one of these.
    pub fn recognise(message: &str) -> Option<OriginProblem> {
        let text = message.strip_prefix("origins: ")?;
        OriginProblem::ALL.into_iter().find(|problem| problem.message(Locale::En) == text)
    }
}

/// The origin an owner means by `input`: trimmed, lower case, without a default port, and without
/// the path, query or fragment of a page address pasted from the browser.
pub fn origin_from_input(input: &str) -> Result<String, OriginProblem> {
    let text = input.trim();
    if text.is_empty() {
        return Err(OriginProblem::Empty);
    }
    if text.len() > MAX_SIGHTED_ORIGIN_LEN {
        return Err(OriginProblem::TooLong);
    }
    if !text.is_ascii() {
        return Err(OriginProblem::NotAscii);
    }
    let lower = text.to_ascii_lowercase();
    let Some((scheme, rest)) = lower.split_once("://") else {
        // `javascript:…`, `mailto:…` name another scheme; `shop.example`, `localhost:8080` forgot theirs.
        let other_scheme = lower.split_once(':').is_some_and(|(_, after)| !after.starts_with(|c: char| c.is_ascii_digit()));
        return Err(if other_scheme { OriginProblem::NotWeb } else { OriginProblem::NoScheme });
    };
    if scheme != "http" && scheme != "https" {
        return Err(OriginProblem::NotWeb);
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        // `user:password@host`: a page's origin never carries credentials.
        return Err(OriginProblem::BadHost);
    }
    let (host, port) = split_port(authority);
    if !host_ok(host) {
        return Err(OriginProblem::BadHost);
    }
    let port = match port {
        None => None,
        Some(port) => match port.parse::<u16>() {
            Ok(0) | Err(_) => return Err(OriginProblem::BadPort),
            // Browsers leave the default port out of `Origin`; listed with it, it would never match.
            Ok(443) if scheme == "https" => None,
            Ok(80) if scheme == "http" => None,
            Ok(number) => Some(number),
        },
    };
    let origin = match port {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    };
    // The config's own rule has the last word, so what is accepted here is always storable.
    normalize_origin(&origin).filter(|normal| *normal == origin).ok_or(OriginProblem::BadHost)
}

/// `host[:port]`, with an IPv6 literal's colons inside its brackets.
fn split_port(authority: &str) -> (&str, Option<&str>) {
    if authority.starts_with('[') {
        return match authority.split_once("]:") {
            Some((host, port)) => (&authority[..host.len() + 1], Some(port)),
            None => (authority, None),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    }
}

/// A domain name (labels of letters, digits and inner `-`), an IPv4 address, or an IPv6 literal.
fn host_ok(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.contains(':') && inner.bytes().all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'));
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// What the console checks before sending a new origin: what it means, and that the list has room
/// for it and does not have it yet.
pub fn origin_to_add(listed: &[String], input: &str) -> Result<String, OriginProblem> {
    let origin = origin_from_input(input)?;
    if listed.contains(&origin) {
        return Err(OriginProblem::AlreadyListed);
    }
    if listed.len() >= MAX_ORIGINS {
        return Err(OriginProblem::TooMany);
    }
    Ok(origin)
}

/// The config with `input`'s origin added and nothing else changed; `None` when it is listed
/// already (adding is idempotent: "allow" clicked twice is one change).
pub fn with_origin(config: &SiteConfig, input: &str) -> Result<Option<SiteConfig>, OriginProblem> {
    match origin_to_add(&config.origins, input) {
        Ok(origin) => {
            let mut changed = config.clone();
            changed.origins.push(origin);
            Ok(Some(changed))
        }
        Err(OriginProblem::AlreadyListed) => Ok(None),
        Err(problem) => Err(problem),
    }
}

/// The config without `input`'s origin and nothing else changed; `None` when it is not listed.
pub fn without_origin(config: &SiteConfig, input: &str) -> Result<Option<SiteConfig>, OriginProblem> {
    let origin = origin_from_input(input)?;
    if !config.origins.contains(&origin) {
        return Ok(None);
    }
    if config.origins.len() == 1 {
        return Err(OriginProblem::LastOrigin);
    }
    let mut changed = config.clone();
    changed.origins.retain(|listed| *listed != origin);
    Ok(Some(changed))
}

/// `{"origin": "..."}`: the body of adding an origin.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OriginInput {
    pub origin: String,
}

/// Whether the widget loads on a listed origin.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LoadState {
    /// Loaded within [`RECENT_MS`]: the tag works there.
    Recent,
    /// Loaded, but not lately: the tag may have gone, or the page has no visitors.
    Stale,
    /// No load in the sightings' 30 days: the tag is not there yet, or nobody has visited.
    Never,
}

/// A listed origin and its last load.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ListedOrigin {
    pub origin: String,
    pub state: LoadState,
    pub last_loaded_at: Option<u64>,
    /// How long before the check the last load was, for "5 min ago" without the browser's clock.
    pub loaded_ago_ms: Option<u64>,
}

/// An origin the site does not list where its tag asked for the widget.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct RefusedOrigin {
    pub origin: String,
    pub last_seen_at: u64,
    pub seen_ago_ms: u64,
    /// Requests refused there in the sightings' window.
    pub count: u64,
}

/// The sentence at the top of the screen: the most urgent thing first.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The tag sits on an origin the site does not list (refused within [`RECENT_MS`]): the widget
    /// does not load there.
    Unlisted,
    /// The widget loaded lately on a listed origin, and nothing was refused.
    Working,
    /// Loads only long ago.
    Quiet,
    /// Never seen anywhere: paste the tag and open a page.
    NotSeen,
}

/// `GET /v1/admin/sites/:site/install`: everything the Install screen shows.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct InstallCheck {
    pub site: String,
    /// The tag to paste.
    pub tag: String,
    pub verdict: Verdict,
    /// Every listed origin, in the config's order.
    pub origins: Vec<ListedOrigin>,
    /// Origins still unlisted where the tag was refused, most recent first. An origin allowed since
    /// is left out: its refusals are history, and its loads now show under `origins`.
    pub refused: Vec<RefusedOrigin>,
}

/// The install check of `config` from the sightings `report`, as of `now_ms`.
pub fn install_check(config: &SiteConfig, edge_origin: &str, report: &OriginReport, now_ms: u64) -> InstallCheck {
    let ago = |at: u64| now_ms.saturating_sub(at);
    let origins: Vec<ListedOrigin> = config
        .origins
        .iter()
        .map(|origin| {
            let last = report.loaded.iter().filter(|s| s.origin == *origin).map(|s| s.last_seen_at).max();
            let state = match last {
                Some(at) if ago(at) <= RECENT_MS => LoadState::Recent,
                Some(_) => LoadState::Stale,
                None => LoadState::Never,
            };
            ListedOrigin { origin: origin.clone(), state, last_loaded_at: last, loaded_ago_ms: last.map(ago) }
        })
        .collect();
    let mut refused: Vec<&OriginSighting> = report.refused.iter().filter(|s| !config.origins.contains(&s.origin)).collect();
    refused.sort_by(|a, b| b.last_seen_at.cmp(&a.last_seen_at).then_with(|| a.origin.cmp(&b.origin)));
    let refused: Vec<RefusedOrigin> = refused
        .into_iter()
        .map(|s| RefusedOrigin { origin: s.origin.clone(), last_seen_at: s.last_seen_at, seen_ago_ms: ago(s.last_seen_at), count: s.count })
        .collect();
    let verdict = if refused.iter().any(|r| r.seen_ago_ms <= RECENT_MS) {
        Verdict::Unlisted
    } else if origins.iter().any(|o| o.state == LoadState::Recent) {
        Verdict::Working
    } else if origins.iter().any(|o| o.state == LoadState::Stale) {
        Verdict::Quiet
    } else {
        Verdict::NotSeen
    };
    InstallCheck { site: config.site.clone(), tag: script_tag(edge_origin, &config.site), verdict, origins, refused }
}

/// "5 min ago" / «5 мин назад». Abbreviated units in Russian, which need no plural forms.
pub fn ago(ms: u64, locale: Locale) -> String {
    const MINUTE: u64 = 60_000;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    let (n, en_unit, ru_unit) = match ms {
        ms if ms < MINUTE => {
            return match locale {
                Locale::En => "just now".into(),
                Locale::Ru => "только что".into(),
            }
        }
        ms if ms < HOUR => (ms / MINUTE, "min", "мин"),
        ms if ms < DAY => (ms / HOUR, "h", "ч"),
        ms => (ms / DAY, if ms / DAY == 1 { "day" } else { "days" }, "дн."),
    };
    match locale {
        Locale::En => format!("{n} {en_unit} ago"),
        Locale::Ru => format!("{n} {ru_unit} назад"),
    }
}

#[cfg(test)]
mod tests;
