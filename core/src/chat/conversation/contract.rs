//! The [`ConversationStore`] contract as a runnable check, so that a store implemented elsewhere
//! (the Durable Object's SQLite store runs only inside workerd) can be held to the same rules as
//! [`InMemoryStore`]: [`check_store`] exercises every method directly, then drives a
//! [`Conversation`] through a scripted chat over both stores and requires identical outcomes.

use super::store::InMemoryStore;
use super::*;

/// Runs the contract against `store`, which must be fresh (no messages, no meta yet) and belong to
/// conversation `conversation_id`. Returns the first broken rule.
pub fn check_store<S: ConversationStore>(conversation_id: &str, mut store: S) -> Result<(), String> {
    let t0 = 1_700_000_000_000u64;
    let owner = ConversationOwner { site: "demo".into(), visitor_id: "visitor-0001".into(), user_id: Some("user \"42\"".into()) };
    let meta = ConversationMeta::new(owner.clone(), "Visitor «Москва»", t0);
    store.set_meta(&meta).map_err(err("set_meta"))?;
    expect("meta round-trips", store.meta().map_err(err("meta"))?, meta.clone())?;
    expect("a fresh store has no last message", store.last_message().map_err(err("last_message"))?, None)?;
    for side in [Side::Visitor, Side::Operator] {
        expect("read markers start at 0", store.read_marker(side).map_err(err("read_marker"))?, 0)?;
    }

    let anna = Author::Operator { name: "Анна O'Neil".into() };
    // A file travels in the same column as an action (the SQLite store's `Extra`): both must round-trip.
    let photo = crate::chat::attachment::Attachment {
        id: "file-0000000000000001".into(),
        name: "Фото «1».jpg".into(),
        kind: crate::chat::attachment::FileKind::Jpeg,
        size: 123_456,
    };
    let script = [
        (Author::Visitor, "Здравствуйте!\nЕсть ли в наличии? 👩\u{200D}💻", Some("m-000001"), None, None),
        (anna.clone(), "Да, <b>есть</b> & будет", Some("m-000001"), None, None),
        (Author::System, "Оставьте телефон", None, Some(MessageAction::OfferCallback), None),
        (Author::Visitor, "Фото «1».jpg", Some("m-000002"), None, Some(photo)),
    ];
    for (i, (author, text, key, action, attachment)) in script.iter().enumerate() {
        let seq = i as u64 + 1;
        let new = NewMessage {
            author: author.clone(),
            text: (*text).to_owned(),
            at: t0 + seq,
            client_msg_id: key.map(str::to_owned),
            action: *action,
            attachment: attachment.clone(),
        };
        let stored = store.append(new).map_err(err("append"))?;
        let expected = ChatMessage {
            seq,
            id: message_id(conversation_id, seq),
            author: author.clone(),
            text: (*text).to_owned(),
            at: t0 + seq,
            client_msg_id: key.map(str::to_owned),
            action: *action,
            attachment: attachment.clone(),
        };
        expect("append assigns the next seq and the derived id", stored.clone(), expected.clone())?;
        expect("last_message is the newest", store.last_message().map_err(err("last_message"))?, Some(expected))?;
    }
    let all = store.messages_after(0).map_err(err("messages_after"))?;
    expect("messages_after(0) is everything in seq order", all.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4])?;
    expect("messages_after(2)", store.messages_after(2).map_err(err("messages_after"))?, all[2..].to_vec())?;
    expect("messages_after(last)", store.messages_after(4).map_err(err("messages_after"))?, vec![])?;
    expect("messages_after(beyond)", store.messages_after(99).map_err(err("messages_after"))?, vec![])?;

    let find = |store: &S, side, key: &str| store.find_by_client_msg_id(side, key).map_err(err("find_by_client_msg_id"));
    expect("keys are found per side (visitor)", find(&store, Side::Visitor, "m-000001")?.map(|m| m.seq), Some(1))?;
    expect("keys are found per side (operator)", find(&store, Side::Operator, "m-000001")?.map(|m| m.seq), Some(2))?;
    expect("the other side's key is not ours", find(&store, Side::Operator, "m-000002")?, None)?;
    expect("unknown keys", find(&store, Side::Visitor, "m-999999")?, None)?;

    let count = |store: &S, side, after| store.count_by_after(side, after).map_err(err("count_by_after"));
    expect("count visitor after 0", count(&store, Side::Visitor, 0)?, 2)?;
    expect("count visitor after 1", count(&store, Side::Visitor, 1)?, 1)?;
    expect("count operator after 0", count(&store, Side::Operator, 0)?, 1)?;
    expect("system notices are nobody's", count(&store, Side::Operator, 2)?, 0)?;

    store.set_read_marker(Side::Operator, 3).map_err(err("set_read_marker"))?;
    expect("read marker set", store.read_marker(Side::Operator).map_err(err("read_marker"))?, 3)?;
    expect("the other marker untouched", store.read_marker(Side::Visitor).map_err(err("read_marker"))?, 0)?;
    let mut later = meta;
    later.status = ConversationStatus::Closed;
    later.closed_at = Some(t0 + 99);
    later.awaiting_reply_since = Some(t0 + 5);
    later.callback_offered = true;
    later.revision = 7;
    store.set_meta(&later).map_err(err("set_meta"))?;
    expect("meta replaced", store.meta().map_err(err("meta"))?, later)?;
    Ok(())
}

/// Drives the same scripted chat through a [`Conversation`] over `store` and over an
/// [`InMemoryStore`]; every outcome must be identical. `store` must be fresh.
pub fn check_conversation<S: ConversationStore>(conversation_id: &str, mut store: S) -> Result<(), String> {
    let t0 = 1_700_000_000_000u64;
    let owner = ConversationOwner { site: "demo".into(), visitor_id: "visitor-0001".into(), user_id: None };
    let meta = ConversationMeta::new(owner, "Visitor", t0);
    store.set_meta(&meta).map_err(err("set_meta"))?;
    let policy = ChatPolicy { visitor_burst: 3, visitor_per_minute: 6, reply_wait_ms: 60_000, ..ChatPolicy::default() };
    let mut real = Conversation::new(conversation_id, store, policy);
    let mut reference = Conversation::new(conversation_id, InMemoryStore::new(conversation_id, meta), policy);
    let anna = Author::Operator { name: "Anna".into() };
    let hello = |seq| ClientFrame::Hello { v: CHAT_PROTOCOL_VERSION, last_seen_seq: seq, client_id: "tab-0001".into() };
    let send = |id: &str, text: &str| ClientFrame::Send { client_msg_id: id.into(), text: text.into() };
    let steps: Vec<(Author, ClientFrame, u64, bool)> = vec![
        (Author::Visitor, hello(0), 0, true),
        (Author::Visitor, send("m-000001", " Hello\r\nthere "), 10, true),
        (Author::Visitor, send("m-000001", "Hello again (a re-send)"), 11, true),
        (Author::Visitor, ClientFrame::Typing { on: true }, 12, true),
        (anna.clone(), hello(0), 13, true),
        (anna.clone(), ClientFrame::Read { up_to_seq: 1 }, 14, true),
        (anna.clone(), send("m-000001", "Hi! How can I help?"), 15, true),
        (Author::Visitor, send("m-000002", "one"), 16, true),
        (Author::Visitor, send("m-000003", "two"), 17, true),
        (Author::Visitor, send("m-000004", "three: rate limited"), 18, true),
        (Author::Visitor, send("m-000005", &"x".repeat(MAX_MESSAGE_CHARS_FOR_CHECK + 1)), 19, true),
        (Author::Visitor, ClientFrame::Read { up_to_seq: 99 }, 20, true),
        (Author::Visitor, hello(2), 21, false),
        (Author::Visitor, hello(50), 22, false),
        (Author::Visitor, ClientFrame::Close, 23, false),
        (anna.clone(), ClientFrame::Close, 24, false),
        (Author::Visitor, send("m-000006", "after close"), 25, false),
        (anna, ClientFrame::Close, 26, false),
    ];
    for (i, (who, frame, dt, online)) in steps.into_iter().enumerate() {
        let a = real.handle(&who, frame.clone(), t0 + dt, online);
        let b = reference.handle(&who, frame, t0 + dt, online);
        expect(&format!("step {i}: same outcome"), a, b)?;
        expect(&format!("step {i}: same rate limit"), real.rate_limit(), reference.rate_limit())?;
    }
    let offer = real.on_alarm("offer", t0 + 30, false);
    expect("alarm after close", offer, reference.on_alarm("offer", t0 + 30, false))?;
    expect("same transcript", real.transcript().map_err(err("transcript"))?, reference.transcript().map_err(err("transcript"))?)?;
    expect("same entry", real.entry().map_err(err("entry"))?, reference.entry().map_err(err("entry"))?)?;
    Ok(())
}

const MAX_MESSAGE_CHARS_FOR_CHECK: usize = crate::chat::protocol::MAX_MESSAGE_CHARS;

fn err(what: &'static str) -> impl Fn(ApiError) -> String {
    move |e| format!("{what} failed: {e}")
}

fn expect<T: PartialEq + std::fmt::Debug>(rule: &str, got: T, want: T) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{rule}: got {got:?}, want {want:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh(id: &str) -> InMemoryStore {
        let owner = ConversationOwner { site: "x".into(), visitor_id: "nobody-00".into(), user_id: None };
        InMemoryStore::new(id, ConversationMeta::new(owner, "", 0))
    }

    #[test]
    fn the_reference_store_meets_the_contract() {
        check_store("conv-0001", fresh("conv-0001")).unwrap();
        check_conversation("conv-0002", fresh("conv-0002")).unwrap();
    }

    /// A store that forgets per-side key scoping must fail the check.
    #[test]
    fn a_broken_store_is_caught() {
        struct Unscoped(InMemoryStore);
        impl ConversationStore for Unscoped {
            fn meta(&self) -> Result<ConversationMeta, ApiError> { self.0.meta() }
            fn set_meta(&mut self, meta: &ConversationMeta) -> Result<(), ApiError> { self.0.set_meta(meta) }
            fn append(&mut self, message: NewMessage) -> Result<ChatMessage, ApiError> { self.0.append(message) }
            fn find_by_client_msg_id(&self, _side: Side, id: &str) -> Result<Option<ChatMessage>, ApiError> {
                self.0.find_by_client_msg_id(Side::Visitor, id)
            }
            fn messages_after(&self, after: u64) -> Result<Vec<ChatMessage>, ApiError> { self.0.messages_after(after) }
            fn last_message(&self) -> Result<Option<ChatMessage>, ApiError> { self.0.last_message() }
            fn read_marker(&self, side: Side) -> Result<u64, ApiError> { self.0.read_marker(side) }
            fn set_read_marker(&mut self, side: Side, seq: u64) -> Result<(), ApiError> { self.0.set_read_marker(side, seq) }
            fn count_by_after(&self, side: Side, after: u64) -> Result<u64, ApiError> { self.0.count_by_after(side, after) }
        }
        assert!(check_store("conv-0001", Unscoped(fresh("conv-0001"))).is_err());
        assert!(check_conversation("conv-0001", Unscoped(fresh("conv-0001"))).is_err());
    }
}
