//! Chat additions to the admin API, routed and authorized by `crate::admin`:
//!
//! - `POST /v1/admin/sites/:site/operators` `{email, name, password}` → an operator account
//! - `POST /v1/admin/sites/:site/api-keys` `{name}` → `{id, key}` (the key is shown once)
//! - `PUT  /v1/admin/sites/:site/identity-secret` `{secret}` → enables `user_hash` verification
//! - `GET  /v1/admin/chat/outbox?site=&type=` → the site's chat events in the delivery outbox
//!   (`outbox_events`), oldest first, with how many deliveries each has and how many are done
//! - `POST /v1/admin/chat/store-check` → core's store contract run against real DO SQLite

use floorwalker_core::access::auth::{hash_password, DEFAULT_PASSWORD_ITERATIONS};
use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::leads::contact::normalize_email;
use floorwalker_core::outbound::delivery::DeliveryState;
use serde::Deserialize;
use worker::{Env, Request, Response};

use super::protocol::{self, expect_reply, ConversationCall, ConversationReply};

use crate::http::{self, internal, now_ms};
use crate::platform::d1::db;
use crate::platform::random::{random_bytes, random_id};
use crate::sites;

pub const MIN_PASSWORD_CHARS: usize = 10;

/// `POST /v1/admin/chat/store-check`: core's store contract, run by a fresh Conversation object.
pub async fn store_check(env: &Env) -> Result<Response, ApiError> {
    let scratch = protocol::conversation(env, &format!("selfcheck-{}", random_id()?))?;
    let reply = scratch.ask(&ConversationCall::SelfCheck).await?;
    http::json(&expect_reply!(reply, ConversationReply::StoreCheck(check) => check)?, 200)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOperator {
    email: String,
    name: String,
    password: String,
}

pub async fn create_operator(req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    sites::require(env, site).await?;
    let body: NewOperator = http::read_json(req, 4096).await?;
    let email = normalize_email(&body.email)?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(ApiError::new(ErrorCode::FieldTooLong, "name: 1-60 characters"));
    }
    if body.password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::new(ErrorCode::InvalidConfig, format!("password: at least {MIN_PASSWORD_CHARS} characters")));
    }
    let salt = random_bytes::<16>()?;
    let hash = hash_password(&body.password, &salt, DEFAULT_PASSWORD_ITERATIONS);
    let id = format!("op-{}", random_id()?);
    let inserted = db(env)?
        .query(
            "INSERT INTO operators (id, site, email, name, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            &[&id, &site, &email, &name, &hash, &now_ms()],
        )
        .statement("creating the operator")?
        .run()
        .await;
    if let Err(error) = inserted {
        if error.to_string().contains("UNIQUE") {
            return Err(ApiError::new(ErrorCode::InvalidConfig, format!("an operator with email {email} already exists")));
        }
        return Err(internal("creating the operator", error));
    }
    http::json(&serde_json::json!({"id": id, "site": site, "email": email, "name": name}), 201)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    name: String,
}

pub async fn create_api_key(req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    sites::require(env, site).await?;
    let body: NewKey = http::read_json(req, 4096).await?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(ApiError::new(ErrorCode::FieldTooLong, "name: 1-60 characters"));
    }
    let id = random_id()?;
    let key = format!("{}{}", super::api::API_KEY_PREFIX, floorwalker_core::base::ids::client_id_from_bytes(&random_bytes::<24>()?));
    db(env)?
        .query(
            "INSERT INTO chat_api_keys (id, site, name, key_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            &[&id, &site, &name, &super::api::hash_key(&key), &now_ms()],
        )
        .run("creating the API key")
        .await?;
    http::json(&serde_json::json!({"id": id, "site": site, "name": name, "key": key}), 201)
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
