//! A small deterministic fuzzer for the worker's HTTP surface and chat frames: valid requests built
//! from core's own types ([`Seed`]) are mutated ([`mutate`]) the ways a hostile or broken client
//! would: wrong types, huge and non-finite numbers, 2^53 + 1, negative values, deep nesting, long and
//! odd unicode strings, missing and extra fields, odd content types, wrong methods, huge bodies,
//! mangled paths, queries and credentials. Every choice comes from [`Rng`], seeded once, so a
//! failing run is reproduced by its seed.

use serde_json::{json, Map, Value};

/// SplitMix64: tiny, fast, and the same sequence everywhere for a seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// An independent stream for item `n` of a run (requests are generated concurrently).
    pub fn for_item(seed: u64, n: u64) -> Rng {
        let mut rng = Rng(seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        rng.next_u64();
        rng
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Who a request claims to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    None,
    /// `Authorization: Bearer $ADMIN_TOKEN`.
    Admin,
    /// A CRM API key of the site.
    ApiKey,
    /// An operator's session cookie (and the worker's own Origin).
    Operator,
}

/// A valid request of the real API, before mutation.
#[derive(Debug, Clone)]
pub struct Seed {
    pub method: &'static str,
    pub path: String,
    pub body: Option<Value>,
    pub auth: Auth,
    /// The shop's origin (public routes) or none.
    pub shop_origin: bool,
}

impl Seed {
    pub fn new(method: &'static str, path: impl Into<String>, body: Option<Value>, auth: Auth, shop_origin: bool) -> Seed {
        Seed { method, path: path.into(), body, auth, shop_origin }
    }
}

/// The credentials and origins a request may carry.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub admin_token: String,
    pub api_key: String,
    pub cookie: String,
    pub shop_origin: String,
    pub own_origin: String,
}

/// One request to send.
#[derive(Debug, Clone)]
pub struct FuzzRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// What was done to the seed, for a failure report.
    pub mutation: String,
}

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"];
const CONTENT_TYPES: [&str; 9] = [
    "application/json",
    "text/plain;charset=UTF-8",
    "application/json; charset=utf-16",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded",
    "text/html",
    "application/octet-stream",
    ";;;",
    "application/json; charset=\"ébcdic\"",
];
/// Raw JSON tokens a `Value` cannot hold: out-of-range and non-finite numbers, negative zero.
const RAW_NUMBERS: [&str; 10] = [
    "1e400",
    "-1e400",
    "NaN",
    "Infinity",
    "-0",
    "184467440737095516160000",
    "-9223372036854775809",
    "0.000000000000000000000000000001",
    "1.5e308",
    "123456789012345678901234567890.5",
];
const RAW_MARK: &str = "~fuzz-raw~";

/// A value of another kind than the usual: the mutation's building blocks.
fn odd_value(rng: &mut Rng) -> Value {
    match rng.below(22) {
        0 => json!(null),
        1 => json!(true),
        2 => json!(9_007_199_254_740_993u64), // 2^53 + 1
        3 => json!(u64::MAX),
        4 => json!(i64::MIN),
        5 => json!(-1),
        6 => json!(0),
        7 => json!(1.5),
        8 => json!("NaN"),
        9 => json!("-Infinity"),
        10 => json!(""),
        11 => Value::String("x".repeat(1 << rng.below(17))),
        12 => json!("\u{202e}evil\u{200b}\u{feff}👩‍👩‍👧 ё \u{7}\u{0}"),
        13 => json!("<script>alert(1)</script>'\"; DROP TABLE leads;--"),
        14 => json!([]),
        15 => json!({}),
        16 => json!([1, "two", null, {"three": 3}]),
        17 => json!("javascript:alert(1)"),
        18 => json!("http://[::ffff:127.0.0.1]:8080/../../etc/passwd"),
        19 => Value::String(format!("{RAW_MARK}{}", rng.below(RAW_NUMBERS.len()))),
        20 => nested(rng.below(3000) + 1),
        _ => json!("9007199254740993"),
    }
}

/// `depth` arrays inside each other (serde_json refuses beyond 128; the worker must say 400).
fn nested(depth: usize) -> Value {
    let mut value = json!(1);
    for _ in 0..depth.min(200) {
        value = json!([value]);
    }
    if depth > 200 {
        // Deeper than a `Value` should be built recursively: marked, and expanded as text.
        return Value::String(format!("{RAW_MARK}nest{depth}"));
    }
    value
}

/// Every path to a leaf or container in `value`, as a list of keys/indexes.
fn paths(value: &Value, at: &mut Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                at.push(PathStep::Key(key.clone()));
                paths(child, at, out);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                at.push(PathStep::Index(i));
                paths(child, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone)]
enum PathStep {
    Key(String),
    Index(usize),
}

fn at_path<'a>(value: &'a mut Value, path: &[PathStep]) -> Option<&'a mut Value> {
    let mut current = value;
    for step in path {
        current = match (step, current) {
            (PathStep::Key(key), Value::Object(map)) => map.get_mut(key)?,
            (PathStep::Index(i), Value::Array(items)) => items.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(current)
}

/// Mutates a JSON body in place; returns what was done.
fn mutate_json(body: &mut Value, rng: &mut Rng) -> String {
    let mut all = Vec::new();
    paths(body, &mut Vec::new(), &mut all);
    let target = rng.pick(&all).clone();
    let Some(slot) = at_path(body, &target) else { return "nothing".into() };
    match rng.below(6) {
        0 | 1 => {
            *slot = odd_value(rng);
            format!("replace {target:?}")
        }
        2 => {
            // Remove a field (or an element).
            if let Some((last, parent_path)) = target.split_last() {
                if let Some(parent) = at_path(body, parent_path) {
                    match (last, parent) {
                        (PathStep::Key(key), Value::Object(map)) => {
                            map.remove(key);
                        }
                        (PathStep::Index(i), Value::Array(items)) if *i < items.len() => {
                            items.remove(*i);
                        }
                        _ => {}
                    }
                }
            }
            format!("remove {target:?}")
        }
        3 => {
            if let Value::Object(map) = slot {
                map.insert(format!("extra_{}", rng.below(100)), odd_value(rng));
            } else if let Value::Array(items) = slot {
                let copies = 1 << rng.below(12);
                let item = items.first().cloned().unwrap_or(json!(1));
                items.extend(std::iter::repeat_n(item, copies));
            } else {
                *slot = json!({"unexpected": slot.clone()});
            }
            format!("grow {target:?}")
        }
        4 => {
            // The same field as another kind of container.
            *slot = json!([slot.clone()]);
            format!("wrap {target:?}")
        }
        _ => {
            let first = odd_value(rng);
            *slot = first;
            let again = rng.pick(&all).clone();
            if let Some(other) = at_path(body, &again) {
                *other = odd_value(rng);
            }
            format!("replace {target:?} and {again:?}")
        }
    }
}

/// JSON text with the raw markers expanded (numbers a `Value` cannot hold, deep nesting).
fn render(body: &Value) -> String {
    let mut text = body.to_string();
    while let Some(start) = text.find(&format!("\"{RAW_MARK}")) {
        let end = text[start + 1..].find('"').map_or(text.len(), |e| start + 1 + e + 1);
        let marker = &text[start + 1 + RAW_MARK.len()..end - 1];
        let raw = match marker.strip_prefix("nest") {
            Some(depth) => {
                let depth: usize = depth.parse().unwrap_or(1000);
                format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
            }
            None => RAW_NUMBERS[marker.parse::<usize>().unwrap_or(0) % RAW_NUMBERS.len()].to_owned(),
        };
        text.replace_range(start..end, &raw);
    }
    text
}

/// A path segment made strange.
fn odd_segment(rng: &mut Rng) -> String {
    match rng.below(9) {
        0 => "x".repeat(1 << rng.below(13)),
        1 => "%00".into(),
        2 => "..".into(),
        3 => "%E2%80%AE%F0%9F%98%80".into(),
        4 => "%FF%FE".into(),
        5 => "9007199254740993".into(),
        6 => "-1".into(),
        7 => String::new(),
        _ => "c00000000000000000000000000000000".into(),
    }
}

fn mutate_path(path: &str, rng: &mut Rng) -> String {
    let (path, query) = path.split_once('?').map_or((path, None), |(p, q)| (p, Some(q)));
    let mut segments: Vec<String> = path.split('/').map(str::to_owned).collect();
    match rng.below(4) {
        0 if segments.len() > 3 => {
            let i = 3 + rng.below(segments.len() - 3);
            segments[i] = odd_segment(rng);
        }
        1 => segments.push(odd_segment(rng)),
        2 if segments.len() > 3 => {
            segments.pop();
        }
        _ => {}
    }
    let mut path = segments.join("/");
    let query = match (query, rng.below(4)) {
        (_, 0) => Some(format!("limit={}&visitor={}&state={}", rng.pick(&["-1", "99999999999999999999", "NaN", "0", "1e3"]), odd_segment(rng), odd_segment(rng))),
        (Some(q), 1) => Some(format!("{q}&{q}")),
        (q, _) => q.map(str::to_owned),
    };
    if let Some(query) = query {
        path.push('?');
        path.push_str(&query);
    }
    path
}

/// A mutated request from `seed`. About one request in eight is the seed itself (with only its
/// credentials varied), so handlers also see valid input under load.
pub fn mutate(seed: &Seed, credentials: &Credentials, rng: &mut Rng) -> FuzzRequest {
    let mut mutation = Vec::new();
    let mut method = seed.method.to_owned();
    let mut path = seed.path.clone();
    let mut body = seed.body.clone();
    let valid = rng.chance(12);
    if !valid {
        if rng.chance(70) {
            if let Some(value) = body.as_mut() {
                mutation.push(mutate_json(value, rng));
            }
        }
        if rng.chance(10) {
            method = (*rng.pick(&METHODS)).to_owned();
            mutation.push(format!("method {method}"));
        }
        if rng.chance(15) {
            path = mutate_path(&path, rng);
            mutation.push("path".into());
        }
    }
    let mut bytes = body.as_ref().map(render).unwrap_or_default().into_bytes();
    if !valid && rng.chance(8) {
        bytes = match rng.below(5) {
            0 => Vec::new(),
            1 => bytes[..bytes.len() / 2].to_vec(),
            2 => (0..rng.below(4096)).map(|_| rng.next_u64() as u8).collect(),
            // A huge body: past every limit the worker sets.
            3 => {
                let size = (64 << 10) << rng.below(5);
                format!("{{\"pad\":\"{}\"}}", "a".repeat(size)).into_bytes()
            }
            _ => b"{\"a\":1,\"a\":2}".to_vec(),
        };
        mutation.push("body bytes".into());
    }
    let mut headers = Vec::new();
    let content_type = if !valid && rng.chance(10) {
        mutation.push("content type".into());
        Some((*rng.pick(&CONTENT_TYPES)).to_owned())
    } else if seed.body.is_some() {
        Some(if seed.shop_origin { "text/plain;charset=UTF-8" } else { "application/json" }.to_owned())
    } else {
        None
    };
    if let Some(content_type) = content_type {
        headers.push(("content-type".to_owned(), content_type));
    }
    let auth = if !valid && rng.chance(8) { *rng.pick(&[Auth::None, Auth::Admin, Auth::ApiKey, Auth::Operator]) } else { seed.auth };
    match auth {
        Auth::None => {}
        Auth::Admin => headers.push(("authorization".into(), format!("Bearer {}", credentials.admin_token))),
        Auth::ApiKey => headers.push(("authorization".into(), format!("Bearer {}", credentials.api_key))),
        Auth::Operator => {
            headers.push(("cookie".into(), credentials.cookie.clone()));
            headers.push(("origin".into(), credentials.own_origin.clone()));
        }
    }
    if !valid && rng.chance(5) {
        headers.push(("authorization".into(), rng.pick(&["Bearer ", "Bearer x", "Basic YTpi", "Bearer\t\tx y z"]).to_string()));
        mutation.push("authorization".into());
    }
    if seed.shop_origin {
        let origin = if !valid && rng.chance(8) {
            mutation.push("origin".into());
            rng.pick(&["https://evil.example", "null", "http://shop.example.evil.example", ""]).to_string()
        } else {
            credentials.shop_origin.clone()
        };
        if !origin.is_empty() {
            headers.push(("origin".into(), origin));
        }
    }
    // A different client address per request: per-IP rate limits see many clients, so the
    // handlers behind them are still reached (a 429 is a fine answer too).
    let ip = rng.next_u64();
    headers.push(("cf-connecting-ip".into(), format!("10.{}.{}.{}", (ip >> 16) as u8, (ip >> 8) as u8, ip as u8)));
    FuzzRequest { method, path, headers, body: bytes, mutation: if valid { "none".into() } else { mutation.join(", ") } }
}

/// A chat frame mutated the same way (its text is what the socket receives).
pub fn mutate_frame(frame: &Value, rng: &mut Rng) -> String {
    let mut frame = frame.clone();
    if rng.chance(85) {
        mutate_json(&mut frame, rng);
    }
    match rng.below(20) {
        0 => "not json".into(),
        1 => render(&frame).repeat(1 + rng.below(2000)),
        _ => render(&frame),
    }
}

/// `{"key": value}` objects as seeds' bodies.
pub fn object(pairs: &[(&str, Value)]) -> Value {
    Value::Object(pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect::<Map<_, _>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_requests() {
        let seed = Seed::new("POST", "/v1/events", Some(json!({"v": 1, "events": [{"id": "e", "at": 1}]})), Auth::None, true);
        let credentials = Credentials {
            admin_token: "t".into(),
            api_key: "k".into(),
            cookie: "c=1".into(),
            shop_origin: "http://shop.example".into(),
            own_origin: "http://127.0.0.1".into(),
        };
        let run = |n| {
            let mut rng = Rng::for_item(42, n);
            let request = mutate(&seed, &credentials, &mut rng);
            (request.method, request.path, request.body, request.headers)
        };
        for n in 0..200 {
            assert_eq!(run(n), run(n));
        }
        assert_ne!((0..50).map(run).collect::<Vec<_>>(), (50..100).map(run).collect::<Vec<_>>());
    }

    #[test]
    fn raw_markers_become_raw_json_text() {
        let body = json!({"a": format!("{RAW_MARK}0"), "b": format!("{RAW_MARK}nest3")});
        assert_eq!(render(&body), r#"{"a":1e400,"b":[[[1]]]}"#);
    }
}
