//! `POST /v1/leads`: core validates and normalises; the lead, its events and their deliveries are
//! written in ONE D1 batch (a transaction), then the deliveries are enqueued.

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::leads::lead::{Lead, LeadKind, LeadRequest, MAX_LEAD_BYTES};
use floorwalker_core::outbound::delivery::{rate_limited, rate_window, LeadLimits, LeadReceipt, Target};
use floorwalker_core::outbound::webhook::{EventType, WebhookEvent};
use serde::Deserialize;
use worker::{Env, Request, Response};

use crate::http::{self, internal};
use crate::platform::d1::db;
use crate::platform::vars::{test_timing, var};
use crate::{cors, endpoints, outbox, settings, sites};

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
    let ip = http::header(&req, "cf-connecting-ip").unwrap_or_else(|| "unknown".to_owned());
    if let Some(retry_after) = check_rate(env, &lead, &ip, settings.lead_limits, now).await? {
        let mut response = cors::error_response(&rate_limited(retry_after), Some(&origin))
            .map_err(|e| internal("building the response", e))?;
        http::set(response.headers_mut(), "retry-after", &retry_after.to_string())?;
        http::set(response.headers_mut(), "access-control-expose-headers", "retry-after")?;
        return Ok(response);
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
    // Links in the email point back at this worker: its configured public URL, else the origin
    // this request came in on.
    let base_url = var(env, "PUBLIC_BASE_URL").unwrap_or_else(|| {
        req.url().map(|u| u.origin().ascii_serialization()).unwrap_or_default()
    });
    let mut ids = Vec::new();
    for event in WebhookEvent::for_lead(&lead) {
        let mut targets = outbox::endpoint_targets(&endpoints, &event);
        // The promised email rides on lead.created, through the same outbox as the webhooks.
        if event.event_type() == EventType::LeadCreated && lead.kind == LeadKind::ComparisonEmail {
            targets.push(Target::Email);
        }
        let (more, more_ids) = outbox::event_statements(&db, &lead.site, &event, &targets, Some(&base_url), now)?;
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

#[derive(Deserialize)]
struct CountRow {
    count: f64,
}

/// Fixed-window counters in D1, per IP and per visitor. D1 rather than a Durable Object: leads are
/// rare (people typing), the counter is one upsert in the database we write anyway, and it needs
/// no extra binding; a DO would only pay off at event-ingest rates. Returns the `Retry-After` in
/// seconds when a limit is exceeded.
async fn check_rate(env: &Env, lead: &Lead, ip: &str, limits: LeadLimits, now_ms: u64) -> Result<Option<u64>, ApiError> {
    let (window, retry_after) = rate_window(now_ms, limits.window_s);
    const DOING: &str = "counting submissions";
    let db = db(env)?;
    let upsert = |key: String| {
        db.query(
            "INSERT INTO rate_limits (key, window, count) VALUES (?1, ?2, 1) \
             ON CONFLICT (key, window) DO UPDATE SET count = count + 1 RETURNING count",
            &[&key, &window],
        )
        .statement(DOING)
    };
    let statements = vec![upsert(format!("ip:{}:{ip}", lead.site))?, upsert(format!("visitor:{}:{}", lead.site, lead.visitor))?];
    let results = db.batch(statements, DOING).await?;
    let counts: Vec<u32> = results
        .iter()
        .map(|r| r.results::<CountRow>().ok().and_then(|rows| rows.first().map(|row| row.count as u32)).unwrap_or(0))
        .collect();
    let over_ip = counts.first().is_some_and(|&c| c > limits.per_ip);
    let over_visitor = counts.get(1).is_some_and(|&c| c > limits.per_visitor);
    Ok((over_ip || over_visitor).then_some(retry_after))
}
