//! Moments as the shop's clock shows them: message times in the chat panel and the console.
//!
//! Core carries no time-zone database (chrono-tz alone would outweigh the chat module's
//! formatting many times over). The browser does have one: `Intl.DateTimeFormat` gives the
//! shop's weekday and minute for any moment (`browser-kit`'s `site_local_time`), and
//! [`offset_minutes`] turns that into the zone's offset at that moment, daylight saving included.
//! Everything else — the calendar date, "today" or "yesterday", the words — is decided here.

use crate::base::locale::{Locale, Weekday};

const MS_PER_MINUTE: i64 = 60_000;
const MINUTES_PER_DAY: i64 = 24 * 60;
const MINUTES_PER_WEEK: i64 = 7 * MINUTES_PER_DAY;

/// A calendar date and wall-clock time (no zone: the caller knows which clock it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CivilTime {
    pub year: i64,
    /// 1–12.
    pub month: u8,
    /// 1–31.
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub millisecond: u16,
}

impl CivilTime {
    /// Days since 1970-01-01 of this date, for comparing dates.
    fn day_number(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day)
    }
}

/// The calendar date and time `offset_minutes` east of UTC at `at_ms` (milliseconds since the
/// Unix epoch). `civil(ms, 0)` is UTC.
pub fn civil(at_ms: u64, offset_minutes: i32) -> CivilTime {
    let ms = at_ms as i64 + i64::from(offset_minutes) * MS_PER_MINUTE;
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    CivilTime {
        year,
        month,
        day,
        hour: (in_day / 3_600_000) as u8,
        minute: (in_day / 60_000 % 60) as u8,
        second: (in_day / 1000 % 60) as u8,
        millisecond: (in_day % 1000) as u16,
    }
}

/// Howard Hinnant's days-to-civil: (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u8;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// The inverse of [`civil_from_days`].
pub fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn weekday_index(day: Weekday) -> i64 {
    match day {
        Weekday::Mon => 0,
        Weekday::Tue => 1,
        Weekday::Wed => 2,
        Weekday::Thu => 3,
        Weekday::Fri => 4,
        Weekday::Sat => 5,
        Weekday::Sun => 6,
    }
}

/// The zone's offset from UTC in minutes (east positive: Moscow `180`, New York `-300` or `-240`)
/// at `at_ms`, from the weekday and minute of the day its clock shows then, which is what the
/// browser's `Intl` gives. Every zone's offset is within ±14 hours, so the weekday settles which
/// side of midnight the shop is on.
pub fn offset_minutes(at_ms: u64, local_day: Weekday, local_minute_of_day: u16) -> i32 {
    let utc_minutes = at_ms as i64 / MS_PER_MINUTE;
    // 1970-01-01 was a Thursday (index 3 from Monday).
    let utc_in_week = (utc_minutes + 3 * MINUTES_PER_DAY).rem_euclid(MINUTES_PER_WEEK);
    let local_in_week = weekday_index(local_day) * MINUTES_PER_DAY + i64::from(local_minute_of_day);
    let mut offset = (local_in_week - utc_in_week).rem_euclid(MINUTES_PER_WEEK);
    if offset > MINUTES_PER_WEEK / 2 {
        offset -= MINUTES_PER_WEEK;
    }
    offset as i32
}

/// `2026-12-01T14:05+03:00`: the moment in the shop's clock with its offset, for a `<time
/// datetime>` (machines and tests read it; people read [`message_time`]).
pub fn local_iso(at_ms: u64, offset_minutes: i32) -> String {
    let t = civil(at_ms, offset_minutes);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let offset = offset_minutes.unsigned_abs();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}{sign}{:02}:{:02}",
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        offset / 60,
        offset % 60
    )
}

const MONTHS_RU: [&str; 12] = ["янв.", "февр.", "мар.", "апр.", "мая", "июн.", "июл.", "авг.", "сент.", "окт.", "нояб.", "дек."];
const MONTHS_EN: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// A message's time as people read it in a chat, on the shop's clock: `14:05` today, `вчера,
/// 14:05` / `yesterday, 14:05`, `3 дек., 14:05` / `3 Dec, 14:05` earlier this year, and with
/// the year before that. "Today" is the shop's today at `now_ms` (with the offset in force
/// then, which differs from the message's across a daylight-saving change). 24-hour clock in
/// both languages: the shop's customers are mostly Russian, and one format keeps the console's
/// columns even.
pub fn message_time(at_ms: u64, offset_minutes: i32, now_ms: u64, now_offset_minutes: i32, locale: Locale) -> String {
    let at = civil(at_ms, offset_minutes);
    let today = civil(now_ms, now_offset_minutes);
    let clock = format!("{:02}:{:02}", at.hour, at.minute);
    let days_ago = today.day_number() - at.day_number();
    // A message "from tomorrow" (the server's clock a little ahead of the browser's) is today's.
    if days_ago <= 0 {
        return clock;
    }
    if days_ago == 1 {
        return match locale {
            Locale::Ru => format!("вчера, {clock}"),
            Locale::En => format!("yesterday, {clock}"),
        };
    }
    let month = usize::from(at.month - 1);
    let year = if at.year == today.year { String::new() } else { format!(" {}", at.year) };
    match locale {
        Locale::Ru => format!("{} {}{year}, {clock}", at.day, MONTHS_RU[month]),
        Locale::En => format!("{} {}{year}, {clock}", at.day, MONTHS_EN[month]),
    }
}

/// A moment in full on the shop's clock, as a log or a record shows it: `3 дек. 2026, 14:05` /
/// `3 Dec 2026, 14:05` (unlike [`message_time`], never relative: a record is read later).
pub fn date_time(at_ms: u64, offset_minutes: i32, locale: Locale) -> String {
    let at = civil(at_ms, offset_minutes);
    let month = usize::from(at.month - 1);
    let name = match locale {
        Locale::Ru => MONTHS_RU[month],
        Locale::En => MONTHS_EN[month],
    };
    format!("{} {name} {}, {:02}:{:02}", at.day, at.year, at.hour, at.minute)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_s_moment_is_written_in_full_on_the_shop_s_clock() {
        // 2026-12-01T23:05Z is already the 2nd in Moscow.
        assert_eq!(date_time(AT, 180, Locale::Ru), "2 дек. 2026, 02:05");
        assert_eq!(date_time(AT, 0, Locale::En), "1 Dec 2026, 23:05");
        assert_eq!(date_time(AT, -300, Locale::En), "1 Dec 2026, 18:05");
    }

    /// 2026-12-01T23:05:00Z, a Tuesday.
    const AT: u64 = 1_796_166_300_000;

    #[test]
    fn civil_dates_match_known_moments() {
        assert_eq!(civil(0, 0), CivilTime { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 });
        let t = civil(AT, 0);
        assert_eq!((t.year, t.month, t.day, t.hour, t.minute), (2026, 12, 1, 23, 5));
        // Moscow (+3) is already in Wednesday; New York (-5) still in the afternoon.
        let t = civil(AT, 180);
        assert_eq!((t.year, t.month, t.day, t.hour, t.minute), (2026, 12, 2, 2, 5));
        let t = civil(AT, -300);
        assert_eq!((t.month, t.day, t.hour), (12, 1, 18));
        // Leap day and the turn of a year.
        let t = civil(1_709_208_000_000, 0); // 2024-02-29T12:00Z
        assert_eq!((t.year, t.month, t.day, t.hour), (2024, 2, 29, 12));
        let t = civil(1_767_225_599_999, 0); // 2025-12-31T23:59:59.999Z
        assert_eq!((t.year, t.month, t.day, t.second, t.millisecond), (2025, 12, 31, 59, 999));
        assert_eq!((civil(1_767_225_599_999, 1).year, civil(1_767_225_599_999, 1).month), (2026, 1));
        // An offset before the epoch does not wrap around.
        assert_eq!((civil(0, -60).year, civil(0, -60).day, civil(0, -60).hour), (1969, 31, 23));
    }

    #[test]
    fn day_numbers_round_trip() {
        for days in [-800_000, -1, 0, 1, 59, 365, 10_957, 20_423, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn offsets_come_from_the_local_weekday_and_minute() {
        // 23:05 on Tuesday in UTC.
        assert_eq!(offset_minutes(AT, Weekday::Tue, 23 * 60 + 5), 0);
        // Moscow: 02:05 on Wednesday, across midnight and the day.
        assert_eq!(offset_minutes(AT, Weekday::Wed, 2 * 60 + 5), 180);
        // New York in winter: 18:05 on Tuesday.
        assert_eq!(offset_minutes(AT, Weekday::Tue, 18 * 60 + 5), -300);
        // India's half hour and Kiribati's +14, Baker Island's -12.
        assert_eq!(offset_minutes(AT, Weekday::Wed, 4 * 60 + 35), 330);
        assert_eq!(offset_minutes(AT, Weekday::Wed, 13 * 60 + 5), 14 * 60);
        assert_eq!(offset_minutes(AT, Weekday::Tue, 11 * 60 + 5), -12 * 60);
        // Across the week's end: Sunday 23:30 UTC is Monday 02:30 in Moscow.
        let sunday = AT + 5 * 86_400_000 + 25 * 60_000; // 2026-12-06T23:30Z
        assert_eq!(offset_minutes(sunday, Weekday::Mon, 2 * 60 + 30), 180);
        assert_eq!(offset_minutes(sunday, Weekday::Sun, 18 * 60 + 30), -300);
        // Seconds within the minute do not matter.
        assert_eq!(offset_minutes(AT + 59_999, Weekday::Wed, 2 * 60 + 5), 180);
    }

    #[test]
    fn iso_carries_the_offset() {
        assert_eq!(local_iso(AT, 180), "2026-12-02T02:05+03:00");
        assert_eq!(local_iso(AT, -300), "2026-12-01T18:05-05:00");
        assert_eq!(local_iso(AT, 330), "2026-12-02T04:35+05:30");
        assert_eq!(local_iso(AT, 0), "2026-12-01T23:05+00:00");
    }

    #[test]
    fn message_times_read_as_in_a_chat() {
        let minute = 60_000;
        let day = 86_400_000;
        // The shop is in Moscow; it is 02:05 on 2 December there.
        let now = AT;
        assert_eq!(message_time(now - 10 * minute, 180, now, 180, Locale::Ru), "01:55");
        // 23:55 on 1 December in Moscow is yesterday there, though the same UTC day.
        assert_eq!(message_time(now - 130 * minute, 180, now, 180, Locale::Ru), "вчера, 23:55");
        assert_eq!(message_time(now - 130 * minute, 180, now, 180, Locale::En), "yesterday, 23:55");
        // In UTC the same moments are both today.
        assert_eq!(message_time(now - 130 * minute, 0, now, 0, Locale::En), "20:55");
        assert_eq!(message_time(now - 3 * day, 180, now, 180, Locale::Ru), "29 нояб., 02:05");
        assert_eq!(message_time(now - 3 * day, 180, now, 180, Locale::En), "29 Nov, 02:05");
        assert_eq!(message_time(now - 400 * day, 180, now, 180, Locale::Ru), "28 окт. 2025, 02:05");
        assert_eq!(message_time(now - 400 * day, 180, now, 180, Locale::En), "28 Oct 2025, 02:05");
        // A server clock a little ahead of the browser's still reads as today.
        assert_eq!(message_time(now + 2 * minute, 180, now, 180, Locale::En), "02:07");
    }

    #[test]
    fn today_is_the_shop_s_today_across_a_clock_change() {
        // New York, 2026-03-08: clocks go from 02:00 EST (-5) to 03:00 EDT (-4).
        let before = 1_772_953_200_000; // 2026-03-08T07:00Z, the instant of the change
        let message = before - 30 * 60_000; // 01:30 EST
        let now = before + 60 * 60_000; // 04:00 EDT
        assert_eq!(message_time(message, -300, now, -240, Locale::En), "01:30");
        assert_eq!(message_time(now, -240, now, -240, Locale::En), "04:00");
    }
}
