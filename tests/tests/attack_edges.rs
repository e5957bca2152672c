//! Issue 11 at the worker's public edge, tried as a stranger with curl would: CORS answered only to
//! the site's origins (errors included) and varied by Origin (item 15), refused origins recorded
//! for the owner and bounded under a flood (item 12), forged moments in a chat start refused
//! without breaking the chat (item 9), and rate limits on every public route (item 13).

use floorwalker_core::prompts::sightings::{OriginReport, MAX_REFUSED_PER_SITE};
use floorwalker_e2e::chat::{chat_worker, post_json, visitor_session, ChatSocket, SHOP};
use floorwalker_e2e::console::now_ms;
use floorwalker_e2e::{eventually, within_one_window};
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

async fn within_one_minute(needed_s: u64) {
    within_one_window(60, needed_s).await;
}

/// Sends `count` requests built by `make` (given the request's number), 16 at a time; their
/// statuses, and the first 429. A request refused a connection is sent again (it never reached
/// the worker).
async fn flood<F>(count: usize, make: F) -> (Vec<u16>, Option<Response>)
where
    F: Fn(usize) -> reqwest::RequestBuilder,
{
    use futures_util::stream::{self, StreamExt};
    let make = &make;
    let responses: Vec<Response> = stream::iter(0..count)
        .map(|n| async move {
            let mut attempt = 0;
            loop {
                match make(n).send().await {
                    Ok(response) => break response,
                    Err(error) if attempt < 3 && error.is_connect() => {
                        attempt += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(error) => panic!("request {n}: {error}"),
                }
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let statuses = responses.iter().map(|r| r.status().as_u16()).collect();
    let refused = responses.into_iter().find(|r| r.status().as_u16() == 429);
    (statuses, refused)
}

fn tally(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|&&s| s == status).count()
}

/// `Retry-After` in whole seconds, within the minute window.
fn retry_after(response: &Response) -> u64 {
    let value = header(response, "retry-after").and_then(|v| v.parse::<u64>().ok()).expect("Retry-After in seconds");
    assert!((1..=60).contains(&value), "Retry-After {value}");
    value
}

/// A request from the client at `ip`, on a connection of its own: workerd closes a keep-alive
/// connection whose body it answered without reading (a 401 or 429 before the body), and a request
/// sent again after such a race would be counted twice by the limiter.
fn from(worker: &Worker, method: reqwest::Method, path: &str, ip: &str) -> reqwest::RequestBuilder {
    static UNPOOLED: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let client = UNPOOLED.get_or_init(|| reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("an HTTP client"));
    client.request(method, worker.url(path)).header("cf-connecting-ip", ip)
}

/// Item 13: a flood on a public route from one client gets 429 with `Retry-After` at its limit
/// (exactly: fixed windows count every request), readable by the site's page; the worker keeps
/// answering other clients and visitors. IPv6 clients are one client per /64.
#[tokio::test]
async fn floods_on_public_routes_get_429_with_retry_after_and_others_are_served() {
    use floorwalker_core::access::public_limits::PublicRoute;
    let worker = &chat_worker("edges-floods").await;
    let max = |limit: floorwalker_core::access::throttle::Limit| limit.max as usize;

    // Events: one visitor's batches, beyond its limit. The refused batches store nothing.
    let per_visitor = max(PublicRoute::Events.per_visitor().expect("a visitor limit"));
    within_one_minute(30).await;
    let (statuses, refused) = flood(per_visitor + 5, |n| {
        let mut body = batch("visitor-flood-01");
        body["events"][0]["id"] = json!(format!("evt-flood-{n:05}"));
        from(worker, reqwest::Method::POST, "/v1/events", "203.0.113.7").header("origin", SHOP).body(body.to_string())
    })
    .await;
    assert_eq!((tally(&statuses, 202), tally(&statuses, 429)), (per_visitor, 5), "events: {statuses:?}");
    let refused = refused.expect("a 429");
    retry_after(&refused);
    assert_eq!(header(&refused, "access-control-allow-origin"), Some(SHOP), "the shop's page reads the refusal");
    assert_eq!(header(&refused, "access-control-expose-headers"), Some("retry-after"));
    let stored: Vec<Value> = worker.admin_get("/sites/demo/events?visitor=visitor-flood-01&limit=500").await;
    assert_eq!(stored.len(), per_visitor, "refused batches store nothing");
    let other_visitor = from(worker, reqwest::Method::POST, "/v1/events", "203.0.113.7").header("origin", SHOP).body(batch("visitor-flood-02").to_string());
    assert_eq!(other_visitor.send().await.expect("sent").status().as_u16(), 202, "another visitor behind the same address");
    // From a foreign page: refused (and recorded) up to the limit, then 429, unreadable by it.
    within_one_minute(30).await;
    let (statuses, refused) = flood(per_visitor + 5, |n| {
        let mut body = batch("visitor-flood-03");
        body["events"][0]["id"] = json!(format!("evt-evil-{n:05}"));
        from(worker, reqwest::Method::POST, "/v1/events", "203.0.113.8").header("origin", EVIL).body(body.to_string())
    })
    .await;
    assert_eq!((tally(&statuses, 403), tally(&statuses, 429)), (per_visitor, 5), "events from {EVIL}: {statuses:?}");
    assert_eq!(cors_of(&refused.expect("a 429")).1, None);

    // The public config: one client (two addresses of one IPv6 /64), beyond its limit.
    let per_client = max(PublicRoute::Config.per_client());
    within_one_minute(40).await;
    let (statuses, refused) = flood(per_client + 3, |n| {
        let ip = if n % 2 == 0 { "2001:db8:1:2::1" } else { "2001:db8:1:2:ffff:ffff:ffff:ffff" };
        let origin = if n % 3 == 0 { EVIL } else { SHOP };
        from(worker, reqwest::Method::GET, "/v1/sites/demo/config", ip).header("origin", origin)
    })
    .await;
    assert_eq!(tally(&statuses, 429), 3, "config: {statuses:?}");
    retry_after(&refused.expect("a 429"));
    let neighbour = from(worker, reqwest::Method::GET, "/v1/sites/demo/config", "2001:db8:1:3::1").header("origin", SHOP).send().await.expect("sent");
    assert_eq!(neighbour.status().as_u16(), 200, "the next /64 is another client");
    let evil_refused = from(worker, reqwest::Method::GET, "/v1/sites/demo/config", "2001:db8:1:2::9").header("origin", EVIL).send().await.expect("sent");
    assert_eq!(cors_of(&evil_refused), (429, None, Some("Origin".to_owned())), "a 429 is no more readable by a foreign origin");

    // Chat starts: one client with many visitors, beyond its limit.
    let per_client = max(PublicRoute::ChatStart.per_client());
    let mut tokens = Vec::new();
    for n in 0..=per_client {
        let response = from(worker, reqwest::Method::POST, "/v1/chat/session", &format!("198.51.100.{}", 1 + n % 4))
            .header("origin", SHOP)
            .body(json!({"site": "demo", "visitor": format!("visitor-start-{n:04}")}).to_string())
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status().as_u16(), 200);
        tokens.push(response.json::<Value>().await.expect("JSON")["token"].as_str().expect("token").to_owned());
    }
    within_one_minute(30).await;
    let tokens = &tokens;
    let (statuses, refused) = flood(per_client + 1, |n| {
        from(worker, reqwest::Method::POST, "/v1/chat/conversations", "198.51.100.200").header("origin", SHOP).body(json!({"token": tokens[n]}).to_string())
    })
    .await;
    assert_eq!((tally(&statuses, 201), tally(&statuses, 429)), (per_client, 1), "chat starts: {statuses:?}");
    retry_after(&refused.expect("a 429"));
    let visitor = visitor_session(worker, SHOP, "visitor-start-elsewhere").await;
    let (status, body) = post_json(worker, "/v1/chat/conversations", Some(SHOP), &json!({"token": visitor.token})).await;
    assert_eq!(status, 201, "another client starts a chat: {body}");

    // A chat session: one visitor asking for tokens over and over.
    let per_visitor = max(PublicRoute::ChatSession.per_visitor().expect("a visitor limit"));
    within_one_minute(20).await;
    let (statuses, refused) = flood(per_visitor + 1, |_| {
        from(worker, reqwest::Method::POST, "/v1/chat/session", "192.0.2.10").header("origin", SHOP).body(json!({"site": "demo", "visitor": "visitor-tokens-01"}).to_string())
    })
    .await;
    assert_eq!(tally(&statuses, 429), 1, "chat sessions: {statuses:?}");
    retry_after(&refused.expect("a 429"));

    // Consent links: a guesser gets pages, then a 429 page with Retry-After.
    let per_client = max(PublicRoute::Consent.per_client());
    within_one_window(PublicRoute::Consent.per_client().window_s.into(), 30).await;
    let (statuses, refused) = flood(per_client + 2, |n| {
        from(worker, reqwest::Method::GET, &format!("/v1/consent/guess{n}"), "192.0.2.20")
    })
    .await;
    assert_eq!((tally(&statuses, 429), statuses.iter().filter(|&&s| s >= 500).count()), (2, 0), "consent: {statuses:?}");
    let refused = refused.expect("a 429");
    assert!(header(&refused, "retry-after").and_then(|v| v.parse::<u64>().ok()).is_some_and(|s| s >= 1));
    assert!(header(&refused, "content-type").is_some_and(|c| c.starts_with("text/html")), "a page for a person");

    // The CRM's endpoint: a key guesser.
    let per_client = max(PublicRoute::CrmMessages.per_client());
    within_one_minute(40).await;
    let (statuses, refused) = flood(per_client + 1, |n| {
        from(worker, reqwest::Method::POST, "/v1/conversations/cguess/messages", "192.0.2.30")
            .bearer_auth(format!("fwk_guess{n}"))
            .body(json!({"text": "hi", "client_msg_id": format!("m-{n:06}")}).to_string())
            
    })
    .await;
    assert_eq!((tally(&statuses, 401), tally(&statuses, 429)), (per_client, 1), "CRM messages: {statuses:?}");
    retry_after(&refused.expect("a 429"));

    // Preflights.
    let per_client = max(PublicRoute::Preflight.per_client());
    within_one_minute(30).await;
    let (statuses, refused) = flood(per_client + 1, |_| {
        from(worker, reqwest::Method::OPTIONS, "/v1/events?site=demo", "192.0.2.40")
            .header("origin", SHOP)
            .header("access-control-request-method", "POST")
            
    })
    .await;
    assert_eq!((tally(&statuses, 204), tally(&statuses, 429)), (per_client, 1), "preflights: {statuses:?}");
    retry_after(&refused.expect("a 429"));

    // Through all of it the worker answers everyone else.
    let (status, body) = post_json(worker, "/v1/chat/session", Some(SHOP), &json!({"site": "demo", "visitor": "visitor-after-0001"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(post_text(worker, "/v1/events", Some(SHOP), batch("visitor-after-0001").to_string()).await.status().as_u16(), 202);
}

/// Item 13: one visitor's socket reconnecting in a loop, and its callback form posted over and
/// over, are limited per visitor; the visitor's next minute works again for the socket.
#[tokio::test]
async fn a_visitors_socket_and_callback_floods_are_limited() {
    use floorwalker_core::access::public_limits::PublicRoute;
    use floorwalker_e2e::chat::{connect, start_conversation, ws_url};
    let worker = chat_worker("edges-socket-flood").await;
    let visitor = visitor_session(&worker, SHOP, "visitor-sock-000001").await;
    let conv = start_conversation(&worker, SHOP, &visitor.token).await;

    let per_visitor = PublicRoute::ChatSocket.per_visitor().expect("a visitor limit").max as usize;
    within_one_minute(40).await;
    let url = ws_url(&worker, &format!("/v1/chat/conversations/{conv}/ws?token={}", visitor.token));
    let mut opened = 0;
    let mut refused = None;
    for _ in 0..=per_visitor {
        match connect(&url, Some(SHOP), None).await {
            Ok(mut ws) => {
                opened += 1;
                let _ = futures_util::SinkExt::close(&mut ws).await;
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                refused = Some((response.status().as_u16(), response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned)))
            }
            Err(other) => panic!("socket: {other}"),
        }
    }
    assert_eq!(opened, per_visitor);
    let (status, retry) = refused.expect("the socket over the limit is refused");
    assert_eq!(status, 429);
    assert!(retry.and_then(|v| v.parse::<u64>().ok()).is_some_and(|s| (1..=60).contains(&s)));

    let per_visitor = PublicRoute::Callback.per_visitor().expect("a visitor limit").max as usize;
    let path = format!("/v1/chat/conversations/{conv}/callback");
    within_one_window(PublicRoute::Callback.per_visitor().expect("a visitor limit").window_s.into(), 20).await;
    let mut statuses = Vec::new();
    for n in 0..=per_visitor {
        let (status, _) = post_json(&worker, &path, Some(SHOP), &json!({"token": visitor.token, "email": format!("me{n}@example.com")})).await;
        statuses.push(status);
    }
    assert_eq!(tally(&statuses, 429), 1, "callbacks: {statuses:?}");
    assert_eq!(tally(&statuses, 200), per_visitor, "callbacks: {statuses:?}");
}
