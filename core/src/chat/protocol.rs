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
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<ClientFrame, ApiError> {
        check_frame_size(json.len())?;
        serde_json::from_str::<ClientFrame>(json).map_err(bad_frame)?.validate()
    }

    #[test]
    fn client_frames_parse() {
        assert_eq!(
            parse(r#"{"type":"hello","v":1,"last_seen_seq":7,"client_id":"tab-1234"}"#).unwrap(),
            ClientFrame::Hello { v: 1, last_seen_seq: 7, client_id: "tab-1234".into() }
        );
        assert_eq!(
            parse(r#"{"type":"send","client_msg_id":"m-000001","text":"  Hi!\r\nIs it in stock?  "}"#).unwrap(),
            ClientFrame::Send { client_msg_id: "m-000001".into(), text: "Hi!\nIs it in stock?".into() }
        );
        assert_eq!(parse(r#"{"type":"typing","on":true}"#).unwrap(), ClientFrame::Typing { on: true });
        assert_eq!(parse(r#"{"type":"read","up_to_seq":3}"#).unwrap(), ClientFrame::Read { up_to_seq: 3 });
        assert_eq!(parse(r#"{"type":"close"}"#).unwrap(), ClientFrame::Close);
        assert_eq!(parse(r#"{"type":"ping"}"#).unwrap(), ClientFrame::Ping);
    }

    #[test]
    fn bad_client_frames_are_refused_with_clear_codes() {
        let code = |json: &str| parse(json).expect_err(json).code;
        assert_eq!(code("not json"), ErrorCode::BadFrame);
        assert_eq!(code(r#"{"type":"shout","text":"x"}"#), ErrorCode::BadFrame);
        assert_eq!(code(r#"{"type":"send","text":"x"}"#), ErrorCode::BadFrame);
        assert_eq!(code(r#"{"type":"send","client_msg_id":"m-000001","text":"x","extra":1}"#), ErrorCode::BadFrame);
        assert_eq!(code(r#"{"type":"send","client_msg_id":"short","text":"x"}"#), ErrorCode::BadFrame);
        assert_eq!(code(r#"{"type":"read","up_to_seq":-1}"#), ErrorCode::BadFrame);
        assert_eq!(code(r#"{"type":"hello","v":2,"last_seen_seq":0,"client_id":"tab-1234"}"#), ErrorCode::UnsupportedVersion);
        assert_eq!(code(r#"{"type":"hello","v":1,"last_seen_seq":0,"client_id":"tab 1234"}"#), ErrorCode::BadFrame);
        assert_eq!(code(r#"{"type":"send","client_msg_id":"m-000001","text":" \n\t\u0007 "}"#), ErrorCode::EmptyMessage);
        let long = format!(r#"{{"type":"send","client_msg_id":"m-000001","text":"{}"}}"#, "я".repeat(2001));
        assert_eq!(code(&long), ErrorCode::MessageTooLong);
        let huge = format!(r#"{{"type":"send","client_msg_id":"m-000001","text":"{}"}}"#, "a".repeat(MAX_FRAME_BYTES));
        assert_eq!(code(&huge), ErrorCode::PayloadTooLarge);
    }

    #[test]
    fn longest_message_fits_in_a_frame_even_fully_escaped() {
        let text = "\\u044f".repeat(MAX_MESSAGE_CHARS);
        let json = format!(r#"{{"type":"send","client_msg_id":"m-000001","text":"{text}"}}"#);
        assert!(parse(&json).is_ok());
    }

    #[test]
    fn message_text_normalisation() {
        assert_eq!(normalize_message_text("a\r\nb\rc\n\nd").unwrap(), "a\nb\nc\n\nd");
        assert_eq!(normalize_message_text("tab\there").unwrap(), "tab here");
        assert_eq!(normalize_message_text("be\u{0}ll\u{7}\u{1b}[31m").unwrap(), "bell[31m");
        assert_eq!(normalize_message_text("order \u{202E}1234\u{202C}").unwrap(), "order 1234");
        // Joiners are part of emoji and must survive.
        assert_eq!(normalize_message_text("👩\u{200D}💻").unwrap(), "👩\u{200D}💻");
        assert_eq!(normalize_message_text(&"ё".repeat(MAX_MESSAGE_CHARS)).unwrap().chars().count(), MAX_MESSAGE_CHARS);
        // Whitespace around a long message does not count against it.
        assert!(normalize_message_text(&format!("  {}  \n", "x".repeat(MAX_MESSAGE_CHARS))).is_ok());
        assert_eq!(normalize_message_text("\u{202E}").unwrap_err().code, ErrorCode::EmptyMessage);
    }

    fn message(seq: u64, author: Author, client_msg_id: Option<&str>) -> ChatMessage {
        ChatMessage {
            seq,
            id: message_id("c-12345678", seq),
            author,
            text: format!("message {seq}"),
            at: 1_700_000_000_000 + seq,
            client_msg_id: client_msg_id.map(str::to_owned),
            action: None,
        }
    }

    #[test]
    fn server_frames_wire_shape() {
        let json = |frame: &ServerFrame| serde_json::to_string(frame).unwrap();
        assert_eq!(
            json(&ServerFrame::Message(message(3, Author::Operator { name: "Anna".into() }, None))),
            r#"{"type":"message","seq":3,"id":"c-12345678-3","author":{"kind":"operator","name":"Anna"},"text":"message 3","at":1700000000003}"#
        );
        assert_eq!(
            json(&ServerFrame::Ack { client_msg_id: "m-000001".into(), seq: 4 }),
            r#"{"type":"ack","client_msg_id":"m-000001","seq":4}"#
        );
        assert_eq!(
            json(&ServerFrame::Error {
                error: ApiError::new(ErrorCode::RateLimited, "slow down"),
                client_msg_id: Some("m-000001".into())
            }),
            r#"{"type":"error","code":"rate_limited","message":"slow down","client_msg_id":"m-000001"}"#
        );
        assert_eq!(json(&ServerFrame::Read { by: Side::Visitor, up_to_seq: 2 }), r#"{"type":"read","by":"visitor","up_to_seq":2}"#);
        assert_eq!(json(&ServerFrame::Typing { author: Author::Visitor, on: true }), r#"{"type":"typing","author":{"kind":"visitor"},"on":true}"#);
        assert_eq!(json(&ServerFrame::Pong), r#"{"type":"pong"}"#);
        let welcome = ServerFrame::Welcome(Welcome {
            v: CHAT_PROTOCOL_VERSION,
            conversation_id: "c-12345678".into(),
            history: vec![message(1, Author::Visitor, Some("m-000001"))],
            reset: false,
            last_seq: 1,
            unread: 0,
            other_read_up_to: 0,
            operator_online: true,
            status: ConversationStatus::Open,
        });
        let text = json(&welcome);
        assert!(text.starts_with(r#"{"type":"welcome","v":1,"conversation_id":"c-12345678","history":[{"seq":1,"#), "{text}");
        for frame in [welcome, ServerFrame::Closed { at: 5 }, ServerFrame::Presence { operator_online: false }] {
            assert_eq!(serde_json::from_str::<ServerFrame>(&json(&frame)).unwrap(), frame);
        }
    }

    #[test]
    fn client_applies_each_seq_once_and_in_order() {
        let mut client = ChatClient::default();
        assert_eq!(client.hello("tab-1234"), ClientFrame::Hello { v: 1, last_seen_seq: 0, client_id: "tab-1234".into() });
        client.send("m-000001", "hi");
        assert_eq!(client.receive(ServerFrame::Ack { client_msg_id: "m-000001".into(), seq: 1 }), ClientEvent::None);
        assert_eq!(client.pending()[0].acked_seq, Some(1));
        assert_eq!(client.last_seq(), 0, "an ack alone must not advance the resume point");
        let first = message(1, Author::Visitor, Some("m-000001"));
        assert_eq!(client.receive(ServerFrame::Message(first.clone())), ClientEvent::Messages);
        assert!(client.pending().is_empty());
        assert_eq!(client.receive(ServerFrame::Message(first)), ClientEvent::None);
        assert_eq!(client.receive(ServerFrame::Message(message(3, Author::System, None))), ClientEvent::Resync);
        assert_eq!(client.last_seq(), 1);
        assert_eq!(client.hello("tab-1234"), ClientFrame::Hello { v: 1, last_seen_seq: 1, client_id: "tab-1234".into() });
    }

    #[test]
    fn client_send_failures() {
        let mut client = ChatClient::default();
        client.send("m-000001", "hi");
        client.send("m-000002", "there");
        let limited = ServerFrame::Error {
            error: ApiError::new(ErrorCode::RateLimited, "later"),
            client_msg_id: Some("m-000001".into()),
        };
        assert_eq!(client.receive(limited), ClientEvent::SendDeferred { client_msg_id: "m-000001".into() });
        assert_eq!(client.pending().len(), 2);
        let closed = ApiError::new(ErrorCode::ConversationClosed, "closed");
        let event = client.receive(ServerFrame::Error { error: closed.clone(), client_msg_id: Some("m-000002".into()) });
        assert_eq!(event, ClientEvent::SendFailed { client_msg_id: "m-000002".into(), error: closed });
        assert_eq!(client.resend_pending(), vec![ClientFrame::Send { client_msg_id: "m-000001".into(), text: "hi".into() }]);
    }

    #[test]
    fn client_resets_when_the_server_says_so() {
        let mut client = ChatClient::new(vec![message(1, Author::Visitor, None), message(2, Author::Visitor, None)], vec![]);
        assert_eq!(client.last_seq(), 2);
        let welcome = Welcome {
            v: 1,
            conversation_id: "c-12345678".into(),
            history: vec![message(1, Author::System, None)],
            reset: true,
            last_seq: 1,
            unread: 1,
            other_read_up_to: 0,
            operator_online: false,
            status: ConversationStatus::Open,
        };
        let ClientEvent::Frame(ServerFrame::Welcome(rest)) = client.receive(ServerFrame::Welcome(welcome)) else {
            panic!("a welcome is passed on to the UI");
        };
        assert!(rest.history.is_empty());
        assert_eq!(rest.unread, 1);
        assert_eq!(client.messages().len(), 1);
        assert_eq!(client.messages()[0].author, Author::System);
    }
}
