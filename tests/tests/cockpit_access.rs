//! Issue 12, "accounts and roles": who may reach the owner's routes, tried against the real
//! worker (`wrangler dev`, local D1). The matrix: an owner of one site on every owner route of
//! another (403), an operator's session on owner routes (403), expired and logged-out sessions
//! (401), state changes from an owner's cookie without the console's own Origin (403, CSRF), the
//! admin token (still everything); and the one-time links: used twice, expired, for another
//! site, withdrawn, for an existing account; a site keeps an enabled owner.

use std::time::Duration;

use floorwalker_core::access::auth::{issue_operator_session, OperatorSession, OPERATOR_SESSION_COOKIE};
use floorwalker_e2e::chat::{chat_worker, PASSWORD};
use floorwalker_e2e::worker::Worker;
use reqwest::Method;
use serde_json::{json, Value};

/// Site B, with an origin of its own (an origin belongs to one site).
const OTHER: &str = "http://other-shop.example";
const EVIL: &str = "http://evil.example";

async fn add_other_site(worker: &Worker) {
    let mut config = worker.demo_site_config(&[]);
    config.site = "other".into();
    config.origins = vec![OTHER.to_owned()];
    worker.put_site(&config).await;
}

/// How a request authenticates.
#[derive(Clone, Copy)]
enum As<'a> {
    Admin,
    Cookie(&'a str),
    Nobody,
}

/// Sends `method path` (a full path) with `who`'s credentials, the given Origin (if any) and JSON
/// body; the status and the JSON answer.
async fn call(worker: &Worker, method: Method, path: &str, who: As<'_>, origin: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let mut request = worker.http().request(method, worker.url(path));
    match who {
        As::Admin => request = request.bearer_auth(&worker.admin_token),
        As::Cookie(cookie) => request = request.header("cookie", cookie),
        As::Nobody => {}
    }
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("a request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The console's own calls: from its own origin, with the cookie.
async fn console(worker: &Worker, method: Method, path: &str, cookie: &str, body: Option<Value>) -> (u16, Value) {
    call(worker, method, path, As::Cookie(cookie), Some(&worker.origin()), body).await
}

/// A member through the admin API; returns the account id.
async fn add_member(worker: &Worker, site: &str, email: &str, name: &str, role: &str, password: Option<&str>) -> String {
    let mut body = json!({"email": email, "name": name, "role": role});
    if let Some(password) = password {
        body["password"] = json!(password);
    }
    let (status, member) = worker.admin_send(Method::POST, &format!("/sites/{site}/operators"), Some(body)).await;
    assert_eq!(status, 201, "{member}");
    member["id"].as_str().expect("an id").to_owned()
}

/// Logs in on `site`; the `Cookie` header value.
async fn login_on(worker: &Worker, email: &str, password: &str, site: &str) -> String {
    let response = worker
        .http()
        .post(worker.url("/v1/console/login"))
        .header("origin", worker.origin())
        .json(&json!({"email": email, "password": password, "site": site}))
        .send()
        .await
        .expect("logging in");
    assert_eq!(response.status().as_u16(), 200, "login of {email} on {site}");
    cookie_of(&response).expect("a session cookie")
}

fn cookie_of(response: &reqwest::Response) -> Option<String> {
    let set_cookie = response.headers().get("set-cookie")?.to_str().ok()?;
    set_cookie.split(';').next().filter(|c| !c.ends_with('=')).map(str::to_owned)
}

/// Every `(Method::X, ["sites", site, …])` route of the admin router, read from its source, so a
/// route added later is in the matrix without anyone remembering to add it here. `site` becomes
/// `site`, any other binding a well-formed id nobody has.
fn owner_routes(site: &str) -> Vec<(Method, String)> {
    let source = std::fs::read_to_string(floorwalker_e2e::repo_root().join("edge-worker/src/admin.rs")).expect("admin.rs");
    let mut routes = Vec::new();
    for piece in source.split("(Method::").skip(1) {
        let Some((method, rest)) = piece.split_once(", [") else { continue };
        let Some((pattern, _)) = rest.split_once("])") else { continue };
        let parts: Vec<&str> = pattern.split(',').map(str::trim).collect();
        if parts.first() != Some(&"\"sites\"") || parts.get(1) != Some(&"site") {
            continue;
        }
        let method = match method {
            "Get" => Method::GET,
            "Post" => Method::POST,
            "Put" => Method::PUT,
            "Delete" => Method::DELETE,
            "Patch" => Method::PATCH,
            other => panic!("a method the matrix does not know: {other}"),
        };
        let path: Vec<String> = parts
            .iter()
            .map(|part| match part.strip_prefix('"').and_then(|p| p.strip_suffix('"')) {
                Some(literal) => literal.to_owned(),
                None if *part == "site" => site.to_owned(),
                None => "op-0123456789abcdef".to_owned(),
            })
            .collect();
        routes.push((method, format!("/v1/admin/{}", path.join("/"))));
    }
    routes
}

/// The admin router's routes outside `sites/…`: the admin token's only.
const ADMIN_ONLY: [(&str, &str); 6] = [
    ("POST", "retention/run"),
    ("GET", "chat/outbox"),
    ("POST", "chat/store-check"),
    ("GET", "mailbox"),
    ("POST", "sweep"),
    ("POST", "funnel/run"),
];

/// A body every owner route parses, so a refusal is about who asks, not what was sent.
fn some_body() -> Value {
    json!({"email": "someone@other.example", "name": "Someone"})
}

/// The session cookie `cookie` re-signed (with the test deployment's session secret) to expire a
/// minute ago: what a browser would still send once the session has run out.
fn expired(worker: &Worker, cookie: &str) -> String {
    let token = cookie.strip_prefix(&format!("{OPERATOR_SESSION_COOKIE}=")).expect("the session cookie");
    let mut parts = token.split('.');
    let (session_id, operator_id) = (parts.next().expect("a session id"), parts.next().expect("an operator id"));
    let now = floorwalker_e2e::console::now_ms();
    let session = OperatorSession { session_id: session_id.to_owned(), operator_id: operator_id.to_owned(), expires_at: now - 60_000 };
    let secret = format!("{}-operator", worker.admin_token);
    format!("{OPERATOR_SESSION_COOKIE}={}", issue_operator_session(secret.as_bytes(), &session).expect("a token"))
}

/// A distinct client address per call of the link routes, so their per-address limit is not
/// what answers (it has its own test in core).
fn fresh_address() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    format!("198.18.0.{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

async fn link_call(worker: &Worker, what: &str, body: Value, origin: Option<&str>) -> (u16, Value, Option<String>) {
    let mut request = worker.http().post(worker.url(&format!("/v1/console/links/{what}"))).header("cf-connecting-ip", fresh_address()).json(&body);
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    let response = request.send().await.expect("a link call");
    let status = response.status().as_u16();
    let cookie = cookie_of(&response);
    (status, response.json().await.unwrap_or(Value::Null), cookie)
}

async fn accept(worker: &Worker, body: Value) -> (u16, Value, Option<String>) {
    link_call(worker, "accept", body, Some(&worker.origin())).await
}

async fn me(worker: &Worker, cookie: &str) -> (u16, Value) {
    call(worker, Method::GET, "/v1/console/me", As::Cookie(cookie), None, None).await
}

fn code(answer: &Value) -> &str {
    answer["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_owner_routes_answer_each_caller_as_the_matrix_says() {
    let worker = chat_worker("cockpit-matrix").await;
    add_other_site(&worker).await;
    add_member(&worker, "demo", "olga@demo.example", "Olga", "owner", Some(PASSWORD)).await;
    let boris = add_member(&worker, "other", "boris@other.example", "Boris", "owner", Some(PASSWORD)).await;
    add_member(&worker, "demo", "anna@demo.example", "Anna", "operator", Some(PASSWORD)).await;
    let olga = login_on(&worker, "olga@demo.example", PASSWORD, "demo").await;
    let anna = login_on(&worker, "anna@demo.example", PASSWORD, "demo").await;
    let other_members: Vec<Value> = worker.admin_get("/sites/other/operators").await;
    let other_config: Value = worker.admin_get("/sites/other").await;

    // The owner of demo on every owner route of other: 403 forbidden (not 404, not 401), with
    // the console's own origin so that it is the site that refuses, not the CSRF rule.
    let routes = owner_routes("other");
    assert!(routes.len() >= 30, "the admin router's site routes: {routes:?}");
    for wanted in ["invites", "reset-link", "operators", "api-keys", "endpoints", "leads"] {
        assert!(routes.iter().any(|(_, path)| path.contains(wanted)), "{wanted} is among {routes:?}");
    }
    for (method, path) in &routes {
        let (status, answer) = console(&worker, method.clone(), path, &olga, Some(some_body())).await;
        assert_eq!((status, code(&answer)), (403, "forbidden"), "owner of demo: {method} {path}: {answer}");
    }
    // ... and on the admin token's own routes.
    for (method, path) in ADMIN_ONLY {
        let method = Method::from_bytes(method.as_bytes()).expect("a method");
        let (status, answer) = console(&worker, method.clone(), &format!("/v1/admin/{path}"), &olga, None).await;
        assert_eq!((status, code(&answer)), (403, "forbidden"), "owner: {method} {path}: {answer}");
    }
    // Nothing of other's changed.
    assert_eq!(worker.admin_get::<Vec<Value>>("/sites/other/operators").await, other_members);
    assert_eq!(worker.admin_get::<Value>("/sites/other").await, other_config);
    assert!(worker.admin_get::<Vec<Value>>("/sites/other/invites").await.is_empty());

    // An operator's session on the owner routes, of its own site and of another: 403.
    for (method, path) in owner_routes("demo").iter().chain(&routes) {
        let (status, answer) = console(&worker, method.clone(), path, &anna, Some(some_body())).await;
        assert_eq!((status, code(&answer)), (403, "forbidden"), "operator: {method} {path}: {answer}");
    }
    assert_eq!(me(&worker, &anna).await.0, 200, "the operator's own console still works");

    // The owner on their own site: reads and, from the console's origin, changes.
    let (status, members) = console(&worker, Method::GET, "/v1/admin/sites/demo/operators", &olga, None).await;
    assert_eq!(status, 200, "{members}");
    let (status, invite) =
        console(&worker, Method::POST, "/v1/admin/sites/demo/invites", &olga, Some(json!({"email": "ivan@demo.example"}))).await;
    assert_eq!(status, 201, "{invite}");

    // CSRF: a state change riding the owner's cookie from another origin, or with no Origin at
    // all, is refused and changes nothing. A read needs no Origin (it changes nothing).
    for origin in [Some(EVIL), Some(OTHER), Some("null"), None] {
        for (method, path, body) in [
            (Method::POST, "/v1/admin/sites/demo/invites", Some(json!({"email": "mallory@evil.example"}))),
            (Method::POST, "/v1/admin/sites/demo/operators", Some(json!({"email": "mallory@evil.example", "name": "M", "password": PASSWORD}))),
            (Method::DELETE, "/v1/admin/sites/demo/operators/op-0123456789abcdef", None),
            (Method::PUT, "/v1/admin/sites/demo/retention", Some(json!({"events_days": 1}))),
        ] {
            let (status, answer) = call(&worker, method.clone(), path, As::Cookie(&olga), origin, body).await;
            assert_eq!((status, code(&answer)), (403, "origin_not_allowed"), "{origin:?} {method} {path}: {answer}");
        }
    }
    let invites: Vec<Value> = worker.admin_get("/sites/demo/invites").await;
    assert_eq!(invites.len(), 1, "only the console's own invitation: {invites:?}");
    assert_eq!(call(&worker, Method::GET, "/v1/admin/sites/demo/operators", As::Cookie(&olga), None, None).await.0, 200);

    // Expired: the same session's cookie, validly signed, but past its time.
    let stale = expired(&worker, &olga);
    for (method, path) in [(Method::GET, "/v1/admin/sites/demo/operators"), (Method::POST, "/v1/admin/sites/demo/invites")] {
        let (status, answer) = console(&worker, method.clone(), path, &stale, Some(json!({"email": "x@demo.example"}))).await;
        assert_eq!((status, code(&answer)), (401, "unauthorized"), "expired: {method} {path}: {answer}");
    }
    assert_eq!(me(&worker, &stale).await.0, 401);
    // A forged one (another secret) is no better.
    let forged = {
        let token = olga.rsplit_once('.').expect("a signature").0;
        format!("{token}.AAAA")
    };
    assert_eq!(console(&worker, Method::GET, "/v1/admin/sites/demo/operators", &forged, None).await.0, 401);

    // Logged out: the session is revoked server-side, so a copy of the cookie is worthless.
    let copy = olga.clone();
    let (status, _) = console(&worker, Method::POST, "/v1/console/logout", &olga, Some(json!({}))).await;
    assert_eq!(status, 200);
    for (method, path) in [(Method::GET, "/v1/admin/sites/demo/operators"), (Method::POST, "/v1/admin/sites/demo/invites")] {
        let (status, answer) = console(&worker, method.clone(), path, &copy, Some(json!({"email": "y@demo.example"}))).await;
        assert_eq!((status, code(&answer)), (401, "unauthorized"), "logged out: {method} {path}: {answer}");
    }
    // No credentials at all.
    let (status, answer) = call(&worker, Method::GET, "/v1/admin/sites/demo/operators", As::Nobody, None, None).await;
    assert_eq!((status, code(&answer)), (401, "unauthorized"), "{answer}");

    // The admin token still reaches every site, and its own routes.
    for site in ["demo", "other"] {
        let (status, answer) = call(&worker, Method::GET, &format!("/v1/admin/sites/{site}/operators"), As::Admin, None, None).await;
        assert_eq!(status, 200, "{answer}");
    }
    let (status, answer) =
        call(&worker, Method::POST, "/v1/admin/sites/other/invites", As::Admin, None, Some(json!({"email": "co@other.example", "role": "owner"}))).await;
    assert_eq!((status, answer["site"].as_str()), (201, Some("other")), "the admin may invite an owner: {answer}");
    assert_eq!(call(&worker, Method::POST, "/v1/admin/sweep", As::Admin, None, None).await.0, 200, "and its own routes");
    // A wrong bearer is 401 even with an owner's live cookie beside it (the bearer decides).
    let boris_cookie = login_on(&worker, "boris@other.example", PASSWORD, "other").await;
    let response = worker
        .http()
        .get(worker.url("/v1/admin/sites/other/operators"))
        .bearer_auth("not-the-token")
        .header("cookie", &boris_cookie)
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status().as_u16(), 401);
    let _ = boris;
}

#[tokio::test]
async fn invitation_links_work_once_before_they_expire_and_only_for_their_site() {
    let worker = chat_worker("cockpit-links").await;
    add_other_site(&worker).await;
    add_member(&worker, "demo", "olga@demo.example", "Olga", "owner", Some(PASSWORD)).await;
    add_member(&worker, "other", "boris@other.example", "Boris", "owner", Some(PASSWORD)).await;
    let olga = login_on(&worker, "olga@demo.example", PASSWORD, "demo").await;
    let boris = login_on(&worker, "boris@other.example", PASSWORD, "other").await;
    let invite = |cookie: &str, site: &str, body: Value| {
        let (cookie, path) = (cookie.to_owned(), format!("/v1/admin/sites/{site}/invites"));
        let worker = &worker;
        async move { console(worker, Method::POST, &path, &cookie, Some(body)).await }
    };

    // Bad requests are 4xx, not 5xx; owners invite operators, not owners.
    for (body, status, wanted) in [
        (json!({"email": "not an email"}), 400, "invalid_email"),
        (json!({"email": "x@demo.example", "role": "owner"}), 403, "forbidden"),
        (json!({"email": "x@demo.example", "site": "other"}), 400, "invalid_json"),
        (json!({"email": "x@demo.example", "expires_in_s": 0}), 400, "invalid_config"),
        (json!({"email": "olga@demo.example"}), 409, "account_exists"),
    ] {
        let (got, answer) = invite(&olga, "demo", body.clone()).await;
        assert_eq!((got, code(&answer)), (status, wanted), "{body}: {answer}");
    }

    // A new person: the link names the site, the role and the email; the token is only in the
    // fragment; the person sets a name and password and is signed in on that site.
    let (status, issued) = invite(&olga, "demo", json!({"email": "Ivan@Demo.Example"})).await;
    assert_eq!(status, 201, "{issued}");
    let token = issued["token"].as_str().expect("a token").to_owned();
    assert_eq!(issued["path"].as_str(), Some(format!("/console/#link={token}").as_str()));
    assert_eq!(issued["email"], "ivan@demo.example");
    let listed: Vec<Value> = console(&worker, Method::GET, "/v1/admin/sites/demo/invites", &olga, None).await.1.as_array().cloned().unwrap_or_default();
    assert_eq!(listed.len(), 1);
    assert!(!listed[0].to_string().contains(&token[4..]), "the list never shows the token: {listed:?}");

    let (status, found, _) = link_call(&worker, "lookup", json!({"token": token}), Some(&worker.origin())).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!((found["purpose"].as_str(), found["site"].as_str(), found["role"].as_str()), (Some("invite"), Some("demo"), Some("operator")));
    assert_eq!(found["account_exists"], false);
    assert_eq!(found["site_name"], "Кроха", "the invitation names the shop, not its id");
    // The link routes answer the console's own origin only, and only whole tokens.
    assert_eq!(link_call(&worker, "lookup", json!({"token": token}), Some(EVIL)).await.0, 403);
    assert_eq!(link_call(&worker, "lookup", json!({"token": token}), None).await.0, 403);
    assert_eq!(link_call(&worker, "lookup", json!({"token": &token[..20]}), Some(&worker.origin())).await.0, 400);
    let unknown = format!("fwl_{}", "0".repeat(48));
    assert_eq!(link_call(&worker, "lookup", json!({"token": unknown}), Some(&worker.origin())).await.0, 404);
    assert_eq!(link_call(&worker, "accept", json!({"token": token, "password": PASSWORD, "name": "Ivan"}), Some(EVIL)).await.0, 403);

    // An invite for demo cannot join other.
    let (status, answer, _) = accept(&worker, json!({"token": token, "password": PASSWORD, "name": "Ivan", "site": "other"})).await;
    assert_eq!((status, code(&answer)), (403, "forbidden"), "{answer}");
    // Bad input leaves the link usable.
    let (status, answer, _) = accept(&worker, json!({"token": token, "password": "short", "name": "Ivan"})).await;
    assert_eq!((status, code(&answer)), (400, "invalid_config"), "{answer}");
    let (status, answer, _) = accept(&worker, json!({"token": token, "password": PASSWORD})).await;
    assert_eq!(status, 400, "a new account needs a name: {answer}");

    let (status, signed_in, cookie) = accept(&worker, json!({"token": token, "password": PASSWORD, "name": " Ivan ", "site": "demo"})).await;
    assert_eq!(status, 200, "{signed_in}");
    assert_eq!((signed_in["site"].as_str(), signed_in["role"].as_str(), signed_in["name"].as_str()), (Some("demo"), Some("operator"), Some("Ivan")));
    let ivan = cookie.expect("a session cookie");
    assert_eq!(me(&worker, &ivan).await.0, 200);
    assert_eq!(
        console(&worker, Method::GET, "/v1/admin/sites/demo/operators", &ivan, None).await.0,
        403,
        "an invited operator is not an owner"
    );
    let other_members: Vec<Value> = worker.admin_get("/sites/other/operators").await;
    assert!(other_members.iter().all(|m| m["email"] != "ivan@demo.example"), "{other_members:?}");

    // Used twice: refused, whoever tries, and no second account or session.
    let (status, answer, cookie) = accept(&worker, json!({"token": token, "password": "another long password", "name": "Mallory"})).await;
    assert_eq!((status, code(&answer), cookie), (410, "token_expired", None), "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap_or_default().contains("used"), "{answer}");
    assert_eq!(link_call(&worker, "lookup", json!({"token": token}), Some(&worker.origin())).await.0, 410);
    let members: Vec<Value> = worker.admin_get("/sites/demo/operators").await;
    assert_eq!(members.iter().filter(|m| m["email"] == "ivan@demo.example").count(), 1);
    assert!(members.iter().all(|m| m["name"] != "Mallory"));
    let invites: Vec<Value> = worker.admin_get("/sites/demo/invites").await;
    assert!(invites[0]["used_at"].is_u64(), "{invites:?}");

    // Expired: an invitation that lasts a second (a test deployment may ask for that).
    let (status, short) = invite(&olga, "demo", json!({"email": "late@demo.example", "expires_in_s": 1})).await;
    assert_eq!(status, 201, "{short}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, answer, cookie) = accept(&worker, json!({"token": short["token"], "password": PASSWORD, "name": "Late"})).await;
    assert_eq!((status, code(&answer), cookie), (410, "token_expired", None), "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap_or_default().contains("expired"), "{answer}");

    // Withdrawn, by its own site's owner only; a new invitation to the same email withdraws the
    // older one.
    let (_, first) = invite(&olga, "demo", json!({"email": "petr@demo.example"})).await;
    let (_, second) = invite(&olga, "demo", json!({"email": "petr@demo.example"})).await;
    let (status, answer, _) = accept(&worker, json!({"token": first["token"], "password": PASSWORD, "name": "Petr"})).await;
    assert_eq!((status, code(&answer)), (410, "token_expired"), "the older link: {answer}");
    let second_id = second["id"].as_str().expect("an id");
    let (status, _) = console(&worker, Method::DELETE, &format!("/v1/admin/sites/other/invites/{second_id}"), &olga, None).await;
    assert_eq!(status, 403, "demo's owner on other's invitations");
    let (status, _) = console(&worker, Method::DELETE, &format!("/v1/admin/sites/other/invites/{second_id}"), &boris, None).await;
    assert_eq!(status, 404, "other's owner does not see demo's invitation");
    let (status, _) = console(&worker, Method::DELETE, &format!("/v1/admin/sites/demo/invites/{second_id}"), &olga, None).await;
    assert_eq!(status, 200);
    let (status, answer, _) = accept(&worker, json!({"token": second["token"], "password": PASSWORD, "name": "Petr"})).await;
    assert_eq!((status, code(&answer)), (410, "token_expired"), "withdrawn: {answer}");
    assert!(answer["error"]["message"].as_str().unwrap_or_default().contains("withdrawn"), "{answer}");

    // The same email on two sites: Boris (owner of other) is invited to demo as an operator and
    // joins with the password he has; a wrong one is refused and leaves the link unused.
    let (_, for_boris) = invite(&olga, "demo", json!({"email": "boris@other.example"})).await;
    let (_, found, _) = link_call(&worker, "lookup", json!({"token": for_boris["token"]}), Some(&worker.origin())).await;
    assert_eq!(found["account_exists"], true, "{found}");
    let (status, answer, _) = accept(&worker, json!({"token": for_boris["token"], "password": "not his password"})).await;
    assert_eq!((status, code(&answer)), (401, "unauthorized"), "{answer}");
    let (status, signed_in, cookie) = accept(&worker, json!({"token": for_boris["token"], "password": PASSWORD})).await;
    assert_eq!(status, 200, "{signed_in}");
    assert_eq!((signed_in["site"].as_str(), signed_in["role"].as_str()), (Some("demo"), Some("operator")));
    assert_eq!(signed_in["sites"], json!(["demo", "other"]));
    assert_eq!(signed_in["name"], "Boris", "an existing account keeps its name");
    assert_eq!(me(&worker, &cookie.expect("a cookie")).await.0, 200);
    assert_eq!(me(&worker, &boris).await.0, 200, "his owner session on other goes on");
    // His password is his own: demo's owner cannot issue him a reset link (he works on other too).
    let boris_id = signed_in["id"].as_str().expect("an id").to_owned();
    let (status, answer) = console(&worker, Method::POST, &format!("/v1/admin/sites/demo/operators/{boris_id}/reset-link"), &olga, None).await;
    assert_eq!((status, code(&answer)), (403, "forbidden"), "{answer}");
}

#[tokio::test]
async fn reset_links_and_the_last_owner() {
    let worker = chat_worker("cockpit-reset").await;
    let olga_id = add_member(&worker, "demo", "olga@demo.example", "Olga", "owner", Some(PASSWORD)).await;
    let anna_id = add_member(&worker, "demo", "anna@demo.example", "Anna", "operator", Some(PASSWORD)).await;
    let olga = login_on(&worker, "olga@demo.example", PASSWORD, "demo").await;
    let anna = login_on(&worker, "anna@demo.example", PASSWORD, "demo").await;

    // A reset link changes nothing until used; used, it sets Anna's password, ends her other
    // sessions, signs her in; used again, it is refused.
    let (status, link) = console(&worker, Method::POST, &format!("/v1/admin/sites/demo/operators/{anna_id}/reset-link"), &olga, None).await;
    assert_eq!((status, link["purpose"].as_str()), (201, Some("reset")), "{link}");
    assert_eq!(me(&worker, &anna).await.0, 200, "issuing a link ends nothing");
    let (_, found, _) = link_call(&worker, "lookup", json!({"token": link["token"]}), Some(&worker.origin())).await;
    assert_eq!((found["purpose"].as_str(), found["email"].as_str()), (Some("reset"), Some("anna@demo.example")), "{found}");
    let (status, answer, _) = accept(&worker, json!({"token": link["token"], "password": "short"})).await;
    assert_eq!(status, 400, "{answer}");
    let (status, signed_in, cookie) = accept(&worker, json!({"token": link["token"], "password": "a brand new password"})).await;
    assert_eq!((status, signed_in["id"].as_str()), (200, Some(anna_id.as_str())), "{signed_in}");
    assert_eq!(me(&worker, &anna).await.0, 401, "the old session ended");
    assert_eq!(me(&worker, &cookie.expect("a cookie")).await.0, 200);
    login_on(&worker, "anna@demo.example", "a brand new password", "demo").await;
    let (status, ..) = accept(&worker, json!({"token": link["token"], "password": "yet another password"})).await;
    assert_eq!(status, 410);
    // The CSRF rule holds for the reset link too.
    let (status, answer) = call(
        &worker,
        Method::POST,
        &format!("/v1/admin/sites/demo/operators/{anna_id}/reset-link"),
        As::Cookie(&olga),
        Some(EVIL),
        None,
    )
    .await;
    assert_eq!((status, code(&answer)), (403, "origin_not_allowed"));

    // The last enabled owner can neither disable nor remove themselves (nor be, by the admin).
    for (method, path) in [(Method::POST, format!("/v1/admin/sites/demo/operators/{olga_id}/disable")), (Method::DELETE, format!("/v1/admin/sites/demo/operators/{olga_id}"))] {
        let (status, answer) = console(&worker, method.clone(), &path, &olga, None).await;
        assert_eq!((status, code(&answer)), (403, "forbidden"), "{method} {path}: {answer}");
        assert!(answer["error"]["message"].as_str().unwrap_or_default().contains("owner"), "{answer}");
        let (status, _) = call(&worker, method.clone(), &path, As::Admin, None, None).await;
        assert_eq!(status, 403, "admin: {method} {path}");
    }
    assert_eq!(me(&worker, &olga).await.0, 200, "still signed in");
    // With a second owner (added with the admin token), she may step back.
    add_member(&worker, "demo", "oleg@demo.example", "Oleg", "owner", Some(PASSWORD)).await;
    let (status, answer) = console(&worker, Method::POST, &format!("/v1/admin/sites/demo/operators/{olga_id}/disable"), &olga, None).await;
    assert_eq!((status, answer["disabled_at"].is_u64()), (200, true), "{answer}");
    assert_eq!(me(&worker, &olga).await.0, 401, "and her session ends with it");
    // Operators are always free to go.
    let (status, _) = call(&worker, Method::DELETE, &format!("/v1/admin/sites/demo/operators/{anna_id}"), As::Admin, None, None).await;
    assert_eq!(status, 200);
}
