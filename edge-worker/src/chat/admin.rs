//! Chat additions to the admin API (`Authorization: Bearer $ADMIN_TOKEN`, checked by the caller):
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
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{Env, Method, Request, Response};

use super::protocol::{self, expect_reply, ConversationCall, ConversationReply};

use crate::http::{self, internal, now_ms};
use crate::sites;

pub const MIN_PASSWORD_CHARS: usize = 10;

/// Whether an admin path (after `/v1/admin/`) is one of the chat's.
pub fn handles(path: &[&str]) -> bool {
    matches!(path, ["sites", _, "operators" | "api-keys" | "identity-secret"] | ["chat", ..])
}

pub async fn route(mut req: Request, env: &Env, method: Method, path: &[&str]) -> Result<Response, ApiError> {
    match (method, path) {
        (Method::Post, ["sites", site, "operators"]) => create_operator(&mut req, env, site).await,
        (Method::Post, ["sites", site, "api-keys"]) => create_api_key(&mut req, env, site).await,
        (Method::Put, ["sites", site, "identity-secret"]) => identity_secret(&mut req, env, site).await,
        (Method::Get, ["chat", "outbox"]) => outbox(&req, env).await,
        (Method::Post, ["chat", "store-check"]) => {
            let scratch = protocol::conversation(env, &format!("selfcheck-{}", super::random_id()))?;
            let reply = scratch.ask(&ConversationCall::SelfCheck).await?;
            http::json(&expect_reply!(reply, ConversationReply::StoreCheck(check) => check)?, 200)
        }
        (method, _) => Err(ApiError::new(ErrorCode::NotFound, format!("no admin route for {method:?} {}", path.join("/")))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOperator {
    email: String,
    name: String,
    password: String,
}

async fn create_operator(req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
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
    let salt = super::random_bytes::<16>();
    let hash = hash_password(&body.password, &salt, DEFAULT_PASSWORD_ITERATIONS);
    let id = format!("op-{}", super::random_id());
    let inserted = sites::db(env)?
        .prepare("INSERT INTO operators (id, site, email, name, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .bind(&[
            JsValue::from_str(&id),
            JsValue::from_str(site),
            JsValue::from_str(&email),
            JsValue::from_str(name),
            JsValue::from_str(&hash),
            JsValue::from_f64(now_ms() as f64),
        ])
        .map_err(|e| internal("creating the operator", e))?
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

async fn create_api_key(req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    sites::require(env, site).await?;
    let body: NewKey = http::read_json(req, 4096).await?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(ApiError::new(ErrorCode::FieldTooLong, "name: 1-60 characters"));
    }
    let id = super::random_id();
    let key = format!("{}{}", super::api::API_KEY_PREFIX, floorwalker_core::base::ids::client_id_from_bytes(&super::random_bytes::<24>()));
    sites::db(env)?
        .prepare("INSERT INTO chat_api_keys (id, site, name, key_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(&[
            JsValue::from_str(&id),
            JsValue::from_str(site),
            JsValue::from_str(name),
            JsValue::from_str(&super::api::hash_key(&key)),
            JsValue::from_f64(now_ms() as f64),
        ])
        .map_err(|e| internal("creating the API key", e))?
        .run()
        .await
        .map_err(|e| internal("creating the API key", e))?;
    http::json(&serde_json::json!({"id": id, "site": site, "name": name, "key": key}), 201)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentitySecret {
    secret: String,
}

async fn identity_secret(req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    sites::require(env, site).await?;
    let body: IdentitySecret = http::read_json(req, 4096).await?;
    if body.secret.len() < 16 {
        return Err(ApiError::new(ErrorCode::InvalidConfig, "secret: at least 16 characters"));
    }
    sites::db(env)?
        .prepare("INSERT INTO chat_identity_secrets (site, secret) VALUES (?1, ?2) ON CONFLICT (site) DO UPDATE SET secret = excluded.secret")
        .bind(&[JsValue::from_str(site), JsValue::from_str(&body.secret)])
        .map_err(|e| internal("storing the identity secret", e))?
        .run()
        .await
        .map_err(|e| internal("storing the identity secret", e))?;
    http::json(&serde_json::json!({"ok": true}), 200)
}

#[derive(Deserialize)]
struct OutboxQuery {
    site: String,
    #[serde(default)]
    r#type: Option<String>,
}

async fn outbox(req: &Request, env: &Env) -> Result<Response, ApiError> {
    let query: OutboxQuery = req.query().map_err(|e| ApiError::new(ErrorCode::NotFound, format!("bad query: {e}")))?;
    let kind = query.r#type.as_deref().map_or(JsValue::NULL, JsValue::from_str);
    // `payload` is the event as the consumer sends it (`{"type", "data"}`).
    let rows = sites::db(env)?
        .prepare(
            "SELECT e.id, e.site, e.type, e.created_at, e.data AS payload, \
             COALESCE(json_extract(e.data, '$.data.conversation_id'), json_extract(e.data, '$.data.transcript.conversation_id')) AS conversation_id, \
             (SELECT COUNT(*) FROM deliveries d WHERE d.event = e.id) AS deliveries, \
             (SELECT COUNT(*) FROM deliveries d WHERE d.event = e.id AND d.state = 'delivered') AS delivered \
             FROM outbox_events e WHERE e.site = ?1 AND e.type IN ('message.created', 'conversation.closed', 'transcript.requested') \
             AND (?2 IS NULL OR e.type = ?2) ORDER BY e.created_at, e.id LIMIT 1000",
        )
        .bind(&[JsValue::from_str(&query.site), kind])
        .map_err(|e| internal("listing the outbox", e))?
        .all()
        .await
        .map_err(|e| internal("listing the outbox", e))?
        .results::<serde_json::Value>()
        .map_err(|e| internal("listing the outbox", e))?;
    http::json(&rows, 200)
}
