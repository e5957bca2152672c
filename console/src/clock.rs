//! Times as the console shows them: on the shop's clock (its config's time zone, which comes with
//! the sign-in), in the person's language, wherever the person sits. A visitor who wrote "call me
//! at six" and the CRM's timestamps mean the shop's six.

use std::cell::RefCell;

use floorwalker_browser_kit::{message_time, site_offset_minutes};
use floorwalker_core::base::clock;

use crate::i18n::Lang;

thread_local! {
    /// The signed-in site's zone; one site per console page at a time.
    static SHOP_ZONE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Sets the shop's zone (at sign-in and on a site switch); empty reads as UTC.
pub fn set_shop_zone(timezone: &str) {
    SHOP_ZONE.with(|zone| *zone.borrow_mut() = timezone.to_owned());
}

fn zone_or_utc() -> String {
    Some(SHOP_ZONE.with(|zone| zone.borrow().clone())).filter(|z| !z.is_empty()).unwrap_or_else(|| "UTC".into())
}

/// `at_ms` as a chat or a list reads it: `14:05` today, `yesterday, 14:05`, `3 Dec, 14:05`.
pub fn shop_time(at_ms: u64, lang: Lang) -> String {
    message_time(&zone_or_utc(), at_ms, lang).0
}

/// `at_ms` in full, as a log or a record reads it: `3 Dec 2026, 14:05`.
pub fn shop_date_time(at_ms: u64, lang: Lang) -> String {
    clock::date_time(at_ms, site_offset_minutes(&zone_or_utc(), at_ms), lang)
}
