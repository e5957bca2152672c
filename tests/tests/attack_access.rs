//! Issue 11, items 5-8, tried as an attacker would against the real worker (`wrangler dev`):
//! CRM presets naming the worker's own secrets, a callback aimed at another site's conversation,
//! login timing and guessing, and revocation (logout, disabled / removed / re-passworded
//! members, API keys) reaching live sockets; and one email working on two sites.

use std::time::{Duration, Instant};

use floorwalker_core::access::accounts::{LOGIN_PER_CLIENT, LOGIN_PER_EMAIL, SESSION_ENDED_CLOSE_CODE};
use floorwalker_core::chat::hub::HubNotification;
use floorwalker_e2e::chat::*;
use floorwalker_e2e::within_one_window;
use floorwalker_e2e::worker::Worker;
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

/// A second site, with an origin of its own (an origin belongs to one site).
const OTHER: &str = "http://other-shop.example";

async fn add_other_site(worker: &Worker) {
    let mut config = worker.demo_site_config(&[]);
    config.site = "other".into();
    config.origins = vec![OTHER.to_owned()];
    worker.put_site(&config).await;
}

async fn session_on(worker: &Worker, site: &str, origin: &str, visitor: &str) -> String {
    let (status, body) = post_json(worker, "/v1/chat/session", Some(origin), &json!({"site": site, "visitor": visitor})).await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().expect("a token").to_owned()
}

/// `POST /v1/console/login` as a script would send it; the status, the body and the cookie.
async fn try_login(worker: &Worker, body: Value, client_ip: Option<&str>) -> (u16, Value, Option<String>, Option<String>) {
    let mut request = worker.http().post(worker.url("/v1/console/login")).header("origin", worker.origin()).json(&body);
    if let Some(ip) = client_ip {
        request = request.header("cf-connecting-ip", ip);
    }
    let response = request.send().await.expect("POST login");
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let cookie = header("set-cookie").and_then(|c| c.split(';').next().map(str::to_owned)).filter(|c| !c.ends_with('='));
    let retry_after = header("retry-after");
    (status, response.json().await.unwrap_or(Value::Null), cookie, retry_after)
}

async fn me_status(worker: &Worker, cookie: &str) -> u16 {
    worker.http().get(worker.url("/v1/console/me")).header("cookie", cookie).send().await.expect("GET me").status().as_u16()
}

/// Reads the console socket until the server closes it; the close code (10 s at most). New
/// conversations it hears meanwhile are returned too: there must be none after a revocation.
async fn closed_by_server(socket: &mut ConsoleSocket, what: &str) -> (Option<u16>, Vec<String>) {
    close_of(&mut socket.ws, what).await
}

/// Reads a socket (console or conversation) until the server closes it: the close code and the
/// conversations it heard of meanwhile.
async fn close_of(ws: &mut Ws, what: &str) -> (Option<u16>, Vec<String>) {
    let mut heard = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let message = tokio::time::timeout(left, ws.next()).await.unwrap_or_else(|_| panic!("{what}: the socket stayed open"));
        match message {
            Some(Ok(Message::Close(frame))) => return (frame.map(|f| u16::from(f.code)), heard),
            Some(Ok(Message::Text(text))) => {
                if let Ok(
                    HubNotification::ConversationOpened { entry }
                    | HubNotification::ConversationUpdated { entry }
                    | HubNotification::CallbackRequested { entry },
                ) = serde_json::from_str::<HubNotification>(text.as_str())
                {
                    heard.push(entry.conversation_id);
                }
            }
            Some(Ok(_)) => {}
            None | Some(Err(_)) => return (None, heard),
        }
    }
}

async fn hub_socket(worker: &Worker, cookie: &str) -> ConsoleSocket {
    let mut socket = ConsoleSocket::open(worker, cookie).await;
    socket.until("the snapshot", |n| matches!(n, HubNotification::Snapshot { .. }).then_some(())).await;
    socket
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

// ---- Item 5: CRM credentials only from CRM_ secrets ----

#[tokio::test]
async fn crm_presets_cannot_name_the_workers_own_secrets() {
    let worker = chat_worker("access-crm-secrets").await;
    for (preset, url) in [
        (json!({"kind": "amocrm", "token_secret": "LINK_SECRET"}), "https://shop.amocrm.ru"),
        (json!({"kind": "amocrm", "token_secret": "ADMIN_TOKEN"}), "https://shop.amocrm.ru"),
        (json!({"kind": "telegram", "chat_id": "123", "bot_token_secret": "OPERATOR_SESSION_SECRET"}), ""),
        (json!({"kind": "telegram", "chat_id": "123", "bot_token_secret": "VISITOR_TOKEN_SECRET"}), ""),
        (json!({"kind": "telegram", "chat_id": "123", "bot_token_secret": "RESEND_API_KEY"}), ""),
    ] {
        let body = json!({"id": "crm", "url": url, "preset": preset});
        let (status, answer) = worker.admin_send(Method::POST, "/sites/demo/endpoints", Some(body)).await;
        assert_eq!((status, answer["error"]["code"].as_str()), (400, Some("invalid_config")), "{preset}: {answer}");
        assert!(answer["error"]["message"].as_str().unwrap_or_default().contains("CRM_"), "{answer}");
    }
    let body = json!({"id": "amo", "url": "https://shop.amocrm.ru", "preset": {"kind": "amocrm", "token_secret": "CRM_AMO_TOKEN_SHOP"}});
    let (status, answer) = worker.admin_send(Method::POST, "/sites/demo/endpoints", Some(body)).await;
    assert_eq!(status, 201, "a CRM_ name is accepted: {answer}");
}

/// The other half of the rule: the worker never reads a `CRM_` name for itself, so that prefix
/// can only ever reach a CRM.
#[test]
fn the_worker_reads_no_crm_prefixed_secret_for_itself() {
    let root = floorwalker_e2e::repo_root().join("edge-worker/src");
    let mut stack = vec![root];
    let mut checked = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("reading edge-worker/src") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a source file");
                for call in ["secret(env, \"CRM_", "key(env, \"CRM_", "var(env, \"CRM_", "env.secret(\"CRM_", "env.var(\"CRM_"] {
                    assert!(!text.contains(call), "{} reads a CRM_ secret for the worker itself", path.display());
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "found only {checked} worker sources");
}

// ---- Item 6: callbacks are checked before anything is written ----

#[tokio::test]
async fn a_callback_aimed_at_another_sites_conversation_leaves_no_row() {
    let worker = chat_worker("access-callback").await;
    add_other_site(&worker).await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let (status, answer) = worker
        .admin_send(Method::POST, "/sites/other/operators", Some(json!({"email": "olga@other.example", "name": "Olga", "password": PASSWORD})))
        .await;
    assert_eq!(status, 201, "{answer}");
    let victim = visitor_session(&worker, SHOP, "visitor-victim-0001").await;
    let conversation = start_conversation(&worker, SHOP, &victim.token).await;
    let attacker = session_on(&worker, "other", OTHER, "visitor-attacker-01").await;

    let aim = |id: &str| format!("/v1/chat/conversations/{id}/callback");
    let scam = json!({"token": attacker, "phone": "+7 912 000-00-00", "time_slot": "call now: your order is blocked"});
    let (status, body) = post_json(&worker, &aim(&conversation), Some(OTHER), &scam).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");
    let (status, _) = post_json(&worker, &aim("cmadeup000000000001"), Some(OTHER), &scam).await;
    assert_eq!(status, 404, "an id nobody started");

    // Neither site's operators see anything of it: not in the queue, not on the conversation.
    let anna = login(&worker, "anna@demo.example", PASSWORD).await;
    let olga = login(&worker, "olga@other.example", PASSWORD).await;
    for cookie in [&anna, &olga] {
        let queue: Vec<Value> =
            worker.http().get(worker.url("/v1/console/callbacks")).header("cookie", cookie).send().await.expect("GET").json().await.expect("JSON");
        assert!(queue.is_empty(), "{queue:?}");
    }
    let details: Value = worker
        .http()
        .get(worker.url(&format!("/v1/console/conversations/{conversation}")))
        .header("cookie", &anna)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    assert!(details["callback"].is_null(), "the attacker's contact reached the victim's operators: {}", details["callback"]);

    // The conversation's own visitor still can.
    let (status, body) = post_json(&worker, &aim(&conversation), Some(SHOP), &json!({"token": victim.token, "email": "me@example.com"})).await;
    assert_eq!(status, 200, "{body}");
    let queue: Vec<Value> =
        worker.http().get(worker.url("/v1/console/callbacks")).header("cookie", &anna).send().await.expect("GET").json().await.expect("JSON");
    assert_eq!(queue.len(), 1, "{queue:?}");
}

// ---- Item 7: login costs the same for unknown emails, and guessing is throttled ----

#[tokio::test]
async fn login_takes_as_long_for_an_unknown_email_as_for_a_known_one() {
    let worker = chat_worker("access-login-timing").await;
    let known: Vec<String> = (0..3).map(|i| format!("known{i}@demo.example")).collect();
    for email in &known {
        create_operator(&worker, email, "Known", PASSWORD).await;
    }
    // Warm up (the first requests pay for compiling and D1 opening).
    try_login(&worker, json!({"email": "warm@demo.example", "password": "wrong password"}), Some("198.51.100.1")).await;
    let (mut known_times, mut unknown_times) = (Vec::new(), Vec::new());
    // Interleaved, so load on the machine hits both alike; each from its own address and email
    // so no limit is reached.
    for round in 0..9 {
        let ip = format!("198.51.100.{}", 10 + round);
        let started = Instant::now();
        let (status, ..) = try_login(&worker, json!({"email": known[round % 3], "password": "wrong password"}), Some(&ip)).await;
        known_times.push(started.elapsed());
        assert_eq!(status, 401);
        let started = Instant::now();
        let (status, ..) = try_login(&worker, json!({"email": format!("nobody{round}@demo.example"), "password": "wrong password"}), Some(&ip)).await;
        unknown_times.push(started.elapsed());
        assert_eq!(status, 401);
    }
    let (known, unknown) = (median(known_times), median(unknown_times));
    eprintln!("login medians: known email {known:?}, unknown email {unknown:?}");
    let ratio = unknown.as_secs_f64() / known.as_secs_f64();
    assert!((0.67..=1.5).contains(&ratio), "unknown {unknown:?} vs known {known:?} (ratio {ratio:.2}): the answer tells them apart");
}

#[tokio::test]
async fn guessing_passwords_is_refused_with_429_per_email_and_per_client() {
    let worker = chat_worker("access-login-throttle").await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    // Both floods below must land within one window of their counters.
    within_one_window(u64::from(LOGIN_PER_EMAIL.window_s.max(LOGIN_PER_CLIENT.window_s)), 150).await;
    // Per email: wrong passwords from ever-new addresses still run out.
    for attempt in 0..LOGIN_PER_EMAIL.max {
        let ip = format!("203.0.113.{}", 1 + attempt);
        let (status, ..) = try_login(&worker, json!({"email": "anna@demo.example", "password": format!("guess {attempt}")}), Some(&ip)).await;
        assert_eq!(status, 401, "attempt {attempt}");
    }
    let (status, body, cookie, retry_after) =
        try_login(&worker, json!({"email": "Anna@demo.example", "password": PASSWORD}), Some("203.0.113.200")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (429, Some("rate_limited")), "even the right password waits: {body}");
    assert!(cookie.is_none());
    let retry_after: u64 = retry_after.expect("Retry-After").parse().expect("seconds");
    assert!((1..=u64::from(LOGIN_PER_EMAIL.window_s)).contains(&retry_after), "{retry_after}");

    // Per client: one address sweeping through emails.
    for attempt in 0..LOGIN_PER_CLIENT.max {
        let (status, ..) = try_login(&worker, json!({"email": format!("sweep{attempt}@demo.example"), "password": "password1"}), Some("192.0.2.7")).await;
        assert_eq!(status, 401, "attempt {attempt}");
    }
    let (status, _, _, retry_after) = try_login(&worker, json!({"email": "sweep-last@demo.example", "password": "password1"}), Some("192.0.2.7")).await;
    assert_eq!(status, 429);
    assert!(retry_after.is_some());
    // Another address is counted apart.
    let (status, ..) = try_login(&worker, json!({"email": "boris@demo.example", "password": "password1"}), Some("192.0.2.8")).await;
    assert_eq!(status, 401, "another address is not throttled");
}

// ---- Item 8: revocation reaches live sockets ----

#[tokio::test]
async fn logout_closes_that_sessions_live_sockets_and_no_new_conversation_reaches_them() {
    let worker = chat_worker("access-logout").await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let visitor = visitor_session(&worker, SHOP, "visitor-logout-0001").await;
    let conversation = start_conversation(&worker, SHOP, &visitor.token).await;
    let laptop = login(&worker, "anna@demo.example", PASSWORD).await;
    let phone = login(&worker, "anna@demo.example", PASSWORD).await;
    let mut laptop_hub = hub_socket(&worker, &laptop).await;
    let mut phone_hub = hub_socket(&worker, &phone).await;
    let mut laptop_chat = ChatSocket::operator(&worker, &conversation, &laptop).await;
    laptop_chat.hello(0).await;

    let response = worker.http().post(worker.url("/v1/console/logout")).header("origin", worker.origin()).header("cookie", &laptop).send().await.expect("logout");
    assert_eq!(response.status().as_u16(), 200);
    let (code, heard) = closed_by_server(&mut laptop_hub, "the logged-out console").await;
    assert_eq!(code, Some(SESSION_ENDED_CLOSE_CODE));
    assert!(heard.is_empty(), "{heard:?}");
    assert_eq!(close_of(&mut laptop_chat.ws, "the conversation socket").await.0, Some(SESSION_ENDED_CLOSE_CODE));
    assert_eq!(me_status(&worker, &laptop).await, 401);

    // A new conversation reaches the session still logged in, not the one that logged out.
    let newcomer = visitor_session(&worker, SHOP, "visitor-logout-0002").await;
    let new_conversation = start_conversation(&worker, SHOP, &newcomer.token).await;
    let mut newcomer_socket = ChatSocket::visitor(&worker, SHOP, &new_conversation, &newcomer.token).await;
    newcomer_socket.hello(0).await;
    newcomer_socket.say("new-msg-0001", "hello?").await;
    phone_hub
        .until("the new conversation on the phone", |n| match n {
            HubNotification::ConversationOpened { entry } | HubNotification::ConversationUpdated { entry }
                if entry.conversation_id == new_conversation =>
            {
                Some(())
            }
            _ => None,
        })
        .await;
    assert_eq!(me_status(&worker, &phone).await, 200);
}

#[tokio::test]
async fn disabling_removing_and_resetting_a_member_end_their_sessions_at_once() {
    let worker = chat_worker("access-members").await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let members: Vec<Value> = worker.admin_get("/sites/demo/operators").await;
    assert_eq!(members.len(), 1, "{members:?}");
    let anna = members[0]["id"].as_str().expect("an id").to_owned();
    assert_eq!((members[0]["email"].as_str(), members[0]["role"].as_str()), (Some("anna@demo.example"), Some("operator")));
    assert!(members[0].get("password_hash").is_none(), "{members:?}");

    // Disable: the live console closes, the cookie stops working, login is refused.
    let cookie = login(&worker, "anna@demo.example", PASSWORD).await;
    let mut socket = hub_socket(&worker, &cookie).await;
    let (status, member) = worker.admin_send(Method::POST, &format!("/sites/demo/operators/{anna}/disable"), None).await;
    assert_eq!(status, 200, "{member}");
    assert!(member["disabled_at"].is_u64() && member["active_sessions"] == 0, "{member}");
    assert_eq!(closed_by_server(&mut socket, "a disabled operator's console").await.0, Some(SESSION_ENDED_CLOSE_CODE));
    assert_eq!(me_status(&worker, &cookie).await, 401);
    assert_eq!(try_login(&worker, json!({"email": "anna@demo.example", "password": PASSWORD}), None).await.0, 401);
    let (status, _) = worker.admin_send(Method::POST, &format!("/sites/demo/operators/{anna}/enable"), None).await;
    assert_eq!(status, 200);
    assert_eq!(me_status(&worker, &cookie).await, 401, "enabling again does not bring old sessions back");

    // A new password: every session ends, the old password is refused.
    let cookie = login(&worker, "anna@demo.example", PASSWORD).await;
    let mut socket = hub_socket(&worker, &cookie).await;
    let (status, answer) =
        worker.admin_send(Method::PUT, &format!("/sites/demo/operators/{anna}/password"), Some(json!({"password": "short"}))).await;
    assert_eq!(status, 400, "{answer}");
    let (status, answer) =
        worker.admin_send(Method::PUT, &format!("/sites/demo/operators/{anna}/password"), Some(json!({"password": "a brand new password"}))).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(closed_by_server(&mut socket, "the console after a new password").await.0, Some(SESSION_ENDED_CLOSE_CODE));
    assert_eq!(me_status(&worker, &cookie).await, 401);
    assert_eq!(try_login(&worker, json!({"email": "anna@demo.example", "password": PASSWORD}), None).await.0, 401);
    let cookie = login(&worker, "anna@demo.example", "a brand new password").await;

    // Removed: gone from the list, sessions and sockets ended, the account gone with its last site.
    let mut socket = hub_socket(&worker, &cookie).await;
    let (status, answer) = worker.admin_send(Method::DELETE, &format!("/sites/demo/operators/{anna}"), None).await;
    assert_eq!((status, answer["account_deleted"].as_bool()), (200, Some(true)), "{answer}");
    assert_eq!(closed_by_server(&mut socket, "a removed operator's console").await.0, Some(SESSION_ENDED_CLOSE_CODE));
    assert_eq!(me_status(&worker, &cookie).await, 401);
    assert_eq!(try_login(&worker, json!({"email": "anna@demo.example", "password": "a brand new password"}), None).await.0, 401);
    assert!(worker.admin_get::<Vec<Value>>("/sites/demo/operators").await.is_empty());

    // Strangers: no admin token, unknown ids, another site's path.
    let stranger = worker.http().get(worker.url("/v1/admin/sites/demo/operators")).send().await.expect("GET");
    assert_eq!(stranger.status().as_u16(), 401);
    for (method, path) in [
        (Method::POST, format!("/sites/demo/operators/{anna}/disable")),
        (Method::DELETE, "/sites/demo/operators/op-nobody".to_owned()),
        (Method::PUT, "/sites/demo/operators/op-nobody/password".to_owned()),
    ] {
        let (status, answer) = worker.admin_send(method, &path, Some(json!({"password": "long enough password"}))).await;
        assert_eq!(status, 404, "{path}: {answer}");
    }
}

#[tokio::test]
async fn a_revoked_api_key_is_refused() {
    let worker = chat_worker("access-api-keys").await;
    let visitor = visitor_session(&worker, SHOP, "visitor-apikey-0001").await;
    let conversation = start_conversation(&worker, SHOP, &visitor.token).await;
    let (status, created) = worker.admin_send(Method::POST, "/sites/demo/api-keys", Some(json!({"name": "Bitrix"}))).await;
    assert_eq!(status, 201, "{created}");
    let (id, key) = (created["id"].as_str().expect("id").to_owned(), created["key"].as_str().expect("key").to_owned());
    let keys: Vec<Value> = worker.admin_get("/sites/demo/api-keys").await;
    assert_eq!(keys.len(), 1);
    assert!(keys[0].get("key").is_none() && keys[0]["revoked_at"].is_null(), "{keys:?}");

    let post = |n: u32| {
        worker
            .http()
            .post(worker.url(&format!("/v1/conversations/{conversation}/messages")))
            .bearer_auth(&key)
            .json(&json!({"text": "Hello from the CRM", "client_msg_id": format!("crm-msg-{n:04}")}))
            .send()
    };
    assert_eq!(post(1).await.expect("POST").status().as_u16(), 201);
    add_other_site(&worker).await;
    let (status, _) = worker.admin_send(Method::DELETE, &format!("/sites/other/api-keys/{id}"), None).await;
    assert_eq!(status, 404, "another site's path cannot revoke it");
    assert_eq!(post(2).await.expect("POST").status().as_u16(), 201);
    let (status, revoked) = worker.admin_send(Method::DELETE, &format!("/sites/demo/api-keys/{id}"), None).await;
    assert_eq!(status, 200, "{revoked}");
    assert!(revoked["revoked_at"].is_u64(), "{revoked}");
    assert_eq!(post(3).await.expect("POST").status().as_u16(), 401);
    let keys: Vec<Value> = worker.admin_get("/sites/demo/api-keys").await;
    assert!(keys[0]["revoked_at"].is_u64(), "{keys:?}");
}

#[tokio::test]
async fn one_email_works_on_two_sites_and_each_site_controls_its_own_access() {
    let worker = chat_worker("access-two-sites").await;
    add_other_site(&worker).await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let join = |password: Option<&str>| {
        let mut body = json!({"email": "ANNA@demo.example", "name": "Anna"});
        if let Some(password) = password {
            body["password"] = json!(password);
        }
        worker.admin_send(Method::POST, "/sites/other/operators", Some(body))
    };
    let (status, answer) = join(Some("somebody else's choice")).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (409, Some("account_exists")), "{answer}");
    let (status, member) = join(None).await;
    assert_eq!(status, 201, "{member}");
    let demo_members: Vec<Value> = worker.admin_get("/sites/demo/operators").await;
    assert_eq!(member["id"], demo_members[0]["id"], "one account, two memberships");
    assert_eq!(join(None).await.0, 409, "a member once");

    let (status, on_other, other_cookie, _) =
        try_login(&worker, json!({"email": "anna@demo.example", "password": PASSWORD, "site": "other"}), None).await;
    assert_eq!(status, 200, "{on_other}");
    assert_eq!(on_other["site"], "other");
    assert_eq!(on_other["sites"], json!(["demo", "other"]));
    let other_cookie = other_cookie.expect("a cookie");
    let (status, on_demo, demo_cookie, _) = try_login(&worker, json!({"email": "anna@demo.example", "password": PASSWORD}), None).await;
    assert_eq!((status, on_demo["site"].as_str()), (200, Some("demo")), "{on_demo}");
    let demo_cookie = demo_cookie.expect("a cookie");
    let (status, ..) = try_login(&worker, json!({"email": "anna@demo.example", "password": PASSWORD, "site": "elsewhere"}), None).await;
    assert_eq!(status, 401, "not a member there");

    // Each session sees its own site's conversations only.
    let visitor = session_on(&worker, "other", OTHER, "visitor-other-0001").await;
    let (status, started) = post_json(&worker, "/v1/chat/conversations", Some(OTHER), &json!({"token": visitor})).await;
    assert_eq!(status, 201, "{started}");
    let other_conversation = started["conversation_id"].as_str().expect("an id").to_owned();
    let url = worker.url(&format!("/v1/console/conversations/{other_conversation}"));
    let read = |cookie: String| {
        let request = worker.http().get(&url).header("cookie", cookie);
        async move { request.send().await.expect("GET").status().as_u16() }
    };
    assert_eq!(read(other_cookie.clone()).await, 200);
    assert_eq!(read(demo_cookie.clone()).await, 404);

    // Switching site from the demo session: that session ends, a new one works on the other site.
    let switched = worker
        .http()
        .post(worker.url("/v1/console/site"))
        .header("origin", worker.origin())
        .header("cookie", &demo_cookie)
        .json(&json!({"site": "other"}))
        .send()
        .await
        .expect("switch");
    assert_eq!(switched.status().as_u16(), 200);
    let switched_cookie = switched.headers()["set-cookie"].to_str().expect("ASCII").split(';').next().expect("a cookie").to_owned();
    assert_eq!(me_status(&worker, &demo_cookie).await, 401);
    assert_eq!(read(switched_cookie).await, 200);

    // The demo site disables Anna: her work on the other site goes on.
    let anna = member["id"].as_str().expect("an id");
    let demo_session = login(&worker, "anna@demo.example", PASSWORD).await;
    let (status, _) = worker.admin_send(Method::POST, &format!("/sites/demo/operators/{anna}/disable"), None).await;
    assert_eq!(status, 200);
    assert_eq!(me_status(&worker, &demo_session).await, 401);
    assert_eq!(me_status(&worker, &other_cookie).await, 200);
    let (status, on_other_only, ..) = try_login(&worker, json!({"email": "anna@demo.example", "password": PASSWORD}), None).await;
    assert_eq!((status, on_other_only["site"].as_str()), (200, Some("other")), "{on_other_only}");
    // Removing her from the demo site keeps the account: the other site still has her.
    let (status, answer) = worker.admin_send(Method::DELETE, &format!("/sites/demo/operators/{anna}"), None).await;
    assert_eq!((status, answer["account_deleted"].as_bool()), (200, Some(false)), "{answer}");
    assert_eq!(me_status(&worker, &other_cookie).await, 200);
}

// ---- The docs' curl examples, word for word ----

/// Every ```sh block of docs/accounts-and-access.md, in order, in one shell against a real worker.
#[tokio::test]
async fn the_access_docs_curl_examples_run_as_written() {
    let worker = Worker::start("access-docs").await;
    let mut shop = worker.demo_site_config(&[]);
    shop.site = "shop".into();
    shop.origins = vec!["https://shop.example".into()];
    worker.put_site(&shop).await;
    let doc = std::fs::read_to_string(floorwalker_e2e::repo_root().join("docs/accounts-and-access.md")).expect("the doc");
    let mut script = String::from("set -euo pipefail\n");
    let mut blocks = 0;
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "```sh" {
            blocks += 1;
            for line in lines.by_ref().take_while(|l| l.trim() != "```") {
                script.push_str(line);
                script.push('\n');
            }
        }
    }
    assert!(blocks >= 1 && script.matches("curl ").count() >= 10, "found {blocks} sh blocks:\n{script}");
    // From the repository root, where the doc's `make owner`/`make operator` lines run.
    let output = tokio::process::Command::new("bash")
        .current_dir(floorwalker_e2e::repo_root())
        .arg("-c")
        .arg(&script)
        .env("EDGE", worker.origin())
        .env("ADMIN_TOKEN", &worker.admin_token)
        .output()
        .await
        .expect("running bash");
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the docs' examples failed:\n{script}\nstdout: {stdout}\nstderr: {stderr}");
    // They did what the doc says.
    let members: Vec<Value> = worker.admin_get("/sites/shop/operators").await;
    let mut roles: Vec<(&str, &str)> =
        members.iter().map(|m| (m["email"].as_str().unwrap_or_default(), m["role"].as_str().unwrap_or_default())).collect();
    roles.sort();
    assert_eq!(
        roles,
        [("boris@shop.example", "operator"), ("owner@shop.example", "owner"), ("pavel@shop.example", "owner")],
        "Anna was removed; the owner and those `make` added stay: {members:?}"
    );
    let keys: Vec<Value> = worker.admin_get("/sites/shop/api-keys").await;
    assert!(keys.len() == 1 && keys[0]["revoked_at"].is_u64(), "{keys:?}");
}
