//! The owner's cockpit, "CRM" and "Leads" screens, end to end: the real worker under `wrangler
//! dev`, the built console in headless Chromium logged in as the site's owner, the harness's
//! receiver verifying every signature with its own verifier.
//!
//! Screens are saved under `target/screens/crm/` (desktop and 360 px, English and Russian) to be
//! looked at; each is checked with axe-core (0 violations).

use std::time::Duration;

use fantoccini::Locator;
use floorwalker_core::leads::lead::{Lead, LeadKind};
use floorwalker_core::outbound::lead_log::CSV_COLUMNS;
use floorwalker_e2e::browser::Browser;
use floorwalker_e2e::chat::{chat_worker, create_operator, login, PASSWORD, SHOP};
use floorwalker_e2e::console::{js, Console};
use floorwalker_e2e::receiver::{Receiver, Reply};
use floorwalker_e2e::worker::{random_token, Worker};
use floorwalker_e2e::{demo, eventually, free_port, leads, repo_root};
use serde_json::{json, Value};

const OWNER: &str = "owner@demo.example";
const OPERATOR: &str = "anna@demo.example";
const IMG: &str = "<img src=x onerror=\"window.__pwned='img'\">";
/// WebDriver's Enter key.
const ENTER: &str = "\u{e007}";
const FORMULA: &str = "=HYPERLINK(\"http://evil.example\",\"click\")";

async fn create_owner(worker: &Worker) {
    let (status, answer) = worker
        .admin_send(reqwest::Method::POST, "/sites/demo/operators", Some(json!({"email": OWNER, "name": "Olga", "password": PASSWORD, "role": "owner"})))
        .await;
    assert_eq!(status, 201, "{answer}");
}

/// The console in a browser of its own (desktop or a 360 px phone), logged in as the owner, in
/// `lang`, on the section `hash`.
async fn owner_console(worker: &Worker, mobile: bool, lang: &str, hash: &str) -> Console {
    let browser = if mobile { Browser::start_mobile().await } else { Browser::start().await };
    browser.client.goto(&worker.url("/console/")).await.expect("opening /console");
    browser.eval(&format!("localStorage.setItem('floorwalker-console-lang', {});", js(lang)), vec![]).await;
    // The language is read when the console starts.
    browser.client.refresh().await.expect("reload");
    let console = Console { browser };
    console.login(OWNER, PASSWORD).await;
    go(&console, hash).await;
    console
}

async fn go(console: &Console, hash: &str) {
    console.click(&format!("[data-test=nav-{hash}]")).await;
    console.wait(&format!("the {hash} screen"), &format!("return !!document.querySelector('[data-test=screen-{hash}]');")).await;
}

/// Saves the whole page as `target/screens/crm/<name>.png` and checks it with axe-core.
async fn look(console: &Console, name: &str) {
    // Let the last fetch land and the layout settle.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let dir = repo_root().join("target/screens/crm");
    std::fs::create_dir_all(&dir).expect("screens folder");
    std::fs::write(dir.join(format!("{name}.png")), console.browser.screenshot_full_page().await).expect("saving a screenshot");
    assert_eq!(console.browser.axe_violations(&[]).await, json!([]), "axe-core on {name}");
}

fn lead_request(kind: LeadKind, visitor: &str, name: &str, source: &str, prompt: &str) -> String {
    let mut request = leads::request(kind, visitor, visitor, SHOP);
    request.contact.name = Some(name.to_owned());
    request.prompt = Some(prompt.to_owned());
    if let Some(touch) = request.context.first_touch.as_mut() {
        touch.utm_source = Some(source.to_owned());
    }
    serde_json::to_string(&request).expect("a lead request")
}

async fn post_lead(worker: &Worker, body: &str) -> String {
    let response = leads::post(worker, SHOP, body).await;
    let status = response.status().as_u16();
    let answer: Value = response.json().await.expect("a JSON receipt");
    assert_eq!(status, 201, "{answer}");
    answer["id"].as_str().expect("a lead id").to_owned()
}

/// A cookie-session request as the console makes it (same origin).
async fn as_session(worker: &Worker, cookie: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, String) {
    let mut request = worker.http().request(method, worker.url(path)).header("cookie", cookie).header("origin", worker.origin());
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("a session request");
    (response.status().as_u16(), response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn an_owner_connects_an_endpoint_sees_its_secret_once_tests_it_and_replays_a_failure() {
    let worker = chat_worker("cockpit-crm-endpoints").await;
    worker.allow_private_endpoints().await;
    create_owner(&worker).await;
    create_operator(&worker, OPERATOR, "Anna", PASSWORD).await;
    let receiver = Receiver::start();
    let console = owner_console(&worker, false, "en", "crm").await;
    console.wait_text("[data-test=endpoint-list]", "No endpoints yet").await;
    assert_eq!(console.text("[data-test=local-receiver]").await, None, "a worker without DEMO_CRM_RECEIVER offers none");

    // Adding a generic endpoint, by keyboard: type into each field, Tab on, Enter submits.
    console.type_into("[data-test=field-id]", "crm").await;
    console.type_into("[data-test=field-url]", &receiver.url("/hooks/crm")).await;
    console.click("[data-test='event-lead.created']").await;
    let url_field = console.browser.client.find(Locator::Css("[data-test=field-url]")).await.expect("the url field");
    url_field.send_keys(ENTER).await.expect("Enter submits the form");
    console.wait("the secret, shown once", "return document.querySelector('[data-test=secret-once] [data-test=secret]')?.textContent || null;").await;
    let secret = console.text("[data-test=secret]").await.expect("the secret");
    assert!(secret.starts_with("whsec_"), "{secret}");
    receiver.set_secrets(vec![secret.clone()]);
    console.wait_text("[data-test=endpoint][data-id=crm]", &receiver.url("/hooks/crm")).await;
    look(&console, "crm-secret-desktop-en").await;
    // The copy button reports what happened (headless Chromium may refuse the clipboard).
    console.click("[data-test=copy-secret]").await;
    console.wait("the copy status", "return document.querySelector('[data-test=copy-status]').textContent.length > 0;").await;
    // Never again: not in the list, not after a reload.
    let listed: Value = worker.admin_get("/sites/demo/endpoints").await;
    assert!(!listed.to_string().contains(&secret) && !listed.to_string().contains("whsec_"), "{listed}");
    console.click("[data-test=hide-secret]").await;
    assert_eq!(console.text("[data-test=secret]").await, None);
    console.browser.client.refresh().await.expect("reload");
    console.wait_text("[data-test=endpoint][data-id=crm]", "crm").await;
    assert_eq!(console.text("[data-test=secret]").await, None);

    // A test event: signed, verified by the receiver, 200 and the latency on screen.
    console.click("[data-test=endpoint][data-id=crm] [data-test=send-test]").await;
    let result = console.wait_text("[data-test=endpoint][data-id=crm] [data-test=test-result] [data-test=code]", "200").await;
    assert_eq!(result, "200");
    let latency = console.text("[data-test=endpoint][data-id=crm] [data-test=latency]").await.expect("latency");
    assert!(latency.trim_end_matches(" ms").parse::<u64>().is_ok(), "{latency}");
    let tests = receiver.received_at("/hooks/crm");
    assert_eq!(tests.len(), 1);
    assert_eq!(tests[0].signature_valid, Some(true), "the receiver verified the signature");
    assert!(tests[0].header("webhook-id").is_some_and(|id| id.starts_with("msg_test_")), "{:?}", tests[0].headers);
    assert_eq!(tests[0].json()["type"], "test");
    assert_eq!(tests[0].json()["data"]["endpoint"], "crm");
    // Not a lead, not a delivery: nothing to replay into real data.
    let stored_leads: Vec<Value> = worker.admin_get("/sites/demo/leads").await;
    let deliveries: Vec<Value> = worker.admin_get("/sites/demo/deliveries").await;
    assert!(stored_leads.is_empty() && deliveries.is_empty(), "{stored_leads:?} {deliveries:?}");
    look(&console, "crm-tested-desktop-en").await;

    // The receiver breaks: the test shows it, and a lead's delivery fails until it is parked.
    receiver.set_reply(Reply::Status(500));
    console.click("[data-test=endpoint][data-id=crm] [data-test=send-test]").await;
    console.wait_text("[data-test=endpoint][data-id=crm] [data-test=test-result] [data-test=code]", "500").await;
    assert_eq!(
        console.browser.eval("return document.querySelector('[data-test=endpoint][data-id=crm] [data-test=attempt]').className;", vec![]).await,
        json!("attempt bad")
    );
    let lead = post_lead(&worker, &lead_request(LeadKind::Callback, "visitor-crm-00001", "Пётр", "yandex", "callback")).await;
    // Test timing: the three-day retry window passes in about 72 s.
    let failed = eventually("the lead's delivery parked as failed", Duration::from_secs(150), || async {
        let failed: Vec<Value> = worker.admin_get("/sites/demo/deliveries?state=failed").await;
        failed.into_iter().find(|d| d["event_type"] == "lead.created")
    })
    .await;
    let delivery = failed["id"].as_str().expect("an id").to_owned();
    assert!(failed["attempts"].as_array().is_some_and(|a| a.len() >= 3 && a.iter().all(|a| a["response_code"] == 500)), "{failed}");
    // The owner filters the log to failures and sees every attempt.
    console.browser.eval("const s = document.querySelector('[data-test=state-filter]'); s.value = 'failed'; s.dispatchEvent(new Event('change'));", vec![]).await;
    let selector = format!("[data-test=delivery][data-id={delivery}]");
    console.wait(&format!("{selector} in the failed log"), &format!("return !!document.querySelector({});", js(&format!("{selector}[data-state=failed] [data-test=replay]")))).await;
    let shown = console.browser.eval("return document.querySelectorAll('[data-test=delivery]').length;", vec![]).await;
    assert_eq!(shown, json!(1), "only failures are listed");
    let attempts = console.browser.eval(&format!("return document.querySelectorAll({}).length;", js(&format!("{selector} [data-test=attempt][data-code='500']"))), vec![]).await;
    assert_eq!(attempts.as_u64(), failed["attempts"].as_array().map(|a| a.len() as u64));
    look(&console, "crm-failed-desktop-en").await;

    // It recovers; replay from the log delivers the lead, signed, once.
    receiver.set_reply(Reply::Ok);
    console.click(&format!("{selector} [data-test=replay]")).await;
    console.wait_text("[data-test=log-notice]", "Sent again").await;
    eventually("the replayed lead at the receiver", Duration::from_secs(30), || async {
        receiver.received_at("/hooks/crm").into_iter().find(|r| r.delivered() && r.json()["type"] == "lead.created" && r.json()["data"]["id"] == lead.as_str())
    })
    .await;
    let delivered = eventually("the delivery delivered", Duration::from_secs(30), || async {
        let all: Vec<Value> = worker.admin_get("/sites/demo/deliveries?state=delivered").await;
        all.into_iter().find(|d| d["id"] == delivery.as_str())
    })
    .await;
    assert!(receiver.received_at("/hooks/crm").iter().filter(|r| r.json()["type"] == "lead.created").all(|r| r.signature_valid == Some(true)));
    assert_eq!(delivered["state"], "delivered");
    console.browser.eval("const s = document.querySelector('[data-test=state-filter]'); s.value = ''; s.dispatchEvent(new Event('change'));", vec![]).await;
    console.wait(&format!("{selector} delivered in the log"), &format!("return !!document.querySelector({});", js(&format!("{selector}[data-state=delivered]")))).await;

    // Rotation: a new secret is shown once; both sign; retiring keeps the newest only.
    console.click("[data-test=endpoint][data-id=crm] [data-test=rotate]").await;
    console.wait("the new secret", "return document.querySelector('[data-test=secret]')?.textContent || null;").await;
    let newer = console.text("[data-test=secret]").await.expect("the new secret");
    assert_ne!(newer, secret);
    console.wait_text("[data-test=endpoint][data-id=crm] [data-test=active-secrets]", "2").await;
    receiver.set_secrets(vec![newer.clone()]);
    console.click("[data-test=endpoint][data-id=crm] [data-test=retire]").await;
    console.wait_text("[data-test=endpoint][data-id=crm] [data-test=active-secrets]", "1").await;
    console.click("[data-test=endpoint][data-id=crm] [data-test=send-test]").await;
    eventually("a test signed with the new secret only", Duration::from_secs(20), || async {
        let tests = receiver.received_at("/hooks/crm");
        let last = tests.last()?;
        (last.json()["type"] == "test" && tests.iter().filter(|r| r.json()["type"] == "test").count() == 3).then(|| last.signature_valid)
    })
    .await
    .filter(|valid| *valid)
    .expect("the last test verifies with the newer secret alone");
    receiver.set_secrets(vec![secret.clone()]);
    console.click("[data-test=endpoint][data-id=crm] [data-test=send-test]").await;
    eventually("a test the old secret no longer verifies", Duration::from_secs(20), || async {
        let tests: Vec<_> = receiver.received_at("/hooks/crm").into_iter().filter(|r| r.json()["type"] == "test").collect();
        (tests.len() == 4).then(|| tests[3].signature_valid)
    })
    .await
    .filter(|valid| !*valid)
    .expect("the retired secret signs nothing");

    // Bad input is refused with the server's reason, on the form.
    console.type_into("[data-test=field-id]", "Bad Id!").await;
    console.type_into("[data-test=field-url]", "http://10.0.0.1/x").await;
    console.click("[data-test=add]").await;
    console.wait_text("[data-test=add-error]", "id must be").await;

    // The screens in both languages, at desktop and phone widths.
    look(&console, "crm-desktop-en").await;
    console.click("[data-test=lang]").await;
    console.wait_text("[data-test=endpoints] h2", "Передача в CRM").await;
    look(&console, "crm-desktop-ru").await;
    console.close().await;
    for lang in ["en", "ru"] {
        let phone = owner_console(&worker, true, lang, "crm").await;
        phone.wait("the endpoint on the phone", "return !!document.querySelector('[data-test=endpoint][data-id=crm]');").await;
        phone.wait("the log on the phone", "return document.querySelectorAll('[data-test=delivery]').length > 0;").await;
        let overflow = phone.browser.eval("return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) > screen.width;", vec![]).await;
        assert_eq!(overflow, json!(false), "nothing wider than the 360 px screen ({lang})");
        look(&phone, &format!("crm-phone-{lang}")).await;
        phone.close().await;
    }
}

#[tokio::test]
async fn the_crm_routes_refuse_operators_strangers_bad_input_and_floods() {
    let worker = chat_worker("cockpit-crm-refusals").await;
    worker.allow_private_endpoints().await;
    create_owner(&worker).await;
    create_operator(&worker, OPERATOR, "Anna", PASSWORD).await;
    let receiver = Receiver::start();
    worker.add_endpoint(json!({"id": "crm", "url": receiver.url("/hooks/crm"), "preset": {"kind": "generic"}})).await;
    let owner = login(&worker, OWNER, PASSWORD).await;
    let operator = login(&worker, OPERATOR, PASSWORD).await;
    use reqwest::Method;

    // An operator reaches none of it (403), read or write.
    for (method, path) in [
        (Method::GET, "/v1/admin/sites/demo/leads"),
        (Method::GET, "/v1/admin/sites/demo/leads.csv"),
        (Method::GET, "/v1/admin/sites/demo/endpoints"),
        (Method::GET, "/v1/admin/sites/demo/deliveries"),
        (Method::POST, "/v1/admin/sites/demo/endpoints/crm/test"),
    ] {
        let (status, body) = as_session(&worker, &operator, method.clone(), path, Some(json!({}))).await;
        assert_eq!(status, 403, "{method} {path}: {body}");
    }
    // The owner's session from another origin cannot send a test (CSRF), nor without a session.
    let foreign = worker
        .http()
        .post(worker.url("/v1/admin/sites/demo/endpoints/crm/test"))
        .header("cookie", &owner)
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("POST");
    assert_eq!(foreign.status().as_u16(), 403);
    let nobody = worker.http().post(worker.url("/v1/admin/sites/demo/endpoints/crm/test")).send().await.expect("POST");
    assert_eq!(nobody.status().as_u16(), 401);
    assert!(receiver.received().is_empty(), "nothing was sent for a refused request");

    // Bad input: 4xx with the reason, never a 5xx.
    for (path, status, code) in [
        ("/v1/admin/sites/demo/leads?kind=phone_call", 400, "invalid_query"),
        ("/v1/admin/sites/demo/leads?from=2026-13-01", 400, "invalid_query"),
        ("/v1/admin/sites/demo/leads.csv?to=yesterday", 400, "invalid_query"),
        ("/v1/admin/sites/demo/leads?from=2026-12-02&to=2026-12-01", 400, "invalid_query"),
        ("/v1/admin/sites/demo/leads/lead_nope", 404, "not_found"),
    ] {
        let (got, body) = as_session(&worker, &owner, Method::GET, path, None).await;
        assert_eq!(got, status, "{path}: {body}");
        assert!(body.contains(code), "{path}: {body}");
    }
    let (status, body) = as_session(&worker, &owner, Method::POST, "/v1/admin/sites/demo/endpoints/nope/test", None).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = as_session(
        &worker,
        &owner,
        Method::POST,
        "/v1/admin/sites/demo/endpoints",
        Some(json!({"id": "hs", "preset": {"kind": "hubspot", "portal_id": "123", "form_guid": "8f0e7f3c-1c2b-4b8a-9c6d-0123456789ab"}})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = as_session(&worker, &owner, Method::POST, "/v1/admin/sites/demo/endpoints/hs/test", None).await;
    assert_eq!(status, 400, "HubSpot has no test that creates nothing: {body}");
    let (status, body) = as_session(&worker, &owner, Method::POST, "/v1/admin/sites/demo/endpoints", Some(json!({"id": "x", "url": "nope"}))).await;
    assert!((400..500).contains(&status), "{status} {body}");

    // A flood of tests: five a minute per endpoint, then 429 with Retry-After, and nothing sent.
    floorwalker_e2e::within_one_window(60, 20).await;
    for n in 0..5 {
        let (status, body) = as_session(&worker, &owner, Method::POST, "/v1/admin/sites/demo/endpoints/crm/test", None).await;
        assert_eq!(status, 200, "test {n}: {body}");
    }
    let flood = worker
        .http()
        .post(worker.url("/v1/admin/sites/demo/endpoints/crm/test"))
        .header("cookie", &owner)
        .header("origin", worker.origin())
        .send()
        .await
        .expect("POST");
    assert_eq!(flood.status().as_u16(), 429);
    assert!(flood.headers().get("retry-after").is_some());
    assert_eq!(receiver.received_at("/hooks/crm").len(), 5);
}

/// A tiny RFC 4180 reader, independent of core's writer: quoted cells, `""` for a quote, CRLF.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    // A browser's `Response.text()` drops the byte order mark; the raw answer is checked for it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

#[tokio::test]
async fn leads_are_searched_filtered_exported_as_safe_csv_and_a_visitor_erased_from_the_lead_page() {
    let worker = chat_worker("cockpit-crm-leads").await;
    create_owner(&worker).await;
    let owner = login(&worker, OWNER, PASSWORD).await;
    let formula = post_lead(&worker, &lead_request(LeadKind::Callback, "visitor-leads-0001", FORMULA, "yandex", "callback")).await;
    let img = post_lead(&worker, &lead_request(LeadKind::QuestionAnswer, "visitor-leads-0002", IMG, "google", "question")).await;
    let maria = post_lead(&worker, &lead_request(LeadKind::OfflineMessage, "visitor-leads-0003", "Мария", "vk", "offline")).await;
    let ivan = post_lead(&worker, &lead_request(LeadKind::Callback, "visitor-leads-0004", "Иван", "vk", "callback")).await;
    let all: Vec<Lead> = worker.admin_get("/sites/demo/leads").await;
    assert_eq!(all.len(), 4);

    // The filters, through the API: kind, source, prompt, search words, dates.
    let ids = |leads: Vec<Lead>| leads.into_iter().map(|l| l.id).collect::<Vec<_>>();
    let w = &worker;
    let get = move |query: &'static str| async move { w.admin_get::<Vec<Lead>>(&format!("/sites/demo/leads?{query}")).await };
    assert_eq!(ids(get("kind=callback").await), {
        let mut v = vec![formula.clone(), ivan.clone()];
        v.sort_by_key(|id| all.iter().position(|l| &l.id == id));
        v
    });
    assert_eq!(ids(get("source=VK&kind=offline_message").await), vec![maria.clone()]);
    assert_eq!(ids(get("prompt=question").await), vec![img.clone()]);
    assert_eq!(ids(get("q=%D0%BC%D0%B0%D1%80%D0%B8%D1%8F").await), vec![maria.clone()], "«мария», any case");
    let today = &floorwalker_core::outbound::webhook::rfc3339(all[0].created_at)[..10];
    let on_the_day: Vec<Lead> = worker.admin_get(&format!("/sites/demo/leads?from={today}&to={today}")).await;
    assert_eq!(on_the_day.len(), 4);
    let later: Vec<Lead> = worker.admin_get("/sites/demo/leads?from=2999-01-01").await;
    assert!(later.is_empty());

    // The CSV: every lead, every column, formulas defused, with the owner's session too.
    let (status, csv) = as_session(&worker, &owner, reqwest::Method::GET, "/v1/admin/sites/demo/leads.csv", None).await;
    assert_eq!(status, 200, "{csv}");
    assert!(csv.starts_with('\u{feff}'), "a UTF-8 byte order mark first, for spreadsheets");
    let rows = parse_csv(&csv);
    assert_eq!(rows[0], CSV_COLUMNS.to_vec());
    assert_eq!(rows.len(), 1 + all.len());
    let column = |name: &str| CSV_COLUMNS.iter().position(|c| *c == name).expect("a column");
    for (row, lead) in rows[1..].iter().zip(&all) {
        assert_eq!(row.len(), CSV_COLUMNS.len());
        assert_eq!(row[column("id")], lead.id);
        assert_eq!(row[column("kind")], lead.kind.as_str());
        let name = lead.contact.name.clone().unwrap_or_default();
        let expected = if name.starts_with(['=', '+', '-', '@']) { format!("'{name}") } else { name };
        assert_eq!(row[column("name")], expected);
        let phone = lead.contact.phone.clone().map(|p| format!("'{p}")).unwrap_or_default();
        assert_eq!(row[column("phone")], phone, "a phone starts with +, so it is defused too");
        assert_eq!(row[column("email")], lead.contact.email.clone().unwrap_or_default());
        assert_eq!(row[column("consent_text")], lead.consent.given.text);
        assert_eq!(row[column("source")], format!("{} / cpc / carseats", lead.context.first_touch.as_ref().and_then(|t| t.utm_source.clone()).unwrap_or_default()));
    }
    let formula_row = rows.iter().find(|r| r[column("id")] == formula).expect("the formula lead");
    assert_eq!(formula_row[column("name")], format!("'{FORMULA}"));
    assert!(!rows.iter().flatten().any(|cell| cell.starts_with(['=', '+', '-', '@'])), "no cell a spreadsheet would run");
    let filtered = worker
        .http()
        .get(worker.url("/v1/admin/sites/demo/leads.csv?kind=callback"))
        .bearer_auth(&worker.admin_token)
        .send()
        .await
        .expect("GET csv");
    assert_eq!(filtered.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(filtered.headers()["content-disposition"].to_str().unwrap().contains("leads-demo.csv"));
    assert_eq!(filtered.headers()["x-floorwalker-truncated"], "false");
    let filtered = parse_csv(&filtered.text().await.unwrap());
    assert_eq!(filtered.len(), 3, "the header and the two callbacks");

    // The screen: the list, a filter by keyboard, the CSV link with the same filters.
    let console = owner_console(&worker, false, "en", "leads").await;
    console.wait("the four leads", "return document.querySelectorAll('[data-test=lead-row]').length === 4;").await;
    look(&console, "leads-desktop-en").await;
    let search = console.browser.client.find(Locator::Css("[data-test=filter-q]")).await.expect("the search field");
    search.send_keys(&format!("мария{ENTER}")).await.expect("search by keyboard");
    console.wait("one lead found", "return document.querySelectorAll('[data-test=lead-row]').length === 1;").await;
    console.wait_text("[data-test=lead-row] [data-test=lead-name]", "Мария").await;
    let href = console.browser.eval("return document.querySelector('[data-test=csv]').getAttribute('href');", vec![]).await;
    assert_eq!(href, json!("/v1/admin/sites/demo/leads.csv?q=%D0%BC%D0%B0%D1%80%D0%B8%D1%8F"));
    // The link downloads with the page's session; what it gets is the filtered CSV.
    let in_page = console
        .browser
        .client
        .execute_async("const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done, e => done(String(e)));", vec![href])
        .await
        .expect("fetching the CSV link");
    let in_page = parse_csv(in_page.as_str().expect("CSV text"));
    assert_eq!(in_page.len(), 2);
    assert_eq!(in_page[1][column("id")], maria);
    console.click("[data-test=reset-filters]").await;
    console.wait("all four again", "return document.querySelectorAll('[data-test=lead-row]').length === 4;").await;
    console.browser.eval("const s = document.querySelector('[data-test=filter-kind]'); s.value = 'callback'; s.dispatchEvent(new Event('change'));", vec![]).await;
    console.click("[data-test=apply-filters]").await;
    console.wait("the two callbacks", "return document.querySelectorAll('[data-test=lead-row]').length === 2;").await;
    console.click("[data-test=reset-filters]").await;
    console.wait("all four again", "return document.querySelectorAll('[data-test=lead-row]').length === 4;").await;

    // What the visitors typed is text everywhere: the list, the lead's page.
    console.wait_text(&format!("[data-test=lead-row][data-id={img}] [data-test=lead-name]"), IMG).await;
    console.wait_text(&format!("[data-test=lead-row][data-id={formula}] [data-test=lead-name]"), FORMULA).await;
    // Open the lead by keyboard: focus its button, Enter.
    let open = format!("[data-test=lead-row][data-id={img}] [data-test=open-lead]");
    let button = console.browser.client.find(Locator::Css(&open)).await.expect("the lead's button");
    button.send_keys(ENTER).await.expect("Enter opens the lead");
    console.wait_text("[data-test=lead-page] [data-test=lead-title]", IMG).await;
    let lead = all.iter().find(|l| l.id == img).expect("the lead");
    console.wait_text("[data-test=consent-text]", &lead.consent.given.text).await;
    assert_eq!(console.text("[data-test=consent-text]").await.map(|t| t.trim().to_owned()), Some(lead.consent.given.text.clone()));
    assert_eq!(console.text("[data-test=consent-version]").await.as_deref(), Some("v3"));
    console.wait_text("[data-test=lead-source]", "google / cpc / carseats").await;
    console.wait_text("[data-test=lead-products]", "Orsa 360 Isofix").await;
    let injected = console
        .browser
        .eval("return { imgs: document.querySelectorAll('img').length, pwned: window.__pwned || null };", vec![])
        .await;
    assert_eq!(injected, json!({"imgs": 0, "pwned": null}));
    look(&console, "lead-desktop-en").await;

    // Export this visitor's data from the page, with its session.
    let export_href = console.browser.eval("return document.querySelector('[data-test=export-visitor]').getAttribute('href');", vec![]).await;
    let exported = console
        .browser
        .client
        .execute_async("const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.json()).then(done, e => done(String(e)));", vec![export_href])
        .await
        .expect("fetching the export");
    assert_eq!(exported["visitors"][0]["visitor_id"], "visitor-leads-0002", "{exported}");

    // Erase: a confirm step first; cancel keeps everything.
    console.click("[data-test=erase]").await;
    console.wait("the confirm step", "return !!document.querySelector('[data-test=erase-confirm-step]');").await;
    look(&console, "lead-erase-confirm-desktop-en").await;
    console.click("[data-test=erase-cancel]").await;
    assert_eq!(worker.admin_get::<Vec<Lead>>("/sites/demo/leads").await.len(), 4);
    console.click("[data-test=erase]").await;
    console.click("[data-test=erase-confirm]").await;
    console.wait_text("[data-test=leads-notice]", "visitor-leads-0002").await;
    console.wait("three leads left", "return document.querySelectorAll('[data-test=lead-row]').length === 3;").await;
    let left: Vec<Lead> = worker.admin_get("/sites/demo/leads").await;
    assert!(left.iter().all(|l| l.id != img) && left.len() == 3);
    let export: Value = worker.admin_get("/sites/demo/visitors/export?visitor=visitor-leads-0002").await;
    assert_eq!(export["visitors"], json!([]), "nothing held about the erased visitor");

    // Russian, and both languages on a phone: the list and a lead's page.
    console.click("[data-test=lang]").await;
    console.wait_text("[data-test=leads] h2", "Заявки").await;
    look(&console, "leads-desktop-ru").await;
    console.close().await;
    for lang in ["en", "ru"] {
        let phone = owner_console(&worker, true, lang, "leads").await;
        phone.wait("the leads on the phone", "return document.querySelectorAll('[data-test=lead-row]').length === 3;").await;
        let overflow = phone.browser.eval("return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) > screen.width;", vec![]).await;
        assert_eq!(overflow, json!(false), "nothing wider than the 360 px screen ({lang})");
        look(&phone, &format!("leads-phone-{lang}")).await;
        phone.click(&format!("[data-test=lead-row][data-id={formula}] [data-test=open-lead]")).await;
        phone.wait_text("[data-test=lead-page] [data-test=lead-title]", FORMULA).await;
        let overflow = phone.browser.eval("return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) > screen.width;", vec![]).await;
        assert_eq!(overflow, json!(false), "the lead's page fits the phone ({lang})");
        look(&phone, &format!("lead-phone-{lang}")).await;
        phone.close().await;
    }
}

/// `make demo`'s start: its CRM receiver on the port after the worker's, the worker told about it,
/// the demo site seeded as the demo seeds it (local receivers allowed).
async fn demo_with_receiver(name: &str) -> (Worker, Receiver) {
    let (port, receiver) = (0..10)
        .find_map(|_| {
            let port = free_port();
            demo::start_crm_receiver(port).ok().map(|receiver| (port, receiver))
        })
        .expect("a free port with a free one after it");
    let vars = demo::crm_receiver_vars(&receiver);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let state_dir = repo_root().join("target/e2e").join(format!("{name}-{}-{port}", std::process::id()));
    let worker = Worker::start_with(port, state_dir, random_token(), &vars).await;
    demo::seed(&worker, &[SHOP.to_owned()]).await.expect("seeding the demo");
    (worker, receiver)
}

/// [`look`], and that nothing is wider than the window (the receiver's page or the console's hint
/// at 360 px).
async fn look_at_receiver(console: &Console, name: &str) {
    look(console, name).await;
    let overflow = console.browser.eval("return document.documentElement.scrollWidth > window.innerWidth;", vec![]).await;
    assert_eq!(overflow, json!(false), "nothing wider than the window ({name})");
}

#[tokio::test]
async fn a_newcomer_on_the_demo_connects_its_own_receiver_and_sees_each_request_verified() {
    const SCRIPT: &str = "<script>window.__pwned='receiver'</script>";
    let (worker, receiver) = demo_with_receiver("cockpit-crm-receiver").await;
    create_owner(&worker).await;
    create_operator(&worker, OPERATOR, "Anna", PASSWORD).await;
    // Only the owner is told about the receiver; a stranger is told nothing at all.
    let (_, owner_me) = as_session(&worker, &login(&worker, OWNER, PASSWORD).await, reqwest::Method::GET, "/v1/console/me", None).await;
    let owner_me: Value = serde_json::from_str(&owner_me).expect("me");
    assert_eq!(owner_me["local_receiver"], json!({"webhook_url": receiver.webhook_url(), "page_url": receiver.page_url()}));
    let (_, operator_me) = as_session(&worker, &login(&worker, OPERATOR, PASSWORD).await, reqwest::Method::GET, "/v1/console/me", None).await;
    assert!(!operator_me.contains("local_receiver"), "{operator_me}");
    let stranger = worker.http().get(worker.url("/v1/console/me")).send().await.expect("GET me");
    assert_eq!(stranger.status().as_u16(), 401);

    // The hint fills the form with the generic preset and the receiver's address.
    let console = owner_console(&worker, false, "en", "crm").await;
    console.wait_text("[data-test=local-receiver]", "A CRM receiver is running on this machine").await;
    look(&console, "receiver-hint-desktop-en").await;
    console.click("[data-test=lang]").await;
    console.wait_text("[data-test=local-receiver]", "На этой машине работает приёмник CRM").await;
    look(&console, "receiver-hint-desktop-ru").await;
    console.click("[data-test=lang]").await;
    console.wait_text("[data-test=local-receiver]", "A CRM receiver is running").await;
    console.browser.eval("const s = document.querySelector('[data-test=field-preset]'); s.value = 'telegram'; s.dispatchEvent(new Event('change'));", vec![]).await;
    // The Telegram form says what the chat will get: leads, and visitors nobody answers.
    console.wait_text("[data-test=telegram-takes]", "an alert when a visitor in the chat has waited for an answer").await;
    look(&console, "telegram-form-desktop-en").await;
    console.click("[data-test=lang]").await;
    console.wait_text("[data-test=telegram-takes]", "оповещение, когда посетитель в чате ждёт ответа").await;
    look(&console, "telegram-form-desktop-ru").await;
    console.click("[data-test=lang]").await;
    console.wait_text("[data-test=telegram-takes]", "an alert when").await;
    console.click("[data-test=use-local-receiver]").await;
    let form = console
        .browser
        .eval("return ['id', 'url', 'preset'].map(f => document.querySelector(`[data-test=field-${f}]`).value);", vec![])
        .await;
    assert_eq!(form, json!(["local", receiver.webhook_url(), "generic"]));
    console.click("[data-test=add]").await;
    console.wait("the secret, shown once", "return document.querySelector('[data-test=secret-once] [data-test=secret]')?.textContent || null;").await;
    let secret = console.text("[data-test=secret]").await.expect("the secret");
    console.click("[data-test=endpoint][data-id=local] [data-test=send-test]").await;
    console.wait_text("[data-test=endpoint][data-id=local] [data-test=test-result] [data-test=code]", "200").await;
    // A visitor's words reach the receiver in a lead's body.
    // (A question's lead: a callback's would bring a `callback.requested` too.)
    let lead = post_lead(&worker, &lead_request(LeadKind::QuestionAnswer, "visitor-recv-00001", SCRIPT, "yandex", "question")).await;
    eventually("the lead at the receiver", Duration::from_secs(60), || async {
        receiver.received().into_iter().find(|r| r.json()["type"] == "lead.created" && r.json()["data"]["id"] == lead.as_str())
    })
    .await;

    // The hint's link opens the receiver's page in the owner's language.
    let href = console.browser.eval("return document.querySelector('[data-test=local-receiver-page]').href;", vec![]).await;
    assert_eq!(href, json!(format!("{}?lang=en", receiver.page_url())));
    console.browser.client.goto(href.as_str().expect("a link")).await.expect("opening the receiver's page");
    console.wait("both requests on the page", "return document.querySelectorAll('[data-test=request]').length === 2;").await;
    assert_eq!(console.browser.eval("return [...document.querySelectorAll('[data-test=request]')].map(r => r.dataset.signature);", vec![]).await, json!(["not-checked", "not-checked"]));
    // The secret, pasted: every signature is checked, the earlier ones too.
    console.type_into("#secret", &secret).await;
    console.click("[data-test=check]").await;
    console.wait_text("[data-test=notice]", "The secret is taken").await;
    let shown = console
        .browser
        .eval(
            "return [...document.querySelectorAll('[data-test=request]')].map(r => [r.querySelector('[data-test=type]').textContent, \
             r.querySelector('[data-test=signature]').textContent, r.querySelector('[data-test=webhook-id]').textContent, \
             r.querySelector('[data-test=answered]').textContent]);",
            vec![],
        )
        .await;
    let shown: Vec<Vec<String>> = serde_json::from_value(shown).expect("rows");
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert_eq!((shown[0][0].as_str(), shown[0][1].as_str(), shown[0][3].as_str()), ("lead.created", "signature valid", "200"), "newest first: {shown:?}");
    assert_eq!((shown[1][0].as_str(), shown[1][1].as_str()), ("test", "signature valid"), "{shown:?}");
    assert!(shown[1][2].starts_with("msg_test_"), "{shown:?}");
    // The visitor's script is text on the page, never run.
    let escaped = console
        .browser
        .eval("return { scripts: document.querySelectorAll('script').length, pwned: window.__pwned || null, shown: document.body.textContent.includes(arguments[0]) };", vec![json!(SCRIPT)])
        .await;
    assert_eq!(escaped, json!({"scripts": 0, "pwned": null, "shown": true}));
    look_at_receiver(&console, "receiver-desktop-en").await;
    // A wrong paste is said so; nothing else changes.
    console.type_into("#secret", "not a secret").await;
    console.click("[data-test=check]").await;
    console.wait_text("[data-test=notice]", "That is not a signing secret").await;
    console.click("[data-test=other-lang]").await;
    console.wait_text("h1", "Приёмник CRM").await;
    console.wait_text("[data-test=request] [data-test=signature]", "подпись верна").await;
    look_at_receiver(&console, "receiver-desktop-ru").await;
    // The page's own requests are not deliveries: only the two POSTs to the webhook were kept.
    let kept: Vec<(String, String)> = receiver.received().into_iter().map(|r| (r.method, r.path)).collect();
    assert_eq!(kept, vec![("POST".to_owned(), "/crm".to_owned()); 2]);
    console.close().await;

    // The hint and the page at 360 px in both languages.
    for lang in ["en", "ru"] {
        let phone = owner_console(&worker, true, lang, "crm").await;
        phone.wait("the hint on the phone", "return !!document.querySelector('[data-test=local-receiver]');").await;
        look_at_receiver(&phone, &format!("receiver-hint-phone-{lang}")).await;
        phone.browser.client.goto(&format!("{}?lang={lang}", receiver.page_url())).await.expect("the page on the phone");
        phone.wait("the requests on the phone", "return document.querySelectorAll('[data-test=request]').length === 2;").await;
        look_at_receiver(&phone, &format!("receiver-phone-{lang}")).await;
        phone.close().await;
    }
}
