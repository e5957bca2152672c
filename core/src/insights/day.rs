//! Calendar days of the funnel: UTC days, by the server's clock.
//!
//! UTC because the worker has no time-zone database and a rollup, once final, must never move:
//! a day in the shop's zone would shift with daylight saving. Events are dated by when the server
//! received them (`received_at`), not by the visitor's clock, so a late batch lands in a later day
//! instead of changing one that is already rolled up.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::base::clock::{civil_from_days, days_from_civil};

pub const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// Days since 1970-01-01 (UTC). Serialised as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Day(pub i64);

impl Day {
    pub fn of_ms(at_ms: u64) -> Day {
        Day((at_ms / DAY_MS) as i64)
    }

    pub fn start_ms(self) -> u64 {
        (self.0.max(0) as u64) * DAY_MS
    }

    /// The first millisecond of the next day.
    pub fn end_ms(self) -> u64 {
        self.start_ms() + DAY_MS
    }

    pub fn plus(self, days: i64) -> Day {
        Day(self.0 + days)
    }

    /// `2026-12-02`; anything else (or an impossible date such as `2026-02-30`) is `None`.
    pub fn parse(text: &str) -> Option<Day> {
        let mut parts = text.trim().splitn(3, '-');
        let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
        if year.len() != 4 || month.len() != 2 || day.len() != 2 {
            return None;
        }
        let (year, month, day): (i64, u8, u8) = (year.parse().ok()?, month.parse().ok()?, day.parse().ok()?);
        if !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        let number = days_from_civil(year, month, day);
        (civil_from_days(number) == (year, month, day) && number >= 0).then_some(Day(number))
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = civil_from_days(self.0);
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

impl TryFrom<String> for Day {
    type Error = String;

    fn try_from(text: String) -> Result<Day, String> {
        Day::parse(&text).ok_or_else(|| format!("{text:?} is not a date (YYYY-MM-DD)"))
    }
}

impl From<Day> for String {
    fn from(day: Day) -> String {
        day.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_and_bound_their_milliseconds() {
        let day = Day::parse("2026-12-02").unwrap();
        assert_eq!(day.to_string(), "2026-12-02");
        assert_eq!(Day::of_ms(day.start_ms()), day);
        assert_eq!(Day::of_ms(day.end_ms() - 1), day);
        assert_eq!(Day::of_ms(day.end_ms()), day.plus(1));
        assert_eq!(Day::parse("2024-02-29").unwrap().plus(1).to_string(), "2024-03-01");
        for bad in ["2026-02-30", "2026-13-01", "26-12-02", "2026-1-2", "", "yesterday", "1969-12-31"] {
            assert_eq!(Day::parse(bad), None, "{bad}");
        }
    }
}
