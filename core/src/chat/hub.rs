//! The per-site `SiteHub` object's decisions: which operators are there, and the live list of
//! conversations the console shows, with what to broadcast when either changes.
//!
//! Conversations push their [`ConversationEntry`] here after every change that shows in the list;
//! the list's rules (newest revision wins, order, size) are [`ConversationList`]'s, shared with the
//! consoles' copies of the list.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::chat::conversation_list::{ConversationList, Upserted};
use crate::chat::protocol::{ConversationStatus, Side};

/// Longest last-message preview in the list, in characters (ellipsis included).
pub const PREVIEW_CHARS: usize = 100;

/// A message shortened for a one-line list row: whitespace runs (newlines included) become one
/// space, and a cut is marked with `…`.
pub fn preview(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= PREVIEW_CHARS {
        return flat;
    }
    let mut cut: String = flat.chars().take(PREVIEW_CHARS - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// One row of the operators' live list.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ConversationEntry {
    pub conversation_id: String,
    pub visitor_label: String,
    /// The last message, shortened (see [`preview`]); empty before the first message.
    pub preview: String,
    /// Who wrote the last message (`None` for a system notice or no message yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_author: Option<Side>,
    pub unread_by_operator: u64,
    /// Milliseconds since the Unix epoch of the last activity.
    pub updated_at: u64,
    pub status: ConversationStatus,
    /// Set while a visitor waits for a first answer, so the console can show how long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting_reply_since: Option<u64>,
    pub callback_requested: bool,
    /// Orders updates from one conversation; a lower one than the hub holds is stale.
    pub revision: u64,
    /// A closed conversation leaves the live list at this time (milliseconds since the Unix
    /// epoch), so the list every console receives holds what is current, not every chat ever held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed_until: Option<u64>,
    /// The operator who took the conversation ("taken by Anna"), so others leave it to them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<Assignee>,
    /// The visitor's rating once the conversation closed, 1 to 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
}

/// An operator a conversation is assigned to.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Assignee {
    pub operator_id: String,
    pub name: String,
}

/// What one operator connection says about its person.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    Online,
    /// Connected but not taking chats (a background tab, a break).
    Away,
}

/// An operator's presence across all their connections.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum OperatorAvailability {
    Online,
    Away,
    Offline,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct OperatorPresence {
    pub operator_id: String,
    pub name: String,
    pub presence: OperatorAvailability,
}

/// Hub → console frames, tagged by `type` like the chat frames.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HubNotification {
    /// What a console gets when it connects.
    Snapshot { operators: Vec<OperatorPresence>, conversations: Vec<ConversationEntry> },
    /// A conversation the list has not shown before (the console may play a sound).
    ConversationOpened { entry: ConversationEntry },
    /// A visitor asked to be called or emailed back (louder than an ordinary update).
    CallbackRequested { entry: ConversationEntry },
    ConversationUpdated { entry: ConversationEntry },
    OperatorPresence(OperatorPresence),
    /// An operator marked a callback request as handled; every console drops it from its queue.
    CallbackDone { conversation_id: String, by: String },
    /// A closed conversation left the live list (its `listed_until` passed); consoles drop it.
    ConversationRemoved { conversation_id: String },
    /// A visitor left a message through the offline form (`chat::offline`): consoles fetch the
    /// inbox's messages again and announce it.
    OfflineMessageLeft { lead_id: String, visitor_label: String },
    /// An operator answered a message left after hours or marked it done: consoles fetch again.
    OfflineMessageChanged { lead_id: String },
    Pong,
}

/// Console → hub frames.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ConsoleFrame {
    /// The presence toggle: online (taking chats) or away.
    Status { status: ConnectionStatus },
    Ping,
}

/// What a hub call produced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HubOutcome {
    /// For every console connection, in order.
    pub to_consoles: Vec<HubNotification>,
    /// Set when "is any operator online" flipped: tell every open conversation
    /// ([`crate::chat::conversation::Conversation::presence_changed`]).
    pub operator_online: Option<bool>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
struct OperatorConnection {
    operator_id: String,
    name: String,
    status: ConnectionStatus,
}

/// The hub's state; serialisable so the object can keep it across hibernation.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteHub {
    /// By connection id (the adapter's WebSocket tag).
    connections: BTreeMap<String, OperatorConnection>,
    conversations: ConversationList,
}

impl SiteHub {
    pub fn new() -> SiteHub {
        SiteHub::default()
    }

    /// A console connected (or reconnected under the same id, which replaces the old one).
    pub fn connect(&mut self, connection_id: &str, operator_id: &str, name: &str, status: ConnectionStatus) -> HubOutcome {
        let online_before = self.any_operator_online();
        let mut to_consoles = Vec::new();
        let displaced = self.connections.get(connection_id).map(|c| c.operator_id.clone());
        if let Some(other) = displaced.filter(|other| other != operator_id) {
            to_consoles = self.presence_change(&other, |hub| {
                hub.connections.remove(connection_id);
            });
        }
        let connection = OperatorConnection { operator_id: operator_id.to_owned(), name: name.to_owned(), status };
        to_consoles.extend(self.presence_change(operator_id, |hub| {
            hub.connections.insert(connection_id.to_owned(), connection);
        }));
        self.outcome(online_before, to_consoles)
    }

    pub fn set_status(&mut self, connection_id: &str, status: ConnectionStatus) -> HubOutcome {
        let Some(operator_id) = self.connections.get(connection_id).map(|c| c.operator_id.clone()) else {
            return HubOutcome::default();
        };
        let online_before = self.any_operator_online();
        let to_consoles = self.presence_change(&operator_id, |hub| {
            if let Some(connection) = hub.connections.get_mut(connection_id) {
                connection.status = status;
            }
        });
        self.outcome(online_before, to_consoles)
    }

    pub fn disconnect(&mut self, connection_id: &str) -> HubOutcome {
        let Some(operator_id) = self.connections.get(connection_id).map(|c| c.operator_id.clone()) else {
            return HubOutcome::default();
        };
        let online_before = self.any_operator_online();
        let to_consoles = self.presence_change(&operator_id, |hub| {
            hub.connections.remove(connection_id);
        });
        self.outcome(online_before, to_consoles)
    }

    /// Online while any connection is online, away while all are away, offline with none.
    pub fn presence(&self, operator_id: &str) -> OperatorAvailability {
        self.connections
            .values()
            .filter(|c| c.operator_id == operator_id)
            .map(|c| match c.status {
                ConnectionStatus::Online => OperatorAvailability::Online,
                ConnectionStatus::Away => OperatorAvailability::Away,
            })
            .min()
            .unwrap_or(OperatorAvailability::Offline)
    }

    pub fn any_operator_online(&self) -> bool {
        self.connections.values().any(|c| c.status == ConnectionStatus::Online)
    }

    /// Every connected operator, by id.
    pub fn operators(&self) -> Vec<OperatorPresence> {
        let mut names: BTreeMap<&str, &str> = BTreeMap::new();
        for c in self.connections.values() {
            names.insert(&c.operator_id, &c.name);
        }
        names
            .into_iter()
            .map(|(id, name)| OperatorPresence { operator_id: id.to_owned(), name: name.to_owned(), presence: self.presence(id) })
            .collect()
    }

    /// Takes a conversation's latest entry and says what consoles should hear about it. A closed
    /// conversation whose time in the list is over (`listed_until` not after `now`) is not brought
    /// back: consoles would announce it as new.
    pub fn upsert(&mut self, entry: ConversationEntry, now: u64) -> HubOutcome {
        let expired = entry.status == ConversationStatus::Closed && entry.listed_until.is_some_and(|until| until <= now);
        if expired && self.conversations.get(&entry.conversation_id).is_none() {
            return HubOutcome::default();
        }
        let was_requested = match self.conversations.upsert(entry.clone()) {
            Upserted::Stale => return HubOutcome::default(),
            Upserted::Added => None,
            Upserted::Replaced { previous } => Some(previous.callback_requested),
        };
        let mut to_consoles = vec![match was_requested {
            None => HubNotification::ConversationOpened { entry: entry.clone() },
            Some(false) if entry.callback_requested => HubNotification::CallbackRequested { entry: entry.clone() },
            Some(_) => HubNotification::ConversationUpdated { entry: entry.clone() },
        }];
        // A visitor may leave a callback request before writing anything: the list learns of the
        // conversation and the callback queue of the request, in that order.
        if was_requested.is_none() && entry.callback_requested {
            to_consoles.push(HubNotification::CallbackRequested { entry });
        }
        HubOutcome { to_consoles, operator_online: None }
    }

    /// Conversations erased with their visitor leave the list. Consoles get a fresh snapshot (which
    /// replaces their copy of the list and reloads the callback queue), so no console keeps showing
    /// a line of an erased conversation; nothing changes when none of them was listed.
    pub fn forget(&mut self, conversation_ids: &[String]) -> HubOutcome {
        let mut removed = false;
        for id in conversation_ids {
            removed |= self.conversations.remove(id);
        }
        let to_consoles = if removed { vec![self.snapshot()] } else { Vec::new() };
        HubOutcome { to_consoles, operator_online: None }
    }

    /// Drops the closed conversations whose time in the list is over and says so to consoles;
    /// returns their ids too, for the adapter to delete their stored rows.
    pub fn forget_closed(&mut self, now: u64) -> (Vec<String>, HubOutcome) {
        let removed = self.conversations.forget_closed(now);
        let to_consoles = removed.iter().map(|id| HubNotification::ConversationRemoved { conversation_id: id.clone() }).collect();
        (removed, HubOutcome { to_consoles, operator_online: None })
    }

    /// The list as the console shows it: most recent activity first.
    pub fn list(&self) -> Vec<&ConversationEntry> {
        self.conversations.ordered()
    }

    pub fn entry(&self, conversation_id: &str) -> Option<&ConversationEntry> {
        self.conversations.get(conversation_id)
    }

    pub fn snapshot(&self) -> HubNotification {
        HubNotification::Snapshot { operators: self.operators(), conversations: self.list().into_iter().cloned().collect() }
    }

    /// Total unread across open conversations, for the console's tab title.
    pub fn unread_total(&self) -> u64 {
        self.conversations.unread_total()
    }

    /// Runs `change` and reports whether `operator_id`'s presence moved.
    fn presence_change(&mut self, operator_id: &str, change: impl FnOnce(&mut SiteHub)) -> Vec<HubNotification> {
        let before = self.presence(operator_id);
        // Kept from before the change: the last connection may be the one that goes.
        let name = self.name_of(operator_id);
        change(self);
        let after = self.presence(operator_id);
        if after == before {
            return Vec::new();
        }
        vec![HubNotification::OperatorPresence(OperatorPresence {
            operator_id: operator_id.to_owned(),
            name: self.name_of(operator_id).or(name).unwrap_or_default(),
            presence: after,
        })]
    }

    fn outcome(&self, online_before: bool, to_consoles: Vec<HubNotification>) -> HubOutcome {
        let online_after = self.any_operator_online();
        HubOutcome { to_consoles, operator_online: (online_after != online_before).then_some(online_after) }
    }

    fn name_of(&self, operator_id: &str) -> Option<String> {
        self.connections.values().find(|c| c.operator_id == operator_id).map(|c| c.name.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::conversation_list::{test_entry as entry, MAX_ENTRIES};


    #[test]
    fn forgetting_erased_conversations_sends_every_console_a_snapshot_without_them() {
        let mut hub = SiteHub::new();
        hub.upsert(entry("c1", 10, 1), 0);
        hub.upsert(entry("c2", 20, 1), 0);
        let out = hub.forget(&["c1".to_owned(), "c-unknown".to_owned()]);
        assert_eq!(out.to_consoles, vec![hub.snapshot()]);
        let HubNotification::Snapshot { conversations, .. } = &out.to_consoles[0] else { panic!("a snapshot") };
        assert_eq!(conversations.iter().map(|e| e.conversation_id.as_str()).collect::<Vec<_>>(), ["c2"]);
        assert!(hub.entry("c1").is_none());
        assert_eq!(hub.forget(&["c1".to_owned()]), HubOutcome::default(), "a repeat changes nothing and tells nobody");
    }

    #[test]
    fn previews_are_one_bounded_line() {
        assert_eq!(preview("  Hello,\n\n  is this   in stock? "), "Hello, is this in stock?");
        let long = preview(&"слово ".repeat(100));
        assert_eq!(long.chars().count(), PREVIEW_CHARS);
        assert!(long.ends_with("сло…"));
        let spaced = preview(&"ab ".repeat(100));
        assert!(spaced.ends_with("ab…"), "no space before the ellipsis: {spaced}");
        assert_eq!(preview(&"x".repeat(PREVIEW_CHARS)), "x".repeat(PREVIEW_CHARS));
        assert_eq!(preview(&"x".repeat(PREVIEW_CHARS + 1)).chars().count(), PREVIEW_CHARS);
        assert_eq!(preview(""), "");
    }

    #[test]
    fn an_operator_is_online_while_any_tab_is() {
        let mut hub = SiteHub::new();
        assert_eq!(hub.presence("op-anna"), OperatorAvailability::Offline);
        let out = hub.connect("c1", "op-anna", "Anna", ConnectionStatus::Online);
        assert_eq!(out.operator_online, Some(true));
        assert_eq!(
            out.to_consoles,
            vec![HubNotification::OperatorPresence(OperatorPresence {
                operator_id: "op-anna".into(),
                name: "Anna".into(),
                presence: OperatorAvailability::Online
            })]
        );
        // A second tab, away: still online, nothing to announce.
        let out = hub.connect("c2", "op-anna", "Anna", ConnectionStatus::Away);
        assert_eq!(out, HubOutcome::default());
        assert_eq!(hub.presence("op-anna"), OperatorAvailability::Online);
        // The online tab goes away: now away everywhere, and nobody is online for visitors.
        let out = hub.set_status("c1", ConnectionStatus::Away);
        assert_eq!(hub.presence("op-anna"), OperatorAvailability::Away);
        assert_eq!(out.operator_online, Some(false));
        assert_eq!(out.to_consoles.len(), 1);
        // One tab closes: still away; the last closes: offline.
        assert_eq!(hub.disconnect("c1").to_consoles, vec![]);
        let out = hub.disconnect("c2");
        assert_eq!(hub.presence("op-anna"), OperatorAvailability::Offline);
        assert!(matches!(&out.to_consoles[..], [HubNotification::OperatorPresence(p)] if p.presence == OperatorAvailability::Offline && p.name == "Anna"));
        assert_eq!(out.operator_online, None, "it was already false");
        // Unknown connections are ignored.
        assert_eq!(hub.disconnect("nope"), HubOutcome::default());
        assert_eq!(hub.set_status("nope", ConnectionStatus::Online), HubOutcome::default());
    }

    #[test]
    fn several_operators() {
        let mut hub = SiteHub::new();
        hub.connect("c1", "op-anna", "Anna", ConnectionStatus::Online);
        let out = hub.connect("c2", "op-boris", "Boris", ConnectionStatus::Online);
        assert_eq!(out.operator_online, None, "someone was already online");
        let out = hub.disconnect("c1");
        assert_eq!(out.operator_online, None, "Boris is still there");
        assert!(hub.any_operator_online());
        let names: Vec<_> = hub.operators().into_iter().map(|o| (o.name, o.presence)).collect();
        assert_eq!(names, vec![("Boris".to_owned(), OperatorAvailability::Online)]);
        // A connection id reused by another operator displaces the first.
        let out = hub.connect("c2", "op-anna", "Anna", ConnectionStatus::Online);
        assert_eq!(hub.presence("op-boris"), OperatorAvailability::Offline);
        assert_eq!(out.to_consoles.len(), 2);
    }

    #[test]
    fn list_is_most_recent_first_and_ignores_stale_updates() {
        let mut hub = SiteHub::new();
        let out = hub.upsert(entry("a", 100, 1), 0);
        assert!(matches!(&out.to_consoles[..], [HubNotification::ConversationOpened { .. }]));
        hub.upsert(entry("b", 200, 1), 0);
        hub.upsert(entry("c", 150, 1), 0);
        let order: Vec<_> = hub.list().iter().map(|e| e.conversation_id.as_str()).collect();
        assert_eq!(order, ["b", "c", "a"]);
        let out = hub.upsert(entry("a", 300, 2), 0);
        assert!(matches!(&out.to_consoles[..], [HubNotification::ConversationUpdated { .. }]));
        assert_eq!(hub.list()[0].conversation_id, "a");
        // A late update (lower revision) changes nothing.
        assert_eq!(hub.upsert(entry("a", 250, 1), 0), HubOutcome::default());
        assert_eq!(hub.upsert(entry("a", 300, 2), 0), HubOutcome::default());
        assert_eq!(hub.entry("a").map(|e| e.updated_at), Some(300));
        assert_eq!(hub.unread_total(), 3);
    }

    #[test]
    fn callback_requests_are_announced_once() {
        let mut hub = SiteHub::new();
        hub.upsert(entry("a", 100, 1), 0);
        let mut flagged = entry("a", 110, 2);
        flagged.callback_requested = true;
        assert!(matches!(&hub.upsert(flagged.clone(), 0).to_consoles[..], [HubNotification::CallbackRequested { .. }]));
        flagged.revision = 3;
        assert!(matches!(&hub.upsert(flagged, 0).to_consoles[..], [HubNotification::ConversationUpdated { .. }]));
        // A request in a conversation the list has not seen yet: opened, then requested.
        let mut first = entry("b", 120, 1);
        first.callback_requested = true;
        assert!(matches!(
            &hub.upsert(first, 0).to_consoles[..],
            [HubNotification::ConversationOpened { .. }, HubNotification::CallbackRequested { .. }]
        ));
    }

    #[test]
    fn closed_conversations_are_evicted_first() {
        let mut hub = SiteHub::new();
        for i in 0..MAX_ENTRIES as u64 {
            let mut e = entry(&format!("c{i:04}"), 1000 + i, 1);
            if i < 2 {
                e.status = ConversationStatus::Closed;
            }
            hub.upsert(e, 0);
        }
        hub.upsert(entry("new", 5000, 1), 0);
        assert_eq!(hub.list().len(), MAX_ENTRIES);
        assert!(hub.entry("c0000").is_none());
        assert!(hub.entry("c0001").is_some());
        assert_eq!(hub.unread_total(), MAX_ENTRIES as u64 - 1);
    }

    #[test]
    fn notifications_wire_shape() {
        let json = serde_json::to_string(&HubNotification::OperatorPresence(OperatorPresence {
            operator_id: "op-anna".into(),
            name: "Anna".into(),
            presence: OperatorAvailability::Away,
        }))
        .unwrap();
        assert_eq!(json, r#"{"type":"operator_presence","operator_id":"op-anna","name":"Anna","presence":"away"}"#);
        let mut hub = SiteHub::new();
        hub.upsert(entry("a", 100, 1), 0);
        let snapshot = serde_json::to_string(&hub.snapshot()).unwrap();
        assert!(snapshot.starts_with(r#"{"type":"snapshot","operators":[],"conversations":[{"conversation_id":"a","#), "{snapshot}");
        let state = serde_json::to_string(&hub).unwrap();
        assert_eq!(serde_json::from_str::<SiteHub>(&state).unwrap(), hub);
    }
}
