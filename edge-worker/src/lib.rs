//! Floorwalker's edge worker: HTTP in, core decisions, D1 out.
//!
//! Every client mistake becomes a 4xx JSON error from `floorwalker_core::base::error`; storage faults become
//! a 503 with code `internal`, never an unexplained 500.

mod admin;
mod chat;
mod consent_links;
mod cors;
mod deals;
mod deliver;
mod delivery_log;
mod endpoints;
mod events;
mod http;
mod insights;
mod install;
mod leads;
mod mailbox;
mod mail_settings;
mod outbox;
mod outgoing;
mod owner_crm;
mod product_pages;
mod privacy;
mod platform;
mod public_site;
mod rate_limit;
mod retention;
mod settings;
mod sightings;
mod site_patch;
mod sites;

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::outbound::delivery::QueueMessage;
use worker::{event, Context, Env, MessageBatch, Method, Request, Response, Result, ScheduleContext, ScheduledEvent};

/// A panic aborts the module (and workers-rs starts a fresh one, failing the requests in flight):
/// its message must reach the log, or the failure is a silent dropped connection.
#[event(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| worker::console_error!("panic: {info}")));
}

#[event(fetch)]
pub async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let origin = req.headers().get("origin").ok().flatten();
    match route(req, &env, &ctx).await {
        Ok(response) => Ok(response),
        Err(error) => cors::error_response_if_allowed(&error, origin.as_deref(), &env).await,
    }
}

async fn route(req: Request, env: &Env, ctx: &Context) -> std::result::Result<Response, ApiError> {
    let path = req.path();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let method = req.method();
    match (method, segments.as_slice()) {
        (Method::Options, ["v1", ..]) => public_site::preflight(&req, env).await,
        (Method::Get, ["v1", "health"]) => http::json(&serde_json::json!({"ok": true}), 200),
        (Method::Get, ["v1", "sites", site, "config"]) => public_site::serve_config(&req, env, ctx, site).await,
        (Method::Get, ["v1", "sites", site, "presence"]) => public_site::serve_presence(&req, env, site).await,
        (Method::Post, ["v1", "events"]) => events::ingest(req, env).await,
        (Method::Post, ["v1", "leads"]) => leads::submit(req, env, ctx).await,
        (Method::Post, ["v1", "deals", site]) => deals::report(req, env, site).await,
        (Method::Get | Method::Post, ["v1", "consent", token]) => consent_links::follow(&req, env, token).await,
        (Method::Get | Method::Post, ["v1", "mail", "alert-confirm", token]) => mail_settings::follow_alert_link(&req, env, token).await,
        (Method::Get, ["v1", "mailbox"]) => mailbox::list(&req, env).await,
        (Method::Get, ["v1", "mailbox", id]) => mailbox::show(&req, env, id).await,
        (method, ["v1", "admin", rest @ ..]) => admin::route(req, env, method, rest).await,
        (method, ["v1", "chat" | "console" | "conversations", ..]) => chat::route(req, env, method, &segments[1..]).await,
        (_, ["v1", ..]) => Err(ApiError::new(ErrorCode::NotFound, format!("no route for {path}"))),
        _ => Err(ApiError::new(ErrorCode::NotFound, format!("{path} is not served by the API"))),
    }
}

/// The delivery queue and its dead-letter queue. Never returns `Err` (that panics in the glue):
/// each message is acked or retried by `deliver::consume`.
#[event(queue)]
pub async fn queue(batch: MessageBatch<QueueMessage>, env: Env, _ctx: Context) -> Result<()> {
    deliver::consume(batch, env).await;
    Ok(())
}

/// The cron: the sweeper re-enqueues outbox rows whose queue message was lost, then the retention
/// run prunes what is past its period (bounded, see `retention`), then the funnel's rollups are
/// brought up to date (bounded, see `insights`).
#[event(scheduled)]
pub async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    match outbox::sweep(&env, http::now_ms()).await {
        Ok(0) => {}
        Ok(n) => worker::console_log!("sweeper re-enqueued {n} deliveries"),
        Err(e) => worker::console_error!("sweeper: {e}"),
    }
    retention::scheduled(&env).await;
    insights::scheduled(&env).await;
}
