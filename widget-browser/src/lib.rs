//! Browser helpers shared by the widget's first load (`widget/`) and its UI module (`widget-ui/`),
//! each failing softly: the widget must never break the host page because an API is missing.
//! Only what both modules call lives here; a module links just the functions it uses.

use std::cell::RefCell;

use floorwalker_core::base::ids::client_id_from_bytes;
use floorwalker_core::base::locale::Weekday;
use wasm_bindgen::prelude::*;

pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

pub fn warn(message: &str) {
    web_sys::console::warn_1(&JsValue::from_str(message));
}

/// 128 random bits from `crypto.getRandomValues`, as hex (a valid client id).
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .and_then(|c| c.get_random_values_with_u8_array(&mut bytes).ok())
        .is_some();
    if !filled {
        // No Web Crypto (very old browser): ids only need to be unique, not secret.
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (js_sys::Math::random() * 256.0) as u8 ^ (i as u8);
        }
    }
    client_id_from_bytes(&bytes)
}

/// The shop's weekday and minute of the day at `at_ms`, in `timezone` (IANA), computed by the
/// browser's `Intl.DateTimeFormat` (core carries no time-zone database). UTC where `Intl` or the
/// zone is unavailable.
pub fn site_local_time(timezone: &str, at_ms: f64) -> (Weekday, u16) {
    let date = js_sys::Date::new(&JsValue::from_f64(at_ms));
    intl_parts(timezone, &date).unwrap_or_else(|| {
        let day = Weekday::from_js_day(date.get_utc_day()).unwrap_or(Weekday::Mon);
        (day, (date.get_utc_hours() * 60 + date.get_utc_minutes()) as u16)
    })
}

thread_local! {
    /// The formatter for one time zone. Building the first one loads the browser's time-zone data,
    /// tens of milliseconds of main thread, so it is built once per page and kept.
    static FORMATTER: RefCell<Option<(String, JsValue)>> = const { RefCell::new(None) };
}

/// Whether the site's clock for `timezone` is ready, i.e. [`site_local_time`] is now cheap.
pub fn site_clock_ready(timezone: &str) -> bool {
    FORMATTER.with(|slot| slot.borrow().as_ref().is_some_and(|(zone, _)| zone == timezone))
}

fn formatter(timezone: &str) -> Option<JsValue> {
    if let Some(format) = FORMATTER.with(|slot| slot.borrow().as_ref().filter(|(zone, _)| zone == timezone).map(|(_, f)| f.clone())) {
        return Some(format);
    }
    let options = js_sys::Object::new();
    for (name, value) in
        [("timeZone", timezone), ("weekday", "short"), ("hour", "2-digit"), ("minute", "2-digit"), ("hourCycle", "h23")]
    {
        js_sys::Reflect::set(&options, &name.into(), &value.into()).ok()?;
    }
    let intl = js_sys::Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
    let constructor: js_sys::Function = js_sys::Reflect::get(&intl, &"DateTimeFormat".into()).ok()?.dyn_into().ok()?;
    // Constructed through Reflect so that an unknown zone is a caught RangeError, not a trap.
    let format = js_sys::Reflect::construct(&constructor, &js_sys::Array::of2(&"en-US".into(), &options)).ok()?;
    FORMATTER.with(|slot| slot.replace(Some((timezone.to_owned(), format.clone()))));
    Some(format)
}

fn intl_parts(timezone: &str, date: &js_sys::Date) -> Option<(Weekday, u16)> {
    let format = formatter(timezone)?;
    let format_to_parts: js_sys::Function = js_sys::Reflect::get(&format, &"formatToParts".into()).ok()?.dyn_into().ok()?;
    let parts: js_sys::Array = format_to_parts.call1(&format, date).ok()?.dyn_into().ok()?;
    let (mut weekday, mut hour, mut minute) = (None, None, None);
    for part in parts.iter() {
        let kind = js_sys::Reflect::get(&part, &"type".into()).ok()?.as_string()?;
        let value = js_sys::Reflect::get(&part, &"value".into()).ok()?.as_string()?;
        match kind.as_str() {
            "weekday" => {
                const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
                weekday = DAYS.iter().position(|d| *d == value).and_then(|i| Weekday::from_js_day(i as u32));
            }
            "hour" => hour = value.parse::<u16>().ok(),
            "minute" => minute = value.parse::<u16>().ok(),
            _ => {}
        }
    }
    Some((weekday?, (hour? % 24) * 60 + minute?))
}
