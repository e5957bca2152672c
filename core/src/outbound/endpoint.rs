//! Where a site's events go: webhook endpoints, their CRM preset, and the SSRF guard that keeps a
//! site owner from pointing our delivery worker at internal addresses.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use crate::base::error::{ApiError, ErrorCode};
use crate::outbound::webhook::{EventType, WebhookSecret};

const MAX_ENDPOINT_URL_LEN: usize = 2048;
/// The ports a public endpoint may name: https's own and its common alternative. Anything else is
/// more likely an internal service (a database, an admin panel) than a webhook receiver.
/// `allow_private` (local development) admits any port, for receivers on random local ports.
pub const ALLOWED_PORTS: [u16; 2] = [443, 8443];
/// Two during a rotation, one spare for a botched rotation.
pub const MAX_ACTIVE_SECRETS: usize = 3;
/// Every worker secret a CRM preset may name starts with this (`CRM_AMO_TOKEN_SHOP`). The worker's
/// own secrets (`LINK_SECRET`, `OPERATOR_SESSION_SECRET`, `VISITOR_TOKEN_SECRET`, `ADMIN_TOKEN`,
/// `RESEND_API_KEY`, ...) never do, so an endpoint cannot name one of them and have it sent to
/// its URL. The worker never reads a name with this prefix for itself.
pub const CRM_SECRET_PREFIX: &str = "CRM_";

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
/// worker secret that holds them, always with [`CRM_SECRET_PREFIX`].
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

impl Preset {
    /// The names of the worker secrets this preset reads (its `*_secret` fields).
    pub fn secret_names(&self) -> Vec<&str> {
        match self {
            Preset::Generic | Preset::Bitrix24 | Preset::Hubspot { .. } => vec![],
            Preset::Amocrm { token_secret } => vec![token_secret],
            Preset::Telegram { bot_token_secret, .. } => vec![bot_token_secret],
        }
    }
}

pub const HUBSPOT_API: &str = "https://api.hsforms.com";
pub const TELEGRAM_API: &str = "https://api.telegram.org";

impl Endpoint {
    pub fn wants(&self, event: EventType) -> bool {
        self.enabled && event.is_webhook() && self.events.as_ref().is_none_or(|events| events.contains(&event))
    }

    /// Whether a delivery of `event` here would send anything: subscribed, and the preset has a
    /// shape for it (CRM presets take leads only, Telegram also a visitor waiting in the chat;
    /// `crm::map_event` skips the rest). The outbox writes deliveries only for these, so a
    /// Bitrix24 endpoint does not collect a skipped row per chat message.
    pub fn takes(&self, event: EventType) -> bool {
        self.wants(event)
            && match self.preset {
                Preset::Generic => true,
                Preset::Telegram { .. } => matches!(event, EventType::LeadCreated | EventType::ConversationWaiting),
                Preset::Bitrix24 | Preset::Amocrm { .. } | Preset::Hubspot { .. } => event == EventType::LeadCreated,
            }
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
        for name in self.preset.secret_names() {
            check_crm_secret_name(name).map_err(|e| invalid(e.message))?;
        }
        match &self.preset {
            Preset::Generic | Preset::Bitrix24 | Preset::Amocrm { .. } => {}
            Preset::Hubspot { portal_id, form_guid } => {
                if portal_id.is_empty() || portal_id.len() > 20 || !portal_id.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid("hubspot portal_id must be digits".into()));
                }
                if !is_guid(form_guid) {
                    return Err(invalid("hubspot form_guid must be a GUID".into()));
                }
            }
            Preset::Telegram { chat_id, .. } => {
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

/// Whether a preset may read the worker secret `name`: the name of one (never its value) that
/// starts with [`CRM_SECRET_PREFIX`]. Checked when an endpoint is stored and again by
/// `crm::map_event` before any secret is read, so a row written before this rule (or by hand)
/// cannot send the worker's own keys either.
pub fn check_crm_secret_name(name: &str) -> Result<(), ApiError> {
    let shaped = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !shaped {
        return Err(ApiError::new(
            ErrorCode::InvalidConfig,
            format!("{name:?} is not a secret name like CRM_AMO_TOKEN_SHOP (store the token as a worker secret and give its name)"),
        ));
    }
    if name.strip_prefix(CRM_SECRET_PREFIX).is_none_or(str::is_empty) {
        return Err(ApiError::new(
            ErrorCode::InvalidConfig,
            format!("{name:?}: CRM credentials come only from worker secrets named {CRM_SECRET_PREFIX}... (e.g. CRM_AMO_TOKEN_SHOP); the worker's own secrets are never sent"),
        ));
    }
    Ok(())
}

fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The SSRF guard for delivery URLs, without DNS: `https` only, on port 443 or 8443; IP literals
/// and names that are loopback, private, link-local, unspecified, reserved or cloud metadata are
/// refused, and so is every IPv6 form that carries an IPv4 address (NAT64, 6to4, Teredo, ISATAP,
/// SIIT, IPv4-compatible) except `::ffff:a.b.c.d`, which is judged by its IPv4 address. With
/// `allow_private`, `http`, any port, loopback and private ranges are admitted for local
/// development; link-local, metadata, reserved and IPv4-carrying addresses never are.
///
/// A public name that resolves to a private address (DNS rebinding) is not caught here: on
/// Cloudflare, the delivery runtime's `fetch` does not reach private networks. A self-hosted
/// workerd has no such limit (docs/leads-and-webhooks.md).
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
    if !allow_private && port.is_some_and(|port| !ALLOWED_PORTS.contains(&port)) {
        return Err(refused("may only use port 443 or 8443 (local development may use any)"));
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
    // `::ffff:a.b.c.d` is how a dual-stack host writes an IPv4 address: the IPv4 address decides.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    if ip.is_loopback() {
        return HostClass::Private;
    }
    if embeds_ipv4_or_is_reserved(segments) {
        return HostClass::Forbidden;
    }
    match segments[0] {
        s if s & 0xfe00 == 0xfc00 => HostClass::Private,
        // Link-local and the deprecated site-local.
        s if s & 0xffc0 == 0xfe80 || s & 0xffc0 == 0xfec0 => HostClass::Forbidden,
        s if s & 0xff00 == 0xff00 => HostClass::Forbidden,
        _ => HostClass::Public,
    }
}

/// IPv6 forms that carry an IPv4 address inside (translation and tunnels: the gateway or relay
/// would take the request to that IPv4 address, which the checks above never see), and reserved
/// or documentation ranges. A real receiver never needs one, so all are refused whatever the
/// IPv4 address is.
fn embeds_ipv4_or_is_reserved(segments: [u16; 8]) -> bool {
    let [first, second, .., interface_hi, interface_lo, _, _] = segments;
    // `::/8`: unspecified, IPv4-compatible `::a.b.c.d`, SIIT `::ffff:0:a.b.c.d` and the rest reserved.
    first & 0xff00 == 0
        // `100::/8`: the discard prefix `100::/64` and the rest reserved.
        || first & 0xff00 == 0x0100
        // NAT64: the well-known `64:ff9b::/96` and the local-use `64:ff9b:1::/48`.
        || (first == 0x0064 && second == 0xff9b)
        // `2001::/23` IETF protocol assignments (Teredo `2001::/32` among them) and documentation `2001:db8::/32`.
        || (first == 0x2001 && (second < 0x0200 || second == 0x0db8))
        // 6to4.
        || first == 0x2002
        // Documentation `3fff::/20` and SRv6 segment ids `5f00::/16`.
        || (first == 0x3fff && second < 0x1000)
        || first == 0x5f00
        // ISATAP: an interface id `0:5efe:a.b.c.d` (or `200:5efe:…`) under any prefix.
        || (interface_hi & 0xfcff == 0 && interface_lo == 0x5efe)
}

#[cfg(test)]
mod tests;
