//! The widget's side of the chat: a signed visitor token (`POST /v1/chat/session`), starting a
//! conversation (`POST /v1/chat/conversations`), its WebSocket, and two requests a visitor can
//! make (callback, transcript by email). Bodies are JSON sent as `text/plain`, tokens travel in the
//! body or the query (a browser WebSocket cannot set headers), so nothing needs a CORS preflight.

use floorwalker_core::access::public_limits::PublicRoute;
use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::access::auth::{identify, may_access, verify_visitor_token, VisitorClaims};
use floorwalker_core::prompts::config::SiteConfig;
use floorwalker_core::visitor::context::VisitorContext;
use floorwalker_core::chat::operator_view::{callback_contact, CallbackContact};
use floorwalker_core::leads::contact::normalize_email;
use floorwalker_core::chat::conversation::ConversationOwner;
use floorwalker_core::chat::protocol::SitePresence;
use floorwalker_core::base::ids::validate_client_id;
use serde::{Deserialize, Serialize};
use worker::{Env, Request, Response};

use super::protocol::{self, expect_reply, ConversationCall, ConversationReply, ConversationSetup, HubCall, HubReply};
use super::{context, Who, VISITOR_TOKEN_TTL_MS};
use crate::http::{self, internal, now_ms};
use crate::platform::d1::db;
use crate::platform::random::random_id;
use crate::platform::vars::var;
use crate::{cors, rate_limit, settings, sites};

const MAX_SESSION_BODY: usize = 4 * 1024;
const MAX_START_BODY: usize = 64 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionRequest {
    site: String,
    visitor: String,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    user_hash: Option<String>,
}

#[derive(Serialize)]
struct SessionResponse {
    token: String,
    expires_at: u64,
    /// The visitor's open conversation, to resume; `None` until they write.
    conversation_id: Option<String>,
    operator_online: bool,
}

/// The site config after checking the request comes from one of the site's pages.
async fn site_for_origin(env: &Env, req: &Request, site: &str) -> Result<(SiteConfig, String), ApiError> {
    let origin = page_origin(req)?;
    let config = sites::require(env, site).await?;
    cors::require_listed(env, &config, &origin).await?;
    Ok((config, origin))
}

/// The request's Origin: chat answers browser pages only.
fn page_origin(req: &Request) -> Result<String, ApiError> {
    http::header(req, "origin")
        .ok_or_else(|| ApiError::new(ErrorCode::OriginNotAllowed, "chat is available only from a browser page (Origin header)"))
}

pub(super) enum Admitted {
    /// The site's config and the request's Origin, one of the site's.
    Yes(SiteConfig, String),
    /// The 429 to answer with.
    TooMany(Response),
}

/// [`site_for_origin`] for a rate-limited route: counts the request on `route`'s limits (its
/// client's and its visitor's, on the site) before the Origin is checked, so a flood from a
/// foreign page is refused with 429 too, rather than recorded refusal by refusal.
pub(super) async fn admit(env: &Env, req: &Request, route: PublicRoute, site: &str, visitor: &str) -> Result<Admitted, ApiError> {
    let origin = page_origin(req)?;
    let config = sites::require(env, site).await?;
    let counters = route.counters(site, &rate_limit::client(req), Some(visitor));
    let listed = config.allows_origin(&origin).then_some(origin.as_str());
    if let Some(refusal) = rate_limit::check(env, &counters, now_ms(), listed).await? {
        return Ok(Admitted::TooMany(refusal));
    }
    cors::require_listed(env, &config, &origin).await?;
    Ok(Admitted::Yes(config, origin))
}

fn visitor_secret(env: &Env) -> Result<Vec<u8>, ApiError> {
    super::signing_key(env, "VISITOR_TOKEN_SECRET")
}

pub fn verify_token(env: &Env, token: &str) -> Result<VisitorClaims, ApiError> {
    verify_visitor_token(&visitor_secret(env)?, token, now_ms(), VISITOR_TOKEN_TTL_MS)
}

pub(super) fn who(claims: &VisitorClaims) -> Who {
    Who::Visitor {
        site: claims.site.clone(),
        visitor_id: claims.visitor_id.clone(),
        user_id: claims.user_id.clone(),
        issued_at: claims.issued_at,
    }
}

async fn identity_secret(env: &Env, site: &str) -> Result<Option<String>, ApiError> {
    db(env)?
        .query("SELECT secret FROM chat_identity_secrets WHERE site = ?1", &[&site])
        .first_column("secret", "reading the identity secret")
        .await
}

/// The visitor's (or the verified person's) newest open conversation on the site.
async fn open_conversation(env: &Env, claims: &VisitorClaims) -> Result<Option<String>, ApiError> {
    db(env)?
        .query(
            "SELECT id FROM chat_conversations WHERE site = ?1 AND status = 'open' \
             AND (visitor_id = ?2 OR (?3 IS NOT NULL AND user_id = ?3)) ORDER BY opened_at DESC LIMIT 1",
            &[&claims.site, &claims.visitor_id, &claims.user_id],
        )
        .first_column("id", "finding the open conversation")
        .await
}

pub async fn operator_online(env: &Env, site: &str) -> bool {
    let asked = match protocol::hub(env, site) {
        Ok(hub) => hub.ask(&HubCall::Online).await.and_then(|reply| expect_reply!(reply, HubReply::Presence(p) => p)),
        Err(e) => Err(e),
    };
    asked.is_ok_and(|presence: SitePresence| presence.operator_online)
}

pub(super) fn with_cors(mut response: Response, origin: &str) -> Result<Response, ApiError> {
    cors::allow_origin(&mut response, origin)?;
    Ok(response)
}

/// `POST /v1/chat/session`: `{site, visitor, user_id?, user_hash?}` → a visitor token.
pub async fn session(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    let body: SessionRequest = http::read_json(&mut req, MAX_SESSION_BODY).await?;
    validate_client_id("visitor", &body.visitor)?;
    let (_config, origin) = match admit(env, &req, PublicRoute::ChatSession, &body.site, &body.visitor).await? {
        Admitted::Yes(config, origin) => (config, origin),
        Admitted::TooMany(refusal) => return Ok(refusal),
    };
    let now = now_ms();
    let mut claims = VisitorClaims { site: body.site.clone(), visitor_id: body.visitor, issued_at: now, user_id: None };
    match (body.user_id, body.user_hash) {
        (Some(user_id), Some(hash)) => {
            let secret = identity_secret(env, &body.site)
                .await?
                .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "identity verification is not set up for this site"))?;
            claims = identify(claims, secret.as_bytes(), &user_id, &hash, now)?;
        }
        (None, None) => {}
        _ => return Err(ApiError::new(ErrorCode::Unauthorized, "user_id and user_hash go together")),
    }
    let token = claims.sign(&visitor_secret(env)?);
    let conversation_id = open_conversation(env, &claims).await?;
    let response = SessionResponse {
        token,
        expires_at: now + VISITOR_TOKEN_TTL_MS,
        conversation_id,
        operator_online: operator_online(env, &body.site).await,
    };
    with_cors(http::json(&response, 200)?, &origin)
}

#[derive(Deserialize)]
struct StartRequest {
    token: String,
    #[serde(default)]
    context: Option<VisitorContext>,
}

/// `POST /v1/chat/conversations`: `{token, context?}` → the visitor's open conversation, created
/// if there is none. The context is the widget's; without it the server folds stored events.
pub async fn start(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    let body: StartRequest = http::read_json(&mut req, MAX_START_BODY).await?;
    let claims = verify_token(env, &body.token)?;
    let (config, origin) = match admit(env, &req, PublicRoute::ChatStart, &claims.site, &claims.visitor_id).await? {
        Admitted::Yes(config, origin) => (config, origin),
        Admitted::TooMany(refusal) => return Ok(refusal),
    };
    body.context.as_ref().map_or(Ok(()), |context| context.validate(now_ms()))?;
    if let Some(id) = open_conversation(env, &claims).await? {
        return with_cors(http::json(&serde_json::json!({"conversation_id": id, "created": false}), 200)?, &origin);
    }
    let locale = body.context.as_ref().map_or(config.widget.default_locale, |c| c.locale);
    let context = match body.context {
        // Page titles are the worker's word, from the stored page views; never a client's.
        Some(context) => VisitorContext { page_titles: Vec::new(), ..context },
        None => context::from_events(env, &claims.site, &claims.visitor_id, locale).await?,
    };
    let id = format!("c{}", random_id()?);
    let now = now_ms();
    // A verified user id first, then the contact the visitor gave in a form, then a short id.
    let label = match (&claims.user_id, super::live::contact_of(env, &claims.site, &claims.visitor_id).await?) {
        (None, Some(contact)) => contact,
        _ => floorwalker_core::chat::offline::visitor_label(&claims.visitor_id, claims.user_id.as_deref(), Some(&context)),
    };
    let context_json = serde_json::to_string(&context).map_err(|e| internal("encoding the context", e))?;
    // The object first, the row after: a failed start leaves no row pointing at no object, so
    // the visitor's next start creates a fresh conversation instead of finding a dead one.
    let setup = ConversationSetup {
        conversation_id: id.clone(),
        owner: ConversationOwner { site: claims.site.clone(), visitor_id: claims.visitor_id.clone(), user_id: claims.user_id.clone() },
        visitor_label: label.clone(),
        locale,
        reply_wait_ms: reply_wait_ms(env),
        idle_close_ms: settings::retention(env, &claims.site).await?.idle_close_ms(),
        context: Some(context),
    };
    let reply = protocol::conversation(env, &id)?.ask(&ConversationCall::Init(Box::new(setup))).await?;
    expect_reply!(reply, ConversationReply::Initialised { .. } => ())?;
    db(env)?
        .query(
            "INSERT INTO chat_conversations (id, site, visitor_id, user_id, status, opened_at, visitor_label, context) \
             VALUES (?1, ?2, ?3, ?4, 'open', ?5, ?6, ?7)",
            &[&id, &claims.site, &claims.visitor_id, &claims.user_id, &now, &label, &context_json],
        )
        .run("storing the conversation")
        .await?;
    with_cors(http::json(&serde_json::json!({"conversation_id": id, "created": true}), 201)?, &origin)
}

/// How long a visitor waits for an operator before the callback offer: `CHAT_REPLY_WAIT_SECONDS`
/// (tests shorten it), else core's default.
fn reply_wait_ms(env: &Env) -> u64 {
    var(env, "CHAT_REPLY_WAIT_SECONDS")
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(floorwalker_core::chat::conversation::ChatPolicy::default().reply_wait_ms, |s| s * 1000)
}

#[derive(Deserialize)]
struct SocketQuery {
    token: String,
}

/// `GET /v1/chat/conversations/:id/ws?token=...`: the visitor's WebSocket.
pub async fn socket(req: Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    super::require_websocket(&req)?;
    validate_client_id("conversation", id)?;
    let query: SocketQuery = req.query().map_err(|_| ApiError::new(ErrorCode::Unauthorized, "a visitor token is required (?token=)"))?;
    let claims = verify_token(env, &query.token)?;
    if let Admitted::TooMany(refusal) = admit(env, &req, PublicRoute::ChatSocket, &claims.site, &claims.visitor_id).await? {
        return Ok(refusal);
    }
    require_known(env, id, &claims.site).await?;
    let call = ConversationCall::Connect { who: who(&claims), conversation_id: id.to_owned() };
    protocol::conversation(env, id)?.connect(&call).await
}

/// A conversation of `site` that D1 knows, checked before its Durable Object is touched: a
/// request for a made-up id reaches no object at all.
pub async fn require_known(env: &Env, id: &str, site: &str) -> Result<(), ApiError> {
    let found: Option<String> = db(env)?
        .query("SELECT id FROM chat_conversations WHERE id = ?1 AND site = ?2", &[&id, &site])
        .first_column("id", "finding the conversation")
        .await?;
    found.map(|_| ()).ok_or_else(|| ApiError::new(ErrorCode::NotFound, "there is no such conversation"))
}

#[derive(Deserialize)]
struct CallbackBody {
    token: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    /// When to call, in the visitor's words ("tomorrow after 18:00").
    #[serde(default)]
    time_slot: Option<String>,
}

/// `POST /v1/chat/conversations/:id/callback`: the visitor left a contact (and when to call) in
/// the chat's offline form. Flags the conversation and queues the request for operators (the lead
/// itself goes to `POST /v1/leads`). Nothing is written until the token is known to own the
/// conversation: a token of another site, another visitor's token or a made-up id leaves no row.
pub async fn callback(mut req: Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    validate_client_id("conversation", id)?;
    let body: CallbackBody = http::read_json(&mut req, MAX_SESSION_BODY).await?;
    let claims = verify_token(env, &body.token)?;
    let (config, origin) = match admit(env, &req, PublicRoute::Callback, &claims.site, &claims.visitor_id).await? {
        Admitted::Yes(config, origin) => (config, origin),
        Admitted::TooMany(refusal) => return Ok(refusal),
    };
    require_access(env, &claims, id).await?;
    let region = serde_json::from_value(serde_json::Value::String(config.widget.default_region.clone()))
        .unwrap_or(floorwalker_core::base::phone::PhoneRegion::Ru);
    let CallbackContact { contact, time_slot } =
        callback_contact(body.email.as_deref(), body.phone.as_deref(), body.time_slot.as_deref(), region)?;
    require_known(env, id, &claims.site).await?;
    // The object checks access again (it holds the owner too) before its notice, which it words
    // in the conversation's language (the visitor's page), not the site's default.
    let reply = protocol::conversation(env, id)?.ask(&ConversationCall::Callback { who: who(&claims), contact: contact.clone() }).await?;
    expect_reply!(reply, ConversationReply::Done => ())?;
    db(env)?
        .query(
            "INSERT INTO chat_callbacks (site, conversation_id, contact, time_slot, requested_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (site, conversation_id) DO UPDATE SET contact = excluded.contact, time_slot = excluded.time_slot, \
             requested_at = excluded.requested_at, done_at = NULL, done_by = NULL",
            &[&claims.site, &id, &contact, &time_slot, &now_ms()],
        )
        .run("storing the callback request")
        .await?;
    with_cors(http::json(&serde_json::json!({"ok": true, "contact": contact, "time_slot": time_slot}), 200)?, &origin)
}

#[derive(Deserialize)]
struct RatingBody {
    token: String,
    score: u8,
}

/// `POST /v1/chat/conversations/:id/rating`: the visitor rates the closed conversation (1-5).
/// The first rating stands; the CRM gets it with the transcript as `conversation.rated`. A token
/// of another visitor or site, a made-up id or an open conversation changes nothing.
pub async fn rate(mut req: Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    validate_client_id("conversation", id)?;
    let body: RatingBody = http::read_json(&mut req, MAX_SESSION_BODY).await?;
    let claims = verify_token(env, &body.token)?;
    let origin = match admit(env, &req, PublicRoute::Rating, &claims.site, &claims.visitor_id).await? {
        Admitted::Yes(_, origin) => origin,
        Admitted::TooMany(refusal) => return Ok(refusal),
    };
    require_access(env, &claims, id).await?;
    let reply = protocol::conversation(env, id)?.ask(&ConversationCall::Rate { who: who(&claims), score: body.score }).await?;
    expect_reply!(reply, ConversationReply::Done => ())?;
    with_cors(http::json(&serde_json::json!({"ok": true}), 200)?, &origin)
}

/// The conversation exists and the token's bearer may use it (core's `may_access`: the same
/// site, and the same browser or verified person): 404 for an id nobody started, 403 otherwise.
pub(super) async fn require_access(env: &Env, claims: &VisitorClaims, id: &str) -> Result<(), ApiError> {
    let row = super::console::conversation_row(env, id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "there is no such conversation"))?;
    let owner = ConversationOwner { site: row.site, visitor_id: row.visitor_id, user_id: row.user_id };
    if !may_access(claims, &owner) {
        return Err(ApiError::new(ErrorCode::Forbidden, "this conversation belongs to another visitor"));
    }
    Ok(())
}

#[derive(Deserialize)]
struct TranscriptBody {
    token: String,
    email: String,
}

/// `POST /v1/chat/conversations/:id/transcript`: email me this conversation.
pub async fn transcript(mut req: Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    validate_client_id("conversation", id)?;
    let body: TranscriptBody = http::read_json(&mut req, MAX_SESSION_BODY).await?;
    let claims = verify_token(env, &body.token)?;
    let (_config, origin) = site_for_origin(env, &req, &claims.site).await?;
    let email = normalize_email(&body.email)?;
    require_known(env, id, &claims.site).await?;
    // The mail caps (per recipient, client and site per day), counted before the conversation
    // is asked, so parallel requests cannot slip past them; a request the conversation refuses
    // (another address, nothing new said) sends nothing and is taken back: the caps count mails.
    let limits = settings::load(env, &claims.site).await?.mail_limits;
    let counters = limits.counters(&claims.site, &rate_limit::client(&req), &email);
    let now = now_ms();
    if let Some(refusal) = rate_limit::check(env, &counters, now, Some(&origin)).await? {
        return Ok(refusal);
    }
    let queued = match protocol::conversation(env, id)?.ask(&ConversationCall::Transcript { who: who(&claims), email }).await {
        Ok(reply) => expect_reply!(reply, ConversationReply::TranscriptQueued { id } => id),
        Err(e) => Err(e),
    };
    let id = match queued {
        Ok(id) => id,
        Err(e) => {
            rate_limit::take_back(env, &counters, now).await?;
            return Err(e);
        }
    };
    with_cors(http::json(&serde_json::json!({"ok": true, "id": id}), 202)?, &origin)
}
