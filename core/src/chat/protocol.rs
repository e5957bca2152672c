//! The live-chat wire protocol: one set of frame types shared by the widget, the operator console
//! and the `Conversation` Durable Object, so the three can never disagree about a field.
//!
//! Frames are JSON text messages over a WebSocket, tagged by `type`. Delivery guarantees come from
//! two numbers rather than from the transport: the server gives every stored message a `seq`
//! (1, 2, 3, ... without gaps), and every message a client sends carries a random `client_msg_id`.
//! A client that reconnects says `hello` with the last `seq` it holds and receives exactly what
//! follows; a client that is unsure whether its `send` arrived sends it again with the same
//! `client_msg_id` and gets the original `ack` back instead of a duplicate. [`ChatClient`] is the
//! client half of that contract, so the widget and the console share it too.
//!
//! Core has no JSON parser at run time; adapters parse with `serde_json` after
//! [`check_frame_size`], and report a parse failure with [`bad_frame`].

use serde::{Deserialize, Serialize};

use crate::base::error::{ApiError, ErrorCode};
use crate::base::ids::validate_client_id;
use crate::chat::attachment::Attachment;

/// The protocol version this build speaks. A `hello` with another `v` is refused with
/// `unsupported_version`, so a widget cached on a page for weeks cannot misread newer frames.
pub const CHAT_PROTOCOL_VERSION: u32 = 1;
/// Longest message text, in Unicode scalar values, after normalisation.
pub const MAX_MESSAGE_CHARS: usize = 2000;
/// Largest client frame accepted, in bytes of JSON. A full-length message whose every character is
/// a JSON `\uXXXX` escape (6 bytes) still fits, so the text rule, not this one, is what a person
/// meets.
pub const MAX_FRAME_BYTES: usize = 16 * 1024;

/// Which side of a conversation someone is on. Read markers, unread counts and typing are per side,
/// not per connection: a visitor with two tabs is one reader.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Visitor,
    Operator,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Visitor => Side::Operator,
            Side::Operator => Side::Visitor,
        }
    }
}

/// Who wrote a message. Operators are shown by name; the visitor needs no name in their own chat.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Author {
    Visitor,
    Operator { name: String },
    /// Notices written by Floorwalker itself ("we'll email you"), never counted as unread.
    System,
}

impl Author {
    /// The side the author speaks for; `None` for system notices.
    pub fn side(&self) -> Option<Side> {
        match self {
            Author::Visitor => Some(Side::Visitor),
            Author::Operator { .. } => Some(Side::Operator),
            Author::System => None,
        }
    }
}

/// What a system message asks the widget to do besides showing its text.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MessageAction {
    /// No operator answered in time: show the "leave your email or phone" form instead of silence.
    OfferCallback,
    /// The visitor left a contact; operators see the conversation flagged.
    CallbackRequested,
}

/// A stored message as every client sees it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// Position in the conversation: 1, 2, 3, ... with no gaps, assigned by the server.
    pub seq: u64,
    /// Stable across conversations (see [`message_id`]); what CRMs deduplicate webhook deliveries by.
    pub id: String,
    pub author: Author,
    pub text: String,
    /// Milliseconds since the Unix epoch, by the server's clock.
    pub at: u64,
    /// The sender's idempotency key, so the sending client can match its pending bubble.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<MessageAction>,
    /// A file sent with the message (its `text` is then the file's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
}

/// A message's id: derived from the conversation and the seq, so there is one source of truth.
pub fn message_id(conversation_id: &str, seq: u64) -> String {
    format!("{conversation_id}-{seq}")
}

/// Client → server.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// The first frame on every connection; `last_seen_seq` is 0 for a fresh client.
    Hello {
        v: u32,
        last_seen_seq: u64,
        /// Random id of this tab/device, for logs and per-connection bookkeeping.
        client_id: String,
    },
    Send {
        client_msg_id: String,
        text: String,
    },
    Typing {
        on: bool,
    },
    Read {
        up_to_seq: u64,
    },
    /// Operators only.
    Close,
    Ping,
}

/// The conversation's lifecycle. Closing is final: a visitor who writes again gets a new
/// conversation, so a transcript never changes after it was sent to the CRM.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    #[default]
    Open,
    Closed,
}

/// Whether any operator of a site is online: `GET /v1/sites/:site/presence` for the widget's
/// rules, and the SiteHub's answer inside the worker.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct SitePresence {
    pub operator_online: bool,
}

/// The answer to `hello`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Welcome {
    pub v: u32,
    pub conversation_id: String,
    /// Messages after the client's `last_seen_seq`, oldest first. At most
    /// [`crate::chat::conversation::WELCOME_HISTORY_LIMIT`]; the rest follow as `message` frames.
    pub history: Vec<ChatMessage>,
    /// The client's `last_seen_seq` was beyond the end of this conversation (its storage belongs to
    /// something else): it must drop what it holds; `history` then starts at seq 1.
    #[serde(default)]
    pub reset: bool,
    /// The highest seq in the conversation when the welcome was written.
    pub last_seq: u64,
    /// Messages from the other side after this side's read marker.
    pub unread: u64,
    /// How far the other side has read ("seen" ticks).
    pub other_read_up_to: u64,
    pub operator_online: bool,
    pub status: ConversationStatus,
}

/// Server → client.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    Welcome(Welcome),
    Message(ChatMessage),
    /// The `send` with this id is stored as `seq`. An ack does not deliver the message: the
    /// `message` frame (or a later welcome's history) does, so a client never skips a seq.
    Ack {
        client_msg_id: String,
        seq: u64,
    },
    Typing {
        author: Author,
        on: bool,
    },
    Read {
        by: Side,
        up_to_seq: u64,
    },
    /// Whether any operator is online, whenever that changes.
    Presence {
        operator_online: bool,
    },
    Closed {
        at: u64,
    },
    /// To operators only: what the visitor has done since (pages, products, answers), while the
    /// conversation is open ([`crate::chat::conversation::Conversation::context_changed`]).
    Context {
        context: Box<crate::visitor::context::VisitorContext>,
    },
    Error {
        #[serde(flatten)]
        error: ApiError,
        /// Set when the error answers a `send`, so the client knows which pending message failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_msg_id: Option<String>,
    },
    Pong,
}

impl ServerFrame {
    pub fn error(error: ApiError) -> ServerFrame {
        ServerFrame::Error { error, client_msg_id: None }
    }
}

/// Refuses an oversized frame before it is parsed, so a hostile client cannot make the object
/// allocate for a huge JSON document.
pub fn check_frame_size(len: usize) -> Result<(), ApiError> {
    if len > MAX_FRAME_BYTES {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("a chat frame is at most {MAX_FRAME_BYTES} bytes, got {len}"),
        ));
    }
    Ok(())
}

/// The error for a frame that did not parse; `detail` is the parser's message.
pub fn bad_frame(detail: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::BadFrame, format!("malformed chat frame: {detail}"))
}

impl ClientFrame {
    /// Checks what serde cannot: protocol version, id shapes and message text. `Send` comes back
    /// with its text normalised (see [`normalize_message_text`]), which is what gets stored.
    pub fn validate(self) -> Result<ClientFrame, ApiError> {
        match self {
            ClientFrame::Hello { v, last_seen_seq, client_id } => {
                if v != CHAT_PROTOCOL_VERSION {
                    return Err(ApiError::new(
                        ErrorCode::UnsupportedVersion,
                        format!("chat protocol version {v} is not supported (expected {CHAT_PROTOCOL_VERSION})"),
                    ));
                }
                validate_client_id("client_id", &client_id).map_err(as_bad_frame)?;
                Ok(ClientFrame::Hello { v, last_seen_seq, client_id })
            }
            ClientFrame::Send { client_msg_id, text } => {
                validate_client_id("client_msg_id", &client_msg_id).map_err(as_bad_frame)?;
                let text = normalize_message_text(&text)?;
                Ok(ClientFrame::Send { client_msg_id, text })
            }
            other => Ok(other),
        }
    }
}

fn as_bad_frame(error: ApiError) -> ApiError {
    ApiError::new(ErrorCode::BadFrame, error.message)
}

/// Turns what a person typed into what is stored: `\r\n` and lone `\r` become `\n`, tabs become
/// spaces, other control characters and bidirectional overrides are dropped, and the result is
/// trimmed. Bidi overrides go because they let a message render differently from what it says
/// (a visitor could make an operator misread a link or an order number).
pub fn normalize_message_text(raw: &str) -> Result<String, ApiError> {
    let mut text = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    text.push('\n');
                }
            }
            '\n' => text.push('\n'),
            '\t' => text.push(' '),
            c if c.is_control() || is_bidi_control(c) => {}
            c => text.push(c),
        }
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::new(ErrorCode::EmptyMessage, "the message is empty"));
    }
    let chars = text.chars().count();
    if chars > MAX_MESSAGE_CHARS {
        return Err(ApiError::new(
            ErrorCode::MessageTooLong,
            format!("a message is at most {MAX_MESSAGE_CHARS} characters, got {chars}"),
        ));
    }
    Ok(text.to_owned())
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// A message the client wrote that the server has not confirmed yet. Serializable so a widget can
/// keep it across a page load and re-send it with the same id.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PendingMessage {
    pub client_msg_id: String,
    pub text: String,
    /// The server stored it (an `ack` came) but its `message` frame has not arrived yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acked_seq: Option<u64>,
}

/// What the UI should do after a server frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// Nothing visible changed (a duplicate, a pong).
    None,
    /// New messages were appended to [`ChatClient::messages`]. (After a `welcome` the event is
    /// `Frame(Welcome)` with its history already moved into the messages.)
    Messages,
    /// The server refused a pending message for good (too long, empty, closed): show it as failed.
    SendFailed { client_msg_id: String, error: ApiError },
    /// Rate limited: keep the message pending and re-send it later with the same id.
    SendDeferred { client_msg_id: String },
    /// A frame arrived out of order (a seq was skipped): reconnect with `hello`.
    Resync,
    /// Anything else the UI shows directly (typing, read ticks, presence, closed, errors).
    Frame(ServerFrame),
}

/// The client half of the delivery contract, shared by the widget and the console: it keeps the
/// messages it has in seq order, never applies one twice, and keeps its own unconfirmed messages
/// so it can re-send them after a reconnect.
#[derive(Debug, Clone, Default)]
pub struct ChatClient {
    messages: Vec<ChatMessage>,
    pending: Vec<PendingMessage>,
}

impl ChatClient {
    /// Starts from what was kept in storage (messages in seq order, e.g. after a page reload).
    pub fn new(messages: Vec<ChatMessage>, pending: Vec<PendingMessage>) -> ChatClient {
        let mut client = ChatClient { messages: Vec::new(), pending };
        for message in messages {
            if message.seq == client.last_seq() + 1 {
                client.messages.push(message);
            }
        }
        client
    }

    pub fn messages(&self) -> &[ChatMessage] {
        &self.messages
    }

    pub fn pending(&self) -> &[PendingMessage] {
        &self.pending
    }

    /// The seq the next `hello` resumes after.
    pub fn last_seq(&self) -> u64 {
        self.messages.last().map_or(0, |m| m.seq)
    }

    /// The first frame of a connection.
    pub fn hello(&self, client_id: &str) -> ClientFrame {
        ClientFrame::Hello {
            v: CHAT_PROTOCOL_VERSION,
            last_seen_seq: self.last_seq(),
            client_id: client_id.to_owned(),
        }
    }

    /// Queues a message and returns the frame to send now (if connected). The id must be random.
    pub fn send(&mut self, client_msg_id: &str, text: &str) -> ClientFrame {
        self.pending.push(PendingMessage {
            client_msg_id: client_msg_id.to_owned(),
            text: text.to_owned(),
            acked_seq: None,
        });
        ClientFrame::Send { client_msg_id: client_msg_id.to_owned(), text: text.to_owned() }
    }

    /// The frames to send after a `welcome`: every message still pending, with its original id,
    /// which the server turns into an ack for those it already stored.
    pub fn resend_pending(&self) -> Vec<ClientFrame> {
        self.pending
            .iter()
            .map(|p| ClientFrame::Send { client_msg_id: p.client_msg_id.clone(), text: p.text.clone() })
            .collect()
    }

    /// Applies one server frame.
    pub fn receive(&mut self, frame: ServerFrame) -> ClientEvent {
        match frame {
            ServerFrame::Welcome(mut welcome) => {
                if welcome.reset {
                    self.messages.clear();
                }
                let history = std::mem::take(&mut welcome.history);
                for message in history {
                    if let Applied::Gap = self.apply(message) {
                        return ClientEvent::Resync;
                    }
                }
                // The history is now in `messages`; the UI still needs the rest (unread, presence).
                ClientEvent::Frame(ServerFrame::Welcome(welcome))
            }
            ServerFrame::Message(message) => match self.apply(message) {
                Applied::Appended => ClientEvent::Messages,
                Applied::Duplicate => ClientEvent::None,
                Applied::Gap => ClientEvent::Resync,
            },
            ServerFrame::Ack { client_msg_id, seq } => {
                if seq <= self.last_seq() {
                    self.pending.retain(|p| p.client_msg_id != client_msg_id);
                } else if let Some(p) = self.pending.iter_mut().find(|p| p.client_msg_id == client_msg_id) {
                    p.acked_seq = Some(seq);
                }
                ClientEvent::None
            }
            ServerFrame::Error { error, client_msg_id: Some(client_msg_id) } => {
                if error.code == ErrorCode::RateLimited {
                    return ClientEvent::SendDeferred { client_msg_id };
                }
                self.pending.retain(|p| p.client_msg_id != client_msg_id);
                ClientEvent::SendFailed { client_msg_id, error }
            }
            ServerFrame::Pong => ClientEvent::None,
            other => ClientEvent::Frame(other),
        }
    }

    fn apply(&mut self, message: ChatMessage) -> Applied {
        let last = self.last_seq();
        if message.seq <= last {
            return Applied::Duplicate;
        }
        if message.seq != last + 1 {
            return Applied::Gap;
        }
        if let Some(id) = &message.client_msg_id {
            self.pending.retain(|p| &p.client_msg_id != id);
        }
        self.messages.push(message);
        Applied::Appended
    }
}

enum Applied {
    Appended,
    Duplicate,
    Gap,
}

#[cfg(test)]
mod tests;
