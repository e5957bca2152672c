//! `/v1/console/*`: the operator console's API. Sessions (login, logout, the check every route
//! makes, revocation) are `session`'s; every route here is for the session's site only.
//! State-changing requests and WebSockets must come from the worker's own origin (the console is
//! served from it), which with SameSite=Strict closes CSRF.

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::chat::hub::Assignee;
use floorwalker_core::chat::protocol::ConversationStatus;
use floorwalker_core::chat::operator_view::{
    prompt_summary, CallbackEntry, CallbackState, ConversationDetails, PanelLabels, ConversationSummary, LeadSummary,
};
use floorwalker_core::leads::lead::Lead;
use serde::{Deserialize, Serialize};
use worker::{Env, Method, Request, Response};

use super::protocol::{self, expect_reply, ConversationCall, HubCall, HubReply};
use super::session::{self, authenticate, require_own_origin, Operator};
use crate::http::{self, now_ms};
use crate::platform::d1::db;

pub async fn route(req: Request, env: &Env, method: Method, path: &[&str]) -> Result<Response, ApiError> {
    match (method, path) {
        (Method::Post, ["login"]) => session::login(req, env).await,
        (Method::Post, ["logout"]) => session::logout(req, env).await,
        (Method::Post, ["site"]) => session::switch_site(req, env).await,
        (Method::Get, ["me"]) => session::me(&req, env).await,
        (Method::Post, ["links", "lookup"]) => super::links::lookup(req, env).await,
        (Method::Post, ["links", "accept"]) => super::links::accept(req, env).await,
        (Method::Get, ["ws"]) => hub_socket(req, env).await,
        (Method::Get, ["conversations", id]) => conversation(req, env, id).await,
        (Method::Get, ["conversations", id, "ws"]) => conversation_socket(req, env, id).await,
        (Method::Post, ["conversations", id, "assign"]) => assign(req, env, id).await,
        (Method::Post, ["conversations", id, "files"]) => super::files::operator_upload(req, env, id).await,
        (Method::Get, ["conversations", id, "files", file]) => super::files::operator_download(req, env, id, file).await,
        (Method::Get, ["callbacks"]) => callbacks(req, env).await,
        (Method::Get, ["canned-replies"]) => super::canned::for_console(&req, env).await,
        (Method::Post, ["callbacks", id, "done"]) => callback_done(req, env, id).await,
        (Method::Get, ["offline"]) => super::offline::list(req, env).await,
        (Method::Post, ["offline", id, "reply"]) => super::offline::reply(req, env, id).await,
        (Method::Post, ["offline", id, "done"]) => super::offline::done(req, env, id).await,
        (method, _) => Err(ApiError::new(ErrorCode::NotFound, format!("no console route for {method:?} {}", path.join("/")))),
    }
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
    let signed = authenticate(&req, env).await?;
    let query: StatusQuery = req.query().unwrap_or(StatusQuery { status: None });
    let status = match query.status.as_deref() {
        Some("away") => floorwalker_core::chat::hub::ConnectionStatus::Away,
        _ => floorwalker_core::chat::hub::ConnectionStatus::Online,
    };
    protocol::hub(env, &signed.operator.site)?.connect(&HubCall::Connect { who: signed.who(), status, site: signed.operator.site.clone() }).await
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
    #[serde(default)]
    pub rating: Option<f64>,
    #[serde(skip_serializing)]
    pub context: Option<String>,
}

pub async fn conversation_row(env: &Env, id: &str) -> Result<Option<ConversationRow>, ApiError> {
    db(env)?
        .query(
            "SELECT id, site, visitor_id, user_id, status, opened_at, closed_at, visitor_label, rating, context FROM chat_conversations WHERE id = ?1",
            &[&id],
        )
        .first("reading the conversation")
        .await
}

pub(super) async fn own_conversation(env: &Env, operator: &Operator, id: &str) -> Result<ConversationRow, ApiError> {
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
            rating: self.rating.and_then(|score| u8::try_from(score as u64).ok()),
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
    let operator = authenticate(&req, env).await?.operator;
    let row = own_conversation(env, &operator, id).await?;
    let context: Option<floorwalker_core::visitor::context::VisitorContext> = row.context.as_deref().and_then(|c| serde_json::from_str(c).ok());
    let db = db(env)?;
    let previous: Vec<ConversationRow> = db
        .query(
            "SELECT id, site, visitor_id, user_id, status, opened_at, closed_at, visitor_label, rating FROM chat_conversations \
             WHERE site = ?1 AND id != ?2 AND (visitor_id = ?3 OR (?4 IS NOT NULL AND user_id = ?4)) ORDER BY opened_at DESC LIMIT 20",
            &[&row.site, &row.id, &row.visitor_id, &row.user_id],
        )
        .all("reading earlier conversations")
        .await?;
    let callback: Option<CallbackRow> = db
        .query(
            "SELECT contact, time_slot, requested_at, done_at, done_by FROM chat_callbacks WHERE site = ?1 AND conversation_id = ?2",
            &[&row.site, &row.id],
        )
        .first("reading the callback")
        .await?;
    let leads = leads_of(env, &row.site, &row.visitor_id).await?;
    // The prompts come from the stored events (the context the widget sent has answers, not
    // what it was shown); the visitor's locale does not matter for them.
    let folded = super::context::session_from_events(env, &row.site, &row.visitor_id).await?;
    // The context the chat started with names pages by address; their titles come from the views.
    let context = context.map(|mut context| {
        context.title_pages(folded.view_titles());
        context
    });
    let config = crate::sites::load(env, &row.site).await?;
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
        prompts: prompt_summary(&folded.session),
        timezone: config.as_ref().map(|config| config.widget.timezone.clone()).unwrap_or_default(),
        labels: config.as_ref().map(|config| PanelLabels::of(&config.widget)).unwrap_or_default(),
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
    let signed = authenticate(&req, env).await?;
    own_conversation(env, &signed.operator, id).await?;
    protocol::conversation(env, id)?.connect(&ConversationCall::Connect { who: signed.who(), conversation_id: id.to_owned() }).await
}

/// `GET /v1/console/callbacks`: callback requests still to handle, oldest first.
async fn callbacks(req: Request, env: &Env) -> Result<Response, ApiError> {
    let operator = authenticate(&req, env).await?.operator;
    let rows: Vec<CallbackRow> = db(env)?
        .query(
            "SELECT b.conversation_id, b.contact, b.time_slot, b.requested_at, c.visitor_label FROM chat_callbacks b \
             LEFT JOIN chat_conversations c ON c.id = b.conversation_id AND c.site = b.site WHERE b.site = ?1 AND b.done_at IS NULL ORDER BY b.requested_at",
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
    let operator = authenticate(&req, env).await?.operator;
    own_conversation(env, &operator, id).await?;
    db(env)?
        .query(
            "UPDATE chat_callbacks SET done_at = ?3, done_by = ?4 WHERE site = ?1 AND conversation_id = ?2 AND done_at IS NULL",
            &[&operator.site, &id, &now_ms(), &operator.name],
        )
        .run("marking the callback done")
        .await?;
    let notification = floorwalker_core::chat::hub::HubNotification::CallbackDone { conversation_id: id.to_owned(), by: operator.name.clone() };
    let reply = protocol::hub(env, &operator.site)?.ask(&HubCall::Broadcast(notification)).await?;
    expect_reply!(reply, HubReply::Done => ())?;
    http::json(&serde_json::json!({"ok": true}), 200)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignRequest {
    /// Another member of the site to hand it to; absent: the caller takes it.
    #[serde(default)]
    operator_id: Option<String>,
}

#[derive(Deserialize)]
struct MemberRow {
    id: String,
    name: String,
}

/// `POST /v1/console/conversations/:id/assign` with `{}` (take it) or `{"operator_id"}` (hand it
/// to an active member of the site): every console's list shows who has it.
async fn assign(mut req: Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    require_own_origin(&req)?;
    let operator = authenticate(&req, env).await?.operator;
    own_conversation(env, &operator, id).await?;
    let body: AssignRequest = crate::http::read_json(&mut req, 1024).await?;
    let assignee = match body.operator_id {
        None => Assignee { operator_id: operator.id.clone(), name: operator.name.clone() },
        Some(other) => {
            let member: Option<MemberRow> = db(env)?
                .query(
                    "SELECT a.id, a.name FROM site_members m JOIN accounts a ON a.id = m.account_id \
                     WHERE m.site = ?1 AND m.account_id = ?2 AND m.disabled_at IS NULL AND a.disabled_at IS NULL",
                    &[&operator.site, &other],
                )
                .first("finding the member")
                .await?;
            let member = member.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "operator_id: no such member of your site"))?;
            Assignee { operator_id: member.id, name: member.name }
        }
    };
    let reply = protocol::conversation(env, id)?.ask(&ConversationCall::Assign(assignee.clone())).await?;
    expect_reply!(reply, super::protocol::ConversationReply::Done => ())?;
    http::json(&assignee, 200)
}
