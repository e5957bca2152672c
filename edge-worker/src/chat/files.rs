//! Files in the chat (core's `chat::attachment`), both ways: the bytes go to R2
//! (`platform::files`), the message that carries them through the Conversation object, like any
//! message. Only the conversation's parties fetch them: its visitor (their token) and the
//! operators of its site (their session).
//!
//! - `POST /v1/chat/conversations/:id/files?token=…&name=…&client_msg_id=…` (widget) and
//!   `POST /v1/console/conversations/:id/files?name=…&client_msg_id=…` (console): the body is
//!   the file. What it is comes from its bytes; the name only labels it.
//! - `GET /v1/chat/conversations/:id/files/:file?token=…` and
//!   `GET /v1/console/conversations/:id/files/:file`: the file, as its kind, `nosniff`, in a
//!   sandbox, never cached by shared caches.

use floorwalker_core::access::public_limits::PublicRoute;
use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::base::ids::validate_client_id;
use floorwalker_core::chat::attachment::{content_disposition, object_key, too_large, Attachment, MAX_ATTACHMENT_BYTES};
use serde::Deserialize;
use worker::{Env, Request, Response};

use super::console::own_conversation;
use super::protocol::{self, expect_reply, ConversationCall, ConversationReply};
use super::session::{authenticate, require_own_origin};
use super::visitor::{admit, require_access, verify_token, who, with_cors, Admitted};
use super::Who;
use crate::http::{self, internal, now_ms};
use crate::platform::{files, random::random_id};
use crate::rate_limit;

#[derive(Deserialize)]
struct UploadQuery {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    name: String,
    client_msg_id: String,
}

/// `POST /v1/chat/conversations/:id/files`: the visitor's file.
pub async fn visitor_upload(mut req: Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    validate_client_id("conversation", id)?;
    let query: UploadQuery = req.query().map_err(|_| ApiError::new(ErrorCode::MissingField, "client_msg_id is required"))?;
    let claims = verify_token(env, query.token.as_deref().unwrap_or_default())?;
    let origin = match admit(env, &req, PublicRoute::ChatUpload, &claims.site, &claims.visitor_id).await? {
        Admitted::Yes(_, origin) => origin,
        Admitted::TooMany(refusal) => return Ok(refusal),
    };
    require_access(env, &claims, id).await?;
    let bytes = read_file(&mut req).await?;
    let message = store(env, &claims.site, id, who(&claims), &query, bytes).await?;
    with_cors(http::json(&message, 201)?, &origin)
}

/// `POST /v1/console/conversations/:id/files`: an operator's file.
pub async fn operator_upload(mut req: Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    require_own_origin(&req)?;
    let signed = authenticate(&req, env).await?;
    own_conversation(env, &signed.operator, id).await?;
    let query: UploadQuery = req.query().map_err(|_| ApiError::new(ErrorCode::MissingField, "client_msg_id is required"))?;
    let bytes = read_file(&mut req).await?;
    let message = store(env, &signed.operator.site, id, signed.who(), &query, bytes).await?;
    http::json(&message, 201)
}

/// The body, bounded before and after reading it.
async fn read_file(req: &mut Request) -> Result<Vec<u8>, ApiError> {
    http::read_bytes(req, MAX_ATTACHMENT_BYTES).await.map_err(|e| match e.code {
        ErrorCode::PayloadTooLarge => too_large(MAX_ATTACHMENT_BYTES + 1),
        _ => e,
    })
}

/// Stores the bytes under a new random id, then asks the conversation for the message. A refusal
/// (closed, too many files, too fast) or a retry of an upload already taken deletes what was just
/// stored, so nothing is kept that no message names.
async fn store(env: &Env, site: &str, id: &str, who: Who, query: &UploadQuery, bytes: Vec<u8>) -> Result<floorwalker_core::chat::protocol::ChatMessage, ApiError> {
    validate_client_id("client_msg_id", &query.client_msg_id)?;
    let attachment = Attachment::from_upload(random_id()?, &query.name, &bytes)?;
    let key = object_key(site, id, &attachment.id);
    files::put(env, &key, bytes, attachment.kind.content_type(), &content_disposition(&attachment)).await?;
    let call = ConversationCall::Attach { who, client_msg_id: query.client_msg_id.clone(), attachment: attachment.clone() };
    let answer = match protocol::conversation(env, id)?.ask(&call).await {
        Ok(reply) => expect_reply!(reply, ConversationReply::Attached { message } => message),
        Err(error) => Err(error),
    };
    let kept = matches!(&answer, Ok(message) if message.attachment.as_ref().is_some_and(|a| a.id == attachment.id));
    if !kept {
        if let Err(error) = files::delete(env, &key).await {
            worker::console_error!("deleting an unused upload {key}: {error}");
        }
    }
    answer
}

#[derive(Deserialize)]
struct DownloadQuery {
    #[serde(default)]
    token: String,
}

/// `GET /v1/chat/conversations/:id/files/:file`: for the visitor's own conversation only. Loaded
/// by `<img>` too, which sends no Origin: the token alone says who asks.
pub async fn visitor_download(req: Request, env: &Env, id: &str, file: &str) -> Result<Response, ApiError> {
    validate_client_id("conversation", id)?;
    let query: DownloadQuery = req.query().map_err(|_| ApiError::new(ErrorCode::Unauthorized, "a visitor token is required (?token=)"))?;
    let claims = verify_token(env, &query.token)?;
    let counters = PublicRoute::ChatFile.counters(&claims.site, &rate_limit::client(&req), Some(&claims.visitor_id));
    if let Some(refusal) = rate_limit::check(env, &counters, now_ms(), None).await? {
        return Ok(refusal);
    }
    require_access(env, &claims, id).await?;
    serve(env, &claims.site, id, file).await
}

/// `GET /v1/console/conversations/:id/files/:file`: for the operators of the conversation's site.
pub async fn operator_download(req: Request, env: &Env, id: &str, file: &str) -> Result<Response, ApiError> {
    let operator = authenticate(&req, env).await?.operator;
    own_conversation(env, &operator, id).await?;
    serve(env, &operator.site, id, file).await
}

async fn serve(env: &Env, site: &str, id: &str, file: &str) -> Result<Response, ApiError> {
    validate_client_id("file", file)?;
    let stored = files::get(env, &object_key(site, id, file)).await?.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "there is no such file"))?;
    let mut response = Response::from_bytes(stored.bytes).map_err(|e| internal("building the response", e))?;
    let headers = response.headers_mut();
    http::set(headers, "content-type", stored.content_type.as_deref().unwrap_or("application/octet-stream"))?;
    http::set(headers, "content-disposition", stored.content_disposition.as_deref().unwrap_or("attachment"))?;
    http::set(headers, "x-content-type-options", "nosniff")?;
    // Whatever a file holds, it runs nothing and reaches nothing when opened on its own.
    http::set(headers, "content-security-policy", "default-src 'none'; img-src 'self'; sandbox")?;
    http::set(headers, "cache-control", "private, max-age=3600")?;
    http::set(headers, "referrer-policy", "no-referrer")?;
    // The shop's page shows the visitor's pictures: a cross-origin `<img>` must be allowed to.
    http::set(headers, "cross-origin-resource-policy", "cross-origin")?;
    Ok(response)
}
