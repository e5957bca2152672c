//! The owner's leads: the filters of the cockpit's Leads screen and of the CSV export, a lead's
//! source on one line, and the CSV itself.
//!
//! The worker narrows what D1 reads by site, kind and time ([`LeadFilter::kind`], `from_ms`,
//! `until_ms`), newest first and bounded ([`MAX_LEADS_SCANNED`]); the rest of the filter (the
//! search, the prompt, the source) is [`LeadFilter::matches`] over the decoded leads, so what
//! "matches" means is decided and tested here once for the list and the export alike.
//!
//! The CSV is meant for spreadsheets: every cell quoted (RFC 4180), and a cell a spreadsheet
//! would run as a formula — starting with `=`, `+`, `-`, `@`, a tab or a carriage return — gets a
//! leading `'` (OWASP's advice against CSV injection), so a visitor who types `=HYPERLINK(...)`
//! as their name cannot make the owner's spreadsheet do anything. A phone number `+7...` is
//! shown as `'+7...` for the same reason. A UTF-8 byte order mark comes first, so Excel reads
//! Cyrillic right.

use crate::base::error::{ApiError, ErrorCode};
use crate::base::locale::Locale;
use crate::chat::operator_view::source_line;
use crate::leads::lead::{Lead, LeadKind};
use crate::outbound::webhook::rfc3339;

/// Leads read from D1 for one list or export at most (newest first): a bound on the work one
/// request can cause, whatever the filter. Older leads are reached by narrowing the dates.
pub const MAX_LEADS_SCANNED: u32 = 10_000;
/// Rows one CSV export holds at most.
pub const MAX_CSV_ROWS: usize = 10_000;
const MAX_FILTER_TEXT: usize = 200;
const DAY_MS: u64 = 86_400_000;

/// The query of `GET …/leads` and `GET …/leads.csv`, as given: every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeadQuery {
    /// Words to find in the contact, message, page, lead or visitor id (case-insensitive).
    pub q: Option<String>,
    /// A lead kind (`callback`, …).
    pub kind: Option<String>,
    /// The first day, `YYYY-MM-DD` (UTC), inclusive.
    pub from: Option<String>,
    /// The last day, `YYYY-MM-DD` (UTC), inclusive.
    pub to: Option<String>,
    /// The prompt id the lead came from, exactly.
    pub prompt: Option<String>,
    /// Part of the lead's source line ([`lead_source`]), case-insensitive: `yandex`, `direct`.
    pub source: Option<String>,
}

impl LeadQuery {
    /// Reads the query's pairs; other names (`limit`) are left to the caller.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> LeadQuery {
        let mut query = LeadQuery::default();
        for (name, value) in pairs {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let slot = match name {
                "q" => &mut query.q,
                "kind" => &mut query.kind,
                "from" => &mut query.from,
                "to" => &mut query.to,
                "prompt" => &mut query.prompt,
                "source" => &mut query.source,
                _ => continue,
            };
            *slot = Some(value.to_owned());
        }
        query
    }

    /// The filter, or a 400 `invalid_query` naming the field that cannot be read.
    pub fn filter(&self) -> Result<LeadFilter, ApiError> {
        let invalid = |message: String| ApiError::new(ErrorCode::InvalidQuery, message);
        for (name, value) in [("q", &self.q), ("prompt", &self.prompt), ("source", &self.source)] {
            if value.as_ref().is_some_and(|v| v.chars().count() > MAX_FILTER_TEXT) {
                return Err(invalid(format!("{name}: at most {MAX_FILTER_TEXT} characters")));
            }
        }
        let kind = match &self.kind {
            Some(kind) => Some(LeadKind::parse(kind).ok_or_else(|| invalid(format!("kind: {kind:?} is not a lead kind")))?),
            None => None,
        };
        let day = |name: &str, value: &Option<String>| -> Result<Option<u64>, ApiError> {
            value.as_deref().map(|v| day_start_ms(v).ok_or_else(|| invalid(format!("{name}: a date as YYYY-MM-DD, not {v:?}")))).transpose()
        };
        let from_ms = day("from", &self.from)?;
        let until_ms = day("to", &self.to)?.map(|start| start + DAY_MS);
        if let (Some(from), Some(until)) = (from_ms, until_ms) {
            if from >= until {
                return Err(invalid("from: after to".into()));
            }
        }
        Ok(LeadFilter {
            kind,
            from_ms: from_ms.unwrap_or(0),
            // 2^53 ms: beyond any lead, and exact as the JS number D1 binds.
            until_ms: until_ms.unwrap_or(1 << 53),
            words: self.q.as_deref().map(|q| q.to_lowercase().split_whitespace().map(str::to_owned).collect()).unwrap_or_default(),
            prompt: self.prompt.clone(),
            source: self.source.as_deref().map(str::to_lowercase),
        })
    }
}

/// A checked [`LeadQuery`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadFilter {
    pub kind: Option<LeadKind>,
    /// `created_at >= from_ms`.
    pub from_ms: u64,
    /// `created_at < until_ms` (the end of the `to` day).
    pub until_ms: u64,
    /// Every word must be found (lowercase).
    words: Vec<String>,
    prompt: Option<String>,
    source: Option<String>,
}

impl LeadFilter {
    /// Whether the lead passes every part of the filter (the D1 bounds included, so the filter
    /// holds on its own).
    pub fn matches(&self, lead: &Lead) -> bool {
        if self.kind.is_some_and(|kind| kind != lead.kind) || lead.created_at < self.from_ms || lead.created_at >= self.until_ms {
            return false;
        }
        if self.prompt.as_ref().is_some_and(|prompt| lead.prompt.as_ref() != Some(prompt)) {
            return false;
        }
        if self.source.as_ref().is_some_and(|source| !lead_source(lead).to_lowercase().contains(source.as_str())) {
            return false;
        }
        if self.words.is_empty() {
            return true;
        }
        let contact = &lead.contact;
        let haystack: Vec<&str> = [&contact.name, &contact.email, &contact.phone, &contact.message, &contact.time_slot]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .chain([lead.id.as_str(), lead.visitor.as_str(), lead.page_url.as_str()])
            .collect();
        let haystack = haystack.join("\n").to_lowercase();
        // A phone is found by its digits however it is typed in the search ("+7 916 123").
        let digits: String = contact.phone.as_deref().unwrap_or_default().chars().filter(char::is_ascii_digit).collect();
        self.words.iter().all(|word| {
            let word_digits: String = word.chars().filter(char::is_ascii_digit).collect();
            haystack.contains(word.as_str()) || (!digits.is_empty() && word_digits.len() >= 3 && digits.contains(&word_digits))
        })
    }
}

/// Where the lead's visitor came from, on one line: the first touch's campaign tags, else its
/// referring site, else `direct` (the operators' panel says it the same way).
pub fn lead_source(lead: &Lead) -> String {
    match lead.context.first_touch.as_ref().or(lead.context.last_touch.as_ref()) {
        Some(touch) => source_line(touch),
        None => "direct".to_owned(),
    }
}

/// Milliseconds at 00:00 UTC of a `YYYY-MM-DD` day (years 2000–2999).
pub fn day_start_ms(date: &str) -> Option<u64> {
    let bytes = date.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| date.get(range)?.parse::<u64>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(2000..=2999).contains(&year) || !(1..=12).contains(&month) || day == 0 || day > month_days[(month - 1) as usize] {
        return None;
    }
    // Days from 1970-01-01: whole years, then whole months of this year.
    let years_days: u64 = (1970..year).map(|y| if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) { 366 } else { 365 }).sum();
    let months_days: u64 = month_days[..(month - 1) as usize].iter().sum();
    Some((years_days + months_days + day - 1) * DAY_MS)
}

/// The CSV's columns, in order.
pub const CSV_COLUMNS: [&str; 17] = [
    "id",
    "created_at",
    "kind",
    "prompt",
    "name",
    "email",
    "phone",
    "time_slot",
    "message",
    "source",
    "page_url",
    "locale",
    "consent_purpose",
    "consent_text",
    "consent_version",
    "marketing_consent",
    "visitor",
];

/// One cell: a would-be formula defused with a leading `'`, then quoted with `"` doubled.
pub fn csv_cell(text: &str) -> String {
    let defused = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() };
    format!("\"{}\"", defused.replace('"', "\"\""))
}

fn csv_line<'a>(cells: impl IntoIterator<Item = &'a str>) -> String {
    let cells: Vec<String> = cells.into_iter().map(csv_cell).collect();
    format!("{}\r\n", cells.join(","))
}

/// The header line (with the byte order mark that starts the file).
pub fn csv_header() -> String {
    format!("\u{feff}{}", csv_line(CSV_COLUMNS))
}

/// One lead's line, in [`CSV_COLUMNS`] order.
pub fn csv_row(lead: &Lead) -> String {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let contact = &lead.contact;
    let cells = [
        lead.id.clone(),
        rfc3339(lead.created_at),
        lead.kind.as_str().to_owned(),
        text(&lead.prompt),
        text(&contact.name),
        text(&contact.email),
        text(&contact.phone),
        text(&contact.time_slot),
        text(&contact.message),
        lead_source(lead),
        lead.page_url.clone(),
        match lead.locale {
            Locale::Ru => "ru",
            Locale::En => "en",
        }
        .to_owned(),
        lead.consent.given.purpose.as_str().to_owned(),
        lead.consent.given.text.clone(),
        lead.consent.given.text_version.clone(),
        if lead.marketing_opted_in() { "yes" } else { "no" }.to_owned(),
        lead.visitor.clone(),
    ];
    csv_line(cells.iter().map(String::as_str))
}

#[cfg(test)]
mod tests;
