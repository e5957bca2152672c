//! What the live chat hands to the rest of the world: the data of the `message.created` and
//! `conversation.closed` webhook events, and the visitor's request for a transcript by email.
//!
//! The chat adapter records each of these in an outbox as it happens (see the edge worker's
//! `chat::outbox`), and the delivery pipeline signs and sends them like every other event.

use serde::{Deserialize, Serialize};

use crate::chat::ChatMessage;
use crate::context::VisitorContext;
use crate::conversation::{ConversationOwner, Transcript};

/// `message.created`: one stored chat message, from either side (system notices included, so a
/// CRM timeline shows "we offered a callback").
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct MessageCreated {
    pub site: String,
    pub conversation_id: String,
    pub visitor_id: String,
    /// The site's own id for the person, when identity verification vouched for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub message: ChatMessage,
}

impl MessageCreated {
    pub fn new(owner: &ConversationOwner, conversation_id: &str, message: ChatMessage) -> MessageCreated {
        MessageCreated {
            site: owner.site.clone(),
            conversation_id: conversation_id.to_owned(),
            visitor_id: owner.visitor_id.clone(),
            user_id: owner.user_id.clone(),
            message,
        }
    }
}

/// `conversation.closed`: the full transcript and what the visitor had shown before writing.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ConversationClosed {
    pub site: String,
    pub transcript: Transcript,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<VisitorContext>,
}

/// A visitor asked for the conversation by email. Not a webhook of its own: the email pipeline
/// sends it to `email`, with the transcript as it stood when asked.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TranscriptRequested {
    pub site: String,
    /// Normalised by `contact::normalize_email`.
    pub email: String,
    pub requested_at: u64,
    pub transcript: Transcript,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{message_id, Author};
    use crate::webhook::{EventType, WebhookEvent};

    fn message(seq: u64) -> ChatMessage {
        ChatMessage {
            seq,
            id: message_id("conv-0001", seq),
            author: Author::Visitor,
            text: "Is it in stock?".into(),
            at: 1_700_000_000_000 + seq,
            client_msg_id: Some("m-000001".into()),
            action: None,
        }
    }

    fn owner() -> ConversationOwner {
        ConversationOwner { site: "demo".into(), visitor_id: "visitor-0001".into(), user_id: None }
    }

    #[test]
    fn chat_events_are_webhook_events_with_stable_ids() {
        let created = WebhookEvent::MessageCreated(MessageCreated::new(&owner(), "conv-0001", message(1)));
        assert_eq!(created.event_type(), EventType::MessageCreated);
        assert_eq!(created.occurred_at(), 1_700_000_000_001);
        assert_eq!(created.message_id(), WebhookEvent::MessageCreated(MessageCreated::new(&owner(), "conv-0001", message(1))).message_id());
        assert_ne!(created.message_id(), WebhookEvent::MessageCreated(MessageCreated::new(&owner(), "conv-0001", message(2))).message_id());
        let json = serde_json::to_value(created.envelope()).unwrap();
        assert_eq!(json["type"], "message.created");
        assert_eq!(json["data"]["conversation_id"], "conv-0001");
        assert_eq!(json["data"]["message"]["id"], "conv-0001-1");
        assert_eq!(json["timestamp"], "2023-11-14T22:13:20.001Z");

        let transcript = Transcript {
            conversation_id: "conv-0001".into(),
            owner: owner(),
            visitor_label: "Visitor".into(),
            opened_at: 1_700_000_000_000,
            closed_at: 1_700_000_060_000,
            messages: vec![message(1)],
        };
        let closed = WebhookEvent::ConversationClosed(ConversationClosed { site: "demo".into(), transcript, context: None });
        assert_eq!(closed.event_type(), EventType::ConversationClosed);
        assert_eq!(closed.occurred_at(), 1_700_000_060_000);
        let back: WebhookEvent = serde_json::from_value(serde_json::to_value(&closed).unwrap()).unwrap();
        assert_eq!(back, closed);
    }
}
