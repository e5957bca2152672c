//! Prices in exact minor units, with their currency.

use serde::{Deserialize, Serialize};

use crate::base::locale::Locale;

/// A price in minor units (kopecks, cents) so that sums and comparisons are exact.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money {
    pub minor: i64,
    /// ISO 4217 code, uppercase (`RUB`).
    pub currency: Currency,
}

impl Money {
    /// The price as a visitor reads it: `24 990 ₽` in Russian, `RUB 24,990` in English; kopecks
    /// and cents only when there are any. Grouping uses a no-break space so a price never wraps.
    pub fn display(&self, locale: Locale) -> String {
        let exponent = minor_exponent(self.currency);
        let scale = 10i64.pow(exponent);
        let (major, minor) = (self.minor / scale, (self.minor % scale).abs());
        let mut amount = String::new();
        if major < 0 {
            amount.push('-');
        }
        amount.push_str(&locale.grouped(major.unsigned_abs()));
        if minor != 0 {
            amount.push(locale.decimal_separator());
            let fraction = minor.to_string();
            for _ in fraction.len()..exponent as usize {
                amount.push('0');
            }
            amount.push_str(&fraction);
        }
        let symbol = match self.currency.as_str() {
            "RUB" => "₽",
            "USD" => "$",
            "EUR" => "€",
            "GBP" => "£",
            other => other,
        };
        match (locale, symbol.chars().count()) {
            (Locale::Ru, _) => format!("{amount}\u{a0}{symbol}"),
            (Locale::En, 3) => format!("{symbol}\u{a0}{amount}"),
            (Locale::En, _) => format!("{symbol}{amount}"),
        }
    }
}

/// An ISO 4217 currency code stored inline (three ASCII uppercase letters).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub const RUB: Currency = Currency(*b"RUB");

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl TryFrom<String> for Currency {
    type Error = String;

    fn try_from(code: String) -> Result<Self, Self::Error> {
        Currency::parse(&code).ok_or_else(|| format!("{code:?} is not an ISO 4217 currency code"))
    }
}

impl Currency {
    /// [`Currency::try_from`] without its words, for the widget's wire decoder.
    pub fn parse(code: &str) -> Option<Currency> {
        let upper = code.trim().to_ascii_uppercase();
        match upper.as_bytes() {
            [a, b, c] if upper.bytes().all(|x| x.is_ascii_uppercase()) => Some(Currency([*a, *b, *c])),
            _ => None,
        }
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> String {
        currency.as_str().to_owned()
    }
}

/// Digits after the decimal point in a currency's minor unit (ISO 4217). Most have two.
pub fn minor_exponent(currency: Currency) -> u32 {
    match currency.as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND"
        | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_codes() {
        assert_eq!(Currency::try_from("rub".to_owned()).unwrap(), Currency::RUB);
        assert!(Currency::try_from("RUBL".to_owned()).is_err());
        assert!(Currency::try_from("R1B".to_owned()).is_err());
        let money = Money { minor: 2_499_000, currency: Currency::RUB };
        assert_eq!(serde_json::to_string(&money).unwrap(), r#"{"minor":2499000,"currency":"RUB"}"#);
    }

    #[test]
    fn money_as_visitors_read_it() {
        let rub = |minor| Money { minor, currency: Currency::RUB };
        assert_eq!(rub(2_499_000).display(Locale::Ru), "24\u{a0}990\u{a0}₽");
        assert_eq!(rub(2_499_050).display(Locale::Ru), "24\u{a0}990,50\u{a0}₽");
        assert_eq!(rub(2_499_000).display(Locale::En), "₽24,990");
        assert_eq!(rub(5).display(Locale::En), "₽0.05");
        assert_eq!(rub(12_345_678_900).display(Locale::En), "₽123,456,789");
        let kzt = Money { minor: 100_000, currency: Currency::try_from("KZT".to_owned()).unwrap() };
        assert_eq!(kzt.display(Locale::En), "KZT\u{a0}1,000");
        let jpy = Money { minor: 1500, currency: Currency::try_from("JPY".to_owned()).unwrap() };
        assert_eq!(jpy.display(Locale::Ru), "1\u{a0}500\u{a0}JPY");
    }
}
