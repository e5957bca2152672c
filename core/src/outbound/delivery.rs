//! The durable outbox: one delivery per (event, destination), its states, and the decisions the
//! queue consumer takes after each attempt. The policy itself (schedule, classification, dead
//! letter) is `webhook`'s; this module adds what the worker needs around it: stable delivery ids,
//! the test-timing scale, leases, the sweeper's grace, per-site delivery settings and lead rate
//! limits, and the views the admin API returns.

use serde::{Deserialize, Serialize};

use crate::access::throttle::{Counter, Limit};
use crate::base::crypto::sha256;
use crate::base::error::{ApiError, ErrorCode};
use crate::base::ids::client_id_from_bytes;
use crate::base::locale::Locale;
use crate::base::phone::PhoneRegion;
use crate::outbound::endpoint::{Endpoint, Preset};
use crate::outbound::webhook::{next_step, AttemptRecord, AttemptResult, EventType, NextStep, ATTEMPT_TIMEOUT_MS};

/// Where one event goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A site's webhook endpoint, by id.
    Endpoint(String),
    /// The promised email to the visitor.
    Email,
}

impl Target {
    /// `endpoint:<id>` or `email`, as stored in D1.
    pub fn key(&self) -> String {
        match self {
            Target::Endpoint(id) => format!("endpoint:{id}"),
            Target::Email => "email".to_owned(),
        }
    }

    pub fn parse(key: &str) -> Option<Target> {
        match key {
            "email" => Some(Target::Email),
            _ => key.strip_prefix("endpoint:").filter(|id| !id.is_empty()).map(|id| Target::Endpoint(id.to_owned())),
        }
    }
}

/// The delivery id of `(event message id, target)`: stable, so writing the outbox twice (a retried
/// POST, a replayed sweep) lands on the same row.
pub fn delivery_id(msg_id: &str, target: &Target) -> String {
    let digest = sha256(format!("floorwalker.delivery\n{msg_id}\n{}", target.key()).as_bytes());
    format!("dlv_{}", client_id_from_bytes(&digest[..12]))
}

/// The endpoints of a site that take events of this type (subscribed, and shaped by their preset).
pub fn subscribed<'a>(endpoints: &'a [Endpoint], event: EventType) -> impl Iterator<Item = &'a Endpoint> + 'a {
    endpoints.iter().filter(move |e| e.takes(event))
}

/// A delivery's state in D1.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Written to the outbox, in the queue or about to be re-enqueued by the sweeper.
    Pending,
    /// A 2xx was received (or the local mailbox stored it). Never sent again.
    Delivered,
    /// Out of retries, the endpoint gone or disabled: parked in the dead-letter queue until replayed.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<DeliveryState> {
        [DeliveryState::Pending, DeliveryState::Delivered, DeliveryState::Failed].into_iter().find(|s| s.as_str() == text)
    }
}

/// The body of a queue message: the delivery id and, for logs and the dead-letter queue, its lane
/// (the target key, or `parked` for the copies the consumer files there itself). D1 holds the
/// state, so a message that is duplicated, replayed or re-enqueued by the sweeper is harmless.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    pub delivery: String,
    #[serde(default)]
    pub lane: String,
    /// The backstop of a first attempt the request that created the delivery makes itself (it
    /// writes the delivery leased to that attempt, and sends this message delayed past the lease):
    /// it has work only if that attempt was never recorded (the worker died). A recorded attempt's
    /// retry travels in a message of its own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub backstop: bool,
}

impl QueueMessage {
    /// The message of an attempt to be made by the queue's consumer.
    pub fn to_attempt(delivery: String, lane: String) -> QueueMessage {
        QueueMessage { delivery, lane, backstop: false }
    }
}

/// Attempts in flight at once in one consumer invocation: under the Workers limit of six
/// simultaneous open connections per invocation. A request beyond it waits for a connection in the
/// runtime while its timeout runs (seen locally: a hanging receiver made queued 200s "time out").
pub const MAX_IN_FLIGHT: usize = 5;

/// A message arriving this much before its delivery's scheduled attempt is a stale duplicate
/// (the schedule asked the queue for a whole number of seconds, rounded up).
pub const EARLY_SLACK_MS: u64 = 500;

/// A queue message's delivery as stored, read before any attempt: most messages are the backstop
/// of a first attempt already made right after the lead, and need no attempt at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredDelivery {
    pub state: DeliveryState,
    /// Attempts recorded so far.
    pub attempts: u32,
    /// Held by an attempt until then (0: not held).
    pub lease_until: u64,
    pub next_attempt_at: u64,
}

/// What the consumer does with a message before claiming anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backstop {
    /// Delivered, failed or unknown: nothing to do (a replay sends a message of its own).
    Ack,
    /// Pending but held by another attempt or not yet due: back when it is free.
    RetryIn { delay_s: u32 },
    /// Pending, free and due: claim it and attempt.
    Attempt,
}

impl Backstop {
    pub fn of(stored: Option<StoredDelivery>, now: u64) -> Backstop {
        match stored {
            Some(delivery) if delivery.state == DeliveryState::Pending => {
                if delivery.lease_until < now && delivery.next_attempt_at <= now + EARLY_SLACK_MS {
                    return Backstop::Attempt;
                }
                let free_at = delivery.lease_until.max(delivery.next_attempt_at);
                let delay_s = u32::try_from(free_at.saturating_sub(now).div_ceil(1000)).unwrap_or(u32::MAX);
                Backstop::RetryIn { delay_s: delay_s.clamp(1, MAX_QUEUE_DELAY_S) }
            }
            _ => Backstop::Ack,
        }
    }

    /// The same, read once for a whole batch before any claim: a delivery held by another
    /// attempt (usually its first one, made right after the lead, which ends in milliseconds)
    /// goes on to the claim, whose own look comes later, instead of waiting out the whole lease.
    /// Sent back at the batch's start, a delivery whose first attempt then failed waited the
    /// lease (6 s under test timing) before its retry; `make bench-webhooks` showed those waits.
    ///
    /// A message that is only the `backstop` of a first attempt made right after the lease is
    /// done once that attempt was recorded: the attempt sent its own message for what follows.
    pub fn before_claims(stored: Option<StoredDelivery>, now: u64, backstop: bool) -> Backstop {
        if backstop && stored.is_some_and(|delivery| delivery.attempts > 0) {
            return Backstop::Ack;
        }
        match (stored, Backstop::of(stored, now)) {
            (Some(delivery), Backstop::RetryIn { .. }) if delivery.lease_until >= now => Backstop::Attempt,
            (_, backstop) => backstop,
        }
    }
}

/// The longest retry delay asked of the queue: the schedule's 12-hour tail (Queues accept up to 24 h).
pub const MAX_QUEUE_DELAY_S: u32 = 12 * 3600;
/// A sweep re-enqueues pending deliveries whose next attempt is this overdue: the queue should have
/// had them by then, so their message was lost (a crash between the D1 write and the enqueue).
const SWEEP_GRACE_MS: u64 = 10 * 60 * 1000;
/// A consumer holds a delivery this long past the attempt timeout, so a second copy of the same
/// message (a sweep, a replay) does not send it concurrently.
const LEASE_MARGIN_MS: u64 = 15_000;

/// How time runs for deliveries. Production uses the real schedule; `FLOORWALKER_TEST_TIMING=1`
/// (tests and benchmarks only) divides every delay and the retry window by `divisor`, so an hour of
/// the schedule passes in a second. The schedule itself is the same code either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    divisor: u64,
}

/// See [`Timing::first_attempts_hold`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstAttemptsHold {
    pub lease_ms: u64,
    pub backstop_delay_s: u32,
}

/// What the consumer does with a message after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Done,
    /// `message.retry_with_options(delay)`.
    RetryIn { delay_s: u32 },
    DeadLetter,
    DisableEndpoint,
}

impl Timing {
    pub const PRODUCTION: Timing = Timing { divisor: 1 };
    /// One hour of schedule per second.
    pub const TEST: Timing = Timing { divisor: 3600 };

    pub fn is_test(self) -> bool {
        self.divisor != 1
    }

    /// How long one attempt may take. The test value is short, but well above loopback latency
    /// on a loaded 2-core machine (seen at 1.5 s with parallel builds).
    pub fn attempt_timeout_ms(self) -> u64 {
        if self.is_test() {
            5_000
        } else {
            ATTEMPT_TIMEOUT_MS
        }
    }

    pub fn lease_ms(self) -> u64 {
        self.attempt_timeout_ms() + if self.is_test() { 1_000 } else { LEASE_MARGIN_MS }
    }

    /// How long the backstop of a first attempt made right after a lead waits: past the lease
    /// that attempt holds, so it never collides with it.
    pub fn backstop_delay_s(self) -> u32 {
        u32::try_from(self.lease_ms().div_ceil(1000) + 1).unwrap_or(MAX_QUEUE_DELAY_S)
    }

    /// How long the first attempts a request makes of its `deliveries` fresh deliveries hold
    /// them: a lease for each wave of [`MAX_IN_FLIGHT`] sent side by side, and their backstop
    /// messages come after that.
    pub fn first_attempts_hold(self, deliveries: usize) -> FirstAttemptsHold {
        let waves = u32::try_from(deliveries.div_ceil(MAX_IN_FLIGHT).max(1)).unwrap_or(u32::MAX);
        FirstAttemptsHold { lease_ms: self.lease_ms() * u64::from(waves), backstop_delay_s: self.backstop_delay_s().saturating_mul(waves) }
    }

    pub fn sweep_grace_ms(self) -> u64 {
        if self.is_test() {
            3_000
        } else {
            SWEEP_GRACE_MS
        }
    }

    /// Decides what follows an attempt, on the (scaled) schedule of `webhook::next_step`.
    pub fn next(self, result: &AttemptResult, attempts_made: u32, first_attempt_at_ms: u64, now_ms: u64, jitter_permille: i32) -> Next {
        let elapsed = now_ms.saturating_sub(first_attempt_at_ms).saturating_mul(self.divisor);
        match next_step(result, attempts_made, 0, elapsed, jitter_permille) {
            NextStep::Done => Next::Done,
            NextStep::DeadLetter => Next::DeadLetter,
            NextStep::DisableEndpoint => Next::DisableEndpoint,
            NextStep::RetryAt { at } => {
                let delay_ms = at.saturating_sub(elapsed) / self.divisor;
                // Queues count delays in whole seconds; round up so a retry is never early.
                let delay_s = delay_ms.div_ceil(1000).clamp(1, u64::from(MAX_QUEUE_DELAY_S));
                Next::RetryIn { delay_s: u32::try_from(delay_s).unwrap_or(MAX_QUEUE_DELAY_S) }
            }
        }
    }
}

/// Per-site delivery settings, kept apart from the widget config because only the server reads
/// them (`PUT /v1/admin/sites/:site/delivery`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SiteDelivery {
    /// Where phone numbers typed without `+` are assumed to be.
    #[serde(default = "SiteDelivery::default_region")]
    pub phone_region: PhoneRegion,
    /// The language of texts the site's staff read (CRM titles, alerts).
    #[serde(default)]
    pub owner_locale: Locale,
    /// Local development only: lets endpoints use `http` and loopback/private addresses.
    #[serde(default)]
    pub allow_private_endpoints: bool,
    /// The promised email's sender, e.g. `Кроха <shop@example.com>`; the deployment's `EMAIL_FROM`
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_from: Option<String>,
    #[serde(default)]
    pub lead_limits: LeadLimits,
    /// Caps on the mail a visitor can make the shop send.
    #[serde(default)]
    pub mail_limits: MailLimits,
    /// Hosts besides the site's origins that links and images in the shop's mail may point to
    /// (an image CDN), over https; see `email::links`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mail_link_hosts: Vec<String>,
}

impl SiteDelivery {
    fn default_region() -> PhoneRegion {
        PhoneRegion::Ru
    }

    pub fn validate(&self) -> Result<(), ApiError> {
        let invalid = |why: &str| ApiError::new(ErrorCode::InvalidConfig, why.to_owned());
        if let Some(from) = &self.email_from {
            if from.trim().is_empty() || from.len() > 200 || from.chars().any(char::is_control) || !from.contains('@') {
                return Err(invalid("email_from: a sender like \"Shop <shop@example.com>\""));
            }
        }
        let limits = &self.lead_limits;
        if limits.window_s == 0 || limits.window_s > 86_400 || limits.per_ip == 0 || limits.per_visitor == 0 {
            return Err(invalid("lead_limits: window_s 1-86400, per_ip and per_visitor at least 1"));
        }
        self.mail_limits.validate()?;
        crate::outbound::email::links::check_mail_link_hosts(&self.mail_link_hosts)
    }
}

impl Default for SiteDelivery {
    fn default() -> Self {
        SiteDelivery {
            phone_region: SiteDelivery::default_region(),
            owner_locale: Locale::default(),
            allow_private_endpoints: false,
            email_from: None,
            lead_limits: LeadLimits::default(),
            mail_limits: MailLimits::default(),
            mail_link_hosts: Vec::new(),
        }
    }
}

/// Fixed-window limits on lead submissions. Generous per IP (a whole office or a mobile carrier's
/// NAT shares one address), tight per visitor (a person leaves a few contacts, not dozens).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LeadLimits {
    pub per_ip: u32,
    pub per_visitor: u32,
    pub window_s: u32,
}

impl Default for LeadLimits {
    fn default() -> Self {
        LeadLimits { per_ip: 30, per_visitor: 5, window_s: 600 }
    }
}

impl LeadLimits {
    /// The counters one lead submission hits: its client's and its visitor's, on this site.
    pub fn counters(&self, site: &str, client: &str, visitor: &str) -> [Counter; 2] {
        [
            Counter::new("lead-ip", &[site, client], Limit::new(self.per_ip, self.window_s)),
            Counter::new("lead-visitor", &[site, visitor], Limit::new(self.per_visitor, self.window_s)),
        ]
    }
}

/// Caps on the mail a visitor can make the shop send (the comparison email, the chat transcript),
/// each per day (fixed UTC days). Per recipient: nobody's inbox gets more than a few from one shop
/// however the requests are spread; per client IP: one script cannot mail many addresses; per
/// site: the most a shop's mail can be made to send in a day, whatever the attacker's resources.
/// A request over any of them is answered 429 with `Retry-After` and sends nothing.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MailLimits {
    pub per_recipient: u32,
    pub per_ip: u32,
    pub per_site: u32,
}

/// The window the mail caps count in.
pub const MAIL_WINDOW_S: u32 = 86_400;

impl MailLimits {
    pub fn validate(&self) -> Result<(), ApiError> {
        let within = |value: u32, max: u32| (1..=max).contains(&value);
        if within(self.per_recipient, 100) && within(self.per_ip, 10_000) && within(self.per_site, 1_000_000) {
            Ok(())
        } else {
            Err(ApiError::new(ErrorCode::InvalidConfig, "mail_limits: per_recipient 1-100, per_ip 1-10000, per_site 1-1000000 (per day)"))
        }
    }
}

impl Default for MailLimits {
    fn default() -> Self {
        MailLimits { per_recipient: 5, per_ip: 20, per_site: 1000 }
    }
}

impl MailLimits {
    /// The counters one visitor-triggered email hits: its recipient's (by a digest of the
    /// normalised address: the counters table holds no addresses), its client's and its site's.
    pub fn counters(&self, site: &str, client: &str, recipient: &str) -> [Counter; 3] {
        let digest = sha256(format!("floorwalker.mail-recipient\n{}", recipient.trim().to_lowercase()).as_bytes());
        let recipient = client_id_from_bytes(&digest[..12]);
        [
            Counter::new("mail-to", &[site, &recipient], Limit::new(self.per_recipient, MAIL_WINDOW_S)),
            Counter::new("mail-ip", &[site, client], Limit::new(self.per_ip, MAIL_WINDOW_S)),
            Counter::new("mail-site", &[site], Limit::new(self.per_site, MAIL_WINDOW_S)),
        ]
    }
}

/// A new endpoint as the admin API accepts it: everything but the secrets, which we generate.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EndpointInput {
    pub id: String,
    #[serde(default)]
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<EventType>>,
    pub preset: Preset,
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

impl EndpointInput {
    /// The endpoint to store, keeping `secrets` (existing ones on update, a fresh one on create).
    pub fn into_endpoint(self, secrets: Vec<String>) -> Endpoint {
        Endpoint { id: self.id, url: self.url, secrets, events: self.events, preset: self.preset, enabled: self.enabled }
    }
}

/// An endpoint as listed: secrets are never shown again after creation or rotation.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct EndpointView {
    pub id: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<EventType>>,
    pub preset: Preset,
    pub enabled: bool,
    pub active_secrets: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
}

impl EndpointView {
    pub fn of(endpoint: &Endpoint, disabled_reason: Option<String>) -> EndpointView {
        // Bitrix24 and Telegram put credentials in the URL path; show only where it goes.
        let url = match endpoint.preset {
            Preset::Generic | Preset::Amocrm { .. } | Preset::Hubspot { .. } => endpoint.url.clone(),
            Preset::Bitrix24 | Preset::Telegram { .. } => redact_path(&endpoint.url),
        };
        EndpointView {
            id: endpoint.id.clone(),
            url,
            events: endpoint.events.clone(),
            preset: endpoint.preset.clone(),
            enabled: endpoint.enabled,
            active_secrets: endpoint.secrets.len(),
            disabled_reason,
        }
    }
}

/// `https://portal.bitrix24.ru/rest/1/abc/` → `https://portal.bitrix24.ru/…`.
fn redact_path(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split('/').next().unwrap_or_default();
            if rest.len() > host.len() + 1 {
                format!("{scheme}://{host}/…")
            } else {
                url.to_owned()
            }
        }
        None => String::new(),
    }
}

/// The answer to creating an endpoint or rotating its secret: the only time a secret is shown.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct EndpointSecret {
    pub endpoint: EndpointView,
    pub secret: String,
}

/// A delivery as the admin API lists it, with every attempt.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct DeliveryView {
    pub id: String,
    /// The `webhook-id` (same on every attempt).
    pub event_id: String,
    pub event_type: EventType,
    pub target: String,
    pub state: DeliveryState,
    pub attempts: Vec<AttemptRecord>,
    pub created_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// `POST /v1/leads`' answer (201 for a new lead, 200 for a repeat of the same submission).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct LeadReceipt {
    pub id: String,
    pub duplicate: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::webhook::{MAX_RETRY_AFTER_S, RETRY_WINDOW_MS};

    fn response(status: u16) -> AttemptResult {
        AttemptResult::Response { status, retry_after: None, body: vec![] }
    }

    #[test]
    fn a_backstop_message_attempts_only_a_pending_free_and_due_delivery() {
        const NOW: u64 = 1_000_000;
        let pending = |lease_until, next_attempt_at| Some(StoredDelivery { state: DeliveryState::Pending, attempts: 0, lease_until, next_attempt_at });
        assert_eq!(Backstop::of(pending(0, NOW), NOW), Backstop::Attempt);
        assert_eq!(Backstop::of(pending(NOW - 1, NOW + EARLY_SLACK_MS), NOW), Backstop::Attempt, "a little early is on time");
        assert_eq!(Backstop::of(pending(NOW + 29_001, 0), NOW), Backstop::RetryIn { delay_s: 30 }, "held: back when the lease runs out");
        assert_eq!(Backstop::of(pending(NOW, 0), NOW), Backstop::RetryIn { delay_s: 1 }, "a lease ending now is still held");
        assert_eq!(Backstop::of(pending(0, NOW + 5_000), NOW), Backstop::RetryIn { delay_s: 5 }, "not due yet");
        assert_eq!(Backstop::of(pending(0, NOW + 100 * 24 * 3_600_000), NOW), Backstop::RetryIn { delay_s: MAX_QUEUE_DELAY_S });
        for state in [DeliveryState::Delivered, DeliveryState::Failed] {
            assert_eq!(Backstop::of(Some(StoredDelivery { state, attempts: 1, lease_until: 0, next_attempt_at: 0 }), NOW), Backstop::Ack, "{state:?}");
        }
        assert_eq!(Backstop::of(None, NOW), Backstop::Ack, "unknown (erased)");
    }

    #[test]
    fn a_batch_sends_back_only_deliveries_not_yet_due_and_lets_held_ones_try_their_claim() {
        const NOW: u64 = 1_000_000;
        let pending = |lease_until, next_attempt_at| Some(StoredDelivery { state: DeliveryState::Pending, attempts: 0, lease_until, next_attempt_at });
        assert_eq!(Backstop::before_claims(pending(NOW + 6_000, 0), NOW, false), Backstop::Attempt, "held: its claim looks again later");
        assert_eq!(Backstop::before_claims(pending(NOW + 6_000, NOW + 60_000), NOW, false), Backstop::Attempt, "held and not due: the claim's look decides");
        assert_eq!(Backstop::before_claims(pending(0, NOW + 5_000), NOW, false), Backstop::RetryIn { delay_s: 5 }, "free, not due yet");
        assert_eq!(Backstop::before_claims(pending(0, NOW), NOW, false), Backstop::Attempt);
        let delivered = Some(StoredDelivery { state: DeliveryState::Delivered, attempts: 1, lease_until: NOW + 6_000, next_attempt_at: 0 });
        assert_eq!(Backstop::before_claims(delivered, NOW, false), Backstop::Ack);
        assert_eq!(Backstop::before_claims(None, NOW, false), Backstop::Ack);
    }

    #[test]
    fn the_backstop_of_a_first_attempt_acts_only_when_that_attempt_was_never_recorded() {
        const NOW: u64 = 1_000_000;
        let stored = |attempts, lease_until, next_attempt_at| {
            Some(StoredDelivery { state: DeliveryState::Pending, attempts, lease_until, next_attempt_at })
        };
        // Recorded and rescheduled: the attempt's own message carries the retry, this one is done.
        assert_eq!(Backstop::before_claims(stored(1, 0, NOW), NOW, true), Backstop::Ack);
        assert_eq!(Backstop::before_claims(stored(1, 0, NOW + 5_000), NOW, true), Backstop::Ack);
        // Never recorded, its lease over: the worker died mid-attempt, so this message makes it.
        assert_eq!(Backstop::before_claims(stored(0, NOW - 1, NOW - 7_000), NOW, true), Backstop::Attempt);
        // The same state in an ordinary message is attempted too, and a recorded one when due.
        assert_eq!(Backstop::before_claims(stored(1, 0, NOW), NOW, false), Backstop::Attempt);
        let delivered = Some(StoredDelivery { state: DeliveryState::Delivered, attempts: 1, lease_until: 0, next_attempt_at: 0 });
        assert_eq!(Backstop::before_claims(delivered, NOW, true), Backstop::Ack);
        // Past the lease it waits for, so a first attempt's lease never sends it back, however
        // many waves a request's first attempts take.
        for timing in [Timing::TEST, Timing::PRODUCTION] {
            assert!(u64::from(timing.backstop_delay_s()) * 1000 > timing.lease_ms());
            for deliveries in [0, 1, MAX_IN_FLIGHT, MAX_IN_FLIGHT + 1, 21] {
                let hold = timing.first_attempts_hold(deliveries);
                let waves = deliveries.div_ceil(MAX_IN_FLIGHT).max(1) as u64;
                assert_eq!(hold.lease_ms, timing.lease_ms() * waves, "{deliveries}");
                assert!(u64::from(hold.backstop_delay_s) * 1000 > hold.lease_ms, "{deliveries}");
            }
        }
    }

    #[test]
    fn targets_and_ids() {
        assert_eq!(Target::parse("email"), Some(Target::Email));
        assert_eq!(Target::parse("endpoint:crm"), Some(Target::Endpoint("crm".into())));
        assert_eq!(Target::parse("endpoint:"), None);
        assert_eq!(Target::parse("other"), None);
        let a = delivery_id("msg_1", &Target::Email);
        assert_eq!(a, delivery_id("msg_1", &Target::Email));
        assert_ne!(a, delivery_id("msg_1", &Target::Endpoint("email".into())));
        assert_ne!(a, delivery_id("msg_2", &Target::Email));
        assert!(a.starts_with("dlv_") && a.len() == 28, "{a}");
        assert_eq!(DeliveryState::parse("failed"), Some(DeliveryState::Failed));
    }

    #[test]
    fn production_timing_is_the_real_schedule() {
        let t = Timing::PRODUCTION;
        assert_eq!(t.attempt_timeout_ms(), 15_000);
        assert_eq!(t.next(&response(200), 1, 0, 10, 0), Next::Done);
        assert_eq!(t.next(&response(410), 1, 0, 10, 0), Next::DisableEndpoint);
        assert_eq!(t.next(&response(500), 1, 0, 0, 0), Next::RetryIn { delay_s: 5 });
        assert_eq!(t.next(&AttemptResult::Timeout, 2, 0, 15_000, 0), Next::RetryIn { delay_s: 300 });
        assert_eq!(t.next(&response(500), 3, 0, 0, 0), Next::RetryIn { delay_s: 1800 });
        assert_eq!(t.next(&response(500), 4, 0, 0, 0), Next::RetryIn { delay_s: 7200 });
        assert_eq!(t.next(&response(500), 9, 0, 0, 0), Next::RetryIn { delay_s: 43_200 });
        // Jitter rounds up to whole seconds, never early.
        assert_eq!(t.next(&response(500), 1, 0, 0, 37), Next::RetryIn { delay_s: 6 });
        assert_eq!(t.next(&response(500), 9, 0, RETRY_WINDOW_MS - 1000, 0), Next::DeadLetter);
        assert_eq!(MAX_RETRY_AFTER_S, u64::from(MAX_QUEUE_DELAY_S));
    }

    #[test]
    fn test_timing_runs_an_hour_per_second() {
        let t = Timing::TEST;
        assert_eq!(t.next(&response(500), 1, 0, 0, 0), Next::RetryIn { delay_s: 1 });
        assert_eq!(t.next(&response(500), 4, 0, 0, 0), Next::RetryIn { delay_s: 2 });
        assert_eq!(t.next(&response(500), 6, 0, 0, 0), Next::RetryIn { delay_s: 10 });
        // Three days of schedule pass in 72 s.
        assert_eq!(t.next(&response(500), 9, 0, 61_000, 0), Next::DeadLetter);
        assert!(matches!(t.next(&response(500), 9, 0, 50_000, 0), Next::RetryIn { .. }));
        assert!(t.attempt_timeout_ms() < 15_000 && t.lease_ms() > t.attempt_timeout_ms());
        assert!(t.sweep_grace_ms() < Timing::PRODUCTION.sweep_grace_ms());
    }

    #[test]
    fn a_lead_counts_against_its_client_and_its_visitor_on_its_site() {
        let [ip, visitor] = LeadLimits::default().counters("demo", "203.0.113.7", "v-1");
        assert_eq!((ip.key.as_str(), ip.limit.max), ("lead-ip|demo|203.0.113.7", 30));
        assert_eq!((visitor.key.as_str(), visitor.limit.max), ("lead-visitor|demo|v-1", 5));
    }

    #[test]
    fn settings_validation_and_defaults() {
        let defaults: SiteDelivery = serde_json::from_str("{}").unwrap();
        assert_eq!(defaults, SiteDelivery::default());
        assert_eq!(defaults.phone_region, PhoneRegion::Ru);
        assert!(!defaults.allow_private_endpoints);
        assert!(defaults.validate().is_ok());
        let bad = SiteDelivery { email_from: Some("nobody".into()), ..SiteDelivery::default() };
        assert_eq!(bad.validate().unwrap_err().code, ErrorCode::InvalidConfig);
        let zero = SiteDelivery { lead_limits: LeadLimits { per_ip: 0, ..LeadLimits::default() }, ..SiteDelivery::default() };
        assert!(zero.validate().is_err());
        assert!(serde_json::from_str::<SiteDelivery>(r#"{"alow_private_endpoints": true}"#).is_err());
    }

    #[test]
    fn endpoint_views_hide_secrets_and_credentials_in_urls() {
        let endpoint = Endpoint {
            id: "b24".into(),
            url: "https://portal.bitrix24.ru/rest/1/s3cr3t/".into(),
            secrets: vec!["whsec_x".into()],
            events: None,
            preset: Preset::Bitrix24,
            enabled: true,
        };
        let view = EndpointView::of(&endpoint, None);
        assert_eq!(view.url, "https://portal.bitrix24.ru/…");
        assert_eq!(view.active_secrets, 1);
        assert!(!serde_json::to_string(&view).unwrap().contains("whsec_"));
    }
}
