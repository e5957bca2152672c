//! Issue 14, "numbers that prove it": the funnel counts a scripted set of visits exactly, through
//! the real worker (`wrangler dev`, local D1, the delivery queue, a signature-checking receiver),
//! and deals reported back by a CRM show as revenue per prompt; the deals endpoint's unhappy paths.

use std::time::Duration;

use floorwalker_core::insights::funnel::Funnel;
use floorwalker_core::leads::lead::{Lead, LeadKind};
use floorwalker_e2e::chat::{create_operator, login, outbox, start_conversation, visitor_session, ChatSocket, ConsoleSocket, PASSWORD};
use floorwalker_e2e::eventually;
use floorwalker_e2e::leads::{post, request};
use floorwalker_e2e::receiver::Receiver;
use floorwalker_e2e::worker::Worker;
use reqwest::Method;
use serde_json::{json, Value};

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";
const DESKTOP: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36";
const COMPARE: &str = "compare_by_email";
const QUESTION: &str = "child_age";

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

/// One visitor's batch as the widget sends it, with the browser's headers, a second apart from
/// a minute ago.
async fn visit(worker: &Worker, visitor: &str, headers: &[(&str, &str)], events: Vec<Value>) {
    visit_from(worker, visitor, headers, events, now_ms() - 60_000).await;
}

/// The same, its events a second apart from `start`.
async fn visit_from(worker: &Worker, visitor: &str, headers: &[(&str, &str)], events: Vec<Value>, start: u64) {
    let events: Vec<Value> = events
        .into_iter()
        .enumerate()
        .map(|(i, mut e)| {
            // Ids unique per visit: a visitor's second visit is not a re-sent first one.
            e["id"] = json!(format!("{visitor}-{start}-e{i:03}"));
            e["at"] = json!(start + i as u64 * 1000);
            e
        })
        .collect();
    let body = json!({"v": 1, "site": "demo", "visitor": visitor, "session": format!("{visitor}-s1"), "events": events});
    let mut call = worker.http().post(worker.url("/v1/events")).header("origin", worker.origin()).header("content-type", "text/plain");
    for (name, value) in headers {
        call = call.header(*name, *value);
    }
    let response = call.body(body.to_string()).send().await.expect("POST /v1/events");
    assert_eq!(response.status().as_u16(), 202, "{}", response.text().await.unwrap_or_default());
}

fn page(url: &str, referrer: Option<&str>) -> Value {
    let mut event = json!({"type": "page_view", "url": url, "title": "x"});
    if let Some(referrer) = referrer {
        event["referrer"] = json!(referrer);
    }
    event
}

fn product(worker: &Worker, id: &str) -> Value {
    json!({"type": "product_view", "product": {"id": id, "name": id, "url": format!("{}/product/{id}/", worker.origin())}})
}

fn prompt(kind: &str, id: &str) -> Value {
    json!({"type": kind, "prompt": id})
}

async fn funnel(worker: &Worker, query: &str) -> Funnel {
    worker.admin_get(&format!("/sites/demo/funnel{query}")).await
}

fn prompt_of<'a>(funnel: &'a Funnel, id: &str) -> &'a floorwalker_core::insights::funnel::PromptFunnel {
    funnel.prompts.iter().find(|p| p.prompt == id).unwrap_or_else(|| panic!("{id} in {funnel:#?}"))
}

/// Creates a deal token; (token, url).
async fn deal_token(worker: &Worker, site: &str) -> (String, String, String) {
    let (status, created) = worker.admin_send(Method::POST, &format!("/sites/{site}/deal-tokens"), Some(json!({"name": "Bitrix24"}))).await;
    assert_eq!(status, 201, "{created}");
    let s = |k: &str| created[k].as_str().unwrap().to_owned();
    (s("token"), s("url"), s("id"))
}

async fn report(worker: &Worker, url: &str, body: Value) -> (u16, Value) {
    let response = worker.http().post(url).json(&body).send().await.expect("POST /v1/deals");
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_funnel_counts_a_scripted_set_of_visits_exactly_and_shows_revenue() {
    let worker = Worker::start("funnel").await;
    worker.seed_demo_site(&[]).await;
    worker.allow_private_endpoints().await;
    let receiver = Receiver::start();
    let crm = worker.add_endpoint(json!({"id": "crm", "url": receiver.url("/hooks/crm"), "preset": {"kind": "generic"}})).await;
    receiver.set_secrets(vec![crm.secret.clone()]);
    let o = worker.origin();

    // A: a Yandex campaign, on a phone, in Russian: two products, leaves, is offered the comparison
    // and takes it; the lead reaches the CRM.
    let a = [("user-agent", IPHONE), ("accept-language", "ru-RU,ru;q=0.9")];
    visit(&worker, "visitor-funnel-a", &a, vec![
        page(&format!("{o}/?utm_source=yandex&utm_medium=cpc"), Some("https://ya.ru/")),
        page(&format!("{o}/product/orsa-360-isofix/"), None),
        product(&worker, "orsa-360-isofix"),
        page(&format!("{o}/product/lumi-hug-fix/"), None),
        product(&worker, "lumi-hug-fix"),
        json!({"type": "exit_intent", "trigger": "pointer_top"}),
        prompt("prompt_shown", COMPARE),
        prompt("prompt_accepted", COMPARE),
    ])
    .await;
    let mut lead = request(LeadKind::ComparisonEmail, "visitor-funnel-a", "funnel-a", &o);
    lead.prompt = Some(COMPARE.into());
    let response = post(&worker, &o, &serde_json::to_string(&lead).unwrap()).await;
    assert_eq!(response.status().as_u16(), 201);
    let lead_id = Lead::id_for("demo", "visitor-funnel-a", &lead.idempotency_key);
    // B: from Google, on a desktop, in English: a product and two pages make the question
    // eligible; it is shown and dismissed.
    let b = [("user-agent", DESKTOP), ("accept-language", "en-GB,en;q=0.8")];
    visit(&worker, "visitor-funnel-b", &b, vec![
        page(&format!("{o}/"), Some("https://www.google.com/search?q=carseat")),
        page(&format!("{o}/product/orsa-360-isofix/"), None),
        product(&worker, "orsa-360-isofix"),
        prompt("prompt_shown", QUESTION),
        prompt("prompt_dismissed", QUESTION),
    ])
    .await;
    // C: typed the address (no client hints at all), opened the chat panel.
    visit(&worker, "visitor-funnel-c", &[], vec![page(&format!("{o}/"), None), json!({"type": "chat_opened"})]).await;

    // C writes in the chat and Anna answers: a conversation started and answered.
    let session = visitor_session(&worker, &o, "visitor-funnel-c").await;
    let conversation = start_conversation(&worker, &o, &session.token).await;
    let mut visitor = ChatSocket::visitor(&worker, &o, &conversation, &session.token).await;
    visitor.hello(0).await;
    visitor.say("v-funnel-000001", "Is the Orsa in stock?").await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let cookie = login(&worker, "anna@demo.example", PASSWORD).await;
    let mut anna = ChatSocket::operator(&worker, &conversation, &cookie).await;
    anna.hello(0).await;
    anna.say("o-funnel-000001", "Yes, two left.").await;
    // The answer reaches D1 with the chat's outbox (the CRM subscribes to message.created).
    eventually("the operator's answer in the outbox", Duration::from_secs(30), || async {
        let events = outbox(&worker, Some("message.created")).await;
        // `payload` is the stored event as JSON text.
        let author = |e: &Value| serde_json::from_str::<Value>(e["payload"].as_str().unwrap_or_default()).unwrap_or_default()["data"]["message"]["author"]["kind"].clone();
        events.iter().any(|e| author(e) == "operator").then_some(())
    })
    .await;
    visitor.close().await;
    anna.close().await;

    // The lead's delivery settles first: today's rollup is made on the first read.
    eventually("the lead delivered to the CRM", Duration::from_secs(30), || async {
        let deliveries: Vec<Value> = worker.admin_get("/sites/demo/deliveries?state=delivered").await;
        deliveries.iter().any(|d| d["target"] == "endpoint:crm").then_some(())
    })
    .await;

    let f = funnel(&worker, "").await;
    assert_eq!(f.days_missing, 0);
    let compare = prompt_of(&f, COMPARE);
    let c = &compare.counts;
    assert_eq!((c.eligible, c.shown, c.accepted, c.dismissed, c.leads, c.delivered), (1, 1, 1, 0, 1, 1), "{compare:#?}");
    let question = prompt_of(&f, QUESTION);
    let q = &question.counts;
    // A was eligible for the question too (pages and a product) and never saw it.
    assert_eq!((q.eligible, q.shown, q.accepted, q.dismissed, q.leads), (2, 1, 0, 1, 0), "{question:#?}");
    assert_eq!((f.site.visitors, f.site.chat_opens, f.site.leads, f.site.delivered), (3, 1, 1, 1));
    assert_eq!((f.site.chats, f.site.chats_answered), (1, 1), "one conversation, answered");
    let first = f.first_response.expect("a first response time");
    assert_eq!(first.conversations, 1);
    assert!(first.median_ms < 60_000, "answered within the test's minute: {first:?}");
    assert_eq!(compare.rates.shown_of_eligible, Some(1.0));
    assert_eq!(question.rates.shown_of_eligible, Some(0.5));

    let by_device = funnel(&worker, "?by=device").await;
    let groups = |f: &Funnel| f.site_groups.iter().map(|g| (g.key.clone(), g.counts.visitors)).collect::<Vec<_>>();
    let mut devices = groups(&by_device);
    devices.sort();
    assert_eq!(devices, [("desktop".to_owned(), 1), ("mobile".to_owned(), 1), ("unknown".to_owned(), 1)]);
    let mut sources = groups(&funnel(&worker, "?by=source").await);
    sources.sort();
    assert_eq!(sources, [("direct".to_owned(), 1), ("google.com".to_owned(), 1), ("yandex".to_owned(), 1)]);
    let mut locales = groups(&funnel(&worker, "?by=locale").await);
    locales.sort();
    assert_eq!(locales, [("en".to_owned(), 1), ("ru".to_owned(), 1), ("unknown".to_owned(), 1)]);
    let by_day = funnel(&worker, "?by=day").await;
    assert_eq!(prompt_of(&by_day, COMPARE).groups.len(), 1, "one day");

    // The CRM reports the deal won: revenue for the comparison, once however often it is told.
    let (_, url, _) = deal_token(&worker, "demo").await;
    let deal = json!({"lead": lead_id, "deal": "B24-1017", "amount": "44990.00", "currency": "RUB"});
    assert_eq!(report(&worker, &url, deal.clone()).await.0, 201);
    let (status, again) = report(&worker, &url, deal).await;
    assert_eq!((status, again["outcome"].as_str()), (200, Some("unchanged")));
    let f = funnel(&worker, "").await;
    let revenue = &prompt_of(&f, COMPARE).revenue;
    assert_eq!(revenue.len(), 1);
    assert_eq!((revenue[0].currency.as_str(), revenue[0].amount_minor, revenue[0].deals), ("RUB", 4_499_000, 1));
    assert!(prompt_of(&f, QUESTION).revenue.is_empty());

    // Aggregates only: nothing in the answer names a visitor.
    let raw: Value = worker.admin_get("/sites/demo/funnel?by=source").await;
    assert!(!raw.to_string().contains("visitor-funnel"), "{raw}");
}

#[tokio::test]
async fn deals_refuse_what_they_must_and_replays_are_one_deal() {
    let worker = Worker::start("funnel-deals").await;
    worker.seed_demo_site(&[]).await;
    let mut other = worker.demo_site_config(&[]);
    other.site = "other".into();
    other.origins = vec!["http://other-shop.example".into()];
    worker.put_site(&other).await;
    let o = worker.origin();

    let mut lead = request(LeadKind::Callback, "visitor-deals-1", "deals-1", &o);
    lead.prompt = Some("callback".into());
    assert_eq!(post(&worker, &o, &serde_json::to_string(&lead).unwrap()).await.status().as_u16(), 201);
    let lead_id = Lead::id_for("demo", "visitor-deals-1", &lead.idempotency_key);
    let mut other_lead = request(LeadKind::Callback, "visitor-deals-2", "deals-2", "http://other-shop.example");
    other_lead.site = "other".into();
    let answer = post(&worker, "http://other-shop.example", &serde_json::to_string(&other_lead).unwrap()).await;
    assert_eq!(answer.status().as_u16(), 201);
    let other_lead_id = Lead::id_for("other", "visitor-deals-2", &other_lead.idempotency_key);

    let (token, url, token_id) = deal_token(&worker, "demo").await;
    let (other_token, _, _) = deal_token(&worker, "other").await;
    let base = worker.url("/v1/deals/demo");
    let deal = |amount: &str| json!({"lead": lead_id, "deal": "amo-77", "amount": amount, "currency": "RUB"});

    // No token, a wrong one, another site's: 401, and nothing stored.
    assert_eq!(report(&worker, &base, deal("100")).await.0, 401);
    assert_eq!(report(&worker, &format!("{base}?token=fwdeal_wrong"), deal("100")).await.0, 401);
    assert_eq!(report(&worker, &format!("{base}?token={other_token}"), deal("100")).await.0, 401);
    // Another site's lead is not found here, even with a good token.
    let (status, body) = report(&worker, &url, json!({"lead": other_lead_id, "deal": "x-1", "amount": "1", "currency": "RUB"})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")));
    // A malformed report is a 400 naming its field.
    for (bad, field) in [
        (json!({"lead": lead_id, "deal": "d", "amount": "-5", "currency": "RUB"}), "amount"),
        (json!({"lead": lead_id, "deal": "d", "amount": "12,34,5", "currency": "RUB"}), "amount"),
        (json!({"lead": lead_id, "deal": "d", "amount": "5", "currency": "рубли"}), "currency"),
        (json!({"lead": "lead_nope", "deal": "d", "amount": "5", "currency": "RUB"}), "lead"),
        (json!({"lead": lead_id, "amount": "5", "currency": "RUB"}), "deal"),
    ] {
        let (status, body) = report(&worker, &url, bad.clone()).await;
        assert_eq!((status, body["error"]["code"].as_str(), body["error"]["field"].as_str()), (400, Some("invalid_deal"), Some(field)), "{bad}");
    }
    let malformed = worker.http().post(&url).body("{not json").send().await.unwrap();
    assert_eq!(malformed.status().as_u16(), 400);

    // Created, replayed (unchanged), corrected (updated): one deal, the latest amount.
    assert_eq!(report(&worker, &url, deal("1 000,50")).await.0, 201);
    let (status, body) = report(&worker, &url, deal("1000.50")).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("unchanged")));
    // As a Bitrix24 automation rule sends it: a form, the token as a bearer.
    let form = worker
        .http()
        .post(&base)
        .bearer_auth(&token)
        .form(&[("lead", lead_id.as_str()), ("deal", "amo-77"), ("amount", "1200"), ("currency", "RUB")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status().as_u16(), 200);
    assert_eq!(form.json::<Value>().await.unwrap()["outcome"], "updated");
    let f: Funnel = worker.admin_get("/sites/demo/funnel").await;
    let callback = f.prompts.iter().find(|p| p.prompt == "callback").unwrap();
    assert_eq!((callback.revenue[0].amount_minor, callback.revenue[0].deals), (120_000, 1));

    // Revoked: the same token answers 401 from now on; the list shows when.
    let (status, _) = worker.admin_send(Method::DELETE, &format!("/sites/demo/deal-tokens/{token_id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(report(&worker, &url, deal("5")).await.0, 401);
    let tokens: Vec<Value> = worker.admin_get("/sites/demo/deal-tokens").await;
    assert!(tokens.iter().any(|t| t["id"] == token_id.as_str() && t["revoked_at"].is_u64()));
    assert!(!serde_json::to_string(&tokens).unwrap().contains("fwdeal_"), "a token is shown once");
    let (status, _) = worker.admin_send(Method::DELETE, "/sites/demo/deal-tokens/dtok_nobody", None).await;
    assert_eq!(status, 404);

    // Bad funnel queries are 400s, never 5xx.
    for query in ["?from=2026-13-01", "?by=visitor", "?from=2020-01-01&to=2026-01-01"] {
        let response = worker.http().get(worker.url(&format!("/v1/admin/sites/demo/funnel{query}"))).bearer_auth(&worker.admin_token).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 400, "{query}");
    }
}

/// The chat invitation asks for an operator online: the funnel replays each visit with who was
/// online at its moments (the hub records each change), so a visit while Anna's console was open
/// counts as eligible and the ones before and after do not.
#[tokio::test]
async fn the_chat_invitation_counts_as_eligible_only_while_an_operator_was_online() {
    const INVITATION: &str = "chat_invitation";
    let worker = Worker::start("funnel-presence").await;
    worker.seed_demo_site(&[]).await;
    let o = worker.origin();
    // Three pages and two active minutes: what the invitation asks of a visit, besides an operator.
    let reads = || vec![page(&format!("{o}/"), None), page(&format!("{o}/c/termos"), None), page(&format!("{o}/delivery"), None), json!({"type": "active_time", "seconds": 130})];
    // Events a second apart, all after the moment just passed (and none in the future).
    let settle_then_visit = |visitor: &'static str| {
        let worker = &worker;
        let events = reads();
        async move {
            tokio::time::sleep(Duration::from_secs(6)).await;
            visit_from(worker, visitor, &[], events, now_ms() - 5_000).await;
        }
    };

    visit(&worker, "visitor-presence-before", &[], reads()).await;
    create_operator(&worker, "anna@presence.example", "Anna", PASSWORD).await;
    let cookie = login(&worker, "anna@presence.example", PASSWORD).await;
    let console = ConsoleSocket::open(&worker, &cookie).await;
    settle_then_visit("visitor-presence-during").await;
    drop(console);
    settle_then_visit("visitor-presence-after").await;

    let f = funnel(&worker, "").await;
    let invitation = prompt_of(&f, INVITATION);
    assert_eq!((invitation.counts.eligible, invitation.counts.shown), (1, 0), "only the visit while Anna was online: {invitation:#?}");
    assert_eq!(f.site.visitors, 3);
}

#[tokio::test]
async fn a_comparison_dismissed_on_an_earlier_day_is_not_eligible_again_within_its_cooldown() {
    const DAY_MS: u64 = 86_400_000;
    let worker = Worker::start("funnel-history").await;
    worker.seed_demo_site(&[]).await;
    let o = worker.origin();
    let two_products_and_leaving = || {
        vec![
            page(&format!("{o}/product/orsa-360-isofix/"), None),
            product(&worker, "orsa-360-isofix"),
            page(&format!("{o}/product/lumi-hug-fix/"), None),
            product(&worker, "lumi-hug-fix"),
            json!({"type": "exit_intent", "trigger": "pointer_top"}),
        ]
    };
    // Yesterday D was offered the comparison and closed it. The worker stamps what it receives
    // with its own clock, so yesterday's visit is moved back in storage.
    let mut yesterday = two_products_and_leaving();
    yesterday.extend([prompt("prompt_shown", COMPARE), prompt("prompt_dismissed", COMPARE)]);
    let earlier = now_ms() - DAY_MS - 2 * 3_600_000;
    visit_from(&worker, "visitor-history-d", &[], yesterday, earlier).await;
    worker.d1_select("UPDATE events SET received_at = at WHERE visitor = 'visitor-history-d'");
    // Today D does the same again, and so does E, who has never seen it.
    visit(&worker, "visitor-history-d", &[], two_products_and_leaving()).await;
    visit(&worker, "visitor-history-e", &[], two_products_and_leaving()).await;

    let f = funnel(&worker, "?by=day").await;
    let compare = prompt_of(&f, COMPARE);
    let day = |at: u64| floorwalker_core::insights::day::Day::of_ms(at).to_string();
    let on = |key: String| compare.groups.iter().find(|g| g.key == key).map(|g| g.counts).unwrap_or_else(|| panic!("no {key} in {compare:#?}"));
    let (before, today) = (on(day(earlier)), on(day(now_ms())));
    assert_eq!((before.visitors, before.eligible, before.shown, before.dismissed), (1, 1, 1, 1), "{compare:#?}");
    assert_eq!((today.visitors, today.eligible, today.shown), (2, 1, 0), "only E: D's cooldown holds the comparison back: {compare:#?}");
}
