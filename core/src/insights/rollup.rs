//! One day of one site folded into rollup rows: per prompt and segment (source, device,
//! language), how many visitors were eligible, were shown the card, accepted it or dismissed it,
//! and how many leads it brought and how many of those reached the CRM.
//!
//! What counts, per visitor and day:
//! - **eligible**: the prompt engine ([`crate::prompts::rules::explain`]) found the prompt
//!   eligible after some event of the visitor's day: its condition held and its own rules
//!   (accepted before, cooldown, callback too early, nothing to compare) did not hold it back. The
//!   visit-wide guardrails (dwell, cap per visit, one card at a time) are not applied: eligible is
//!   the audience the prompt wanted to reach, shown is the part the guardrails let it reach. The
//!   session is folded from that day's events only; the shop's clock (business hours, weekdays)
//!   and whether an operator was online are read from the day's [`ShopTimeline`], as the widget
//!   saw them.
//! - **shown**, **accepted**, **dismissed**: the widget's `prompt_shown`, `prompt_accepted` (or
//!   `question_answered`) and `prompt_dismissed` events. The stages are made monotone (accepted ⊆
//!   shown ⊆ eligible): a lost `prompt_shown` must not make a funnel step exceed the one before.
//! - **leads**, **delivered**: leads created that day under the prompt, and those with a delivery
//!   to a CRM endpoint in state `delivered` when the day was rolled up.
//! - the site row (prompt `""`): visitors, visitors who opened the chat panel, conversations
//!   started, and leads that came from no prompt (the chat).
//! - **visitors** on a prompt's row: every visitor of the day while the prompt is enabled (in
//!   their arm of its experiment): the audience the prompt had, and what an experiment whose arms
//!   differ in timing is judged on ([`crate::insights::experiment::Base`]).
//!
//! The prompt engine holds a prompt back for what the visitor did with it on earlier days (a
//! dismissal within its cooldown, an acceptance ever), as the widget remembers it. So each
//! visitor's replay starts from their earlier prompt events ([`HISTORY_KINDS`]), read by the
//! worker from the events still kept; only the day's own events are counted.
//!
//! A prompt with an experiment has its rows split by the visitor's arm (`experiment`,
//! `variant`; [`crate::prompts::config::experiment`]), assigned from the visitor's id and the
//! config at roll-up time, so the arms' numbers are sums of rows
//! ([`crate::insights::experiment`]).
//!
//! A visitor's segment is read from their first events of the day: the source from the first
//! page view (`utm_source`, else the referring host, else `direct`), the device and the browser's
//! language as the worker classified them on arrival. Leads and chats of visitors without events
//! that day fall in the `unknown` segment.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::base::clock::civil;
use crate::base::locale::{Locale, Weekday};
use crate::base::text::truncate_chars;
use crate::base::url::host_of;
use crate::insights::day::{Day, DAY_MS};
use crate::prompts::config::WidgetConfig;
use crate::prompts::rules::{explain, EvalInput, PromptVerdict};
use crate::visitor::event::{Event, EventData, PageView};
use crate::visitor::session::{touch_from_page_view, Session};

/// A day is final (its rollup is never rewritten) this many days after it ended: deliveries
/// still retrying by then count as not delivered.
pub const SETTLE_DAYS: i64 = 2;
/// The cron (every 5 minutes) rolls up again a day that is not final once its rollup is this old,
/// a little under its period, so today's numbers are at most about five minutes stale.
pub const REFRESH_MS: u64 = 4 * 60 * 1000;
/// A read rolls such a day up itself only when its rollup is this old: the cron has not run (a
/// local `wrangler dev` has no cron). Otherwise a read never pays for today's events.
pub const READ_REFRESH_MS: u64 = 10 * 60 * 1000;
/// Most distinct sources one day keeps; the rarer ones are summed as [`OTHER`]. Anyone can put
/// anything in `utm_source`, and the rollup must stay small whatever they put.
pub const MAX_SOURCES_PER_DAY: usize = 50;
/// Most distinct browser languages one day keeps; the rarer ones are summed as [`OTHER`].
pub const MAX_LANGUAGES_PER_DAY: usize = 10;
/// Longest source kept.
pub const MAX_SOURCE_LEN: usize = 64;
/// The prompt of the site row.
pub const SITE_ROW: &str = "";
pub const DIRECT: &str = "direct";
pub const OTHER: &str = "other";
pub const UNKNOWN: &str = "unknown";

/// The kind of device, from the request that carried the events.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Device {
    Mobile,
    Tablet,
    Desktop,
}

impl Device {
    pub const ALL: [Device; 3] = [Device::Mobile, Device::Tablet, Device::Desktop];

    pub fn as_str(self) -> &'static str {
        match self {
            Device::Mobile => "mobile",
            Device::Tablet => "tablet",
            Device::Desktop => "desktop",
        }
    }

    pub fn parse(text: &str) -> Option<Device> {
        Device::ALL.into_iter().find(|d| d.as_str() == text)
    }

    /// From the `User-Agent` and the `Sec-CH-UA-Mobile` client hint (`?1` on phones in Chromium
    /// browsers). Only the class is kept, never the header itself.
    pub fn from_request(user_agent: Option<&str>, ch_mobile: Option<&str>) -> Option<Device> {
        if ch_mobile.map(str::trim) == Some("?1") {
            return Some(Device::Mobile);
        }
        let ua = user_agent?.trim();
        if ua.is_empty() {
            return None;
        }
        let has = |needle: &str| ua.contains(needle);
        if has("iPad") || has("Tablet") || (has("Android") && !has("Mobile")) {
            Some(Device::Tablet)
        } else if has("Mobi") || has("iPhone") || has("iPod") || has("Android") {
            Some(Device::Mobile)
        } else {
            Some(Device::Desktop)
        }
    }
}

/// The browser's preferred language from `Accept-Language`: the primary subtag (`ru`, `en`,
/// `de`) of its most preferred tag, or `None` when there is none worth keeping.
pub fn language_of(accept_language: Option<&str>) -> Option<String> {
    let mut best: Option<(f32, &str)> = None;
    for part in accept_language?.split(',') {
        let mut pieces = part.split(';');
        let tag = pieces.next().unwrap_or_default().trim();
        let q = pieces
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if tag.is_empty() || tag == "*" || q <= 0.0 {
            continue;
        }
        if best.is_none_or(|(best_q, _)| q > best_q) {
            best = Some((q, tag));
        }
    }
    let primary = best?.1.split(['-', '_']).next()?.to_ascii_lowercase();
    ((2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase())).then_some(primary)
}

/// Where the visitor came from, as a short label: the campaign's `utm_source`, else the
/// referring site's host (without `www.`), else `direct`.
pub fn source_of(view: &PageView) -> String {
    let touch = touch_from_page_view(view, 0);
    let label = touch
        .utm_source
        .map(|source| source.trim().to_lowercase())
        .filter(|source| !source.is_empty())
        .or_else(|| touch.referrer.as_deref().and_then(host_of).map(|host| host.strip_prefix("www.").unwrap_or(&host).to_owned()))
        .unwrap_or_else(|| DIRECT.to_owned());
    truncate_chars(&label, MAX_SOURCE_LEN)
}

/// The kinds of event that make a visitor's prompt history, replayed from earlier days before a
/// day is folded (see the module's notes).
pub const HISTORY_KINDS: [&str; 4] = ["prompt_shown", "prompt_dismissed", "prompt_accepted", "question_answered"];

/// One stored event of the day, with what the worker recorded about its request.
#[derive(Debug, Clone, PartialEq)]
pub struct DayEvent {
    pub visitor: String,
    pub device: Option<Device>,
    pub language: Option<String>,
    pub event: Event,
}

/// The shop through one day, as its prompts saw it: the offset of its clock from UTC (which moves
/// at a daylight-saving change) and whether any operator was online. Both are step functions of
/// time, each a list of `(from_ms, value)` in order; before a list's first step its `…_before`
/// value holds. The worker reads the offsets from the runtime's zone data and the presence from
/// the changes the site's hub recorded; core only looks them up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShopTimeline {
    pub offset_before: i32,
    pub offsets: Vec<(u64, i32)>,
    pub online_before: bool,
    pub presence: Vec<(u64, bool)>,
}

impl ShopTimeline {
    /// A shop whose clock runs `offset_minutes` from UTC all day, with nobody online.
    pub fn fixed(offset_minutes: i32) -> ShopTimeline {
        ShopTimeline { offset_before: offset_minutes, ..ShopTimeline::default() }
    }

    pub fn offset_at(&self, at_ms: u64) -> i32 {
        step_at(&self.offsets, at_ms).unwrap_or(self.offset_before)
    }

    pub fn online_at(&self, at_ms: u64) -> bool {
        step_at(&self.presence, at_ms).unwrap_or(self.online_before)
    }

    /// The offsets as a list of steps, from the offset at each of `samples` (moments in order,
    /// such as every hour of the day): only the moments where it changed are kept.
    pub fn offsets_from(samples: impl IntoIterator<Item = (u64, i32)>) -> (i32, Vec<(u64, i32)>) {
        let mut samples = samples.into_iter();
        let Some((_, first)) = samples.next() else { return (0, Vec::new()) };
        let mut steps: Vec<(u64, i32)> = Vec::new();
        let mut current = first;
        for (at, offset) in samples {
            if offset != current {
                steps.push((at, offset));
                current = offset;
            }
        }
        (first, steps)
    }
}

/// The value of the last step at or before `at_ms`, if any.
fn step_at<T: Copy>(steps: &[(u64, T)], at_ms: u64) -> Option<T> {
    let after = steps.partition_point(|(from, _)| *from <= at_ms);
    after.checked_sub(1).map(|i| steps[i].1)
}

/// A conversation started on the day: whose, and whether an operator has answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayChat {
    pub visitor: String,
    pub answered: bool,
}

/// One lead created that day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayLead {
    pub visitor: String,
    pub prompt: Option<String>,
    /// Some delivery of it to a CRM endpoint succeeded.
    pub delivered: bool,
}

/// The numbers of one rollup row. Visitor counts are visitor-days: a visitor who comes back on
/// another day counts on both.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(default)]
pub struct Counts {
    pub visitors: u64,
    pub eligible: u64,
    pub shown: u64,
    pub accepted: u64,
    pub dismissed: u64,
    pub leads: u64,
    pub delivered: u64,
    /// Visitors who opened the chat panel.
    pub chat_opens: u64,
    /// Conversations started (the visitor's first message).
    pub chats: u64,
    /// Of those, the ones an operator answered (by the time the day was last rolled up).
    pub chats_answered: u64,
}

impl Counts {
    pub const COLUMNS: [&'static str; 10] =
        ["visitors", "eligible", "shown", "accepted", "dismissed", "leads", "delivered", "chat_opens", "chats", "chats_answered"];

    pub fn add(&mut self, other: &Counts) {
        self.visitors += other.visitors;
        self.eligible += other.eligible;
        self.shown += other.shown;
        self.accepted += other.accepted;
        self.dismissed += other.dismissed;
        self.leads += other.leads;
        self.delivered += other.delivered;
        self.chat_opens += other.chat_opens;
        self.chats += other.chats;
        self.chats_answered += other.chats_answered;
    }
}

/// Which row: a prompt (or [`SITE_ROW`]) in a segment.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Segment {
    pub prompt: String,
    /// The prompt's experiment when the day was rolled up, `""` for none (and on the site row):
    /// with it, a new experiment's counts never mix with an earlier one's arms of the same name.
    #[serde(default)]
    pub experiment: String,
    /// The visitor's arm in it (`control` or a variant's id), `""` for none.
    #[serde(default)]
    pub variant: String,
    pub source: String,
    pub device: String,
    pub locale: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct RollupRow {
    #[serde(flatten)]
    pub segment: Segment,
    #[serde(flatten)]
    pub counts: Counts,
}

/// What one visitor did that day.
#[derive(Default)]
struct VisitorDay {
    source: Option<String>,
    device: Option<Device>,
    language: Option<String>,
    eligible: BTreeSet<String>,
    shown: BTreeSet<String>,
    accepted: BTreeSet<String>,
    dismissed: BTreeSet<String>,
    chat_open: bool,
}

/// Whether `day`'s rollup may still change at `now_ms` (see [`SETTLE_DAYS`]).
pub fn is_final(day: Day, now_ms: u64) -> bool {
    day.plus(SETTLE_DAYS).end_ms() <= now_ms
}

/// Whether a rollup of `day` made at `rolled_at` should be made again at `now_ms`, when a rollup
/// may be `max_age_ms` old ([`REFRESH_MS`] for the cron, [`READ_REFRESH_MS`] for a read).
pub fn needs_refresh(day: Day, rolled_at: u64, final_then: bool, now_ms: u64, max_age_ms: u64) -> bool {
    !final_then && (is_final(day, now_ms) || now_ms.saturating_sub(rolled_at) >= max_age_ms)
}

/// A day's rollup as recorded in `funnel_days`.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rolled {
    pub day: Day,
    pub rolled_at: u64,
    #[serde(rename = "final")]
    pub is_final: bool,
}

/// Which days of `range` to roll up now, newest first: those without a rollup (from the site's
/// first stored event on, up to today) and those whose rollup may still change and is stale.
/// Days before the first event, or after today, have nothing to count.
pub fn due_days(range: impl DoubleEndedIterator<Item = Day>, rolled: &[Rolled], first_event: Option<Day>, now_ms: u64, max_age_ms: u64) -> Vec<Day> {
    let today = Day::of_ms(now_ms);
    range
        .rev()
        .filter(|day| *day <= today && first_event.is_some_and(|first| *day >= first))
        .filter(|day| match rolled.iter().find(|r| r.day == *day) {
            None => true,
            Some(r) => needs_refresh(*day, r.rolled_at, r.is_final, now_ms, max_age_ms),
        })
        .collect()
}

/// What one day is folded from.
#[derive(Debug, Clone, Default)]
pub struct DayInput {
    /// The day's events, in any order (each visitor's are replayed by their time).
    pub events: Vec<DayEvent>,
    /// The day's visitors' prompt events of earlier days ([`HISTORY_KINDS`]), in any order:
    /// replayed first, never counted.
    pub earlier: Vec<DayEvent>,
    pub leads: Vec<DayLead>,
    /// Each conversation started that day, and whether it was answered.
    pub chats: Vec<DayChat>,
    /// The shop's clock and presence through the day.
    pub shop: ShopTimeline,
}

/// Folds one day into its rollup rows.
pub fn fold_day(config: &WidgetConfig, day: DayInput) -> Vec<RollupRow> {
    let DayInput { events, earlier, leads, chats, shop } = day;
    let mut by_visitor: BTreeMap<String, (Vec<DayEvent>, Vec<DayEvent>)> = BTreeMap::new();
    for event in events {
        by_visitor.entry(event.visitor.clone()).or_default().0.push(event);
    }
    for event in earlier {
        // Only a visitor of the day is replayed, and only from their prompt history.
        if let Some((_, history)) = by_visitor.get_mut(&event.visitor) {
            if HISTORY_KINDS.contains(&event.event.data.kind()) {
                history.push(event);
            }
        }
    }
    let enabled: BTreeSet<&str> = config.prompts.iter().filter(|p| p.enabled).map(|p| p.id.as_str()).collect();
    let mut visitors: HashMap<String, VisitorDay> = HashMap::with_capacity(by_visitor.len());
    for (visitor, (mut events, mut history)) in by_visitor {
        let in_order = |a: &DayEvent, b: &DayEvent| (a.event.at, &a.event.id).cmp(&(b.event.at, &b.event.id));
        events.sort_by(in_order);
        history.sort_by(in_order);
        visitors.insert(visitor, replay(config, &enabled, &history, &events, &shop));
    }

    // The rarer sources and languages are summed as "other", so a day has a bounded number of rows.
    let kept_sources = most_common(visitors.values().map(|day| day.source.as_deref().unwrap_or(DIRECT)), MAX_SOURCES_PER_DAY);
    let kept_languages = most_common(visitors.values().filter_map(|day| day.language.as_deref()), MAX_LANGUAGES_PER_DAY);

    // The arm comes from the visitor's id, as the widget chose it: a lead without that day's
    // events still counts in its visitor's arm.
    let arm_of = |visitor: &str, prompt: &str| -> (String, String) {
        let experiment = config.prompt(prompt).and_then(|definition| definition.experiment.as_ref());
        experiment.map_or_else(Default::default, |e| (e.id.clone(), e.arm_name(e.arm_of(visitor)).to_owned()))
    };
    let segment_of = |visitor: &str, day: Option<&VisitorDay>, prompt: &str| -> Segment {
        let (experiment, variant) = arm_of(visitor, prompt);
        let Some(day) = day else {
            let unknown = || UNKNOWN.to_owned();
            return Segment { prompt: prompt.to_owned(), experiment, variant, source: unknown(), device: unknown(), locale: unknown() };
        };
        let source = day.source.as_deref().unwrap_or(DIRECT);
        Segment {
            prompt: prompt.to_owned(),
            experiment,
            variant,
            source: if kept_sources.contains(source) { source.to_owned() } else { OTHER.to_owned() },
            device: day.device.map_or(UNKNOWN, Device::as_str).to_owned(),
            locale: match day.language.as_deref() {
                None => UNKNOWN.to_owned(),
                Some(language) if kept_languages.contains(language) => language.to_owned(),
                Some(_) => OTHER.to_owned(),
            },
        }
    };

    let mut rows: BTreeMap<Segment, Counts> = BTreeMap::new();
    for (visitor, day) in &visitors {
        let site = rows.entry(segment_of(visitor, Some(day), SITE_ROW)).or_default();
        site.visitors += 1;
        site.chat_opens += u64::from(day.chat_open);
        for prompt in &enabled {
            rows.entry(segment_of(visitor, Some(day), prompt)).or_default().visitors += 1;
        }
        for prompt in &day.eligible {
            let counts = rows.entry(segment_of(visitor, Some(day), prompt)).or_default();
            counts.eligible += 1;
            counts.shown += u64::from(day.shown.contains(prompt));
            counts.accepted += u64::from(day.accepted.contains(prompt));
            counts.dismissed += u64::from(day.dismissed.contains(prompt));
        }
    }
    for lead in &leads {
        let prompt = lead.prompt.as_deref().unwrap_or(SITE_ROW);
        let counts = rows.entry(segment_of(&lead.visitor, visitors.get(&lead.visitor), prompt)).or_default();
        counts.leads += 1;
        counts.delivered += u64::from(lead.delivered);
    }
    for chat in &chats {
        let counts = rows.entry(segment_of(&chat.visitor, visitors.get(&chat.visitor), SITE_ROW)).or_default();
        counts.chats += 1;
        counts.chats_answered += u64::from(chat.answered);
    }
    rows.into_iter().map(|(segment, counts)| RollupRow { segment, counts }).collect()
}

/// The `n` most frequent values (ties by name, so the choice does not depend on order).
fn most_common<'a>(values: impl Iterator<Item = &'a str>, n: usize) -> BTreeSet<String> {
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for value in values {
        *counts.entry(value).or_default() += 1;
    }
    let mut ranked: Vec<(&str, u64)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    ranked.into_iter().take(n).map(|(value, _)| value.to_owned()).collect()
}

/// Replays one visitor's events of the day (in order) through the session and the prompt engine,
/// after their prompt `history` of earlier days (in order).
fn replay(config: &WidgetConfig, enabled: &BTreeSet<&str>, history: &[DayEvent], events: &[DayEvent], shop: &ShopTimeline) -> VisitorDay {
    let mut day = VisitorDay::default();
    let mut session = Session::new();
    for earlier in history {
        session.apply(&earlier.event);
    }
    for DayEvent { visitor, device, language, event } in events {
        day.device = day.device.or(*device);
        if day.language.is_none() {
            day.language.clone_from(language);
        }
        session.apply(event);
        match &event.data {
            EventData::PageView(view) if day.source.is_none() => day.source = Some(source_of(view)),
            EventData::PromptShown(p) => {
                day.shown.insert(p.prompt.clone());
            }
            EventData::PromptAccepted(p) => {
                day.accepted.insert(p.prompt.clone());
            }
            EventData::QuestionAnswered(a) => {
                day.accepted.insert(a.prompt.clone());
            }
            EventData::PromptDismissed(p) => {
                day.dismissed.insert(p.prompt.clone());
            }
            EventData::ChatOpened => day.chat_open = true,
            _ => {}
        }
        let input = eval_input(config, &session, event, visitor, language.as_deref(), shop);
        for (prompt, verdict) in explain(config, &session, &input) {
            if verdict == PromptVerdict::Eligible && enabled.contains(prompt.as_str()) {
                day.eligible.insert(prompt);
            }
        }
    }
    // Monotone stages: what was accepted was shown, what was shown was eligible.
    day.shown.extend(day.accepted.iter().cloned());
    day.eligible.extend(day.shown.iter().cloned());
    day
}

/// The moment of `event` as the prompt engine saw it in the visitor's browser: the shop's clock
/// and presence then (the widget reads both: the clock in the site's zone, presence from the hub).
fn eval_input(config: &WidgetConfig, session: &Session, event: &Event, visitor: &str, language: Option<&str>, shop: &ShopTimeline) -> EvalInput {
    let offset = shop.offset_at(event.at);
    let time = civil(event.at, offset);
    let local_ms = event.at as i64 + i64::from(offset) * 60_000;
    // 1970-01-01 was a Thursday (JavaScript's day 4).
    let js_day = (local_ms.div_euclid(DAY_MS as i64) + 4).rem_euclid(7);
    EvalInput {
        now: event.at,
        weekday: Weekday::from_js_day(js_day as u32).unwrap_or(Weekday::Mon),
        minute_of_day: u16::from(time.hour) * 60 + u16::from(time.minute),
        page_url: session.current_page.clone().unwrap_or_default(),
        locale: language.and_then(Locale::from_language_tag).unwrap_or(config.default_locale),
        operator_online: shop.online_at(event.at),
        exit_intent: matches!(event.data, EventData::ExitIntent(_)),
        visitor: visitor.to_owned(),
    }
}

#[cfg(test)]
mod tests;
