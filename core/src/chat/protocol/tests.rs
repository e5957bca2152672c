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
        attachment: None,
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
