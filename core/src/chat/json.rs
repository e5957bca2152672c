//! The chat's JSON form without serde (`base::json`), for the visitor's chat panel: the frames it
//! reads ([`ServerFrame`]) and sends ([`ClientFrame`]) on its socket and the state it keeps
//! ([`StoredChat`]). The text is serde's for the same types (the tests check both directions), so
//! the worker and the console go on using serde. The one frame not read here is `context`, which
//! only operators are sent.

use crate::base::json::{field, field_or_default, FromJson, ToJson, Value, Writer};
use crate::chat::attachment::{Attachment, FileKind};
use crate::chat::panel::StoredChat;
use crate::chat::protocol::{
    Author, ChatMessage, ClientFrame, ConversationStatus, MessageAction, PendingMessage, ServerFrame, Side, Welcome,
};
use crate::{json_enum, json_struct};

json_enum!(Side { Visitor, Operator });
json_enum!(MessageAction { OfferCallback, CallbackRequested });
json_enum!(ConversationStatus { Open, Closed });
json_enum!(FileKind { Png, Jpeg, Gif, Webp, Pdf });
json_struct!(Attachment { id, name, kind, size });
json_struct!(ChatMessage { seq, id, author, text, at, client_msg_id, action, attachment });
json_struct!(PendingMessage { client_msg_id, text, acked_seq });
json_struct!(read Welcome { v, conversation_id, history, last_seq, unread, other_read_up_to, operator_online, status } default { reset });
json_struct!(write StoredChat { token, token_expires_at, conversation_id, messages, pending, read_up_to, status });

impl FromJson for StoredChat {
    fn read(value: &Value<'_>) -> Option<Self> {
        Some(StoredChat {
            token: field(value, "token")?,
            token_expires_at: field_or_default(value, "token_expires_at")?,
            conversation_id: field(value, "conversation_id")?,
            messages: field_or_default(value, "messages")?,
            pending: field_or_default(value, "pending")?,
            read_up_to: field_or_default(value, "read_up_to")?,
            status: field_or_default(value, "status")?,
        })
    }
}

/// The tag of an internally tagged enum (`#[serde(tag = "...")]`), then the variant's fields.
fn tagged(out: &mut Writer, tag: &str, variant: &str) {
    out.raw("{");
    out.field(tag, variant);
}

impl ToJson for Author {
    fn write(&self, out: &mut Writer) {
        match self {
            Author::Visitor => tagged(out, "kind", "visitor"),
            Author::Operator { name } => {
                tagged(out, "kind", "operator");
                out.field("name", name);
            }
            Author::System => tagged(out, "kind", "system"),
        }
        out.raw("}");
    }
}

impl FromJson for Author {
    fn read(value: &Value<'_>) -> Option<Self> {
        Some(match value.get("kind")?.as_str()? {
            "visitor" => Author::Visitor,
            "operator" => Author::Operator { name: field(value, "name")? },
            "system" => Author::System,
            _ => return None,
        })
    }
}

impl ToJson for ClientFrame {
    fn write(&self, out: &mut Writer) {
        match self {
            ClientFrame::Hello { v, last_seen_seq, client_id } => {
                tagged(out, "type", "hello");
                out.field("v", v);
                out.field("last_seen_seq", last_seen_seq);
                out.field("client_id", client_id);
            }
            ClientFrame::Send { client_msg_id, text } => {
                tagged(out, "type", "send");
                out.field("client_msg_id", client_msg_id);
                out.field("text", text);
            }
            ClientFrame::Typing { on } => {
                tagged(out, "type", "typing");
                out.field("on", on);
            }
            ClientFrame::Read { up_to_seq } => {
                tagged(out, "type", "read");
                out.field("up_to_seq", up_to_seq);
            }
            ClientFrame::Close => tagged(out, "type", "close"),
            ClientFrame::Ping => tagged(out, "type", "ping"),
        }
        out.raw("}");
    }
}

impl FromJson for ServerFrame {
    /// `None` for a `context` frame (operators only) as for anything malformed.
    fn read(value: &Value<'_>) -> Option<Self> {
        Some(match value.get("type")?.as_str()? {
            "welcome" => ServerFrame::Welcome(Welcome::read(value)?),
            "message" => ServerFrame::Message(ChatMessage::read(value)?),
            "ack" => ServerFrame::Ack { client_msg_id: field(value, "client_msg_id")?, seq: field(value, "seq")? },
            "typing" => ServerFrame::Typing { author: field(value, "author")?, on: field(value, "on")? },
            "read" => ServerFrame::Read { by: field(value, "by")?, up_to_seq: field(value, "up_to_seq")? },
            "presence" => ServerFrame::Presence { operator_online: field(value, "operator_online")? },
            "closed" => ServerFrame::Closed { at: field(value, "at")? },
            "error" => ServerFrame::Error { error: FromJson::read(value)?, client_msg_id: field(value, "client_msg_id")? },
            "pong" => ServerFrame::Pong,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests;
