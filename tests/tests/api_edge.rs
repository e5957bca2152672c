//! The worker's HTTP edge against bad input: every mistake gets a 4xx with a machine code and a
//! message, nothing partial is stored, and nothing is a 5xx.

use floorwalker_core::base::error::{ErrorBody, ErrorCode};
use floorwalker_core::prompts::config::SiteConfig;
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
