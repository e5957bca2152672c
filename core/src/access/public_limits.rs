//! How often a stranger may call each public route: one limit per client address (IPv6 by /64, see
//! [`client_key`](crate::access::throttle::client_key)) on a site, and on routes that know their
//! visitor (from the body, or a signed token) one per visitor too.
//!
//! Per client the limits are generous: an office or a mobile carrier's NAT puts many real visitors
//! behind one address. Per visitor they sit about ten times above what the widget sends (events
//! every five seconds, a chat session per week, a socket per page view). Leads have their own,
//! configurable per site (`outbound::delivery::LeadLimits`); operator login is throttled by email
//! and address in `auth`.

use serde::Serialize;

use crate::access::throttle::{Counter, Limit};

/// The public routes that count their callers.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PublicRoute {
    /// `GET /v1/sites/:site/config`: every page view of a site (the browser caches it a minute).
    Config,
    /// `GET /v1/sites/:site/presence`.
    Presence,
    /// `POST /v1/events`: the hottest route; a busy visitor's widget sends every few seconds.
    Events,
    /// `POST /v1/chat/session`: a visitor token, asked again only when the stored one runs out.
    ChatSession,
    /// `POST /v1/chat/conversations`: a conversation, created when a visitor first writes.
    ChatStart,
    /// `GET /v1/chat/conversations/:id/ws`: a socket per page view with an open chat, plus
    /// reconnects (with backoff).
    ChatSocket,
    /// `POST /v1/chat/conversations/:id/callback`: "call me back", a contact left in the chat.
    Callback,
    /// `POST /v1/chat/conversations/:id/rating`: a score for a closed conversation.
    Rating,
    /// `POST /v1/chat/conversations/:id/files`: a visitor's file into the chat.
    ChatUpload,
    /// `GET /v1/chat/conversations/:id/files/:file`: a file of the visitor's conversation (every
    /// picture in the panel, on every page view).
    ChatFile,
    /// `GET|POST /v1/consent/:token` and `/v1/mail/alert-confirm/:token`: the one-click links of an
    /// email (the consent links, the team's alert address).
    Consent,
    /// `OPTIONS /v1/*`: preflights, which browsers cache for a day.
    Preflight,
    /// `POST /v1/conversations/:id/messages`: a CRM answering into the chat with an API key.
    CrmMessages,
    /// `POST /v1/deals/:site`: a CRM reporting a deal won, with the site's deal token.
    Deals,
}

/// Every route with a limit, for the tests and the README's table.
pub const PUBLIC_ROUTES: [PublicRoute; 14] = [
    PublicRoute::Config,
    PublicRoute::Presence,
    PublicRoute::Events,
    PublicRoute::ChatSession,
    PublicRoute::ChatStart,
    PublicRoute::ChatSocket,
    PublicRoute::Callback,
    PublicRoute::Rating,
    PublicRoute::ChatUpload,
    PublicRoute::ChatFile,
    PublicRoute::Consent,
    PublicRoute::Preflight,
    PublicRoute::CrmMessages,
    PublicRoute::Deals,
];

const MINUTE: u32 = 60;

impl PublicRoute {
    /// The counters' scope: the first part of their keys.
    pub fn scope(self) -> &'static str {
        match self {
            PublicRoute::Config => "config",
            PublicRoute::Presence => "presence",
            PublicRoute::Events => "events",
            PublicRoute::ChatSession => "chat-session",
            PublicRoute::ChatStart => "chat-start",
            PublicRoute::ChatSocket => "chat-socket",
            PublicRoute::Callback => "callback",
            PublicRoute::Rating => "rating",
            PublicRoute::ChatUpload => "chat-upload",
            PublicRoute::ChatFile => "chat-file",
            PublicRoute::Consent => "consent",
            PublicRoute::Preflight => "preflight",
            PublicRoute::CrmMessages => "crm-messages",
            PublicRoute::Deals => "deals",
        }
    }

    /// Requests one client address may make on one site (or, for routes that name no site, at all).
    pub fn per_client(self) -> Limit {
        match self {
            PublicRoute::Config | PublicRoute::Presence => Limit::new(600, MINUTE),
            PublicRoute::Events => Limit::new(1200, MINUTE),
            PublicRoute::ChatSession => Limit::new(120, MINUTE),
            PublicRoute::ChatStart => Limit::new(30, MINUTE),
            PublicRoute::ChatSocket => Limit::new(300, MINUTE),
            PublicRoute::Callback => Limit::new(20, 10 * MINUTE),
            PublicRoute::Rating => Limit::new(30, 10 * MINUTE),
            PublicRoute::ChatUpload => Limit::new(30, 10 * MINUTE),
            PublicRoute::ChatFile => Limit::new(600, MINUTE),
            PublicRoute::Consent => Limit::new(60, 10 * MINUTE),
            PublicRoute::Preflight => Limit::new(300, MINUTE),
            PublicRoute::CrmMessages => Limit::new(600, MINUTE),
            // A CRM's automation sends deals one by one; a wrong token guessed at is counted too.
            PublicRoute::Deals => Limit::new(120, MINUTE),
        }
    }

    /// Requests one visitor may make, on routes that know who the visitor is.
    pub fn per_visitor(self) -> Option<Limit> {
        match self {
            PublicRoute::Events => Some(Limit::new(120, MINUTE)),
            PublicRoute::ChatSession => Some(Limit::new(20, MINUTE)),
            PublicRoute::ChatStart => Some(Limit::new(10, MINUTE)),
            PublicRoute::ChatSocket => Some(Limit::new(60, MINUTE)),
            PublicRoute::Callback => Some(Limit::new(5, 10 * MINUTE)),
            // One rating stands per conversation; a few tries allow for a retry and a second tab.
            PublicRoute::Rating => Some(Limit::new(10, 10 * MINUTE)),
            // Files cost storage: a few photos a conversation, not a stream.
            PublicRoute::ChatUpload => Some(Limit::new(10, 10 * MINUTE)),
            PublicRoute::ChatFile => Some(Limit::new(300, MINUTE)),
            PublicRoute::Config
            | PublicRoute::Presence
            | PublicRoute::Consent
            | PublicRoute::Preflight
            | PublicRoute::CrmMessages
            | PublicRoute::Deals => None,
        }
    }

    /// The counters one request hits: its client's on `site` (`""` for routes that name none),
    /// and its visitor's when the route has a per-visitor limit and the visitor is known.
    pub fn counters(self, site: &str, client: &str, visitor: Option<&str>) -> Vec<Counter> {
        let mut counters = vec![Counter::new(self.scope(), &[site, client], self.per_client())];
        if let (Some(limit), Some(visitor)) = (self.per_visitor(), visitor) {
            counters.push(Counter::new(&format!("{}-visitor", self.scope()), &[site, visitor], limit));
        }
        counters
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::throttle::{rate_window, verdict, MAX_WINDOW_S};

    #[test]
    fn every_limit_is_valid_and_no_two_routes_share_a_counter() {
        let mut scopes: Vec<&str> = PUBLIC_ROUTES.iter().map(|r| r.scope()).collect();
        scopes.sort_unstable();
        scopes.dedup();
        assert_eq!(scopes.len(), PUBLIC_ROUTES.len());
        for route in PUBLIC_ROUTES {
            route.per_client().validate(route.scope()).unwrap();
            assert!(route.per_client().window_s <= MAX_WINDOW_S);
            if let Some(limit) = route.per_visitor() {
                limit.validate(route.scope()).unwrap();
                assert!(limit.max < route.per_client().max, "{route:?}: a client holds many visitors");
            }
        }
    }

    #[test]
    fn limits_leave_room_for_real_traffic() {
        // A busy visitor's widget flushes events every 5 s (12 a minute), and sooner when 10 are
        // queued: the per-visitor limit is ten times that. Fifty such visitors behind one office
        // NAT stay under the per-client limit.
        let events_per_minute = 60 / 5;
        assert!(PublicRoute::Events.per_visitor().is_some_and(|l| l.max >= 10 * events_per_minute));
        assert!(PublicRoute::Events.per_client().max >= 50 * 2 * events_per_minute);
        // A page view a second from one address, for a minute, reads the config.
        assert!(PublicRoute::Config.per_client().max >= 60);
    }

    #[test]
    fn counters_are_keyed_by_site_client_and_visitor() {
        let counters = PublicRoute::Events.counters("demo", "2001:db8:1:2::/64", Some("visitor-1"));
        let keys: Vec<&str> = counters.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["events|demo|2001:db8:1:2::/64", "events-visitor|demo|visitor-1"]);
        assert_eq!(PublicRoute::Events.counters("demo", "203.0.113.7", None).len(), 1, "no visitor, no visitor counter");
        assert_eq!(PublicRoute::Config.counters("demo", "203.0.113.7", Some("v")).len(), 1, "config has no visitor limit");
        assert_eq!(PublicRoute::Consent.counters("", "203.0.113.7", None)[0].key, "consent||203.0.113.7");
    }

    #[test]
    fn one_over_the_limit_is_refused_until_the_window_ends() {
        let now = 1_790_000_010_000;
        let [client, visitor] = <[Counter; 2]>::try_from(PublicRoute::ChatStart.counters("demo", "203.0.113.7", Some("v"))).unwrap();
        let rest_of_minute = rate_window(now, 60).1;
        assert_eq!(rest_of_minute, 30);
        assert_eq!(verdict(&[(&client, 30), (&visitor, 10)], now), None);
        assert_eq!(verdict(&[(&client, 30), (&visitor, 11)], now), Some(rest_of_minute));
        assert_eq!(verdict(&[(&client, 31), (&visitor, 1)], now), Some(rest_of_minute));
    }
}
