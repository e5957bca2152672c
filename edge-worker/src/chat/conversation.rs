//! The `Conversation` Durable Object: one per conversation, holding its history in SQLite and its
//! participants' WebSockets (hibernating, tagged `visitor` / `operator`). Core's
//! `conversation::Conversation` makes every decision; this object feeds it frames and carries out
//! the returned `Outcome` (replies, broadcasts, outbox rows, the SiteHub entry, the alarm).

use std::cell::RefCell;

use floorwalker_core::api::{ApiError, ErrorCode};
use floorwalker_core::auth::may_access;
use floorwalker_core::chat::{bad_frame, check_frame_size, Author, ClientFrame, ServerFrame, Side};
use floorwalker_core::chat_events::{ConversationClosed, MessageCreated, TranscriptLog, TranscriptRequested};
use floorwalker_core::config::Locale;
use floorwalker_core::context::VisitorContext;
use floorwalker_core::conversation::{
    contract, Audience, ChatPolicy, Conversation as Logic, ConversationMeta, ConversationOwner, ConversationStore, Outcome,
    TokenBucket,
};
use floorwalker_core::webhook::WebhookEvent;
use serde::{Deserialize, Serialize};
use worker::{
    durable_object, DurableObject, Env, Method, Request, Response, Result, State, WebSocket, WebSocketIncomingMessage,
    WebSocketPair,
};

use super::store::SqlStore;
use super::{outbox, Who, CONVERSATION_HEADER, WHO_HEADER};
use crate::http::{internal, now_ms};

/// What `/init` stores once, from the site config and the visitor's session.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct InitRequest {
    pub conversation_id: String,
    pub owner: ConversationOwner,
    pub visitor_label: String,
    pub locale: Locale,
    pub reply_wait_ms: u64,
    #[serde(default)]
    pub context: Option<VisitorContext>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct Settings {
    conversation_id: String,
    site: String,
    locale: Locale,
    reply_wait_ms: u64,
}

/// Kept on each WebSocket (survives hibernation).
#[derive(Serialize, Deserialize, Debug, Clone)]
struct Connection {
    id: String,
    who: Who,
    /// The `hello` was answered: broadcasts reach this connection from now on.
    joined: bool,
}

impl Connection {
    fn author(&self) -> Author {
        match &self.who {
            Who::Visitor { .. } => Author::Visitor,
            Who::Operator { name, .. } => Author::Operator { name: name.clone() },
        }
    }
}

#[derive(Deserialize)]
struct PostRequest {
    who: Who,
    client_msg_id: String,
    text: String,
}

#[derive(Deserialize)]
struct CallbackRequest {
    who: Who,
    notice: String,
}

/// Where the conversation keeps [`TranscriptLog`] (its `state` table).
const TRANSCRIPT_LOG_KEY: &str = "transcripts_sent";

#[derive(Deserialize)]
struct TranscriptRequest {
    who: Who,
    email: String,
}

pub use floorwalker_core::chat::Presence;

/// Events wait this long in the object's own outbox before being moved to D1 in one batch: the
/// rows are already durable, so this only trades a second of delay for far fewer D1 writes.
const FLUSH_DELAY_MS: u64 = 1_000;

#[durable_object]
pub struct Conversation {
    state: State,
    env: Env,
    logic: RefCell<Option<Logic<SqlStore>>>,
}

impl DurableObject for Conversation {
    fn new(state: State, env: Env) -> Self {
        if let Err(error) = SqlStore::create_tables(state.storage().sql(), "") {
            worker::console_error!("creating the conversation tables: {error}");
        }
        Conversation { state, env, logic: RefCell::new(None) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let path = req.path();
        let result = match (req.method(), path.as_str()) {
            (Method::Post, "/init") => self.init(&mut req).await,
            (Method::Get, "/ws") => self.accept(&req).await,
            (Method::Post, "/post") => self.post(&mut req).await,
            (Method::Post, "/presence") => self.presence(&mut req).await,
            (Method::Post, "/callback") => self.callback(&mut req).await,
            (Method::Post, "/transcript") => self.transcript_request(&mut req).await,
            (Method::Post, "/selfcheck") => self.selfcheck(),
            _ => Err(ApiError::new(ErrorCode::NotFound, format!("no conversation route {path}"))),
        };
        result.or_else(|e| super::error_json(&e))
    }

    async fn websocket_message(&self, ws: WebSocket, message: WebSocketIncomingMessage) -> Result<()> {
        let Ok(Some(mut connection)) = ws.deserialize_attachment::<Connection>() else {
            let _ = ws.close(Some(1011), Some("lost connection state"));
            return Ok(());
        };
        let text = match message {
            WebSocketIncomingMessage::String(text) => text,
            WebSocketIncomingMessage::Binary(bytes) => {
                send(&ws, &ServerFrame::error(bad_frame(format!("binary frames are not part of the protocol ({} bytes)", bytes.len()))));
                return Ok(());
            }
        };
        let frame = check_frame_size(text.len()).and_then(|()| serde_json::from_str::<ClientFrame>(&text).map_err(bad_frame));
        let frame = match frame {
            Ok(frame) => frame,
            Err(error) => {
                send(&ws, &ServerFrame::error(error));
                return Ok(());
            }
        };
        let is_hello = matches!(frame, ClientFrame::Hello { .. });
        let is_visitor_send = matches!(frame, ClientFrame::Send { .. }) && matches!(connection.who, Who::Visitor { .. });
        let online = if is_hello { self.refresh_presence().await } else { self.operator_online() };
        let outcome = match self.with_logic(|logic| Ok(logic.handle(&connection.author(), frame, now_ms(), online))) {
            Ok(outcome) => outcome,
            Err(error) => Outcome { reply: vec![ServerFrame::error(error)], ..Outcome::default() },
        };
        if is_hello && matches!(outcome.reply.first(), Some(ServerFrame::Welcome(_))) && !connection.joined {
            connection.joined = true;
            let _ = ws.serialize_attachment(&connection);
        }
        if is_visitor_send {
            self.save_rate_limit();
        }
        self.carry_out(outcome, Some((&ws, &connection.id))).await;
        Ok(())
    }

    async fn websocket_close(&self, ws: WebSocket, _code: usize, _reason: String, _was_clean: bool) -> Result<()> {
        let _ = ws.close(Some(1000), Some("bye"));
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> Result<()> {
        Ok(())
    }

    async fn alarm(&self) -> Result<Response> {
        let now = now_ms();
        if let Ok(store) = self.sql_store("") {
            // This is the flush `arm_flush` asked for; what it leaves is re-armed by `schedule`.
            let _ = store.delete("flush_at");
        }
        self.flush_outbox().await;
        let store_state = self.store_value::<u64>("reply_at");
        if store_state.is_some_and(|at| at <= now) {
            self.with_store(|s| s.delete("reply_at"));
        }
        if let Some(settings) = self.settings() {
            let online = self.operator_online();
            let offer = offer_text(settings.locale);
            match self.with_logic(|logic| logic.on_alarm(offer, now, online)) {
                Ok(outcome) => self.carry_out(outcome, None).await,
                Err(error) => worker::console_error!("conversation alarm: {error}"),
            }
        }
        self.schedule(None).await;
        Response::ok("")
    }
}

impl Conversation {
    fn sql_store(&self, conversation_id: &str) -> std::result::Result<SqlStore, ApiError> {
        Ok(SqlStore::open(self.state.storage().sql(), conversation_id, ""))
    }

    fn settings(&self) -> Option<Settings> {
        let store = self.sql_store("").ok()?;
        store.get::<Settings>("settings").ok().flatten()
    }

    /// Runs `f` on the conversation logic, loading it from storage after a wake-up.
    fn with_logic<T>(&self, f: impl FnOnce(&mut Logic<SqlStore>) -> std::result::Result<T, ApiError>) -> std::result::Result<T, ApiError> {
        let mut slot = self.logic.borrow_mut();
        if slot.is_none() {
            let settings = self.settings().ok_or_else(|| ApiError::new(ErrorCode::NotFound, "there is no such conversation"))?;
            let store = self.sql_store(&settings.conversation_id)?;
            let bucket: Option<TokenBucket> = store.get("bucket")?;
            let policy = ChatPolicy { reply_wait_ms: settings.reply_wait_ms, ..ChatPolicy::default() };
            let mut logic = Logic::new(settings.conversation_id.clone(), store, policy);
            if let Some(bucket) = bucket {
                logic.restore_rate_limit(bucket);
            }
            *slot = Some(logic);
        }
        let logic = slot.as_mut().ok_or_else(|| internal("loading the conversation", "no logic"))?;
        f(logic)
    }

    fn with_store<T>(&self, f: impl FnOnce(&SqlStore) -> std::result::Result<T, ApiError>) -> Option<T> {
        let result = self.with_logic(|logic| f(logic.store()));
        result.map_err(|e| worker::console_error!("conversation storage: {e}")).ok()
    }

    fn store_value<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.sql_store("").ok()?.get(key).ok().flatten()
    }

    fn operator_online(&self) -> bool {
        self.store_value::<bool>("operator_online").unwrap_or(false)
    }

    /// Asks the site's hub whether anyone is online (on each new connection, so a conversation
    /// the hub does not list yet still starts with the truth).
    async fn refresh_presence(&self) -> bool {
        let Some(settings) = self.settings() else { return false };
        let asked: std::result::Result<Presence, ApiError> = match super::hub_stub(&self.env, &settings.site) {
            Ok(stub) => super::call(&stub, Method::Get, "/online", &[], None).await,
            Err(e) => Err(e),
        };
        match asked {
            Ok(presence) => {
                if let Ok(store) = self.sql_store(&settings.conversation_id) {
                    let _ = store.put("operator_online", &presence.operator_online);
                }
                presence.operator_online
            }
            Err(error) => {
                worker::console_error!("asking the hub for presence: {error}");
                self.operator_online()
            }
        }
    }

    fn save_rate_limit(&self) {
        let _ = self.with_logic(|logic| match logic.rate_limit() {
            Some(bucket) => logic.store().put("bucket", &bucket),
            None => Ok(()),
        });
    }

    async fn init(&self, req: &mut Request) -> std::result::Result<Response, ApiError> {
        let init: InitRequest = req.json().await.map_err(|e| internal("reading /init", e))?;
        let mut store = self.sql_store(&init.conversation_id)?;
        if store.get::<Settings>("settings")?.is_some() {
            return crate::http::json(&serde_json::json!({"created": false}), 200);
        }
        let now = now_ms();
        store.set_meta(&ConversationMeta::new(init.owner.clone(), init.visitor_label.clone(), now))?;
        if let Some(context) = &init.context {
            store.put("context", context)?;
        }
        store.put(
            "settings",
            &Settings {
                conversation_id: init.conversation_id.clone(),
                site: init.owner.site.clone(),
                locale: init.locale,
                reply_wait_ms: init.reply_wait_ms,
            },
        )?;
        crate::http::json(&serde_json::json!({"created": true}), 201)
    }

    fn check_access(&self, who: &Who) -> std::result::Result<(), ApiError> {
        let meta = self.with_logic(|logic| logic.store().meta())?;
        match who.claims() {
            Some(claims) if !may_access(&claims, &meta.owner) => {
                Err(ApiError::new(ErrorCode::Forbidden, "this conversation belongs to another visitor"))
            }
            _ => Ok(()),
        }
    }

    async fn accept(&self, req: &Request) -> std::result::Result<Response, ApiError> {
        let who: Who = crate::http::header(req, WHO_HEADER)
            .and_then(|json| serde_json::from_str(&json).ok())
            .ok_or_else(|| internal("opening a socket", "no caller"))?;
        let requested = crate::http::header(req, CONVERSATION_HEADER).unwrap_or_default();
        let settings = self.settings().ok_or_else(|| ApiError::new(ErrorCode::NotFound, "there is no such conversation"))?;
        if settings.conversation_id != requested {
            return Err(ApiError::new(ErrorCode::NotFound, "there is no such conversation"));
        }
        self.check_access(&who)?;
        let pair = WebSocketPair::new().map_err(|e| internal("creating a socket", e))?;
        let tag = match who {
            Who::Visitor { .. } => "visitor",
            Who::Operator { .. } => "operator",
        };
        self.state.accept_websocket_with_tags(&pair.server, &[tag]);
        pair.server
            .serialize_attachment(&Connection { id: crate::platform::random::random_id()?, who, joined: false })
            .map_err(|e| internal("remembering a socket", e))?;
        Response::from_websocket(pair.client).map_err(|e| internal("answering the upgrade", e))
    }

    /// A message written outside a WebSocket (a CRM answering through the API).
    async fn post(&self, req: &mut Request) -> std::result::Result<Response, ApiError> {
        let post: PostRequest = req.json().await.map_err(|e| internal("reading /post", e))?;
        let author = match &post.who {
            Who::Operator { name, .. } => Author::Operator { name: name.clone() },
            Who::Visitor { .. } => return Err(ApiError::new(ErrorCode::Forbidden, "only operators post through the API")),
        };
        let online = self.operator_online();
        let frame = ClientFrame::Send { client_msg_id: post.client_msg_id, text: post.text };
        let outcome = self.with_logic(|logic| Ok(logic.handle(&author, frame, now_ms(), online)))?;
        let answer = match outcome.reply.first() {
            Some(ServerFrame::Ack { seq, .. }) => Ok(*seq),
            Some(ServerFrame::Error { error, .. }) => Err(error.clone()),
            _ => Err(internal("posting a message", "no acknowledgement")),
        };
        self.carry_out(Outcome { reply: vec![], ..outcome }, None).await;
        let seq = answer?;
        let id = self.settings().map(|s| floorwalker_core::chat::message_id(&s.conversation_id, seq)).unwrap_or_default();
        crate::http::json(&serde_json::json!({"seq": seq, "id": id}), 201)
    }

    async fn presence(&self, req: &mut Request) -> std::result::Result<Response, ApiError> {
        let presence: Presence = req.json().await.map_err(|e| internal("reading /presence", e))?;
        let before = self.operator_online();
        if let Ok(store) = self.sql_store("") {
            store.put("operator_online", &presence.operator_online)?;
        }
        if before != presence.operator_online {
            let outcome = self.with_logic(|logic| Ok(logic.presence_changed(presence.operator_online)))?;
            self.carry_out(outcome, None).await;
            if !presence.operator_online {
                // Whoever waits for an answer should not wait for nobody: the alarm offers a callback.
                self.schedule(Some(now_ms())).await;
            }
        }
        crate::http::json(&serde_json::json!({"ok": true}), 200)
    }

    async fn callback(&self, req: &mut Request) -> std::result::Result<Response, ApiError> {
        let request: CallbackRequest = req.json().await.map_err(|e| internal("reading /callback", e))?;
        self.check_access(&request.who)?;
        let outcome = self.with_logic(|logic| logic.callback_requested(&request.notice, now_ms()))?;
        self.carry_out(outcome, None).await;
        crate::http::json(&serde_json::json!({"ok": true}), 200)
    }

    async fn transcript_request(&self, req: &mut Request) -> std::result::Result<Response, ApiError> {
        let request: TranscriptRequest = req.json().await.map_err(|e| internal("reading /transcript", e))?;
        self.check_access(&request.who)?;
        let now = now_ms();
        let locale = self.settings().map(|s| s.locale).unwrap_or_default();
        let transcript = self.with_logic(|logic| logic.transcript())?;
        // The same messages to the same address once per window (core decides); the log lives in
        // the object's own storage, so it holds across hibernation and every worker instance.
        let last_seq = transcript.messages.last().map_or(0, |m| m.seq);
        let store = self.sql_store("")?;
        let mut log: TranscriptLog = store.get(TRANSCRIPT_LOG_KEY)?.unwrap_or_default();
        log.check(&request.email, last_seq, now)?;
        let site = transcript.owner.site.clone();
        // An email-only outbox event: the flush gives it the email target, the consumer renders it.
        let event = WebhookEvent::TranscriptRequested(TranscriptRequested { site, email: request.email.clone(), requested_at: now, transcript, locale });
        let id = event.message_id();
        self.with_logic(|logic| outbox::enqueue_webhook(logic.store(), &event, now))?;
        log.record(&request.email, last_seq, now);
        store.put(TRANSCRIPT_LOG_KEY, &log)?;
        self.arm_flush().await;
        self.flush_outbox().await;
        // Whatever the flush could not hand over is retried by the alarm.
        self.schedule(None).await;
        crate::http::json(&serde_json::json!({"ok": true, "id": id}), 202)
    }

    /// Runs core's store contract against this object's real SQLite storage (scratch tables).
    fn selfcheck(&self) -> std::result::Result<Response, ApiError> {
        let sql = || self.state.storage().sql();
        SqlStore::create_tables(sql(), "check_a_")?;
        SqlStore::create_tables(sql(), "check_b_")?;
        let store_rules = contract::check_store("conv-check-1", SqlStore::open(sql(), "conv-check-1", "check_a_"));
        let conversation_rules = contract::check_conversation("conv-check-2", SqlStore::open(sql(), "conv-check-2", "check_b_"));
        let ok = store_rules.is_ok() && conversation_rules.is_ok();
        crate::http::json(
            &serde_json::json!({
                "ok": ok,
                "store": store_rules.err(),
                "conversation": conversation_rules.err(),
            }),
            200,
        )
    }

    /// Carries out an outcome: the reply to the sender, broadcasts, outbox rows, hub entry, alarm.
    async fn carry_out(&self, outcome: Outcome, sender: Option<(&WebSocket, &str)>) {
        if let Some((ws, _)) = sender {
            for frame in &outcome.reply {
                send(ws, frame);
            }
        }
        if !outcome.broadcast.is_empty() {
            let sender_id = sender.map(|(_, id)| id);
            let sockets: Vec<(WebSocket, Connection)> = self
                .state
                .get_websockets()
                .into_iter()
                .filter_map(|ws| ws.deserialize_attachment::<Connection>().ok().flatten().map(|c| (ws, c)))
                .filter(|(_, c)| c.joined)
                .collect();
            for delivery in &outcome.broadcast {
                let text = match serde_json::to_string(&delivery.frame) {
                    Ok(text) => text,
                    Err(_) => continue,
                };
                for (ws, connection) in &sockets {
                    let side = match connection.who {
                        Who::Visitor { .. } => Side::Visitor,
                        Who::Operator { .. } => Side::Operator,
                    };
                    let wanted = match delivery.to {
                        Audience::Everyone => true,
                        Audience::Visitors => side == Side::Visitor,
                        Audience::Operators => side == Side::Operator,
                        Audience::AllButSender => Some(connection.id.as_str()) != sender_id,
                    };
                    if wanted {
                        let _ = ws.send_with_str(&text);
                    }
                }
            }
        }
        let now = now_ms();
        let mut events = false;
        if !outcome.stored.is_empty() || outcome.transcript.is_some() {
            let _ = self.with_logic(|logic| {
                let owner = logic.store().meta()?.owner;
                for message in &outcome.stored {
                    let event = WebhookEvent::MessageCreated(MessageCreated::new(&owner, logic.id(), message.clone()));
                    outbox::enqueue_webhook(logic.store(), &event, now)?;
                }
                if let Some(transcript) = &outcome.transcript {
                    let context: Option<VisitorContext> = logic.store().get("context")?;
                    let event = WebhookEvent::ConversationClosed(ConversationClosed {
                        site: owner.site.clone(),
                        transcript: transcript.clone(),
                        context,
                        // Filled in by the flush, which reads D1 anyway.
                        lead_ids: Vec::new(),
                    });
                    outbox::enqueue_webhook(logic.store(), &event, now)?;
                }
                Ok(())
            });
            events = true;
            // Before anything else is awaited: the alarm that flushes these events is set in the
            // same step as they were written, so a worker that stops right after the ack still
            // has them flushed.
            self.arm_flush().await;
            if outcome.transcript.is_some() {
                // A close is flushed at once: D1's row is what `POST /v1/chat/conversations` reads
                // to find the visitor's open conversation, and a visitor who writes right after
                // the close must get a new one, not the closed one. What fails is left to the alarm.
                self.flush_outbox().await;
            }
        }
        if let Some(entry) = &outcome.entry {
            if let Some(settings) = self.settings() {
                let pushed: std::result::Result<serde_json::Value, ApiError> = match super::hub_stub(&self.env, &settings.site) {
                    Ok(stub) => super::call(&stub, Method::Post, "/entry", &[], serde_json::to_string(entry).ok()).await,
                    Err(e) => Err(e),
                };
                if let Err(error) = pushed {
                    worker::console_error!("updating the hub: {error}");
                }
            }
        }
        if outcome.alarm_at.is_some() || events {
            self.schedule(outcome.alarm_at).await;
        }
    }

    /// Moves outbox rows to D1; what fails stays for the next alarm.
    async fn flush_outbox(&self) {
        let Some(store) = self.settings().and_then(|s| self.sql_store(&s.conversation_id).ok()) else { return };
        if let Err(error) = outbox::flush(&self.env, &store).await {
            worker::console_error!("flushing the chat outbox: {error}");
        }
    }

    /// Sets the alarm for a flush of events just written, with no await before the runtime call,
    /// so it is part of the same step as the writes (not after a call to the hub, where a stopped
    /// worker would leave events in the object with no alarm to flush them). The flush time is
    /// kept in storage and only moved by the alarm itself, so a stream of messages cannot keep
    /// postponing it; a pending reply check that is due sooner wins.
    async fn arm_flush(&self) {
        let Ok(store) = self.sql_store("") else { return };
        let now = now_ms();
        let flush_at = match store.get::<u64>("flush_at").ok().flatten().filter(|at| *at > now) {
            Some(at) => at,
            None => {
                let at = now + FLUSH_DELAY_MS;
                let _ = store.put("flush_at", &at);
                at
            }
        };
        let at = store.get::<u64>("reply_at").ok().flatten().map_or(flush_at, |reply| reply.min(flush_at));
        let date = worker::js_sys::Date::new(&worker::wasm_bindgen::JsValue::from_f64(at as f64));
        if let Err(error) = self.state.storage().set_alarm(worker::ScheduledTime::new(date)).await {
            worker::console_error!("setting the flush alarm: {error}");
        }
    }

    /// Sets the alarm to the earliest of: the reply check (`reply_at`, kept in storage so a later
    /// outbox flush does not lose it) and an outbox flush (or retry) if rows are still waiting.
    async fn schedule(&self, reply_at: Option<u64>) {
        let Some(store) = self.settings().and_then(|s| self.sql_store(&s.conversation_id).ok()) else { return };
        if let Some(at) = reply_at {
            let keep = store.get::<u64>("reply_at").ok().flatten().map_or(at, |old| old.min(at));
            let _ = store.put("reply_at", &keep);
        }
        let reply = store.get::<u64>("reply_at").ok().flatten();
        // Pending events: flush soon; if the alarm is already due sooner (an earlier batch), keep it.
        let current = self.state.storage().get_alarm().await.ok().flatten().map(|at| at as u64);
        let retry = store.pending_events(1).ok().filter(|rows| !rows.is_empty()).map(|_| {
            let soon = now_ms() + FLUSH_DELAY_MS;
            current.filter(|at| *at > now_ms()).map_or(soon, |at| at.min(soon))
        });
        let at = match (reply, retry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(at) = at {
            let date = worker::js_sys::Date::new(&worker::wasm_bindgen::JsValue::from_f64(at as f64));
            if let Err(error) = self.state.storage().set_alarm(worker::ScheduledTime::new(date)).await {
                worker::console_error!("setting the conversation alarm: {error}");
            }
        }
    }
}

fn send(ws: &WebSocket, frame: &ServerFrame) {
    if let Ok(text) = serde_json::to_string(frame) {
        let _ = ws.send_with_str(&text);
    }
}

/// The notice the alarm posts when nobody answered in time.
pub fn offer_text(locale: Locale) -> &'static str {
    match locale {
        Locale::Ru => "Похоже, сейчас никто не может ответить. Оставьте email или телефон — мы свяжемся с вами, как только освободимся.",
        Locale::En => "Sorry, nobody can answer right now. Leave your email or phone and we will get back to you as soon as we can.",
    }
}
