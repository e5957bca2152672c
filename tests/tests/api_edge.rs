//! The worker's HTTP edge against bad input: every mistake gets a 4xx with a machine code and a
//! message, nothing partial is stored, and nothing is a 5xx.

use floorwalker_core::base::error::{ErrorBody, ErrorCode};
use floorwalker_core::base::wire;
use floorwalker_core::prompts::config::{PublicSiteConfig, SiteConfig};
use floorwalker_core::visitor::event::EventBatch;
use floorwalker_e2e::worker::Worker;
use serde_json::{json, Value};

fn batch(visitor: &str, events: Value) -> Value {
    json!({"v": 1, "site": "demo", "visitor": visitor, "session": "session-0001", "events": events})
}

fn page_view(id: &str, url: &str) -> Value {
    json!({"id": id, "at": 1_790_000_000_000u64, "type": "page_view", "url": url, "title": "Кроха"})
}

async fn expect_error(response: reqwest::Response, status: u16, code: ErrorCode, case: &str) {
    assert_eq!(response.status().as_u16(), status, "{case}");
    let body: ErrorBody = response.json().await.unwrap_or_else(|e| panic!("{case}: error body is JSON: {e}"));
    assert_eq!(body.error.code, code, "{case}");
    assert!(!body.error.message.is_empty(), "{case}: the error explains itself");
}

#[tokio::test]
async fn events_endpoint_refuses_bad_input_with_clear_4xx_and_stores_nothing_partial() {
    let worker = Worker::start("api-events").await;
    worker.seed_demo_site(&[]).await;
    let origin = worker.origin();
    let http = worker.http();
    let post = |body: String, content_type: &'static str, origin: Option<String>| {
        let mut request = http.post(worker.url("/v1/events")).header("content-type", content_type).body(body);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    let good_view = page_view("evt-good-0001", "http://127.0.0.1/p/1");

    /// (case, body, content type, Origin header, expected status, expected code)
    type Case = (&'static str, String, &'static str, Option<String>, u16, ErrorCode);
    let cases: Vec<Case> = vec![
        ("garbage JSON", "{nope".into(), "text/plain", Some(origin.clone()), 400, ErrorCode::InvalidJson),
        ("JSON of the wrong shape", "[1,2,3]".into(), "application/json", Some(origin.clone()), 400, ErrorCode::InvalidJson),
        ("unknown event type",
            batch("visitor-bad-1", json!([{"id": "evt-00000001", "at": 1, "type": "mind_read"}])).to_string(),
            "text/plain", Some(origin.clone()), 400, ErrorCode::InvalidJson),
        ("future batch version",
            json!({"v": 9, "site": "demo", "visitor": "visitor-bad-2", "session": "session-0001", "events": [good_view]}).to_string(),
            "text/plain", Some(origin.clone()), 400, ErrorCode::UnsupportedVersion),
        ("one bad event in a batch",
            batch("visitor-bad-3", json!([good_view, page_view("evt-bad-0002", "javascript:alert(1)")])).to_string(),
            "text/plain", Some(origin.clone()), 400, ErrorCode::InvalidEvent),
        ("unknown site",
            json!({"v": 1, "site": "nosuchshop", "visitor": "visitor-bad-4", "session": "session-0001", "events": [good_view]}).to_string(),
            "text/plain", Some(origin.clone()), 404, ErrorCode::UnknownSite),
        ("wrong origin", batch("visitor-bad-5", json!([good_view])).to_string(),
            "text/plain", Some("https://evil.example".into()), 403, ErrorCode::OriginNotAllowed),
        ("no origin", batch("visitor-bad-6", json!([good_view])).to_string(), "text/plain", None, 403, ErrorCode::OriginNotAllowed),
        ("oversized body", batch("visitor-bad-7", json!([page_view("evt-big-0001", &format!("http://127.0.0.1/{}", "x".repeat(70_000)))])).to_string(),
            "text/plain", Some(origin.clone()), 413, ErrorCode::PayloadTooLarge),
        ("form-encoded body", "a=b".into(), "application/x-www-form-urlencoded", Some(origin.clone()), 415, ErrorCode::UnsupportedMediaType),
    ];
    for (case, body, content_type, origin, status, code) in cases {
        let response = post(body, content_type, origin).await.expect("request sent");
        expect_error(response, status, code, case).await;
    }
    for visitor in ["visitor-bad-1", "visitor-bad-2", "visitor-bad-3", "visitor-bad-5", "visitor-bad-6", "visitor-bad-7"] {
        assert!(worker.events("demo", visitor).await.is_empty(), "nothing stored for {visitor}");
    }

    // A good batch, sent as sendBeacon does (text/plain), twice: stored once.
    let body = batch("visitor-good-1", json!([page_view("evt-ok-0001", "http://127.0.0.1/a"), page_view("evt-ok-0002", "http://127.0.0.1/b")]));
    for expected_new in [2, 0] {
        let response = post(body.to_string(), "text/plain;charset=UTF-8", Some(origin.clone())).await.expect("sent");
        assert_eq!(response.status().as_u16(), 202);
        assert_eq!(response.headers()["access-control-allow-origin"], origin.as_str());
        let receipt: Value = response.json().await.expect("receipt");
        assert_eq!(receipt, json!({"accepted": 2, "stored": expected_new}));
    }
    assert_eq!(worker.events("demo", "visitor-good-1").await.len(), 2);

    // The widget's compact form (`?wire=N`, core's base::wire, a body without a content type, as
    // the widget's fetch and sendBeacon send it): read and validated like JSON.
    let wire_post = |version: u8, body: Vec<u8>| {
        http.post(worker.url(&format!("/v1/events?wire={version}"))).header("origin", origin.clone()).body(body).send()
    };
    let typed = |visitor: &str, url: &str| -> EventBatch { serde_json::from_value(batch(visitor, json!([page_view("evt-wire-0001", url)]))).expect("a batch") };
    let good = wire::encode(&typed("visitor-wire-1", "http://127.0.0.1/w"));
    let response = wire_post(wire::VERSION, good.clone()).await.expect("sent");
    assert_eq!(response.status().as_u16(), 202);
    assert_eq!(response.json::<Value>().await.expect("receipt"), json!({"accepted": 1, "stored": 1}));
    assert_eq!(worker.events("demo", "visitor-wire-1").await.len(), 1);
    // A tab opened before a release sends in its widget's older form: still read.
    let old_batch: EventBatch =
        serde_json::from_value(batch("visitor-wire-old", json!([page_view("evt-wire-0002", "http://127.0.0.1/old")]))).expect("a batch");
    let mut older = wire::encode(&old_batch);
    older[0] = floorwalker_core::visitor::OLDEST_BATCH_VERSION;
    let response = wire_post(floorwalker_core::visitor::OLDEST_BATCH_VERSION, older.clone()).await.expect("sent");
    assert_eq!(response.status().as_u16(), 202, "a batch from the oldest widget still in tabs");
    assert_eq!(worker.events("demo", "visitor-wire-old").await.len(), 1);
    older[0] = floorwalker_core::visitor::OLDEST_BATCH_VERSION - 1;
    expect_error(wire_post(floorwalker_core::visitor::OLDEST_BATCH_VERSION - 1, older).await.expect("sent"), 400, ErrorCode::UnsupportedVersion, "older than the oldest").await;
    let wire_cases: Vec<(&str, u8, Vec<u8>, ErrorCode)> = vec![
        ("a cut wire batch", wire::VERSION, good[..good.len() - 1].to_vec(), ErrorCode::InvalidJson),
        ("JSON sent as the wire form", wire::VERSION, body.to_string().into_bytes(), ErrorCode::InvalidJson),
        ("a wire form this worker does not read", wire::VERSION + 1, good.clone(), ErrorCode::UnsupportedVersion),
        ("a bad event in a wire batch", wire::VERSION, wire::encode(&typed("visitor-wire-2", "javascript:alert(1)")), ErrorCode::InvalidEvent),
    ];
    for (case, version, body, code) in wire_cases {
        expect_error(wire_post(version, body).await.expect("sent"), 400, code, case).await;
    }
    assert!(worker.events("demo", "visitor-wire-2").await.is_empty(), "nothing stored from a refused wire batch");
}

#[tokio::test]
async fn config_admin_and_cors_rules() {
    let worker = Worker::start("api-config").await;
    let http = worker.http();
    let origin = worker.origin();

    // Before seeding, the site does not exist.
    let response = http.get(worker.url("/v1/sites/demo/config")).header("origin", &origin).send().await.expect("sent");
    expect_error(response, 404, ErrorCode::UnknownSite, "unseeded site").await;
    let config = worker.seed_demo_site(&[]).await;

    let response = http.get(worker.url("/v1/sites/demo/config")).header("origin", &origin).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], origin.as_str());
    let public: Value = response.json().await.expect("config JSON");
    assert_eq!(public["widget"]["theme"]["brand_color"], config.widget.theme.brand_color);
    assert!(public.get("origins").is_none(), "the public config does not reveal the site's origins");

    // The widget's compact form (core's base::wire) says the same, in the version asked for only.
    let current = format!("/v1/sites/demo/config?wire={}", wire::VERSION);
    let loader = std::fs::read_to_string(floorwalker_e2e::repo_root().join("widget/loader/fw.js")).expect("the loader");
    assert!(loader.contains(&format!("/config?wire={}'", wire::VERSION)), "the loader asks for the wire version core encodes");
    let response = http.get(worker.url(&current)).header("origin", &origin).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/octet-stream");
    assert_eq!(response.headers()["access-control-allow-origin"], origin.as_str());
    let bytes = response.bytes().await.expect("config bytes");
    let decoded: PublicSiteConfig = wire::decode(&bytes).expect("the wire form decodes");
    assert_eq!(serde_json::to_value(&decoded).expect("JSON"), public, "the same config as the JSON form");
    let older = format!("/v1/sites/demo/config?wire={}", wire::VERSION - 1);
    let response = http.get(worker.url(&older)).header("origin", &origin).send().await.expect("sent");
    expect_error(response, 400, ErrorCode::UnsupportedVersion, "a wire form this worker does not serve").await;
    let response = http.get(worker.url(&current)).header("origin", "https://evil.example").send().await.expect("sent");
    expect_error(response, 403, ErrorCode::OriginNotAllowed, "wire config from a foreign origin").await;

    let response = http.get(worker.url("/v1/sites/demo/config")).header("origin", "https://evil.example").send().await.expect("sent");
    expect_error(response, 403, ErrorCode::OriginNotAllowed, "config from a foreign origin").await;
    let response = http.get(worker.url("/v1/sites/Not_A_Site/config")).send().await.expect("sent");
    expect_error(response, 400, ErrorCode::InvalidSite, "malformed site id").await;

    // Preflights: allowed origin gets the CORS grant, others do not.
    let preflight = |origin: &str| {
        http.request(reqwest::Method::OPTIONS, worker.url("/v1/events?site=demo"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let response = preflight(&origin).await.expect("sent");
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(response.headers()["access-control-allow-origin"], origin.as_str());
    let response = preflight("https://evil.example").await.expect("sent");
    assert_eq!(response.status().as_u16(), 403);

    // The admin API needs the token, and validates configs with core before storing them.
    let response = http.get(worker.url("/v1/admin/sites/demo")).send().await.expect("sent");
    expect_error(response, 401, ErrorCode::Unauthorized, "admin without a token").await;
    let response = http.get(worker.url("/v1/admin/sites/demo")).bearer_auth("wrong-token-wrong-token").send().await.expect("sent");
    expect_error(response, 401, ErrorCode::Unauthorized, "admin with a wrong token").await;
    let put = |body: String| {
        http.put(worker.url("/v1/admin/sites/demo"))
            .bearer_auth(&worker.admin_token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let mut bad_colour = serde_json::to_value(&config).expect("config as JSON");
    bad_colour["widget"]["theme"]["brand_color"] = json!("red");
    let mut typo = serde_json::to_value(&config).expect("config as JSON");
    typo["widget"]["theme"]["brand_colour"] = json!("#000000");
    let mut other_site = config.clone();
    other_site.site = "other".into();
    for (case, body) in [
        ("bad colour", bad_colour.to_string()),
        ("misspelt field", typo.to_string()),
        ("site mismatch", serde_json::to_string(&other_site).expect("JSON")),
        ("garbage", "{{{".to_owned()),
    ] {
        expect_error(put(body).await.expect("sent"), 400, ErrorCode::InvalidConfig, case).await;
    }
    let stored: SiteConfig = http
        .get(worker.url("/v1/admin/sites/demo"))
        .bearer_auth(&worker.admin_token)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("config JSON");
    assert_eq!(stored, config, "refused updates left the stored config untouched");

    let response = http.get(worker.url("/v1/nothing-here")).send().await.expect("sent");
    expect_error(response, 404, ErrorCode::NotFound, "unknown API route").await;
}

/// Issue 11, item 10: the same origin twice, or an origin another site already has, is a clear
/// 4xx that changes nothing (it was a 503 "please retry" from the D1 insert).
#[tokio::test]
async fn a_config_listing_an_origin_twice_or_another_sites_origin_is_refused_and_changes_nothing() {
    let worker = Worker::start("api-origins").await;
    let config = worker.seed_demo_site(&[]).await;

    let mut twice = serde_json::to_value(&config).expect("config as JSON");
    twice["origins"].as_array_mut().expect("origins").push(json!(worker.origin()));
    let (status, body) = worker.admin_send(reqwest::Method::PUT, "/sites/demo", Some(twice)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_config")), "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains(&worker.origin())), "names the origin: {body}");

    let mut other = serde_json::to_value(&config).expect("config as JSON");
    other["site"] = json!("other");
    other["origins"] = json!(["https://other.example", worker.origin()]);
    let (status, body) = worker.admin_send(reqwest::Method::PUT, "/sites/other", Some(other)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("origin_taken")), "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("demo")), "names the owner: {body}");

    let (status, _) = worker.admin_send(reqwest::Method::GET, "/sites/other", None).await;
    assert_eq!(status, 404, "the refused site was not created");
    let stored: SiteConfig = worker.admin_get("/sites/demo").await;
    assert_eq!(stored, config, "the demo site is untouched");
}

/// Issue 11, item 10: `make demo` on its default port 8787 seeds the origins demo-site/site.json
/// already lists (`http://127.0.0.1:8787`, `http://localhost:8787`). The demo's own seeding, fed
/// the same duplicates on a free port, must succeed.
#[tokio::test]
async fn the_demo_seeding_accepts_origins_the_site_file_already_lists() {
    let worker = Worker::start("api-demo-seed").await;
    let listed = ["http://127.0.0.1:8787".to_owned(), "http://localhost:8787".to_owned()];
    let extra = [floorwalker_e2e::demo::extra_origins(worker.port), listed.to_vec(), vec![worker.origin()]].concat();
    let config = floorwalker_e2e::demo::seed(&worker, &extra).await.expect("the demo seeding succeeds");
    let stored: SiteConfig = worker.admin_get("/sites/demo").await;
    assert_eq!(stored, config);
    let mut unique = stored.origins.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), stored.origins.len(), "each origin once: {:?}", stored.origins);
    for origin in extra.iter().chain(&listed) {
        assert!(stored.origins.contains(origin), "{origin} is allowed");
    }
}

/// Issue 11, item 11: an event dated far in the future is refused, so it cannot sit on top of the
/// admin listing (newest first) and push real events out of it.
#[tokio::test]
async fn an_event_dated_far_in_the_future_is_refused_and_real_events_stay_listed() {
    let worker = Worker::start("api-future").await;
    worker.seed_demo_site(&[]).await;
    let post = |body: Value| {
        worker.http().post(worker.url("/v1/events")).header("content-type", "text/plain").header("origin", worker.origin()).body(body.to_string()).send()
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as u64;
    let mut future = page_view("evt-future-0001", "http://127.0.0.1/future");
    future["at"] = json!(now + 10 * 365 * 24 * 3600 * 1000);
    let response = post(batch("visitor-time-0001", json!([future]))).await.expect("sent");
    expect_error(response, 400, ErrorCode::InvalidEvent, "an event ten years ahead").await;
    // A visitor's clock a little fast is normal and accepted.
    let mut fast = page_view("evt-fast-00001", "http://127.0.0.1/fast");
    fast["at"] = json!(now + 60_000);
    let mut real = page_view("evt-real-00001", "http://127.0.0.1/real");
    real["at"] = json!(now);
    let response = post(batch("visitor-time-0001", json!([fast, real]))).await.expect("sent");
    assert_eq!(response.status().as_u16(), 202);
    let listed: Vec<floorwalker_core::visitor::event::StoredEvent> = worker.admin_get("/sites/demo/events?limit=2").await;
    let ids: Vec<&str> = listed.iter().map(|e| e.event.id.as_str()).collect();
    assert_eq!(ids, ["evt-fast-00001", "evt-real-00001"]);
}

/// Issue 11, item 10: a `make demo` that fails while seeding (here: an admin token the worker
/// refuses) exits non-zero and leaves no `wrangler dev` behind on its port.
#[tokio::test]
async fn a_demo_that_fails_while_seeding_stops_its_worker_and_exits_non_zero() {
    let port = floorwalker_e2e::free_port();
    let state_dir = floorwalker_e2e::demo::state_dir(port);
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_floorwalker-dev"))
            .env("PORT", port.to_string())
            .env("ADMIN_TOKEN", "too-short")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("running floorwalker-dev")
    })
    .await
    .expect("joined");
    let _ = std::fs::remove_dir_all(&state_dir);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the failed demo exits non-zero: {stderr}");
    assert!(stderr.contains("seeding the demo site failed"), "{stderr}");
    let port_flag = format!("--port\0{port}\0");
    let left: Vec<String> = std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|entry| std::fs::read(entry.ok()?.path().join("cmdline")).ok())
        .map(|cmdline| String::from_utf8_lossy(&cmdline).into_owned())
        .filter(|cmdline| cmdline.contains(&port_flag))
        .collect();
    assert!(left.is_empty(), "processes left on port {port}: {left:?}");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "nothing answers on port {port}");
}
