use super::*;
use crate::base::error::{ApiError, ErrorCode};
use crate::base::json::tests::{same_as_serde, writes_as_serde};
use crate::base::json::from_json;
use crate::visitor::context::VisitorContext;

fn message(seq: u64, author: Author) -> ChatMessage {
    ChatMessage {
        seq,
        id: format!("c-1-{seq}"),
        author,
        text: "Есть ли «Orsa» в наличии?\nСпасибо".into(),
        at: 1_767_000_000_000 + seq,
        client_msg_id: None,
        action: None,
        attachment: None,
    }
}

fn full_message() -> ChatMessage {
    ChatMessage {
        client_msg_id: Some("m-000001".into()),
        action: Some(MessageAction::OfferCallback),
        attachment: Some(Attachment { id: "f-1234567890".into(), name: "photo.png".into(), kind: FileKind::Png, size: 12_345 }),
        ..message(3, Author::System)
    }
}

/// What the visitor's panel reads: serde's text of every frame a visitor is sent.
#[test]
fn every_frame_a_visitor_is_sent_reads_as_serde_wrote_it() {
    let frames = [
        ServerFrame::Welcome(Welcome {
            v: 1,
            conversation_id: "c-1".into(),
            history: vec![message(1, Author::Visitor), message(2, Author::Operator { name: "Анна".into() }), full_message()],
            reset: true,
            last_seq: 3,
            unread: 1,
            other_read_up_to: 2,
            operator_online: true,
            status: ConversationStatus::Closed,
        }),
        ServerFrame::Welcome(Welcome {
            v: 1,
            conversation_id: "c-2".into(),
            history: vec![],
            reset: false,
            last_seq: 0,
            unread: 0,
            other_read_up_to: 0,
            operator_online: false,
            status: ConversationStatus::Open,
        }),
        ServerFrame::Message(full_message()),
        ServerFrame::Message(message(9, Author::Operator { name: "Anna \"A\" \\".into() })),
        ServerFrame::Ack { client_msg_id: "m-000001".into(), seq: u64::MAX },
        ServerFrame::Typing { author: Author::Operator { name: "Анна".into() }, on: true },
        ServerFrame::Typing { author: Author::Visitor, on: false },
        ServerFrame::Read { by: Side::Operator, up_to_seq: 4 },
        ServerFrame::Read { by: Side::Visitor, up_to_seq: 0 },
        ServerFrame::Presence { operator_online: true },
        ServerFrame::Closed { at: 1_767_000_000_000 },
        ServerFrame::error(ApiError::new(ErrorCode::BadFrame, "malformed chat frame: x")),
        ServerFrame::Error {
            error: ApiError { field: Some("text".into()), ..ApiError::new(ErrorCode::RateLimited, "slow down") },
            client_msg_id: Some("m-000002".into()),
        },
        ServerFrame::Pong,
    ];
    for frame in frames {
        let text = serde_json::to_string(&frame).unwrap();
        assert_eq!(from_json::<ServerFrame>(&text), Some(frame), "{text}");
    }
}

#[test]
fn an_operators_context_frame_and_unknown_frames_are_not_read() {
    let context = ServerFrame::Context { context: Box::new(VisitorContext::default()) };
    assert_eq!(from_json::<ServerFrame>(&serde_json::to_string(&context).unwrap()), None);
    for text in [r#"{"type":"shout"}"#, r#"{"seq":1}"#, r#"{"type":"ack","client_msg_id":"m-000001"}"#, "[]", "not json"] {
        assert_eq!(from_json::<ServerFrame>(text), None, "{text}");
    }
    assert_eq!(
        from_json::<ServerFrame>(r#"{"type":"presence","operator_online":false,"later":{"field":[1.5]}}"#),
        Some(ServerFrame::Presence { operator_online: false }),
        "a field added later is ignored",
    );
}

/// What the visitor's panel sends: serde's text, which the worker reads with serde.
#[test]
fn every_client_frame_is_written_as_serde_writes_it() {
    for frame in [
        ClientFrame::Hello { v: 1, last_seen_seq: 7, client_id: "tab-1234".into() },
        ClientFrame::Send { client_msg_id: "m-000001".into(), text: "Hi!\n\"Is it\" in stock?\u{1}".into() },
        ClientFrame::Typing { on: true },
        ClientFrame::Typing { on: false },
        ClientFrame::Read { up_to_seq: 3 },
        ClientFrame::Close,
        ClientFrame::Ping,
    ] {
        writes_as_serde(&frame);
    }
}

#[test]
fn messages_and_the_stored_chat_match_serde_both_ways() {
    same_as_serde(&full_message());
    for author in [Author::Visitor, Author::Operator { name: "Анна".into() }, Author::System] {
        same_as_serde(&message(1, author));
    }
    for kind in [FileKind::Png, FileKind::Jpeg, FileKind::Gif, FileKind::Webp, FileKind::Pdf] {
        same_as_serde(&kind);
    }
    same_as_serde(&StoredChat::default());
    same_as_serde(&StoredChat {
        token: Some("t.oken".into()),
        token_expires_at: 1_767_000_000_000,
        conversation_id: Some("c-1".into()),
        messages: vec![message(1, Author::Visitor), full_message()],
        pending: vec![
            PendingMessage { client_msg_id: "m-000003".into(), text: "hi".into(), acked_seq: None },
            PendingMessage { client_msg_id: "m-000004".into(), text: "again".into(), acked_seq: Some(4) },
        ],
        read_up_to: 2,
        status: ConversationStatus::Closed,
    });
    // What an older build kept (serde's defaults for every missing field) still reads.
    assert_eq!(from_json::<StoredChat>("{}"), Some(StoredChat::default()));
    assert_eq!(from_json::<StoredChat>(r#"{"token":"t"}"#), serde_json::from_str::<StoredChat>(r#"{"token":"t"}"#).ok());
    assert_eq!(from_json::<StoredChat>(r#"{"messages":[{"seq":1}]}"#), None, "a message without its fields");
}
