//! `POST /v1/leads`: core validates and normalises; the lead, its events and their deliveries are
//! written in ONE D1 batch (a transaction), then the deliveries are enqueued and their first
//! attempts made at once, after the answer (`deliver::first_attempts`).

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::chat::hub::HubNotification;
use floorwalker_core::chat::offline::contact_label;
use floorwalker_core::leads::lead::{Lead, LeadKind, LeadRequest, MAX_LEAD_BYTES};
use floorwalker_core::outbound::delivery::{LeadReceipt, QueueMessage, Target};
use floorwalker_core::outbound::email::{comparison_page_urls, comparison_pages, email_link_base};
use floorwalker_core::outbound::webhook::{EventType, WebhookEvent};
use worker::{Context, Env, Request, Response};

use crate::http::{self, internal};
use crate::platform::d1::{db, rows};
use crate::platform::vars::{delivery_timing, test_timing, var};
use crate::{chat, cors, deliver, outbox, product_pages, rate_limit, sites};

pub async fn submit(mut req: Request, env: &Env, ctx: &Context) -> Result<Response, ApiError> {
    let origin = http::header(&req, "origin")
        .ok_or_else(|| ApiError::new(ErrorCode::OriginNotAllowed, "leads are accepted only from a browser page (Origin header)"))?;
    let request: LeadRequest = http::read_json(&mut req, MAX_LEAD_BYTES).await?;
    // Everything the lead and the first attempts of its deliveries need to read, in one round
    // trip: the site, its settings, endpoints and email settings, whether this very submission
    // was stored already, whether the visitor is in a chat (whose operators then learn the
    // contact), and the product page cache of a comparison's pages.
    let db = db(env)?;
    let lead_id = Lead::id_for(&request.site, &request.visitor, &request.idempotency_key);
    let mut reads = Vec::from(deliver::SiteSnapshot::statements(&db, &request.site)?);
    reads.push(db.query(EXISTS_SQL, &[&lead_id]).statement(LOOKING_UP)?);
    reads.push(chat::live::open_conversation_statement(&db, &request.site, &request.visitor)?);
    if request.kind == LeadKind::ComparisonEmail {
        reads.push(product_pages::lookup_statement(&db, &request.site, &comparison_page_urls(&request.context))?);
    }
    let read = db.batch(reads, "reading the site for a lead").await?;
    let (snapshot, rest) = read.split_at_checked(4).ok_or_else(|| internal("reading the site for a lead", "a result per statement"))?;
    let [existing, open_conversation, pages @ ..] = rest else {
        return Err(internal("reading the site for a lead", "a result per statement"));
    };
    let mut site = deliver::SiteSnapshot::loaded(snapshot)?;
    site.pages = pages.first().map(product_pages::looked_up_pages).transpose()?;
    let config = site.config.as_ref().ok_or_else(|| sites::unknown(&request.site))?;
    if !config.allows_origin(&origin) {
        return Err(ApiError::new(ErrorCode::OriginNotAllowed, format!("origin {origin} is not allowed for site {:?}", request.site)));
    }
    let settings = &site.settings;
    let endpoints = site.active_endpoints();
    let now = http::now_ms();
    let lead = request.validate(settings.phone_region, now)?.into_lead();

    // The same submission again (double click, lost response): the original lead, not a new one.
    if lead.id == lead_id && !rows::<serde_json::Value>(existing, LOOKING_UP)?.is_empty() {
        return receipt(&lead.id, true, &origin);
    }
    // The comparison email shows only what the site's own pages publish: a product URL
    // elsewhere is refused here, before anything is counted or stored.
    if lead.kind == LeadKind::ComparisonEmail {
        comparison_pages(&lead, &config.origins)?;
    }
    // Per client and per visitor: generous per address (an office or a carrier's NAT shares
    // one), tight per visitor (a person leaves a few contacts, not dozens). A lead that mails
    // the visitor also counts against the mail caps (per recipient, client and site per day).
    let client = rate_limit::client(&req);
    let mut counters = settings.lead_limits.counters(&lead.site, &client, &lead.visitor).to_vec();
    if let (LeadKind::ComparisonEmail, Some(email)) = (lead.kind, lead.contact.email.as_deref()) {
        counters.extend(settings.mail_limits.counters(&lead.site, &client, email));
    }
    if let Some(refusal) = rate_limit::check(env, &counters, now, Some(&origin)).await? {
        return Ok(refusal);
    }

    let data = serde_json::to_string(&lead).map_err(|e| internal("encoding the lead", e))?;
    let mut statements = vec![db
        .query(
            "INSERT INTO leads (id, site, visitor, kind, created_at, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            &[&lead.id, &lead.site, &lead.visitor, &lead.kind.as_str(), &now, &data],
        )
        .statement("storing the lead")?];
    // Links in the email point back at this worker. Without a usable base the lead is still
    // stored and its email delivery written without one: it is parked at send time (failed,
    // replayable once PUBLIC_BASE_URL is set), never sent with links on a forged Host.
    let request_origin = req.url().map(|u| u.origin().ascii_serialization()).unwrap_or_default();
    let base_url = match email_link_base(var(env, "PUBLIC_BASE_URL").as_deref(), &request_origin) {
        Ok(base) => Some(base),
        Err(e) if lead.kind == LeadKind::ComparisonEmail => {
            worker::console_error!("lead {}: {}", lead.id, e.message);
            None
        }
        Err(_) => None,
    };
    // This request makes the first attempts itself, right after answering, when no other request
    // of this isolate is making its own: its deliveries are written leased to it.
    let outgoing: Vec<(WebhookEvent, Vec<Target>)> = WebhookEvent::for_lead(&lead)
        .into_iter()
        .map(|event| {
            let mut targets = outbox::endpoint_targets(&endpoints, &event);
            // The promised email rides on lead.created, through the same outbox as the webhooks.
            if event.event_type() == EventType::LeadCreated && lead.kind == LeadKind::ComparisonEmail {
                targets.push(Target::Email);
            }
            (event, targets)
        })
        .collect();
    let inline = deliver::InlineSlot::take();
    let held_for = delivery_timing(env).first_attempts_hold(outgoing.iter().map(|(_, targets)| targets.len()).sum());
    let leased_until = if inline.is_some() { now + held_for.lease_ms } else { 0 };
    let mut ids = Vec::new();
    let mut fresh = Vec::new();
    for (event, targets) in outgoing {
        let (more, more_ids) = outbox::event_statements(&db, &lead.site, &event, &targets, base_url.as_deref(), now, leased_until)?;
        statements.extend(more);
        for (target, message) in targets.iter().zip(&more_ids) {
            let extra = (*target == Target::Email).then(|| base_url.clone()).flatten();
            fresh.push(deliver::Held::fresh(message.delivery.clone(), &lead.site, target, extra, event.clone(), now));
        }
        ids.extend(more_ids);
    }
    if let Err(e) = db.try_batch(statements).await {
        // Two identical submissions racing: the other one stored the lead (the batch is atomic,
        // so nothing of this one was kept).
        if lead_exists(env, &lead.id).await? {
            return receipt(&lead.id, true, &origin);
        }
        return Err(internal("storing the lead", e));
    }
    // Fault injection for the durability test: behave as if the worker died right here.
    let skip_enqueue = test_timing(env) && http::header(&req, "x-floorwalker-test-fault").as_deref() == Some("skip-enqueue");
    if !skip_enqueue {
        match inline {
            Some(slot) => {
                let backstops: Vec<QueueMessage> = ids.into_iter().map(|message| QueueMessage { backstop: true, ..message }).collect();
                outbox::enqueue_in(env, &backstops, held_for.backstop_delay_s).await;
                ctx.wait_until(deliver::first_attempts(env.clone(), slot, fresh, site, leased_until));
            }
            None => outbox::enqueue(env, &ids).await,
        }
    }
    // The operators' side learns of it after the answer: the visitor goes on at once.
    let id = lead.id.clone();
    ctx.wait_until(tell_operators(env.clone(), lead, chat::live::has_open_conversation(open_conversation)?));
    receipt(&id, false, &origin)
}

/// A visitor in a chat who leaves a contact is named by it from now on; a message left after
/// hours lands in the operators' inbox, and open consoles hear of it now.
async fn tell_operators(env: Env, lead: Lead, in_a_chat: bool) {
    if in_a_chat {
        if let Err(e) = chat::live::visitor_moved(&env, &lead.site, &lead.visitor).await {
            worker::console_error!("lead {}: live context: {}", lead.id, e.message);
        }
    }
    if lead.kind == LeadKind::OfflineMessage {
        let visitor_label = contact_label(&lead.contact).unwrap_or_default();
        let left = HubNotification::OfflineMessageLeft { lead_id: lead.id.clone(), visitor_label };
        if let Err(e) = chat::offline::announce(&env, &lead.site, left).await {
            worker::console_error!("lead {}: telling consoles: {}", lead.id, e.message);
        }
    }
}

fn receipt(id: &str, duplicate: bool, origin: &str) -> Result<Response, ApiError> {
    let mut response = http::json(&LeadReceipt { id: id.to_owned(), duplicate }, if duplicate { 200 } else { 201 })?;
    cors::allow_origin(&mut response, origin)?;
    Ok(response)
}

const EXISTS_SQL: &str = "SELECT id FROM leads WHERE id = ?1";
const LOOKING_UP: &str = "looking up the lead";

async fn lead_exists(env: &Env, id: &str) -> Result<bool, ApiError> {
    let found: Option<String> = db(env)?.query(EXISTS_SQL, &[&id]).first_column("id", LOOKING_UP).await?;
    Ok(found.is_some())
}
