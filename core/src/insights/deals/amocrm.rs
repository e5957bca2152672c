//! amoCRM's own status webhook («Смена статуса сделки») read as deal reports.
//!
//! amoCRM posts `application/x-www-form-urlencoded` fields such as
//! `leads[status][0][id]=25399013&leads[status][0][status_id]=142&leads[status][0][pipeline_id]=…&leads[status][0][price]=44990&account[subdomain]=…`:
//! its own deal id, the new status (142 is the system status «Успешно реализовано», the same in
//! every pipeline) and the deal's budget in whole units of the account's currency, which the
//! webhook does not name. Which of our leads a deal is comes from what amoCRM answered when our
//! preset created it (`outbound::crm::AmoDealLink`); the currency from the owner's `currency` on
//! the webhook URL or else from the shop's own prices in the lead.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::base::error::{ApiError, ErrorCode};
use crate::base::locale::Locale;
use crate::base::money::{Currency, Money};
use crate::insights::deals::{parse_amount, DealReceipt, DealReport};
use crate::leads::lead::Lead;

/// amoCRM's system status of a deal won («Успешно реализовано»).
pub const WON_STATUS_ID: u64 = 142;
/// Status changes read from one webhook. amoCRM sends one per deal moved, a few when many are
/// moved at once; each won one costs a few D1 queries, so a body of hundreds is refused.
pub const MAX_STATUS_CHANGES: usize = 50;

/// Whether form fields are amoCRM's webhook rather than the generic report (`lead`, `deal`, …).
pub fn is_amocrm_webhook(fields: &[(String, String)]) -> bool {
    fields.iter().any(|(name, _)| name.starts_with("leads["))
}

/// One deal whose status changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// amoCRM's deal id, as decimal digits without leading zeros (as `AmoDealLink` records it).
    pub amocrm_deal: String,
    pub status_id: u64,
    /// The deal's budget in whole units, digits only; absent when the deal has none.
    pub price: Option<String>,
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError { code: ErrorCode::InvalidDeal, message: message.into(), field: Some(field.to_owned()) }
}

/// A positive decimal number of at most 19 digits (amoCRM's ids are 64-bit integers).
fn id_number(text: &str) -> Option<u64> {
    let text = text.trim();
    (!text.is_empty() && text.len() <= 19 && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok()).flatten()
}

/// The `leads[status][N][…]` entries of the webhook, in the order of `N`. Entries of other events
/// (`leads[add]`, `leads[update]`…) and fields of no use here (`pipeline_id`, `custom_fields`…)
/// are left alone. A malformed entry (an index or id that is not a number, a price that is not
/// whole units) refuses the webhook, naming the field.
pub fn status_changes(fields: &[(String, String)]) -> Result<Vec<StatusChange>, ApiError> {
    #[derive(Default)]
    struct Entry {
        id: Option<String>,
        status_id: Option<String>,
        price: Option<String>,
    }
    let mut entries: BTreeMap<u64, Entry> = BTreeMap::new();
    for (name, value) in fields {
        let Some(rest) = name.strip_prefix("leads[status][") else { continue };
        let Some((index, rest)) = rest.split_once(']') else {
            return Err(invalid(name, format!("{name} is not an amoCRM webhook field")));
        };
        let index = id_number(index).filter(|_| index.len() <= 4).ok_or_else(|| invalid(name, format!("{name}: the index is not a number")))?;
        if !entries.contains_key(&index) && entries.len() == MAX_STATUS_CHANGES {
            return Err(invalid("leads[status]", format!("at most {MAX_STATUS_CHANGES} status changes in one webhook")));
        }
        let entry = entries.entry(index).or_default();
        // `[id]` and not `[id][…]` nor `[custom_fields][0][id]`: only the deal's own fields.
        match rest {
            "[id]" => entry.id = Some(value.clone()),
            "[status_id]" => entry.status_id = Some(value.clone()),
            "[price]" => entry.price = Some(value.clone()),
            _ => {}
        }
    }
    entries
        .into_iter()
        .map(|(index, entry)| {
            let field = |name: &str| format!("leads[status][{index}][{name}]");
            let amocrm_deal = entry.id.as_deref().and_then(id_number).filter(|id| *id > 0).ok_or_else(|| {
                invalid(&field("id"), format!("{} must be amoCRM's deal id (a positive number)", field("id")))
            })?;
            let status_id = entry
                .status_id
                .as_deref()
                .and_then(id_number)
                .ok_or_else(|| invalid(&field("status_id"), format!("{} must be a status id (a number)", field("status_id"))))?;
            let price = entry.price.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty());
            if price.as_deref().is_some_and(|p| p.len() > 15 || !p.bytes().all(|b| b.is_ascii_digit())) {
                return Err(invalid(&field("price"), format!("{} must be whole units (digits only)", field("price"))));
            }
            Ok(StatusChange { amocrm_deal: amocrm_deal.to_string(), status_id, price })
        })
        .collect()
}

/// The owner's `currency` on the webhook URL (the query's pairs), if given: what the amoCRM
/// account counts in. A code that is not ISO 4217 refuses the webhook, naming `currency`.
pub fn url_currency(query: &[(String, String)]) -> Result<Option<Currency>, ApiError> {
    let Some((_, code)) = query.iter().find(|(name, _)| name == "currency") else { return Ok(None) };
    Currency::try_from(code.trim().to_owned()).map(Some).map_err(|e| invalid("currency", format!("currency on the webhook URL: {e}")))
}

/// The currency of an amoCRM deal's price, which its webhook does not name. The owner's
/// `currency` on the webhook URL says what the amoCRM account counts in, so it wins; without it,
/// the currency of the shop's own prices in the lead (the last priced product the visitor viewed:
/// the price our preset put into the deal's budget). `None`: nothing says.
pub fn deal_currency(on_url: Option<Currency>, lead: &Lead) -> Option<Currency> {
    on_url.or_else(|| lead.context.products.iter().rev().find_map(|viewed| viewed.product.price).map(|price| price.currency))
}

/// Why a won deal of the webhook was not recorded.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// No lead of this site became this amoCRM deal (not ours, created by hand, or erased).
    UnknownDeal,
    /// The deal has no budget.
    NoPrice,
    /// Neither the webhook URL's `currency` nor the lead's prices name a currency.
    NoCurrency,
}

impl SkipReason {
    /// Why, in the owner's words, with what to do where there is something to do.
    pub fn words(self, locale: Locale) -> &'static str {
        match (self, locale) {
            (SkipReason::UnknownDeal, Locale::En) => "not a deal a Floorwalker lead became",
            (SkipReason::UnknownDeal, Locale::Ru) => "не из заявок Floorwalker",
            (SkipReason::NoPrice, Locale::En) => "no budget",
            (SkipReason::NoPrice, Locale::Ru) => "без бюджета",
            (SkipReason::NoCurrency, Locale::En) => "no currency: add &currency=RUB (your account's) to the address",
            (SkipReason::NoCurrency, Locale::Ru) => "валюта неизвестна: добавьте к адресу &currency=RUB (валюту аккаунта)",
        }
    }
}

impl StatusChange {
    pub fn won(&self) -> bool {
        self.status_id == WON_STATUS_ID
    }

    /// The report this won deal makes for `lead`: amoCRM's deal id, its budget in `currency`.
    pub fn report(&self, lead: &Lead, currency: Option<Currency>) -> Result<DealReport, SkipReason> {
        let price = self.price.as_deref().ok_or(SkipReason::NoPrice)?;
        let currency = currency.ok_or(SkipReason::NoCurrency)?;
        // Digits only (checked when read), so this fails only beyond the largest amount kept.
        let minor = parse_amount(price, currency).map_err(|_| SkipReason::NoPrice)?;
        Ok(DealReport { deal: self.amocrm_deal.clone(), lead: lead.id.clone(), amount: Money { minor, currency } })
    }
}

/// A won deal not recorded, and why.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub amocrm_deal: String,
    pub reason: SkipReason,
}

/// The answer to amoCRM's webhook: always 200 once it is read (amoCRM needs only a 2xx), with
/// what became of each status change.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookReceipt {
    /// Won deals recorded (created, updated or unchanged; each in `deals`).
    pub recorded: u32,
    /// Won deals not recorded (each in `skipped_deals`, with why).
    pub skipped: u32,
    /// Changes to a status other than won.
    pub ignored: u32,
    pub deals: Vec<DealReceipt>,
    pub skipped_deals: Vec<Skipped>,
}

impl WebhookReceipt {
    /// The receipt so far (other statuses counted as ignored) and the won changes to record.
    pub fn sort(changes: &[StatusChange]) -> (WebhookReceipt, Vec<&StatusChange>) {
        let (won, others): (Vec<&StatusChange>, Vec<&StatusChange>) = changes.iter().partition(|change| change.won());
        (WebhookReceipt { ignored: others.len() as u32, ..WebhookReceipt::default() }, won)
    }

    pub fn recorded(&mut self, receipt: DealReceipt) {
        self.recorded += 1;
        self.deals.push(receipt);
    }

    pub fn skipped(&mut self, change: &StatusChange, reason: SkipReason) {
        self.skipped += 1;
        self.skipped_deals.push(Skipped { amocrm_deal: change.amocrm_deal.clone(), reason });
    }
}

#[cfg(test)]
mod tests;
