//! The shop's opening hours and the call-back windows they leave.

use serde::{Deserialize, Serialize};

use crate::base::locale::Weekday;

const MINUTES_PER_DAY: u16 = 24 * 60;

/// Opening hours in minutes after local midnight: `{"open":540,"close":1260}` is 09:00–21:00.
/// Hours past midnight are not supported: `close` is later than `open` on the same day.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OpeningHours {
    pub open: u16,
    pub close: u16,
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

    pub(crate) fn check(&self) -> Result<(), String> {
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
                if open >= close || close > MINUTES_PER_DAY {
                    return Err(format!(
                        "{name}: open ({open}) must be before close ({close}), both minutes within 0-{MINUTES_PER_DAY}"
                    ));
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
