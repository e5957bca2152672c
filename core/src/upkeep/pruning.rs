//! The pruner: which delete runs next, how many rows it may take, and when a run stops. The worker's
//! cron feeds it what each statement deleted; it never exceeds the platform's per-invocation limits
//! (the Workers free plan allows 50 D1 queries and 50 subrequests per invocation, the paid plan
//! 1000) and a run that has more to do leaves it for the next one, five minutes later.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::retention::{Kept, RetentionPolicy, SiteRetention};

/// The bounds of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PruneLimits {
    /// Rows one DELETE takes (`LIMIT`): a short write transaction that never holds D1 for long.
    pub rows_per_statement: u32,
    /// Conversations one step erases (each is a call to its Durable Object).
    pub conversations_per_step: u32,
    /// D1 statements plus object calls per run, leaving room below the free plan's 50 for the
    /// sweeper that shares the cron invocation.
    pub max_subrequests: u32,
    /// Wall-clock budget per run; a step is not started after it.
    pub time_budget_ms: u64,
}

impl Default for PruneLimits {
    fn default() -> Self {
        PruneLimits { rows_per_statement: 500, conversations_per_step: 10, max_subrequests: 40, time_budget_ms: 10_000 }
    }
}

/// One bounded delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneTask {
    pub kind: Kept,
    /// `Some(site)`: that site's rows under its own period; `None`: every site's but `except`.
    pub site: Option<String>,
    /// Sites with their own period for this kind, left to their own task.
    pub except: Vec<String>,
    /// Rows aged before this (milliseconds since the epoch) are due.
    pub cutoff: u64,
    /// Rows (or conversations) this step may take.
    pub limit: u32,
}

impl PruneTask {
    /// What the step costs against [`PruneLimits::max_subrequests`]: one statement, or for
    /// conversations a read, one call per conversation and one batch; the funnel's two tables
    /// (its days and their rows) a statement each.
    pub fn cost(&self) -> u32 {
        match self.kind {
            Kept::ClosedConversations => self.limit + 2,
            Kept::FunnelRollups => 2,
            _ => 1,
        }
    }
}

/// What a run pruned: the log line and the admin endpoint's answer.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Rows removed by kind, as D1 counts them (rows deleted with them by `ON DELETE CASCADE`
    /// included: a delivery's attempts, a lead's consent changes); conversations for
    /// `closed_conversations`.
    pub pruned: BTreeMap<Kept, u64>,
    pub subrequests: u32,
    pub elapsed_ms: u64,
    /// Kinds whose step failed (logged by the worker; retried by the next run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<Kept>,
    /// Everything due was pruned; `false` when the budget ran out first or a step failed (the
    /// next run goes on).
    pub complete: bool,
}

impl PruneReport {
    pub fn total(&self) -> u64 {
        self.pruned.values().sum()
    }

    /// One log line: `retention: pruned events 500, mailbox 3 (12 subrequests, 840 ms, complete)`.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self.pruned.iter().filter(|(_, n)| **n > 0).map(|(kind, n)| format!("{} {n}", kind.as_str())).collect();
        let what = if parts.is_empty() { "nothing".to_owned() } else { parts.join(", ") };
        let failed: Vec<&str> = self.failed.iter().map(|kind| kind.as_str()).collect();
        let state = match (self.complete, failed.is_empty()) {
            (true, _) => "complete".to_owned(),
            (false, true) => "more left for the next run".to_owned(),
            (false, false) => format!("failed: {}", failed.join(", ")),
        };
        format!("retention: pruned {what} ({} subrequests, {} ms, {state})", self.subrequests, self.elapsed_ms)
    }
}

/// One run of the retention cron, sans IO: ask [`Pruner::next`] for a step, run it, tell
/// [`Pruner::done`] how many rows it removed, until `next` says `None`.
#[derive(Debug, Clone)]
pub struct Pruner {
    queue: VecDeque<PruneTask>,
    limits: PruneLimits,
    started_at: u64,
    report: PruneReport,
}

impl Pruner {
    /// The steps due at `now` under `policy`, with each site's own periods (`sites`: the sites
    /// that chose any).
    pub fn new(policy: &RetentionPolicy, sites: &[(String, SiteRetention)], now: u64, limits: PruneLimits) -> Pruner {
        let mut queue = VecDeque::new();
        for kind in Kept::ALL {
            let limit = match kind {
                Kept::ClosedConversations => limits.conversations_per_step,
                _ => limits.rows_per_statement,
            }
            .max(1);
            let mut except = Vec::new();
            if kind.per_site() {
                for (site, own) in sites {
                    let cutoff = policy.cutoff(kind, Some(own), now);
                    if cutoff != policy.cutoff(kind, None, now) {
                        queue.push_back(PruneTask { kind, site: Some(site.clone()), except: Vec::new(), cutoff, limit });
                        except.push(site.clone());
                    }
                }
            }
            queue.push_back(PruneTask { kind, site: None, except, cutoff: policy.cutoff(kind, None, now), limit });
        }
        Pruner { queue, limits, started_at: now, report: PruneReport::default() }
    }

    /// The next step, or `None` when nothing is due or the run's budget is spent.
    pub fn next(&self, now: u64) -> Option<&PruneTask> {
        let task = self.queue.front()?;
        let within_time = now.saturating_sub(self.started_at) < self.limits.time_budget_ms;
        let within_calls = self.report.subrequests + task.cost() <= self.limits.max_subrequests;
        (within_time && within_calls).then_some(task)
    }

    /// The step [`Pruner::next`] gave removed `removed` rows. A full step may have left more
    /// behind and runs again; a short one finished its kind. (Cascaded rows can make a step look
    /// full: the repeat then finds nothing and moves on.)
    pub fn done(&mut self, removed: u64) {
        let Some(task) = self.queue.front() else { return };
        self.report.subrequests += task.cost();
        *self.report.pruned.entry(task.kind).or_default() += removed;
        if removed < u64::from(task.limit) {
            self.queue.pop_front();
        }
    }

    /// The step failed: counted, and skipped until the next run so one bad table cannot stall
    /// the rest.
    pub fn failed(&mut self) {
        if let Some(task) = self.queue.pop_front() {
            self.report.subrequests += task.cost();
            self.report.failed.push(task.kind);
        }
    }

    pub fn finish(mut self, now: u64) -> PruneReport {
        self.report.elapsed_ms = now.saturating_sub(self.started_at);
        self.report.complete = self.queue.is_empty() && self.report.failed.is_empty();
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upkeep::retention::DAY_MS;

    const NOW: u64 = 1_800_000_000_000;

    /// Runs a pruner against row counts per (kind, site) ("" = every other site), as the worker
    /// would against D1.
    fn run(pruner: &mut Pruner, rows: &mut BTreeMap<(Kept, String), u64>, clock: &mut u64, step_ms: u64) -> Vec<PruneTask> {
        let mut steps = Vec::new();
        while let Some(task) = pruner.next(*clock).cloned() {
            let left = rows.entry((task.kind, task.site.clone().unwrap_or_default())).or_default();
            let removed = (*left).min(u64::from(task.limit));
            *left -= removed;
            pruner.done(removed);
            *clock += step_ms;
            steps.push(task);
        }
        steps
    }

    #[test]
    fn every_kind_is_visited_once_when_little_is_due() {
        let mut pruner = Pruner::new(&RetentionPolicy::default(), &[], NOW, PruneLimits::default());
        let steps = run(&mut pruner, &mut BTreeMap::new(), &mut NOW.clone(), 10);
        assert_eq!(steps.iter().map(|t| t.kind).collect::<Vec<_>>(), Kept::ALL);
        let events = steps.iter().find(|t| t.kind == Kept::Events).unwrap();
        assert_eq!((events.cutoff, events.limit, events.site.as_deref()), (NOW - 180 * DAY_MS, 500, None));
        let report = pruner.finish(NOW + 90);
        assert!(report.complete);
        // Ten one-statement kinds, the funnel's two, conversations' read + 10 calls + batch.
        assert_eq!((report.total(), report.subrequests, report.elapsed_ms), (0, 10 + 2 + 12, 90));
        assert!(report.summary().starts_with("retention: pruned nothing"), "{}", report.summary());
    }

    #[test]
    fn a_full_step_repeats_until_a_short_one_and_the_budget_caps_a_run() {
        let mut rows = BTreeMap::from([((Kept::Events, String::new()), 50_000), ((Kept::Mailbox, String::new()), 700)]);
        let mut clock = NOW;
        let mut pruner = Pruner::new(&RetentionPolicy::default(), &[], NOW, PruneLimits::default());
        run(&mut pruner, &mut rows, &mut clock, 10);
        let first = pruner.finish(clock);
        assert!(!first.complete, "{first:?}");
        assert_eq!(first.subrequests, PruneLimits::default().max_subrequests);
        assert_eq!(first.pruned[&Kept::Mailbox], 700);
        assert_eq!(first.pruned[&Kept::Events], 500 * 35, "40 minus rate limits, two mailbox steps, sessions and links");
        // The next runs finish the job: storage stays bounded by what arrives between runs.
        let mut runs = 1;
        while rows.values().any(|n| *n > 0) {
            let mut pruner = Pruner::new(&RetentionPolicy::default(), &[], clock, PruneLimits::default());
            run(&mut pruner, &mut rows, &mut clock, 10);
            runs += 1;
            assert!(runs < 5);
        }
        assert_eq!(runs, 3, "17,500 rows in the first run, 18,000 in each after");
    }

    #[test]
    fn the_time_budget_stops_a_slow_run() {
        let mut rows = BTreeMap::from([((Kept::RateLimits, String::new()), 100_000)]);
        let mut clock = NOW;
        let mut pruner = Pruner::new(&RetentionPolicy::default(), &[], NOW, PruneLimits::default());
        let steps = run(&mut pruner, &mut rows, &mut clock, 4_000);
        assert_eq!(steps.len(), 3, "steps start at 0, 4 and 8 s; none after 10 s");
        assert!(!pruner.finish(clock).complete);
    }

    #[test]
    fn a_site_with_its_own_period_gets_its_own_step_and_is_left_out_of_the_rest() {
        let own = SiteRetention { events_days: Some(30), ..SiteRetention::default() };
        let same = SiteRetention { leads_days: Some(3 * 365), ..SiteRetention::default() };
        let sites = [("shop".to_owned(), own), ("same".to_owned(), same)];
        let pruner = Pruner::new(&RetentionPolicy::default(), &sites, NOW, PruneLimits::default());
        let events: Vec<&PruneTask> = pruner.queue.iter().filter(|t| t.kind == Kept::Events).collect();
        assert_eq!(events.len(), 2);
        assert_eq!((events[0].site.as_deref(), events[0].cutoff), (Some("shop"), NOW - 30 * DAY_MS));
        assert_eq!((events[1].site.as_deref(), &events[1].except[..]), (None, &["shop".to_owned()][..]));
        let leads: Vec<&PruneTask> = pruner.queue.iter().filter(|t| t.kind == Kept::Leads).collect();
        assert_eq!(leads.len(), 1, "a choice equal to the default needs no step of its own");
        assert!(leads[0].except.is_empty());
        assert!(pruner.queue.iter().filter(|t| !t.kind.per_site()).all(|t| t.site.is_none() && t.except.is_empty()));
    }

    #[test]
    fn conversations_are_erased_a_few_at_a_time_and_failures_do_not_stall_the_run() {
        let mut pruner = Pruner::new(&RetentionPolicy::default(), &[], NOW, PruneLimits::default());
        while pruner.next(NOW).is_some_and(|t| t.kind != Kept::ClosedConversations) {
            pruner.failed();
        }
        let task = pruner.next(NOW).unwrap().clone();
        assert_eq!((task.limit, task.cost()), (10, 12));
        pruner.done(10);
        assert_eq!(pruner.next(NOW).map(|t| t.kind), Some(Kept::ClosedConversations), "a full step goes again");
        pruner.done(3);
        assert_eq!(pruner.next(NOW), None, "conversations come last");
        let report = pruner.finish(NOW);
        assert_eq!(report.pruned[&Kept::ClosedConversations], 13);
        assert!(!report.complete, "the failed steps are reported");
        assert_eq!(report.failed.len(), Kept::ALL.len() - 1);
        assert!(report.summary().contains("failed: rate_limits, mailbox"), "{}", report.summary());
        assert_eq!(serde_json::to_value(&report).unwrap()["pruned"]["closed_conversations"], 13);
    }
}
