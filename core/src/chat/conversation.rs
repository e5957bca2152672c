//! The `Conversation` object's decisions, without the object: sequence numbers, idempotent sends,
//! resume, read markers, typing, rate limiting, closing and the "nobody answered" fallback.
//!
//! Storage is behind [`store::ConversationStore`] (the Durable Object implements it over its
//! SQLite database; [`store::InMemoryStore`] is the reference used by the tests). Every call returns an
//! [`Outcome`]: the frames to send and to whom, what was stored (for webhooks), the list entry for
//! the SiteHub and when to wake up next. The adapter only moves those values around.

use serde::{Deserialize, Serialize};

use crate::base::error::{ApiError, ErrorCode};
use crate::base::ids::validate_client_id;
use crate::chat::attachment::{Attachment, MAX_ATTACHMENTS_PER_CONVERSATION};
use crate::visitor::context::VisitorContext;
use crate::chat::hub::{preview, Assignee, ConversationEntry};
use crate::chat::protocol::{
    message_id, normalize_message_text, Author, ChatMessage, ClientFrame, ConversationStatus, MessageAction,
    ServerFrame, Side, Welcome, CHAT_PROTOCOL_VERSION,
};

/// Most messages a `welcome` carries; the rest follow as `message` frames so that no single
/// WebSocket message approaches the platform's 1 MiB limit (50 × 2000 chars × 4 bytes ≈ 400 KB).
pub const WELCOME_HISTORY_LIMIT: usize = 50;
/// An operator's "typing" is re-broadcast at most this often while it stays on.
pub const TYPING_REFRESH_MS: u64 = 3_000;
/// Clients drop a typing indicator not refreshed for this long (the server sends no "off" when a
/// connection just dies).
pub const TYPING_TTL_MS: u64 = 8_000;

/// Who a conversation belongs to. A visitor token reaches it if the visitor id matches, or if both
/// carry the same verified user id (the same customer on another device).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ConversationOwner {
    pub site: String,
    pub visitor_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// The conversation's own row: everything that is not a message or a read marker.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ConversationMeta {
    pub owner: ConversationOwner,
    /// How operators see the visitor ("Visitor from Moscow", a verified name, an email).
    pub visitor_label: String,
    pub status: ConversationStatus,
    pub opened_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<u64>,
    pub updated_at: u64,
    /// When the oldest visitor message that no operator has answered yet was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting_reply_since: Option<u64>,
    #[serde(default)]
    pub callback_offered: bool,
    #[serde(default)]
    pub callback_requested: bool,
    /// Grows with every change the SiteHub shows, so it can drop list updates that arrive late.
    pub revision: u64,
    /// Who took the conversation (see [`Conversation::assign`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<Assignee>,
    /// How the visitor rated the conversation once it closed (see [`Conversation::rate`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    /// Files sent in the conversation, both sides (see [`Conversation::attach`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attachments: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A visitor's rating of a closed conversation (customer satisfaction, CSAT).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rating {
    /// 1 (bad) to 5 (excellent), [`RATING_SCALE`].
    pub score: u8,
    pub at: u64,
}

/// The scores a rating may take.
pub const RATING_SCALE: std::ops::RangeInclusive<u8> = 1..=5;
/// A conversation can be rated for this long after it closed: the panel asks at the close, and a
/// visitor who comes back the next day may still answer.
pub const RATING_WINDOW_MS: u64 = 24 * 60 * 60 * 1000;

impl ConversationMeta {
    pub fn new(owner: ConversationOwner, visitor_label: impl Into<String>, now: u64) -> ConversationMeta {
        ConversationMeta {
            owner,
            visitor_label: visitor_label.into(),
            status: ConversationStatus::Open,
            opened_at: now,
            closed_at: None,
            updated_at: now,
            awaiting_reply_since: None,
            callback_offered: false,
            callback_requested: false,
            revision: 0,
            assignee: None,
            rating: None,
            attachments: 0,
        }
    }
}

/// Which connections a frame goes to. The sender's connection is one of "everyone".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Everyone,
    Visitors,
    Operators,
    /// Everyone but the connection that sent the request (its other tabs included).
    AllButSender,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressedFrame {
    pub to: Audience,
    pub frame: ServerFrame,
}

/// What one request produced. The adapter sends `reply` to the requesting connection first, then
/// `broadcast`, in order, to connections that have said `hello`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    pub reply: Vec<ServerFrame>,
    pub broadcast: Vec<AddressedFrame>,
    /// Newly stored messages, for webhooks.
    pub stored: Vec<ChatMessage>,
    /// Set when the conversation was closed by this request: deliver it to the CRM.
    pub transcript: Option<Transcript>,
    /// The conversation's new list entry, for the SiteHub (only when something it shows changed).
    pub entry: Option<ConversationEntry>,
    /// When the adapter should call [`Conversation::on_alarm`] (the Durable Object alarm).
    pub alarm_at: Option<u64>,
    /// Set when a visitor is found waiting unanswered: tell whoever should pick it up.
    pub waiting: Option<ConversationWaiting>,
    /// Set when the visitor rated the closed conversation: deliver it to the CRM.
    pub rated: Option<ConversationRated>,
}

impl Outcome {
    fn reply(frame: ServerFrame) -> Outcome {
        Outcome { reply: vec![frame], ..Outcome::default() }
    }
}

/// A closed conversation, as sent to the CRM.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    pub conversation_id: String,
    pub owner: ConversationOwner,
    pub visitor_label: String,
    pub opened_at: u64,
    pub closed_at: u64,
    pub messages: Vec<ChatMessage>,
}

/// A token bucket: up to `burst` messages at once, then one more every `60_000 / per_minute` ms.
/// Integer-only and clock-injected so it is exact in tests; serialisable so the object can keep it
/// in a WebSocket attachment across hibernation.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenBucket {
    burst: u32,
    interval_ms: u64,
    tokens: u32,
    refilled_at: u64,
}

impl TokenBucket {
    /// A full bucket. `per_minute` of 0 is treated as 1 (a limiter that never refills would lock a
    /// visitor out for good).
    pub fn new(burst: u32, per_minute: u32, now: u64) -> TokenBucket {
        let interval_ms = 60_000 / u64::from(per_minute.max(1));
        TokenBucket { burst: burst.max(1), interval_ms: interval_ms.max(1), tokens: burst.max(1), refilled_at: now }
    }

    /// Takes a token, or says in how many ms the next one is due.
    pub fn try_take(&mut self, now: u64) -> Result<(), u64> {
        // A clock that went backwards refills nothing rather than underflowing.
        let elapsed = now.saturating_sub(self.refilled_at);
        let earned = elapsed / self.interval_ms;
        if earned > 0 {
            let tokens = u64::from(self.tokens).saturating_add(earned).min(u64::from(self.burst));
            self.tokens = u32::try_from(tokens).unwrap_or(self.burst);
            self.refilled_at = if self.tokens == self.burst { now } else { self.refilled_at + earned * self.interval_ms };
        }
        if self.tokens > 0 {
            self.tokens -= 1;
            Ok(())
        } else {
            Err(self.interval_ms - now.saturating_sub(self.refilled_at).min(self.interval_ms))
        }
    }
}

/// The tunables of one conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatPolicy {
    /// Visitor messages allowed at once.
    pub visitor_burst: u32,
    /// Sustained visitor messages per minute.
    pub visitor_per_minute: u32,
    /// How long a visitor waits for an operator before the widget offers a callback instead.
    pub reply_wait_ms: u64,
    /// Silence (no message from either side) after which the conversation closes by itself, and
    /// how long a closed one then stays in the operators' live list.
    pub idle_close_ms: u64,
}

/// The default silence before a conversation closes itself: a live chat that nobody has written
/// in for half an hour is over; the visitor's next message starts a new one.
pub const DEFAULT_IDLE_CLOSE_MS: u64 = 30 * 60 * 1000;

impl Default for ChatPolicy {
    fn default() -> Self {
        // A person typing fast sends a handful of short lines in a row, rarely more than one every
        // few seconds for long; a script does. 90 s is about when people give up on a chat.
        ChatPolicy { visitor_burst: 10, visitor_per_minute: 20, reply_wait_ms: 90_000, idle_close_ms: DEFAULT_IDLE_CLOSE_MS }
    }
}

/// When an open conversation closes for silence: `idle_close_ms` after its last activity (a
/// message from either side, a callback request, a notice). `None` once it is closed.
pub fn idle_close_at(meta: &ConversationMeta, idle_close_ms: u64) -> Option<u64> {
    (meta.status == ConversationStatus::Open).then(|| meta.updated_at.saturating_add(idle_close_ms))
}

/// What the alarm should do about a visitor waiting for an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyCheck {
    /// Nobody is waiting, or the offer was already made.
    Nothing,
    /// Someone is waiting; look again at this time.
    CheckAt(u64),
    /// Stop the silence: offer to call or email back.
    OfferCallback,
}

/// The "no operator answered within N seconds" decision. With no operator online the offer comes
/// at once: waiting for nobody is exactly the silence this exists to prevent.
pub fn reply_check(
    first_unanswered_at: Option<u64>,
    now: u64,
    operator_answered: bool,
    operator_online: bool,
    already_offered: bool,
    wait_ms: u64,
) -> ReplyCheck {
    let Some(since) = first_unanswered_at else { return ReplyCheck::Nothing };
    if operator_answered || already_offered {
        return ReplyCheck::Nothing;
    }
    let due = since.saturating_add(wait_ms);
    if !operator_online || now >= due {
        ReplyCheck::OfferCallback
    } else {
        ReplyCheck::CheckAt(due)
    }
}

/// `conversation.waiting`: a visitor wrote and nobody has answered, after the site's reply wait or
/// at once when no operator is online: the moment the visitor is offered a callback. Once per
/// conversation. It is for whoever should pick the chat up now: the Telegram preset sends it as an
/// alert; a generic receiver can page someone.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ConversationWaiting {
    pub site: String,
    pub conversation_id: String,
    pub visitor_id: String,
    /// How the operators' list names the visitor (a contact they gave, or "Visitor 82ea7f").
    pub visitor_label: String,
    /// When the oldest unanswered message was written (ms since the epoch).
    pub waiting_since: u64,
    /// When the wait was noticed (ms); the envelope's `timestamp`.
    pub at: u64,
    /// Whether any operator of the site was online then.
    pub operator_online: bool,
    /// The visitor's unanswered messages, oldest first (the last [`WAITING_MESSAGES`] at most).
    pub messages: Vec<ChatMessage>,
    /// As in `outbound::chat_events::MessageCreated::lead_ids` (filled in by the outbox).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lead_ids: Vec<String>,
}

impl ConversationWaiting {
    /// The alert's last line when no operator was online, in the owner's `locale` (the Telegram
    /// message and the email say it alike).
    pub fn nobody_online(&self, locale: crate::base::locale::Locale) -> Option<&'static str> {
        (!self.operator_online).then_some(match locale {
            crate::base::locale::Locale::Ru => "Никого из операторов нет в сети.",
            crate::base::locale::Locale::En => "No operator is online.",
        })
    }
}

/// Most unanswered messages a [`ConversationWaiting`] carries: enough to read the question.
pub const WAITING_MESSAGES: u64 = 5;

/// `conversation.rated`: the visitor rated the conversation after it closed, sent with its
/// transcript (the `conversation.closed` event left at the close, before the visitor could rate).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ConversationRated {
    pub site: String,
    pub conversation_id: String,
    pub visitor_id: String,
    pub rating: Rating,
    pub transcript: Transcript,
    /// As in `outbound::chat_events::MessageCreated::lead_ids` (filled in by the outbox).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lead_ids: Vec<String>,
}

/// The logic of one conversation over a store.
#[derive(Debug)]
pub struct Conversation<S> {
    id: String,
    store: S,
    policy: ChatPolicy,
    visitor_bucket: Option<TokenBucket>,
    /// When each side's "typing: on" was last broadcast; `None` when it is off. Not stored: typing
    /// is worthless after a restart.
    typing_since: [Option<u64>; 2],
}

impl<S: ConversationStore> Conversation<S> {
    pub fn new(id: impl Into<String>, store: S, policy: ChatPolicy) -> Conversation<S> {
        Conversation { id: id.into(), store, policy, visitor_bucket: None, typing_since: [None, None] }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// The limiter state, for the adapter to keep across hibernation (see [`Self::restore_rate_limit`]).
    pub fn rate_limit(&self) -> Option<TokenBucket> {
        self.visitor_bucket
    }

    pub fn restore_rate_limit(&mut self, bucket: TokenBucket) {
        self.visitor_bucket = Some(bucket);
    }

    /// One client frame from a connection speaking as `who`. Errors become an `error` frame to the
    /// sender (with the `client_msg_id` when they answer a `send`).
    pub fn handle(&mut self, who: &Author, frame: ClientFrame, now: u64, operator_online: bool) -> Outcome {
        let client_msg_id = match &frame {
            ClientFrame::Send { client_msg_id, .. } => Some(client_msg_id.clone()),
            _ => None,
        };
        let result = frame.validate().and_then(|frame| match frame {
            ClientFrame::Hello { last_seen_seq, .. } => self.hello(who, last_seen_seq, operator_online),
            ClientFrame::Send { client_msg_id, text } => self.send(who, &client_msg_id, &text, now, operator_online),
            ClientFrame::Typing { on } => self.typing(who, on, now),
            ClientFrame::Read { up_to_seq } => self.read(who, up_to_seq),
            ClientFrame::Close => self.close(who, now),
            ClientFrame::Ping => Ok(Outcome::reply(ServerFrame::Pong)),
        });
        result.unwrap_or_else(|error| Outcome::reply(ServerFrame::Error { error, client_msg_id }))
    }

    /// Resume: the welcome plus exactly the messages after `last_seen_seq`.
    pub fn hello(&mut self, who: &Author, last_seen_seq: u64, operator_online: bool) -> Result<Outcome, ApiError> {
        let side = participant(who)?;
        let meta = self.store.meta()?;
        let last_seq = self.last_seq()?;
        let reset = last_seen_seq > last_seq;
        let mut messages = self.store.messages_after(if reset { 0 } else { last_seen_seq })?;
        let rest = messages.split_off(messages.len().min(WELCOME_HISTORY_LIMIT));
        let welcome = Welcome {
            v: CHAT_PROTOCOL_VERSION,
            conversation_id: self.id.clone(),
            history: messages,
            reset,
            last_seq,
            unread: self.unread(side)?,
            other_read_up_to: self.store.read_marker(side.other())?,
            operator_online,
            status: meta.status,
        };
        let mut reply = vec![ServerFrame::Welcome(welcome)];
        reply.extend(rest.into_iter().map(ServerFrame::Message));
        Ok(Outcome { reply, ..Outcome::default() })
    }

    /// Stores a message once per `client_msg_id`; a repeat gets the original ack and nothing else.
    pub fn send(
        &mut self,
        who: &Author,
        client_msg_id: &str,
        text: &str,
        now: u64,
        operator_online: bool,
    ) -> Result<Outcome, ApiError> {
        let side = participant(who)?;
        // Idempotency first: a re-send of something stored before a close or a rate limit is still
        // the truth, and must not spend a token.
        if let Some(original) = self.store.find_by_client_msg_id(side, client_msg_id)? {
            return Ok(Outcome::reply(ServerFrame::Ack { client_msg_id: client_msg_id.to_owned(), seq: original.seq }));
        }
        let meta = self.store.meta()?;
        if meta.status == ConversationStatus::Closed {
            return Err(closed());
        }
        let text = normalize_message_text(text)?;
        self.deliver(who, side, meta, client_msg_id, text, None, now, operator_online)
    }

    /// A file from either side, stored already (the bytes are the adapter's business): a message
    /// whose text is the file's name. Idempotent by `client_msg_id` like [`Self::send`]; at most
    /// [`MAX_ATTACHMENTS_PER_CONVERSATION`] files per conversation, and a visitor's file spends
    /// a token of their message rate like a message.
    pub fn attach(&mut self, who: &Author, client_msg_id: &str, attachment: Attachment, now: u64, operator_online: bool) -> Result<Outcome, ApiError> {
        let side = participant(who)?;
        validate_client_id("client_msg_id", client_msg_id)?;
        attachment.validate()?;
        if let Some(original) = self.store.find_by_client_msg_id(side, client_msg_id)? {
            return Ok(Outcome::reply(ServerFrame::Ack { client_msg_id: client_msg_id.to_owned(), seq: original.seq }));
        }
        let mut meta = self.store.meta()?;
        if meta.status == ConversationStatus::Closed {
            return Err(closed());
        }
        if meta.attachments >= MAX_ATTACHMENTS_PER_CONVERSATION {
            return Err(ApiError::new(
                ErrorCode::TooManyFiles,
                format!("a conversation holds at most {MAX_ATTACHMENTS_PER_CONVERSATION} files"),
            ));
        }
        meta.attachments += 1;
        let text = attachment.name.clone();
        self.deliver(who, side, meta, client_msg_id, text, Some(attachment), now, operator_online)
    }

    /// Stores a participant's message (rate-limited for visitors) and says who hears of it.
    #[allow(clippy::too_many_arguments)]
    fn deliver(
        &mut self,
        who: &Author,
        side: Side,
        mut meta: ConversationMeta,
        client_msg_id: &str,
        text: String,
        attachment: Option<Attachment>,
        now: u64,
        operator_online: bool,
    ) -> Result<Outcome, ApiError> {
        if side == Side::Visitor {
            let policy = self.policy;
            let bucket = self
                .visitor_bucket
                .get_or_insert_with(|| TokenBucket::new(policy.visitor_burst, policy.visitor_per_minute, now));
            if let Err(wait_ms) = bucket.try_take(now) {
                return Err(ApiError::new(
                    ErrorCode::RateLimited,
                    format!("too many messages; try again in {} s", wait_ms.div_ceil(1000)),
                ));
            }
        }
        let message = self.append(NewMessage {
            author: who.clone(),
            text,
            at: now,
            client_msg_id: Some(client_msg_id.to_owned()),
            action: None,
            attachment,
        })?;
        // Writing means having read everything before: the sender's own unread count drops to 0.
        self.store.set_read_marker(side, message.seq)?;
        match side {
            Side::Visitor => {
                meta.awaiting_reply_since.get_or_insert(now);
            }
            Side::Operator => meta.awaiting_reply_since = None,
        }
        self.typing_since[side_index(side)] = None;
        let entry = self.touch(&mut meta, now)?;
        Ok(Outcome {
            reply: vec![ServerFrame::Ack { client_msg_id: client_msg_id.to_owned(), seq: message.seq }],
            broadcast: vec![AddressedFrame { to: Audience::Everyone, frame: ServerFrame::Message(message.clone()) }],
            stored: vec![message],
            alarm_at: self.alarm_at(&meta, now, operator_online),
            entry: Some(entry),
            ..Outcome::default()
        })
    }

    /// Typing indicators, throttled: "on" is re-broadcast at most every [`TYPING_REFRESH_MS`].
    pub fn typing(&mut self, who: &Author, on: bool, now: u64) -> Result<Outcome, ApiError> {
        let side = participant(who)?;
        if self.store.meta()?.status == ConversationStatus::Closed {
            return Ok(Outcome::default());
        }
        let since = &mut self.typing_since[side_index(side)];
        let changed = match (on, *since) {
            (true, Some(at)) if now.saturating_sub(at) < TYPING_REFRESH_MS => false,
            (true, _) => {
                *since = Some(now);
                true
            }
            (false, Some(_)) => {
                *since = None;
                true
            }
            (false, None) => false,
        };
        if !changed {
            return Ok(Outcome::default());
        }
        // The visitor's other tabs have no use for their own typing; other operators do (two
        // people answering the same question at once).
        let to = match side {
            Side::Visitor => Audience::Operators,
            Side::Operator => Audience::AllButSender,
        };
        Ok(Outcome {
            broadcast: vec![AddressedFrame { to, frame: ServerFrame::Typing { author: who.clone(), on } }],
            ..Outcome::default()
        })
    }

    /// Moves `who`'s read marker forward (never back, never past the last message).
    pub fn read(&mut self, who: &Author, up_to_seq: u64) -> Result<Outcome, ApiError> {
        let side = participant(who)?;
        let up_to_seq = up_to_seq.min(self.last_seq()?);
        if up_to_seq <= self.store.read_marker(side)? {
            return Ok(Outcome::default());
        }
        self.store.set_read_marker(side, up_to_seq)?;
        let entry = if side == Side::Operator {
            let mut meta = self.store.meta()?;
            meta.revision += 1;
            self.store.set_meta(&meta)?;
            Some(self.entry_for(&meta)?)
        } else {
            None
        };
        Ok(Outcome {
            broadcast: vec![AddressedFrame { to: Audience::AllButSender, frame: ServerFrame::Read { by: side, up_to_seq } }],
            entry,
            ..Outcome::default()
        })
    }

    /// Closes the conversation (operators only) and hands back its transcript. Closing twice is
    /// harmless: the second answer is the same `closed` frame and no second transcript.
    pub fn close(&mut self, who: &Author, now: u64) -> Result<Outcome, ApiError> {
        if participant(who)? != Side::Operator {
            return Err(ApiError::new(ErrorCode::Forbidden, "only an operator can close a conversation"));
        }
        let meta = self.store.meta()?;
        if let Some(at) = meta.closed_at {
            return Ok(Outcome::reply(ServerFrame::Closed { at }));
        }
        self.finish(meta, now)
    }

    /// Closes the conversation as an operator's close does: the same `closed` frame, transcript
    /// and list entry.
    fn finish(&mut self, mut meta: ConversationMeta, now: u64) -> Result<Outcome, ApiError> {
        meta.status = ConversationStatus::Closed;
        meta.closed_at = Some(now);
        meta.awaiting_reply_since = None;
        self.typing_since = [None, None];
        let entry = self.touch(&mut meta, now)?;
        Ok(Outcome {
            broadcast: vec![AddressedFrame { to: Audience::Everyone, frame: ServerFrame::Closed { at: now } }],
            transcript: Some(self.transcript()?),
            entry: Some(entry),
            ..Outcome::default()
        })
    }

    /// The visitor left a contact through the callback form (the lead itself is the lead module's
    /// business): a notice in the chat, and the conversation flagged in the operators' list.
    pub fn callback_requested(&mut self, notice: &str, now: u64) -> Result<Outcome, ApiError> {
        let mut meta = self.store.meta()?;
        if meta.callback_requested {
            return Ok(Outcome::default());
        }
        meta.callback_requested = true;
        // The promise is now "we'll call you", so the alarm has nothing left to offer.
        meta.awaiting_reply_since = None;
        let message = self.system_message(notice, MessageAction::CallbackRequested, now)?;
        let entry = self.touch(&mut meta, now)?;
        Ok(Outcome {
            broadcast: vec![AddressedFrame { to: Audience::Everyone, frame: ServerFrame::Message(message.clone()) }],
            stored: vec![message],
            entry: Some(entry),
            ..Outcome::default()
        })
    }

    /// The visitor rates the conversation once it has closed: a score on [`RATING_SCALE`], within
    /// [`RATING_WINDOW_MS`] of the close. The first rating stands (a second click, a retry or
    /// another tab changes nothing and sends nothing); the operators' list shows it and the CRM
    /// gets it with the transcript (`conversation.rated`).
    pub fn rate(&mut self, who: &Author, score: u8, now: u64) -> Result<Outcome, ApiError> {
        if *who != Author::Visitor {
            return Err(ApiError::new(ErrorCode::Forbidden, "only the visitor rates a conversation"));
        }
        if !RATING_SCALE.contains(&score) {
            return Err(ApiError::new(ErrorCode::InvalidRating, format!("score must be 1-5, got {score}")));
        }
        let mut meta = self.store.meta()?;
        let Some(closed_at) = meta.closed_at.filter(|_| meta.status == ConversationStatus::Closed) else {
            return Err(ApiError::new(ErrorCode::Forbidden, "a conversation is rated once it has closed"));
        };
        if now > closed_at.saturating_add(RATING_WINDOW_MS) {
            return Err(ApiError::new(ErrorCode::Forbidden, "this conversation closed too long ago to be rated"));
        }
        if meta.rating.is_some() {
            return Ok(Outcome::default());
        }
        let rating = Rating { score, at: now };
        meta.rating = Some(rating);
        // Not activity: the list's order and the close time stay.
        meta.revision += 1;
        self.store.set_meta(&meta)?;
        let rated = ConversationRated {
            site: meta.owner.site.clone(),
            conversation_id: self.id.clone(),
            visitor_id: meta.owner.visitor_id.clone(),
            rating,
            transcript: self.transcript()?,
            lead_ids: Vec::new(),
        };
        // Once the conversation has left the operators' live list, a new entry would bring it back
        // as if it had just opened; the late score reaches them through the stored row instead.
        let listed = now < closed_at.saturating_add(self.policy.idle_close_ms);
        let entry = if listed { Some(self.entry_for(&meta)?) } else { None };
        Ok(Outcome { entry, rated: Some(rated), ..Outcome::default() })
    }

    /// An operator takes the conversation, or hands it to another (`to`): every console's list
    /// says who has it. Taking what one already holds changes nothing; a closed conversation is
    /// not handed around. Visitors are not told (it is the shop's own arrangement).
    pub fn assign(&mut self, to: Assignee, now: u64) -> Result<Outcome, ApiError> {
        let mut meta = self.store.meta()?;
        if meta.status == ConversationStatus::Closed {
            return Err(closed());
        }
        if meta.assignee.as_ref().is_some_and(|held| held.operator_id == to.operator_id) {
            return Ok(Outcome::default());
        }
        meta.assignee = Some(to);
        let entry = self.touch(&mut meta, now)?;
        Ok(Outcome { entry: Some(entry), ..Outcome::default() })
    }

    /// The visitor moved on while the conversation is open (new pages, products, answers): the
    /// operators' sockets get the new `context` at once. `visitor_label`, the contact the visitor
    /// has given since (see `chat::offline::contact_label`), renames them in the operators' list;
    /// the rename is not activity, so the list's order stays. Nothing happens once closed.
    pub fn context_changed(&mut self, context: VisitorContext, visitor_label: Option<String>) -> Result<Outcome, ApiError> {
        let mut meta = self.store.meta()?;
        if meta.status == ConversationStatus::Closed {
            return Ok(Outcome::default());
        }
        let entry = match visitor_label.filter(|label| !label.trim().is_empty() && *label != meta.visitor_label) {
            Some(label) => {
                meta.visitor_label = label;
                meta.revision += 1;
                self.store.set_meta(&meta)?;
                Some(self.entry_for(&meta)?)
            }
            None => None,
        };
        Ok(Outcome {
            broadcast: vec![AddressedFrame { to: Audience::Operators, frame: ServerFrame::Context { context: Box::new(context) } }],
            entry,
            ..Outcome::default()
        })
    }

    /// The Durable Object alarm: closes the conversation after [`ChatPolicy::idle_close_ms`] of
    /// silence, else offers a callback if a visitor has waited too long. `offer` is the notice in
    /// the site's language.
    pub fn on_alarm(&mut self, offer: &str, now: u64, operator_online: bool) -> Result<Outcome, ApiError> {
        let mut meta = self.store.meta()?;
        if meta.status == ConversationStatus::Closed {
            return Ok(Outcome::default());
        }
        if idle_close_at(&meta, self.policy.idle_close_ms).is_some_and(|at| now >= at) {
            return self.finish(meta, now);
        }
        match reply_check(meta.awaiting_reply_since, now, false, operator_online, meta.callback_offered, self.policy.reply_wait_ms) {
            ReplyCheck::Nothing => Ok(Outcome::default()),
            ReplyCheck::CheckAt(at) => Ok(Outcome { alarm_at: Some(at), ..Outcome::default() }),
            ReplyCheck::OfferCallback => {
                let waiting = self.waiting(&meta, now, operator_online)?;
                meta.callback_offered = true;
                let message = self.system_message(offer, MessageAction::OfferCallback, now)?;
                let entry = self.touch(&mut meta, now)?;
                Ok(Outcome {
                    broadcast: vec![AddressedFrame { to: Audience::Everyone, frame: ServerFrame::Message(message.clone()) }],
                    stored: vec![message],
                    entry: Some(entry),
                    waiting: Some(waiting),
                    ..Outcome::default()
                })
            }
        }
    }

    /// The `conversation.waiting` event for a visitor found waiting: their unanswered messages (the
    /// last [`WAITING_MESSAGES`] at most), read before the callback offer is added.
    fn waiting(&self, meta: &ConversationMeta, now: u64, operator_online: bool) -> Result<ConversationWaiting, ApiError> {
        let since = meta.awaiting_reply_since.unwrap_or(now);
        let last_seq = self.last_seq()?;
        let recent = self.store.messages_after(last_seq.saturating_sub(WAITING_MESSAGES))?;
        Ok(ConversationWaiting {
            site: meta.owner.site.clone(),
            conversation_id: self.id.clone(),
            visitor_id: meta.owner.visitor_id.clone(),
            visitor_label: meta.visitor_label.clone(),
            waiting_since: since,
            at: now,
            operator_online,
            messages: recent.into_iter().filter(|m| m.author == Author::Visitor && m.at >= since).collect(),
            lead_ids: Vec::new(),
        })
    }

    /// Tells the visitor whether anyone is there (the SiteHub calls this when that changes).
    pub fn presence_changed(&self, operator_online: bool) -> Outcome {
        Outcome {
            broadcast: vec![AddressedFrame { to: Audience::Visitors, frame: ServerFrame::Presence { operator_online } }],
            ..Outcome::default()
        }
    }

    /// Unread messages for `side`: those the other side wrote after `side`'s read marker. System
    /// notices do not count; they are not someone waiting for an answer.
    pub fn unread(&self, side: Side) -> Result<u64, ApiError> {
        self.store.count_by_after(side.other(), self.store.read_marker(side)?)
    }

    /// When the alarm must next look at this conversation for silence (see [`idle_close_at`]).
    pub fn idle_close_at(&self) -> Result<Option<u64>, ApiError> {
        Ok(idle_close_at(&self.store.meta()?, self.policy.idle_close_ms))
    }

    pub fn last_seq(&self) -> Result<u64, ApiError> {
        Ok(self.store.last_message()?.map_or(0, |m| m.seq))
    }

    /// The operators' list entry for this conversation.
    pub fn entry(&self) -> Result<ConversationEntry, ApiError> {
        self.entry_for(&self.store.meta()?)
    }

    pub fn transcript(&self) -> Result<Transcript, ApiError> {
        let meta = self.store.meta()?;
        Ok(Transcript {
            conversation_id: self.id.clone(),
            owner: meta.owner,
            visitor_label: meta.visitor_label,
            opened_at: meta.opened_at,
            closed_at: meta.closed_at.unwrap_or(meta.updated_at),
            messages: self.store.messages_after(0)?,
        })
    }

    fn entry_for(&self, meta: &ConversationMeta) -> Result<ConversationEntry, ApiError> {
        let last = self.store.last_message()?;
        Ok(ConversationEntry {
            conversation_id: self.id.clone(),
            visitor_label: meta.visitor_label.clone(),
            preview: last.as_ref().map(|m| preview(&m.text)).unwrap_or_default(),
            last_author: last.and_then(|m| m.author.side()),
            unread_by_operator: self.unread(Side::Operator)?,
            updated_at: meta.updated_at,
            status: meta.status,
            awaiting_reply_since: meta.awaiting_reply_since,
            callback_requested: meta.callback_requested,
            revision: meta.revision,
            listed_until: meta.closed_at.map(|at| at.saturating_add(self.policy.idle_close_ms)),
            assignee: meta.assignee.clone(),
            rating: meta.rating.map(|r| r.score),
        })
    }

    fn append(&mut self, message: NewMessage) -> Result<ChatMessage, ApiError> {
        let expected = self.last_seq()? + 1;
        let stored = self.store.append(message)?;
        // The whole delivery guarantee rests on gapless seqs; a store that breaks it is a bug to
        // surface, not to paper over.
        if stored.seq != expected {
            return Err(ApiError::new(
                ErrorCode::Internal,
                format!("store assigned seq {} where {expected} was due", stored.seq),
            ));
        }
        Ok(stored)
    }

    fn system_message(&mut self, text: &str, action: MessageAction, now: u64) -> Result<ChatMessage, ApiError> {
        self.append(NewMessage { author: Author::System, text: text.to_owned(), at: now, client_msg_id: None, action: Some(action), attachment: None })
    }

    fn touch(&mut self, meta: &mut ConversationMeta, now: u64) -> Result<ConversationEntry, ApiError> {
        meta.updated_at = meta.updated_at.max(now);
        meta.revision += 1;
        self.store.set_meta(meta)?;
        self.entry_for(meta)
    }

    fn alarm_at(&self, meta: &ConversationMeta, now: u64, operator_online: bool) -> Option<u64> {
        match reply_check(meta.awaiting_reply_since, now, false, operator_online, meta.callback_offered, self.policy.reply_wait_ms) {
            ReplyCheck::CheckAt(at) => Some(at),
            // Due now: wake as soon as possible rather than offering from inside a send.
            ReplyCheck::OfferCallback => Some(now),
            ReplyCheck::Nothing => None,
        }
    }
}

fn participant(who: &Author) -> Result<Side, ApiError> {
    who.side().ok_or_else(|| ApiError::new(ErrorCode::Forbidden, "system notices are not written over a connection"))
}

fn closed() -> ApiError {
    ApiError::new(ErrorCode::ConversationClosed, "this conversation is closed; start a new one")
}

pub mod contract;
pub mod hub_feed;
pub mod store;

use store::{side_index, ConversationStore, NewMessage};

#[cfg(test)]
mod tests;
