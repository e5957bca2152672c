//! Live chat: visitor sessions, the `Conversation` and `SiteHub` Durable Objects, the operator
//! console's API and the CRM's reply endpoint. Every decision is core's (`conversation`, `hub`,
//! `auth`, `chat`); this module moves frames and rows around.
//!
//! Routes (see README.md for the table): `/v1/chat/*` for the widget, `/v1/console/*` for the
//! console (cookie session), `/v1/conversations/:id/messages` for CRMs (API key) and a few
//! `/v1/admin/*` additions: members and API keys (`members`), identity secret, outbox, store
//! self-check (`admin`).

pub mod admin;
mod api;
pub mod canned;
mod console;
mod context;
mod conversation;
mod files;
mod hub;
pub mod links;
pub mod live;
pub mod members;
pub mod offline;
pub mod outbox;
pub mod protocol;
pub mod session;
mod store;
mod visitor;

pub use visitor::operator_online;

use floorwalker_core::base::error::{ApiError, ErrorCode};
use serde::{Deserialize, Serialize};
use worker::{Env, Method, Request, Response};

use crate::http::internal;
use crate::platform::vars::{key, KeyProblem, MIN_KEY_CHARS};

/// How long a visitor token is good for; the widget asks for a new one before it runs out.
pub const VISITOR_TOKEN_TTL_MS: u64 = 7 * 24 * 3600 * 1000;
/// How long an operator stays logged in.
pub const OPERATOR_SESSION_TTL_MS: u64 = 12 * 3600 * 1000;

/// `/v1/chat/*`, `/v1/console/*` and `/v1/conversations/*`.
pub async fn route(req: Request, env: &Env, method: Method, path: &[&str]) -> Result<Response, ApiError> {
    match (method, path) {
        (Method::Post, ["chat", "session"]) => visitor::session(req, env).await,
        (Method::Post, ["chat", "conversations"]) => visitor::start(req, env).await,
        (Method::Get, ["chat", "conversations", id, "ws"]) => visitor::socket(req, env, id).await,
        (Method::Post, ["chat", "conversations", id, "callback"]) => visitor::callback(req, env, id).await,
        (Method::Post, ["chat", "conversations", id, "transcript"]) => visitor::transcript(req, env, id).await,
        (Method::Post, ["chat", "conversations", id, "rating"]) => visitor::rate(req, env, id).await,
        (Method::Post, ["chat", "conversations", id, "files"]) => files::visitor_upload(req, env, id).await,
        (Method::Get, ["chat", "conversations", id, "files", file]) => files::visitor_download(req, env, id, file).await,
        (method, ["console", rest @ ..]) => console::route(req, env, method, rest).await,
        (Method::Post, ["conversations", id, "messages"]) => api::post_message(req, env, id).await,
        (method, _) => Err(ApiError::new(ErrorCode::NotFound, format!("no chat route for {method:?} /v1/{}", path.join("/")))),
    }
}

/// Erases a conversation object's storage (the retention cron, after its period). An object that
/// was never set up answers without writing anything.
pub async fn erase_conversation_storage(env: &Env, conversation_id: &str) -> Result<(), ApiError> {
    let reply = protocol::conversation(env, conversation_id)?.ask(&protocol::ConversationCall::Purge).await?;
    protocol::expect_reply!(reply, protocol::ConversationReply::Done => ())
}

/// Who a connection or a call to a Durable Object speaks for. Only the worker builds it (after
/// checking a token, a session or an API key); it travels inside the call (`protocol`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Who {
    Visitor { site: String, visitor_id: String, #[serde(default)] user_id: Option<String>, issued_at: u64 },
    /// `session_id` is the console session's (so a logout closes that session's sockets only);
    /// none for a CRM's API key.
    Operator {
        operator_id: String,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_id: Option<String>,
    },
}

impl Who {
    /// How the conversation's logic names this speaker.
    pub fn author(&self) -> floorwalker_core::chat::protocol::Author {
        use floorwalker_core::chat::protocol::Author;
        match self {
            Who::Visitor { .. } => Author::Visitor,
            Who::Operator { name, .. } => Author::Operator { name: name.clone() },
        }
    }

    pub fn claims(&self) -> Option<floorwalker_core::access::auth::VisitorClaims> {
        match self {
            Who::Visitor { site, visitor_id, user_id, issued_at } => Some(floorwalker_core::access::auth::VisitorClaims {
                site: site.clone(),
                visitor_id: visitor_id.clone(),
                issued_at: *issued_at,
                user_id: user_id.clone(),
            }),
            Who::Operator { .. } => None,
        }
    }
}

/// A chat signing key (`VISITOR_TOKEN_SECRET`, `OPERATOR_SESSION_SECRET`): chat is off until it
/// is set, and refuses a short one (platform's one rule for keys).
pub fn signing_key(env: &Env, name: &str) -> Result<Vec<u8>, ApiError> {
    match key(env, name) {
        Ok(key) => Ok(key.into_bytes()),
        Err(KeyProblem::Unset) => Err(ApiError::new(ErrorCode::Internal, format!("chat is disabled: set the {name} secret"))),
        Err(KeyProblem::TooShort) => {
            Err(ApiError::new(ErrorCode::Internal, format!("the {name} secret must be at least {MIN_KEY_CHARS} characters")))
        }
    }
}

/// The worker's own origin (what the console is served from), for Origin checks.
pub fn own_origin(req: &Request) -> Result<String, ApiError> {
    let url = req.url().map_err(|e| internal("reading the URL", e))?;
    Ok(url.origin().ascii_serialization())
}

pub fn require_websocket(req: &Request) -> Result<(), ApiError> {
    let upgrade = crate::http::header(req, "upgrade").unwrap_or_default();
    if !upgrade.eq_ignore_ascii_case("websocket") {
        return Err(ApiError::new(ErrorCode::BadFrame, "this endpoint speaks WebSocket only (Upgrade: websocket)"));
    }
    Ok(())
}
