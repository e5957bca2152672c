//! Deals back from the CRM: a deal won for one of our leads, with its amount, so the funnel shows
//! what each prompt earned.
//!
//! A CRM calls `POST /v1/deals/:site?token=…` (or with `Authorization: Bearer …`) with `lead`,
//! `deal`, `amount` and `currency`, as JSON or as form/query fields: the shapes a Bitrix24
//! automation rule's webhook and any other CRM's outgoing request can be made to send. The token is
//! per site, shown once, stored only as its SHA-256, and revocable. A deal is identified by the
//! CRM's own id: the same report again changes nothing, a corrected amount replaces the old one.

use serde::{Deserialize, Serialize};

use crate::base::crypto::{base64url_encode, sha256};
use crate::base::error::{ApiError, ErrorCode};
use crate::base::ids::client_id_from_bytes;
use crate::base::locale::Locale;
use crate::base::money::{minor_exponent, Currency, Money};
use crate::insights::day::Day;
use crate::visitor::context::MAX_CONTEXT_PRICE_MINOR;

pub mod amocrm;

/// Longest CRM deal id kept.
pub const MAX_DEAL_ID_LEN: usize = 128;
/// The largest amount one deal may carry, in minor units (far beyond any shop's order, far below
/// what every reader reads exactly).
pub const MAX_AMOUNT_MINOR: i64 = MAX_CONTEXT_PRICE_MINOR;
/// Largest request body of a deal report.
pub const MAX_DEAL_BYTES: usize = 16 * 1024;
/// Deal tokens one site may have that are not revoked.
pub const MAX_ACTIVE_TOKENS: u32 = 10;
/// What every deal token starts with, so a leaked one is recognisable in a log or a scanner.
pub const TOKEN_PREFIX: &str = "fwdeal_";

/// A deal as reported: the CRM's id, our lead, what it was worth.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct DealReport {
    pub deal: String,
    pub lead: String,
    pub amount: Money,
}

/// A deal as stored and answered: the report with what it was matched to.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Deal {
    pub deal: String,
    pub lead: String,
    /// The lead's prompt, copied so revenue per prompt needs no join with the leads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// The lead's day: revenue counts in the range of the lead it came from.
    pub lead_day: Day,
    pub amount: Money,
    /// When the report (the latest one) arrived, ms since the epoch.
    pub reported_at: u64,
}

/// What a report did.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DealOutcome {
    Created,
    /// The same deal with the same amount and lead: a retry or a replay.
    Unchanged,
    /// The same deal with another amount: the latest report wins.
    Updated,
}

impl DealOutcome {
    pub fn of(existing: Option<&Deal>, report: &DealReport) -> DealOutcome {
        match existing {
            None => DealOutcome::Created,
            Some(old) if old.amount == report.amount && old.lead == report.lead => DealOutcome::Unchanged,
            Some(_) => DealOutcome::Updated,
        }
    }

    pub fn http_status(self) -> u16 {
        match self {
            DealOutcome::Created => 201,
            DealOutcome::Unchanged | DealOutcome::Updated => 200,
        }
    }
}

/// The answer to a report.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct DealReceipt {
    pub outcome: DealOutcome,
    pub deal: Deal,
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError { code: ErrorCode::InvalidDeal, message: message.into(), field: Some(field.to_owned()) }
}

/// Whether `id` has the shape of our lead ids (`lead_` + 24 hex digits).
pub fn is_lead_id(id: &str) -> bool {
    id.strip_prefix("lead_").is_some_and(|hex| hex.len() == 24 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

impl DealReport {
    /// From named fields (form, query string or JSON), whichever the CRM can send. Numbers may
    /// come as text (`"44990.00"`, `"44 990,50"`) or as JSON numbers.
    pub fn from_fields(get: impl Fn(&str) -> Option<String>) -> Result<DealReport, ApiError> {
        let required = |field: &str| {
            get(field).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).ok_or_else(|| invalid(field, format!("{field} is required")))
        };
        let lead = required("lead")?;
        if !is_lead_id(&lead) {
            return Err(invalid("lead", format!("lead {lead:?} is not a Floorwalker lead id (lead_ and 24 hex digits)")));
        }
        let deal = required("deal")?;
        if deal.chars().count() > MAX_DEAL_ID_LEN || deal.chars().any(char::is_control) {
            return Err(invalid("deal", format!("deal must be at most {MAX_DEAL_ID_LEN} printable characters")));
        }
        let currency = Currency::try_from(required("currency")?).map_err(|e| invalid("currency", e))?;
        let amount = parse_amount(&required("amount")?, currency)?;
        Ok(DealReport { deal, lead, amount: Money { minor: amount, currency } })
    }

    /// From a JSON object body.
    pub fn from_json(value: &serde_json::Value) -> Result<DealReport, ApiError> {
        let object = value.as_object().ok_or_else(|| ApiError::new(ErrorCode::InvalidJson, "a deal is a JSON object"))?;
        DealReport::from_fields(|field| match object.get(field)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    }
}

/// An amount in major units as people and CRMs write it (`44990`, `44990.5`, `44 990,50`,
/// `1,299.99`) to minor units of `currency`. Never negative, never more decimals than the
/// currency has, never above [`MAX_AMOUNT_MINOR`].
pub fn parse_amount(text: &str, currency: Currency) -> Result<i64, ApiError> {
    let bad = || invalid("amount", format!("amount {text:?} is not a positive sum in {}", currency.as_str()));
    let cleaned: String = text.chars().filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\'')).collect();
    if cleaned.is_empty() || !cleaned.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',') {
        return Err(bad());
    }
    // The last separator followed by at most the currency's digits is the decimal point (when
    // there are any decimals); any other separator groups thousands.
    let exponent = minor_exponent(currency) as usize;
    let (whole, fraction) = match cleaned.rfind(['.', ',']) {
        Some(at) if cleaned.len() - at - 1 != 3 || exponent == 3 => (&cleaned[..at], &cleaned[at + 1..]),
        _ => (cleaned.as_str(), ""),
    };
    if fraction.len() > exponent || fraction.contains(['.', ',']) {
        return Err(bad());
    }
    // What is left of the point may group thousands: groups after the first have three digits.
    let groups: Vec<&str> = whole.split(['.', ',']).collect();
    if groups.len() > 1 && (groups[0].is_empty() || groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3)) {
        return Err(bad());
    }
    let whole: String = groups.concat();
    if whole.is_empty() && fraction.is_empty() {
        return Err(bad());
    }
    let minor: i64 = format!("{whole}{fraction:0<exponent$}").parse().map_err(|_| bad())?;
    if minor > MAX_AMOUNT_MINOR {
        return Err(invalid("amount", format!("amount {text:?} is larger than any deal this service accepts")));
    }
    Ok(minor)
}

/// A new deal token from 24 random bytes, and the hash that is stored.
pub fn new_token(random: &[u8; 24]) -> (String, String) {
    let token = format!("{TOKEN_PREFIX}{}", base64url_encode(random));
    let hash = token_hash(&token);
    (token, hash)
}

/// What is stored and looked up for a token: hex SHA-256.
pub fn token_hash(token: &str) -> String {
    client_id_from_bytes(&sha256(token.trim().as_bytes()))
}

/// A deal token as the owner's list shows it (never the token itself after creation).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct DealToken {
    pub id: String,
    pub name: String,
    pub created_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<u64>,
    /// What the CRM's last call with it did; `None` before the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_call: Option<TokenCall>,
}

/// Skipped deals a [`TokenCall`] keeps.
pub const MAX_SKIPPED_KEPT: usize = 5;
/// Characters of a refusal's message a [`TokenCall`] keeps (it may quote what the CRM sent).
pub const MAX_REFUSAL_KEPT: usize = 300;

/// The last call a CRM made with a token (its token was valid), kept with the token so the owner
/// sees that the CRM calls and what became of it: a refused call or a skipped deal is otherwise
/// seen only in the CRM's own webhook log, which nobody reads until the revenue looks wrong.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TokenCall {
    pub at: u64,
    /// Won deals recorded (created, updated or unchanged).
    pub recorded: u32,
    /// Won deals not recorded (amoCRM's webhook), how many and the first [`MAX_SKIPPED_KEPT`].
    #[serde(default)]
    pub skipped: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_deals: Vec<amocrm::Skipped>,
    /// Why the call was refused (its message shortened); `None` when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<ApiError>,
}

impl TokenCall {
    pub fn recorded(at: u64, recorded: u32, skipped_deals: &[amocrm::Skipped]) -> TokenCall {
        let kept = skipped_deals.iter().take(MAX_SKIPPED_KEPT).cloned().collect();
        TokenCall { at, recorded, skipped: skipped_deals.len() as u32, skipped_deals: kept, refused: None }
    }

    pub fn refused(at: u64, error: &ApiError) -> TokenCall {
        let error = ApiError { message: crate::base::text::truncate_chars(&error.message, MAX_REFUSAL_KEPT), ..error.clone() };
        TokenCall { at, recorded: 0, skipped: 0, skipped_deals: Vec::new(), refused: Some(error) }
    }

    /// What the call did, in the owner's words (the time is the caller's to write).
    pub fn words(&self, locale: Locale) -> String {
        if let Some(error) = &self.refused {
            return match locale {
                Locale::En => format!("refused: {}", error.message),
                Locale::Ru => format!("отклонён: {}", error.message),
            };
        }
        let recorded = match locale {
            Locale::En => format!("deals recorded: {}", self.recorded),
            Locale::Ru => format!("записано сделок: {}", self.recorded),
        };
        if self.skipped == 0 {
            return recorded;
        }
        let deals: Vec<String> = self
            .skipped_deals
            .iter()
            .map(|skipped| match locale {
                Locale::En => format!("deal {} ({})", skipped.amocrm_deal, skipped.reason.words(locale)),
                Locale::Ru => format!("сделка {} ({})", skipped.amocrm_deal, skipped.reason.words(locale)),
            })
            .collect();
        let more = self.skipped as usize - deals.len();
        let more = match (more, locale) {
            (0, _) => String::new(),
            (n, Locale::En) => format!(" and {n} more"),
            (n, Locale::Ru) => format!(" и ещё {n}"),
        };
        match locale {
            Locale::En => format!("{recorded}; skipped {}: {}{more}", self.skipped, deals.join(", ")),
            Locale::Ru => format!("{recorded}; пропущено {}: {}{more}", self.skipped, deals.join(", ")),
        }
    }
}

/// What creating a token answers: the token, once, and the address a CRM calls with it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct NewDealToken {
    #[serde(flatten)]
    pub info: DealToken,
    pub token: String,
    pub url: String,
}

#[cfg(test)]
mod tests;
