//! The operators' live list of conversations, and what one console knows of its site's hub.
//!
//! The list has two copies: the site's hub keeps one ([`crate::chat::hub::SiteHub`]) and every console
//! mirrors it from the hub's notifications ([`HubMirror`]). Both are a [`ConversationList`], so
//! they follow one set of rules:
//! - per conversation the highest `revision` wins, since two updates from one conversation may
//!   arrive in either order (an equal revision is the same update heard twice);
//! - most recent activity first, ties broken by conversation id, so two copies of the list show
//!   the same order whatever order the updates came in;
//! - at most [`MAX_ENTRIES`]; beyond it the longest-closed conversations are dropped, never an open
//!   one, since an operator still owes it an answer;
//! - a closed conversation leaves the list when its `listed_until` passes ([`ConversationList::forget_closed`]);
//!   with conversations closing themselves after a silence, the list holds only what is current.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::chat::hub::{ConversationEntry, HubNotification, OperatorAvailability, OperatorPresence};
use crate::chat::offline::OfflineMessage;
use crate::chat::operator_view::CallbackEntry;
use crate::chat::protocol::ConversationStatus;

/// Most conversations a list keeps (see the module's rules for which go first).
pub const MAX_ENTRIES: usize = 1000;

/// What [`ConversationList::upsert`] did with an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upserted {
    /// Not newer than the entry held (by `revision`): nothing changed.
    Stale,
    /// The list had not held this conversation.
    Added,
    /// A newer entry replaced `previous`.
    Replaced { previous: ConversationEntry },
}

/// The live list; serialised as a map by conversation id (the hub keeps it across hibernation).
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(transparent)]
pub struct ConversationList {
    by_id: BTreeMap<String, ConversationEntry>,
}

impl ConversationList {
    pub fn new() -> ConversationList {
        ConversationList::default()
    }

    /// A list holding `entries` under the list's rules (a snapshot from the hub).
    pub fn from_entries(entries: impl IntoIterator<Item = ConversationEntry>) -> ConversationList {
        let mut list = ConversationList::new();
        for entry in entries {
            list.upsert(entry);
        }
        list
    }

    /// Keeps `entry` if it is newer than what the list holds for its conversation.
    pub fn upsert(&mut self, entry: ConversationEntry) -> Upserted {
        if self.by_id.get(&entry.conversation_id).is_some_and(|held| held.revision >= entry.revision) {
            return Upserted::Stale;
        }
        let upserted = match self.by_id.insert(entry.conversation_id.clone(), entry) {
            None => Upserted::Added,
            Some(previous) => Upserted::Replaced { previous },
        };
        self.evict();
        upserted
    }

    /// Drops a conversation (erased with its visitor, or a console hearing that the hub dropped
    /// it); whether the list held it.
    pub fn remove(&mut self, conversation_id: &str) -> bool {
        self.by_id.remove(conversation_id).is_some()
    }

    pub fn get(&self, conversation_id: &str) -> Option<&ConversationEntry> {
        self.by_id.get(conversation_id)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The list as consoles show it: most recent activity first, ties by conversation id.
    pub fn ordered(&self) -> Vec<&ConversationEntry> {
        let mut list: Vec<_> = self.by_id.values().collect();
        list.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then_with(|| a.conversation_id.cmp(&b.conversation_id)));
        list
    }

    /// Total unread across open conversations (the console's tab title).
    pub fn unread_total(&self) -> u64 {
        self.by_id.values().filter(|e| e.status == ConversationStatus::Open).map(|e| e.unread_by_operator).sum()
    }

    /// Removes the closed conversations whose `listed_until` is not after `now` (a closed entry
    /// without one, stored before the field existed, stays until evicted by size) and returns
    /// their ids, oldest first.
    pub fn forget_closed(&mut self, now: u64) -> Vec<String> {
        let mut gone: Vec<(u64, String)> = self
            .by_id
            .values()
            .filter(|e| e.status == ConversationStatus::Closed && e.listed_until.is_some_and(|until| until <= now))
            .map(|e| (e.updated_at, e.conversation_id.clone()))
            .collect();
        gone.sort();
        for (_, id) in &gone {
            self.by_id.remove(id);
        }
        gone.into_iter().map(|(_, id)| id).collect()
    }

    fn evict(&mut self) {
        while self.by_id.len() > MAX_ENTRIES {
            let oldest_closed = self
                .by_id
                .values()
                .filter(|e| e.status == ConversationStatus::Closed)
                .min_by_key(|e| (e.updated_at, e.conversation_id.as_str()))
                .map(|e| e.conversation_id.clone());
            match oldest_closed {
                Some(id) => {
                    self.by_id.remove(&id);
                }
                None => break,
            }
        }
    }
}

/// Something a console announces (a banner; the tab may make a sound).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alert {
    NewConversation { visitor_label: String },
    CallbackRequested { visitor_label: String },
    OfflineMessage { visitor_label: String },
}

impl Alert {
    pub fn text(&self) -> String {
        match self {
            Alert::NewConversation { visitor_label } => format!("New conversation: {visitor_label}"),
            Alert::CallbackRequested { visitor_label } => format!("Callback requested: {visitor_label}"),
            Alert::OfflineMessage { visitor_label } => format!("Message left after hours: {visitor_label}"),
        }
    }
}

/// What a console does about a notification besides showing the new state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MirrorReaction {
    pub alert: Option<Alert>,
    /// The callback queue may have changed on the server (or while the console was away): fetch it.
    pub reload_callbacks: bool,
    /// The messages left after hours may have changed: fetch them.
    pub reload_offline: bool,
}

/// What one console knows of its site's hub: the conversation list, who is connected, and the
/// callback queue (fetched over HTTP, kept current by the hub's notifications).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HubMirror {
    conversations: ConversationList,
    operators: Vec<OperatorPresence>,
    callbacks: Vec<CallbackEntry>,
    offline: Vec<OfflineMessage>,
}

impl HubMirror {
    pub fn new() -> HubMirror {
        HubMirror::default()
    }

    /// Folds one notification from the hub in.
    pub fn apply(&mut self, notification: HubNotification) -> MirrorReaction {
        match notification {
            HubNotification::Snapshot { operators, conversations } => {
                self.operators = operators;
                self.conversations = ConversationList::from_entries(conversations);
                // Whatever happened while disconnected.
                MirrorReaction { alert: None, reload_callbacks: true, reload_offline: true }
            }
            // Announced even when the entry is already held: the hub follows a first entry that
            // carries a callback request with `CallbackRequested` for the same revision.
            HubNotification::ConversationOpened { entry } => {
                let alert = Alert::NewConversation { visitor_label: entry.visitor_label.clone() };
                self.conversations.upsert(entry);
                MirrorReaction { alert: Some(alert), ..MirrorReaction::default() }
            }
            HubNotification::CallbackRequested { entry } => {
                let alert = Alert::CallbackRequested { visitor_label: entry.visitor_label.clone() };
                self.conversations.upsert(entry);
                MirrorReaction { alert: Some(alert), reload_callbacks: true, ..MirrorReaction::default() }
            }
            HubNotification::ConversationUpdated { entry } => {
                self.conversations.upsert(entry);
                MirrorReaction::default()
            }
            HubNotification::OperatorPresence(presence) => {
                self.operators.retain(|o| o.operator_id != presence.operator_id);
                if presence.presence != OperatorAvailability::Offline {
                    self.operators.push(presence);
                }
                MirrorReaction::default()
            }
            HubNotification::CallbackDone { conversation_id, .. } => {
                self.callback_done(&conversation_id);
                MirrorReaction { reload_callbacks: true, ..MirrorReaction::default() }
            }
            HubNotification::ConversationRemoved { conversation_id } => {
                self.conversations.remove(&conversation_id);
                MirrorReaction::default()
            }
            HubNotification::OfflineMessageLeft { visitor_label, .. } => {
                MirrorReaction { alert: Some(Alert::OfflineMessage { visitor_label }), reload_offline: true, ..MirrorReaction::default() }
            }
            HubNotification::OfflineMessageChanged { .. } => MirrorReaction { reload_offline: true, ..MirrorReaction::default() },
            HubNotification::Pong => MirrorReaction::default(),
        }
    }

    pub fn conversations(&self) -> &ConversationList {
        &self.conversations
    }

    pub fn operators(&self) -> &[OperatorPresence] {
        &self.operators
    }

    /// Operators taking chats now (away ones are connected but not counted).
    pub fn operators_online(&self) -> usize {
        self.operators.iter().filter(|o| o.presence == OperatorAvailability::Online).count()
    }

    pub fn callbacks(&self) -> &[CallbackEntry] {
        &self.callbacks
    }

    /// The queue as the server sent it.
    pub fn set_callbacks(&mut self, callbacks: Vec<CallbackEntry>) {
        self.callbacks = callbacks;
    }

    /// A request handled (here or by another operator) leaves the queue at once.
    pub fn callback_done(&mut self, conversation_id: &str) {
        self.callbacks.retain(|c| c.conversation_id != conversation_id);
    }

    /// Messages left after hours still to handle, oldest first, as the server sent them.
    pub fn offline(&self) -> &[OfflineMessage] {
        &self.offline
    }

    pub fn set_offline(&mut self, messages: Vec<OfflineMessage>) {
        self.offline = messages;
    }

    /// A message answered or marked done here: its new state at once (done ones leave the list).
    pub fn offline_changed(&mut self, message: OfflineMessage) {
        if message.done_at.is_some() {
            self.offline.retain(|m| m.lead_id != message.lead_id);
        } else if let Some(held) = self.offline.iter_mut().find(|m| m.lead_id == message.lead_id) {
            *held = message;
        }
    }

    /// Messages left after hours that nobody has answered yet.
    pub fn offline_unanswered(&self) -> u64 {
        self.offline.iter().filter(|m| m.replies.is_empty()).count() as u64
    }

    /// The console's tab title, counting what waits for an answer (unread chat messages and
    /// unanswered messages left after hours).
    pub fn tab_title(&self) -> String {
        match self.conversations.unread_total() + self.offline_unanswered() {
            0 => "Floorwalker console".to_owned(),
            unread => format!("({unread}) Floorwalker console"),
        }
    }
}

/// An open conversation's entry as the visitor's last message leaves it, for the list's and the
/// hub's tests.
#[cfg(test)]
pub(crate) fn test_entry(id: &str, updated_at: u64, revision: u64) -> ConversationEntry {
    ConversationEntry {
        conversation_id: id.into(),
        visitor_label: format!("Visitor {id}"),
        preview: "hello".into(),
        last_author: Some(crate::chat::protocol::Side::Visitor),
        unread_by_operator: 1,
        updated_at,
        status: ConversationStatus::Open,
        awaiting_reply_since: Some(updated_at),
        callback_requested: false,
        revision,
        listed_until: None,
        assignee: None,
        rating: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_entry as entry;


    fn ids(list: &ConversationList) -> Vec<&str> {
        list.ordered().iter().map(|e| e.conversation_id.as_str()).collect()
    }

    fn operator(id: &str, presence: OperatorAvailability) -> OperatorPresence {
        OperatorPresence { operator_id: id.into(), name: id.to_uppercase(), presence }
    }

    fn callback(id: &str) -> CallbackEntry {
        CallbackEntry { conversation_id: id.into(), contact: "+7 916 123-45-67".into(), time_slot: None, requested_at: 5, visitor_label: None }
    }

    #[test]
    fn most_recent_first_with_ties_by_id_whatever_the_arrival_order() {
        let entries = [entry("b", 200, 1), entry("c", 100, 1), entry("a", 200, 1), entry("d", 300, 1)];
        let forward = ConversationList::from_entries(entries.clone());
        let backward = ConversationList::from_entries(entries.into_iter().rev());
        assert_eq!(ids(&forward), ["d", "a", "b", "c"]);
        assert_eq!(ids(&backward), ids(&forward));
    }

    #[test]
    fn the_highest_revision_wins_in_either_order() {
        let mut list = ConversationList::new();
        assert_eq!(list.upsert(entry("a", 100, 1)), Upserted::Added);
        assert_eq!(list.upsert(entry("a", 300, 3)), Upserted::Replaced { previous: entry("a", 100, 1) });
        // Late and repeated updates change nothing, even with a newer clock.
        assert_eq!(list.upsert(entry("a", 400, 2)), Upserted::Stale);
        assert_eq!(list.upsert(entry("a", 500, 3)), Upserted::Stale);
        assert_eq!(list.get("a").map(|e| (e.updated_at, e.revision)), Some((300, 3)));
        // A snapshot that lists a conversation twice keeps its newest entry.
        let snapshot = ConversationList::from_entries([entry("a", 300, 3), entry("a", 100, 1)]);
        assert_eq!(snapshot.get("a").map(|e| e.revision), Some(3));
        assert_eq!(snapshot.len(), 1);
    }

    #[test]
    fn closing_keeps_the_row_but_stops_counting_its_unread() {
        let mut list = ConversationList::from_entries([entry("a", 100, 1), entry("b", 110, 1)]);
        assert_eq!(list.unread_total(), 2);
        let mut closed = entry("a", 120, 2);
        closed.status = ConversationStatus::Closed;
        assert!(matches!(list.upsert(closed), Upserted::Replaced { .. }));
        assert_eq!(ids(&list), ["a", "b"]);
        assert_eq!(list.unread_total(), 1);
        // A stale "open" update cannot reopen it.
        assert_eq!(list.upsert(entry("a", 130, 1)), Upserted::Stale);
        assert_eq!(list.get("a").map(|e| e.status), Some(ConversationStatus::Closed));
    }

    #[test]
    fn a_full_list_drops_the_longest_closed_never_an_open_one() {
        let mut list = ConversationList::new();
        for i in 0..MAX_ENTRIES as u64 {
            let mut e = entry(&format!("c{i:04}"), 1000 + i, 1);
            if i == 5 || i == 7 {
                e.status = ConversationStatus::Closed;
            }
            list.upsert(e);
        }
        assert_eq!(list.upsert(entry("new", 5000, 1)), Upserted::Added);
        assert_eq!(list.len(), MAX_ENTRIES);
        assert!(list.get("c0005").is_none(), "the longest-closed goes");
        assert!(list.get("c0007").is_some() && list.get("c0000").is_some());
        list.upsert(entry("newer", 6000, 1));
        assert!(list.get("c0007").is_none());
        // With nothing closed left, the list grows rather than drop an open conversation.
        list.upsert(entry("newest", 7000, 1));
        assert_eq!(list.len(), MAX_ENTRIES + 1);
        assert!(list.get("c0000").is_some());
    }

    #[test]
    fn serialises_as_the_map_the_hub_always_stored() {
        let list = ConversationList::from_entries([entry("a", 100, 1)]);
        let json = serde_json::to_value(&list).unwrap();
        assert_eq!(json["a"]["revision"], 1);
        assert_eq!(serde_json::from_value::<ConversationList>(json).unwrap(), list);
    }

    #[test]
    fn the_mirror_follows_the_hubs_notifications() {
        let mut mirror = HubMirror::new();
        let snapshot = HubNotification::Snapshot {
            operators: vec![operator("op-anna", OperatorAvailability::Online), operator("op-boris", OperatorAvailability::Away)],
            conversations: vec![entry("a", 100, 1), entry("b", 100, 1)],
        };
        assert_eq!(mirror.apply(snapshot), MirrorReaction { alert: None, reload_callbacks: true, reload_offline: true });
        assert_eq!(ids(mirror.conversations()), ["a", "b"]);
        assert_eq!(mirror.operators_online(), 1);
        assert_eq!(mirror.tab_title(), "(2) Floorwalker console");

        let reaction = mirror.apply(HubNotification::ConversationOpened { entry: entry("c", 150, 1) });
        assert_eq!(reaction.alert.map(|a| a.text()).as_deref(), Some("New conversation: Visitor c"));
        assert!(!reaction.reload_callbacks);
        assert_eq!(ids(mirror.conversations()), ["c", "a", "b"]);

        // A late update is ignored, as the hub ignores it.
        mirror.apply(HubNotification::ConversationUpdated { entry: entry("a", 200, 3) });
        assert_eq!(mirror.apply(HubNotification::ConversationUpdated { entry: entry("a", 300, 2) }), MirrorReaction::default());
        assert_eq!(mirror.conversations().get("a").map(|e| e.updated_at), Some(200));
        assert_eq!(ids(mirror.conversations()), ["a", "c", "b"]);

        // A new conversation that starts with a callback request: the hub sends the same entry
        // twice, and both are announced.
        let mut requested = entry("d", 400, 1);
        requested.callback_requested = true;
        mirror.apply(HubNotification::ConversationOpened { entry: requested.clone() });
        let reaction = mirror.apply(HubNotification::CallbackRequested { entry: requested });
        assert_eq!(reaction.alert, Some(Alert::CallbackRequested { visitor_label: "Visitor d".into() }));
        assert_eq!(reaction.alert.map(|a| a.text()).as_deref(), Some("Callback requested: Visitor d"));
        assert!(reaction.reload_callbacks);
        assert_eq!(mirror.conversations().len(), 4);

        let mut closed = entry("a", 500, 4);
        closed.status = ConversationStatus::Closed;
        mirror.apply(HubNotification::ConversationUpdated { entry: closed });
        assert_eq!(mirror.tab_title(), "(3) Floorwalker console");
        assert_eq!(mirror.apply(HubNotification::Pong), MirrorReaction::default());
        assert_eq!(mirror.apply(HubNotification::ConversationRemoved { conversation_id: "a".into() }), MirrorReaction::default());
        assert_eq!(ids(mirror.conversations()), ["d", "c", "b"]);
    }

    #[test]
    fn messages_left_after_hours_are_announced_counted_and_leave_when_done() {
        let mut mirror = HubMirror::new();
        let reaction = mirror.apply(HubNotification::OfflineMessageLeft { lead_id: "lead_1".into(), visitor_label: "olga@example.com".into() });
        assert_eq!(reaction.alert.map(|a| a.text()).as_deref(), Some("Message left after hours: olga@example.com"));
        assert!(reaction.reload_offline && !reaction.reload_callbacks);
        let message = |id: &str| -> OfflineMessage {
            serde_json::from_value(serde_json::json!({
                "lead_id": id, "received_at": 1, "visitor_label": "Olga", "contact": {"email": "olga@example.com", "message": "hi"},
                "locale": "ru", "page_url": "https://shop.example/", "can_email": true
            }))
            .unwrap()
        };
        mirror.set_offline(vec![message("lead_1"), message("lead_2")]);
        assert_eq!(mirror.tab_title(), "(2) Floorwalker console", "unanswered messages wait like unread ones");
        let mut answered = message("lead_1");
        answered.replies.push(crate::chat::offline::OfflineReply { seq: 2, author: "Anna".into(), text: "yes".into(), at: 2 });
        mirror.offline_changed(answered);
        assert_eq!(mirror.tab_title(), "(1) Floorwalker console");
        let mut done = message("lead_2");
        done.done_at = Some(3);
        mirror.offline_changed(done);
        assert_eq!(mirror.offline().iter().map(|m| m.lead_id.as_str()).collect::<Vec<_>>(), ["lead_1"]);
        assert!(mirror.apply(HubNotification::OfflineMessageChanged { lead_id: "lead_1".into() }).reload_offline);
    }

    #[test]
    fn closed_conversations_leave_when_their_time_in_the_list_is_over() {
        let mut list = ConversationList::from_entries([entry("open", 100, 1)]);
        for (id, until) in [("late", Some(900)), ("early", Some(500)), ("legacy", None)] {
            let mut closed = entry(id, 200, 1);
            closed.status = ConversationStatus::Closed;
            closed.listed_until = until;
            list.upsert(closed);
        }
        assert!(list.forget_closed(499).is_empty());
        assert_eq!(list.forget_closed(900), ["early", "late"]);
        assert_eq!(ids(&list), ["legacy", "open"], "open ones stay; a closed one without a deadline waits for eviction");
        assert!(!list.remove("early"));
    }

    #[test]
    fn the_mirror_tracks_operators_and_the_callback_queue() {
        let mut mirror = HubMirror::new();
        mirror.apply(HubNotification::OperatorPresence(operator("op-anna", OperatorAvailability::Away)));
        assert_eq!(mirror.operators_online(), 0);
        mirror.apply(HubNotification::OperatorPresence(operator("op-anna", OperatorAvailability::Online)));
        mirror.apply(HubNotification::OperatorPresence(operator("op-boris", OperatorAvailability::Online)));
        assert_eq!(mirror.operators().len(), 2);
        assert_eq!(mirror.operators_online(), 2);
        mirror.apply(HubNotification::OperatorPresence(operator("op-anna", OperatorAvailability::Offline)));
        assert_eq!(mirror.operators(), [operator("op-boris", OperatorAvailability::Online)]);

        mirror.set_callbacks(vec![callback("a"), callback("b")]);
        let reaction = mirror.apply(HubNotification::CallbackDone { conversation_id: "a".into(), by: "Boris".into() });
        assert!(reaction.reload_callbacks);
        assert_eq!(mirror.callbacks(), [callback("b")]);
        mirror.callback_done("b");
        assert!(mirror.callbacks().is_empty());
        assert_eq!(mirror.tab_title(), "Floorwalker console");
    }
}
