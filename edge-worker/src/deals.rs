//! Deals back from the CRM (core::insights::deals): `POST /v1/deals/:site` with the site's deal
//! token, and the owner's tokens under `/v1/admin/sites/:site/deal-tokens`.
//!
//! The report may come as JSON, as a form, or in the query string (a Bitrix24 automation rule's
//! webhook puts the deal's fields into the URL it calls); the token in `?token=` or as a bearer.
//! amoCRM's own status webhook is read too: its deal ids are matched to our leads through what
//! amoCRM answered when the delivery created each deal (`remember_amocrm_deal`, table
//! `amocrm_deals`).
//! Every answer is about this site only: a token of another site is not valid here (401), a lead
//! of another site is not found (404).

use floorwalker_core::access::public_limits::PublicRoute;
use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::base::ids::{client_id_from_bytes, validate_site_id};
use floorwalker_core::base::text::check_len;
use floorwalker_core::base::url::{form_pairs, query_pairs};
use floorwalker_core::insights::day::Day;
use floorwalker_core::insights::deals::amocrm::{deal_currency, is_amocrm_webhook, status_changes, url_currency, SkipReason, WebhookReceipt};
use floorwalker_core::insights::deals::{
    new_token, token_hash, Deal, DealOutcome, DealReceipt, DealReport, DealToken, NewDealToken, TokenCall, MAX_ACTIVE_TOKENS, MAX_DEAL_BYTES,
};
use floorwalker_core::leads::lead::Lead;
use floorwalker_core::outbound::crm::AmoDealLink;
use floorwalker_core::outbound::delivery::Target;
use floorwalker_core::outbound::endpoint::Preset;
use floorwalker_core::outbound::webhook::{AttemptResult, WebhookEvent};
use serde::Deserialize;
use worker::{D1PreparedStatement, Env, Request, Response};

use crate::http::{self, internal};
use crate::platform::d1::{db, Db};
use crate::platform::random::random_bytes;
use crate::{endpoints, rate_limit, sites};

const MAX_TOKEN_NAME_LEN: usize = 100;

/// `POST /v1/deals/:site`: the generic report, or amoCRM's status webhook (a form of
/// `leads[status][N][…]` fields).
pub async fn report(mut req: Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    validate_site_id(site)?;
    let now = http::now_ms();
    let counters = PublicRoute::Deals.counters(site, &rate_limit::client(&req), None);
    if let Some(refusal) = rate_limit::check(env, &counters, now, None).await? {
        return Ok(refusal);
    }
    let url = req.url().map_err(|e| ApiError::new(ErrorCode::InvalidQuery, format!("bad URL: {e}")))?;
    let query: Vec<(String, String)> = query_pairs(url.as_str());
    let bearer = http::header(&req, "authorization").and_then(|h| h.strip_prefix("Bearer ").map(str::to_owned));
    let token = bearer.or_else(|| query.iter().find(|(k, _)| k == "token").map(|(_, v)| v.clone())).unwrap_or_default();
    if token.trim().is_empty() {
        return Err(ApiError::new(ErrorCode::Unauthorized, "a deal token is required (?token= or Authorization: Bearer)"));
    }
    let db = db(env)?;
    let token_id: Option<String> = db
        .query("SELECT id FROM deal_tokens WHERE site = ?1 AND token_hash = ?2 AND revoked_at IS NULL", &[&site, &token_hash(&token)])
        .first_column("id", "checking a deal token")
        .await?;
    let Some(token_id) = token_id else {
        return Err(ApiError::new(ErrorCode::Unauthorized, format!("this deal token is not valid for site {site:?} (revoked, or never issued)")));
    };

    let answer = read_and_record(&mut req, &db, site, query, now).await;
    let call = match &answer {
        Ok(Answer::Deal(_)) => TokenCall::recorded(now, 1, &[]),
        Ok(Answer::AmoCrm(receipt)) => TokenCall::recorded(now, receipt.recorded, &receipt.skipped_deals),
        // A fault of ours is not the CRM's call going wrong: the owner would be told of our outage.
        Err(error) if error.code.http_status() >= 500 => return Err(error.clone()),
        Err(error) => TokenCall::refused(now, error),
    };
    remember_call(&db, &token_id, &call).await;
    match answer? {
        Answer::Deal(receipt) => http::json(&receipt, receipt.outcome.http_status()),
        Answer::AmoCrm(receipt) => http::json(&receipt, 200),
    }
}

/// What a call with a valid token did.
enum Answer {
    Deal(DealReceipt),
    /// amoCRM's status webhook: 200 once the form is read, whatever became of each deal (amoCRM
    /// needs only a 2xx).
    AmoCrm(WebhookReceipt),
}

/// Reads the report (or amoCRM's webhook) and records its deals.
async fn read_and_record(req: &mut Request, db: &Db, site: &str, query: Vec<(String, String)>, now: u64) -> Result<Answer, ApiError> {
    let body = read_body(req).await?;
    let body = body.trim();
    if !body.starts_with(['{', '[']) {
        let form = form_pairs(body);
        if is_amocrm_webhook(&form) {
            return amocrm_webhook(db, site, &query, &form, now).await.map(Answer::AmoCrm);
        }
    }
    let report = read_report(body, query)?;
    let Some(lead) = find_lead(db, site, &report.lead).await? else {
        return Err(ApiError::new(ErrorCode::NotFound, format!("site {site:?} has no lead {:?}", report.lead)));
    };
    let mut known = stored_deals(db, site, &[report.deal.as_str()]).await?;
    let (receipt, store) = apply(db, site, &mut known, report, &lead, now)?;
    if let Some(store) = store {
        db.batch(vec![store], "storing a deal").await?;
    }
    Ok(Answer::Deal(receipt))
}

/// Keeps the call on its token for the owner's list. The call's own answer does not depend on
/// it: a fault is logged.
async fn remember_call(db: &Db, token_id: &str, call: &TokenCall) {
    let stored = match serde_json::to_string(call) {
        Ok(json) => db.query("UPDATE deal_tokens SET last_call = ?2 WHERE id = ?1", &[&token_id, &json]).run("remembering a deal token's call").await,
        Err(e) => Err(internal("encoding a token's call", e)),
    };
    if let Err(error) = stored {
        worker::console_error!("deal token {token_id}: {error}");
    }
}

/// A lead as a deal needs it: the lead and when it arrived.
struct StoredLead {
    created_at: u64,
    lead: Lead,
}

#[derive(Deserialize)]
struct LeadRow {
    created_at: f64,
    data: String,
}

impl LeadRow {
    fn stored(self) -> Result<StoredLead, ApiError> {
        let lead: Lead = serde_json::from_str(&self.data).map_err(|e| internal("decoding a lead", e))?;
        Ok(StoredLead { created_at: self.created_at as u64, lead })
    }
}

/// This site's lead `id`; another site's lead is not found.
async fn find_lead(db: &Db, site: &str, id: &str) -> Result<Option<StoredLead>, ApiError> {
    let row: Option<LeadRow> =
        db.query("SELECT created_at, data FROM leads WHERE site = ?1 AND id = ?2", &[&site, &id]).first("finding the deal's lead").await?;
    row.map(LeadRow::stored).transpose()
}

/// The deals of `site` stored under these CRM deal ids.
async fn stored_deals(db: &Db, site: &str, ids: &[&str]) -> Result<Vec<Deal>, ApiError> {
    let ids = serde_json::to_string(ids).map_err(|e| internal("encoding deal ids", e))?;
    let rows: Vec<DealRow> = db
        .query("SELECT data FROM deals WHERE site = ?1 AND deal IN (SELECT value FROM json_each(?2))", &[&site, &ids])
        .all("finding the deals")
        .await?;
    Ok(rows.into_iter().filter_map(|row| serde_json::from_str(&row.data).ok()).collect())
}

#[derive(Deserialize)]
struct DealRow {
    data: String,
}

/// What `report` for `lead` does to the deals known so far (`known`, updated in place, so a deal
/// twice in one webhook is one deal): the receipt, and the statement storing it unless unchanged.
fn apply(
    db: &Db,
    site: &str,
    known: &mut Vec<Deal>,
    report: DealReport,
    lead: &StoredLead,
    now: u64,
) -> Result<(DealReceipt, Option<D1PreparedStatement>), ApiError> {
    let existing = known.iter().position(|deal| deal.deal == report.deal);
    let outcome = DealOutcome::of(existing.map(|at| &known[at]), &report);
    if let (DealOutcome::Unchanged, Some(at)) = (outcome, existing) {
        return Ok((DealReceipt { outcome, deal: known[at].clone() }, None));
    }
    let deal = Deal {
        deal: report.deal,
        lead: report.lead,
        prompt: lead.lead.prompt.clone(),
        lead_day: Day::of_ms(lead.created_at),
        amount: report.amount,
        reported_at: now,
    };
    let data = serde_json::to_string(&deal).map_err(|e| internal("encoding a deal", e))?;
    let statement = db
        .query(
            "INSERT INTO deals (site, deal, lead, prompt, lead_day, currency, amount_minor, reported_at, data) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
             ON CONFLICT (site, deal) DO UPDATE SET lead = excluded.lead, prompt = excluded.prompt, lead_day = excluded.lead_day, \
             currency = excluded.currency, amount_minor = excluded.amount_minor, reported_at = excluded.reported_at, data = excluded.data",
            &[
                &site,
                &deal.deal,
                &deal.lead,
                &deal.prompt.clone().unwrap_or_default(),
                &(deal.lead_day.0 as u64),
                &deal.amount.currency.as_str(),
                &(deal.amount.minor as u64),
                &now,
                &data,
            ],
        )
        .statement("storing a deal")?;
    known.retain(|d| d.deal != deal.deal);
    known.push(deal.clone());
    Ok((DealReceipt { outcome, deal }, Some(statement)))
}

/// The body, at most [`MAX_DEAL_BYTES`], as text.
async fn read_body(req: &mut Request) -> Result<String, ApiError> {
    let too_large = || ApiError::new(ErrorCode::PayloadTooLarge, format!("the body must be at most {MAX_DEAL_BYTES} bytes"));
    if http::header(req, "content-length").and_then(|l| l.parse::<usize>().ok()).is_some_and(|l| l > MAX_DEAL_BYTES) {
        return Err(too_large());
    }
    let bytes = req.bytes().await.map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("unreadable body: {e}")))?;
    if bytes.len() > MAX_DEAL_BYTES {
        return Err(too_large());
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The report's fields: the query's, then the body's (JSON or a form), the body winning.
fn read_report(body: &str, mut fields: Vec<(String, String)>) -> Result<DealReport, ApiError> {
    if body.starts_with('{') || body.starts_with('[') {
        let json: serde_json::Value =
            serde_json::from_str(body).map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("malformed JSON: {e}")))?;
        return match json.as_object() {
            Some(object) => DealReport::from_fields(|field| match object.get(field) {
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                _ => fields.iter().find(|(k, _)| k == field).map(|(_, v)| v.clone()),
            }),
            None => DealReport::from_json(&json),
        };
    }
    fields.extend(form_pairs(body));
    DealReport::from_fields(|field| fields.iter().rev().find(|(k, _)| k == field).map(|(_, v)| v.clone()))
}

#[derive(Deserialize)]
struct LinkedLeadRow {
    amocrm_deal: String,
    created_at: f64,
    data: String,
}

/// amoCRM's status webhook (core::insights::deals::amocrm): each deal won is recorded for the
/// lead of this site that became it; deals no lead of this site became are skipped and said so.
async fn amocrm_webhook(db: &Db, site: &str, query: &[(String, String)], form: &[(String, String)], now: u64) -> Result<WebhookReceipt, ApiError> {
    let changes = status_changes(form)?;
    let on_url = url_currency(query)?;
    let (mut receipt, won) = WebhookReceipt::sort(&changes);
    if won.is_empty() {
        return Ok(receipt);
    }
    // The leads of all won deals in one query, this site's mappings and leads only.
    let ids: Vec<&str> = won.iter().map(|change| change.amocrm_deal.as_str()).collect();
    let ids = serde_json::to_string(&ids).map_err(|e| internal("encoding deal ids", e))?;
    let rows: Vec<LinkedLeadRow> = db
        .query(
            "SELECT m.amocrm_deal, l.created_at, l.data FROM amocrm_deals m JOIN leads l ON l.id = m.lead AND l.site = m.site \
             WHERE m.site = ?1 AND m.amocrm_deal IN (SELECT value FROM json_each(?2))",
            &[&site, &ids],
        )
        .all("finding the leads of amoCRM deals")
        .await?;
    let mut leads = Vec::with_capacity(rows.len());
    for row in rows {
        leads.push((row.amocrm_deal.clone(), LeadRow { created_at: row.created_at, data: row.data }.stored()?));
    }
    // The deals already stored in one query, the changes in one batch: a webhook of many deals
    // costs the same few queries as one.
    let linked: Vec<&str> = leads.iter().map(|(deal, _)| deal.as_str()).collect();
    let mut known = stored_deals(db, site, &linked).await?;
    let mut statements = Vec::new();
    for change in won {
        let Some((_, lead)) = leads.iter().find(|(deal, _)| *deal == change.amocrm_deal) else {
            receipt.skipped(change, SkipReason::UnknownDeal);
            continue;
        };
        match change.report(&lead.lead, deal_currency(on_url, &lead.lead)) {
            Ok(report) => {
                let (recorded, store) = apply(db, site, &mut known, report, lead, now)?;
                statements.extend(store);
                receipt.recorded(recorded);
            }
            Err(reason) => receipt.skipped(change, reason),
        }
    }
    if !statements.is_empty() {
        db.batch(statements, "storing amoCRM deals").await?;
    }
    Ok(receipt)
}

/// After a delivered attempt: when amoCRM's answer to an amoCRM endpoint's complex add names the
/// deal a lead became, remember it for amoCRM's status webhooks. Never fails the delivery (it was
/// delivered): a fault is logged, and that lead's deal can still be reported in the generic shape.
pub async fn remember_amocrm_deal(env: &Env, site: &str, target: &str, event: &WebhookEvent, result: &AttemptResult) {
    // Parsed first: most answers are not amoCRM's, and then nothing is read from D1.
    let Some(link) = AmoDealLink::from_answer(event, result) else { return };
    let Some(Target::Endpoint(endpoint_id)) = Target::parse(target) else { return };
    if let Err(error) = store_amocrm_deal(env, site, &endpoint_id, &link).await {
        worker::console_error!("amoCRM deal {} of lead {}: {error}", link.amocrm_deal, link.lead);
    }
}

async fn store_amocrm_deal(env: &Env, site: &str, endpoint_id: &str, link: &AmoDealLink) -> Result<(), ApiError> {
    // Only an amoCRM endpoint's answer is believed: another receiver could answer anything.
    let Some((endpoint, _)) = endpoints::load(env, site, endpoint_id).await? else { return Ok(()) };
    if !matches!(endpoint.preset, Preset::Amocrm { .. }) {
        return Ok(());
    }
    // Through this site's lead, so a lead erased meanwhile leaves no row; the first lead that
    // became a deal keeps it (a later one merged into it by amoCRM's duplicate control does not).
    db(env)?
        .query(
            "INSERT OR IGNORE INTO amocrm_deals (site, amocrm_deal, lead, endpoint, created_at) \
             SELECT ?1, ?2, id, ?4, ?5 FROM leads WHERE site = ?1 AND id = ?3",
            &[&site, &link.amocrm_deal, &link.lead, &endpoint_id, &http::now_ms()],
        )
        .run("remembering an amoCRM deal")
        .await
}

#[derive(Deserialize)]
struct TokenRow {
    id: String,
    name: String,
    created_at: f64,
    revoked_at: Option<f64>,
    last_call: Option<String>,
}

/// `GET /v1/admin/sites/:site/deal-tokens`: newest first, revoked ones included (never the token).
pub async fn list_tokens(env: &Env, site: &str) -> Result<Response, ApiError> {
    sites::require(env, site).await?;
    let rows: Vec<TokenRow> = db(env)?
        .query("SELECT id, name, created_at, revoked_at, last_call FROM deal_tokens WHERE site = ?1 ORDER BY created_at DESC, id LIMIT 100", &[&site])
        .all("listing deal tokens")
        .await?;
    let tokens: Vec<DealToken> = rows
        .into_iter()
        .map(|r| DealToken {
            id: r.id,
            name: r.name,
            created_at: r.created_at as u64,
            revoked_at: r.revoked_at.map(|t| t as u64),
            last_call: r.last_call.and_then(|json| serde_json::from_str(&json).ok()),
        })
        .collect();
    http::json(&tokens, 200)
}

#[derive(Deserialize)]
struct NewTokenBody {
    #[serde(default)]
    name: String,
}

/// `POST /v1/admin/sites/:site/deal-tokens` `{"name": "Bitrix24"}`: the token, shown once, and
/// the address a CRM reports deals to.
pub async fn create_token(req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    sites::require(env, site).await?;
    let body: NewTokenBody = http::read_json(req, 4096).await?;
    let name = body.name.trim().to_owned();
    let name = if name.is_empty() { "CRM".to_owned() } else { name };
    check_len("name", &name, MAX_TOKEN_NAME_LEN)?;
    let db = db(env)?;
    let active: Option<f64> = db
        .query("SELECT COUNT(*) AS n FROM deal_tokens WHERE site = ?1 AND revoked_at IS NULL", &[&site])
        .first_column("n", "counting deal tokens")
        .await?;
    if active.unwrap_or(0.0) as u32 >= MAX_ACTIVE_TOKENS {
        return Err(ApiError::new(ErrorCode::InvalidQuery, format!("a site has at most {MAX_ACTIVE_TOKENS} deal tokens; revoke one first")));
    }
    let (token, hash) = new_token(&random_bytes::<24>()?);
    let id = format!("dtok_{}", client_id_from_bytes(&random_bytes::<8>()?));
    let now = http::now_ms();
    db.query(
        "INSERT INTO deal_tokens (id, site, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        &[&id, &site, &name, &hash, &now],
    )
    .run("storing a deal token")
    .await?;
    let url = req.url().map_err(|e| internal("reading the URL", e))?;
    let base = url.origin().ascii_serialization();
    let created = NewDealToken {
        info: DealToken { id, name, created_at: now, revoked_at: None, last_call: None },
        url: format!("{base}/v1/deals/{site}?token={token}"),
        token,
    };
    http::json(&created, 201)
}

/// `DELETE /v1/admin/sites/:site/deal-tokens/:id`: from now on the token answers 401.
pub async fn revoke_token(env: &Env, site: &str, id: &str) -> Result<Response, ApiError> {
    let changed = db(env)?
        .query(
            "UPDATE deal_tokens SET revoked_at = COALESCE(revoked_at, ?3) WHERE site = ?1 AND id = ?2",
            &[&site, &id, &http::now_ms()],
        )
        .run_counting("revoking a deal token")
        .await?;
    if changed == 0 {
        return Err(ApiError::new(ErrorCode::NotFound, format!("site {site:?} has no deal token {id:?}")));
    }
    http::json(&serde_json::json!({"revoked": id}), 200)
}
