//! Where a conversation's messages and metadata live: the [`ConversationStore`] the state machine
//! is written against, and [`InMemoryStore`], the reference the tests and the Durable Object's
//! SQLite store are checked against.

use super::ConversationMeta;
use crate::base::error::ApiError;
use crate::chat::attachment::Attachment;
use crate::chat::protocol::{message_id, Author, ChatMessage, MessageAction, Side};

/// A message before the store gives it a seq.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub author: Author,
    pub text: String,
    pub at: u64,
    pub client_msg_id: Option<String>,
    pub action: Option<MessageAction>,
    pub attachment: Option<Attachment>,
}

impl NewMessage {
    /// The message as stored under `seq` in `conversation_id`: every store numbers and names
    /// messages this one way, so a seq always maps to the same id.
    pub fn stored_as(self, conversation_id: &str, seq: u64) -> ChatMessage {
        ChatMessage {
            seq,
            id: message_id(conversation_id, seq),
            author: self.author,
            text: self.text,
            at: self.at,
            client_msg_id: self.client_msg_id,
            action: self.action,
            attachment: self.attachment,
        }
    }
}

/// What the Conversation needs from storage. Errors are storage faults and should carry
/// [`ErrorCode::Internal`].
pub trait ConversationStore {
    fn meta(&self) -> Result<ConversationMeta, ApiError>;
    fn set_meta(&mut self, meta: &ConversationMeta) -> Result<(), ApiError>;
    /// Stores `message` as seq `last_seq() + 1` with id [`message_id`]`(conversation, seq)`.
    fn append(&mut self, message: NewMessage) -> Result<ChatMessage, ApiError>;
    /// The message `side` sent with this idempotency key, if any. Keys are scoped per side so a
    /// visitor cannot pre-empt an operator's key.
    fn find_by_client_msg_id(&self, side: Side, client_msg_id: &str) -> Result<Option<ChatMessage>, ApiError>;
    /// Messages with seq > `after_seq`, oldest first.
    fn messages_after(&self, after_seq: u64) -> Result<Vec<ChatMessage>, ApiError>;
    fn last_message(&self) -> Result<Option<ChatMessage>, ApiError>;
    fn read_marker(&self, side: Side) -> Result<u64, ApiError>;
    fn set_read_marker(&mut self, side: Side, up_to_seq: u64) -> Result<(), ApiError>;
    /// How many messages written by `author` have seq > `after_seq`.
    fn count_by_after(&self, author: Side, after_seq: u64) -> Result<u64, ApiError>;
}

/// The reference store: a vector. Lookups are linear, which is fine for tests and for the
/// SQLite implementation to be checked against.
#[derive(Debug, Clone)]
pub struct InMemoryStore {
    conversation_id: String,
    meta: ConversationMeta,
    messages: Vec<ChatMessage>,
    read: [u64; 2],
}

impl InMemoryStore {
    pub fn new(conversation_id: impl Into<String>, meta: ConversationMeta) -> InMemoryStore {
        InMemoryStore { conversation_id: conversation_id.into(), meta, messages: Vec::new(), read: [0, 0] }
    }

    pub fn all_messages(&self) -> &[ChatMessage] {
        &self.messages
    }
}

pub(crate) fn side_index(side: Side) -> usize {
    match side {
        Side::Visitor => 0,
        Side::Operator => 1,
    }
}

impl ConversationStore for InMemoryStore {
    fn meta(&self) -> Result<ConversationMeta, ApiError> {
        Ok(self.meta.clone())
    }

    fn set_meta(&mut self, meta: &ConversationMeta) -> Result<(), ApiError> {
        self.meta = meta.clone();
        Ok(())
    }

    fn append(&mut self, message: NewMessage) -> Result<ChatMessage, ApiError> {
        let seq = self.messages.last().map_or(0, |m| m.seq) + 1;
        let stored = message.stored_as(&self.conversation_id, seq);
        self.messages.push(stored.clone());
        Ok(stored)
    }

    fn find_by_client_msg_id(&self, side: Side, client_msg_id: &str) -> Result<Option<ChatMessage>, ApiError> {
        Ok(self
            .messages
            .iter()
            .find(|m| m.author.side() == Some(side) && m.client_msg_id.as_deref() == Some(client_msg_id))
            .cloned())
    }

    fn messages_after(&self, after_seq: u64) -> Result<Vec<ChatMessage>, ApiError> {
        Ok(self.messages.iter().filter(|m| m.seq > after_seq).cloned().collect())
    }

    fn last_message(&self) -> Result<Option<ChatMessage>, ApiError> {
        Ok(self.messages.last().cloned())
    }

    fn read_marker(&self, side: Side) -> Result<u64, ApiError> {
        Ok(self.read[side_index(side)])
    }

    fn set_read_marker(&mut self, side: Side, up_to_seq: u64) -> Result<(), ApiError> {
        self.read[side_index(side)] = up_to_seq;
        Ok(())
    }

    fn count_by_after(&self, author: Side, after_seq: u64) -> Result<u64, ApiError> {
        Ok(self.messages.iter().filter(|m| m.seq > after_seq && m.author.side() == Some(author)).count() as u64)
    }
}
