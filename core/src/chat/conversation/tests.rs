use std::collections::VecDeque;

use proptest::prelude::*;

use super::store::{side_index, InMemoryStore};
use super::*;
use crate::chat::hub::{HubNotification, HubOutcome, SiteHub};
use crate::chat::protocol::{ChatClient, ClientEvent};

const T0: u64 = 1_700_000_000_000;

fn anna() -> Author {
    Author::Operator { name: "Anna".into() }
}

fn owner() -> ConversationOwner {
    ConversationOwner { site: "demo".into(), visitor_id: "visitor-0001".into(), user_id: None }
}

fn conversation(policy: ChatPolicy) -> Conversation<InMemoryStore> {
    let meta = ConversationMeta::new(owner(), "Visitor from Moscow", T0);
    Conversation::new("conv-0001", InMemoryStore::new("conv-0001", meta), policy)
}

fn chat() -> Conversation<InMemoryStore> {
    conversation(ChatPolicy::default())
}

fn send(c: &mut Conversation<InMemoryStore>, who: &Author, id: &str, text: &str, now: u64) -> Outcome {
    c.send(who, id, text, now, true).unwrap()
}

fn seqs(c: &Conversation<InMemoryStore>) -> Vec<u64> {
    c.store().all_messages().iter().map(|m| m.seq).collect()
}

#[test]
fn sends_get_gapless_seqs_from_one() {
    let mut c = chat();
    let out = send(&mut c, &Author::Visitor, "m-000001", " Hello ", T0 + 1);
    assert_eq!(out.reply, vec![ServerFrame::Ack { client_msg_id: "m-000001".into(), seq: 1 }]);
    let [AddressedFrame { to: Audience::Everyone, frame: ServerFrame::Message(m) }] = &out.broadcast[..] else {
        panic!("the message goes to everyone: {:?}", out.broadcast);
    };
    assert_eq!((m.seq, m.id.as_str(), m.text.as_str(), m.at), (1, "conv-0001-1", "Hello", T0 + 1));
    assert_eq!(out.stored, vec![m.clone()]);
    send(&mut c, &anna(), "op-000001", "Hi! How can I help?", T0 + 2);
    send(&mut c, &Author::Visitor, "m-000002", "Is it in stock?", T0 + 3);
    assert_eq!(seqs(&c), vec![1, 2, 3]);
    assert_eq!(c.last_seq().unwrap(), 3);
}

#[test]
fn a_resent_message_is_acked_again_and_not_stored_twice() {
    let mut c = chat();
    send(&mut c, &Author::Visitor, "m-000001", "Hello", T0);
    send(&mut c, &anna(), "op-000001", "Hi", T0 + 1);
    // Same id, even with different text: the original stands.
    let again = send(&mut c, &Author::Visitor, "m-000001", "Hello (edited)", T0 + 2);
    assert_eq!(again, Outcome::reply(ServerFrame::Ack { client_msg_id: "m-000001".into(), seq: 1 }));
    assert_eq!(seqs(&c), vec![1, 2]);
    // Keys are per side: an operator's id equal to the visitor's is a different message.
    send(&mut c, &anna(), "m-000001", "Anything else?", T0 + 3);
    assert_eq!(seqs(&c), vec![1, 2, 3]);
}

#[test]
fn hello_returns_exactly_what_follows_last_seen() {
    let mut c = chat();
    for i in 1..=5 {
        send(&mut c, &Author::Visitor, &format!("m-00000{i}"), &format!("line {i}"), T0 + i);
    }
    for last_seen in 0..=5 {
        let out = c.hello(&Author::Visitor, last_seen, false).unwrap();
        let [ServerFrame::Welcome(w)] = &out.reply[..] else { panic!("{:?}", out.reply) };
        assert!(!w.reset);
        assert_eq!(w.last_seq, 5);
        assert_eq!(w.history.iter().map(|m| m.seq).collect::<Vec<_>>(), ((last_seen + 1)..=5).collect::<Vec<_>>());
        assert!(out.broadcast.is_empty());
    }
}

#[test]
fn hello_beyond_the_end_resets_the_client() {
    let mut c = chat();
    send(&mut c, &Author::Visitor, "m-000001", "Hello", T0);
    let out = c.hello(&Author::Visitor, 42, true).unwrap();
    let [ServerFrame::Welcome(w)] = &out.reply[..] else { panic!() };
    assert!(w.reset);
    assert_eq!(w.history.len(), 1);
    assert!(w.operator_online);
}

#[test]
fn long_histories_overflow_into_message_frames() {
    let mut c = conversation(ChatPolicy { visitor_burst: 1000, ..ChatPolicy::default() });
    let total = WELCOME_HISTORY_LIMIT as u64 + 7;
    for i in 1..=total {
        send(&mut c, &Author::Visitor, &format!("m-{i:06}"), "x", T0 + i);
    }
    let out = c.hello(&anna(), 0, true).unwrap();
    let ServerFrame::Welcome(w) = &out.reply[0] else { panic!() };
    assert_eq!(w.history.len(), WELCOME_HISTORY_LIMIT);
    assert_eq!(w.unread, total);
    let rest: Vec<u64> = out.reply[1..]
        .iter()
        .map(|f| match f {
            ServerFrame::Message(m) => m.seq,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(rest, ((WELCOME_HISTORY_LIMIT as u64 + 1)..=total).collect::<Vec<_>>());
    // And the client assembles all of it, in order.
    let mut client = ChatClient::default();
    for frame in out.reply {
        assert_ne!(client.receive(frame), ClientEvent::Resync);
    }
    assert_eq!(client.last_seq(), total);
}

#[test]
fn read_markers_only_move_forward_and_drive_unread_counts() {
    let mut c = chat();
    send(&mut c, &Author::Visitor, "m-000001", "one", T0);
    send(&mut c, &Author::Visitor, "m-000002", "two", T0 + 1);
    assert_eq!(c.unread(Side::Operator).unwrap(), 2);
    assert_eq!(c.unread(Side::Visitor).unwrap(), 0, "your own messages are never unread");
    let out = c.read(&anna(), 1).unwrap();
    assert_eq!(out.broadcast, vec![AddressedFrame { to: Audience::AllButSender, frame: ServerFrame::Read { by: Side::Operator, up_to_seq: 1 } }]);
    assert_eq!(out.entry.as_ref().map(|e| e.unread_by_operator), Some(1));
    assert_eq!(c.unread(Side::Operator).unwrap(), 1);
    // Backwards or repeated: nothing.
    assert_eq!(c.read(&anna(), 0).unwrap(), Outcome::default());
    assert_eq!(c.read(&anna(), 1).unwrap(), Outcome::default());
    // Beyond the end is clamped.
    let out = c.read(&anna(), 99).unwrap();
    assert_eq!(out.broadcast[0].frame, ServerFrame::Read { by: Side::Operator, up_to_seq: 2 });
    assert_eq!(c.store().read_marker(Side::Operator).unwrap(), 2);
    // Answering reads everything before; the visitor now has one unread.
    send(&mut c, &anna(), "op-000001", "Hi", T0 + 2);
    assert_eq!(c.unread(Side::Visitor).unwrap(), 1);
    let out = c.hello(&Author::Visitor, 0, true).unwrap();
    let ServerFrame::Welcome(w) = &out.reply[0] else { panic!() };
    assert_eq!((w.unread, w.other_read_up_to), (1, 3));
    // A visitor read is broadcast but does not change the operators' list.
    let out = c.read(&Author::Visitor, 3).unwrap();
    assert!(out.entry.is_none());
    assert_eq!(c.unread(Side::Visitor).unwrap(), 0);
}

#[test]
fn system_notices_are_not_unread() {
    let mut c = chat();
    send(&mut c, &Author::Visitor, "m-000001", "anyone?", T0);
    c.on_alarm("Leave your phone and we'll call you back", T0 + 1, false).unwrap();
    assert_eq!(c.unread(Side::Visitor).unwrap(), 0);
    assert_eq!(c.unread(Side::Operator).unwrap(), 1);
}

#[test]
fn typing_is_throttled_and_addressed() {
    let mut c = chat();
    let out = c.typing(&Author::Visitor, true, T0).unwrap();
    assert_eq!(out.broadcast, vec![AddressedFrame { to: Audience::Operators, frame: ServerFrame::Typing { author: Author::Visitor, on: true } }]);
    assert_eq!(c.typing(&Author::Visitor, true, T0 + TYPING_REFRESH_MS - 1).unwrap(), Outcome::default());
    assert_eq!(c.typing(&Author::Visitor, true, T0 + TYPING_REFRESH_MS).unwrap().broadcast.len(), 1);
    assert_eq!(c.typing(&Author::Visitor, false, T0 + TYPING_REFRESH_MS + 1).unwrap().broadcast.len(), 1);
    assert_eq!(c.typing(&Author::Visitor, false, T0 + TYPING_REFRESH_MS + 2).unwrap(), Outcome::default());
    let out = c.typing(&anna(), true, T0).unwrap();
    assert_eq!(out.broadcast[0].to, Audience::AllButSender);
    // Sending ends typing, so the next "on" is broadcast at once.
    send(&mut c, &anna(), "op-000001", "Hi", T0 + 1);
    assert_eq!(c.typing(&anna(), true, T0 + 2).unwrap().broadcast.len(), 1);
}

#[test]
fn closing_is_for_operators_final_and_yields_one_transcript() {
    let mut c = chat();
    send(&mut c, &Author::Visitor, "m-000001", "Hello", T0);
    send(&mut c, &anna(), "op-000001", "Hi", T0 + 1);
    assert_eq!(c.close(&Author::Visitor, T0 + 2).unwrap_err().code, ErrorCode::Forbidden);
    let out = c.close(&anna(), T0 + 3).unwrap();
    assert_eq!(out.broadcast, vec![AddressedFrame { to: Audience::Everyone, frame: ServerFrame::Closed { at: T0 + 3 } }]);
    let transcript = out.transcript.unwrap();
    assert_eq!((transcript.opened_at, transcript.closed_at, transcript.messages.len()), (T0, T0 + 3, 2));
    assert_eq!(transcript.owner, owner());
    assert_eq!(out.entry.map(|e| e.status), Some(ConversationStatus::Closed));
    // Closing again: the same answer to the sender only, no second transcript.
    let again = c.close(&anna(), T0 + 4).unwrap();
    assert_eq!(again, Outcome::reply(ServerFrame::Closed { at: T0 + 3 }));
    // New messages are refused, but a re-send of a stored one is still acknowledged.
    let refused = c.handle(&Author::Visitor, ClientFrame::Send { client_msg_id: "m-000002".into(), text: "more".into() }, T0 + 5, true);
    let [ServerFrame::Error { error, client_msg_id }] = &refused.reply[..] else { panic!("{refused:?}") };
    assert_eq!((error.code, client_msg_id.as_deref()), (ErrorCode::ConversationClosed, Some("m-000002")));
    assert_eq!(
        send(&mut c, &Author::Visitor, "m-000001", "Hello", T0 + 6).reply,
        vec![ServerFrame::Ack { client_msg_id: "m-000001".into(), seq: 1 }]
    );
    assert_eq!(c.typing(&Author::Visitor, true, T0 + 7).unwrap(), Outcome::default());
    let welcome = c.hello(&Author::Visitor, 2, true).unwrap();
    assert!(matches!(&welcome.reply[0], ServerFrame::Welcome(w) if w.status == ConversationStatus::Closed));
    assert_eq!(seqs(&c), vec![1, 2]);
}

#[test]
fn token_bucket() {
    let mut bucket = TokenBucket::new(3, 60, T0);
    assert_eq!(bucket.try_take(T0), Ok(()));
    assert_eq!(bucket.try_take(T0), Ok(()));
    assert_eq!(bucket.try_take(T0), Ok(()));
    assert_eq!(bucket.try_take(T0 + 400), Err(600));
    assert_eq!(bucket.try_take(T0 + 1000), Ok(()));
    assert_eq!(bucket.try_take(T0 + 1500), Err(500));
    // A long pause refills to the burst, not beyond.
    let later = T0 + 3_600_000;
    for _ in 0..3 {
        assert_eq!(bucket.try_take(later), Ok(()));
    }
    assert!(bucket.try_take(later).is_err());
    // A clock going backwards neither panics nor refills.
    assert!(bucket.try_take(T0).is_err());
    // Degenerate settings still let someone speak eventually.
    let mut strict = TokenBucket::new(0, 0, T0);
    assert_eq!(strict.try_take(T0), Ok(()));
    assert_eq!(strict.try_take(T0), Err(60_000));
    assert_eq!(strict.try_take(T0 + 60_000), Ok(()));
}

#[test]
fn visitors_are_rate_limited_operators_and_resends_are_not() {
    let mut c = conversation(ChatPolicy { visitor_burst: 2, visitor_per_minute: 6, reply_wait_ms: 90_000, ..ChatPolicy::default() });
    send(&mut c, &Author::Visitor, "m-000001", "1", T0);
    send(&mut c, &Author::Visitor, "m-000002", "2", T0);
    let err = c.send(&Author::Visitor, "m-000003", "3", T0 + 1000, true).unwrap_err();
    assert_eq!(err.code, ErrorCode::RateLimited);
    assert!(err.message.contains("9 s"), "{}", err.message);
    // Re-sends of stored messages are answered regardless.
    assert_eq!(send(&mut c, &Author::Visitor, "m-000002", "2", T0 + 1000).reply.len(), 1);
    for i in 0..20 {
        send(&mut c, &anna(), &format!("op-{i:06}"), "answer", T0 + 1000);
    }
    send(&mut c, &Author::Visitor, "m-000003", "3", T0 + 10_000);
    assert_eq!(c.store().all_messages().iter().filter(|m| m.author == Author::Visitor).count(), 3);
    // The limiter survives hibernation through the adapter.
    let saved = c.rate_limit().unwrap();
    let mut fresh = conversation(ChatPolicy { visitor_burst: 2, visitor_per_minute: 6, reply_wait_ms: 90_000, ..ChatPolicy::default() });
    fresh.restore_rate_limit(saved);
    assert_eq!(fresh.send(&Author::Visitor, "m-000004", "4", T0 + 10_001, true).unwrap_err().code, ErrorCode::RateLimited);
}

#[test]
fn reply_check_decisions() {
    let wait = 90_000;
    assert_eq!(reply_check(None, T0, false, true, false, wait), ReplyCheck::Nothing);
    assert_eq!(reply_check(Some(T0), T0 + 1, false, true, false, wait), ReplyCheck::CheckAt(T0 + wait));
    assert_eq!(reply_check(Some(T0), T0 + wait - 1, false, true, false, wait), ReplyCheck::CheckAt(T0 + wait));
    assert_eq!(reply_check(Some(T0), T0 + wait, false, true, false, wait), ReplyCheck::OfferCallback);
    assert_eq!(reply_check(Some(T0), T0 + wait, true, true, false, wait), ReplyCheck::Nothing);
    assert_eq!(reply_check(Some(T0), T0 + wait, false, true, true, wait), ReplyCheck::Nothing);
    assert_eq!(reply_check(Some(T0), T0 + 1, false, false, false, wait), ReplyCheck::OfferCallback);
    assert_eq!(reply_check(Some(u64::MAX - 1), u64::MAX - 1, false, true, false, wait), ReplyCheck::CheckAt(u64::MAX));
}

#[test]
fn an_unanswered_visitor_is_offered_a_callback_once() {
    let mut c = chat();
    let wait = ChatPolicy::default().reply_wait_ms;
    let out = send(&mut c, &Author::Visitor, "m-000001", "Hello?", T0);
    assert_eq!(out.alarm_at, Some(T0 + wait));
    // A second message does not restart the clock.
    let out = send(&mut c, &Author::Visitor, "m-000002", "Anyone?", T0 + 10_000);
    assert_eq!(out.alarm_at, Some(T0 + wait));
    assert_eq!(c.on_alarm("offer", T0 + 10_001, true).unwrap().alarm_at, Some(T0 + wait));
    let out = c.on_alarm("We'll call you back — leave your phone", T0 + wait, true).unwrap();
    let [ChatMessage { author: Author::System, action: Some(MessageAction::OfferCallback), seq: 3, .. }] = &out.stored[..] else {
        panic!("{out:?}");
    };
    assert_eq!(out.broadcast.len(), 1);
    assert_eq!(c.on_alarm("offer", T0 + wait + 1, true).unwrap(), Outcome::default());
    // The visitor leaves a phone number: the list flags it and the hub announces it.
    let mut hub = SiteHub::new();
    hub.upsert(c.entry().unwrap(), 0);
    let out = c.callback_requested("Thanks! We'll call you.", T0 + wait + 2).unwrap();
    assert!(out.entry.as_ref().is_some_and(|e| e.callback_requested && e.awaiting_reply_since.is_none()));
    assert!(matches!(&hub.upsert(out.entry.unwrap(), 0).to_consoles[..], [HubNotification::CallbackRequested { .. }]));
    assert_eq!(c.callback_requested("again", T0 + wait + 3).unwrap(), Outcome::default());
}

#[test]
fn the_offer_tells_who_waits_since_when_and_what_they_asked_once() {
    let mut c = chat();
    let wait = ChatPolicy::default().reply_wait_ms;
    send(&mut c, &Author::Visitor, "m-000001", "Hi", T0);
    send(&mut c, &anna(), "op-000001", "Hello! One moment", T0 + 1_000);
    // Answered words are not waiting; the clock starts at the first unanswered one.
    send(&mut c, &Author::Visitor, "m-000002", "Is the <b>blue</b> one in stock?", T0 + 60_000);
    send(&mut c, &Author::Visitor, "m-000003", "Hello?", T0 + 90_000);
    assert_eq!(c.on_alarm("offer", T0 + 60_000 + wait - 1, true).unwrap().waiting, None, "not yet");
    let out = c.on_alarm("offer", T0 + 60_000 + wait, true).unwrap();
    let waiting = out.waiting.expect("the wait is told");
    assert_eq!(
        (waiting.site.as_str(), waiting.conversation_id.as_str(), waiting.visitor_id.as_str(), waiting.visitor_label.as_str()),
        ("demo", "conv-0001", "visitor-0001", "Visitor from Moscow")
    );
    assert_eq!((waiting.waiting_since, waiting.at, waiting.operator_online), (T0 + 60_000, T0 + 60_000 + wait, true));
    let texts: Vec<&str> = waiting.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["Is the <b>blue</b> one in stock?", "Hello?"], "the offer itself is not among them");
    assert_eq!(c.on_alarm("offer", T0 + 60_000 + wait + 1, true).unwrap().waiting, None, "told once");
}

#[test]
fn a_long_wait_carries_only_the_last_few_messages() {
    let mut c = chat();
    for i in 1..=8u64 {
        send(&mut c, &Author::Visitor, &format!("m-00000{i}"), &format!("message {i}"), T0 + i);
    }
    let waiting = c.on_alarm("offer", T0, false).unwrap().waiting.expect("nobody online: told at once");
    assert!(!waiting.operator_online);
    let texts: Vec<&str> = waiting.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["message 4", "message 5", "message 6", "message 7", "message 8"]);
}

#[test]
fn an_answer_cancels_the_offer_and_no_operator_means_no_wait() {
    let mut c = chat();
    send(&mut c, &Author::Visitor, "m-000001", "Hello?", T0);
    let out = send(&mut c, &anna(), "op-000001", "Hi!", T0 + 5_000);
    assert_eq!(out.alarm_at, None);
    assert_eq!(out.entry.as_ref().and_then(|e| e.awaiting_reply_since), None);
    assert_eq!(c.on_alarm("offer", T0 + 200_000, true).unwrap(), Outcome::default());

    let mut c = chat();
    let out = c.send(&Author::Visitor, "m-000001", "Hello?", T0, false).unwrap();
    assert_eq!(out.alarm_at, Some(T0), "nobody online: wake at once");
    assert_eq!(c.on_alarm("offer", T0, false).unwrap().stored.len(), 1);
}

#[test]
fn list_entries_follow_the_conversation() {
    let mut c = chat();
    let long = "word ".repeat(100);
    let out = send(&mut c, &Author::Visitor, "m-000001", &long, T0 + 5);
    let entry = out.entry.unwrap();
    assert_eq!(entry.conversation_id, "conv-0001");
    assert_eq!(entry.visitor_label, "Visitor from Moscow");
    assert!(entry.preview.chars().count() <= crate::chat::hub::PREVIEW_CHARS);
    assert_eq!((entry.unread_by_operator, entry.updated_at, entry.last_author), (1, T0 + 5, Some(Side::Visitor)));
    let next = send(&mut c, &anna(), "op-000001", "Hi", T0 + 6).entry.unwrap();
    assert!(next.revision > entry.revision);
    assert_eq!(next.unread_by_operator, 0);
}

#[test]
fn handle_turns_frames_into_outcomes_and_errors_into_error_frames() {
    let mut c = chat();
    let hello = ClientFrame::Hello { v: 1, last_seen_seq: 0, client_id: "tab-0001".into() };
    assert!(matches!(&c.handle(&Author::Visitor, hello, T0, true).reply[..], [ServerFrame::Welcome(_)]));
    assert_eq!(c.handle(&Author::Visitor, ClientFrame::Ping, T0, true).reply, vec![ServerFrame::Pong]);
    let err = |out: Outcome| match &out.reply[..] {
        [ServerFrame::Error { error, client_msg_id }] => (error.code, client_msg_id.clone()),
        other => panic!("{other:?}"),
    };
    let bad_version = ClientFrame::Hello { v: 9, last_seen_seq: 0, client_id: "tab-0001".into() };
    assert_eq!(err(c.handle(&Author::Visitor, bad_version, T0, true)), (ErrorCode::UnsupportedVersion, None));
    let empty = ClientFrame::Send { client_msg_id: "m-000001".into(), text: " \u{7} ".into() };
    assert_eq!(err(c.handle(&Author::Visitor, empty, T0, true)), (ErrorCode::EmptyMessage, Some("m-000001".into())));
    let long = ClientFrame::Send { client_msg_id: "m-000001".into(), text: "x".repeat(2001) };
    assert_eq!(err(c.handle(&Author::Visitor, long, T0, true)), (ErrorCode::MessageTooLong, Some("m-000001".into())));
    let bad_id = ClientFrame::Send { client_msg_id: "m1".into(), text: "hi".into() };
    assert_eq!(err(c.handle(&Author::Visitor, bad_id, T0, true)), (ErrorCode::BadFrame, Some("m1".into())));
    assert_eq!(err(c.handle(&Author::Visitor, ClientFrame::Close, T0, true)), (ErrorCode::Forbidden, None));
    assert_eq!(err(c.handle(&Author::System, ClientFrame::Typing { on: true }, T0, true)).0, ErrorCode::Forbidden);
    assert!(c.store().all_messages().is_empty());
}

#[test]
fn presence_changes_reach_visitors() {
    let c = chat();
    assert_eq!(
        c.presence_changed(false).broadcast,
        vec![AddressedFrame { to: Audience::Visitors, frame: ServerFrame::Presence { operator_online: false } }]
    );
}

#[test]
fn the_visitors_new_context_reaches_operators_and_their_contact_renames_them_in_the_list() {
    let mut c = chat();
    let first = send(&mut c, &Author::Visitor, "m-000001", "hi", T0 + 5).entry.unwrap();
    let context: crate::visitor::context::VisitorContext = serde_json::from_value(serde_json::json!({
        "pages_viewed": 3, "active_seconds": 40, "returning": false, "locale": "ru", "page_url": "https://shop.example/p/2"
    }))
    .unwrap();
    let out = c.context_changed(context.clone(), None).unwrap();
    assert_eq!(out.broadcast, vec![AddressedFrame { to: Audience::Operators, frame: ServerFrame::Context { context: Box::new(context.clone()) } }]);
    assert!(out.entry.is_none() && out.stored.is_empty(), "nothing in the list changes, nothing is stored");
    // The same label again changes nothing; a contact renames, without moving the row.
    assert!(c.context_changed(context.clone(), Some("Visitor from Moscow".into())).unwrap().entry.is_none());
    let renamed = c.context_changed(context.clone(), Some("olga@example.com".into())).unwrap().entry.unwrap();
    assert_eq!(renamed.visitor_label, "olga@example.com");
    assert!(renamed.revision > first.revision);
    assert_eq!(renamed.updated_at, first.updated_at);
    // Closed: nobody is told anything.
    c.handle(&anna(), ClientFrame::Close, T0 + 10, true);
    assert_eq!(c.context_changed(context, Some("x@example.com".into())).unwrap(), Outcome::default());
}

#[test]
fn taking_a_conversation_shows_in_the_list_and_can_be_handed_on() {
    let mut c = chat();
    let first = send(&mut c, &Author::Visitor, "m-000001", "hi", T0 + 5).entry.unwrap();
    assert_eq!(first.assignee, None);
    let anna = Assignee { operator_id: "op-anna".into(), name: "Anna".into() };
    let taken = c.assign(anna.clone(), T0 + 6).unwrap().entry.unwrap();
    assert_eq!(taken.assignee.as_ref(), Some(&anna));
    assert!(taken.revision > first.revision, "the hub takes the newer entry");
    assert_eq!(c.assign(anna, T0 + 7).unwrap(), Outcome::default(), "taking it again changes nothing");
    let boris = Assignee { operator_id: "op-boris".into(), name: "Boris".into() };
    assert_eq!(c.assign(boris.clone(), T0 + 8).unwrap().entry.unwrap().assignee, Some(boris.clone()));
    c.handle(&Author::Operator { name: "Boris".into() }, ClientFrame::Close, T0 + 9, true);
    assert_eq!(c.assign(boris, T0 + 10).unwrap_err().code, ErrorCode::ConversationClosed);
}

/// A store with a bug: it skips a seq.
struct SkippingStore(InMemoryStore);

impl ConversationStore for SkippingStore {
    fn meta(&self) -> Result<ConversationMeta, ApiError> {
        self.0.meta()
    }
    fn set_meta(&mut self, meta: &ConversationMeta) -> Result<(), ApiError> {
        self.0.set_meta(meta)
    }
    fn append(&mut self, message: NewMessage) -> Result<ChatMessage, ApiError> {
        let mut stored = self.0.append(message)?;
        stored.seq += 1;
        Ok(stored)
    }
    fn find_by_client_msg_id(&self, side: Side, id: &str) -> Result<Option<ChatMessage>, ApiError> {
        self.0.find_by_client_msg_id(side, id)
    }
    fn messages_after(&self, after_seq: u64) -> Result<Vec<ChatMessage>, ApiError> {
        self.0.messages_after(after_seq)
    }
    fn last_message(&self) -> Result<Option<ChatMessage>, ApiError> {
        self.0.last_message()
    }
    fn read_marker(&self, side: Side) -> Result<u64, ApiError> {
        self.0.read_marker(side)
    }
    fn set_read_marker(&mut self, side: Side, up_to_seq: u64) -> Result<(), ApiError> {
        self.0.set_read_marker(side, up_to_seq)
    }
    fn count_by_after(&self, author: Side, after_seq: u64) -> Result<u64, ApiError> {
        self.0.count_by_after(author, after_seq)
    }
}

#[test]
fn a_store_that_breaks_seq_order_is_an_internal_error() {
    let meta = ConversationMeta::new(owner(), "v", T0);
    let mut c = Conversation::new("conv-0001", SkippingStore(InMemoryStore::new("conv-0001", meta)), ChatPolicy::default());
    let err = c.send(&Author::Visitor, "m-000001", "hi", T0, true).unwrap_err();
    assert_eq!(err.code, ErrorCode::Internal);
}

mod delivery_guarantee;

#[test]
fn silence_closes_a_conversation_as_an_operator_would_and_activity_postpones_it() {
    let idle = DEFAULT_IDLE_CLOSE_MS;
    let mut c = chat();
    assert_eq!(c.idle_close_at().unwrap(), Some(T0 + idle), "a conversation nobody writes in closes too");
    send(&mut c, &Author::Visitor, "m-000001", "Hello?", T0 + 1_000);
    send(&mut c, &anna(), "op-000001", "Hi!", T0 + 60_000);
    assert_eq!(c.idle_close_at().unwrap(), Some(T0 + 60_000 + idle), "either side's message restarts the silence");
    let early = c.on_alarm("offer", T0 + 60_000 + idle - 1, true).unwrap();
    assert_eq!(early.transcript, None);
    assert_eq!(c.entry().unwrap().status, ConversationStatus::Open);

    let closed_at = T0 + 60_000 + idle;
    let out = c.on_alarm("offer", closed_at, true).unwrap();
    assert_eq!(out.broadcast, vec![AddressedFrame { to: Audience::Everyone, frame: ServerFrame::Closed { at: closed_at } }]);
    let transcript = out.transcript.expect("the transcript goes out as on an operator's close");
    assert_eq!((transcript.closed_at, transcript.messages.len()), (closed_at, 2));
    let entry = out.entry.expect("the list hears of it");
    assert_eq!((entry.status, entry.listed_until), (ConversationStatus::Closed, Some(closed_at + idle)));
    assert_eq!(c.idle_close_at().unwrap(), None);
    assert_eq!(c.on_alarm("offer", closed_at + 1, true).unwrap(), Outcome::default(), "closed once");
    let refused = c.send(&Author::Visitor, "m-000002", "still there?", closed_at + 2, true);
    assert_eq!(refused.unwrap_err().code, ErrorCode::ConversationClosed);

    // The hub shows it closed for one more idle period, then drops it and tells the consoles.
    let mut hub = SiteHub::new();
    hub.upsert(entry, 0);
    assert_eq!(hub.forget_closed(closed_at + idle - 1).0, Vec::<String>::new());
    let (removed, outcome) = hub.forget_closed(closed_at + idle);
    assert_eq!(removed, vec!["conv-0001".to_owned()]);
    assert_eq!(outcome.to_consoles, vec![HubNotification::ConversationRemoved { conversation_id: "conv-0001".into() }]);
    assert!(hub.list().is_empty(), "the snapshot every console receives no longer holds it");
}

#[test]
fn the_idle_deadline_is_open_conversations_only_and_never_overflows() {
    let mut meta = ConversationMeta::new(owner(), "V", T0);
    assert_eq!(idle_close_at(&meta, 1_000), Some(T0 + 1_000));
    meta.updated_at = u64::MAX - 1;
    assert_eq!(idle_close_at(&meta, 1_000), Some(u64::MAX));
    meta.status = ConversationStatus::Closed;
    assert_eq!(idle_close_at(&meta, 1_000), None);
}

#[test]
fn the_visitor_rates_a_closed_conversation_once_and_the_crm_gets_it_with_the_transcript() {
    let mut c = chat();
    send(&mut c, &Author::Visitor, "m-000001", "Is it in stock?", T0);
    send(&mut c, &anna(), "op-000001", "Yes!", T0 + 1_000);
    // Not while it is open, and never by an operator.
    assert_eq!(c.rate(&Author::Visitor, 5, T0 + 2_000).unwrap_err().code, ErrorCode::Forbidden);
    c.close(&anna(), T0 + 3_000).unwrap();
    assert_eq!(c.rate(&anna(), 5, T0 + 4_000).unwrap_err().code, ErrorCode::Forbidden);
    for bad in [0, 6, 255] {
        assert_eq!(c.rate(&Author::Visitor, bad, T0 + 4_000).unwrap_err().code, ErrorCode::InvalidRating, "{bad}");
    }
    let out = c.rate(&Author::Visitor, 4, T0 + 5_000).unwrap();
    let rated = out.rated.expect("the CRM hears of it");
    assert_eq!((rated.site.as_str(), rated.conversation_id.as_str(), rated.visitor_id.as_str()), ("demo", "conv-0001", "visitor-0001"));
    assert_eq!(rated.rating, Rating { score: 4, at: T0 + 5_000 });
    let texts: Vec<&str> = rated.transcript.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["Is it in stock?", "Yes!"]);
    let entry = out.entry.expect("the list shows it");
    assert_eq!((entry.rating, entry.updated_at), (Some(4), T0 + 3_000), "a rating is not activity");
    // The first rating stands.
    assert_eq!(c.rate(&Author::Visitor, 1, T0 + 6_000).unwrap(), Outcome::default());
    assert_eq!(c.entry().unwrap().rating, Some(4));
}

#[test]
fn a_rating_comes_within_a_day_of_the_close() {
    let mut c = chat();
    send(&mut c, &Author::Visitor, "m-000001", "Hi", T0);
    c.close(&anna(), T0 + 1).unwrap();
    assert_eq!(c.rate(&Author::Visitor, 5, T0 + 1 + RATING_WINDOW_MS + 1).unwrap_err().code, ErrorCode::Forbidden);
    assert!(c.rate(&Author::Visitor, 5, T0 + 1 + RATING_WINDOW_MS).unwrap().rated.is_some());
}

#[test]
fn a_late_rating_does_not_bring_a_conversation_back_to_the_list_as_new() {
    let idle = DEFAULT_IDLE_CLOSE_MS;
    let mut c = chat();
    send(&mut c, &Author::Visitor, "m-000001", "Hi", T0);
    let closed = c.close(&anna(), T0 + 1).unwrap().entry.unwrap();
    let mut hub = SiteHub::new();
    hub.upsert(closed, T0 + 1);
    assert_eq!(hub.forget_closed(T0 + 1 + idle).0, vec!["conv-0001".to_owned()], "its time in the list is over");

    let late = c.rate(&Author::Visitor, 2, T0 + 1 + idle + 60_000).unwrap();
    assert!(late.rated.is_some(), "the CRM still hears of it");
    assert_eq!(late.entry, None, "no list entry for a conversation no longer listed");
    // Even an entry that does reach the hub (a retry, an older worker) stays out of the list.
    let stale = c.entry().unwrap();
    assert_eq!(hub.upsert(stale, T0 + 1 + idle + 60_000), HubOutcome::default());
    assert!(hub.list().is_empty());
}

#[test]
fn files_go_both_ways_once_each_and_a_conversation_holds_a_bounded_number() {
    use crate::chat::attachment::{Attachment, FileKind, MAX_ATTACHMENTS_PER_CONVERSATION};
    let file = |n: u32| Attachment { id: format!("file-{n:06}-abcdefghij"), name: format!("photo {n}.png"), kind: FileKind::Png, size: 1_000 };
    let mut c = chat();
    let out = c.attach(&Author::Visitor, "f-000001", file(1), T0, true).unwrap();
    let stored = &out.stored[0];
    assert_eq!((stored.text.as_str(), stored.attachment.as_ref()), ("photo 1.png", Some(&file(1))), "the name is the text");
    assert!(matches!(&out.broadcast[0].frame, ServerFrame::Message(m) if m.attachment == Some(file(1))), "both sides see it");
    assert_eq!(c.entry().unwrap().awaiting_reply_since, Some(T0), "a visitor's file waits for an answer like a message");
    // A retry of the same upload is the same message, not a second file.
    let again = c.attach(&Author::Visitor, "f-000001", file(1), T0 + 1, true).unwrap();
    assert_eq!(again.reply, vec![ServerFrame::Ack { client_msg_id: "f-000001".into(), seq: 1 }]);
    assert!(again.stored.is_empty());
    let answer = c.attach(&anna(), "op-file-01", file(2), T0 + 2, true).unwrap();
    assert_eq!(answer.stored[0].author, anna());
    assert_eq!(c.entry().unwrap().awaiting_reply_since, None, "the operator's file answers");
    for n in 3..=MAX_ATTACHMENTS_PER_CONVERSATION {
        c.attach(&anna(), &format!("op-file-{n:02}"), file(n), T0 + 10 + u64::from(n), true).unwrap();
    }
    let refused = c.attach(&anna(), "op-file-99", file(99), T0 + 100, true).unwrap_err();
    assert_eq!(refused.code, ErrorCode::TooManyFiles);
    assert!(c.send(&anna(), "op-000001", "Text still goes", T0 + 101, true).is_ok());
    // A forged attachment (an id that could name another key) never reaches the store.
    let forged = Attachment { id: "../other".into(), ..file(1) };
    assert!(c.attach(&Author::Visitor, "f-000002", forged, T0 + 102, true).is_err());
    c.close(&anna(), T0 + 200).unwrap();
    assert_eq!(c.attach(&Author::Visitor, "f-000003", file(3), T0 + 201, true).unwrap_err().code, ErrorCode::ConversationClosed);
}
