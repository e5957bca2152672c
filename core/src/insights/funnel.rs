//! The owner's funnel: rollup rows summed over a range of days, per prompt, optionally split by
//! one dimension, with each step's conversion and the revenue of the deals the CRM reported.
//!
//! The worker sums the rows in SQL (`GROUP BY prompt, <dimension>`), so reading 90 days is one
//! indexed range scan whatever the traffic; this module decides what the query may ask, what the
//! groups mean and how the answer is put together.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::base::error::{ApiError, ErrorCode};
use crate::base::locale::Locale;
use crate::base::money::Currency;
use crate::insights::day::Day;
use crate::insights::rollup::{Counts, SITE_ROW};

/// The range when the query names none: the last 30 days, today included.
pub const DEFAULT_DAYS: i64 = 30;
/// The longest range one query may ask for.
pub const MAX_DAYS: i64 = 366;

/// What the funnel can be split by.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Day,
    Source,
    Device,
    Locale,
}

impl Dimension {
    pub const ALL: [Dimension; 4] = [Dimension::Day, Dimension::Source, Dimension::Device, Dimension::Locale];

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Day => "day",
            Dimension::Source => "source",
            Dimension::Device => "device",
            Dimension::Locale => "locale",
        }
    }

    pub fn parse(text: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.as_str() == text)
    }

    /// The rollup table's column the groups are keyed by, as SQL text (never from the request).
    pub fn key_sql(self) -> &'static str {
        match self {
            Dimension::Day => "CAST(day AS TEXT)",
            Dimension::Source => "source",
            Dimension::Device => "device",
            Dimension::Locale => "locale",
        }
    }
}

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD&by=day|source|device|locale`.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunnelQuery {
    pub from: Day,
    pub to: Day,
    pub by: Option<Dimension>,
}

impl FunnelQuery {
    /// Reads the query; `today` bounds it (a range in the future has nothing to show).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>, today: Day) -> Result<FunnelQuery, ApiError> {
        let invalid = |message: String| ApiError::new(ErrorCode::InvalidQuery, message);
        let (mut from, mut to, mut by) = (None, None, None);
        for (key, value) in pairs {
            let day = || Day::parse(value).ok_or_else(|| invalid(format!("{key}: {value:?} is not a date (YYYY-MM-DD)")));
            match key {
                "from" => from = Some(day()?),
                "to" => to = Some(day()?),
                "by" if value.is_empty() => by = None,
                "by" => {
                    by = Some(Dimension::parse(value).ok_or_else(|| {
                        invalid(format!("by: {value:?} is not one of day, source, device, locale"))
                    })?)
                }
                _ => {}
            }
        }
        let to = to.unwrap_or(today).min(today);
        let from = from.unwrap_or(to.plus(1 - DEFAULT_DAYS));
        if from > to {
            return Err(invalid(format!("from ({from}) is after to ({to})")));
        }
        if to.0 - from.0 + 1 > MAX_DAYS {
            return Err(invalid(format!("at most {MAX_DAYS} days at a time, asked for {}", to.0 - from.0 + 1)));
        }
        Ok(FunnelQuery { from, to, by })
    }

    pub fn days(&self) -> impl DoubleEndedIterator<Item = Day> + Clone {
        (self.from.0..=self.to.0).map(Day)
    }

    pub fn len(&self) -> u32 {
        (self.to.0 - self.from.0 + 1) as u32
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One row of the rollups summed over the range: a prompt, the group's key (`""` without a
/// dimension) and the sums.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Summed {
    pub prompt: String,
    #[serde(default)]
    pub key: String,
    #[serde(flatten)]
    pub counts: Counts,
}

/// The deals of one prompt's leads in one currency.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Revenue {
    pub currency: Currency,
    pub amount_minor: i64,
    pub deals: u64,
}

/// [`Revenue`] as the worker sums it, with its prompt (`""`: leads from no prompt).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PromptRevenue {
    pub prompt: String,
    #[serde(flatten)]
    pub revenue: Revenue,
}

/// One step to the next, as a share (0.0–1.0); `None` when the step before had nobody.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq)]
pub struct Rates {
    pub shown_of_eligible: Option<f64>,
    pub accepted_of_shown: Option<f64>,
    pub leads_of_accepted: Option<f64>,
    pub delivered_of_leads: Option<f64>,
}

impl Rates {
    pub fn of(counts: &Counts) -> Rates {
        let share = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
        Rates {
            shown_of_eligible: share(counts.shown, counts.eligible),
            accepted_of_shown: share(counts.accepted, counts.shown),
            leads_of_accepted: share(counts.leads, counts.accepted),
            delivered_of_leads: share(counts.delivered, counts.leads),
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Group {
    pub key: String,
    pub counts: Counts,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct PromptFunnel {
    pub prompt: String,
    /// Whether the site's config still has this prompt (a removed one keeps its history).
    pub configured: bool,
    pub counts: Counts,
    pub rates: Rates,
    /// Deals won from this prompt's leads of the range, per currency.
    pub revenue: Vec<Revenue>,
    /// Split by the query's dimension, largest first (days in order).
    pub groups: Vec<Group>,
}

/// What `GET /v1/admin/sites/:site/funnel` answers.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Funnel {
    pub from: Day,
    pub to: Day,
    pub by: Option<Dimension>,
    /// Days of the range that are not rolled up yet (the cron catches up within minutes); their
    /// numbers are not in the sums.
    pub days_missing: u32,
    /// The whole site: visitors, chat panel opens, conversations started, and every lead (with
    /// or without a prompt) and its delivery.
    pub site: Counts,
    pub site_groups: Vec<Group>,
    /// Revenue of every lead of the range, per currency.
    pub revenue: Vec<Revenue>,
    pub prompts: Vec<PromptFunnel>,
    /// How fast operators answered the conversations of the range; `None` when none was answered
    /// (or the conversations are no longer kept: closed ones go after their retention period,
    /// while `site.chats_answered` stays in the rollups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response: Option<FirstResponse>,
    /// How visitors rated the range's conversations once they closed; `None` when none was rated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<Satisfaction>,
}

/// The visitors' ratings (1-5) of the range's conversations still kept.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Satisfaction {
    pub ratings: u64,
    /// The sum of the scores (the average is `sum / ratings`).
    pub sum: u64,
    /// Ratings of 4 or 5: the usual CSAT is their share.
    pub satisfied: u64,
}

impl Satisfaction {
    /// As an owner reads it: `4.3 of 5, 80 % satisfied (12 ratings)`.
    pub fn words(&self, locale: Locale) -> String {
        let ratings = self.ratings.max(1);
        // Tenths, rounded half up, without floats.
        let tenths = (self.sum * 20 + ratings) / (ratings * 2);
        let percent = (self.satisfied * 200 + ratings) / (ratings * 2);
        let (whole, tenth) = (tenths / 10, tenths % 10);
        match locale {
            Locale::En => format!("{whole}.{tenth} of 5, {percent} % satisfied ({} rating{})", self.ratings, if self.ratings == 1 { "" } else { "s" }),
            Locale::Ru => format!("{whole},{tenth} из 5, довольны {percent} % (оценок: {})", self.ratings),
        }
    }
}

/// The time from a conversation's start (the visitor's first message) to an operator's first
/// answer, over the range's answered conversations still kept.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstResponse {
    /// The median (the lower middle one of an even count), in milliseconds.
    pub median_ms: u64,
    /// How many conversations it is the median of.
    pub conversations: u64,
}

impl FirstResponse {
    /// The median as an owner reads it: `45 s`, `2 min 05 s`, `1 h 10 min`.
    pub fn median_words(&self, locale: Locale) -> String {
        let seconds = self.median_ms.div_ceil(1000);
        let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
        let (hours, minutes, secs) = match locale {
            Locale::En => ("h", "min", "s"),
            Locale::Ru => ("ч", "мин", "с"),
        };
        match (h, m) {
            (0, 0) => format!("{s} {secs}"),
            (0, _) => format!("{m} {minutes} {s:02} {secs}"),
            _ => format!("{h} {hours} {m:02} {minutes}"),
        }
    }
}

/// Puts the funnel together from the summed rows and revenue. `configured` is the config's
/// prompt ids in order: they come first (even with no numbers yet), removed prompts after them.
pub fn combine(query: &FunnelQuery, rows: &[Summed], revenue: &[PromptRevenue], configured: &[String], days_missing: u32) -> Funnel {
    let key_of = |key: &str| match query.by {
        // The day column comes back as its number; people read dates.
        Some(Dimension::Day) => key.parse::<i64>().map(|n| Day(n).to_string()).unwrap_or_else(|_| key.to_owned()),
        _ => key.to_owned(),
    };
    let mut per_prompt: BTreeMap<&str, (Counts, BTreeMap<String, Counts>)> = BTreeMap::new();
    let mut site = Counts::default();
    let mut site_groups: BTreeMap<String, Counts> = BTreeMap::new();
    for row in rows {
        let (total, groups) = per_prompt.entry(row.prompt.as_str()).or_default();
        total.add(&row.counts);
        if query.by.is_some() {
            groups.entry(key_of(&row.key)).or_default().add(&row.counts);
        }
        // The site's leads are every lead; its visitors and chats are the site rows'.
        let site_part = if row.prompt == SITE_ROW {
            row.counts
        } else {
            Counts { leads: row.counts.leads, delivered: row.counts.delivered, ..Counts::default() }
        };
        site.add(&site_part);
        if query.by.is_some() {
            site_groups.entry(key_of(&row.key)).or_default().add(&site_part);
        }
    }
    let mut order: Vec<(String, bool)> = configured.iter().map(|id| (id.clone(), true)).collect();
    for prompt in per_prompt.keys() {
        if *prompt != SITE_ROW && !configured.iter().any(|id| id.as_str() == *prompt) {
            order.push(((*prompt).to_owned(), false));
        }
    }
    let revenue_of = |prompt: Option<&str>| -> Vec<Revenue> {
        let mut sums: BTreeMap<Currency, Revenue> = BTreeMap::new();
        for r in revenue.iter().filter(|r| prompt.is_none_or(|p| r.prompt == p)) {
            let sum = sums.entry(r.revenue.currency).or_insert(Revenue { currency: r.revenue.currency, amount_minor: 0, deals: 0 });
            sum.amount_minor = sum.amount_minor.saturating_add(r.revenue.amount_minor);
            sum.deals += r.revenue.deals;
        }
        let mut list: Vec<Revenue> = sums.into_values().collect();
        list.sort_by(|a, b| b.amount_minor.cmp(&a.amount_minor).then(a.currency.cmp(&b.currency)));
        list
    };
    let prompts = order
        .into_iter()
        .map(|(prompt, configured)| {
            let (counts, groups) = per_prompt.get(prompt.as_str()).cloned().unwrap_or_default();
            PromptFunnel {
                rates: Rates::of(&counts),
                revenue: revenue_of(Some(&prompt)),
                groups: ordered(query.by, groups),
                prompt,
                configured,
                counts,
            }
        })
        .collect();
    Funnel {
        from: query.from,
        to: query.to,
        by: query.by,
        days_missing,
        site,
        site_groups: ordered(query.by, site_groups),
        revenue: revenue_of(None),
        prompts,
        first_response: None,
        satisfaction: None,
    }
}

/// Days in calendar order; any other split largest first (by visitors, then eligible), then by name.
fn ordered(by: Option<Dimension>, groups: BTreeMap<String, Counts>) -> Vec<Group> {
    let mut list: Vec<Group> = groups.into_iter().map(|(key, counts)| Group { key, counts }).collect();
    if by != Some(Dimension::Day) {
        list.sort_by(|a, b| {
            (b.counts.visitors, b.counts.eligible, b.counts.leads).cmp(&(a.counts.visitors, a.counts.eligible, a.counts.leads)).then(a.key.cmp(&b.key))
        });
    }
    list
}

#[cfg(test)]
mod tests;
