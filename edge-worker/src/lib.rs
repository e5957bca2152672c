//! Floorwalker's edge worker: HTTP in, core decisions, D1 out.
//!
//! Every client mistake becomes a 4xx JSON error from `floorwalker_core::api`; storage faults become
//! a 503 with code `internal`, never an unexplained 500.

mod admin;
mod chat;
mod events;
mod http;
mod sites;

use floorwalker_core::api::{ApiError, ErrorCode};
use worker::{event, Context, Env, Method, Request, Response, Result};

use crate::http::{error_response, preflight};

#[event(fetch)]
pub async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let origin = req.headers().get("origin").ok().flatten();
    match route(req, &env).await {
        Ok(response) => Ok(response),
        Err(error) => error_response(&error, origin.as_deref()),
    }
}

async fn route(req: Request, env: &Env) -> std::result::Result<Response, ApiError> {
    let path = req.path();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let method = req.method();
    match (method, segments.as_slice()) {
        (Method::Options, ["v1", ..]) => preflight(&req, env).await,
        (Method::Get, ["v1", "health"]) => http::json(&serde_json::json!({"ok": true}), 200),
        (Method::Get, ["v1", "sites", site, "config"]) => sites::serve_public_config(&req, env, site).await,
        (Method::Post, ["v1", "events"]) => events::ingest(req, env).await,
        (method, ["v1", "admin", rest @ ..]) if chat::admin::handles(rest) => {
            admin::authorize(&req, env)?;
            chat::admin::route(req, env, method, rest).await
        }
        (method, ["v1", "admin", rest @ ..]) => admin::route(req, env, method, rest).await,
        (method, ["v1", "chat" | "console" | "conversations", ..]) => chat::route(req, env, method, &segments[1..]).await,
        (_, ["v1", ..]) => Err(ApiError::new(ErrorCode::NotFound, format!("no route for {path}"))),
        _ => Err(ApiError::new(ErrorCode::NotFound, format!("{path} is not served by the API"))),
    }
}
