//! The browser kit: helpers every wasm crate that runs in a page shares — the widget's first load
//! (`widget/`), its UI module (`widget-ui/`) and the operator console (`console/`). Each fails
//! softly where it can: the widget must never break the host page because an API is missing.
//! A crate links just the functions it uses, so the first load pays only for what it calls.

use std::cell::RefCell;

use floorwalker_core::base::clock;
use floorwalker_core::base::ids::client_id_from_bytes;
use floorwalker_core::base::text::parse_digits;
use floorwalker_core::base::locale::{Locale, Weekday};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// The tag of the one element the widget adds to the host page (everything it draws lives in this
/// element's shadow root); the widget, its UI module and the tests find it by this name. A custom
/// element name (never defined as a class) and no id, so that no rule of the page written for
/// `div`, `[id]` or a class can reach it.
pub const HOST_TAG: &str = "floorwalker-widget";

pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

pub fn warn(message: &str) {
    web_sys::console::warn_1(&JsValue::from_str(message));
}

/// Runs `f` once after `ms` milliseconds; the timer's id (for `clearTimeout`).
pub fn later(ms: i32, f: impl FnOnce() + 'static) -> Option<i32> {
    let window = web_sys::window()?;
    let callback = Closure::once_into_js(f);
    window.set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), ms).ok()
}

/// JSON text of `value`. serde_json's encoder against building JS objects for `JSON.stringify`,
/// measured in brotli: 2.0 KB less on the widget's first load, 1.3 KB more in the UI module, so
/// less in sum and on the budgeted first load; it also writes every u64 exactly.
pub fn to_json(value: &impl Serialize) -> Option<String> {
    serde_json::to_string(value).ok()
}

/// `text` parsed by the browser's `JSON.parse` into `T`; `None` for anything malformed.
pub fn from_json<T: DeserializeOwned>(text: &str) -> Option<T> {
    serde_wasm_bindgen::from_value(js_sys::JSON::parse(text).ok()?).ok()
}

/// `bytes` filled by the CSPRNG, `crypto.getRandomValues`. Every browser that runs WebAssembly
/// has it; without it there is nothing random enough to give, so the call throws (the entry
/// points catch it) rather than hand out guessable ids.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .and_then(|c| c.get_random_values_with_u8_array(&mut bytes).ok())
        .is_some();
    if !filled {
        wasm_bindgen::throw_str("floorwalker: no crypto.getRandomValues");
    }
    bytes
}

/// 128 random bits as hex (a valid client id): visitor and session ids, event ids, idempotency keys.
pub fn random_id() -> String {
    client_id_from_bytes(&random_bytes::<16>())
}

/// A random number in `[0, 1)`, to spread reconnection attempts (`chat::panel::backoff_ms`).
pub fn random_fraction() -> f64 {
    f64::from(u32::from_le_bytes(random_bytes::<4>())) / 4_294_967_296.0
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

/// The shop's offset from UTC in minutes at `at_ms` (core's `clock::offset_minutes` from what
/// `Intl` shows then, so daylight saving is included); 0 where `Intl` or the zone is unavailable.
pub fn site_offset_minutes(timezone: &str, at_ms: u64) -> i32 {
    let (day, minute) = site_local_time(timezone, at_ms as f64);
    clock::offset_minutes(at_ms, day, minute)
}

/// A message's time on the shop's clock in `timezone`: the words (core's `clock::message_time`,
/// "14:05", "yesterday, 14:05") and the moment with its offset for `<time datetime>`.
pub fn message_time(timezone: &str, at_ms: u64, locale: Locale) -> (String, String) {
    let now = now_ms();
    let offset = site_offset_minutes(timezone, at_ms);
    let now_offset = site_offset_minutes(timezone, now);
    (clock::message_time(at_ms, offset, now, now_offset, locale), clock::local_iso(at_ms, offset))
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
            // Core's one digit reader: `str::parse` would add a body per integer type.
            "hour" => hour = parse_digits(&value).and_then(|n| u16::try_from(n).ok()),
            "minute" => minute = parse_digits(&value).and_then(|n| u16::try_from(n).ok()),
            _ => {}
        }
    }
    Some((weekday?, (hour? % 24) * 60 + minute?))
}
