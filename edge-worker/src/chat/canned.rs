//! Canned replies (core's `chat::canned`), one JSON list per site in `canned_replies`: the owner
//! writes them (`GET`/`PUT /v1/admin/sites/:site/canned-replies`, through `admin`'s authorisation),
//! every member of the site reads them (`GET /v1/console/canned-replies`).

use floorwalker_core::base::error::ApiError;
use floorwalker_core::chat::canned::{CannedReplies, MAX_BODY_BYTES};
use serde::Deserialize;
use worker::{Env, Request, Response};

use super::session::authenticate;
use crate::http::{self, internal, now_ms};
use crate::platform::d1::db;

#[derive(Deserialize)]
struct Row {
    replies: String,
}

async fn load(env: &Env, site: &str) -> Result<CannedReplies, ApiError> {
    let row: Option<Row> =
        db(env)?.query("SELECT replies FROM canned_replies WHERE site = ?1", &[&site]).first("reading canned replies").await?;
    match row {
        Some(row) => serde_json::from_str(&row.replies).map_err(|e| internal("decoding canned replies", e)),
        None => Ok(CannedReplies::default()),
    }
}

/// `GET /v1/admin/sites/:site/canned-replies`.
pub async fn show(env: &Env, site: &str) -> Result<Response, ApiError> {
    crate::sites::require(env, site).await?;
    http::json(&load(env, site).await?, 200)
}

/// `PUT /v1/admin/sites/:site/canned-replies` `{replies: [{shortcut, text}]}`: the whole list,
/// answered as stored (normalised).
pub async fn put(req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    crate::sites::require(env, site).await?;
    let list: CannedReplies = http::read_json(req, MAX_BODY_BYTES).await?;
    let list = list.normalised()?;
    let json = serde_json::to_string(&list).map_err(|e| internal("encoding canned replies", e))?;
    db(env)?
        .query(
            "INSERT INTO canned_replies (site, replies, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (site) DO UPDATE SET replies = excluded.replies, updated_at = excluded.updated_at",
            &[&site, &json, &now_ms()],
        )
        .run("storing canned replies")
        .await?;
    http::json(&list, 200)
}

/// `GET /v1/console/canned-replies`: the session's site's list, for the reply box.
pub async fn for_console(req: &Request, env: &Env) -> Result<Response, ApiError> {
    let operator = authenticate(req, env).await?.operator;
    http::json(&load(env, &operator.site).await?, 200)
}
