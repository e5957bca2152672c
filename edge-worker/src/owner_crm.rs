//! The owner's cockpit, CRM and leads: "send a test event" to an endpoint, the leads list with
//! its filters, one lead, and the CSV export. What a test is, what a filter matches and what a
//! CSV cell may hold are core's (`outbound::test_event`, `outbound::lead_log`); this module reads
//! D1, sends one request and answers.

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::base::ids::client_id_from_bytes;
use floorwalker_core::leads::lead::Lead;
use floorwalker_core::outbound::lead_log::{csv_header, csv_row, LeadFilter, LeadQuery, MAX_CSV_ROWS, MAX_LEADS_SCANNED};
use floorwalker_core::outbound::test_event::{test_limits, test_request, TestDelivery};
use floorwalker_core::outbound::webhook::{AttemptRecord, AttemptResult};
use serde::Deserialize;
use worker::{Env, Method, Request, Response};

use crate::outgoing::send_once;
use crate::http::{self, internal};
use crate::platform::d1::db;
use crate::platform::random::random_bytes;
use crate::platform::vars::{delivery_timing, secret};
use crate::{endpoints, rate_limit, settings, sites};

/// Leads the list answers with at most (the CSV takes up to `MAX_CSV_ROWS`).
const MAX_LEADS_LISTED: u32 = 500;
/// Rows read from D1 per round trip while scanning.
const PAGE_ROWS: u32 = 500;

/// `POST /v1/admin/sites/:site/endpoints/:id/test`: one signed `test` request to the endpoint,
/// sent now; the answer is its attempt (status, code, latency, body). Nothing is stored.
pub async fn test_endpoint(env: &Env, site: &str, id: &str) -> Result<Response, ApiError> {
    let Some((endpoint, _)) = endpoints::load(env, site, id).await? else {
        return Err(ApiError::new(ErrorCode::NotFound, format!("site {site:?} has no endpoint {id:?}")));
    };
    let settings = settings::load(env, site).await?;
    // The same guard as a delivery: an endpoint stored before the site lost its private-address
    // allowance is not reached by a test either.
    endpoint.validate(settings.allow_private_endpoints)?;
    let nonce = client_id_from_bytes(&random_bytes::<12>()?);
    let now = http::now_ms();
    let lookup = |name: &str| secret(env, name);
    let request = test_request(site, &endpoint, &nonce, now, settings.owner_locale, &lookup)?;
    // Counted only once the test can be sent, so a refused configuration costs no attempt.
    if let Some(refusal) = rate_limit::check(env, &test_limits(site, id), now, None).await? {
        return Ok(refusal);
    }
    let method = if request.method == "GET" { Method::Get } else { Method::Post };
    let timeout_ms = delivery_timing(env).attempt_timeout_ms();
    let body = request.body.as_ref().map(serde_json::to_string).transpose().map_err(|e| internal("encoding a test event", e))?;
    let started = http::now_ms();
    let headers = request.headers_for(body.as_deref().unwrap_or_default().as_bytes(), started / 1000);
    let result = send_once(method, &request.url, &headers, body.as_deref(), timeout_ms).await;
    let mut attempt = AttemptRecord::new(started, http::now_ms().saturating_sub(started), &result);
    if result == AttemptResult::Timeout {
        attempt.error = Some(format!("no response within {} s", timeout_ms / 1000));
    }
    http::json(&TestDelivery { endpoint: id.to_owned(), webhook_id: request.webhook_id(), attempt }, 200)
}

fn query_of(req: &Request) -> Result<LeadFilter, ApiError> {
    let url = req.url().map_err(|e| ApiError::new(ErrorCode::InvalidQuery, format!("bad URL: {e}")))?;
    let pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    LeadQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).filter()
}

#[derive(Deserialize)]
struct LeadRow {
    id: String,
    created_at: f64,
    data: String,
}

/// Calls `each` with the site's leads that match, newest first, until it returns `false`, at
/// most `MAX_LEADS_SCANNED` rows read, `PAGE_ROWS` per round trip (keyset paging, so a page
/// costs the same however deep it is).
async fn scan(env: &Env, site: &str, filter: &LeadFilter, mut each: impl FnMut(Lead) -> bool) -> Result<(), ApiError> {
    let db = db(env)?;
    let kind = filter.kind.map(|k| k.as_str());
    // The last row seen: (created_at, id); rows with the same time continue by id.
    let mut after: Option<(u64, String)> = None;
    let mut scanned = 0;
    while scanned < MAX_LEADS_SCANNED {
        let (before_at, after_id) = match &after {
            Some((at, id)) => (*at, id.clone()),
            None => (filter.until_ms, String::new()),
        };
        let rows: Vec<LeadRow> = db
            .query(
                "SELECT id, created_at, data FROM leads WHERE site = ?1 AND (?2 IS NULL OR kind = ?2) AND created_at >= ?3 \
                 AND (created_at < ?4 OR (created_at = ?4 AND id > ?5)) AND created_at < ?6 \
                 ORDER BY created_at DESC, id LIMIT ?7",
                &[&site, &kind, &filter.from_ms, &before_at, &after_id, &filter.until_ms, &PAGE_ROWS],
            )
            .all("listing leads")
            .await?;
        let full_page = rows.len() as u32 == PAGE_ROWS;
        for row in rows {
            scanned += 1;
            after = Some((row.created_at as u64, row.id));
            let lead: Lead = serde_json::from_str(&row.data).map_err(|e| internal("decoding a lead", e))?;
            if filter.matches(&lead) && !each(lead) {
                return Ok(());
            }
        }
        if !full_page {
            break;
        }
    }
    Ok(())
}

/// `GET /v1/admin/sites/:site/leads?q=&kind=&from=&to=&prompt=&source=&limit=`: newest first,
/// each with its consent and context.
pub async fn list_leads(req: &Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    sites::require(env, site).await?;
    let filter = query_of(req)?;
    let limit = http::query_limit(req, MAX_LEADS_LISTED) as usize;
    let mut leads = Vec::new();
    scan(env, site, &filter, |lead| {
        leads.push(lead);
        leads.len() < limit
    })
    .await?;
    http::json(&leads, 200)
}

/// `GET /v1/admin/sites/:site/leads/:id`: one lead, for its page in the cockpit.
pub async fn lead(env: &Env, site: &str, id: &str) -> Result<Response, ApiError> {
    let data: Option<String> = db(env)?
        .query("SELECT data FROM leads WHERE site = ?1 AND id = ?2", &[&site, &id])
        .first_column("data", "loading a lead")
        .await?;
    let data = data.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("site {site:?} has no lead {id:?}")))?;
    let lead: Lead = serde_json::from_str(&data).map_err(|e| internal("decoding a lead", e))?;
    http::json(&lead, 200)
}

/// `GET /v1/admin/sites/:site/leads.csv?…` (the list's filters): at most `MAX_CSV_ROWS` rows,
/// newest first, every cell defused and quoted by core. `X-Floorwalker-Truncated: true` says
/// that more leads matched than one file holds (narrow the dates for the rest).
pub async fn leads_csv(req: &Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    sites::require(env, site).await?;
    let filter = query_of(req)?;
    let mut csv = csv_header();
    let mut rows = 0;
    let mut truncated = false;
    scan(env, site, &filter, |lead| {
        if rows == MAX_CSV_ROWS {
            truncated = true;
            return false;
        }
        csv.push_str(&csv_row(&lead));
        rows += 1;
        true
    })
    .await?;
    let mut response = Response::ok(csv).map_err(|e| internal("building the CSV", e))?;
    let headers = response.headers_mut();
    http::set(headers, "content-type", "text/csv; charset=utf-8")?;
    // The site id is [a-z0-9-] (validated with the config), safe inside the quoted file name.
    http::set(headers, "content-disposition", &format!("attachment; filename=\"leads-{site}.csv\""))?;
    http::set(headers, "cache-control", "no-store")?;
    http::set(headers, "x-floorwalker-truncated", if truncated { "true" } else { "false" })?;
    Ok(response)
}
