//! The countries whose dialling rules core knows, for turning a national number into E.164.

use serde::{Deserialize, Serialize};

/// Where a number typed without `+` is assumed to be. Serialised as the ISO 3166 code (`"RU"`).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "UPPERCASE")]
pub enum PhoneRegion {
    Ru,
    Kz,
    By,
    Ua,
    Us,
    Ca,
    De,
    Gb,
}

/// Dialling rules for one country: enough to turn national notation into E.164.
pub(crate) struct DialPlan {
    pub(crate) country_code: &'static str,
    /// What people dial before the national number inside the country (`8` in Russia).
    pub(crate) trunk_prefix: &'static str,
    /// Allowed lengths of the national significant number (after the trunk prefix).
    pub(crate) national_len: std::ops::RangeInclusive<usize>,
}

impl PhoneRegion {
    /// The region for an ISO 3166 code (`"KZ"`), if its dialling rules are known.
    pub fn from_code(code: &str) -> Option<PhoneRegion> {
        const CODES: [&str; 8] = ["RU", "KZ", "BY", "UA", "US", "CA", "DE", "GB"];
        CODES.iter().position(|c| *c == code).map(|i| PhoneRegion::ALL[i])
    }

    pub(crate) fn plan(self) -> DialPlan {
        let plan = |country_code, trunk_prefix, national_len| DialPlan { country_code, trunk_prefix, national_len };
        match self {
            PhoneRegion::Ru | PhoneRegion::Kz => plan("7", "8", 10..=10),
            // Belarus dials `8 0xx`, so the whole `80` is the trunk prefix.
            PhoneRegion::By => plan("375", "80", 9..=9),
            PhoneRegion::Ua => plan("380", "0", 9..=9),
            PhoneRegion::Us | PhoneRegion::Ca => plan("1", "1", 10..=10),
            // German numbers have variable length.
            PhoneRegion::De => plan("49", "0", 6..=13),
            PhoneRegion::Gb => plan("44", "0", 9..=10),
        }
    }

    pub(crate) const ALL: [PhoneRegion; 8] = [
        PhoneRegion::Ru,
        PhoneRegion::Kz,
        PhoneRegion::By,
        PhoneRegion::Ua,
        PhoneRegion::Us,
        PhoneRegion::Ca,
        PhoneRegion::De,
        PhoneRegion::Gb,
    ];
}
