//! Chat additions to the admin API, routed and authorized by `crate::admin`:
//!
//! (members and API keys are `members`'s, see docs/accounts-and-access.md)
//! - `PUT  /v1/admin/sites/:site/identity-secret` `{secret}` → enables `user_hash` verification
//! - `GET  /v1/admin/chat/outbox?site=&type=` → the site's chat events in the delivery outbox
//!   (`outbox_events`), oldest first, with how many deliveries each has and how many are done
//! - `POST /v1/admin/chat/store-check` → core's store contract run against real DO SQLite

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::outbound::delivery::DeliveryState;
use serde::Deserialize;
use worker::{Env, Request, Response};

use super::protocol::{self, expect_reply, ConversationCall, ConversationReply};

use crate::http;
use crate::platform::d1::db;
use crate::platform::random::random_id;
use crate::sites;

/// `POST /v1/admin/chat/store-check`: core's store contract, run by a fresh Conversation object.
pub async fn store_check(env: &Env) -> Result<Response, ApiError> {
    let scratch = protocol::conversation(env, &format!("selfcheck-{}", random_id()?))?;
    let reply = scratch.ask(&ConversationCall::SelfCheck).await?;
    http::json(&expect_reply!(reply, ConversationReply::StoreCheck(check) => check)?, 200)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentitySecret {
    secret: String,
}

pub async fn identity_secret(req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    sites::require(env, site).await?;
    let body: IdentitySecret = http::read_json(req, 4096).await?;
    if body.secret.len() < 16 {
        return Err(ApiError::new(ErrorCode::InvalidConfig, "secret: at least 16 characters"));
    }
    db(env)?
        .query(
            "INSERT INTO chat_identity_secrets (site, secret) VALUES (?1, ?2) ON CONFLICT (site) DO UPDATE SET secret = excluded.secret",
            &[&site, &body.secret],
        )
        .run("storing the identity secret")
        .await?;
    http::json(&serde_json::json!({"ok": true}), 200)
}

#[derive(Deserialize)]
struct OutboxQuery {
    site: String,
    #[serde(default)]
    r#type: Option<String>,
}

pub async fn outbox(req: &Request, env: &Env) -> Result<Response, ApiError> {
    let query: OutboxQuery = req.query().map_err(|e| ApiError::new(ErrorCode::NotFound, format!("bad query: {e}")))?;
    // `payload` is the event as the consumer sends it (`{"type", "data"}`).
    let rows: Vec<serde_json::Value> = db(env)?
        .query(
            "SELECT e.id, e.site, e.type, e.created_at, e.data AS payload, \
             COALESCE(json_extract(e.data, '$.data.conversation_id'), json_extract(e.data, '$.data.transcript.conversation_id')) AS conversation_id, \
             (SELECT COUNT(*) FROM deliveries d WHERE d.event = e.id) AS deliveries, \
             (SELECT COUNT(*) FROM deliveries d WHERE d.event = e.id AND d.state = ?3) AS delivered \
             FROM outbox_events e WHERE e.site = ?1 AND e.type IN ('message.created', 'conversation.closed', 'transcript.requested') \
             AND (?2 IS NULL OR e.type = ?2) ORDER BY e.created_at, e.id LIMIT 1000",
            &[&query.site, &query.r#type, &DeliveryState::Delivered],
        )
        .all("listing the outbox")
        .await?;
    http::json(&rows, 200)
}
