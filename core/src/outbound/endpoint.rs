//! Where a site's events go: webhook endpoints, their CRM preset, and the SSRF guard that keeps a
//! site owner from pointing our delivery worker at internal addresses.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use crate::base::error::{ApiError, ErrorCode};
use crate::outbound::webhook::{EventType, WebhookSecret};

const MAX_ENDPOINT_URL_LEN: usize = 2048;
/// Two during a rotation, one spare for a botched rotation.
pub const MAX_ACTIVE_SECRETS: usize = 3;

/// One destination for a site's events.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// 1-64 characters of `[a-z0-9_-]`, unique within the site.
    pub id: String,
    /// For `generic`: the receiver. For `bitrix24`: the incoming-webhook base
    /// (`https://portal.bitrix24.ru/rest/1/<code>/`). For `amocrm`: the account
    /// (`https://shop.amocrm.ru`). For `hubspot` and `telegram`: empty for the official API, or
    /// another base (a test double, a self-hosted Bot API server).
    #[serde(default)]
    pub url: String,
    /// Active `whsec_` signing secrets; all of them sign (rotation). Required for `generic`.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// The event types delivered here; absent means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<EventType>>,
    pub preset: Preset,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// How events are shaped for the receiver. Credentials are never stored here: only the NAME of a
/// worker secret that holds them.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Preset {
    /// The signed Standard Webhooks envelope.
    Generic,
    /// `crm.lead.add` through an incoming webhook (its URL carries the credential).
    Bitrix24,
    /// `POST /api/v4/leads/complex` with a long-lived token.
    Amocrm { token_secret: String },
    /// The Forms submission API.
    Hubspot { portal_id: String, form_guid: String },
    /// A Bot API `sendMessage` alert.
    Telegram { chat_id: String, bot_token_secret: String },
}

pub const HUBSPOT_API: &str = "https://api.hsforms.com";
pub const TELEGRAM_API: &str = "https://api.telegram.org";

impl Endpoint {
    pub fn wants(&self, event: EventType) -> bool {
        self.enabled && event.is_webhook() && self.events.as_ref().is_none_or(|events| events.contains(&event))
    }

    /// Whether a delivery of `event` here would send anything: subscribed, and the preset has a
    /// shape for it (CRM presets take leads only; `crm::map_event` skips the rest). The outbox
    /// writes deliveries only for these, so a Bitrix24 endpoint does not collect a skipped row per
    /// chat message.
    pub fn takes(&self, event: EventType) -> bool {
        self.wants(event) && (self.preset == Preset::Generic || event == EventType::LeadCreated)
    }

    /// The base URL requests go to (trailing `/` removed).
    pub fn base_url(&self) -> &str {
        let url = match (&self.preset, self.url.is_empty()) {
            (Preset::Hubspot { .. }, true) => HUBSPOT_API,
            (Preset::Telegram { .. }, true) => TELEGRAM_API,
            _ => &self.url,
        };
        url.trim_end_matches('/')
    }

    pub fn signing_secrets(&self) -> Result<Vec<WebhookSecret>, ApiError> {
        self.secrets.iter().map(|s| WebhookSecret::parse(s)).collect()
    }

    /// Checks the endpoint before it is stored. `allow_private` comes from the site config and is
    /// meant for local development only: it admits `http` and loopback/private addresses.
    pub fn validate(&self, allow_private: bool) -> Result<(), ApiError> {
        let invalid = |why: String| ApiError::new(ErrorCode::InvalidConfig, format!("endpoint {:?}: {why}", self.id));
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(invalid("id must be 1-64 characters of [a-z0-9_-]".into()));
        }
        let url_required = matches!(self.preset, Preset::Generic | Preset::Bitrix24 | Preset::Amocrm { .. });
        if url_required && self.url.is_empty() {
            return Err(invalid("url is required for this preset".into()));
        }
        check_endpoint_url(self.base_url(), allow_private)
            .map_err(|e| ApiError::new(e.code, format!("endpoint {:?}: {}", self.id, e.message)))?;
        if self.secrets.len() > MAX_ACTIVE_SECRETS {
            return Err(invalid(format!("at most {MAX_ACTIVE_SECRETS} active secrets")));
        }
        if self.preset == Preset::Generic && self.secrets.is_empty() {
            return Err(invalid("a generic endpoint needs a signing secret".into()));
        }
        self.signing_secrets().map_err(|e| invalid(e.message))?;
        if self.events.as_ref().is_some_and(Vec::is_empty) {
            return Err(invalid("events: list at least one event type, or omit it for all".into()));
        }
        if let Some(internal) = self.events.iter().flatten().find(|e| !e.is_webhook()) {
            return Err(invalid(format!("events: {} is not a webhook event", internal.as_str())));
        }
        match &self.preset {
            Preset::Generic | Preset::Bitrix24 => {}
            Preset::Amocrm { token_secret } => check_secret_name(token_secret).map_err(invalid)?,
            Preset::Hubspot { portal_id, form_guid } => {
                if portal_id.is_empty() || portal_id.len() > 20 || !portal_id.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid("hubspot portal_id must be digits".into()));
                }
                if !is_guid(form_guid) {
                    return Err(invalid("hubspot form_guid must be a GUID".into()));
                }
            }
            Preset::Telegram { chat_id, bot_token_secret } => {
                check_secret_name(bot_token_secret).map_err(invalid)?;
                let numeric = chat_id.strip_prefix('-').unwrap_or(chat_id);
                let numeric_ok = !numeric.is_empty() && numeric.len() <= 20 && numeric.bytes().all(|b| b.is_ascii_digit());
                let username_ok = chat_id.strip_prefix('@').is_some_and(|name| {
                    (5..=32).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                });
                if !numeric_ok && !username_ok {
                    return Err(invalid("telegram chat_id must be a numeric id or @channelname".into()));
                }
            }
        }
        Ok(())
    }
}

/// A worker secret's name (`AMO_TOKEN_SHOP`), never its value.
fn check_secret_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!("{name:?} is not a secret name like AMO_TOKEN_SHOP (store the token as a worker secret and give its name)"))
    }
}

fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The SSRF guard for delivery URLs, without DNS: `https` only; IP literals and names that are
/// loopback, private, link-local, unspecified, reserved or cloud metadata are refused. With
/// `allow_private`, `http`, loopback and private ranges are admitted for local development; link-local,
/// metadata and unspecified addresses never are.
///
/// A public name that resolves to a private address (DNS rebinding) is not caught here; the
/// delivery runtime (Cloudflare's `fetch`) does not reach private networks.
pub fn check_endpoint_url(url: &str, allow_private: bool) -> Result<(), ApiError> {
    let invalid = |why: &str| ApiError::new(ErrorCode::InvalidConfig, format!("url: {why}"));
    let refused = |why: &str| ApiError::new(ErrorCode::EndpointNotAllowed, format!("url: {why}"));
    if url.len() > MAX_ENDPOINT_URL_LEN || url.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\') {
        return Err(invalid("must be a URL without spaces, at most 2048 characters"));
    }
    let (scheme, rest) = url.split_once("://").ok_or_else(|| invalid("must be an absolute URL"))?;
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {}
        "http" if allow_private => {}
        "http" => return Err(refused("must use https")),
        _ => return Err(invalid("must be an https URL")),
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if url.contains('#') {
        return Err(invalid("must not have a #fragment"));
    }
    if authority.contains('@') {
        return Err(invalid("must not contain user:password@"));
    }
    let (host, port) = split_host_port(authority).ok_or_else(|| invalid("has an invalid host or port"))?;
    if port == Some(0) {
        return Err(invalid("has an invalid port"));
    }
    let host = host.to_ascii_lowercase();
    let host = host.strip_suffix('.').unwrap_or(&host);
    match classify_host(host) {
        HostClass::Invalid => Err(invalid("has an invalid host")),
        HostClass::Public => Ok(()),
        HostClass::Private if allow_private => Ok(()),
        HostClass::Private => Err(refused("points at a loopback or private address")),
        HostClass::Forbidden => Err(refused("points at a link-local, metadata or reserved address")),
    }
}

fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (host, port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => Some(p.parse().ok()?),
        Some(_) => return None,
    };
    (!host.is_empty()).then_some((host, port))
}

#[derive(Debug, PartialEq, Eq)]
enum HostClass {
    Public,
    /// Loopback and private ranges: fine for local development only.
    Private,
    /// Never: link-local, metadata, unspecified, multicast, reserved.
    Forbidden,
    Invalid,
}

fn classify_host(host: &str) -> HostClass {
    if host.contains(':') {
        return host.parse::<Ipv6Addr>().map_or(HostClass::Invalid, classify_v6);
    }
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return classify_v4(v4);
    }
    let labels: Vec<&str> = host.split('.').collect();
    let last = labels.last().copied().unwrap_or_default();
    // Browsers and fetch read `2130706433`, `0x7f.1` and `127.1` as IPv4 addresses: a name whose
    // last label is numeric is an address in disguise.
    let numeric = |l: &str| l.bytes().all(|b| b.is_ascii_digit()) || l.starts_with("0x");
    if numeric(last) {
        return HostClass::Invalid;
    }
    let well_formed = host.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-') && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !well_formed {
        return HostClass::Invalid;
    }
    if host == "localhost" || host.ends_with(".localhost") {
        return HostClass::Private;
    }
    const METADATA: [&str; 3] = ["metadata", "metadata.google.internal", "instance-data"];
    if METADATA.contains(&host) || ["internal", "local", "localdomain", "lan", "home.arpa"].iter().any(|s| host == *s || host.ends_with(&format!(".{s}"))) {
        return HostClass::Forbidden;
    }
    if labels.len() < 2 {
        // A bare name only means something on a private network.
        return HostClass::Private;
    }
    HostClass::Public
}

fn classify_v4(ip: Ipv4Addr) -> HostClass {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() || ip.is_private() {
        return HostClass::Private;
    }
    let forbidden = a == 0
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a >= 240
        // Carrier-grade NAT, IETF protocol assignments, benchmarking, documentation.
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || ip.is_documentation()
        // Alibaba Cloud's metadata service.
        || ip == Ipv4Addr::new(100, 100, 100, 200);
    if forbidden {
        HostClass::Forbidden
    } else {
        HostClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> HostClass {
    let segments = ip.segments();
    let embedded_v4 = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    if ip.is_loopback() {
        return HostClass::Private;
    }
    if ip.is_unspecified() {
        return HostClass::Forbidden;
    }
    match segments[0] {
        // IPv4-compatible (deprecated) and NAT64: the IPv4 address decides.
        0 if segments[1..6].iter().all(|&s| s == 0) => classify_v4(embedded_v4(segments[6], segments[7])),
        0x64 if segments[1] == 0xff9b && segments[2..6].iter().all(|&s| s == 0) => {
            classify_v4(embedded_v4(segments[6], segments[7]))
        }
        // 6to4 carries an IPv4 address in bits 16-48.
        0x2002 => classify_v4(embedded_v4(segments[1], segments[2])),
        s if s & 0xfe00 == 0xfc00 => HostClass::Private,
        // Link-local and the deprecated site-local.
        s if s & 0xffc0 == 0xfe80 || s & 0xffc0 == 0xfec0 => HostClass::Forbidden,
        s if s & 0xff00 == 0xff00 => HostClass::Forbidden,
        // Documentation.
        0x2001 if segments[1] == 0x0db8 => HostClass::Forbidden,
        _ => HostClass::Public,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_https_urls_pass() {
        for url in [
            "https://hooks.example.com/floorwalker",
            "https://portal.bitrix24.ru/rest/1/abc123/",
            "https://shop.amocrm.ru",
            "https://HOOKS.Example.com:8443/x?y=1",
            "https://8.8.8.8/hook",
            "https://[2606:4700:4700::1111]/hook",
            "https://example.com./x",
        ] {
            check_endpoint_url(url, false).unwrap_or_else(|e| panic!("{url}: {e}"));
        }
    }

    #[test]
    fn internal_addresses_are_refused() {
        for url in [
            "http://hooks.example.com/",
            "https://localhost/",
            "https://api.localhost/",
            "https://127.0.0.1/",
            "https://127.8.9.10:8080/",
            "https://[::1]/",
            "https://10.1.2.3/",
            "https://172.16.0.1/",
            "https://172.31.255.255/",
            "https://192.168.1.1/",
            "https://[fc00::1]/",
            "https://[fd12:3456::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://intranet/",
        ] {
            let err = check_endpoint_url(url, false).expect_err(url);
            assert_eq!(err.code, ErrorCode::EndpointNotAllowed, "{url}");
            check_endpoint_url(url, true).unwrap_or_else(|e| panic!("{url} with allow_private: {e}"));
        }
    }

    #[test]
    fn never_allowed_even_for_local_development() {
        for url in [
            "https://169.254.169.254/latest/meta-data/",
            "http://169.254.169.254/",
            "https://[fe80::1]/",
            "https://[fec0::1]/",
            "https://0.0.0.0/",
            "https://0.1.2.3/",
            "https://[::]/",
            "https://metadata.google.internal/computeMetadata/v1/",
            "https://metadata/",
            "https://printer.local/",
            "https://100.100.100.200/",
            "https://100.64.0.1/",
            "https://224.0.0.1/",
            "https://255.255.255.255/",
            "https://240.0.0.1/",
            "https://[ff02::1]/",
            "https://[64:ff9b::a9fe:a9fe]/",
            "https://[2002:a9fe:a9fe::1]/",
            "https://[::169.254.169.254]/",
        ] {
            for allow_private in [false, true] {
                let err = check_endpoint_url(url, allow_private).expect_err(url);
                assert_eq!(err.code, ErrorCode::EndpointNotAllowed, "{url}");
            }
        }
    }

    #[test]
    fn malformed_and_disguised_urls_are_invalid() {
        for url in [
            "",
            "hooks.example.com",
            "ftp://hooks.example.com/",
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "https://user:pass@hooks.example.com/",
            "https://hooks.example.com@127.0.0.1/",
            "https://2130706433/",
            "https://0x7f000001/",
            "https://127.1/",
            "https://0177.0.0.1/",
            "https://a.0x7f/",
            "https://hooks.example.com:99999/",
            "https://hooks.example.com:0/",
            "https://hooks.example.com:/",
            "https://[::1/",
            "https://[::1]x/",
            "https://hooks example.com/",
            "https://hooks.example.com/#frag",
            "https://exa_mple.com/",
            "https://hooks.example.com\\@127.0.0.1/",
            "https://-bad.example.com/",
        ] {
            let err = check_endpoint_url(url, true).expect_err(url);
            assert_eq!(err.code, ErrorCode::InvalidConfig, "{url}");
        }
    }

    fn endpoint(preset: Preset) -> Endpoint {
        Endpoint {
            id: "crm".into(),
            url: "https://hooks.example.com/fw".into(),
            secrets: vec![WebhookSecret::generate([3; 32])],
            events: None,
            preset,
            enabled: true,
        }
    }

    #[test]
    fn endpoint_validation() {
        endpoint(Preset::Generic).validate(false).unwrap();
        endpoint(Preset::Amocrm { token_secret: "AMO_TOKEN".into() }).validate(false).unwrap();
        let hubspot = Preset::Hubspot { portal_id: "123456".into(), form_guid: "0a1b2c3d-0000-4a4a-8b8b-0123456789ab".into() };
        let telegram = Preset::Telegram { chat_id: "-1001234567890".into(), bot_token_secret: "TG_BOT_TOKEN".into() };
        for preset in [hubspot.clone(), telegram.clone()] {
            let e = Endpoint { url: String::new(), secrets: vec![], ..endpoint(preset) };
            e.validate(false).unwrap();
        }
        assert_eq!(Endpoint { url: String::new(), ..endpoint(telegram.clone()) }.base_url(), TELEGRAM_API);
        assert_eq!(Endpoint { url: String::new(), ..endpoint(hubspot.clone()) }.base_url(), HUBSPOT_API);
        let local = Endpoint { url: "http://127.0.0.1:9000/".into(), ..endpoint(telegram) };
        assert_eq!(local.base_url(), "http://127.0.0.1:9000");
        local.validate(true).unwrap();
        assert_eq!(local.validate(false).unwrap_err().code, ErrorCode::EndpointNotAllowed);

        let bad = [
            Endpoint { id: "CRM!".into(), ..endpoint(Preset::Generic) },
            Endpoint { url: String::new(), ..endpoint(Preset::Generic) },
            Endpoint { url: String::new(), ..endpoint(Preset::Bitrix24) },
            Endpoint { secrets: vec![], ..endpoint(Preset::Generic) },
            Endpoint { secrets: vec!["whsec_short".into()], ..endpoint(Preset::Generic) },
            Endpoint { secrets: vec![WebhookSecret::generate([1; 32]); 4], ..endpoint(Preset::Generic) },
            Endpoint { events: Some(vec![]), ..endpoint(Preset::Generic) },
            Endpoint { events: Some(vec![EventType::LeadCreated, EventType::TranscriptRequested]), ..endpoint(Preset::Generic) },
            endpoint(Preset::Amocrm { token_secret: "eyJhbGciOiJSUzI1NiJ9.actual.token".into() }),
            endpoint(Preset::Amocrm { token_secret: String::new() }),
            endpoint(Preset::Hubspot { portal_id: "12ab".into(), form_guid: "0a1b2c3d-0000-4a4a-8b8b-0123456789ab".into() }),
            endpoint(Preset::Hubspot { portal_id: "123".into(), form_guid: "not-a-guid".into() }),
            endpoint(Preset::Telegram { chat_id: "chat".into(), bot_token_secret: "TG".into() }),
            endpoint(Preset::Telegram { chat_id: "123".into(), bot_token_secret: "123456:ABC-token".into() }),
        ];
        for e in bad {
            assert_eq!(e.validate(false).expect_err("must be refused").code, ErrorCode::InvalidConfig, "{e:?}");
        }
    }

    #[test]
    fn event_filter() {
        let all = endpoint(Preset::Generic);
        assert!(EventType::ALL.iter().all(|&t| all.wants(t)));
        let only = Endpoint { events: Some(vec![EventType::LeadCreated]), ..endpoint(Preset::Generic) };
        assert!(only.wants(EventType::LeadCreated) && !only.wants(EventType::ConsentUpdated));
        let disabled = Endpoint { enabled: false, ..endpoint(Preset::Generic) };
        assert!(!disabled.wants(EventType::LeadCreated));
        // Email-only outbox events never go to an endpoint, whatever it lists.
        assert!(!all.wants(EventType::TranscriptRequested) && !all.takes(EventType::TranscriptRequested));
        let listed = Endpoint { events: Some(vec![EventType::TranscriptRequested]), ..endpoint(Preset::Generic) };
        assert!(!listed.wants(EventType::TranscriptRequested));
        // Generic endpoints take every webhook; CRM presets only leads (the rest would be skipped).
        assert!(EventType::ALL.iter().all(|&t| all.takes(t)));
        let b24 = endpoint(Preset::Bitrix24);
        assert!(b24.takes(EventType::LeadCreated));
        for t in [EventType::MessageCreated, EventType::ConversationClosed, EventType::ConsentUpdated, EventType::CallbackRequested] {
            assert!(b24.wants(t) && !b24.takes(t), "{t:?}");
        }
    }

    #[test]
    fn endpoint_wire_format() {
        let json = serde_json::json!({
            "id": "tg", "preset": {"kind": "telegram", "chat_id": "@shop_leads", "bot_token_secret": "TG_TOKEN"},
            "events": ["lead.created"]
        });
        let e: Endpoint = serde_json::from_value(json).unwrap();
        assert!(e.enabled);
        assert_eq!(e.preset, Preset::Telegram { chat_id: "@shop_leads".into(), bot_token_secret: "TG_TOKEN".into() });
        e.validate(false).unwrap();
        let token_value = serde_json::json!({"id": "tg", "preset": {"kind": "telegram", "chat_id": "1", "bot_token": "123:abc"}});
        assert!(serde_json::from_value::<Endpoint>(token_value).is_err());
    }
}
