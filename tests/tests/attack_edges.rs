//! Issue 11 at the worker's public edge, tried as a stranger with curl would: CORS answered only to
//! the site's origins (errors included) and varied by Origin (item 15), refused origins recorded
//! for the owner and bounded under a flood (item 12), forged moments in a chat start refused
//! without breaking the chat (item 9), and rate limits on every public route (item 13).

use floorwalker_core::prompts::sightings::{OriginReport, MAX_REFUSED_PER_SITE};
use floorwalker_e2e::chat::{chat_worker, post_json, visitor_session, ChatSocket, SHOP};
use floorwalker_e2e::console::now_ms;
use floorwalker_e2e::eventually;
use floorwalker_e2e::worker::Worker;
use reqwest::Response;
use serde_json::{json, Value};
use std::time::Duration;

const EVIL: &str = "https://evil.example";

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The CORS grant and `Vary` of an answer, for one assertion with the case in its message.
fn cors_of(response: &Response) -> (u16, Option<String>, Option<String>) {
    (response.status().as_u16(), header(response, "access-control-allow-origin").map(str::to_owned), header(response, "vary").map(str::to_owned))
}

fn batch(visitor: &str) -> Value {
    json!({"v": 1, "site": "demo", "visitor": visitor, "session": "session-0001",
        "events": [{"id": format!("evt-{visitor}"), "at": now_ms(), "type": "page_view", "url": "http://shop.example/", "title": "Кроха"}]})
}

async fn post_text(worker: &Worker, path: &str, origin: Option<&str>, body: String) -> Response {
    let mut request = worker.http().post(worker.url(path)).header("content-type", "text/plain;charset=UTF-8").body(body);
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.expect("request sent")
}

async fn get(worker: &Worker, path: &str, origin: Option<&str>) -> Response {
    let mut request = worker.http().get(worker.url(path));
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.expect("request sent")
}

/// Item 15: an origin the site does not list reads nothing, not even an error; the site's own
/// origin reads answers and errors; every answer says it varies by Origin, the cached public
/// config first of all.
#[tokio::test]
async fn cors_answers_only_listed_origins_errors_included_and_varies_by_origin() {
    let worker = chat_worker("edges-cors").await;
    let vary = Some("Origin".to_owned());

    let refused = [
        ("config", get(&worker, "/v1/sites/demo/config", Some(EVIL)).await, 403),
        ("presence", get(&worker, "/v1/sites/demo/presence", Some(EVIL)).await, 403),
        ("events", post_text(&worker, "/v1/events", Some(EVIL), batch("visitor-evil-01").to_string()).await, 403),
        ("events, garbage body", post_text(&worker, "/v1/events", Some(EVIL), "{nope".into()).await, 400),
        ("events, unknown site", post_text(&worker, "/v1/events", Some(EVIL), batch("visitor-evil-02").to_string().replace("\"demo\"", "\"nosuchshop\"")).await, 404),
        ("chat session", post_text(&worker, "/v1/chat/session", Some(EVIL), json!({"site": "demo", "visitor": "visitor-evil-03"}).to_string()).await, 403),
        ("chat start, bad token", post_text(&worker, "/v1/chat/conversations", Some(EVIL), json!({"token": "forged"}).to_string()).await, 401),
        ("lead, garbage", post_text(&worker, "/v1/leads", Some(EVIL), "[]".into()).await, 400),
        ("no such route", get(&worker, "/v1/nothing-here", Some(EVIL)).await, 404),
        ("admin without a token", get(&worker, "/v1/admin/sites/demo", Some(EVIL)).await, 401),
    ];
    for (case, response, status) in refused {
        assert_eq!(cors_of(&response), (status, None, vary.clone()), "{case} from {EVIL}");
    }
    let preflight = worker
        .http()
        .request(reqwest::Method::OPTIONS, worker.url("/v1/events?site=demo"))
        .header("origin", EVIL)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("preflight");
    assert_eq!(cors_of(&preflight), (403, None, vary.clone()), "preflight from {EVIL}");

    // The site's own origin reads its answers and its errors.
    let shop = Some(SHOP.to_owned());
    let readable = [
        ("config", get(&worker, "/v1/sites/demo/config", Some(SHOP)).await, 200),
        ("events", post_text(&worker, "/v1/events", Some(SHOP), batch("visitor-shop-01").to_string()).await, 202),
        ("events, garbage body", post_text(&worker, "/v1/events", Some(SHOP), "{nope".into()).await, 400),
        ("chat session", post_text(&worker, "/v1/chat/session", Some(SHOP), json!({"site": "demo", "visitor": "visitor-shop-02"}).to_string()).await, 200),
        ("chat start, bad token", post_text(&worker, "/v1/chat/conversations", Some(SHOP), json!({"token": "forged"}).to_string()).await, 401),
    ];
    for (case, response, status) in readable {
        assert_eq!(cors_of(&response), (status, shop.clone(), vary.clone()), "{case} from {SHOP}");
    }

    // Without an Origin (a crawler, a cache filling itself) the cacheable config still varies.
    let config = get(&worker, "/v1/sites/demo/config", None).await;
    assert_eq!(cors_of(&config), (200, None, vary.clone()), "config without an Origin");
    assert!(header(&config, "cache-control").is_some_and(|c| c.starts_with("public")), "the config is cacheable");
}

async fn origins(worker: &Worker) -> OriginReport {
    worker.admin_get("/sites/demo/origins").await
}

/// Item 12: the owner can see where the tag sits on a page the site does not list (the config,
/// events and chat asked from there) and where it loaded; a flood of made-up origins keeps the
/// list at its bound and does not push out the origin that keeps coming back.
#[tokio::test]
async fn refused_origins_are_listed_for_the_owner_and_stay_bounded_under_a_flood() {
    let worker = chat_worker("edges-origins").await;
    let unlisted = "https://www.shop.example";
    let before = now_ms();
    for _ in 0..3 {
        assert_eq!(get(&worker, "/v1/sites/demo/config", Some(unlisted)).await.status().as_u16(), 403);
    }
    assert_eq!(post_text(&worker, "/v1/events", Some(unlisted), batch("visitor-www-01").to_string()).await.status().as_u16(), 403);
    let (status, _) = post_json(&worker, "/v1/chat/session", Some(unlisted), &json!({"site": "demo", "visitor": "visitor-www-02"})).await;
    assert_eq!(status, 403);
    // What no page sends is not an origin to report.
    for junk in ["null", "https://shop.example/path", "javascript:alert(1)"] {
        assert_eq!(get(&worker, "/v1/sites/demo/config", Some(junk)).await.status().as_u16(), 403, "{junk}");
    }
    // The widget loading on the site's own origin is recorded (after the answer).
    assert_eq!(get(&worker, "/v1/sites/demo/config", Some(SHOP)).await.status().as_u16(), 200);

    let report = eventually("the load on the shop's origin", Duration::from_secs(10), || async {
        let report = origins(&worker).await;
        (!report.loaded.is_empty()).then_some(report)
    })
    .await;
    assert_eq!(report.refused.len(), 1, "{report:?}");
    let sighting = &report.refused[0];
    assert_eq!((sighting.origin.as_str(), sighting.count), (unlisted, 5), "{report:?}");
    assert!(sighting.first_seen_at >= before && sighting.last_seen_at >= sighting.first_seen_at, "{report:?}");
    assert_eq!(report.loaded.iter().map(|s| s.origin.as_str()).collect::<Vec<_>>(), vec![SHOP], "{report:?}");

    // A flood of distinct made-up origins: the list stays at its bound, the real one stays in it.
    for n in 0..(2 * MAX_REFUSED_PER_SITE) {
        let origin = format!("https://flood-{n}.evil.example");
        assert_eq!(get(&worker, "/v1/sites/demo/config", Some(&origin)).await.status().as_u16(), 403);
    }
    let report = origins(&worker).await;
    assert_eq!(report.refused.len(), MAX_REFUSED_PER_SITE as usize, "{report:?}");
    assert!(report.refused.iter().any(|s| s.origin == unlisted && s.count == 5), "{report:?}");
    assert!(report.refused.iter().any(|s| s.origin == format!("https://flood-{}.evil.example", 2 * MAX_REFUSED_PER_SITE - 1)), "the newest is kept");

    // Another site's sightings are its own; an unknown site has none to show.
    let (status, _) = worker.admin_send(reqwest::Method::GET, "/sites/nosuchshop/origins", None).await;
    assert_eq!(status, 404);
}

/// Item 9: forged moments in a chat start's context (beyond 2^53, before 2020, days ahead) are a
/// 400 naming the field, never a 5xx, and leave nothing behind: the next good start opens a
/// conversation whose socket works.
#[tokio::test]
async fn forged_moments_in_a_chat_start_are_refused_and_the_next_start_works() {
    let worker = chat_worker("edges-moments").await;
    let visitor = visitor_session(&worker, SHOP, "visitor-time-000001").await;
    let context = |first_touch_at: u64, last_viewed_at: u64| {
        json!({
            "first_touch": {"landing_page": "http://shop.example/", "at": first_touch_at},
            "products": [{"product": {"id": "p1", "name": "Nordika"}, "views": 1, "last_viewed_at": last_viewed_at}],
            "pages_viewed": 1, "active_seconds": 5, "returning": false, "locale": "en", "page_url": "http://shop.example/",
        })
    };
    let now = now_ms();
    let day = 24 * 3600 * 1000;
    for (case, first_touch_at, last_viewed_at, field) in [
        ("2^53 + 1", (1u64 << 53) + 1, now, "first_touch.at"),
        ("u64::MAX", now, u64::MAX, "products[0].last_viewed_at"),
        ("before 2020", 1_500_000_000_000, now, "first_touch.at"),
        ("seconds for milliseconds", now, now / 1000, "products[0].last_viewed_at"),
        ("two days ahead", now + 2 * day, now, "first_touch.at"),
    ] {
        let (status, body) =
            post_json(&worker, "/v1/chat/conversations", Some(SHOP), &json!({"token": visitor.token, "context": context(first_touch_at, last_viewed_at)}))
                .await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_context")), "{case}: {body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains(field)), "{case} names {field}: {body}");
    }
    assert_eq!(visitor_session(&worker, SHOP, "visitor-time-000001").await.conversation_id, None, "nothing was stored");

    let (status, body) =
        post_json(&worker, "/v1/chat/conversations", Some(SHOP), &json!({"token": visitor.token, "context": context(now - day, now)})).await;
    assert_eq!((status, body["created"].as_bool()), (201, Some(true)), "{body}");
    let conv = body["conversation_id"].as_str().expect("a conversation id").to_owned();
    let mut socket = ChatSocket::visitor(&worker, SHOP, &conv, &visitor.token).await;
    assert_eq!(socket.hello(0).await.conversation_id, conv);
}
