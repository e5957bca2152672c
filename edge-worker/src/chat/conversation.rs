//! The `Conversation` Durable Object: one per conversation, holding its history in SQLite and its
//! participants' WebSockets (hibernating, tagged `visitor` / `operator`). Core's
//! `conversation::Conversation` makes every decision; this object feeds it frames and carries out
//! the returned `Outcome` (replies, broadcasts, outbox rows, the SiteHub entry, the alarm). Its
//! calls are `protocol::ConversationCall`; what it stores is named in `store::state`.
//!
//! The message path awaits nothing but its own storage: the SiteHub hears of the list line
//! through core's `HubFeed` (at once when the hub heard nothing from this conversation for a
//! second, else from the alarm within that second, never awaited by a message), what the object
//! reads of its own state is kept in [`Memo`], and the alarm is only ever moved earlier.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use floorwalker_core::access::accounts::{Revocation, SESSION_ENDED_CLOSE_CODE};
use floorwalker_core::access::auth::may_access;
use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::base::locale::Locale;
use floorwalker_core::chat::attachment::{conversation_prefix, Attachment};
use floorwalker_core::chat::conversation::{
    contract, Audience, ChatPolicy, Conversation as Logic, ConversationMeta, Outcome, TokenBucket,
};
use floorwalker_core::chat::conversation::hub_feed::{HubFeed, HUB_FEED_INTERVAL_MS};
use floorwalker_core::chat::conversation::store::ConversationStore;
use floorwalker_core::chat::hub::ConversationEntry;
use floorwalker_core::chat::protocol::{
    bad_frame, check_frame_size, Author, ClientFrame, ServerFrame, Side, SitePresence,
};
use floorwalker_core::outbound::chat_events::{
    ConversationClosed, MessageCreated, MessageSubscribers, TranscriptLog, TranscriptRequested,
};
use floorwalker_core::outbound::webhook::WebhookEvent;
use floorwalker_core::visitor::context::VisitorContext;
use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State, WebSocket, WebSocketIncomingMessage, WebSocketPair};

use super::protocol::{self, expect_reply, ConversationCall, ConversationReply, ConversationSetup, HubCall, HubReply, PostedMessage, StoreCheck};
use super::store::{state, ConversationSettings as Settings, SqlStore, StateKey};
use super::{outbox, Who};
use crate::http::{internal, now_ms};
use crate::platform::tally::{self, Tally};

/// Kept on each WebSocket (survives hibernation).
#[derive(Serialize, Deserialize, Debug, Clone)]
struct Connection {
    id: String,
    who: Who,
    /// The `hello` was answered: broadcasts reach this connection from now on.
    joined: bool,
    /// Its session was revoked: it is closing and nothing it sends counts.
    #[serde(default)]
    revoked: bool,
}

impl Connection {
    fn author(&self) -> Author {
        self.who.author()
    }
}

/// Events wait this long in the object's own outbox before being moved to D1 in one batch: the
/// rows are already durable, so this only trades a second of delay for far fewer D1 writes.
const FLUSH_DELAY_MS: u64 = 1_000;
/// The close code of the sockets of an erased conversation (application range 4000-4999).
const ERASED_CLOSE_CODE: u16 = 4410;

/// What the object knows of its own state between events, read once and written through (it is
/// its storage's only writer); reset by the init call, a purge and an erasure. The meta, the last
/// message and the read markers are the store's (`store::SqlStore`).
#[derive(Default)]
struct Memo {
    settings: Option<Settings>,
    operator_online: Option<bool>,
    /// `Some(None)`: no reply check pending.
    reply_at: Option<Option<u64>>,
    /// The alarm as last set or seen (`Some(None)`: none).
    alarm: Option<Option<u64>>,
    /// Whether events wait in the outbox.
    outbox_pending: Option<bool>,
    /// Events written so far: a flush that ran while more were written does not say "empty".
    enqueued: u64,
    subscribers: Option<MessageSubscribers>,
    feed: HubFeed,
    /// When the [`FeedTimer`] waiting to send the feed's waiting entry will do so. One well past
    /// that time is taken for dead (its promise dropped by the runtime without a word) and
    /// replaced.
    feed_timer: Option<u64>,
}

#[durable_object]
pub struct Conversation {
    state: State,
    env: Env,
    logic: RefCell<Option<Logic<SqlStore>>>,
    /// The init call created the tables (remembered once seen; never true for a random id).
    initialised: Cell<bool>,
    /// Shared with the [`FeedTimer`], which outlives the event that started it.
    memo: Rc<RefCell<Memo>>,
    /// The alarm handler is running: what it leaves waiting for the hub is the alarm's to carry,
    /// as workerd does not run an alarm's `waitUntil` work after the handler returns.
    alarm_running: Cell<bool>,
}

impl DurableObject for Conversation {
    /// Creates nothing: only the init call writes, so an object reached with an id that was never
    /// set up (a stranger's random id) leaves no storage behind.
    fn new(state: State, env: Env) -> Self {
        Conversation { state, env, logic: RefCell::new(None), initialised: Cell::new(false), memo: Rc::default(), alarm_running: Cell::new(false) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let call = match protocol::read_call::<ConversationCall>(&mut req).await {
            Ok(call) => call,
            Err(error) => return protocol::answer::<ConversationReply>(Err(error)),
        };
        let reply = match call {
            ConversationCall::Connect { who, conversation_id } => return protocol::answer_upgrade(self.accept(who, &conversation_id)),
            ConversationCall::Init(setup) => self.init(*setup).await,
            ConversationCall::Post { who, client_msg_id, text } => self.post(&who, client_msg_id, text).await,
            ConversationCall::Presence(presence) => self.presence(presence).await,
            ConversationCall::Attach { who, client_msg_id, attachment } => self.attach(&who, &client_msg_id, attachment).await,
            ConversationCall::Callback { who, contact } => self.callback(&who, &contact).await,
            ConversationCall::Rate { who, score } => self.rate(&who, score).await,
            ConversationCall::Transcript { who, email } => self.transcript_request(&who, &email).await,
            ConversationCall::SelfCheck => self.selfcheck().await,
            ConversationCall::Purge => self.purge().await,
            ConversationCall::Revoke(revocation) => Ok(self.revoke(&revocation)),
            ConversationCall::Export => self.export(),
            ConversationCall::Erase => self.erase().await,
            ConversationCall::Context { context, visitor_label } => self.context(*context, visitor_label).await,
            ConversationCall::Assign(assignee) => self.assign(assignee).await,
        };
        protocol::answer(reply)
    }

    async fn websocket_message(&self, ws: WebSocket, message: WebSocketIncomingMessage) -> Result<()> {
        tally::count(Tally::ChatFrame);
        let Ok(Some(mut connection)) = ws.deserialize_attachment::<Connection>() else {
            let _ = ws.close(Some(1011), Some("lost connection state"));
            return Ok(());
        };
        if connection.revoked {
            return Ok(());
        }
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
            // Unrecorded, the socket still works until the object hibernates; then it hears no
            // broadcasts until its next hello.
            if let Err(error) = ws.serialize_attachment(&connection) {
                worker::console_error!("remembering that a socket joined: {error}");
            }
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
        if !self.initialised() {
            return Response::ok("");
        }
        tally::count(Tally::ConversationAlarm);
        self.alarm_running.set(true);
        let rang = self.rang().await;
        self.alarm_running.set(false);
        rang
    }
}

impl Conversation {
    /// The alarm's work: flush the outbox, send the hub its waiting line, let core decide (a
    /// close for silence, a callback offer), set the next alarm.
    async fn rang(&self) -> Result<Response> {
        let now = now_ms();
        // The alarm that rang is spent; whatever is left is set again by `schedule` below.
        self.memo.borrow_mut().alarm = Some(None);
        if self.outbox_pending() {
            self.flush_outbox().await;
        }
        if self.reply_at().is_some_and(|at| at <= now) {
            self.set_reply_at(None);
        }
        if let Some(settings) = self.settings() {
            // The line that waited for its second goes first: carried out after the alarm's own
            // outcome, it would still be waiting there, and the alarm would be set again for it.
            self.feed_hub(&settings.site).await;
            let online = self.operator_online();
            let offer = offer_text(settings.locale);
            match self.with_logic(|logic| logic.on_alarm(offer, now, online)) {
                Ok(outcome) => self.carry_out(outcome, None).await,
                Err(error) => worker::console_error!("conversation alarm: {error}"),
            }
        }
        self.schedule().await;
        Response::ok("")
    }
}

impl Conversation {
    fn sql_store(&self, conversation_id: &str) -> SqlStore {
        SqlStore::open(self.state.storage().sql(), conversation_id, "")
    }

    fn settings(&self) -> Option<Settings> {
        if let Some(settings) = &self.memo.borrow().settings {
            return Some(settings.clone());
        }
        let settings = self.store_value(state::SETTINGS)?;
        self.memo.borrow_mut().settings = Some(settings.clone());
        Some(settings)
    }

    /// Whether the init call set this object up; until then nothing may be read or written.
    fn initialised(&self) -> bool {
        if !self.initialised.get() {
            let exists = SqlStore::tables_exist(&self.state.storage().sql(), "");
            self.initialised.set(exists.map_err(|e| worker::console_error!("conversation storage: {e}")).unwrap_or(false));
        }
        self.initialised.get()
    }

    /// Runs `f` on the conversation logic, loading it from storage after a wake-up.
    fn with_logic<T>(&self, f: impl FnOnce(&mut Logic<SqlStore>) -> std::result::Result<T, ApiError>) -> std::result::Result<T, ApiError> {
        let mut slot = self.logic.borrow_mut();
        if slot.is_none() {
            let settings = self.settings().ok_or_else(|| ApiError::new(ErrorCode::NotFound, "there is no such conversation"))?;
            let store = self.sql_store(&settings.conversation_id);
            let bucket: Option<TokenBucket> = store.get(state::RATE_LIMIT)?;
            let policy = ChatPolicy { reply_wait_ms: settings.reply_wait_ms, idle_close_ms: settings.idle_close_ms, ..ChatPolicy::default() };
            let mut logic = Logic::new(settings.conversation_id.clone(), store, policy);
            if let Some(bucket) = bucket {
                logic.restore_rate_limit(bucket);
            }
            *slot = Some(logic);
        }
        let logic = slot.as_mut().ok_or_else(|| internal("loading the conversation", "no logic"))?;
        f(logic)
    }

    /// A stored value; a failed read is logged and reads as absent, as does everything in an
    /// object that was never set up.
    fn store_value<T: serde::de::DeserializeOwned>(&self, key: StateKey<T>) -> Option<T> {
        if !self.initialised() {
            return None;
        }
        self.sql_store("").get(key).map_err(|e| worker::console_error!("conversation storage: {e}")).ok().flatten()
    }

    fn operator_online(&self) -> bool {
        if let Some(online) = self.memo.borrow().operator_online {
            return online;
        }
        let online = self.store_value(state::OPERATOR_ONLINE).unwrap_or(false);
        if self.initialised() {
            self.memo.borrow_mut().operator_online = Some(online);
        }
        online
    }

    fn set_operator_online(&self, online: bool) -> std::result::Result<(), ApiError> {
        if self.memo.borrow().operator_online == Some(online) {
            return Ok(());
        }
        self.sql_store("").put(state::OPERATOR_ONLINE, &online)?;
        self.memo.borrow_mut().operator_online = Some(online);
        Ok(())
    }

    /// When the alarm must check that the visitor got an answer (kept so that a reschedule after
    /// a flush does not lose it).
    fn reply_at(&self) -> Option<u64> {
        if let Some(at) = self.memo.borrow().reply_at {
            return at;
        }
        let at = self.store_value(state::REPLY_AT);
        if self.initialised() {
            self.memo.borrow_mut().reply_at = Some(at);
        }
        at
    }

    /// Unrecorded, an alarm already set still rings; only a later reschedule forgets the check.
    fn set_reply_at(&self, at: Option<u64>) {
        if self.reply_at() == at {
            return;
        }
        let store = self.sql_store("");
        let written = match at {
            Some(at) => store.put(state::REPLY_AT, &at),
            None => store.delete(state::REPLY_AT),
        };
        log_write("storing the reply check", written);
        self.memo.borrow_mut().reply_at = Some(at);
    }

    /// Keeps the reply check at `at`, or earlier if one is already due sooner.
    fn check_reply_by(&self, at: u64) {
        self.set_reply_at(Some(self.reply_at().map_or(at, |old| old.min(at))));
    }

    /// Whether events wait in the outbox (read once per instance, then known).
    fn outbox_pending(&self) -> bool {
        if let Some(pending) = self.memo.borrow().outbox_pending {
            return pending;
        }
        let Some(store) = self.settings().map(|s| self.sql_store(&s.conversation_id)) else { return false };
        // Unreadable: a flush finds out.
        let pending = store.has_pending_events().map_err(|e| worker::console_error!("conversation outbox: {e}")).unwrap_or(true);
        self.memo.borrow_mut().outbox_pending = Some(pending);
        pending
    }

    /// Asks the site's hub whether anyone is online (on each new connection, so a conversation
    /// the hub does not list yet still starts with the truth).
    async fn refresh_presence(&self) -> bool {
        let Some(settings) = self.settings() else { return false };
        let asked = match protocol::hub(&self.env, &settings.site) {
            Ok(hub) => hub.ask(&HubCall::Online).await.and_then(|reply| expect_reply!(reply, HubReply::Presence(p) => p)),
            Err(e) => Err(e),
        };
        match asked {
            Ok(presence) => {
                log_write("storing presence", self.set_operator_online(presence.operator_online));
                presence.operator_online
            }
            Err(error) => {
                worker::console_error!("asking the hub for presence: {error}");
                self.operator_online()
            }
        }
    }

    /// A lost write only loosens the limit until the next message; the message itself stands.
    fn save_rate_limit(&self) {
        let saved = self.with_logic(|logic| match logic.rate_limit() {
            Some(bucket) => logic.store().put(state::RATE_LIMIT, &bucket),
            None => Ok(()),
        });
        log_write("storing the rate limit", saved);
    }

    async fn init(&self, init: ConversationSetup) -> std::result::Result<ConversationReply, ApiError> {
        SqlStore::create_tables(self.state.storage().sql(), "")?;
        self.initialised.set(true);
        let mut store = self.sql_store(&init.conversation_id);
        if store.get(state::SETTINGS)?.is_some() {
            return Ok(ConversationReply::Initialised { created: false });
        }
        *self.memo.borrow_mut() = Memo::default();
        let now = now_ms();
        store.set_meta(&ConversationMeta::new(init.owner.clone(), init.visitor_label.clone(), now))?;
        if let Some(context) = &init.context {
            store.put(state::CONTEXT, context)?;
        }
        store.put(
            state::SETTINGS,
            &Settings {
                conversation_id: init.conversation_id.clone(),
                site: init.owner.site.clone(),
                locale: init.locale,
                reply_wait_ms: init.reply_wait_ms,
                idle_close_ms: init.idle_close_ms,
            },
        )?;
        // The one alarm a conversation nobody writes in gets: its close for silence.
        self.schedule().await;
        Ok(ConversationReply::Initialised { created: true })
    }

    /// Erases everything this object stores (the retention cron, long after the close): its
    /// sockets are closed, its alarm cancelled, its tables dropped.
    async fn purge(&self) -> std::result::Result<ConversationReply, ApiError> {
        if !self.initialised() {
            return Ok(ConversationReply::Done);
        }
        self.delete_files().await?;
        for ws in self.state.get_websockets() {
            let _ = ws.close(Some(1000), Some("conversation erased"));
        }
        let storage = self.state.storage();
        storage.delete_alarm().await.map_err(|e| internal("cancelling the alarm", e))?;
        storage.delete_all().await.map_err(|e| internal("erasing the conversation", e))?;
        *self.logic.borrow_mut() = None;
        *self.memo.borrow_mut() = Memo::default();
        self.initialised.set(false);
        Ok(ConversationReply::Done)
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

    fn accept(&self, who: Who, requested: &str) -> std::result::Result<Response, ApiError> {
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
            .serialize_attachment(&Connection { id: crate::platform::random::random_id()?, who, joined: false, revoked: false })
            .map_err(|e| internal("remembering a socket", e))?;
        Response::from_websocket(pair.client).map_err(|e| internal("answering the upgrade", e))
    }

    /// Closes the operator sockets a revoked session or operator had here. The attachment is
    /// marked first, so nothing reaches the socket, and nothing it sends counts, while it closes.
    fn revoke(&self, revocation: &Revocation) -> ConversationReply {
        for ws in self.state.get_websockets_with_tag("operator") {
            let Ok(Some(mut connection)) = ws.deserialize_attachment::<Connection>() else { continue };
            let Who::Operator { operator_id, session_id, .. } = &connection.who else { continue };
            if revocation.covers(operator_id, session_id.as_deref()) {
                connection.joined = false;
                connection.revoked = true;
                let _ = ws.serialize_attachment(&connection);
                let _ = ws.close(Some(SESSION_ENDED_CLOSE_CODE), Some("session ended"));
            }
        }
        ConversationReply::Done
    }

    /// A message written outside a WebSocket (a CRM answering through the API).
    async fn post(&self, who: &Who, client_msg_id: String, text: String) -> std::result::Result<ConversationReply, ApiError> {
        let author = match who {
            Who::Operator { name, .. } => Author::Operator { name: name.clone() },
            Who::Visitor { .. } => return Err(ApiError::new(ErrorCode::Forbidden, "only operators post through the API")),
        };
        let online = self.operator_online();
        let frame = ClientFrame::Send { client_msg_id, text };
        let outcome = self.with_logic(|logic| Ok(logic.handle(&author, frame, now_ms(), online)))?;
        let answer = match outcome.reply.first() {
            Some(ServerFrame::Ack { seq, .. }) => Ok(*seq),
            Some(ServerFrame::Error { error, .. }) => Err(error.clone()),
            _ => Err(internal("posting a message", "no acknowledgement")),
        };
        self.carry_out(Outcome { reply: vec![], ..outcome }, None).await;
        let seq = answer?;
        let id = self.settings().map(|s| floorwalker_core::chat::protocol::message_id(&s.conversation_id, seq)).unwrap_or_default();
        Ok(ConversationReply::Posted(PostedMessage { seq, id }))
    }

    /// A file from either side (its bytes in R2 already): a message everyone connected sees.
    async fn attach(&self, who: &Who, client_msg_id: &str, attachment: Attachment) -> std::result::Result<ConversationReply, ApiError> {
        self.check_access(who)?;
        let online = self.operator_online();
        let outcome = self.with_logic(|logic| logic.attach(&who.author(), client_msg_id, attachment, now_ms(), online))?;
        let seq = match (outcome.stored.first(), outcome.reply.first()) {
            (Some(message), _) => message.seq,
            (None, Some(ServerFrame::Ack { seq, .. })) => *seq,
            _ => return Err(internal("attaching a file", "no message")),
        };
        self.carry_out(Outcome { reply: vec![], ..outcome }, None).await;
        let message = self.with_logic(|logic| logic.store().messages_after(seq.saturating_sub(1)))?.into_iter().next();
        let message = message.ok_or_else(|| internal("attaching a file", "the message is gone"))?;
        Ok(ConversationReply::Attached { message })
    }

    /// Deletes the conversation's files (R2), before its storage goes: a failure leaves the
    /// conversation for the next retention run rather than files nobody can reach.
    async fn delete_files(&self) -> std::result::Result<(), ApiError> {
        let Some(settings) = self.settings() else { return Ok(()) };
        let prefix = conversation_prefix(&settings.site, &settings.conversation_id);
        crate::platform::files::delete_prefix(&self.env, &prefix).await.map(|_| ())
    }

    async fn presence(&self, presence: SitePresence) -> std::result::Result<ConversationReply, ApiError> {
        if self.settings().is_none() {
            return Err(ApiError::new(ErrorCode::NotFound, "there is no such conversation"));
        }
        let before = self.operator_online();
        self.set_operator_online(presence.operator_online)?;
        if before != presence.operator_online {
            let outcome = self.with_logic(|logic| Ok(logic.presence_changed(presence.operator_online)))?;
            self.carry_out(outcome, None).await;
            if !presence.operator_online {
                // Whoever waits for an answer should not wait for nobody: the alarm offers a callback.
                let now = now_ms();
                self.check_reply_by(now);
                self.alarm_by(now).await;
            }
        }
        Ok(ConversationReply::Done)
    }

    async fn callback(&self, who: &Who, contact: &str) -> std::result::Result<ConversationReply, ApiError> {
        self.check_access(who)?;
        let locale = self.settings().map(|s| s.locale).unwrap_or_default();
        let notice = floorwalker_core::chat::panel::callback_notice(contact, locale);
        let outcome = self.with_logic(|logic| logic.callback_requested(&notice, now_ms()))?;
        self.carry_out(outcome, None).await;
        Ok(ConversationReply::Done)
    }

    async fn rate(&self, who: &Who, score: u8) -> std::result::Result<ConversationReply, ApiError> {
        self.check_access(who)?;
        let outcome = self.with_logic(|logic| logic.rate(&who.author(), score, now_ms()))?;
        self.carry_out(outcome, None).await;
        Ok(ConversationReply::Done)
    }

    async fn assign(&self, assignee: floorwalker_core::chat::hub::Assignee) -> std::result::Result<ConversationReply, ApiError> {
        if self.settings().is_none() {
            return Err(ApiError::new(ErrorCode::NotFound, "there is no such conversation"));
        }
        let outcome = self.with_logic(|logic| logic.assign(assignee, now_ms()))?;
        self.carry_out(outcome, None).await;
        Ok(ConversationReply::Done)
    }

    /// The visitor's newer context: kept (the close's `conversation.closed` carries it) and shown
    /// to the operators' sockets now.
    async fn context(&self, context: VisitorContext, visitor_label: Option<String>) -> std::result::Result<ConversationReply, ApiError> {
        if self.settings().is_none() {
            return Err(ApiError::new(ErrorCode::NotFound, "there is no such conversation"));
        }
        self.sql_store("").put(state::CONTEXT, &context)?;
        let outcome = self.with_logic(|logic| logic.context_changed(context, visitor_label))?;
        self.carry_out(outcome, None).await;
        Ok(ConversationReply::Done)
    }

    async fn transcript_request(&self, who: &Who, email: &str) -> std::result::Result<ConversationReply, ApiError> {
        self.check_access(who)?;
        let now = now_ms();
        let locale = self.settings().map(|s| s.locale).unwrap_or_default();
        let transcript = self.with_logic(|logic| logic.transcript())?;
        // The same messages to the same address once per window (core decides); the log lives in
        // the object's own storage, so it holds across hibernation and every worker instance.
        let last_seq = transcript.messages.last().map_or(0, |m| m.seq);
        let store = self.sql_store("");
        let mut log: TranscriptLog = store.get(state::TRANSCRIPT_LOG)?.unwrap_or_default();
        log.check(email, last_seq, now)?;
        let site = transcript.owner.site.clone();
        // An email-only outbox event: the flush gives it the email target, the consumer renders it.
        let event = WebhookEvent::TranscriptRequested(TranscriptRequested { site, email: email.to_owned(), requested_at: now, transcript, locale });
        let id = event.message_id();
        self.with_logic(|logic| outbox::enqueue_webhook(logic.store(), &event, now))?;
        self.enqueued();
        log.record(email, last_seq, now);
        store.put(state::TRANSCRIPT_LOG, &log)?;
        self.alarm_by(now + FLUSH_DELAY_MS).await;
        self.flush_outbox().await;
        // Whatever the flush could not hand over is retried by the alarm.
        self.schedule().await;
        Ok(ConversationReply::TranscriptQueued { id })
    }

    fn export(&self) -> std::result::Result<ConversationReply, ApiError> {
        if self.settings().is_none() {
            return Ok(ConversationReply::Exported(None));
        }
        Ok(ConversationReply::Exported(Some(self.with_logic(|logic| logic.transcript())?)))
    }

    /// A privacy erasure: storage emptied (pending events too: a `message.created` not yet
    /// flushed must not carry the erased text out), the alarm cancelled, every socket closed
    /// (a console that has the conversation open reconnects to "no such conversation").
    async fn erase(&self) -> std::result::Result<ConversationReply, ApiError> {
        self.delete_files().await?;
        self.logic.borrow_mut().take();
        // Nothing of it may reach the hub again, nor be flushed.
        *self.memo.borrow_mut() = Memo::default();
        let messages = self.sql_store("").erase_all()?;
        if let Err(error) = self.state.storage().delete_alarm().await {
            worker::console_error!("cancelling an erased conversation's alarm: {error}");
        }
        for ws in self.state.get_websockets() {
            let _ = ws.close(Some(ERASED_CLOSE_CODE), Some("the conversation was erased"));
        }
        Ok(ConversationReply::Erased { messages })
    }

    /// Runs core's store contract against this object's real SQLite storage (scratch tables),
    /// then erases them: a self-check leaves no object with storage behind.
    async fn selfcheck(&self) -> std::result::Result<ConversationReply, ApiError> {
        let sql = || self.state.storage().sql();
        SqlStore::create_tables(sql(), "check_a_")?;
        SqlStore::create_tables(sql(), "check_b_")?;
        SqlStore::create_tables(sql(), "check_c_")?;
        // The tables themselves, then the same with the copy the object keeps in memory.
        let store_rules = contract::check_store("conv-check-1", SqlStore::open(sql(), "conv-check-1", "check_a_").uncached())
            .and_then(|()| contract::check_store("conv-check-3", SqlStore::open(sql(), "conv-check-3", "check_c_")));
        let conversation_rules = contract::check_conversation("conv-check-2", SqlStore::open(sql(), "conv-check-2", "check_b_"));
        let ok = store_rules.is_ok() && conversation_rules.is_ok();
        self.state.storage().delete_all().await.map_err(|e| internal("erasing the self-check", e))?;
        Ok(ConversationReply::StoreCheck(StoreCheck { ok, store: store_rules.err(), conversation: conversation_rules.err() }))
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
        // The earliest the alarm must ring for what this outcome left to do.
        let mut wake: Option<u64> = None;
        if !outcome.stored.is_empty() || outcome.waiting.is_some() || outcome.rated.is_some() || outcome.transcript.is_some() {
            let subscribers = self.memo.borrow().subscribers;
            let enqueued = self.with_logic(|logic| {
                let owner = logic.store().meta()?.owner;
                let mut written = false;
                for message in &outcome.stored {
                    // Counted only when the answer decides: a site known to have no subscribers.
                    let records = MessageSubscribers::records(subscribers, now, &message.author, false)
                        || (matches!(message.author, Author::Operator { .. })
                            && logic.store().count_by_after(Side::Operator, 0)? == 1
                            && MessageSubscribers::records(subscribers, now, &message.author, true));
                    if !records {
                        continue;
                    }
                    let event = WebhookEvent::MessageCreated(MessageCreated::new(&owner, logic.id(), message.clone()));
                    outbox::enqueue_webhook(logic.store(), &event, now)?;
                    written = true;
                }
                if let Some(waiting) = &outcome.waiting {
                    outbox::enqueue_webhook(logic.store(), &WebhookEvent::ConversationWaiting(waiting.clone()), now)?;
                    written = true;
                }
                if let Some(rated) = &outcome.rated {
                    outbox::enqueue_webhook(logic.store(), &WebhookEvent::ConversationRated(rated.clone()), now)?;
                    written = true;
                }
                if let Some(transcript) = &outcome.transcript {
                    let context: Option<VisitorContext> = logic.store().get(state::CONTEXT)?;
                    let event = WebhookEvent::ConversationClosed(ConversationClosed {
                        site: owner.site.clone(),
                        transcript: transcript.clone(),
                        context,
                        // Filled in by the flush, which reads D1 anyway.
                        lead_ids: Vec::new(),
                    });
                    outbox::enqueue_webhook(logic.store(), &event, now)?;
                    written = true;
                }
                Ok(written)
            });
            // The messages are stored and acknowledged already: a caller could not undo them,
            // and a retry is deduplicated without new events, so all that is left is the log
            // (and a flush, which finds out what was written).
            let written = enqueued.unwrap_or_else(|error| {
                worker::console_error!("recording chat events: {error}");
                true
            });
            if written {
                self.enqueued();
                wake = Some(now + FLUSH_DELAY_MS);
            }
        }
        if let Some(at) = outcome.alarm_at {
            self.check_reply_by(at);
            wake = Some(wake.map_or(at, |w| w.min(at)));
        }
        let push = outcome.entry.and_then(|entry| self.memo.borrow_mut().feed.changed(entry, now));
        let feed_wake = if self.alarm_running.get() { self.memo.borrow().feed.due_at() } else { self.memo.borrow().feed.backstop_at() };
        if let Some(at) = feed_wake {
            wake = Some(wake.map_or(at, |w| w.min(at)));
        }
        // Before anything else is awaited: the alarm that flushes these events is set in the
        // same step as they were written, so a worker that stops right after the ack still has
        // them flushed.
        if let Some(at) = wake {
            self.alarm_by(at).await;
        }
        if let Some(entry) = push {
            self.push_entry(entry);
        }
        if !self.alarm_running.get() {
            self.start_feed_timer();
        }
        if outcome.transcript.is_some() {
            // A close is flushed at once: D1's row is what `POST /v1/chat/conversations` reads
            // to find the visitor's open conversation, and a visitor who writes right after
            // the close must get a new one, not the closed one. What fails is left to the alarm.
            self.flush_outbox().await;
        }
    }

    fn enqueued(&self) {
        let mut memo = self.memo.borrow_mut();
        memo.outbox_pending = Some(true);
        memo.enqueued += 1;
    }

    /// Sends a list line to the hub without holding up the caller (the message path): the hub is
    /// one object for the whole site, and a late line is replaced by a newer revision anyway.
    fn push_entry(&self, entry: ConversationEntry) {
        let Some(settings) = self.settings() else { return };
        let (env, memo) = (self.env.clone(), self.memo.clone());
        self.state.wait_until(async move {
            if !tell_hub(&env, &settings.site, entry, &memo).await {
                // Waiting again: a timer of its own retries it after the interval.
                FeedTimer(memo).run(&env, &settings.site).await;
            }
        });
    }

    /// Sends the feed's waiting entry when it is due, from memory, unless a timer already waits
    /// for it (the alarm is only its backstop, see `HubFeed::backstop_at`).
    fn start_feed_timer(&self) {
        {
            let mut memo = self.memo.borrow_mut();
            let Some(due) = memo.feed.due_at() else { return };
            // A timer that wakes later than this line is due (it waits the pace for a cosmetic
            // line, and this one asks something of an operator) does not cover it: a second timer
            // does (whichever wakes first sends the line, the other finds nothing due).
            if memo.feed_timer.is_some_and(|at| at <= due && now_ms() <= at.saturating_add(HUB_FEED_INTERVAL_MS)) {
                return;
            }
            memo.feed_timer = Some(due);
        }
        let timer = FeedTimer(self.memo.clone());
        let Some(settings) = self.settings() else { return };
        let env = self.env.clone();
        self.state.wait_until(async move { timer.run(&env, &settings.site).await });
    }

    /// The alarm's part of the hub feed: the line that waited for its second, or, in an instance
    /// that has sent nothing yet, the current line (one kept by an instance that stopped is lost
    /// with it; the hub ignores a revision it has). A conversation never listed stays unlisted.
    async fn feed_hub(&self, site: &str) {
        let now = now_ms();
        let fresh = self.memo.borrow().feed.fresh();
        let entry = if fresh {
            let current = self.with_logic(|logic| logic.entry()).map_err(|e| worker::console_error!("the list line: {e}")).ok();
            current.filter(|entry| entry.revision > 0).and_then(|entry| self.memo.borrow_mut().feed.changed(entry, now))
        } else {
            self.memo.borrow_mut().feed.take_due(now)
        };
        if let Some(entry) = entry {
            tell_hub(&self.env, site, entry, &self.memo).await;
        }
    }

    /// Moves outbox rows to D1; what fails stays for the next alarm.
    async fn flush_outbox(&self) {
        let Some(store) = self.settings().map(|s| self.sql_store(&s.conversation_id)) else { return };
        let before = self.memo.borrow().enqueued;
        let flushed = outbox::flush(&self.env, &store).await;
        let mut memo = self.memo.borrow_mut();
        match flushed {
            Ok(flushed) => {
                // Events written while the flush waited on D1 are still there.
                memo.outbox_pending = Some(flushed.remaining || memo.enqueued != before);
                if flushed.subscribers.is_some() {
                    memo.subscribers = flushed.subscribers;
                }
            }
            Err(error) => {
                worker::console_error!("flushing the chat outbox: {error}");
                memo.outbox_pending = Some(true);
            }
        }
    }

    /// Makes sure the alarm rings by `at`. It is only ever moved earlier: an alarm that rings
    /// sooner than needed costs one wake-up, which reschedules what is left (`schedule`), while
    /// reading the alarm or moving it on every message costs a storage call and a commit each.
    async fn alarm_by(&self, at: u64) {
        let known = self.memo.borrow().alarm;
        let current = match known {
            Some(current) => current,
            None => {
                let current = self.state.storage().get_alarm().await.ok().flatten().map(|at| at as u64);
                self.memo.borrow_mut().alarm = Some(current);
                current
            }
        };
        // An alarm whose time has passed has not rung (its handler forgets it first thing), and a
        // local alarm has been seen never to ring: it is not trusted to carry this too, but set
        // again, to ring now; its handler does what is due and schedules the rest.
        let now = now_ms();
        let missed = current.is_some_and(|set| set < now);
        if current.is_some_and(|set| set <= at) && !missed {
            return;
        }
        let at = if missed { at.min(now) } else { at };
        let date = worker::js_sys::Date::new(&worker::wasm_bindgen::JsValue::from_f64(at as f64));
        tally::count(Tally::ConversationAlarmSet);
        match self.state.storage().set_alarm(worker::ScheduledTime::new(date)).await {
            Ok(()) => self.memo.borrow_mut().alarm = Some(Some(at)),
            Err(error) => worker::console_error!("setting the conversation alarm: {error}"),
        }
    }

    /// Sets the alarm by the earliest of: the reply check, an outbox flush (or retry) if events
    /// are still waiting, the hub's line waiting for its second, and the close for silence while
    /// the conversation is open (the latest, so in practice the alarm only once the rest is done).
    async fn schedule(&self) {
        if self.settings().is_none() {
            return;
        }
        let retry = self.outbox_pending().then(|| now_ms() + FLUSH_DELAY_MS);
        let idle = self.with_logic(|logic| logic.idle_close_at()).map_err(|e| worker::console_error!("conversation idle: {e}")).ok().flatten();
        let feed = self.memo.borrow().feed.backstop_at();
        if let Some(at) = [self.reply_at(), retry, idle, feed].into_iter().flatten().min() {
            self.alarm_by(at).await;
        }
    }
}

/// Sends a conversation's waiting list line when it is due, and any that waits by then, until
/// none waits. Dropped (the object stopped), it lets the next event start another; the alarm
/// takes the entry in the meantime.
struct FeedTimer(Rc<RefCell<Memo>>);

impl FeedTimer {
    async fn run(&self, env: &Env, site: &str) {
        loop {
            let Some(due) = self.0.borrow().feed.due_at() else { return };
            self.0.borrow_mut().feed_timer = Some(due);
            let now = now_ms();
            if due > now {
                worker::Delay::from(std::time::Duration::from_millis(due - now)).await;
                continue;
            }
            let Some(entry) = self.0.borrow_mut().feed.take_due(now) else { return };
            // A line the hub did not take waits again (see `HubFeed::unsent`) for the next turn.
            tell_hub(env, site, entry, &self.0).await;
        }
    }
}

impl Drop for FeedTimer {
    fn drop(&mut self) {
        if let Ok(mut memo) = self.0.try_borrow_mut() {
            memo.feed_timer = None;
        }
    }
}

/// Sends a list line to the hub and keeps the pace it answers with; `false` if the hub did not
/// take it (the line then waits again, see `HubFeed::unsent`).
async fn tell_hub(env: &Env, site: &str, entry: ConversationEntry, memo: &RefCell<Memo>) -> bool {
    tally::count(Tally::HubEntry);
    let told = match protocol::hub(env, site) {
        Ok(hub) => hub.ask(&HubCall::Entry(entry.clone())).await,
        Err(error) => Err(error),
    };
    let pace_ms = match told {
        Ok(HubReply::Paced { pace_ms }) => Some(pace_ms),
        // A hub from before paces (a deploy in progress): the interval.
        Ok(HubReply::Done) => Some(0),
        Ok(other) => {
            worker::console_error!("updating the hub: {}", protocol::unexpected(&other));
            None
        }
        Err(error) => {
            worker::console_error!("updating the hub: {error}");
            None
        }
    };
    let Ok(mut memo) = memo.try_borrow_mut() else { return pace_ms.is_some() };
    match pace_ms {
        Some(pace_ms) => memo.feed.set_pace(pace_ms),
        None => memo.feed.unsent(entry),
    }
    pace_ms.is_some()
}

/// Logs a storage write that failed where nobody is waiting for its answer.
fn log_write(what: &str, written: std::result::Result<(), ApiError>) {
    if let Err(error) = written {
        worker::console_error!("{what}: {error}");
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
