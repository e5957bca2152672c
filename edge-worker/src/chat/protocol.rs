//! The calls between the worker and its Durable Objects, defined once for both sides. A caller
//! (the worker, or one object calling another) sends a [`ConversationCall`] or a [`HubCall`]
//! through an [`ObjectStub`]; the object's `fetch` decodes the same enum, matches on it and answers
//! with the matching reply enum. An `ApiError` the object returns travels as the error body a
//! client would get and comes back as the same `ApiError`, so the status and code a client sees do
//! not depend on which side of the boundary failed.
//!
//! On the wire a call is JSON: the body of a POST, or, for a WebSocket upgrade (which has to be a
//! real GET), the `call` query parameter. Both sides read it with serde_json from the text, never
//! through JS values: a JS number cannot hold every u64 (2^53 + 1 would come back rounded, or as
//! an error).

use std::marker::PhantomData;

use floorwalker_core::access::accounts::Revocation;
use floorwalker_core::base::error::{ApiError, ErrorBody};
use floorwalker_core::base::locale::Locale;
use floorwalker_core::chat::attachment::Attachment;
use floorwalker_core::chat::conversation::{ConversationOwner, Transcript};
use floorwalker_core::chat::hub::{Assignee, ConnectionStatus, ConversationEntry, HubNotification};
use floorwalker_core::chat::protocol::{ChatMessage, SitePresence};
use floorwalker_core::visitor::context::VisitorContext;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use worker::{Env, Headers, Method, Request, RequestInit, Response, Stub};

use super::Who;
use crate::http::internal;

/// What the worker asks of a `Conversation` object. Each variant names the reply it gets.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(tag = "call", content = "args", rename_all = "snake_case")]
pub enum ConversationCall {
    /// Store the conversation's settings once → [`ConversationReply::Initialised`].
    Init(Box<ConversationSetup>),
    /// A participant's WebSocket → the upgrade answer itself (see [`ObjectStub::connect`]).
    Connect { who: Who, conversation_id: String },
    /// An operator's message from outside a socket (a CRM through the API) → [`ConversationReply::Posted`].
    Post { who: Who, client_msg_id: String, text: String },
    /// From the site's hub: whether anyone is online changed → [`ConversationReply::Done`].
    Presence(SitePresence),
    /// A file either side uploaded, its bytes stored already (`chat::files`) →
    /// [`ConversationReply::Attached`].
    Attach { who: Who, client_msg_id: String, attachment: Attachment },
    /// The visitor left a contact in the offline form → [`ConversationReply::Done`].
    Callback { who: Who, contact: String },
    /// The visitor rated the closed conversation → [`ConversationReply::Done`].
    Rate { who: Who, score: u8 },
    /// The visitor wants the transcript by email → [`ConversationReply::TranscriptQueued`].
    Transcript { who: Who, email: String },
    /// Core's store contract against this object's real SQLite → [`ConversationReply::StoreCheck`].
    SelfCheck,
    /// The retention cron: erase everything the object stores (its conversation was closed long
    /// enough ago) → [`ConversationReply::Done`].
    Purge,
    /// Close the operator sockets the revocation covers (from the site's hub) → [`ConversationReply::Done`].
    Revoke(Revocation),
    /// Every message, for a privacy export → [`ConversationReply::Exported`].
    Export,
    /// The visitor moved on (`chat::live`): their new context for the operators, and the contact
    /// they gave since, if any, to name them by → [`ConversationReply::Done`].
    Context { context: Box<VisitorContext>, visitor_label: Option<String> },
    /// An operator took the conversation or handed it on (`console`) → [`ConversationReply::Done`].
    Assign(Assignee),
    /// Forget everything (messages, state, pending events) and close every socket; a conversation
    /// that holds nothing answers the same → [`ConversationReply::Erased`].
    Erase,
}

/// A `Conversation` object's answers.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(tag = "reply", content = "value", rename_all = "snake_case")]
pub enum ConversationReply {
    /// `created` is false when the conversation was already set up (the call is idempotent).
    Initialised { created: bool },
    Posted(PostedMessage),
    /// The message that carries the file; on a retry, the first upload's (its `attachment.id`
    /// then differs from the one just stored, which the caller deletes).
    Attached { message: ChatMessage },
    Done,
    /// `id` is the stable id of the transcript event.
    TranscriptQueued { id: String },
    StoreCheck(StoreCheck),
    /// `None` when the object holds no conversation (never set up, or erased).
    Exported(Option<Transcript>),
    /// How many messages were deleted.
    Erased { messages: u64 },
}

/// What a conversation stores once, from the site config and the visitor's session.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ConversationSetup {
    pub conversation_id: String,
    pub owner: ConversationOwner,
    pub visitor_label: String,
    pub locale: Locale,
    pub reply_wait_ms: u64,
    /// The site's silence before the conversation closes itself.
    #[serde(default = "default_idle_close_ms")]
    pub idle_close_ms: u64,
    #[serde(default)]
    pub context: Option<VisitorContext>,
}

fn default_idle_close_ms() -> u64 {
    floorwalker_core::chat::conversation::DEFAULT_IDLE_CLOSE_MS
}

/// A message posted through the API: also the body `POST /v1/conversations/:id/messages` answers.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PostedMessage {
    pub seq: u64,
    pub id: String,
}

/// Core's store contract run against real Durable Object storage: also the body
/// `POST /v1/admin/chat/store-check` answers (`store`/`conversation` name a broken rule).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct StoreCheck {
    pub ok: bool,
    pub store: Option<String>,
    pub conversation: Option<String>,
}

/// What the worker (and a Conversation) asks of a site's `SiteHub` object.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(tag = "call", content = "args", rename_all = "snake_case")]
pub enum HubCall {
    /// An operator's console socket → the upgrade answer itself (see [`ObjectStub::connect`]).
    /// `site` is the hub's own (it records the site's presence changes under it).
    Connect {
        who: Who,
        status: ConnectionStatus,
        #[serde(default)]
        site: String,
    },
    /// A conversation's line in the live list changed → [`HubReply::Paced`].
    Entry(ConversationEntry),
    /// Is any operator online? → [`HubReply::Presence`].
    Online,
    /// The live list as a console's first frame → [`HubReply::Snapshot`].
    Snapshot,
    /// Tell every console → [`HubReply::Done`].
    Broadcast(HubNotification),
    /// A session or an operator lost access: close the console sockets it covers, and tell
    /// `conversations` (the site's open ones, from D1) and every open one in the list to close
    /// its operator sockets → [`HubReply::Done`].
    Revoke { revocation: Revocation, conversations: Vec<String> },
    /// Drop conversations erased with their visitor from the list → [`HubReply::Done`].
    Forget { conversation_ids: Vec<String> },
}

/// A `SiteHub` object's answers.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(tag = "reply", content = "value", rename_all = "snake_case")]
pub enum HubReply {
    Presence(SitePresence),
    Snapshot(HubNotification),
    Done,
    /// A list line was taken: the pace the conversation is to keep (core's `HubPace`).
    Paced { pace_ms: u64 },
}

/// A call enum and the reply enum its object answers with.
pub trait Call: Serialize + DeserializeOwned {
    type Reply: Serialize + DeserializeOwned + std::fmt::Debug;
}

impl Call for ConversationCall {
    type Reply = ConversationReply;
}

impl Call for HubCall {
    type Reply = HubReply;
}

/// A stub that only takes the calls of its object's protocol.
pub struct ObjectStub<C> {
    stub: Stub,
    protocol: PhantomData<fn(C)>,
}

pub fn conversation(env: &Env, conversation_id: &str) -> Result<ObjectStub<ConversationCall>, ApiError> {
    let stub = env
        .durable_object("CONVERSATIONS")
        .and_then(|ns| ns.id_from_name(conversation_id).and_then(|id| id.get_stub()))
        .map_err(|e| internal("reaching the conversation", e))?;
    Ok(ObjectStub { stub, protocol: PhantomData })
}

pub fn hub(env: &Env, site: &str) -> Result<ObjectStub<HubCall>, ApiError> {
    let stub = env
        .durable_object("SITE_HUBS")
        .and_then(|ns| ns.id_from_name(site).and_then(|id| id.get_stub()))
        .map_err(|e| internal("reaching the site hub", e))?;
    Ok(ObjectStub { stub, protocol: PhantomData })
}

/// The host of an internal request is never resolved; only the request reaches the object.
const OBJECT_URL: &str = "https://do.internal/";
/// The query parameter that carries an upgrade's call.
const CALL_PARAM: &str = "call";

impl<C: Call> ObjectStub<C> {
    /// Sends `call` and decodes the object's reply; an error the object answered comes back as is.
    pub async fn ask(&self, call: &C) -> Result<C::Reply, ApiError> {
        let body = encode(call)?;
        let headers = Headers::new();
        headers.set("content-type", "application/json").map_err(|e| internal("building a call", e))?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_headers(headers).with_body(Some(body.into()));
        let request = Request::new_with_init(OBJECT_URL, &init).map_err(|e| internal("building a call", e))?;
        let mut response = self.stub.fetch_with_request(request).await.map_err(|e| internal("calling a durable object", e))?;
        let text = response.text().await.map_err(|e| internal("reading a durable object's answer", e))?;
        decode_reply(response.status_code(), &text)
    }

    /// Forwards a WebSocket upgrade with `call` (who is connecting, to what); the object's 101 is
    /// the answer to hand back to the client.
    pub async fn connect(&self, call: &C) -> Result<Response, ApiError> {
        let mut url = worker::Url::parse(OBJECT_URL).map_err(|e| internal("building a call", e))?;
        url.query_pairs_mut().append_pair(CALL_PARAM, &encode(call)?);
        let headers = Headers::new();
        headers.set("upgrade", "websocket").map_err(|e| internal("building a call", e))?;
        let mut init = RequestInit::new();
        init.with_method(Method::Get).with_headers(headers);
        let request = Request::new_with_init(url.as_str(), &init).map_err(|e| internal("building a call", e))?;
        let mut response = self.stub.fetch_with_request(request).await.map_err(|e| internal("opening the socket", e))?;
        if response.status_code() == 101 {
            return Ok(response);
        }
        let text = response.text().await.unwrap_or_default();
        Err(decode_error(response.status_code(), &text).unwrap_or_else(|| internal("opening the socket", text)))
    }
}

/// The object's side: the call a request carries (an upgrade's in its query, any other's body).
pub async fn read_call<C: Call>(req: &mut Request) -> Result<C, ApiError> {
    let text = if req.method() == Method::Get {
        let url = req.url().map_err(|e| internal("reading a call", e))?;
        let call = url.query_pairs().find(|(name, _)| name == CALL_PARAM).map(|(_, value)| value.into_owned());
        call.ok_or_else(|| internal("reading a call", "an upgrade without its call"))?
    } else {
        req.text().await.map_err(|e| internal("reading a call", e))?
    };
    decode(&text)
}

/// The object's answer: its reply as JSON, or its error as the error body a client would get.
pub fn answer<R: Serialize>(reply: Result<R, ApiError>) -> worker::Result<Response> {
    match reply.and_then(|reply| crate::http::json(&reply, 200)) {
        Ok(response) => Ok(response),
        Err(error) => crate::http::error_response(&error),
    }
}

/// The answer to an upgrade: the socket's 101, or its error as the error body.
pub fn answer_upgrade(upgrade: Result<Response, ApiError>) -> worker::Result<Response> {
    upgrade.or_else(|error| crate::http::error_response(&error))
}

/// A reply that is not the one its call gets: the two sides disagree, a bug on one of them.
pub fn unexpected(reply: &impl std::fmt::Debug) -> ApiError {
    internal("calling a durable object", format!("unexpected reply {reply:?}"))
}

/// The reply an object gave when it is the expected variant, else an internal error naming it:
/// `let posted = expect_reply!(stub.ask(&call).await?, ConversationReply::Posted(p) => p)?;`
macro_rules! expect_reply {
    ($reply:expr, $pattern:pat => $value:expr) => {
        match $reply {
            $pattern => Ok($value),
            other => Err($crate::chat::protocol::unexpected(&other)),
        }
    };
}
pub(crate) use expect_reply;

fn encode(call: &impl Serialize) -> Result<String, ApiError> {
    serde_json::to_string(call).map_err(|e| internal("encoding a call", e))
}

fn decode<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| internal("decoding a call", e))
}

fn decode_error(status: u16, text: &str) -> Option<ApiError> {
    (status >= 400).then(|| serde_json::from_str::<ErrorBody>(text).ok().map(|body| body.error)).flatten()
}

/// An object's answer: its reply, or the `ApiError` it answered with.
fn decode_reply<R: DeserializeOwned>(status: u16, text: &str) -> Result<R, ApiError> {
    if status >= 400 {
        return Err(decode_error(status, text).unwrap_or_else(|| internal(&format!("durable object answered {status}"), text)));
    }
    serde_json::from_str(text).map_err(|e| internal("decoding a durable object's answer", e))
}
