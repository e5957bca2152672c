//! The widget's events on their way to `POST /v1/events`: what is kept while nothing may be sent,
//! and when the queue goes out. The widget sends what [`EventQueue::next_batch`] gives: on every
//! [`FLUSH_EVERY_TICKS`]th tick ([`crate::visitor::attention::Tick::flush`]), as soon as [`EventQueue::push`]
//! says the queue is full, and by beacon when the page goes away.

use crate::base::error::Refused;
use crate::visitor::event::{Event, EventBatch, EVENT_BATCH_VERSION, MAX_EVENTS_PER_BATCH};

/// Send the queue as soon as it holds this many events, or every this many ticks (seconds).
pub const FLUSH_AT_EVENTS: usize = 10;
pub const FLUSH_EVERY_TICKS: u32 = 5;
/// Events kept while nothing may be sent (consent pending, network down); the oldest go first.
pub const MAX_QUEUED: usize = 100;

/// Whether a batch that got `status` (`None`: no response at all) is worth sending again: the
/// network, a worker restarting (5xx) or a rate limit (429) pass; any other refusal would be
/// refused again, and retrying it forever would only cost the visitor's battery.
pub fn worth_resending(status: Option<u16>) -> bool {
    match status {
        None => true,
        Some(code) => code == 429 || code >= 500,
    }
}

/// One visitor's queued events.
#[derive(Debug, Clone, Default)]
pub struct EventQueue {
    site: String,
    visitor: String,
    session: String,
    queue: Vec<Event>,
}

// `#[inline]`: the widget's first load then has one copy of the generic code for `Event` (its
// drop, the vector's moves), not one from each crate (measured: 0.4 KB less raw code).
impl EventQueue {
    #[inline]
    pub fn new(site: String, visitor: String, session: String) -> EventQueue {
        EventQueue { site, visitor, session, queue: Vec::new() }
    }

    /// Queues `event`; `Ok(true)` when the queue should be sent now. One bad event (a `file://`
    /// URL, an oversized property) would make the server refuse the whole batch, so each is
    /// checked alone first, by the server's own rules, and refused here (the code only: the
    /// server's words would cost the widget's first load, issue 16).
    #[inline]
    pub fn push(&mut self, event: Event) -> Result<bool, Refused> {
        let mut alone = self.batch(vec![event]);
        alone.check()?;
        self.queue.append(&mut alone.events);
        // One in, so at most one out.
        if self.queue.len() > MAX_QUEUED {
            self.queue.remove(0);
        }
        Ok(self.queue.len() >= FLUSH_AT_EVENTS)
    }

    /// The oldest queued events, as many as one batch holds; `None` when nothing is queued.
    #[inline]
    pub fn next_batch(&mut self) -> Option<EventBatch> {
        if self.queue.is_empty() {
            return None;
        }
        let rest = self.queue.split_off(self.queue.len().min(MAX_EVENTS_PER_BATCH));
        let events = std::mem::replace(&mut self.queue, rest);
        Some(self.batch(events))
    }

    /// Takes back a batch that did not reach the server (network down, the worker restarting), in
    /// front of what was queued since, so the next flush sends it again in order. The worker skips
    /// events it already stored (by id), so a batch that did arrive after all is not doubled. When
    /// that overfills the queue, the oldest go first, as in [`EventQueue::push`].
    #[inline]
    pub fn put_back(&mut self, batch: EventBatch) {
        if batch.visitor != self.visitor || batch.session != self.session {
            return;
        }
        let mut events = batch.events;
        events.append(&mut self.queue);
        let over = events.len().saturating_sub(MAX_QUEUED);
        events.drain(..over);
        self.queue = events;
    }

    /// Forgets everything queued (the visitor withdrew consent).
    #[inline]
    pub fn clear(&mut self) {
        self.queue.clear();
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    #[inline]
    fn batch(&self, events: Vec<Event>) -> EventBatch {
        EventBatch {
            v: EVENT_BATCH_VERSION,
            site: self.site.clone(),
            visitor: self.visitor.clone(),
            session: self.session.clone(),
            events,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visitor::event::{EventData, PageView};
    use proptest::prelude::*;

    fn queue() -> EventQueue {
        EventQueue::new("demo".into(), "visitor-0001".into(), "session-0001".into())
    }

    fn view(n: usize, url: &str) -> Event {
        Event {
            id: format!("evt{n:08}"),
            at: 1_790_000_000_000 + n as u64,
            data: EventData::PageView(PageView { url: url.into(), title: String::new(), referrer: None }),
        }
    }

    #[test]
    fn full_at_ten_and_one_bad_event_never_joins() {
        let mut queue = queue();
        for n in 0..FLUSH_AT_EVENTS - 1 {
            assert_eq!(queue.push(view(n, "https://shop.example/")), Ok(false));
        }
        assert!(queue.push(view(99, "file:///etc/passwd")).is_err());
        assert_eq!(queue.len(), FLUSH_AT_EVENTS - 1);
        assert_eq!(queue.push(view(9, "https://shop.example/")), Ok(true));
        let batch = queue.next_batch().expect("a batch");
        assert_eq!(batch.events.len(), FLUSH_AT_EVENTS);
        assert_eq!(batch.validate(), Ok(()));
        assert_eq!(queue.next_batch(), None);
    }

    #[test]
    fn consent_withdrawn_forgets_the_queue() {
        let mut queue = queue();
        queue.push(view(1, "https://shop.example/")).expect("valid");
        queue.clear();
        assert!(queue.is_empty());
        assert_eq!(queue.next_batch(), None);
    }

    #[test]
    fn a_batch_that_did_not_arrive_goes_again_first_and_in_order() {
        let mut queue = queue();
        for n in 0..3 {
            queue.push(view(n, "https://shop.example/")).expect("valid");
        }
        let failed = queue.next_batch().expect("a batch");
        queue.push(view(3, "https://shop.example/")).expect("valid");
        queue.put_back(failed);
        let again = queue.next_batch().expect("a batch");
        let ids: Vec<&str> = again.events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["evt00000000", "evt00000001", "evt00000002", "evt00000003"]);

        // Another session's batch (the visitor reset) is not adopted.
        let mut other = again.clone();
        other.session = "session-0002".into();
        queue.put_back(other);
        assert!(queue.is_empty());
    }

    #[test]
    fn put_back_never_holds_more_than_the_newest_hundred() {
        let mut queue = queue();
        for n in 0..MAX_QUEUED {
            queue.push(view(n, "https://shop.example/")).expect("valid");
        }
        let failed = queue.next_batch().expect("a batch");
        for n in MAX_QUEUED..MAX_QUEUED + 5 {
            queue.push(view(n, "https://shop.example/")).expect("valid");
        }
        queue.put_back(failed);
        assert_eq!(queue.len(), MAX_QUEUED);
        let first = queue.next_batch().expect("a batch");
        assert_eq!(first.events[0].id, "evt00000005", "the five oldest went");
    }

    #[test]
    fn only_what_could_succeed_later_is_resent() {
        for status in [None, Some(429), Some(500), Some(502), Some(503)] {
            assert!(worth_resending(status), "{status:?}");
        }
        for status in [Some(400), Some(403), Some(404), Some(413), Some(422)] {
            assert!(!worth_resending(status), "{status:?}");
        }
    }

    proptest! {
        #[test]
        fn keeps_the_newest_hundred_and_sends_them_oldest_first_in_valid_batches(n in 0..400usize) {
            let mut queue = queue();
            for i in 0..n {
                let full = queue.push(view(i, "https://shop.example/")).expect("valid");
                prop_assert_eq!(full, queue.len() >= FLUSH_AT_EVENTS);
                prop_assert!(queue.len() <= MAX_QUEUED);
            }
            let mut sent = Vec::new();
            while let Some(batch) = queue.next_batch() {
                prop_assert!(batch.events.len() <= MAX_EVENTS_PER_BATCH);
                prop_assert_eq!(batch.validate(), Ok(()));
                sent.extend(batch.events.into_iter().map(|e| e.at - 1_790_000_000_000));
            }
            let expected: Vec<u64> = (n.saturating_sub(MAX_QUEUED)..n).map(|i| i as u64).collect();
            prop_assert_eq!(sent, expected);
        }
    }
}
