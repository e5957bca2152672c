//! `/v1/admin/*`: site owners' tooling. One route table (the chat's additions included, handled
//! in `chat::admin`) behind one [`authorize`], which admits two callers: the `ADMIN_TOKEN` bearer
//! (bootstrap and automation: every route) and an owner's console session (the owner's cockpit:
//! the routes under `sites/<the session's site>/` only, state changes only from the console's own
//! origin, so another page cannot ride the cookie).

use floorwalker_core::access::accounts::{Actor, Role};
use floorwalker_core::base::crypto::constant_time_eq;
use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::base::ids::validate_client_id;
use floorwalker_core::outbound::delivery::SiteDelivery;
use serde::Deserialize;
use worker::{Env, Method, Request, Response};

use crate::http;
use crate::platform::vars::{key, test_timing, KeyProblem};
use crate::chat::members;
use crate::{chat, deals, delivery_log, endpoints, events, insights, install, mail_settings, mailbox, outbox, owner_crm, privacy, retention, settings, sightings, site_patch, sites};

const MAX_EVENTS_LISTED: u32 = 500;

pub async fn route(mut req: Request, env: &Env, method: Method, path: &[&str]) -> Result<Response, ApiError> {
    let caller = authorize(&req, env, &method).await?;
    let owned;
    let by = chat::links::created_by(match &caller {
        Caller::Admin => None,
        Caller::Owner { account, .. } => Some(account.as_str()),
    });
    let actor = match &caller {
        Caller::Admin => Actor::Admin,
        Caller::Owner { site, .. } => {
            owned = [site.clone()];
            Actor::Owner { owned_sites: &owned }
        }
    };
    match path {
        ["sites", site, ..] => actor.require_site(site)?,
        _ if matches!(caller, Caller::Admin) => {}
        _ => return Err(ApiError::new(ErrorCode::Forbidden, "only the admin token reaches this route")),
    }
    match (method, path) {
        (Method::Put, ["sites", site]) => site_patch::put_site(&mut req, env, site).await,
        (Method::Get, ["sites", site]) => site_patch::show(env, site).await,
        (Method::Get, ["sites", site, "events"]) => list_events(&req, env, site).await,
        (Method::Get, ["sites", site, "products", "recent"]) => events::recent_products(env, site).await,
        (Method::Get, ["sites", site, "origins"]) => {
            sites::require(env, site).await?;
            sightings::report(env, site, http::now_ms()).await
        }
        (Method::Get, ["sites", site, "delivery"]) => http::json(&settings::load(env, site).await?, 200),
        (Method::Put, ["sites", site, "delivery"]) => put_delivery(&mut req, env, site).await,
        (Method::Get, ["sites", site, "endpoints"]) => endpoints::list(env, site).await,
        (Method::Post, ["sites", site, "endpoints"]) => endpoints::create(&mut req, env, site).await,
        (Method::Put, ["sites", site, "endpoints", id]) => endpoints::update(&mut req, env, site, id).await,
        (Method::Delete, ["sites", site, "endpoints", id]) => endpoints::delete(env, site, id).await,
        (Method::Post, ["sites", site, "endpoints", id, "rotate"]) => endpoints::rotate(env, site, id).await,
        (Method::Post, ["sites", site, "endpoints", id, "retire"]) => endpoints::retire(env, site, id).await,
        (Method::Get, ["sites", site, "leads"]) => owner_crm::list_leads(&req, env, site).await,
        (Method::Post, ["sites", site, "visitors", "erase"]) => privacy::erase(&mut req, env, site).await,
        (Method::Get, ["sites", site, "visitors", "export"]) => privacy::export(&req, env, site).await,
        (Method::Get, ["sites", site, "deliveries"]) => delivery_log::list(&req, env, site).await,
        (Method::Post, ["sites", site, "deliveries", id, "replay"]) => delivery_log::replay(env, site, id).await,
        (Method::Get, ["sites", site, "operators"]) => members::list(actor, env, site).await,
        (Method::Post, ["sites", site, "operators"]) => members::create(actor, &mut req, env, site).await,
        (Method::Get, ["sites", site, "operators", id]) => members::show(actor, env, site, id).await,
        (Method::Delete, ["sites", site, "operators", id]) => members::remove(actor, env, site, id).await,
        (Method::Post, ["sites", site, "operators", id, "disable"]) => members::disable(actor, env, site, id).await,
        (Method::Post, ["sites", site, "operators", id, "enable"]) => members::enable(actor, env, site, id).await,
        (Method::Put, ["sites", site, "operators", id, "password"]) => {
            members::reset_password(actor, &mut req, env, site, id).await
        }
        (Method::Get, ["sites", site, "api-keys"]) => members::list_api_keys(actor, env, site).await,
        (Method::Post, ["sites", site, "api-keys"]) => members::create_api_key(actor, &mut req, env, site).await,
        (Method::Delete, ["sites", site, "api-keys", id]) => members::revoke_api_key(actor, env, site, id).await,
        (Method::Get, ["sites", site, "invites"]) => chat::links::list_invites(actor, env, site).await,
        (Method::Post, ["sites", site, "invites"]) => chat::links::create_invite(actor, &by, &mut req, env, site).await,
        (Method::Delete, ["sites", site, "invites", id]) => chat::links::withdraw_invite(actor, env, site, id).await,
        (Method::Post, ["sites", site, "operators", id, "reset-link"]) => chat::links::reset_link(actor, &by, env, site, id).await,
        (Method::Get, ["sites", site, "canned-replies"]) => chat::canned::show(env, site).await,
        (Method::Put, ["sites", site, "canned-replies"]) => chat::canned::put(&mut req, env, site).await,
        (Method::Put, ["sites", site, "identity-secret"]) => chat::admin::identity_secret(&mut req, env, site).await,
        (Method::Get, ["sites", site, "email"]) => mail_settings::show(&req, env, site).await,
        (Method::Put, ["sites", site, "email"]) => mail_settings::put(&mut req, env, site).await,
        (Method::Post, ["sites", site, "email", "preview"]) => mail_settings::preview(&mut req, env, site).await,
        (Method::Post, ["sites", site, "email", "test"]) => mail_settings::test(&mut req, env, site).await,
        (Method::Post, ["sites", site, "email", "alert-link"]) => mail_settings::resend_alert_link(&req, env, site).await,
        (Method::Get, ["sites", site, "retention"]) => retention::show(env, site).await,
        (Method::Put, ["sites", site, "retention"]) => retention::put(&mut req, env, site).await,
        (Method::Post, ["retention", "run"]) => retention::run_now(&req, env).await,
        (Method::Patch, ["sites", site]) => site_patch::patch_site(&mut req, env, site).await,
        (Method::Patch, ["sites", site, "prompts", id]) => site_patch::patch_prompt(&mut req, env, site, id).await,
        (Method::Get, ["chat", "outbox"]) => chat::admin::outbox(&req, env).await,
        (Method::Post, ["chat", "store-check"]) => chat::admin::store_check(env).await,
        (Method::Get, ["mailbox"]) => http::json(&mailbox::stored(env, http::query_param(&req, "lead").as_deref(), None).await?, 200),
        (Method::Post, ["sites", site, "endpoints", id, "test"]) => owner_crm::test_endpoint(env, site, id).await,
        (Method::Get, ["sites", site, "leads", id]) => owner_crm::lead(env, site, id).await,
        (Method::Get, ["sites", site, "leads.csv"]) => owner_crm::leads_csv(&req, env, site).await,
        (Method::Post, ["sweep"]) => http::json(&serde_json::json!({"enqueued": outbox::sweep(env, http::now_ms()).await?}), 200),
        (Method::Get, ["sites", site, "install"]) => install::check(&req, env, site).await,
        (Method::Post, ["sites", site, "origins"]) => install::add(&mut req, env, site).await,
        (Method::Delete, ["sites", site, "origins"]) => install::remove(&req, env, site).await,
        (Method::Get, ["sites", site, "funnel"]) => insights::funnel(&req, env, site).await,
        (Method::Get, ["sites", site, "experiments"]) => insights::experiments(&req, env, site).await,
        (Method::Post, ["funnel", "run"]) => insights::run_now(env).await,
        // What a lead or a chat message costs (the benches, cost tests): test deployments only.
        (Method::Get, ["tally"]) if test_timing(env) => http::json(&crate::platform::tally::snapshot(), 200),
        (Method::Get, ["sites", site, "deal-tokens"]) => deals::list_tokens(env, site).await,
        (Method::Post, ["sites", site, "deal-tokens"]) => deals::create_token(&mut req, env, site).await,
        (Method::Delete, ["sites", site, "deal-tokens", id]) => deals::revoke_token(env, site, id).await,
        (method, _) => Err(ApiError::new(ErrorCode::NotFound, format!("no admin route for {method:?} {}", path.join("/")))),
    }
}

/// Who is calling an admin route.
enum Caller {
    /// `Authorization: Bearer $ADMIN_TOKEN`.
    Admin,
    /// An owner's console session, on this one site (`account`: the owner's account id).
    Owner { site: String, account: String },
}

/// A bearer header must carry the admin token; without one, the console session's cookie must be
/// an owner's, and anything but a read must come from the console's own origin (CSRF).
async fn authorize(req: &Request, env: &Env, method: &Method) -> Result<Caller, ApiError> {
    let given = http::header(req, "authorization").unwrap_or_default();
    if given.is_empty() && http::header(req, "cookie").is_some() {
        let signed = chat::session::authenticate(req, env).await?;
        if signed.role != Role::Owner {
            return Err(ApiError::new(ErrorCode::Forbidden, "only the site's owner can do this"));
        }
        if !matches!(method, Method::Get | Method::Head) {
            chat::session::require_own_origin(req)?;
        }
        return Ok(Caller::Owner { site: signed.operator.site, account: signed.operator.id });
    }
    let invalid = || ApiError::new(ErrorCode::Unauthorized, "a valid admin bearer token or an owner's console session is required");
    let expected = match key(env, "ADMIN_TOKEN") {
        Ok(expected) => expected,
        Err(KeyProblem::Unset) => {
            return Err(ApiError::new(ErrorCode::Unauthorized, "the admin API is disabled: set the ADMIN_TOKEN secret"))
        }
        Err(KeyProblem::TooShort) => return Err(invalid()),
    };
    let given = given.strip_prefix("Bearer ").unwrap_or_default();
    if !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        return Err(invalid());
    }
    Ok(Caller::Admin)
}

#[derive(Deserialize)]
struct EventQuery {
    visitor: Option<String>,
    limit: Option<u32>,
}

async fn list_events(req: &Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    sites::require(env, site).await?;
    let query: EventQuery = req
        .query()
        .map_err(|e| ApiError::new(ErrorCode::NotFound, format!("bad query: {e}")))?;
    if let Some(visitor) = &query.visitor {
        validate_client_id("visitor", visitor)?;
    }
    let limit = query.limit.unwrap_or(100).min(MAX_EVENTS_LISTED);
    let page = events::EventPage { site, visitor: query.visitor.as_deref(), newest_first: true, limit, offset: 0 };
    let events = events::stored(env, page).await?;
    http::json(&events, 200)
}

async fn put_delivery(req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    sites::require(env, site).await?;
    let delivery: SiteDelivery = http::read_json(req, 4096)
        .await
        .map_err(|e| if e.code == ErrorCode::InvalidJson { ApiError::new(ErrorCode::InvalidConfig, e.message) } else { e })?;
    delivery.validate()?;
    settings::store(env, site, &delivery, http::now_ms()).await?;
    http::json(&delivery, 200)
}
