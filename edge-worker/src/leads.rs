//! `POST /v1/leads`: core validates and normalises; the lead, its events and their deliveries are
//! written in ONE D1 batch (a transaction), then the deliveries are enqueued.

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::leads::lead::{LeadKind, LeadRequest, MAX_LEAD_BYTES};
use floorwalker_core::outbound::email::email_link_base;
use floorwalker_core::outbound::delivery::{LeadReceipt, Target};
use floorwalker_core::outbound::webhook::{EventType, WebhookEvent};
use worker::{Env, Request, Response};

use crate::http::{self, internal};
use crate::platform::d1::db;
use crate::platform::vars::{test_timing, var};
use crate::{cors, endpoints, outbox, rate_limit, settings, sites};

pub async fn submit(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    let origin = http::header(&req, "origin")
        .ok_or_else(|| ApiError::new(ErrorCode::OriginNotAllowed, "leads are accepted only from a browser page (Origin header)"))?;
    let request: LeadRequest = http::read_json(&mut req, MAX_LEAD_BYTES).await?;
    let config = sites::require(env, &request.site).await?;
    if !config.allows_origin(&origin) {
        return Err(ApiError::new(ErrorCode::OriginNotAllowed, format!("origin {origin} is not allowed for site {:?}", request.site)));
    }
    let settings = settings::load(env, &request.site).await?;
    let now = http::now_ms();
    let lead = request.validate(settings.phone_region, now)?.into_lead();

    // The same submission again (double click, lost response): the original lead, not a new one.
    if lead_exists(env, &lead.id).await? {
        return receipt(&lead.id, true, &origin);
    }
    // Per client and per visitor: generous per address (an office or a carrier's NAT shares
    // one), tight per visitor (a person leaves a few contacts, not dozens).
    let counters = settings.lead_limits.counters(&lead.site, &rate_limit::client(&req), &lead.visitor);
    if let Some(refusal) = rate_limit::check(env, &counters, now, Some(&origin)).await? {
        return Ok(refusal);
    }

    let db = db(env)?;
    let data = serde_json::to_string(&lead).map_err(|e| internal("encoding the lead", e))?;
    let mut statements = vec![db
        .query(
            "INSERT INTO leads (id, site, visitor, kind, created_at, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            &[&lead.id, &lead.site, &lead.visitor, &lead.kind.as_str(), &now, &data],
        )
        .statement("storing the lead")?];
    let endpoints = endpoints::active(env, &lead.site).await?;
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
    let mut ids = Vec::new();
    for event in WebhookEvent::for_lead(&lead) {
        let mut targets = outbox::endpoint_targets(&endpoints, &event);
        // The promised email rides on lead.created, through the same outbox as the webhooks.
        if event.event_type() == EventType::LeadCreated && lead.kind == LeadKind::ComparisonEmail {
            targets.push(Target::Email);
        }
        let (more, more_ids) = outbox::event_statements(&db, &lead.site, &event, &targets, base_url.as_deref(), now)?;
        statements.extend(more);
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
        outbox::enqueue(env, &ids).await;
    }
    receipt(&lead.id, false, &origin)
}

fn receipt(id: &str, duplicate: bool, origin: &str) -> Result<Response, ApiError> {
    let mut response = http::json(&LeadReceipt { id: id.to_owned(), duplicate }, if duplicate { 200 } else { 201 })?;
    cors::allow_origin(&mut response, origin)?;
    Ok(response)
}

async fn lead_exists(env: &Env, id: &str) -> Result<bool, ApiError> {
    let found: Option<String> =
        db(env)?.query("SELECT id FROM leads WHERE id = ?1", &[&id]).first_column("id", "looking up the lead").await?;
    Ok(found.is_some())
}
