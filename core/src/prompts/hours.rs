//! The shop's opening hours and the call-back windows they leave.

use serde::{Deserialize, Serialize};

use crate::base::error::{Invalid, Rule};
use crate::base::locale::Weekday;

const MINUTES_PER_DAY: u16 = 24 * 60;

/// Opening hours on one day, in the site's time zone (`widget.timezone`). In JSON a time is
/// written `"HH:MM"`: `{"open":"09:00","close":"21:00"}`; `"24:00"` closes at midnight. The first
/// form of the config wrote minutes after midnight (`{"open":540,"close":1260}`); configs stored
/// in it are still read (and written back as `"HH:MM"`). In memory and on the widget's wire form
/// they are minutes. Hours past midnight are not supported: `close` is later than `open`.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OpeningHours {
    #[serde(with = "hhmm")]
    pub open: u16,
    #[serde(with = "hhmm")]
    pub close: u16,
}

/// `"HH:MM"` ⇄ minutes after midnight (and the first form's plain minutes, read only).
pub mod hhmm {
    use serde::{Deserialize, Deserializer, Serializer};

    /// `"09:05"` for 545.
    pub fn format(minutes: u16) -> String {
        format!("{:02}:{:02}", minutes / 60, minutes % 60)
    }

    /// Minutes after midnight for `"H:MM"`/`"HH:MM"` (`"24:00"` included); `None` for anything else.
    pub fn parse(text: &str) -> Option<u16> {
        let (hours, minutes) = text.trim().split_once(':')?;
        let digits = |s: &str, max_len| (1..=max_len).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(hours, 2) || !digits(minutes, 2) || minutes.len() != 2 {
            return None;
        }
        let (hours, minutes): (u16, u16) = (hours.parse().ok()?, minutes.parse().ok()?);
        let total = hours * 60 + minutes;
        (minutes < 60 && total <= super::MINUTES_PER_DAY).then_some(total)
    }

    pub fn serialize<S: Serializer>(minutes: &u16, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(*minutes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u16, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Text(String),
            Minutes(u16),
        }
        match Either::deserialize(deserializer)? {
            Either::Minutes(minutes) => Ok(minutes),
            Either::Text(text) => parse(&text)
                .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a time of day like \"09:00\""))),
        }
    }
}

/// The shop's hours per site-local weekday; a missing day is closed.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mon: Option<OpeningHours>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tue: Option<OpeningHours>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wed: Option<OpeningHours>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thu: Option<OpeningHours>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fri: Option<OpeningHours>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sat: Option<OpeningHours>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sun: Option<OpeningHours>,
}

impl BusinessHours {
    pub fn on(&self, day: Weekday) -> Option<OpeningHours> {
        match day {
            Weekday::Mon => self.mon,
            Weekday::Tue => self.tue,
            Weekday::Wed => self.wed,
            Weekday::Thu => self.thu,
            Weekday::Fri => self.fri,
            Weekday::Sat => self.sat,
            Weekday::Sun => self.sun,
        }
    }

    /// Whether the shop is open at site-local `minute_of_day` on `day` (open inclusive, close exclusive).
    pub fn is_open(&self, day: Weekday, minute_of_day: u16) -> bool {
        self.on(day).is_some_and(|hours| hours.open <= minute_of_day && minute_of_day < hours.close)
    }

    /// Call-back slots to offer when nobody can call now: the next open day's hours (today's, if
    /// the shop opens later today) in windows of `slot_minutes`, at most `max` of them. Empty when
    /// the shop has no hours at all.
    pub fn next_slots(&self, today: Weekday, minute_of_day: u16, slot_minutes: u16, max: usize) -> Vec<CallSlot> {
        const WEEK: [Weekday; 7] =
            [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];
        let start = WEEK.iter().position(|d| *d == today).unwrap_or(0);
        let slot_minutes = slot_minutes.max(15);
        for offset in 0..8 {
            let day = WEEK[(start + offset) % 7];
            let Some(hours) = self.on(day) else { continue };
            // Today only counts if it has not opened yet: slots already under way are not offered.
            if offset == 0 && minute_of_day >= hours.open {
                continue;
            }
            let mut slots = Vec::new();
            let mut from = hours.open;
            while from < hours.close && slots.len() < max {
                let to = from.saturating_add(slot_minutes).min(hours.close);
                slots.push(CallSlot { day, from, to, today: offset == 0 });
                from = to;
            }
            return slots;
        }
        Vec::new()
    }

    pub(crate) fn check(&self) -> Result<(), Invalid> {
        let days = [
            ("mon", self.mon),
            ("tue", self.tue),
            ("wed", self.wed),
            ("thu", self.thu),
            ("fri", self.fri),
            ("sat", self.sat),
            ("sun", self.sun),
        ];
        for (name, hours) in days {
            if let Some(OpeningHours { open, close }) = hours {
                if close > MINUTES_PER_DAY {
                    return Err(Invalid::new(format!("{name}.close"), Rule::Format { example: "21:00" }));
                }
                if open >= close {
                    return Err(Invalid::new(name, Rule::HoursOrder));
                }
            }
        }
        Ok(())
    }
}

impl BusinessHours {
    /// Closed every day.
    pub fn none() -> Self {
        BusinessHours { mon: None, tue: None, wed: None, thu: None, fri: None, sat: None, sun: None }
    }
}

impl Default for BusinessHours {
    /// Mon–Sat 09:00–21:00, the demo shop's hours.
    fn default() -> Self {
        let day = Some(OpeningHours { open: 9 * 60, close: 21 * 60 });
        BusinessHours { mon: day, tue: day, wed: day, thu: day, fri: day, sat: day, sun: None }
    }
}

/// A window on one site-local day in which the shop can call back.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallSlot {
    pub day: Weekday,
    /// Minutes after local midnight.
    pub from: u16,
    pub to: u16,
    /// Later today, rather than on a following day.
    pub today: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_are_written_hh_mm_and_the_first_form_is_still_read() {
        let hours = OpeningHours { open: 9 * 60, close: 21 * 60 + 30 };
        let json = serde_json::to_value(hours).unwrap();
        assert_eq!(json, serde_json::json!({"open": "09:00", "close": "21:30"}));
        assert_eq!(serde_json::from_value::<OpeningHours>(json).unwrap(), hours);
        // Stored in the first form: minutes after midnight.
        let old: BusinessHours = serde_json::from_str(r#"{"mon":{"open":540,"close":1260}}"#).unwrap();
        assert_eq!(old.mon, Some(OpeningHours { open: 540, close: 1260 }));
        assert_eq!(serde_json::to_value(old).unwrap(), serde_json::json!({"mon": {"open": "09:00", "close": "21:00"}}));
        let midnight: OpeningHours = serde_json::from_str(r#"{"open":"0:00","close":"24:00"}"#).unwrap();
        assert_eq!((midnight.open, midnight.close), (0, 1440));
        for bad in [r#""9""#, r#""09:60""#, r#""24:01""#, r#""25:00""#, r#""09:5""#, r#""-1:00""#, r#""09:00:00""#, r#""""#, "-5", "true"] {
            let json = format!(r#"{{"open":{bad},"close":"21:00"}}"#);
            assert!(serde_json::from_str::<OpeningHours>(&json).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn every_minute_of_the_day_survives_hh_mm(minutes in 0u16..=1440) {
            proptest::prop_assert_eq!(hhmm::parse(&hhmm::format(minutes)), Some(minutes));
        }
    }

    #[test]
    fn slots_fall_on_the_next_open_day() {
        let hours = BusinessHours::default(); // Mon–Sat 09:00–21:00
        let slot = |day, from, to, today| CallSlot { day, from, to, today };
        // Tuesday 22:00: Wednesday's opening hours.
        assert_eq!(
            hours.next_slots(Weekday::Tue, 22 * 60, 180, 3),
            vec![slot(Weekday::Wed, 540, 720, false), slot(Weekday::Wed, 720, 900, false), slot(Weekday::Wed, 900, 1080, false)]
        );
        // Saturday night skips the closed Sunday.
        assert_eq!(hours.next_slots(Weekday::Sat, 23 * 60, 180, 1), vec![slot(Weekday::Mon, 540, 720, false)]);
        // Early on Monday: later today.
        assert_eq!(hours.next_slots(Weekday::Mon, 7 * 60, 240, 5).len(), 3);
        assert!(hours.next_slots(Weekday::Mon, 7 * 60, 240, 5)[0].today);
        // The last window is cut at closing time.
        let short = BusinessHours { mon: Some(OpeningHours { open: 600, close: 700 }), ..BusinessHours::none() };
        assert_eq!(short.next_slots(Weekday::Sun, 0, 60, 5), vec![slot(Weekday::Mon, 600, 660, false), slot(Weekday::Mon, 660, 700, false)]);
        assert!(BusinessHours::none().next_slots(Weekday::Mon, 0, 60, 5).is_empty());
    }
}
