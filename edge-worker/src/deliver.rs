//! The queue consumer and the first attempt made right after a lead: attempts judged by core,
//! recorded in D1, then ack or `retry_with_options(delay)`. Never returns `Err` (that panics in
//! the glue): every failure of ours becomes a retry of the message, every failure of the receiver
//! an attempt record.

use floorwalker_core::base::error::ApiError;
use floorwalker_core::chat::offline::OfflineReply;
use floorwalker_core::leads::consent::{sign_link, LinkAction, LinkClaims};
use floorwalker_core::leads::lead::Lead;
use floorwalker_core::outbound::crm::{map_event, Mapped};
use floorwalker_core::outbound::delivery::{
    Backstop, DeliveryState, Next, QueueMessage, SiteDelivery, StoredDelivery, Target, EARLY_SLACK_MS, MAX_IN_FLIGHT,
};
use floorwalker_core::outbound::email::{
    comparison_pages, marked_products, plan_comparison, render_comparison, render_offline_reply, render_transcript, render_waiting_alert,
    ComparisonLinks, ComparisonPlan, EmailMessage, MailSettings,
};
use floorwalker_core::outbound::endpoint::Endpoint;
use floorwalker_core::outbound::webhook::{AttemptRecord, AttemptResult, AttemptStatus, WebhookEvent};
use floorwalker_core::prompts::config::SiteConfig;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures_util::StreamExt as _;
use serde::Deserialize;
use worker::{BatchMessageBuilder, D1PreparedStatement, D1Result, Env, Message, MessageBatch, MessageExt, QueueRetryOptionsBuilder};

use crate::http::{internal, now_ms};
use crate::outbox::DEAD_LETTERS;
use crate::outgoing::{provider_email, send_on, Connection, HttpRequest, Prepared};
use crate::platform::d1::{db, Db};
use crate::platform::random::jitter_permille;
use crate::platform::vars::{delivery_timing, secret, var};
use crate::product_pages::{CachedPages, Reader};
use crate::{deals, endpoints, mail_settings, outbox, settings, sites};

/// The lane of the copies we put in the dead-letter queue ourselves.
const PARKED_LANE: &str = "parked";

pub async fn consume(batch: MessageBatch<QueueMessage>, env: Env) {
    let messages = match batch.messages() {
        Ok(messages) => messages,
        Err(e) => {
            worker::console_error!("unreadable queue batch, retrying it: {e}");
            batch.retry_all();
            return;
        }
    };
    if batch.queue().ends_with("-dlq") {
        for message in messages {
            if message.body().lane == PARKED_LANE {
                // Our own record of a delivery already marked failed in D1; acting on it could
                // undo a replay that happened since.
                message.ack();
                continue;
            }
            match park(&env, &message.body().delivery).await {
                Ok(()) => message.ack(),
                Err(e) => {
                    worker::console_error!("dead letter {}: {e}", message.body().delivery);
                    message.retry();
                }
            }
        }
        return;
    }
    // Most messages are the backstop of a first attempt already made: one read for the whole
    // batch settles them without a claim each (core's Backstop::before_claims says which).
    // Unreadable, every message tries its claim.
    let now = now_ms();
    let ids: Vec<&str> = messages.iter().map(|message| message.body().delivery.as_str()).collect();
    let stored = match stored_deliveries(&env, &ids).await {
        Ok(stored) => Some(stored),
        Err(e) => {
            worker::console_error!("reading a batch's deliveries: {e}");
            None
        }
    };
    let due: Vec<&Message<QueueMessage>> = messages
        .iter()
        .filter(|message| {
            let Some(stored) = &stored else { return true };
            let body = message.body();
            match Backstop::before_claims(stored.get(body.delivery.as_str()).map(|stored| stored.delivery), now, body.backstop) {
                Backstop::Ack => message.ack(),
                Backstop::RetryIn { delay_s } => retry_in(message, delay_s),
                Backstop::Attempt => return true,
            }
            false
        })
        .collect();
    // What the attempts need of their sites, read once for the whole batch.
    let wanted: Vec<&str> =
        due.iter().filter_map(|message| stored.as_ref()?.get(message.body().delivery.as_str())).map(|delivery| delivery.site.as_str()).collect();
    let sites = RefCell::new(HashMap::new());
    if let Err(e) = SiteSnapshot::load_missing(&env, &sites, &wanted).await {
        worker::console_error!("reading the sites of a batch: {e}");
    }
    // Side by side, each starting as soon as another ends (a receiver that hangs holds up only
    // its own), within the isolate's connections (`outgoing::Connection`), taken before the claim.
    futures_util::stream::iter(due).for_each_concurrent(MAX_IN_FLIGHT, |message| handle(&env, message, &sites)).await;
}

fn retry_in(message: &Message<QueueMessage>, delay_s: u32) {
    message.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(delay_s).build());
}

/// Our side failed (D1 unavailable...): the delivery stays pending and may still be leased to
/// this attempt; its message comes back once the lease has run out.
fn retry_after_lease(env: &Env, message: &Message<QueueMessage>, why: &ApiError) {
    worker::console_error!("delivery {}: {why}", message.body().delivery);
    retry_in(message, delivery_timing(env).backstop_delay_s());
}

/// The stored state of these deliveries, by id, in one query (an unknown id is absent).
async fn stored_deliveries(env: &Env, ids: &[&str]) -> Result<HashMap<String, Stored>, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
        site: String,
        state: String,
        attempts: f64,
        lease_until: f64,
        next_attempt_at: f64,
    }
    let rows: Vec<Row> = db(env)?
        .query(
            "SELECT id, site, state, attempts, lease_until, next_attempt_at FROM deliveries WHERE id IN (SELECT value FROM json_each(?1))",
            &[&id_list(ids)?],
        )
        .all("reading deliveries")
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let state = DeliveryState::parse(&row.state)?;
            let stored = StoredDelivery {
                state,
                attempts: row.attempts as u32,
                lease_until: row.lease_until as u64,
                next_attempt_at: row.next_attempt_at as u64,
            };
            Some((row.id, Stored { site: row.site, delivery: stored }))
        })
        .collect())
}

/// A delivery as stored, with its site.
struct Stored {
    site: String,
    delivery: StoredDelivery,
}

fn id_list(ids: &[&str]) -> Result<String, ApiError> {
    serde_json::to_string(ids).map_err(|e| internal("encoding delivery ids", e))
}

/// One message of the consumer: claim, attempt, record, then ack or retry it.
async fn handle(env: &Env, message: &Message<QueueMessage>, sites: &RefCell<HashMap<String, Rc<SiteSnapshot>>>) {
    let id = message.body().delivery.as_str();
    let connection = Connection::take().await;
    let held = match claim(env, id).await {
        Ok(Some(Ok(held))) => held,
        Ok(None) => return unclaimed(env, message).await,
        Ok(Some(Err(e))) | Err(e) => return retry_after_lease(env, message, &e),
    };
    if let Err(e) = SiteSnapshot::load_missing(env, sites, &[held.site.as_str()]).await {
        return retry_after_lease(env, message, &e);
    }
    let site = sites.borrow().get(&held.site).cloned();
    let done = match attempt(env, &held, site.as_deref(), &connection).await {
        Ok(done) => done,
        Err(e) => return retry_after_lease(env, message, &e),
    };
    let mut done = [done];
    disable_endpoints(env, &mut done, sites).await;
    let [done] = done;
    let target = done.target.clone();
    match finish(env, vec![done]).await.map(|outcomes| outcomes.first().copied()) {
        Ok(Some(Outcome::Ack)) => message.ack(),
        // A backstop that made the attempt hands the retry to a message of its own: sent back
        // as it is, it would be acked next time, the attempt being recorded.
        Ok(Some(Outcome::RetryIn(delay_s))) if message.body().backstop => {
            outbox::enqueue_in(env, &[QueueMessage::to_attempt(id.to_owned(), target)], delay_s).await;
            message.ack();
        }
        Ok(Some(Outcome::RetryIn(delay_s))) => retry_in(message, delay_s),
        Ok(None) => retry_after_lease(env, message, &internal("recording an attempt", "no outcome")),
        Err(e) => retry_after_lease(env, message, &e),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    Ack,
    RetryIn(u32),
}

#[derive(Clone, Copy)]
struct Attempts {
    total: u32,
    cycle: u32,
}

/// A delivery this invocation holds the lease of: claimed from D1 by the consumer, or written
/// leased by the request that created it, for its first attempt right after.
pub struct Held {
    id: String,
    site: String,
    target: String,
    /// The email's public base URL, or the offline message an answer is mailed for.
    extra: Option<String>,
    event: WebhookEvent,
    /// `total` numbers the records; `cycle` (since the last replay) is the schedule's position.
    attempts: Attempts,
    first_attempt_at: u64,
}

impl Held {
    /// A delivery the request is writing leased to its own first attempt.
    pub fn fresh(id: String, site: &str, target: &Target, extra: Option<String>, event: WebhookEvent, now: u64) -> Held {
        Held { id, site: site.to_owned(), target: target.key(), extra, event, attempts: Attempts { total: 1, cycle: 1 }, first_attempt_at: now }
    }
}

/// The claim: only a pending delivery that is due and not held by another consumer. A delivered
/// one is never claimed again, so a duplicate message cannot resend it. `None`: not claimed;
/// an event that cannot be read is an error of the claimed delivery.
async fn claim(env: &Env, id: &str) -> Result<Option<Result<Held, ApiError>>, ApiError> {
    #[derive(Deserialize)]
    struct Claimed {
        site: String,
        target: String,
        attempts: f64,
        cycle_attempts: f64,
        first_attempt_at: Option<f64>,
        extra: Option<String>,
        event_data: Option<String>,
    }
    let timing = delivery_timing(env);
    let now = now_ms();
    let claimed: Option<Claimed> = db(env)?
        .query(
            "UPDATE deliveries SET lease_until = ?2, updated_at = ?3 \
             WHERE id = ?1 AND state = ?5 AND lease_until < ?3 AND next_attempt_at <= ?4 \
             RETURNING site, target, attempts, cycle_attempts, first_attempt_at, extra, \
             (SELECT data FROM outbox_events WHERE outbox_events.id = deliveries.event) AS event_data",
            &[&id, &(now + timing.lease_ms()), &now, &(now + EARLY_SLACK_MS), &DeliveryState::Pending],
        )
        .first("claiming a delivery")
        .await?;
    Ok(claimed.map(|row| {
        let event = row
            .event_data
            .as_deref()
            .ok_or_else(|| internal("loading an event", "missing outbox event"))
            .and_then(|json| serde_json::from_str(json).map_err(|e| internal("decoding an event", e)));
        event.map(|event| Held {
            id: id.to_owned(),
            site: row.site,
            target: row.target,
            extra: row.extra,
            event,
            attempts: Attempts { total: row.attempts as u32 + 1, cycle: row.cycle_attempts as u32 + 1 },
            first_attempt_at: row.first_attempt_at.map_or(now, |at| at as u64),
        })
    }))
}

/// A message whose delivery could not be claimed (another attempt took it since the batch was
/// read, or it is not due). Delivered, failed or unknown: nothing to do. Still pending, but held
/// by another attempt or not yet due: the message comes back when the lease or the wait is over,
/// so a delivery whose first attempt failed or died is still retried on schedule.
async fn unclaimed(env: &Env, message: &Message<QueueMessage>) {
    let id = message.body().delivery.as_str();
    let stored = match stored_deliveries(env, &[id]).await {
        Ok(mut stored) => stored.remove(id).map(|stored| stored.delivery),
        Err(e) => return retry_after_lease(env, message, &e),
    };
    match Backstop::of(stored, now_ms()) {
        Backstop::Ack => message.ack(),
        Backstop::RetryIn { delay_s } => retry_in(message, delay_s),
        // Free again already (its holder finished without delivering): its schedule decides.
        Backstop::Attempt => retry_in(message, 1),
    }
}

/// What an attempt needs to know of its site: read once per consumer batch, or taken from the
/// reads of the request that created the deliveries.
#[derive(Clone)]
pub struct SiteSnapshot {
    /// `None`: the site was deleted.
    pub config: Option<SiteConfig>,
    /// Every endpoint, with why it was disabled (if it was).
    pub endpoints: Vec<(Endpoint, Option<String>)>,
    pub settings: SiteDelivery,
    pub mail: MailSettings,
    /// The product page cache, already looked up for the lead's pages.
    pub pages: Option<CachedPages>,
}

impl SiteSnapshot {
    /// The reads of a snapshot of `site`, for a caller that batches them with its own;
    /// [`SiteSnapshot::loaded`] reads their results, in the same order.
    pub fn statements(db: &Db, site: &str) -> Result<[D1PreparedStatement; 4], ApiError> {
        Ok([
            sites::load_statement(db, site)?,
            settings::load_statement(db, site)?,
            endpoints::all_statement(db, site)?,
            settings::mail_statement(db, site)?,
        ])
    }

    pub fn loaded(results: &[D1Result]) -> Result<SiteSnapshot, ApiError> {
        let [config, settings, endpoints, mail] = results else { return Err(internal("reading a site", "a result per statement")) };
        Ok(SiteSnapshot {
            config: sites::loaded(config)?,
            endpoints: endpoints::loaded_all(endpoints)?,
            settings: settings::loaded(settings)?,
            mail: settings::mail_loaded(mail)?,
            pages: None,
        })
    }

    /// The endpoints that can receive events now.
    pub fn active_endpoints(&self) -> Vec<Endpoint> {
        endpoints::only_active(self.endpoints.clone())
    }

    /// Reads the snapshots of the `wanted` sites not in `known` yet, in one batch.
    async fn load_missing(env: &Env, known: &RefCell<HashMap<String, Rc<SiteSnapshot>>>, wanted: &[&str]) -> Result<(), ApiError> {
        let mut missing: Vec<&str> = wanted.iter().copied().filter(|site| !known.borrow().contains_key(*site)).collect();
        missing.sort_unstable();
        missing.dedup();
        if missing.is_empty() {
            return Ok(());
        }
        let db = db(env)?;
        let mut statements = Vec::with_capacity(missing.len() * 4);
        for site in &missing {
            statements.extend(SiteSnapshot::statements(&db, site)?);
        }
        let results = db.batch(statements, "reading the sites of deliveries").await?;
        for (site, results) in missing.into_iter().zip(results.chunks(4)) {
            known.borrow_mut().insert(site.to_owned(), Rc::new(SiteSnapshot::loaded(results)?));
        }
        Ok(())
    }
}

/// One attempt, done: what [`finish`] records.
struct Finished {
    id: String,
    target: String,
    record: Option<AttemptRecord>,
    next: Next,
    attempts: Attempts,
    first_attempt_at: u64,
    error: Option<String>,
    /// Written with the record: the local mailbox's copy of an email.
    also: Option<D1PreparedStatement>,
    /// A 410 Gone: the endpoint `(site, id)` is to be disabled.
    disable: Option<(String, String)>,
}

/// Prepares and makes one attempt of a held delivery; nothing is written yet.
async fn attempt(env: &Env, held: &Held, site: Option<&SiteSnapshot>, connection: &Connection) -> Result<Finished, ApiError> {
    let timing = delivery_timing(env);
    let done = |record, next, error, also| Finished {
        id: held.id.clone(),
        target: held.target.clone(),
        record,
        next,
        attempts: held.attempts,
        first_attempt_at: held.first_attempt_at,
        error,
        also,
        disable: None,
    };
    let Some(site) = site.filter(|site| site.config.is_some()) else {
        return Ok(done(None, Next::DeadLetter, Some(format!("site {:?} was deleted", held.site)), None));
    };
    let prepared = match Target::parse(&held.target) {
        Some(Target::Endpoint(endpoint_id)) => prepare_webhook(env, site, &endpoint_id, &held.event)?,
        Some(Target::Email) => prepare_email(env, held, site, timing.attempt_timeout_ms() / 2).await?,
        None => Prepared::Park(format!("unknown target {:?}", held.target)),
    };
    let started = now_ms();
    let mut also = None;
    let result = match prepared {
        Prepared::Http(request) => send_on(connection, request, timing.attempt_timeout_ms()).await,
        // Counted as a failed attempt, so the delivery schedule decides when to try again.
        Prepared::Wait(why) => AttemptResult::ConnectionError(why),
        Prepared::Local(message) => {
            also = Some(store_locally(env, held, &message, started)?);
            AttemptResult::Response { status: 202, retry_after: None, body: b"stored in the local mailbox".to_vec() }
        }
        Prepared::Skip(why) => return Ok(done(None, Next::Done, Some(why), None)),
        Prepared::Park(why) => return Ok(done(None, Next::DeadLetter, Some(why), None)),
    };
    let now = now_ms();
    // Which amoCRM deal a lead became, from amoCRM's answer (for its status webhooks; crate::deals).
    deals::remember_amocrm_deal(env, &held.site, &held.target, &held.event, &result).await;
    let mut record = AttemptRecord::new(started, now.saturating_sub(started), &result);
    if result == AttemptResult::Timeout {
        // Core words it for the production timeout; say what this deployment waited.
        record.error = Some(format!("no response within {} s", timing.attempt_timeout_ms() / 1000));
    }
    let next = timing.next(&result, held.attempts.cycle, held.first_attempt_at, now, jitter_permille());
    let error = match record.status {
        AttemptStatus::Delivered => None,
        _ => Some(record.error.clone().unwrap_or_else(|| format!("HTTP {}", record.response_code.unwrap_or(0)))),
    };
    let mut finished = done(Some(record), next, error, also);
    if let (Next::DisableEndpoint, Some(Target::Endpoint(endpoint_id))) = (next, Target::parse(&held.target)) {
        finished.disable = Some((held.site.clone(), endpoint_id));
    }
    Ok(finished)
}

/// The first attempts of fresh deliveries, made at once (through `waitUntil`, after the answer)
/// instead of after the queue's batch window, from what the request had just read of the site.
/// The request wrote them leased to this attempt, so nothing is claimed, and sent their queue
/// messages as backstops delayed past the lease: if this worker dies mid-attempt, the lease runs
/// out and the backstop makes the attempt. An attempt that is to be retried sends a message of its own.
///
/// Only one request's first attempts run at a time in this isolate (another request meanwhile
/// leaves its deliveries to the queue), at most MAX_IN_FLIGHT side by side: a request that waited
/// for a connection would have its timeout running, and its 2xx could arrive after the timeout
/// had already counted it failed (then sent again).
pub async fn first_attempts(env: Env, _slot: InlineSlot, held: Vec<Held>, site: SiteSnapshot, leased_until: u64) {
    let sites = RefCell::new(HashMap::from([(held.first().map(|held| held.site.clone()).unwrap_or_default(), Rc::new(site))]));
    let timeout_ms = delivery_timing(&env).attempt_timeout_ms();
    // Each wave is recorded as soon as it is done, within its share of the lease.
    for wave in held.chunks(MAX_IN_FLIGHT) {
        let site = wave.first().and_then(|delivery| sites.borrow().get(&delivery.site).cloned());
        let attempts = futures_util::future::join_all(wave.iter().map(|delivery| async {
            let connection = Connection::take_first().await;
            // Waited too long for a connection (the isolate's consumers are busy): the lease could
            // run out mid-attempt, so its backstop makes the attempt after the lease instead.
            if now_ms() + timeout_ms >= leased_until {
                worker::console_log!("first attempt of delivery {}: no connection in time, left to its backstop", delivery.id);
                return Ok(None);
            }
            attempt(&env, delivery, site.as_deref(), &connection).await.map(Some)
        }))
        .await;
        let mut finished = Vec::with_capacity(wave.len());
        for (delivery, attempt) in wave.iter().zip(attempts) {
            match attempt {
                Ok(Some(done)) => finished.push(done),
                Ok(None) => {}
                Err(e) => worker::console_error!("first attempt of delivery {}: {e} (its backstop retries it)", delivery.id),
            }
        }
        disable_endpoints(&env, &mut finished, &sites).await;
        let retries: Vec<QueueMessage> = finished.iter().map(|done| QueueMessage::to_attempt(done.id.clone(), done.target.clone())).collect();
        match finish(&env, finished).await {
            Ok(outcomes) => {
                for (message, outcome) in retries.into_iter().zip(outcomes) {
                    if let Outcome::RetryIn(delay_s) = outcome {
                        outbox::enqueue_in(&env, &[message], delay_s).await;
                    }
                }
            }
            Err(e) => worker::console_error!("recording first attempts: {e} (their backstops retry them)"),
        }
    }
}

/// Whether an inline first attempt is running in this isolate; released when dropped.
static INLINE_BUSY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The right to make first attempts inline, one request at a time per isolate.
pub struct InlineSlot;

impl InlineSlot {
    pub fn take() -> Option<InlineSlot> {
        (!INLINE_BUSY.swap(true, std::sync::atomic::Ordering::AcqRel)).then_some(InlineSlot)
    }
}

impl Drop for InlineSlot {
    fn drop(&mut self) {
        INLINE_BUSY.store(false, std::sync::atomic::Ordering::Release);
    }
}

/// Disables the endpoints that answered 410 Gone, and marks them so in the snapshots the rest
/// of the batch uses. One that could not be disabled is retried instead of failed, so its next
/// 410 disables it.
async fn disable_endpoints(env: &Env, finished: &mut [Finished], sites: &RefCell<HashMap<String, Rc<SiteSnapshot>>>) {
    let now = now_ms();
    for done in finished.iter_mut() {
        let Some((site, endpoint_id)) = &done.disable else { continue };
        match disable_endpoint(env, site, endpoint_id, now).await {
            Ok(reason) => {
                let mut sites = sites.borrow_mut();
                let Some(snapshot) = sites.get_mut(site) else { continue };
                // Attempts still running keep the snapshot they started with.
                let snapshot = Rc::make_mut(snapshot);
                for (endpoint, why) in snapshot.endpoints.iter_mut().filter(|(endpoint, _)| &endpoint.id == endpoint_id) {
                    endpoint.enabled = false;
                    *why = reason.clone();
                }
            }
            Err(e) => {
                worker::console_error!("disabling endpoint {endpoint_id} of {site}: {e}");
                done.next = Next::RetryIn { delay_s: delivery_timing(env).backstop_delay_s() };
            }
        }
    }
}

/// The signed request of `event` for the endpoint `endpoint_id`, or why it is not sent.
fn prepare_webhook(env: &Env, site: &SiteSnapshot, endpoint_id: &str, event: &WebhookEvent) -> Result<Prepared, ApiError> {
    let Some((endpoint, reason)) = site.endpoints.iter().find(|(endpoint, _)| endpoint.id == endpoint_id) else {
        return Ok(Prepared::Park(format!("endpoint {endpoint_id:?} was deleted")));
    };
    if !endpoint.enabled {
        let why = reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default();
        return Ok(Prepared::Park(format!("endpoint {endpoint_id:?} is disabled{why}")));
    }
    webhook_request(env, endpoint, &site.settings, event)
}

/// The signed request of `event` for an enabled `endpoint`, or why it is not sent.
fn webhook_request(env: &Env, endpoint: &Endpoint, settings: &SiteDelivery, event: &WebhookEvent) -> Result<Prepared, ApiError> {
    // Checked again at send time: the site's private-address allowance may have been withdrawn.
    if let Err(e) = endpoint.validate(settings.allow_private_endpoints) {
        return Ok(Prepared::Park(e.message));
    }
    let lookup = |name: &str| secret(env, name);
    let request = match map_event(endpoint, event, settings.owner_locale, &lookup) {
        Ok(Mapped::Send(request)) => request,
        Ok(Mapped::Skip) => return Ok(Prepared::Skip(format!("endpoint {:?} does not take {}", endpoint.id, event.event_type().as_str()))),
        Err(e) => return Ok(Prepared::Park(e.message)),
    };
    let body = serde_json::to_string(&request.body).map_err(|e| internal("encoding a webhook", e))?;
    let headers = request.headers_for(body.as_bytes(), now_ms() / 1000);
    Ok(Prepared::Http(HttpRequest { url: request.url, headers, body }))
}

/// The email a lead or a chat transcript asked for. The comparison is built from the shop's own
/// product pages (`product_pages`), never from what the lead says about its products; each page
/// gets half the attempt's time.
async fn prepare_email(env: &Env, held: &Held, site: &SiteSnapshot, page_timeout_ms: u64) -> Result<Prepared, ApiError> {
    let (id, event) = (held.id.as_str(), &held.event);
    let Some(config) = &site.config else {
        return Ok(Prepared::Park(format!("site {:?} was deleted", held.site)));
    };
    let (settings, mail) = (&site.settings, &site.mail);
    // Who the mail is from, how it looks and whose clock it keeps: the owner's email settings.
    let asked_at = match event {
        WebhookEvent::LeadCreated(lead) => lead.created_at,
        WebhookEvent::TranscriptRequested(request) => request.requested_at,
        WebhookEvent::MessageCreated(created) => created.message.at,
        WebhookEvent::ConversationWaiting(waiting) => waiting.waiting_since,
        _ => now_ms(),
    };
    let branded = mail_settings::Branded::with(env, config, settings, mail, asked_at);
    let shop = branded.shop(config, &settings.mail_link_hosts, false);
    let rendered = match event {
        WebhookEvent::LeadCreated(lead) => {
            let link_secret = secret(env, "LINK_SECRET").unwrap_or_default();
            // The base the lead was accepted with; a lead accepted without one (no PUBLIC_BASE_URL
            // and a non-loopback Host) gets today's configuration, so a replay after setting it sends.
            let Some(base) = held.extra.clone().or_else(|| var(env, "PUBLIC_BASE_URL").filter(|b| !b.trim().is_empty())) else {
                let why = "PUBLIC_BASE_URL is not set: the email's links cannot be built from a request's Host outside loopback";
                worker::console_error!("email {id}: {why}");
                return Ok(Prepared::Park(why.to_owned()));
            };
            // The pages as the site's origins stand now: an origin removed since is not read.
            let pages = match comparison_pages(lead, &config.origins) {
                Ok(pages) => pages,
                Err(e) => return Ok(Prepared::Park(e.message)),
            };
            let reader = Reader {
                env,
                site: &held.site,
                own_origin: Some(base.clone()),
                allow_private: settings.allow_private_endpoints,
                timeout_ms: page_timeout_ms,
            };
            let products = match plan_comparison(reader.read_all(&pages, site.pages.as_ref()).await?) {
                ComparisonPlan::Send(products) => products,
                ComparisonPlan::Retry(why) => return Ok(Prepared::Wait(why)),
                ComparisonPlan::Park(why) => return Ok(Prepared::Park(why)),
            };
            // Issued at the lead's time, so every attempt renders the same links.
            let link = |action| {
                let claims = LinkClaims { site: lead.site.clone(), lead: lead.id.clone(), action, issued_at: lead.created_at };
                sign_link(link_secret.as_bytes(), &claims).map(|token| format!("{}/v1/consent/{token}", base.trim_end_matches('/')))
            };
            let links = match (link(LinkAction::MarketingOptIn), link(LinkAction::Unsubscribe)) {
                (Ok(more_like_this), Ok(unsubscribe)) => ComparisonLinks { more_like_this, unsubscribe },
                (Err(e), _) | (_, Err(e)) => return Ok(Prepared::Park(format!("LINK_SECRET: {}", e.message))),
            };
            // What the visitor's answers point out among these products: the card promised to mark them.
            let marked = marked_products(&config.widget, lead, &products);
            render_comparison(lead, &products, &shop, &links, marked.as_ref())
        }
        // The visitor asked for it in the chat: the transcript as it stood then (stored in the
        // event, so every attempt renders the same email).
        WebhookEvent::TranscriptRequested(request) => render_transcript(request, &shop),
        // An operator's answer to a message left after hours (`chat::offline`): the delivery's
        // `extra` names the message, and the address is the one the visitor gave in it, read now
        // (an erased visitor's message is gone, and so is the email).
        WebhookEvent::MessageCreated(created) => {
            let Some(lead) = offline_message(env, &held.site, held.extra.as_deref()).await? else {
                return Ok(Prepared::Park("the message this answers is no longer stored".to_owned()));
            };
            let Some(reply) = OfflineReply::from_message(&created.message) else {
                return Ok(Prepared::Park("message.created by an operator only is emailed".to_owned()));
            };
            render_offline_reply(&lead, &reply, &shop)
        }
        // The team's alert: to the address the owner set for alerts, as it is now (cleared since:
        // parked), in the owner's language, linking the inbox when the deployment knows its address.
        WebhookEvent::ConversationWaiting(waiting) => {
            let Some(to) = mail.alert_address() else {
                return Ok(Prepared::Park("no confirmed address for alerts (the Email screen)".to_owned()));
            };
            let inbox = var(env, "PUBLIC_BASE_URL").map(|base| format!("{}/console/", base.trim().trim_end_matches('/')));
            render_waiting_alert(waiting, to, &shop, settings.owner_locale, inbox.as_deref())
        }
        _ => return Ok(Prepared::Park(format!("{} carries no email", event.event_type().as_str()))),
    };
    let message = match rendered {
        Ok(message) => message,
        Err(e) => return Ok(Prepared::Park(e.message)),
    };
    Ok(provider_email(env, id, message))
}

#[derive(Deserialize)]
struct LeadData {
    data: String,
}

/// The offline message `id` of `site`, if it is still stored.
async fn offline_message(env: &Env, site: &str, id: Option<&str>) -> Result<Option<Lead>, ApiError> {
    let Some(id) = id else { return Ok(None) };
    let row: Option<LeadData> = db(env)?
        .query("SELECT data FROM leads WHERE id = ?1 AND site = ?2 AND kind = 'offline_message'", &[&id, &site])
        .first("reading the answered message")
        .await?;
    Ok(row.and_then(|row| serde_json::from_str(&row.data).ok()))
}

/// The local provider's "send": the mailbox row, keyed by the delivery id so a retry stores it
/// once, written in the same batch as the attempt's record.
fn store_locally(env: &Env, held: &Held, message: &EmailMessage, now: u64) -> Result<D1PreparedStatement, ApiError> {
    // The mailbox's `lead` column: the lead, or for a chat transcript the conversation.
    let lead = match &held.event {
        WebhookEvent::LeadCreated(lead) => lead.id.clone(),
        WebhookEvent::TranscriptRequested(request) => request.transcript.conversation_id.clone(),
        WebhookEvent::ConversationWaiting(waiting) => waiting.conversation_id.clone(),
        WebhookEvent::MessageCreated(created) => created.lead_ids.first().cloned().unwrap_or_default(),
        _ => String::new(),
    };
    let data = serde_json::to_string(message).map_err(|e| internal("encoding an email", e))?;
    db(env)?
        .query(
            "INSERT OR IGNORE INTO mailbox (id, site, lead, to_addr, subject, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            &[&held.id, &held.site, &lead, &message.to, &message.subject, &data, &now],
        )
        .statement("storing an email")
}

/// Records the attempts and the deliveries' new states in one batch; what the queue does next
/// with each, in the same order. Those out of retries go to the dead-letter queue as our record.
async fn finish(env: &Env, finished: Vec<Finished>) -> Result<Vec<Outcome>, ApiError> {
    if finished.is_empty() {
        return Ok(Vec::new());
    }
    let db = db(env)?;
    let now = now_ms();
    let mut statements = Vec::with_capacity(finished.len() * 3);
    let mut outcomes = Vec::with_capacity(finished.len());
    let mut failed = Vec::new();
    for done in finished {
        let id = done.id.as_str();
        if let Some(record) = &done.record {
            let data = serde_json::to_string(record).map_err(|e| internal("encoding an attempt", e))?;
            let status = serde_json::to_value(record.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            statements.push(
                db.query(
                    "INSERT OR REPLACE INTO delivery_attempts (delivery, n, at, status, latency_ms, response_code, data) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    &[&id, &done.attempts.total, &record.at, &status, &record.latency_ms, &record.response_code, &data],
                )
                .statement("recording an attempt")?,
            );
        }
        statements.extend(done.also);
        // A skipped or parked delivery made no attempt.
        let made = u32::from(done.record.is_some());
        let (total, cycle) = (done.attempts.total - 1 + made, done.attempts.cycle - 1 + made);
        let (state, next_at, outcome) = match done.next {
            Next::Done => (DeliveryState::Delivered, now, Outcome::Ack),
            Next::RetryIn { delay_s } => (DeliveryState::Pending, now + u64::from(delay_s) * 1000, Outcome::RetryIn(delay_s)),
            Next::DeadLetter | Next::DisableEndpoint => (DeliveryState::Failed, now, Outcome::Ack),
        };
        let delivered_at = (state == DeliveryState::Delivered).then_some(now);
        statements.push(
            db.query(
                "UPDATE deliveries SET state = ?2, attempts = ?3, cycle_attempts = ?8, first_attempt_at = COALESCE(first_attempt_at, ?4), \
                 next_attempt_at = ?5, lease_until = 0, last_error = ?6, \
                 delivered_at = COALESCE(?9, delivered_at), updated_at = ?7 WHERE id = ?1 AND state = ?10",
                &[&id, &state, &total, &done.first_attempt_at, &next_at, &done.error, &now, &cycle, &delivered_at, &DeliveryState::Pending],
            )
            .statement("updating a delivery")?,
        );
        if state == DeliveryState::Failed {
            failed.push(QueueMessage { delivery: done.id.clone(), lane: PARKED_LANE.to_owned(), backstop: false });
        }
        outcomes.push(outcome);
    }
    db.batch(statements, "updating deliveries").await?;
    if !failed.is_empty() {
        // The dead-letter queue is the audit trail of what ran out of retries; D1 already says
        // "failed", which is what the admin API lists and replays.
        let sent = match env.queue(DEAD_LETTERS) {
            Ok(queue) => queue.send_batch(BatchMessageBuilder::new().messages(failed.clone()).build()).await,
            Err(e) => Err(e),
        };
        if let Err(e) = sent {
            worker::console_error!("dead-lettering {} deliveries: {e} (they are marked failed in D1)", failed.len());
        }
    }
    Ok(outcomes)
}

/// A message that reached the dead-letter queue by exhausting `max_retries` (its consumer kept
/// failing): its delivery is failed, unless it was delivered meanwhile.
async fn park(env: &Env, id: &str) -> Result<(), ApiError> {
    db(env)?
        .query(
            "UPDATE deliveries SET state = ?3, lease_until = 0, last_error = COALESCE(last_error, 'dead-lettered'), \
             updated_at = ?2 WHERE id = ?1 AND state = ?4",
            &[&id, &now_ms(), &DeliveryState::Failed, &DeliveryState::Pending],
        )
        .run("parking a delivery")
        .await
}

/// 410 Gone: the receiver asked us to stop. The endpoint is disabled; its other pending deliveries
/// are parked as failed when their turn comes, so nothing is dropped and all can be replayed.
/// Returns the reason stored.
async fn disable_endpoint(env: &Env, site: &str, endpoint_id: &str, now: u64) -> Result<Option<String>, ApiError> {
    let reason = format!("the receiver answered 410 Gone at {}", floorwalker_core::outbound::webhook::rfc3339(now));
    if let Some((mut endpoint, _)) = endpoints::load(env, site, endpoint_id).await? {
        endpoint.enabled = false;
        endpoints::store(env, site, &endpoint, Some(&reason), now).await?;
    }
    Ok(Some(reason))
}
