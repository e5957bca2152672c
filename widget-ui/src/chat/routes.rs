//! The chat's own routes on the worker (session, conversation, callback, transcript) and its
//! first-party storage; the lead form's route is shared with the cards (`crate::net`).

use floorwalker_core::base::json::{FromJson, ToJson};
use floorwalker_core::chat::panel::StoredChat;
use floorwalker_core::json_struct;
use wasm_bindgen_futures::JsFuture;

use super::with;
use crate::net::{from_json, post, refusal, to_json, window, FormError};

fn key(site: &str) -> String {
    format!("fw:{site}:chat")
}

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

pub fn load(site: &str) -> Option<StoredChat> {
    from_json(&storage()?.get_item(&key(site)).ok()??)
}

pub fn store(site: &str, stored: &StoredChat) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(&key(site), &to_json(stored));
    }
}

/// The answer of `POST /v1/chat/session`.
pub struct Session {
    pub token: String,
    pub expires_at: u64,
    pub conversation_id: Option<String>,
    pub operator_online: bool,
}
json_struct!(read Session { token, expires_at, conversation_id } default { operator_online });

struct Started {
    conversation_id: String,
}
json_struct!(read Started { conversation_id });

/// The next step of the link (see `Chat::resume`).
pub async fn resume() -> Result<(), String> {
    let (api_base, site, visitor, need_token) =
        with(|chat| (chat.opts.api_base.clone(), chat.opts.config.site.clone(), chat.opts.visitor.clone(), !chat.token_usable()))
            .ok_or("the chat is gone")?;
    if need_token {
        let body = SessionBody { site, visitor };
        let session: Session = answer(&format!("{api_base}/v1/chat/session"), to_json(&body)).await?;
        with(|chat| chat.took_session(session));
    }
    let (has_conversation, has_pending) =
        with(|chat| (chat.conversation_id().is_some(), chat.has_pending())).ok_or("the chat is gone")?;
    if !has_conversation {
        if !has_pending {
            // Nothing to say yet: no conversation is created until the visitor writes.
            with(|chat| chat.set_link(floorwalker_core::chat::panel::Link::Idle));
            return Ok(());
        }
        let (token, context) = with(|chat| (chat.token(), chat.context())).ok_or("the chat is gone")?;
        let token = token.ok_or("no token")?;
        let body = StartBody { token, context };
        let started: Started = answer(&format!("{api_base}/v1/chat/conversations"), to_json(&body)).await?;
        with(|chat| chat.started_conversation(started.conversation_id));
    }
    with(|chat| chat.connect()).ok_or("the chat is gone")?
}

struct StartBody {
    token: String,
    context: Option<floorwalker_core::visitor::context::VisitorContext>,
}
json_struct!(write StartBody { token, context });

struct SessionBody {
    site: String,
    visitor: String,
}
json_struct!(write SessionBody { site, visitor });

/// POSTs `json` to `url` and reads the answer as a `T`. Generic only in the decoding: the request
/// is one future for every route ([`post_text`]).
async fn answer<T: FromJson>(url: &str, json: String) -> Result<T, String> {
    from_json(&post_text(url, json).await?).ok_or_else(|| format!("{url}: not the expected answer"))
}

/// POSTs `json` to `url`; the answer's body when it is a 2xx.
async fn post_text(url: &str, json: String) -> Result<String, String> {
    let response = post(url, &json).await.map_err(|e| format!("{url}: {e:?}"))?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let text = JsFuture::from(response.text().map_err(|e| format!("{e:?}"))?).await.map_err(|e| format!("{e:?}"))?;
    Ok(text.as_string().unwrap_or_default())
}

struct CallbackBody {
    token: String,
    email: Option<String>,
    phone: Option<String>,
}
json_struct!(write CallbackBody { token, email, phone });

/// `POST /v1/chat/conversations/:id/callback`: flags the conversation for operators.
pub async fn request_callback(api_base: &str, conversation: &str, token: String, email: Option<String>, phone: Option<String>) -> bool {
    let url = conversation_url(api_base, conversation, "callback");
    post(&url, &to_json(&CallbackBody { token, email, phone })).await.is_ok_and(|r| r.ok())
}

struct TranscriptBody {
    token: String,
    email: String,
}
json_struct!(write TranscriptBody { token, email });

/// `POST /v1/chat/conversations/:id/transcript`: the conversation by email to `email` (used for
/// nothing else: the route takes no more than the token and the address, so no lead is made).
pub async fn request_transcript(api_base: &str, conversation: &str, token: String, email: String) -> Result<(), FormError> {
    submit(&conversation_url(api_base, conversation, "transcript"), &TranscriptBody { token, email }).await
}

struct RatingBody {
    token: String,
    score: u8,
}
json_struct!(write RatingBody { token, score });

/// `POST /v1/chat/conversations/:id/rating`: the visitor's score (1-5) for the closed conversation.
pub async fn rate(api_base: &str, conversation: &str, token: String, score: u8) -> Result<(), FormError> {
    submit(&conversation_url(api_base, conversation, "rating"), &RatingBody { token, score }).await
}

/// Where the visitor's browser fetches a file of their conversation (an `<img src>` sends no
/// header, so the token rides in the query, as on the socket).
pub fn file_url(api_base: &str, conversation: &str, file: &str, token: &str) -> String {
    format!("{}/{}?token={}", conversation_url(api_base, conversation, "files"), js_sys::encode_uri_component(file), js_sys::encode_uri_component(token))
}

/// `POST /v1/chat/conversations/:id/files`: the visitor's file; the message that carries it comes
/// back over the socket like any other.
pub async fn upload(api_base: &str, conversation: &str, token: &str, file: &web_sys::File, client_msg_id: &str) -> Result<(), FormError> {
    let url = format!(
        "{}?token={}&name={}&client_msg_id={}",
        conversation_url(api_base, conversation, "files"),
        js_sys::encode_uri_component(token),
        js_sys::encode_uri_component(&file.name()),
        js_sys::encode_uri_component(client_msg_id)
    );
    let response = crate::net::post_body(&url, file, "application/octet-stream").await.map_err(|_| FormError::Unavailable)?;
    if response.ok() {
        return Ok(());
    }
    Err(refusal(response).await)
}

/// `{api_base}/v1/chat/conversations/:id/{action}`.
fn conversation_url(api_base: &str, conversation: &str, action: &str) -> String {
    format!("{api_base}/v1/chat/conversations/{}/{action}", js_sys::encode_uri_component(conversation))
}

/// POSTs a visitor's form: `Ok` on a 2xx, else the server's refusal (its code), or
/// [`FormError::Unavailable`] when it could not be asked.
async fn submit(url: &str, body: &impl ToJson) -> Result<(), FormError> {
    let response = post(url, &to_json(body)).await.map_err(|_| FormError::Unavailable)?;
    if response.ok() {
        return Ok(());
    }
    Err(refusal(response).await)
}
