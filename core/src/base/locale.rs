//! The languages the widget speaks and the days of the week the site's hours are written in.

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    /// From JavaScript's `Date#getDay()` numbering, where 0 is Sunday.
    pub fn from_js_day(day: u32) -> Option<Weekday> {
        const DAYS: [Weekday; 7] =
            [Weekday::Sun, Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat];
        DAYS.get(usize::try_from(day).ok()?).copied()
    }
}
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    Ru,
    En,
}

impl Locale {
    /// Every language the widget speaks, in the order forms list them.
    pub const ALL: [Locale; 2] = [Locale::Ru, Locale::En];

    /// `"ru"`, `"en"`: the config's and `<html lang>`'s spelling.
    pub fn code(self) -> &'static str {
        match self {
            Locale::Ru => "ru",
            Locale::En => "en",
        }
    }

    /// The other language of the two.
    pub fn other(self) -> Locale {
        match self {
            Locale::Ru => Locale::En,
            Locale::En => Locale::Ru,
        }
    }

    /// `n` with its thousands grouped as this language writes them: `2,400` in English, `2 400` in
    /// Russian (a no-break space, so a number never wraps across lines).
    pub fn grouped(self, n: u64) -> String {
        let separator = match self {
            Locale::Ru => '\u{a0}',
            Locale::En => ',',
        };
        let digits = n.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 * 2);
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(separator);
            }
            grouped.push(digit);
        }
        grouped
    }

    /// What separates whole from fraction: `4.1` in English, `4,1` in Russian.
    pub fn decimal_separator(self) -> char {
        match self {
            Locale::Ru => ',',
            Locale::En => '.',
        }
    }

    /// Picks the widget's language from a BCP 47 tag such as the page's `<html lang="en-GB">`.
    pub fn from_language_tag(tag: &str) -> Option<Locale> {
        let primary = tag.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        match primary.as_str() {
            "ru" => Some(Locale::Ru),
            "en" => Some(Locale::En),
            _ => None,
        }
    }
}