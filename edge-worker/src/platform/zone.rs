//! Time zones, which core does not carry: workerd has the zone data, reached through `Intl`.

use wasm_bindgen::{JsCast, JsValue};

/// The offset of `zone` from UTC at `at_ms`, in minutes, from `Intl.DateTimeFormat` (workerd
/// carries the time-zone data; core does not). `None` for a zone it does not know.
pub fn offset_minutes(zone: &str, at_ms: u64) -> Option<i32> {
    let options = js_sys::Object::new();
    for (name, value) in [
        ("timeZone", zone),
        ("hourCycle", "h23"),
        ("year", "numeric"),
        ("month", "numeric"),
        ("day", "numeric"),
        ("hour", "numeric"),
        ("minute", "numeric"),
    ] {
        js_sys::Reflect::set(&options, &name.into(), &value.into()).ok()?;
    }
    let intl = js_sys::Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
    let constructor: js_sys::Function = js_sys::Reflect::get(&intl, &"DateTimeFormat".into()).ok()?.dyn_into().ok()?;
    // Through Reflect, so an unknown zone is a caught RangeError rather than a trap.
    let format = js_sys::Reflect::construct(&constructor, &js_sys::Array::of2(&"en-US".into(), &options)).ok()?;
    let to_parts: js_sys::Function = js_sys::Reflect::get(&format, &"formatToParts".into()).ok()?.dyn_into().ok()?;
    let minute_ms = at_ms - at_ms % 60_000;
    let date = js_sys::Date::new(&JsValue::from_f64(minute_ms as f64));
    let parts: js_sys::Array = to_parts.call1(&format, &date).ok()?.dyn_into().ok()?;
    let mut fields = [0i64; 5];
    for part in parts.iter() {
        let kind = js_sys::Reflect::get(&part, &"type".into()).ok()?.as_string()?;
        let value = js_sys::Reflect::get(&part, &"value".into()).ok()?.as_string()?;
        let slot = match kind.as_str() {
            "year" => 0,
            "month" => 1,
            "day" => 2,
            "hour" => 3,
            "minute" => 4,
            _ => continue,
        };
        fields[slot] = value.parse().ok()?;
    }
    let local = js_sys::Date::utc(fields[0] as f64, (fields[1] - 1) as f64) as i64;
    let local = local + (fields[2] - 1) * 86_400_000 + (fields[3] % 24) * 3_600_000 + fields[4] * 60_000;
    i32::try_from((local - minute_ms as i64) / 60_000).ok().filter(|offset| offset.abs() <= 18 * 60)
}
