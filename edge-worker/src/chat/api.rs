//! `POST /v1/conversations/:id/messages`: a CRM or helpdesk answers into the chat with a per-site
//! API key (`Authorization: Bearer fwk_...`, created by the admin API, stored as its SHA-256).

use floorwalker_core::base::crypto::sha256;
use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::base::ids::{client_id_from_bytes, validate_client_id};
use serde::Deserialize;
use worker::{Env, Request, Response};

use super::protocol::{self, expect_reply, ConversationCall, ConversationReply};
use super::Who;
use crate::http;
use crate::platform::d1::db;

pub const API_KEY_PREFIX: &str = "fwk_";

pub fn hash_key(key: &str) -> String {
    client_id_from_bytes(&sha256(key.as_bytes()))
}

#[derive(Deserialize)]
struct KeyRow {
    id: String,
    site: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PostBody {
    text: String,
    /// The idempotency key: a retried request with the same one is stored once.
    client_msg_id: String,
    /// Shown to the visitor as the operator's name; defaults to the key's name.
    #[serde(default)]
    author_name: Option<String>,
}

pub async fn post_message(mut req: Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    let unauthorized = || ApiError::new(ErrorCode::Unauthorized, "a valid API key is required (Authorization: Bearer fwk_...)");
    let header = http::header(&req, "authorization").unwrap_or_default();
    let key = header.strip_prefix("Bearer ").filter(|k| k.starts_with(API_KEY_PREFIX)).ok_or_else(unauthorized)?;
    let row: Option<KeyRow> = db(env)?
        .query("SELECT id, site, name FROM chat_api_keys WHERE key_hash = ?1 AND revoked_at IS NULL", &[&hash_key(key)])
        .first("checking the API key")
        .await?;
    let key = row.ok_or_else(unauthorized)?;
    validate_client_id("conversation", id)?;
    let body: PostBody = http::read_json(&mut req, 16 * 1024).await?;
    validate_client_id("client_msg_id", &body.client_msg_id)?;
    super::console::conversation_row(env, id)
        .await?
        .filter(|row| row.site == key.site)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "there is no such conversation on this key's site"))?;
    let name = body.author_name.filter(|n| !n.trim().is_empty()).unwrap_or(key.name);
    let name: String = name.trim().chars().take(60).collect();
    let who = Who::Operator { operator_id: format!("apikey-{}", key.id), name, session_id: None };
    let call = ConversationCall::Post { who, client_msg_id: body.client_msg_id, text: body.text };
    let reply = protocol::conversation(env, id)?.ask(&call).await?;
    let posted = expect_reply!(reply, ConversationReply::Posted(posted) => posted)?;
    http::json(&posted, 201)
}
