//! The queue consumer: one attempt per message, judged by core, recorded in D1, then ack or
//! `retry_with_options(delay)`. Never returns `Err` (that panics in the glue): every failure of
//! ours becomes a retry of the message, every failure of the receiver an attempt record.

use floorwalker_core::base::error::ApiError;
use floorwalker_core::chat::offline::OfflineReply;
use floorwalker_core::leads::consent::{sign_link, LinkAction, LinkClaims};
use floorwalker_core::leads::lead::Lead;
use floorwalker_core::outbound::crm::{map_event, Mapped};
use floorwalker_core::outbound::endpoint::Endpoint;
use floorwalker_core::outbound::delivery::{Backstop, DeliveryState, SiteDelivery, Next, QueueMessage, StoredDelivery, Target, EARLY_SLACK_MS, MAX_IN_FLIGHT};
use floorwalker_core::outbound::email::{
    comparison_pages, marked_products, plan_comparison, render_comparison, render_offline_reply, render_transcript, render_waiting_alert,
    ComparisonLinks, ComparisonPlan,
    EmailMessage,
};
use floorwalker_core::outbound::webhook::{AttemptRecord, AttemptResult, AttemptStatus, WebhookEvent};
use std::collections::HashMap;

use futures_util::StreamExt as _;
use serde::Deserialize;
use worker::{Env, Message, MessageBatch, MessageExt, QueueRetryOptionsBuilder};

use crate::product_pages::Reader;
use crate::{endpoints, sites};
use crate::http::{internal, now_ms};
use crate::outbox::DEAD_LETTERS;
use crate::platform::d1::db;
use crate::platform::random::jitter_permille;
use crate::platform::vars::{delivery_timing, secret, var};
use crate::outgoing::{provider_email, send, HttpRequest, Prepared};
use crate::{deals, mail_settings, settings};

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
            match Backstop::before_claims(stored.get(message.body().delivery.as_str()).copied(), now) {
                Backstop::Ack => message.ack(),
                Backstop::RetryIn { delay_s } => retry_in(message, delay_s),
                Backstop::Attempt => return true,
            }
            false
        })
        .collect();
    // Side by side, but never more requests in flight than the runtime lets one invocation open
    // connections (6): a request waiting for a free connection would have its timeout running.
    futures_util::stream::iter(due).for_each_concurrent(MAX_IN_FLIGHT, |message| handle(&env, message)).await;
}

fn retry_in(message: &Message<QueueMessage>, delay_s: u32) {
    message.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(delay_s).build());
}

/// The stored state of these deliveries, by id, in one query (an unknown id is absent).
async fn stored_deliveries(env: &Env, ids: &[&str]) -> Result<HashMap<String, StoredDelivery>, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
        state: String,
        lease_until: f64,
        next_attempt_at: f64,
    }
    let ids = serde_json::to_string(ids).map_err(|e| internal("encoding delivery ids", e))?;
    let rows: Vec<Row> = db(env)?
        .query("SELECT id, state, lease_until, next_attempt_at FROM deliveries WHERE id IN (SELECT value FROM json_each(?1))", &[&ids])
        .all("reading deliveries")
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let state = DeliveryState::parse(&row.state)?;
            Some((row.id, StoredDelivery { state, lease_until: row.lease_until as u64, next_attempt_at: row.next_attempt_at as u64 }))
        })
        .collect())
}

async fn handle(env: &Env, message: &Message<QueueMessage>) {
    let id = &message.body().delivery;
    match attempt(env, id, None).await {
        Ok(Outcome::Ack) => message.ack(),
        Ok(Outcome::RetryIn(delay_s)) => retry_in(message, delay_s),
        Err(e) => {
            // Our side failed (D1 unavailable...): the delivery stays pending and may still be
            // leased to this attempt; come back once the lease has run out.
            worker::console_error!("delivery {id}: {e}");
            let delay = u32::try_from(delivery_timing(env).lease_ms().div_ceil(1000) + 1).unwrap_or(60);
            retry_in(message, delay);
        }
    }
}

enum Outcome {
    Ack,
    RetryIn(u32),
}

#[derive(Clone, Copy)]
struct Attempts {
    total: u32,
    cycle: u32,
}

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

/// What the request that created fresh deliveries had just read of their site: their first
/// attempt, right after, builds its webhook from it instead of reading it again.
pub struct SiteSnapshot {
    /// The site's active endpoints.
    pub endpoints: Vec<Endpoint>,
    pub settings: SiteDelivery,
}

async fn attempt(env: &Env, id: &str, known: Option<&SiteSnapshot>) -> Result<Outcome, ApiError> {
    let timing = delivery_timing(env);
    let now = now_ms();
    // The claim: only a pending delivery that is due and not held by another consumer. A delivered
    // one is never claimed again, whatever messages still name it.
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
    let Some(claimed) = claimed else { return unclaimed(env, id, now).await };
    let event: WebhookEvent = claimed
        .event_data
        .as_deref()
        .ok_or_else(|| internal("loading an event", "missing outbox event"))
        .and_then(|json| serde_json::from_str(json).map_err(|e| internal("decoding an event", e)))?;
    // `attempts` numbers the records; `cycle` (since the last replay) is the schedule's position.
    let attempts = Attempts { total: claimed.attempts as u32 + 1, cycle: claimed.cycle_attempts as u32 + 1 };
    let first_attempt_at = claimed.first_attempt_at.map_or(now, |at| at as u64);

    let prepared = match Target::parse(&claimed.target) {
        Some(Target::Endpoint(endpoint_id)) => {
            match known.and_then(|site| site.endpoints.iter().find(|endpoint| endpoint.id == endpoint_id).map(|endpoint| (endpoint, &site.settings))) {
                Some((endpoint, settings)) => webhook_request(env, endpoint, settings, &event)?,
                None => prepare_webhook(env, &claimed.site, &endpoint_id, &event).await?,
            }
        }
        Some(Target::Email) => prepare_email(env, id, &claimed, &event, timing.attempt_timeout_ms() / 2).await?,
        None => Prepared::Park(format!("unknown target {:?}", claimed.target)),
    };
    let started = now_ms();
    let result = match prepared {
        Prepared::Http(request) => send(request, timing.attempt_timeout_ms()).await,
        // Counted as a failed attempt, so the delivery schedule decides when to try again.
        Prepared::Wait(why) => AttemptResult::ConnectionError(why),
        Prepared::Local(message) => store_locally(env, id, &claimed.site, &event, &message, started).await?,
        Prepared::Skip(why) => return finish(env, id, None, Next::Done, attempts, first_attempt_at, Some(why)).await,
        Prepared::Park(why) => return finish(env, id, None, Next::DeadLetter, attempts, first_attempt_at, Some(why)).await,
    };
    let done = now_ms();
    // Which amoCRM deal a lead became, from amoCRM's answer (for its status webhooks; crate::deals).
    deals::remember_amocrm_deal(env, &claimed.site, &claimed.target, &event, &result).await;
    let mut record = AttemptRecord::new(started, done.saturating_sub(started), &result);
    if result == AttemptResult::Timeout {
        // Core words it for the production timeout; say what this deployment waited.
        record.error = Some(format!("no response within {} s", timing.attempt_timeout_ms() / 1000));
    }
    let next = timing.next(&result, attempts.cycle, first_attempt_at, done, jitter_permille());
    let error = match record.status {
        AttemptStatus::Delivered => None,
        _ => Some(record.error.clone().unwrap_or_else(|| format!("HTTP {}", record.response_code.unwrap_or(0)))),
    };
    let disable = match (next, Target::parse(&claimed.target)) {
        (Next::DisableEndpoint, Some(Target::Endpoint(endpoint_id))) => Some((claimed.site.clone(), endpoint_id)),
        _ => None,
    };
    if let Some((site, endpoint_id)) = &disable {
        disable_endpoint(env, site, endpoint_id, done).await?;
    }
    finish(env, id, Some(record), next, attempts, first_attempt_at, error).await
}

/// A message whose delivery could not be claimed (another attempt took it since the batch was
/// read, or an inline attempt's claim lost). Delivered, failed or unknown: nothing to do. Still
/// pending, but held by another attempt or not yet due: this message comes back when the lease or
/// the wait is over, so a delivery whose inline attempt failed or died is still retried on schedule.
async fn unclaimed(env: &Env, id: &str, now: u64) -> Result<Outcome, ApiError> {
    let stored = stored_deliveries(env, &[id]).await?.remove(id);
    Ok(match Backstop::of(stored, now) {
        Backstop::Ack => Outcome::Ack,
        Backstop::RetryIn { delay_s } => Outcome::RetryIn(delay_s),
        // Free again already (its holder finished without delivering): its schedule decides.
        Backstop::Attempt => Outcome::RetryIn(1),
    })
}

/// The first attempt of fresh deliveries, made at once (through `waitUntil`, after the answer)
/// instead of after the queue's batch window. Their queue messages stay the backstop: a failure
/// here is rescheduled by `finish` as any attempt's, and the message retries it when due; a
/// worker that dies mid-attempt leaves a lease that runs out, after which the message (or the
/// sweeper) takes over.
///
/// One lead's deliveries go one after another, and only one lead's at a time in this isolate
/// (another lead meanwhile leaves its first attempt to the queue): with the consumer's
/// [`MAX_IN_FLIGHT`] that stays within the six connections the runtime opens at once. A request
/// that waited for a connection would have its timeout running, and its 2xx could arrive after
/// the timeout had already counted it failed (then sent again).
pub async fn attempt_now(env: Env, ids: Vec<String>, site: SiteSnapshot) {
    let Some(_slot) = InlineSlot::take() else { return };
    for id in &ids {
        if let Err(e) = attempt(&env, id, Some(&site)).await {
            worker::console_error!("first attempt of delivery {id}: {e}");
        }
    }
}

/// Whether an inline first attempt is running in this isolate; released when dropped.
static INLINE_BUSY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

struct InlineSlot;

impl InlineSlot {
    fn take() -> Option<InlineSlot> {
        (!INLINE_BUSY.swap(true, std::sync::atomic::Ordering::AcqRel)).then_some(InlineSlot)
    }
}

impl Drop for InlineSlot {
    fn drop(&mut self) {
        INLINE_BUSY.store(false, std::sync::atomic::Ordering::Release);
    }
}

async fn prepare_webhook(env: &Env, site: &str, endpoint_id: &str, event: &WebhookEvent) -> Result<Prepared, ApiError> {
    // The endpoint and the site's settings in one round trip.
    let db = db(env)?;
    let read = db.batch(vec![endpoints::one_statement(&db, site, endpoint_id)?, settings::load_statement(&db, site)?], "loading an endpoint").await?;
    let [endpoint, settings] = read.as_slice() else { return Err(internal("loading an endpoint", "a result per statement")) };
    let Some((endpoint, reason)) = endpoints::loaded_one(endpoint)? else {
        return Ok(Prepared::Park(format!("endpoint {endpoint_id:?} was deleted")));
    };
    if !endpoint.enabled {
        return Ok(Prepared::Park(format!("endpoint {endpoint_id:?} is disabled{}", reason.map(|r| format!(": {r}")).unwrap_or_default())));
    }
    webhook_request(env, &endpoint, &settings::loaded(settings)?, event)
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
async fn prepare_email(env: &Env, id: &str, claimed: &Claimed, event: &WebhookEvent, page_timeout_ms: u64) -> Result<Prepared, ApiError> {
    let Some(config) = sites::load(env, &claimed.site).await? else {
        return Ok(Prepared::Park(format!("site {:?} was deleted", claimed.site)));
    };
    let settings = settings::load(env, &claimed.site).await?;
    // Who the mail is from, how it looks and whose clock it keeps: the owner's email settings.
    let asked_at = match event {
        WebhookEvent::LeadCreated(lead) => lead.created_at,
        WebhookEvent::TranscriptRequested(request) => request.requested_at,
        WebhookEvent::MessageCreated(created) => created.message.at,
        WebhookEvent::ConversationWaiting(waiting) => waiting.waiting_since,
        _ => now_ms(),
    };
    let mail = settings::mail(env, &claimed.site).await?;
    let branded = mail_settings::Branded::with(env, &config, &settings, &mail, asked_at);
    let shop = branded.shop(&config, &settings.mail_link_hosts, false);
    let rendered = match event {
        WebhookEvent::LeadCreated(lead) => {
            let link_secret = secret(env, "LINK_SECRET").unwrap_or_default();
            // The base the lead was accepted with; a lead accepted without one (no PUBLIC_BASE_URL
            // and a non-loopback Host) gets today's configuration, so a replay after setting it sends.
            let Some(base) = claimed.extra.clone().or_else(|| var(env, "PUBLIC_BASE_URL").filter(|b| !b.trim().is_empty())) else {
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
                site: &claimed.site,
                own_origin: Some(base.clone()),
                allow_private: settings.allow_private_endpoints,
                timeout_ms: page_timeout_ms,
            };
            let mut reads = Vec::with_capacity(pages.len());
            for page in &pages {
                reads.push(reader.read(page).await?);
            }
            let products = match plan_comparison(reads) {
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
            let Some(lead) = offline_message(env, &claimed.site, claimed.extra.as_deref()).await? else {
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

/// The local provider's "send": the mailbox row, keyed by the delivery id so a retry stores it once.
async fn store_locally(
    env: &Env,
    id: &str,
    site: &str,
    event: &WebhookEvent,
    message: &EmailMessage,
    now: u64,
) -> Result<AttemptResult, ApiError> {
    // The mailbox's `lead` column: the lead, or for a chat transcript the conversation.
    let lead = match event {
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
            &[&id, &site, &lead, &message.to, &message.subject, &data, &now],
        )
        .run("storing an email")
        .await?;
    Ok(AttemptResult::Response { status: 202, retry_after: None, body: b"stored in the local mailbox".to_vec() })
}

/// Records the attempt and the delivery's new state in one batch, and tells the queue what next.
async fn finish(
    env: &Env,
    id: &str,
    record: Option<AttemptRecord>,
    next: Next,
    attempts: Attempts,
    first_attempt_at: u64,
    error: Option<String>,
) -> Result<Outcome, ApiError> {
    let db = db(env)?;
    let now = now_ms();
    let mut statements = Vec::new();
    if let Some(record) = &record {
        let data = serde_json::to_string(record).map_err(|e| internal("encoding an attempt", e))?;
        let status = serde_json::to_value(record.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        statements.push(
            db.query(
                "INSERT OR REPLACE INTO delivery_attempts (delivery, n, at, status, latency_ms, response_code, data) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                &[&id, &attempts.total, &record.at, &status, &record.latency_ms, &record.response_code, &data],
            )
            .statement("recording an attempt")?,
        );
    }
    // A skipped or parked delivery made no attempt.
    let made = u32::from(record.is_some());
    let (total, cycle) = (attempts.total - 1 + made, attempts.cycle - 1 + made);
    let (state, next_at, outcome) = match next {
        Next::Done => (DeliveryState::Delivered, now, Outcome::Ack),
        Next::RetryIn { delay_s } => (DeliveryState::Pending, now + u64::from(delay_s) * 1000, Outcome::RetryIn(delay_s)),
        Next::DeadLetter | Next::DisableEndpoint => (DeliveryState::Failed, now, Outcome::Ack),
    };
    let delivered_at = (state == DeliveryState::Delivered).then_some(now);
    statements.push(
        db.query(
            "UPDATE deliveries SET state = ?2, attempts = ?3, cycle_attempts = ?8, first_attempt_at = COALESCE(first_attempt_at, ?4), \
             next_attempt_at = ?5, lease_until = 0, last_error = ?6, \
             delivered_at = COALESCE(?9, delivered_at), updated_at = ?7 WHERE id = ?1",
            &[&id, &state, &total, &first_attempt_at, &next_at, &error, &now, &cycle, &delivered_at],
        )
        .statement("updating a delivery")?,
    );
    db.batch(statements, "updating a delivery").await?;
    if state == DeliveryState::Failed {
        // The dead-letter queue is the audit trail of what ran out of retries; D1 already says
        // "failed", which is what the admin API lists and replays.
        let sent = match env.queue(DEAD_LETTERS) {
            Ok(queue) => queue.send(QueueMessage { delivery: id.to_owned(), lane: PARKED_LANE.to_owned() }).await,
            Err(e) => Err(e),
        };
        if let Err(e) = sent {
            worker::console_error!("dead-lettering {id}: {e} (it is marked failed in D1)");
        }
    }
    Ok(outcome)
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
async fn disable_endpoint(env: &Env, site: &str, endpoint_id: &str, now: u64) -> Result<(), ApiError> {
    if let Some((mut endpoint, _)) = endpoints::load(env, site, endpoint_id).await? {
        endpoint.enabled = false;
        let reason = format!("the receiver answered 410 Gone at {}", floorwalker_core::outbound::webhook::rfc3339(now));
        endpoints::store(env, site, &endpoint, Some(&reason), now).await?;
    }
    Ok(())
}
