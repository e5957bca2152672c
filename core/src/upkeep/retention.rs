//! The retention policy: how long each kind of stored row is kept before the cron prunes it.
//!
//! The defaults are chosen for a shop that wants its numbers and its customers' trust:
//! behaviour events long enough to compare seasons within half a year, leads (and the consent
//! that came with them) for the three years a contract claim can be brought, operational rows
//! (delivery logs, rate-limit windows, the local mailbox) only while someone may look into a
//! problem. README.md's retention table says the same for owners. A site may change the three
//! that are its own business ([`SiteRetention`]); the rest are how the service runs.

use serde::{Deserialize, Serialize};

use crate::access::throttle::MAX_WINDOW_S;
use crate::base::error::{ApiError, ErrorCode};
use crate::chat::conversation::DEFAULT_IDLE_CLOSE_MS;

pub const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// Each pruning rule: one kind of stored row, the column its age is read from, and what goes
/// with it.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Kept {
    /// `events`, by `received_at` (the server's clock; a visitor's `at` is theirs), and the site's
    /// `presence_changes` by `at` (they serve only the replay of those days).
    Events,
    /// `leads` by `created_at`; their `consent_changes`, `lead_replies` (the operators' answers
    /// to a message left after hours) and `amocrm_deals` (which amoCRM deal each became) go with
    /// them (ON DELETE CASCADE): a consent record is kept exactly as long as the contact it covers,
    /// and a lead's link to its deal serves only that lead.
    Leads,
    /// `deliveries` in state `delivered`, by `updated_at`; their `delivery_attempts` go with them.
    DeliveredDeliveries,
    /// `deliveries` in state `failed` (retries exhausted), by `updated_at`: kept longer so an owner
    /// can still replay them after a holiday.
    FailedDeliveries,
    /// `outbox_events` by `created_at`, once no delivery points at them any more.
    OutboxEvents,
    /// `mailbox` (the local email provider's copies, demos and tests) by `created_at`.
    Mailbox,
    /// `rate_limits` windows by their start.
    RateLimits,
    /// `account_sessions` (operators' console sessions) by `expires_at`: a session row only serves
    /// logout until it expires.
    OperatorSessions,
    /// Closed `chat_conversations` by `closed_at`, with their `chat_callbacks` row and the
    /// Conversation object's storage (messages, state): the transcript itself.
    ClosedConversations,
    /// `access_links` (invitations and password resets) by `expires_at`: a used or expired link
    /// only answers "who invited whom, when" for a while after.
    AccessLinks,
    /// `funnel_rollups` and `funnel_days` by their day: aggregates without a person in them, kept
    /// long enough to compare a year with the last long after the events are gone.
    FunnelRollups,
    /// `deals` a CRM reported, by `reported_at`: as long as leads, whose revenue they are.
    Deals,
}

impl Kept {
    /// In the order the pruner visits them: the cheapest and most numerous first, conversations
    /// (a call to an object each) last.
    pub const ALL: [Kept; 12] = [
        Kept::RateLimits,
        Kept::Mailbox,
        Kept::OperatorSessions,
        Kept::AccessLinks,
        Kept::Events,
        Kept::DeliveredDeliveries,
        Kept::FailedDeliveries,
        Kept::OutboxEvents,
        Kept::Leads,
        Kept::FunnelRollups,
        Kept::Deals,
        Kept::ClosedConversations,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kept::Events => "events",
            Kept::Leads => "leads",
            Kept::DeliveredDeliveries => "delivered_deliveries",
            Kept::FailedDeliveries => "failed_deliveries",
            Kept::OutboxEvents => "outbox_events",
            Kept::Mailbox => "mailbox",
            Kept::RateLimits => "rate_limits",
            Kept::OperatorSessions => "operator_sessions",
            Kept::ClosedConversations => "closed_conversations",
            Kept::AccessLinks => "access_links",
            Kept::FunnelRollups => "funnel_rollups",
            Kept::Deals => "deals",
        }
    }

    /// Whether a site may set its own period for this kind ([`SiteRetention`]).
    pub fn per_site(self) -> bool {
        matches!(self, Kept::Events | Kept::Leads | Kept::ClosedConversations)
    }
}

/// How long each kind is kept, in days (rate-limit windows in hours: they are worthless sooner).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub events_days: u32,
    pub leads_days: u32,
    pub delivered_days: u32,
    pub failed_days: u32,
    pub outbox_days: u32,
    pub mailbox_days: u32,
    pub rate_limit_hours: u32,
    pub sessions_days_after_expiry: u32,
    pub closed_conversations_days: u32,
    pub links_days_after_expiry: u32,
    pub funnel_days: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            // Half a year: enough to compare a season with the last, short of profiling people.
            events_days: 180,
            // The general limitation period for contract claims (three years in Russia and many
            // other places): the lead and the consent that allowed contacting the person.
            leads_days: 3 * 365,
            // The CRM has them; the log only answers "did it arrive" for a month.
            delivered_days: 30,
            // Failures wait for the owner to notice and replay them.
            failed_days: 90,
            // An event outlives its deliveries by nothing: it goes with the last of them.
            outbox_days: 30,
            // Copies of mail for demos and tests only.
            mailbox_days: 7,
            // The longest window any limit may use (`access::throttle::MAX_WINDOW_S`, a day).
            rate_limit_hours: MAX_WINDOW_S.div_ceil(3600),
            // Sessions last 12 hours; a month after expiry answers "who was logged in".
            sessions_days_after_expiry: 30,
            // A year of transcripts: repeat customers are recognised, older chats are stale.
            closed_conversations_days: 365,
            // Invitations last a week at most; a month after expiry answers "who invited whom".
            links_days_after_expiry: 30,
            // Three years of daily aggregates: this season against the last two.
            funnel_days: 3 * 365,
        }
    }
}

impl RetentionPolicy {
    /// How long rows of `kind` are kept, in milliseconds, with a site's overrides applied.
    pub fn keep_ms(&self, kind: Kept, site: Option<&SiteRetention>) -> u64 {
        let days = |default: u32, own: Option<Option<u32>>| u64::from(own.flatten().unwrap_or(default)) * DAY_MS;
        match kind {
            Kept::Events => days(self.events_days, site.map(|s| s.events_days)),
            Kept::Leads => days(self.leads_days, site.map(|s| s.leads_days)),
            Kept::ClosedConversations => days(self.closed_conversations_days, site.map(|s| s.conversations_days)),
            Kept::DeliveredDeliveries => days(self.delivered_days, None),
            Kept::FailedDeliveries => days(self.failed_days, None),
            Kept::OutboxEvents => days(self.outbox_days, None),
            Kept::Mailbox => days(self.mailbox_days, None),
            Kept::OperatorSessions => days(self.sessions_days_after_expiry, None),
            Kept::AccessLinks => days(self.links_days_after_expiry, None),
            Kept::FunnelRollups => days(self.funnel_days, None),
            Kept::Deals => days(self.leads_days, None),
            Kept::RateLimits => u64::from(self.rate_limit_hours) * 3_600_000,
        }
    }

    /// Rows of `kind` whose age column is before this are due for pruning at `now`.
    pub fn cutoff(&self, kind: Kept, site: Option<&SiteRetention>, now: u64) -> u64 {
        now.saturating_sub(self.keep_ms(kind, site))
    }
}

/// The fewest and most days a site may keep its own rows.
pub const MIN_SITE_DAYS: u32 = 1;
pub const MAX_SITE_DAYS: u32 = 3650;
/// The shortest silence a site may close conversations after (a test deployment may go lower).
pub const MIN_IDLE_CLOSE_SECONDS: u32 = 5 * 60;
/// The longest: a week of silence is not a live chat.
pub const MAX_IDLE_CLOSE_SECONDS: u32 = 7 * 24 * 3600;

/// A site's own choices (`PUT /v1/admin/sites/:site/retention`); an absent field keeps the default.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SiteRetention {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leads_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversations_days: Option<u32>,
    /// Silence after which a conversation closes itself (default 30 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_close_seconds: Option<u32>,
}

impl SiteRetention {
    /// `test_deployment` (`FLOORWALKER_TEST_TIMING=1`) lets the idle close go down to 1 second.
    pub fn validate(&self, test_deployment: bool) -> Result<(), ApiError> {
        let invalid = |why: String| Err(ApiError::new(ErrorCode::InvalidConfig, why));
        for (name, days) in [("events_days", self.events_days), ("leads_days", self.leads_days), ("conversations_days", self.conversations_days)] {
            if days.is_some_and(|d| !(MIN_SITE_DAYS..=MAX_SITE_DAYS).contains(&d)) {
                return invalid(format!("{name}: {MIN_SITE_DAYS}-{MAX_SITE_DAYS} days"));
            }
        }
        let min_idle = if test_deployment { 1 } else { MIN_IDLE_CLOSE_SECONDS };
        if self.idle_close_seconds.is_some_and(|s| !(min_idle..=MAX_IDLE_CLOSE_SECONDS).contains(&s)) {
            return invalid(format!("idle_close_seconds: {min_idle}-{MAX_IDLE_CLOSE_SECONDS}"));
        }
        Ok(())
    }

    /// Whether any pruning period differs from the defaults (the pruner treats such a site apart).
    pub fn overrides_pruning(&self) -> bool {
        self.events_days.is_some() || self.leads_days.is_some() || self.conversations_days.is_some()
    }

    /// The silence after which this site's conversations close.
    pub fn idle_close_ms(&self) -> u64 {
        self.idle_close_seconds.map_or(DEFAULT_IDLE_CLOSE_MS, |s| u64::from(s) * 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000;

    #[test]
    fn defaults_match_the_readme() {
        let policy = RetentionPolicy::default();
        assert_eq!(policy.keep_ms(Kept::Events, None), 180 * DAY_MS);
        assert_eq!(policy.keep_ms(Kept::DeliveredDeliveries, None), 30 * DAY_MS);
        assert_eq!(policy.keep_ms(Kept::FailedDeliveries, None), 90 * DAY_MS);
        assert_eq!(policy.keep_ms(Kept::Leads, None), 1095 * DAY_MS);
        assert_eq!(policy.keep_ms(Kept::RateLimits, None), DAY_MS);
        assert!(policy.keep_ms(Kept::FailedDeliveries, None) > policy.keep_ms(Kept::DeliveredDeliveries, None));
        assert_eq!(Kept::ALL.len(), 12);
        let readme = include_str!("../../../README.md");
        for kind in Kept::ALL {
            assert!(readme.contains(&format!("`{}`", kind.as_str())), "README.md's retention table lacks {}", kind.as_str());
        }
    }

    #[test]
    fn a_site_overrides_only_its_own_business() {
        let policy = RetentionPolicy::default();
        let site = SiteRetention { events_days: Some(30), leads_days: Some(365), conversations_days: Some(90), idle_close_seconds: None };
        assert_eq!(policy.cutoff(Kept::Events, Some(&site), NOW), NOW - 30 * DAY_MS);
        assert_eq!(policy.cutoff(Kept::Leads, Some(&site), NOW), NOW - 365 * DAY_MS);
        assert_eq!(policy.cutoff(Kept::ClosedConversations, Some(&site), NOW), NOW - 90 * DAY_MS);
        assert_eq!(policy.cutoff(Kept::Mailbox, Some(&site), NOW), policy.cutoff(Kept::Mailbox, None, NOW));
        assert_eq!(policy.cutoff(Kept::Events, Some(&SiteRetention::default()), NOW), NOW - 180 * DAY_MS);
        assert!(site.overrides_pruning() && !SiteRetention::default().overrides_pruning());
        assert_eq!(policy.cutoff(Kept::Events, None, 5), 0, "an early clock prunes nothing");
        for kind in Kept::ALL {
            assert_eq!(kind.per_site(), policy.keep_ms(kind, Some(&site)) != policy.keep_ms(kind, None), "{kind:?}");
        }
    }

    #[test]
    fn site_choices_are_bounded() {
        let ok = SiteRetention { events_days: Some(1), leads_days: Some(3650), conversations_days: None, idle_close_seconds: Some(300) };
        assert_eq!(ok.validate(false), Ok(()));
        for bad in [
            SiteRetention { events_days: Some(0), ..SiteRetention::default() },
            SiteRetention { leads_days: Some(3651), ..SiteRetention::default() },
            SiteRetention { idle_close_seconds: Some(299), ..SiteRetention::default() },
            SiteRetention { idle_close_seconds: Some(MAX_IDLE_CLOSE_SECONDS + 1), ..SiteRetention::default() },
        ] {
            assert_eq!(bad.validate(false).unwrap_err().code, ErrorCode::InvalidConfig, "{bad:?}");
        }
        let fast = SiteRetention { idle_close_seconds: Some(2), ..SiteRetention::default() };
        assert!(fast.validate(false).is_err() && fast.validate(true).is_ok());
        assert_eq!(fast.idle_close_ms(), 2_000);
        assert_eq!(SiteRetention::default().idle_close_ms(), DEFAULT_IDLE_CLOSE_MS);
        assert!(serde_json::from_str::<SiteRetention>(r#"{"events_day": 3}"#).is_err(), "a typo is refused, not ignored");
    }
}
