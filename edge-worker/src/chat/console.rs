//! `/v1/console/*`: the operator console's API. Login sets an HttpOnly, Secure, SameSite=Strict
//! `__Host-` cookie holding a signed session (core::auth) whose row in D1 can be revoked; every
//! other route checks it. State-changing requests and WebSockets must come from the worker's own
//! origin (the console is served from it), which with SameSite=Strict closes CSRF.

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::access::auth::{
    clear_session_cookie, cookie_value, hash_password, issue_operator_session, session_cookie, verify_operator_session, verify_password,
    OperatorSession, DEFAULT_PASSWORD_ITERATIONS, OPERATOR_SESSION_COOKIE,
};
use floorwalker_core::chat::protocol::ConversationStatus;
use floorwalker_core::chat::operator_view::{
    prompt_summary, CallbackEntry, CallbackState, ConversationDetails, ConversationSummary, LeadSummary, OperatorProfile,
};
use floorwalker_core::leads::lead::Lead;
use serde::{Deserialize, Serialize};
use worker::{Env, Method, Request, Response};

use super::protocol::{self, expect_reply, ConversationCall, HubCall, HubReply};
use super::{Who, OPERATOR_SESSION_TTL_MS};
use crate::http::{self, now_ms};
use crate::platform::d1::db;
use crate::platform::random::random_id;

/// The logged-in operator: core's type, the one the console reads.
pub type Operator = OperatorProfile;

pub async fn route(req: Request, env: &Env, method: Method, path: &[&str]) -> Result<Response, ApiError> {
    match (method, path) {
        (Method::Post, ["login"]) => login(req, env).await,
        (Method::Post, ["logout"]) => logout(req, env).await,
        (Method::Get, ["me"]) => {
            let operator = authenticate(&req, env).await?;
            http::json(&operator, 200)
        }
        (Method::Get, ["ws"]) => hub_socket(req, env).await,
        (Method::Get, ["conversations", id]) => conversation(req, env, id).await,
        (Method::Get, ["conversations", id, "ws"]) => conversation_socket(req, env, id).await,
        (Method::Get, ["callbacks"]) => callbacks(req, env).await,
        (Method::Post, ["callbacks", id, "done"]) => callback_done(req, env, id).await,
        (method, _) => Err(ApiError::new(ErrorCode::NotFound, format!("no console route for {method:?} {}", path.join("/")))),
    }
}

fn session_secret(env: &Env) -> Result<Vec<u8>, ApiError> {
    super::signing_key(env, "OPERATOR_SESSION_SECRET")
}

/// Requests that change something, and WebSockets, must come from the console itself.
fn require_own_origin(req: &Request) -> Result<(), ApiError> {
    let own = super::own_origin(req)?;
    match http::header(req, "origin") {
        Some(origin) if origin == own => Ok(()),
        Some(origin) => Err(ApiError::new(ErrorCode::OriginNotAllowed, format!("the console API answers only {own}, not {origin}"))),
        None => Err(ApiError::new(ErrorCode::OriginNotAllowed, "the console API needs an Origin header")),
    }
}

#[derive(Deserialize)]
struct OperatorRow {
    id: String,
    site: String,
    email: String,
    name: String,
    password_hash: String,
}

/// The operator behind the request's session cookie, or `unauthorized`.
pub async fn authenticate(req: &Request, env: &Env) -> Result<Operator, ApiError> {
    let unauthorized = || ApiError::new(ErrorCode::Unauthorized, "log in to the console first");
    let cookies = http::header(req, "cookie").unwrap_or_default();
    let token = cookie_value(&cookies, OPERATOR_SESSION_COOKIE).filter(|t| !t.is_empty()).ok_or_else(unauthorized)?;
    let session = verify_operator_session(&session_secret(env)?, token, now_ms())?;
    let row: Option<OperatorRow> = db(env)?
        .query(
            "SELECT o.id, o.site, o.email, o.name, o.password_hash FROM operator_sessions s JOIN operators o ON o.id = s.operator_id \
             WHERE s.id = ?1 AND s.operator_id = ?2 AND s.revoked_at IS NULL AND o.disabled_at IS NULL",
            &[&session.session_id, &session.operator_id],
        )
        .first("checking the session")
        .await?;
    let row = row.ok_or_else(unauthorized)?;
    Ok(Operator { id: row.id, site: row.site, email: row.email, name: row.name })
}

#[derive(Deserialize)]
struct LoginRequest {
    email: String,
    password: String,
}

/// A hash nobody's password matches, checked when the email is unknown so that a login for a
/// missing account takes as long as one with a wrong password.
fn dummy_hash() -> String {
    hash_password("not a password", &[0u8; 16], DEFAULT_PASSWORD_ITERATIONS)
}

async fn login(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    require_own_origin(&req)?;
    let body: LoginRequest = http::read_json(&mut req, 4096).await?;
    let email = body.email.trim().to_lowercase();
    let row: Option<OperatorRow> = db(env)?
        .query("SELECT id, site, email, name, password_hash FROM operators WHERE email = ?1 AND disabled_at IS NULL", &[&email])
        .first("logging in")
        .await?;
    let stored = row.as_ref().map_or_else(dummy_hash, |r| r.password_hash.clone());
    let matches = verify_password(&body.password, &stored);
    let row = match row {
        Some(row) if matches => row,
        _ => return Err(ApiError::new(ErrorCode::Unauthorized, "wrong email or password")),
    };
    let now = now_ms();
    let session = OperatorSession { session_id: random_id()?, operator_id: row.id.clone(), expires_at: now + OPERATOR_SESSION_TTL_MS };
    let token = issue_operator_session(&session_secret(env)?, &session)?;
    db(env)?
        .query(
            "INSERT INTO operator_sessions (id, operator_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            &[&session.session_id, &row.id, &now, &session.expires_at],
        )
        .run("storing the session")
        .await?;
    let operator = Operator { id: row.id, site: row.site, email: row.email, name: row.name };
    let mut response = http::json(&operator, 200)?;
    http::set(response.headers_mut(), "set-cookie", &session_cookie(&token, OPERATOR_SESSION_TTL_MS / 1000))?;
    Ok(response)
}

async fn logout(req: Request, env: &Env) -> Result<Response, ApiError> {
    require_own_origin(&req)?;
    let cookies = http::header(&req, "cookie").unwrap_or_default();
    if let Some(token) = cookie_value(&cookies, OPERATOR_SESSION_COOKIE) {
        if let Ok(session) = verify_operator_session(&session_secret(env)?, token, now_ms()) {
            db(env)?
                .query("UPDATE operator_sessions SET revoked_at = ?2 WHERE id = ?1", &[&session.session_id, &now_ms()])
                .run("logging out")
                .await?;
        }
    }
    let mut response = http::json(&serde_json::json!({"ok": true}), 200)?;
    http::set(response.headers_mut(), "set-cookie", &clear_session_cookie())?;
    Ok(response)
}

#[derive(Deserialize)]
struct StatusQuery {
    #[serde(default)]
    status: Option<String>,
}

/// `GET /v1/console/ws[?status=away]`: the operator's live list and presence (the SiteHub).
async fn hub_socket(req: Request, env: &Env) -> Result<Response, ApiError> {
    super::require_websocket(&req)?;
    require_own_origin(&req)?;
    let operator = authenticate(&req, env).await?;
    let query: StatusQuery = req.query().unwrap_or(StatusQuery { status: None });
    let status = match query.status.as_deref() {
        Some("away") => floorwalker_core::chat::hub::ConnectionStatus::Away,
        _ => floorwalker_core::chat::hub::ConnectionStatus::Online,
    };
    let who = Who::Operator { operator_id: operator.id, name: operator.name };
    protocol::hub(env, &operator.site)?.connect(&HubCall::Connect { who, status }).await
}

#[derive(Deserialize, Serialize)]
pub struct ConversationRow {
    pub id: String,
    pub site: String,
    pub visitor_id: String,
    pub user_id: Option<String>,
    pub status: String,
    pub opened_at: f64,
    pub closed_at: Option<f64>,
    pub visitor_label: Option<String>,
    #[serde(skip_serializing)]
    pub context: Option<String>,
}

pub async fn conversation_row(env: &Env, id: &str) -> Result<Option<ConversationRow>, ApiError> {
    db(env)?
        .query(
            "SELECT id, site, visitor_id, user_id, status, opened_at, closed_at, visitor_label, context FROM chat_conversations WHERE id = ?1",
            &[&id],
        )
        .first("reading the conversation")
        .await
}

async fn own_conversation(env: &Env, operator: &Operator, id: &str) -> Result<ConversationRow, ApiError> {
    floorwalker_core::base::ids::validate_client_id("conversation", id)?;
    conversation_row(env, id)
        .await?
        .filter(|row| row.site == operator.site)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "there is no such conversation on your site"))
}

impl ConversationRow {
    fn summary(&self) -> ConversationSummary {
        ConversationSummary {
            id: self.id.clone(),
            status: if self.status == "closed" { ConversationStatus::Closed } else { ConversationStatus::Open },
            opened_at: self.opened_at as u64,
            closed_at: self.closed_at.map(|at| at as u64),
            visitor_label: self.visitor_label.clone(),
        }
    }
}

#[derive(Deserialize)]
struct CallbackRow {
    #[serde(default)]
    conversation_id: Option<String>,
    contact: String,
    #[serde(default)]
    time_slot: Option<String>,
    requested_at: f64,
    #[serde(default)]
    done_at: Option<f64>,
    #[serde(default)]
    done_by: Option<String>,
    #[serde(default)]
    visitor_label: Option<String>,
}

/// `GET /v1/console/conversations/:id`: the visitor context panel — the conversation, what the
/// visitor had shown when it started, the prompts they saw, their leads, earlier conversations
/// and callback request (core's `ConversationDetails`).
async fn conversation(req: Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    let operator = authenticate(&req, env).await?;
    let row = own_conversation(env, &operator, id).await?;
    let context = row.context.as_deref().and_then(|c| serde_json::from_str(c).ok());
    let db = db(env)?;
    let previous: Vec<ConversationRow> = db
        .query(
            "SELECT id, site, visitor_id, user_id, status, opened_at, closed_at, visitor_label FROM chat_conversations \
             WHERE site = ?1 AND id != ?2 AND (visitor_id = ?3 OR (?4 IS NOT NULL AND user_id = ?4)) ORDER BY opened_at DESC LIMIT 20",
            &[&row.site, &row.id, &row.visitor_id, &row.user_id],
        )
        .all("reading earlier conversations")
        .await?;
    let callback: Option<CallbackRow> = db
        .query("SELECT contact, time_slot, requested_at, done_at, done_by FROM chat_callbacks WHERE conversation_id = ?1", &[&row.id])
        .first("reading the callback")
        .await?;
    let leads = leads_of(env, &row.site, &row.visitor_id).await?;
    // The prompts come from the stored events (the context the widget sent has answers, not
    // what it was shown); the visitor's locale does not matter for them.
    let (session, _) = super::context::session_from_events(env, &row.site, &row.visitor_id).await?;
    let details = ConversationDetails {
        conversation: row.summary(),
        context,
        previous: previous.iter().map(ConversationRow::summary).collect(),
        callback: callback.map(|c| CallbackState {
            contact: c.contact,
            time_slot: c.time_slot,
            requested_at: c.requested_at as u64,
            done_at: c.done_at.map(|at| at as u64),
            done_by: c.done_by,
        }),
        leads,
        prompts: prompt_summary(&session),
    };
    http::json(&details, 200)
}

#[derive(Deserialize)]
struct LeadRow {
    data: String,
}

/// The visitor's leads, newest first (rows that no longer parse as core's `Lead` are skipped).
async fn leads_of(env: &Env, site: &str, visitor: &str) -> Result<Vec<LeadSummary>, ApiError> {
    let rows: Vec<LeadRow> = db(env)?
        .query("SELECT data FROM leads WHERE site = ?1 AND visitor = ?2 ORDER BY created_at DESC LIMIT 20", &[&site, &visitor])
        .all("reading the visitor's leads")
        .await?;
    Ok(rows.iter().filter_map(|r| serde_json::from_str::<Lead>(&r.data).ok()).map(|lead| LeadSummary::from(&lead)).collect())
}

/// `GET /v1/console/conversations/:id/ws`: the operator's socket into one conversation.
async fn conversation_socket(req: Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    super::require_websocket(&req)?;
    require_own_origin(&req)?;
    let operator = authenticate(&req, env).await?;
    own_conversation(env, &operator, id).await?;
    let who = Who::Operator { operator_id: operator.id, name: operator.name };
    protocol::conversation(env, id)?.connect(&ConversationCall::Connect { who, conversation_id: id.to_owned() }).await
}

/// `GET /v1/console/callbacks`: callback requests still to handle, oldest first.
async fn callbacks(req: Request, env: &Env) -> Result<Response, ApiError> {
    let operator = authenticate(&req, env).await?;
    let rows: Vec<CallbackRow> = db(env)?
        .query(
            "SELECT b.conversation_id, b.contact, b.time_slot, b.requested_at, c.visitor_label FROM chat_callbacks b \
             LEFT JOIN chat_conversations c ON c.id = b.conversation_id WHERE b.site = ?1 AND b.done_at IS NULL ORDER BY b.requested_at",
            &[&operator.site],
        )
        .all("listing callbacks")
        .await?;
    let queue: Vec<CallbackEntry> = rows
        .into_iter()
        .filter_map(|r| {
            Some(CallbackEntry {
                conversation_id: r.conversation_id?,
                contact: r.contact,
                time_slot: r.time_slot,
                requested_at: r.requested_at as u64,
                visitor_label: r.visitor_label,
            })
        })
        .collect();
    http::json(&queue, 200)
}

/// `POST /v1/console/callbacks/:id/done`: an operator handled the callback; every console hears.
async fn callback_done(req: Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    require_own_origin(&req)?;
    let operator = authenticate(&req, env).await?;
    own_conversation(env, &operator, id).await?;
    db(env)?
        .query(
            "UPDATE chat_callbacks SET done_at = ?2, done_by = ?3 WHERE conversation_id = ?1 AND done_at IS NULL",
            &[&id, &now_ms(), &operator.name],
        )
        .run("marking the callback done")
        .await?;
    let notification = floorwalker_core::chat::hub::HubNotification::CallbackDone { conversation_id: id.to_owned(), by: operator.name.clone() };
    let reply = protocol::hub(env, &operator.site)?.ask(&HubCall::Broadcast(notification)).await?;
    expect_reply!(reply, HubReply::Done => ())?;
    http::json(&serde_json::json!({"ok": true}), 200)
}
