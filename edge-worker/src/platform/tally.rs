//! Counts of what this isolate has done since it started, for the benches and the tests that
//! check a cost (read through `GET /v1/admin/tally`, on test deployments only). Locally every
//! Durable Object runs in the worker's one isolate, so the counts are the whole stack's.

use std::sync::atomic::{AtomicU64, Ordering};

/// One kind of work worth counting.
#[derive(Clone, Copy)]
pub enum Tally {
    /// A round trip to D1 (a statement, a batch).
    D1RoundTrip,
    /// A frame a Conversation object received on a WebSocket.
    ChatFrame,
    /// A Conversation object's alarm that rang.
    ConversationAlarm,
    /// A Conversation object's alarm set (or moved).
    ConversationAlarmSet,
    /// A list line a Conversation object sent to its site's hub.
    HubEntry,
}

const NAMES: [&str; 5] = ["d1_round_trips", "chat_frames", "conversation_alarms", "conversation_alarms_set", "hub_entries"];

static COUNTS: [AtomicU64; NAMES.len()] = [const { AtomicU64::new(0) }; NAMES.len()];

pub fn count(what: Tally) {
    COUNTS[what as usize].fetch_add(1, Ordering::Relaxed);
}

/// Every count by name.
pub fn snapshot() -> serde_json::Map<String, serde_json::Value> {
    NAMES.iter().zip(&COUNTS).map(|(name, count)| ((*name).to_owned(), count.load(Ordering::Relaxed).into())).collect()
}
