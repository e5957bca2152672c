//! How often a conversation tells its site's hub about its line in the operators' list.
//!
//! One hub serves every conversation of a site, so a conversation must not cost it a request per
//! message: a busy site's conversations would make the hub the ceiling. The feed sends a changed
//! entry at once when nothing went to the hub for [`HUB_FEED_INTERVAL_MS`] (a new conversation,
//! the first message after a pause, show up without delay), and otherwise keeps only the newest
//! entry until the interval has passed since the last send (the adapter's timer takes it then).
//! So the hub gets at most one request per conversation per interval, whatever the message rate,
//! and a list line is never more than one interval behind.
//!
//! That still makes the hub's intake grow with the number of conversations, and each line is a
//! request, a write and a frame to every console. So the hub sets a pace ([`HubPace`]): with more
//! than [`HUB_LINES_PER_SECOND`] conversations active, a line whose change asks nothing of an
//! operator (a newer preview, one more unread message, messages read) waits up to the pace, from
//! one to [`HUB_PACE_MAX_MS`] seconds. A new ask of an operator (a close, a callback request, an
//! assignment, a visitor now waiting or unread) keeps the one-second interval: the pace only
//! delays what nobody has to act on, and only on a site too busy for anyone to read every line.
//!
//! The timer lives in memory. Its backstop is the adapter's alarm, set for
//! [`HubFeed::backstop_at`], well after the entry is due: an alarm set on every message would cost
//! a conversation that writes about once an interval a storage commit and a wake-up per message,
//! while only an object that stops within that second needs it. Only a line whose change is one an
//! operator acts on (an ask that starts or ends: a read badge must not stay lit for half an hour
//! on a visitor who left) has one: a line where only the preview or a count changed, lost with an
//! object that stopped, is brought up to date by the conversation's next change. A line the hub
//! did not take waits again as if never sent ([`HubFeed::unsent`]).
//!
//! A close goes at once, whatever the interval: operators act on it (the list marks it closed,
//! another operator stops answering), a conversation closes once, and the line must not depend
//! on the alarm that would otherwise carry it. So the hub hears one request more per conversation.

use std::collections::HashMap;

use crate::chat::hub::ConversationEntry;
use crate::chat::protocol::ConversationStatus;

/// The least time between two entries a conversation sends to its hub; also the most a list line
/// lags behind its conversation when the change asks something of an operator.
pub const HUB_FEED_INTERVAL_MS: u64 = 1_000;

/// How long after its due time a waiting entry is taken by the adapter's alarm if the timer did
/// not take it (the object stopped in between): the most a list line lags even then.
pub const HUB_FEED_BACKSTOP_MS: u64 = 10_000;

/// The ordinary lines a hub aims to take a second, all conversations together. Well under what
/// one object handles with a write each (a few hundred a second), and more than a list an
/// operator reads.
pub const HUB_LINES_PER_SECOND: u64 = 100;

/// The longest pace a hub sets: the most a cosmetic change lags on the busiest site. Also how
/// long a conversation counts as active after its last line.
pub const HUB_PACE_MAX_MS: u64 = 10_000;

/// What in a list line asks something of an operator: a new ask goes at the interval, not the
/// pace. One that ends (an unread message read, a first answer given) waits the pace like any
/// other change: nobody has to act on it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Signal {
    status: ConversationStatus,
    assignee: Option<String>,
    callback_requested: bool,
    awaiting_reply: bool,
    unread: bool,
    rated: bool,
}

impl Signal {
    fn of(entry: &ConversationEntry) -> Signal {
        Signal {
            status: entry.status,
            assignee: entry.assignee.as_ref().map(|a| a.operator_id.clone()),
            callback_requested: entry.callback_requested,
            awaiting_reply: entry.awaiting_reply_since.is_some(),
            unread: entry.unread_by_operator > 0,
            rated: entry.rating.is_some(),
        }
    }

    /// Whether `self` asks something of an operator that `before` did not.
    fn asks_more_than(&self, before: &Signal) -> bool {
        self.status != before.status
            || self.assignee != before.assignee
            || (self.callback_requested && !before.callback_requested)
            || (self.awaiting_reply && !before.awaiting_reply)
            || (self.unread && !before.unread)
            || (self.rated && !before.rated)
    }
}

/// The feed of one conversation (in memory: after a restart it starts [`HubFeed::fresh`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HubFeed {
    /// When an entry last went to the hub.
    sent_at: Option<u64>,
    /// The newest entry not sent yet.
    pending: Option<ConversationEntry>,
    /// Whether a closed entry went to the hub (the close went, so later lines wait their turn).
    close_sent: bool,
    /// What the last entry sent asked of operators (`None`: nothing sent yet).
    sent_signal: Option<Signal>,
    /// The hub's last pace, in ms (0 until it gives one: the interval).
    pace: u64,
}

impl HubFeed {
    /// Whether nothing has gone through this feed yet: an entry kept by an instance that then
    /// stopped is lost with it, so a fresh one resends the current entry once (see
    /// [`HubFeed::changed`] with it).
    pub fn fresh(&self) -> bool {
        self.sent_at.is_none() && self.pending.is_none()
    }

    /// A changed entry: `Some` to send now, or `None` when it waits for [`HubFeed::due_at`]. An
    /// entry older than the one already waiting is dropped (newest revision wins, as at the hub).
    pub fn changed(&mut self, entry: ConversationEntry, now: u64) -> Option<ConversationEntry> {
        let closes = entry.status == ConversationStatus::Closed && !self.close_sent;
        if closes || self.may_send(&entry, now) {
            if self.pending.as_ref().is_some_and(|held| held.revision > entry.revision) {
                // An older close than the line waiting: that newer line goes in its turn.
                return None;
            }
            self.pending = None;
            return Some(self.sent(entry, now));
        }
        if self.pending.as_ref().is_none_or(|held| held.revision <= entry.revision) {
            self.pending = Some(entry);
        }
        None
    }

    /// When the waiting entry may go (`None`: nothing waits).
    pub fn due_at(&self) -> Option<u64> {
        self.pending.as_ref().map(|entry| self.sent_at.map_or(0, |at| at.saturating_add(self.wait_for(entry))))
    }

    /// The hub's pace for lines that ask nothing of an operator (see [`HubPace`]), kept between
    /// the interval and [`HUB_PACE_MAX_MS`].
    pub fn set_pace(&mut self, pace_ms: u64) {
        self.pace = pace_ms.clamp(HUB_FEED_INTERVAL_MS, HUB_PACE_MAX_MS);
    }

    /// When the alarm must ring to take a waiting entry the timer did not (see
    /// [`HUB_FEED_BACKSTOP_MS`]).
    pub fn backstop_at(&self) -> Option<u64> {
        let acted_on = self.pending.as_ref().is_some_and(|entry| self.sent_signal.as_ref() != Some(&Signal::of(entry)));
        self.due_at().filter(|_| acted_on).map(|due| due.saturating_add(HUB_FEED_BACKSTOP_MS))
    }

    /// The hub did not take `entry`: it waits again (unless a newer line already does), and the
    /// hub is taken to have nothing of it, so the next line goes at the interval, alarm behind it.
    pub fn unsent(&mut self, entry: ConversationEntry) {
        self.sent_signal = None;
        if self.pending.as_ref().is_none_or(|held| held.revision < entry.revision) {
            self.pending = Some(entry);
        }
    }

    /// The waiting entry if its time has come (the timer's part, or the alarm's).
    pub fn take_due(&mut self, now: u64) -> Option<ConversationEntry> {
        if !self.pending.as_ref().is_some_and(|entry| self.may_send(entry, now)) {
            return None;
        }
        let entry = self.pending.take()?;
        Some(self.sent(entry, now))
    }

    /// Forgets everything (the conversation was erased: nothing of it may reach the hub again).
    pub fn clear(&mut self) {
        *self = HubFeed::default();
    }

    /// Records `entry` as the line the hub now has.
    fn sent(&mut self, entry: ConversationEntry, now: u64) -> ConversationEntry {
        self.close_sent |= entry.status == ConversationStatus::Closed;
        self.sent_at = Some(now);
        self.sent_signal = Some(Signal::of(&entry));
        entry
    }

    fn may_send(&self, entry: &ConversationEntry, now: u64) -> bool {
        self.sent_at.is_none_or(|at| now >= at.saturating_add(self.wait_for(entry)))
    }

    /// The interval for a line that asks something new of an operator, the pace for the rest.
    fn wait_for(&self, entry: &ConversationEntry) -> u64 {
        if self.asks_more(entry) {
            HUB_FEED_INTERVAL_MS
        } else {
            self.pace.max(HUB_FEED_INTERVAL_MS)
        }
    }

    /// Whether `entry` asks something of an operator that the hub's line does not.
    fn asks_more(&self, entry: &ConversationEntry) -> bool {
        self.sent_signal.as_ref().is_none_or(|sent| Signal::of(entry).asks_more_than(sent))
    }
}

/// The hub's side of the feed: how many conversations are sending it lines, and from that the
/// pace it asks of them, so its intake of ordinary lines stays near [`HUB_LINES_PER_SECOND`]
/// however many conversations are active.
#[derive(Debug, Clone, Default)]
pub struct HubPace {
    /// When each conversation's last line arrived.
    heard: HashMap<String, u64>,
    /// When the first line arrived (the hub woke up): before a whole window has passed, the count
    /// is scaled up to one, or a hub woken on a busy site would ask for the interval and get
    /// every conversation's lines at once.
    since: Option<u64>,
    pace: u64,
    /// When the pace was last worked out (once a second is enough).
    counted_at: Option<u64>,
}

impl HubPace {
    /// A line from `conversation_id` arrived: the pace (ms) the conversation is to keep.
    pub fn heard(&mut self, conversation_id: &str, now: u64) -> u64 {
        match self.heard.get_mut(conversation_id) {
            Some(at) => *at = now,
            None => {
                self.heard.insert(conversation_id.to_owned(), now);
            }
        }
        if self.counted_at.is_none_or(|at| now >= at.saturating_add(HUB_FEED_INTERVAL_MS)) {
            self.heard.retain(|_, at| now < at.saturating_add(HUB_PACE_MAX_MS));
            let since = *self.since.get_or_insert(now);
            let observed = now.saturating_sub(since).clamp(HUB_FEED_INTERVAL_MS, HUB_PACE_MAX_MS);
            let active = self.heard.len() as u64 * HUB_PACE_MAX_MS / observed;
            self.pace = (active * 1_000 / HUB_LINES_PER_SECOND).clamp(HUB_FEED_INTERVAL_MS, HUB_PACE_MAX_MS);
            self.counted_at = Some(now);
        }
        self.pace
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::protocol::ConversationStatus;

    fn entry(revision: u64) -> ConversationEntry {
        ConversationEntry {
            conversation_id: "c1".into(),
            visitor_label: "Visitor".into(),
            preview: format!("message {revision}"),
            last_author: None,
            unread_by_operator: revision,
            updated_at: revision,
            status: ConversationStatus::Open,
            awaiting_reply_since: None,
            callback_requested: false,
            revision,
            listed_until: None,
            assignee: None,
            rating: None,
        }
    }

    /// Drives a feed like the object does: each change, then the alarm at `due_at` whenever one
    /// is due before the next change. Returns the times entries went to the hub, and the last
    /// revision sent.
    fn drive(changes: &[u64]) -> (Vec<u64>, u64) {
        let mut feed = HubFeed::default();
        let (mut sent, mut last) = (Vec::new(), 0);
        for (i, &at) in changes.iter().enumerate() {
            while let Some(due) = feed.due_at().filter(|due| *due <= at) {
                if let Some(e) = feed.take_due(due) {
                    sent.push(due);
                    last = e.revision;
                }
            }
            if let Some(e) = feed.changed(entry(i as u64 + 1), at) {
                sent.push(at);
                last = e.revision;
            }
        }
        while let Some(due) = feed.due_at() {
            let e = feed.take_due(due).expect("due entries are taken at their time");
            sent.push(due);
            last = e.revision;
        }
        (sent, last)
    }

    #[test]
    fn the_first_change_goes_at_once() {
        let mut feed = HubFeed::default();
        assert!(feed.fresh());
        assert_eq!(feed.changed(entry(1), 5_000), Some(entry(1)));
        assert_eq!(feed.due_at(), None);
        assert!(!feed.fresh());
    }

    #[test]
    fn changes_within_the_interval_wait_and_only_the_newest_goes() {
        let mut feed = HubFeed::default();
        feed.changed(entry(1), 1_000);
        assert_eq!(feed.changed(entry(2), 1_100), None);
        assert_eq!(feed.changed(entry(4), 1_200), None);
        // A late, older entry does not replace a newer one.
        assert_eq!(feed.changed(entry(3), 1_300), None);
        assert_eq!(feed.due_at(), Some(2_000));
        assert_eq!(feed.take_due(1_999), None);
        assert_eq!(feed.take_due(2_000), Some(entry(4)));
        assert_eq!(feed.due_at(), None);
    }

    #[test]
    fn whatever_the_rate_the_hub_hears_at_most_once_a_second_and_ends_with_the_newest() {
        // 1 ms apart up to 2 s apart, bursts and pauses mixed.
        for gap in [1, 7, 50, 333, 999, 1_000, 1_001, 2_000] {
            let changes: Vec<u64> = (0..500u64).map(|i| 10_000 + i * gap + (i / 40) * 3_000).collect();
            let (sent, last) = drive(&changes);
            assert!(sent.windows(2).all(|w| w[1] - w[0] >= HUB_FEED_INTERVAL_MS), "gap {gap}: {sent:?}");
            assert_eq!(last, changes.len() as u64, "gap {gap}: the last entry reaches the hub");
            let span = changes.last().unwrap() - changes[0];
            assert!(sent.len() as u64 <= span / HUB_FEED_INTERVAL_MS + 2, "gap {gap}: {} sends over {span} ms", sent.len());
        }
    }

    #[test]
    fn the_alarm_backs_up_a_waiting_entry_long_after_it_is_due() {
        let mut feed = HubFeed::default();
        assert_eq!(feed.backstop_at(), None, "nothing waits");
        let read = ConversationEntry { unread_by_operator: 0, ..entry(1) };
        assert!(feed.changed(read, 5_000).is_some());
        assert_eq!(feed.backstop_at(), None, "sent at once");
        // A visitor wrote: unread, a new ask.
        assert!(feed.changed(entry(2), 5_400).is_none());
        assert_eq!(feed.due_at(), Some(6_000));
        assert_eq!(feed.backstop_at(), Some(6_000 + HUB_FEED_BACKSTOP_MS));
        // Newer entries while one waits leave both times where they were: a busy conversation
        // does not move its alarm.
        assert!(feed.changed(entry(3), 5_800).is_none());
        assert_eq!(feed.backstop_at(), Some(6_000 + HUB_FEED_BACKSTOP_MS));
        // The alarm, ringing at the backstop, finds the newest entry due.
        assert_eq!(feed.take_due(6_000 + HUB_FEED_BACKSTOP_MS).map(|e| e.revision), Some(3));
        assert_eq!(feed.backstop_at(), None);
    }

    #[test]
    fn an_entry_never_waits_longer_than_the_interval() {
        let changes: Vec<u64> = (0..200u64).map(|i| i * 37).collect();
        let mut feed = HubFeed::default();
        for (i, &at) in changes.iter().enumerate() {
            if let Some(due) = feed.due_at() {
                assert!(due <= at + HUB_FEED_INTERVAL_MS);
                if due <= at {
                    feed.take_due(due);
                }
            }
            feed.changed(entry(i as u64 + 1), at);
        }
    }

    #[test]
    fn a_close_goes_at_once_even_within_the_interval_and_only_once() {
        let mut feed = HubFeed::default();
        assert_eq!(feed.changed(entry(1), 1_000), Some(entry(1)));
        assert_eq!(feed.changed(entry(2), 1_100), None);
        let closed = ConversationEntry { status: ConversationStatus::Closed, ..entry(3) };
        assert_eq!(feed.changed(closed.clone(), 1_200), Some(closed), "the close does not wait for the alarm");
        assert_eq!(feed.due_at(), None, "the close replaced the line that waited");
        // A rating right after the close waits its turn like any line.
        let rated = ConversationEntry { status: ConversationStatus::Closed, ..entry(4) };
        assert_eq!(feed.changed(rated.clone(), 1_300), None);
        assert_eq!(feed.due_at(), Some(2_200));
        assert_eq!(feed.take_due(2_200), Some(rated));
    }

    #[test]
    fn a_close_older_than_the_waiting_line_gives_way_to_it() {
        let mut feed = HubFeed::default();
        feed.changed(entry(1), 1_000);
        let closed = ConversationEntry { status: ConversationStatus::Closed, ..entry(2) };
        // Older than a line already waiting (a late delivery): the newer line goes in its turn.
        feed.changed(entry(3), 1_050);
        assert_eq!(feed.changed(closed, 1_100), None);
        assert_eq!(feed.take_due(2_000).map(|e| e.revision), Some(3));
    }

    #[test]
    fn on_a_paced_hub_cosmetic_changes_wait_the_pace_and_the_newest_arrives() {
        let mut feed = HubFeed::default();
        feed.set_pace(5_000);
        let visitor_wrote = |revision: u64| ConversationEntry { unread_by_operator: 1, ..entry(revision) };
        let (mut sent, mut last) = (Vec::new(), 0);
        for i in 0..100u64 {
            let at = 10_000 + i * 200;
            while let Some(due) = feed.due_at().filter(|due| *due <= at) {
                sent.push(due);
                last = feed.take_due(due).expect("due").revision;
            }
            if let Some(e) = feed.changed(visitor_wrote(i + 1), at) {
                sent.push(at);
                last = e.revision;
            }
        }
        if let Some(due) = feed.due_at() {
            sent.push(due);
            last = feed.take_due(due).expect("due").revision;
        }
        assert!(sent.windows(2).all(|w| w[1] - w[0] >= 5_000), "{sent:?}");
        assert_eq!(sent.len(), 5, "{sent:?}");
        assert_eq!(last, 100);
    }

    #[test]
    fn on_a_paced_hub_what_asks_something_of_an_operator_keeps_the_interval() {
        let mut feed = HubFeed::default();
        feed.set_pace(10_000);
        let read = |revision: u64| ConversationEntry { unread_by_operator: 0, ..entry(revision) };
        assert!(feed.changed(read(1), 1_000).is_some());
        // Only the preview changed: it waits the pace.
        assert!(feed.changed(read(2), 1_200).is_none());
        assert_eq!(feed.due_at(), Some(11_000));
        // Each of these asks something of an operator: due one interval after the last send.
        let asks = [
            ConversationEntry { unread_by_operator: 0, callback_requested: true, ..entry(3) },
            ConversationEntry { unread_by_operator: 0, awaiting_reply_since: Some(1_300), ..entry(3) },
            ConversationEntry { unread_by_operator: 0, assignee: Some(crate::chat::hub::Assignee { operator_id: "op".into(), name: "Anna".into() }), ..entry(3) },
            ConversationEntry { unread_by_operator: 0, rating: Some(5), ..entry(3) },
        ];
        for (i, asked) in asks.into_iter().enumerate() {
            let mut feed = feed.clone();
            assert!(feed.changed(asked.clone(), 1_300).is_none());
            assert_eq!(feed.due_at(), Some(2_000), "change {i}");
            assert_eq!(feed.take_due(2_000), Some(asked));
        }
        // A need that ends is no new ask: the operator read the visitor's message.
        let mut read_later = HubFeed::default();
        read_later.set_pace(10_000);
        assert!(read_later.changed(entry(1), 1_000).is_some());
        assert!(read_later.changed(read(2), 1_200).is_none());
        assert_eq!(read_later.due_at(), Some(11_000));
        // A visitor writing after the operator read everything: unread again.
        let mut feed = feed.clone();
        assert_eq!(feed.take_due(11_000).map(|e| e.revision), Some(2));
        assert!(feed.changed(entry(3), 11_100).is_none());
        assert_eq!(feed.due_at(), Some(12_000));
        // The pace is kept within its bounds.
        feed.set_pace(60_000);
        assert_eq!(feed.pace, HUB_PACE_MAX_MS);
        feed.set_pace(0);
        assert_eq!(feed.pace, HUB_FEED_INTERVAL_MS);
    }

    #[test]
    fn the_hub_paces_by_the_conversations_active_in_the_last_ten_seconds() {
        let mut pace = HubPace::default();
        let active = |pace: &mut HubPace, conversations: u64, now: u64| {
            (0..conversations).map(|i| pace.heard(&format!("c{i}"), now)).last().expect("some")
        };
        // A hub just woken sees a tenth of a window: 5 conversations in its first second count as 50.
        assert_eq!(active(&mut pace, 5, 1_000), HUB_FEED_INTERVAL_MS, "a quiet site keeps the interval");
        // Worked out again once a second, not on every line.
        assert_eq!(active(&mut pace, 500, 1_500), HUB_FEED_INTERVAL_MS);
        // A whole window later (the estimate no longer scales), each count covers the last window.
        let w = HUB_PACE_MAX_MS;
        active(&mut pace, 500, 2_000 + w);
        assert_eq!(active(&mut pace, 500, 3_000 + w), 5_000, "500 active: 100 lines a second");
        active(&mut pace, 5_000, 4_000 + w);
        assert_eq!(active(&mut pace, 5_000, 5_000 + w), HUB_PACE_MAX_MS, "never slower than the maximum");
        // Conversations that stopped sending stop counting after the window.
        active(&mut pace, 150, 5_000 + 2 * w);
        assert_eq!(active(&mut pace, 150, 6_000 + 2 * w), 1_500);
    }

    #[test]
    fn a_hub_woken_on_a_busy_site_does_not_ask_for_every_line_at_once() {
        // 500 conversations on a 5 s pace: a fifth of them in each second after the wake-up.
        let mut pace = HubPace::default();
        let mut asked = Vec::new();
        for second in 0..12u64 {
            for i in 0..100u64 {
                let id = format!("c{}", (second * 100 + i) % 500);
                asked.push(pace.heard(&id, 1_000 * second + i));
            }
        }
        // The first line counts alone; from the second second on, the estimate holds.
        assert!(asked[100..].iter().all(|p| *p >= 5_000), "{:?}", &asked[100..110]);
        assert_eq!(*asked.last().unwrap(), 5_000);
    }

    #[test]
    fn only_a_line_operators_act_on_has_an_alarm_behind_it() {
        let mut feed = HubFeed::default();
        assert!(feed.changed(entry(1), 5_000).is_some());
        // One more unread message: a newer preview and count, nothing to act on.
        assert!(feed.changed(entry(2), 5_400).is_none());
        assert_eq!(feed.due_at(), Some(6_000), "the timer still takes it");
        assert_eq!(feed.backstop_at(), None);
        // The operator read it all: the badge goes out, even on a conversation nobody writes in again.
        let read = ConversationEntry { unread_by_operator: 0, ..entry(3) };
        assert!(feed.changed(read, 5_600).is_none());
        assert_eq!(feed.backstop_at(), Some(6_000 + HUB_FEED_BACKSTOP_MS));
    }

    #[test]
    fn a_line_the_hub_did_not_take_waits_again_as_a_new_ask() {
        let mut feed = HubFeed::default();
        feed.set_pace(10_000);
        let sent = feed.changed(entry(1), 1_000).expect("sent at once");
        feed.unsent(sent);
        assert_eq!(feed.due_at(), Some(2_000), "again after the interval, not the pace");
        assert_eq!(feed.backstop_at(), Some(2_000 + HUB_FEED_BACKSTOP_MS));
        // A newer line that waits already is not replaced by the older one that failed.
        let mut newer = HubFeed::default();
        let failed = newer.changed(entry(1), 1_000).expect("sent at once");
        assert!(newer.changed(entry(2), 1_100).is_none());
        newer.unsent(failed);
        assert_eq!(newer.take_due(2_000).map(|e| e.revision), Some(2));
    }

    #[test]
    fn cleared_feeds_send_nothing() {
        let mut feed = HubFeed::default();
        feed.changed(entry(1), 0);
        feed.changed(entry(2), 10);
        feed.clear();
        assert_eq!(feed.due_at(), None);
        assert_eq!(feed.take_due(10_000), None);
    }
}
