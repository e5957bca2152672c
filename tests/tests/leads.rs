//! Leads end to end, real parts only: the worker under wrangler dev (local D1 and Queues), a real
//! webhook receiver on 127.0.0.1 that verifies Standard Webhooks signatures independently, the
//! local mailbox. Runs on test timing (an hour of the retry schedule per second).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use floorwalker_core::base::error::{ErrorBody, ErrorCode};
use floorwalker_core::leads::consent::ConsentPurpose;
use floorwalker_core::leads::lead::{Lead, LeadKind};
use floorwalker_core::outbound::delivery::{DeliveryState, DeliveryView, EndpointSecret, EndpointView, LeadReceipt};
use floorwalker_core::outbound::email::StoredEmail;
use floorwalker_core::outbound::webhook::AttemptStatus;
use floorwalker_e2e::eventually;
use floorwalker_e2e::leads::{post, request};
use floorwalker_e2e::receiver::{Receiver, Reply};
use floorwalker_e2e::worker::Worker;
use reqwest::Method;
use serde_json::{json, Value};

/// A worker with the demo site, private endpoints allowed (the receiver is on loopback).
async fn worker(name: &str) -> Worker {
    let worker = Worker::start(name).await;
    worker.seed_demo_site(&[]).await;
    worker.allow_private_endpoints().await;
    worker
}

async fn deliveries(worker: &Worker) -> Vec<DeliveryView> {
    worker.admin_get("/sites/demo/deliveries?limit=1000").await
}

async fn submit(worker: &Worker, kind: LeadKind, visitor: &str, key: &str) -> LeadReceipt {
    let body = serde_json::to_string(&request(kind, visitor, key, &worker.origin())).expect("JSON");
    let response = post(worker, &worker.origin(), &body).await;
    assert_eq!(response.status().as_u16(), 201);
    response.json().await.expect("receipt")
}

/// The URL after `label: ` in the plain-text email.
fn link_after(text: &str, label: &str) -> String {
    text.lines().find_map(|line| line.strip_prefix(label)).map(|rest| rest.trim_start_matches(": ").to_owned()).expect(label)
}

#[tokio::test]
async fn comparison_lead_is_stored_emailed_and_signed_to_every_subscribed_endpoint() {
    let worker = worker("leads-happy").await;
    let receiver = Receiver::start();
    let generic = worker.add_endpoint(json!({"id": "crm", "url": receiver.url("/hooks/crm"), "preset": {"kind": "generic"}})).await;
    assert!(generic.secret.starts_with("whsec_"));
    receiver.set_secrets(vec![generic.secret.clone()]);
    // Several endpoints per site, each with its filter and preset.
    worker.add_endpoint(json!({"id": "b24", "url": receiver.url("/rest/1/s3cr3t/"), "preset": {"kind": "bitrix24"}, "events": ["lead.created"]}),
    )
    .await;
    worker.add_endpoint(json!({"id": "gone", "url": receiver.url("/gone"), "preset": {"kind": "generic"}})).await;
    receiver.set_reply_for("/gone", Reply::Status(410));
    let listed: Vec<EndpointView> = worker.admin_get("/sites/demo/endpoints").await;
    assert_eq!(listed.len(), 3);
    assert!(!serde_json::to_string(&listed).unwrap().contains("whsec_"), "secrets are shown once only");

    // As the widget sends it: text/plain JSON with the page's Origin; then a double submit.
    let lead_request = request(LeadKind::ComparisonEmail, "visitor-happy-1", "happy", &worker.origin());
    let body = serde_json::to_string(&lead_request).unwrap();
    let first = post(&worker, &worker.origin(), &body).await;
    assert_eq!(first.status().as_u16(), 201);
    assert_eq!(first.headers()["access-control-allow-origin"], worker.origin().as_str());
    let receipt: LeadReceipt = first.json().await.unwrap();
    let again = post(&worker, &worker.origin(), &body).await;
    assert_eq!(again.status().as_u16(), 200, "a double submit returns the original lead");
    let again: LeadReceipt = again.json().await.unwrap();
    assert_eq!((again.id.as_str(), again.duplicate), (receipt.id.as_str(), true));

    // Stored once, with its scoped consent and context.
    let leads: Vec<Lead> = worker.admin_get("/sites/demo/leads").await;
    assert_eq!(leads.len(), 1);
    let lead = &leads[0];
    assert_eq!(lead.id, receipt.id);
    assert_eq!(lead.consent.given.purpose, ConsentPurpose::ComparisonEmail);
    assert_eq!(lead.consent.given.text, "Пришлите мне одно письмо со сравнением");
    assert_eq!(lead.consent.given.text_version, "v3");
    assert_eq!(lead.consent.page_url, lead_request.page_url);
    assert!(lead.marketing_consent.is_none(), "marketing is off unless given separately");
    assert_eq!(lead.context.products.len(), 2);
    assert_eq!(lead.context.first_touch.as_ref().and_then(|t| t.utm_source.as_deref()), Some("yandex"));
    assert_eq!(lead.prompt.as_deref(), Some("compare-2"));

    // The promised email, with exactly those products.
    let emails: Vec<StoredEmail> = eventually("the comparison email in the local mailbox", Duration::from_secs(20), || async {
        let emails: Vec<StoredEmail> = worker.admin_get(&format!("/mailbox?lead={}", receipt.id)).await;
        (!emails.is_empty()).then_some(emails)
    })
    .await;
    assert_eq!(emails.len(), 1);
    let email = &emails[0].message;
    assert_eq!(email.to, "anna@example.com");
    // As the demo shop's pages publish them (the worker reads each page).
    for name in ["Поворотное автокресло Orsa 360 Isofix", "Автокресло Lumi Hug Fix"] {
        assert_eq!(email.html.matches(name).count(), 3, "{name}: link text, image alt and the side-by-side column");
    }
    assert_eq!(email.text.lines().filter(|l| l.starts_with(|c: char| c.is_ascii_digit()) && l.contains(". ")).count(), 2, "exactly two products");
    assert!(email.html.contains("34 990 ₽") && email.html.contains("19 990 ₽"));
    assert!(email.text.contains("/product/lumi-hug-fix/?utm_source=floorwalker&utm_medium=email&utm_campaign=comparison"));
    assert!(!email.html.contains("<script"));
    let page = worker.http().get(worker.url("/v1/mailbox")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("Сравнение товаров"));

    // lead.created at the generic endpoint, signed; crm.lead.add at the Bitrix24 one.
    let hook = eventually("lead.created at the receiver", Duration::from_secs(20), || async {
        receiver.received_at("/hooks/crm").into_iter().find(|r| r.delivered())
    })
    .await;
    assert_eq!(hook.signature_valid, Some(true), "the signature verifies with the receiver's own verifier");
    let envelope = hook.json();
    assert_eq!(envelope["type"], "lead.created");
    assert_eq!(envelope["data"]["id"], receipt.id.as_str());
    assert_eq!(envelope["data"]["consent"]["purpose"], "comparison_email");
    let bitrix = eventually("crm.lead.add at the Bitrix24 endpoint", Duration::from_secs(20), || async {
        receiver.received_at("/rest/1/s3cr3t/").into_iter().next()
    })
    .await;
    assert_eq!(bitrix.path, "/rest/1/s3cr3t/crm.lead.add.json");
    let fields = &bitrix.json()["fields"];
    assert_eq!(fields["TITLE"], "Сравнение на почту: Анна, anna@example.com");
    assert_eq!(fields["EMAIL"][0], json!({"VALUE": "anna@example.com", "VALUE_TYPE": "WORK"}));
    assert_eq!(fields["UTM_SOURCE"], "yandex");
    assert_eq!(fields["ORIGIN_ID"], receipt.id.as_str());
    assert_eq!(bitrix.json()["params"]["REGISTER_SONET_EVENT"], "Y");
    assert!(bitrix.header("webhook-signature").is_none(), "Bitrix24 authenticates by its URL");

    // 410 disabled the endpoint; its delivery is parked as failed, not dropped.
    let endpoints: Vec<EndpointView> = eventually("the 410 endpoint disabled", Duration::from_secs(20), || async {
        let endpoints: Vec<EndpointView> = worker.admin_get("/sites/demo/endpoints").await;
        endpoints.iter().any(|e| e.id == "gone" && !e.enabled).then_some(endpoints)
    })
    .await;
    let gone = endpoints.iter().find(|e| e.id == "gone").unwrap();
    assert!(gone.disabled_reason.as_deref().unwrap_or_default().contains("410"));
    assert_eq!(receiver.received_at("/gone").len(), 1, "no retry after 410");

    // Rotation: a second secret; both sign, so a receiver that switched already accepts.
    let (status, rotated) = worker.admin_send(Method::POST, "/sites/demo/endpoints/crm/rotate", None).await;
    assert_eq!(status, 200, "{rotated}");
    let rotated: EndpointSecret = serde_json::from_value(rotated).unwrap();
    assert_eq!(rotated.endpoint.active_secrets, 2);
    receiver.set_secrets(vec![rotated.secret.clone()]);

    // "Send me more like this": recorded once however often it is clicked; then unsubscribe. The
    // click is the POST of the link page's button (a GET only shows the page).
    let more = link_after(&email.text, "Присылайте мне похожие подборки от магазина «Кроха»");
    for _ in 0..2 {
        let page = worker.http().post(&more).send().await.unwrap();
        assert_eq!(page.status().as_u16(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("Готово") && html.contains("lang=\"ru\""), "{html}");
    }
    let unsubscribe = link_after(&email.text, "Отписаться от писем");
    let page = worker.http().post(&unsubscribe).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("Вы отписались"));
    let forged = worker.http().get(format!("{more}x")).send().await.unwrap();
    assert_eq!(forged.status().as_u16(), 400);

    let updates = eventually("two consent.updated webhooks", Duration::from_secs(20), || async {
        let updates: Vec<Value> = receiver
            .received_at("/hooks/crm")
            .into_iter()
            .filter(|r| r.delivered() && r.json()["type"] == "consent.updated")
            .map(|r| {
                assert_eq!(r.signature_valid, Some(true), "signed with the rotated secret too");
                assert_eq!(r.header("webhook-signature").map(|s| s.split(' ').count()), Some(2));
                r.json()
            })
            .collect();
        (updates.len() >= 2).then_some(updates)
    })
    .await;
    assert_eq!(updates.len(), 2, "the second click recorded nothing");
    // Separate events are delivered independently (as Standard Webhooks allows), so their arrival
    // order is not asserted; each carries its own timestamp for the CRM to order by.
    let granted: Vec<&Value> = updates.iter().filter(|u| u["data"]["granted"] == true).collect();
    assert_eq!(granted.len(), 1, "{updates:?}");
    assert_eq!(granted[0]["data"]["purpose"], "marketing");
    assert_eq!(granted[0]["data"]["record"]["text"], "Присылайте мне похожие подборки от магазина «Кроха»");
    assert_eq!(updates.iter().filter(|u| u["data"]["granted"] == false).count(), 1, "the unsubscribe, once");
}

#[tokio::test]
async fn crm_outage_loses_nothing_and_never_redelivers_after_a_2xx() {
    let worker = worker("leads-outage").await;
    let receiver = Receiver::start();
    let endpoint = worker.add_endpoint(json!({"id": "crm", "url": receiver.url("/hooks"), "preset": {"kind": "generic"}})).await;
    receiver.set_secrets(vec![endpoint.secret]);
    // The outage: errors, then hangs past the 5 s test timeout, then a throttle, then recovery.
    receiver.script(std::iter::repeat_n(Reply::Status(500), 8));
    receiver.script(std::iter::repeat_n(Reply::Hang(Duration::from_secs(7)), 4));
    receiver.script([Reply::RetryAfter(429, 2)]);

    let mut lead_ids = Vec::new();
    for n in 0..6 {
        let kind = if n % 2 == 0 { LeadKind::Callback } else { LeadKind::ComparisonEmail };
        lead_ids.push(submit(&worker, kind, &format!("visitor-outage-{n}"), &format!("outage{n}")).await.id);
    }
    // Callbacks also raise callback.requested: 3 × 2 + 3 × 1 events.
    let expected = 9;
    let delivered = eventually("every event delivered after the outage", Duration::from_secs(90), || async {
        let ids: HashSet<String> = receiver
            .received()
            .iter()
            .filter(|r| r.delivered())
            .filter_map(|r| r.header("webhook-id").map(str::to_owned))
            .collect();
        (ids.len() >= expected).then_some(ids)
    })
    .await;
    assert_eq!(delivered.len(), expected);
    // Give stray retries a chance to show up before checking none came after a 2xx.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received = receiver.received();
    let mut by_id: HashMap<String, Vec<&floorwalker_e2e::receiver::Received>> = HashMap::new();
    for r in &received {
        assert_eq!(r.signature_valid, Some(true), "every attempt is signed");
        by_id.entry(r.header("webhook-id").unwrap_or_default().to_owned()).or_default().push(r);
    }
    for (id, attempts) in &by_id {
        let ok = attempts.iter().filter(|r| r.delivered()).count();
        let timeline: Vec<(u128, u16)> =
            attempts.iter().map(|r| (r.at.duration_since(received[0].at).as_millis(), r.answered)).collect();
        assert_eq!(ok, 1, "{id} was delivered exactly once: {timeline:?}");
        assert!(attempts.last().is_some_and(|r| r.delivered()), "{id}: nothing was sent after the 2xx");
        let bodies: HashSet<&Vec<u8>> = attempts.iter().map(|r| &r.body).collect();
        assert_eq!(bodies.len(), 1, "{id}: the same body on every retry");
    }
    let leads_seen: HashSet<String> =
        received.iter().filter(|r| r.delivered()).filter_map(|r| r.json()["data"]["id"].as_str().map(str::to_owned)).collect();
    for id in &lead_ids {
        assert!(leads_seen.contains(id), "lead {id} reached the CRM");
    }

    // The attempt log shows the retries.
    let log = deliveries(&worker).await;
    let webhooks: Vec<&DeliveryView> = log.iter().filter(|d| d.target == "endpoint:crm").collect();
    assert_eq!(webhooks.len(), expected);
    assert!(webhooks.iter().all(|d| d.state == DeliveryState::Delivered), "{log:#?}");
    let statuses: Vec<AttemptStatus> = webhooks.iter().flat_map(|d| d.attempts.iter().map(|a| a.status)).collect();
    for status in [AttemptStatus::Failed, AttemptStatus::Timeout, AttemptStatus::Delivered] {
        assert!(statuses.contains(&status), "{status:?} in the attempt log: {statuses:?}");
    }
    let failed = webhooks.iter().flat_map(|d| &d.attempts).find(|a| a.response_code == Some(500)).expect("a 500 recorded");
    assert_eq!(failed.response_body.as_deref(), Some("{\"ok\":false}"));
    assert!(webhooks.iter().any(|d| d.attempts.len() > 1));
    // The emails went through the same outbox, unaffected by the CRM outage.
    assert_eq!(log.iter().filter(|d| d.target == "email" && d.state == DeliveryState::Delivered).count(), 3);
}

#[tokio::test]
async fn a_crash_before_enqueue_or_a_restart_with_deliveries_pending_loses_nothing() {
    let mut worker = worker("leads-restart").await;
    let receiver = Receiver::start();
    let endpoint = worker.add_endpoint(json!({"id": "crm", "url": receiver.url("/hooks"), "preset": {"kind": "generic"}})).await;
    receiver.set_secrets(vec![endpoint.secret]);
    receiver.set_reply(Reply::Status(503));

    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(submit(&worker, LeadKind::ComparisonEmail, &format!("visitor-restart-{n}"), &format!("restart{n}")).await.id);
    }
    // As if the worker died between the D1 batch and the enqueue.
    let body = serde_json::to_string(&request(LeadKind::ComparisonEmail, "visitor-restart-9", "restart9", &worker.origin())).unwrap();
    let lost = worker
        .http()
        .post(worker.url("/v1/leads"))
        .header("origin", worker.origin())
        .header("content-type", "application/json")
        .header("x-floorwalker-test-fault", "skip-enqueue")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(lost.status().as_u16(), 201);
    ids.push(lost.json::<LeadReceipt>().await.unwrap().id);

    eventually("the first attempts to fail", Duration::from_secs(20), || async {
        (receiver.received().len() >= 3).then_some(())
    })
    .await;
    // Restart with retries pending in the (in-memory, local) queue: they are gone with it.
    worker.restart().await;
    receiver.set_reply(Reply::Ok);
    // The cron sweeper finds the outbox rows whose messages were lost and enqueues them again.
    eventually("every lead delivered after the restart", Duration::from_secs(60), || async {
        worker.sweep().await;
        let seen: HashSet<String> = receiver
            .received()
            .iter()
            .filter(|r| r.delivered())
            .filter_map(|r| r.json()["data"]["id"].as_str().map(str::to_owned))
            .collect();
        ids.iter().all(|id| seen.contains(id)).then_some(())
    })
    .await;
    let emails: Vec<StoredEmail> = worker.admin_get("/mailbox").await;
    assert_eq!(emails.len(), 4, "every promised email, the lost enqueue's included");
    let received = receiver.received();
    let delivered: Vec<&str> = received.iter().filter(|r| r.delivered()).filter_map(|r| r.header("webhook-id")).collect();
    assert_eq!(delivered.len(), delivered.iter().collect::<HashSet<_>>().len(), "no webhook-id delivered twice");
}

#[tokio::test]
async fn retries_run_out_into_the_dead_letter_queue_and_replay_delivers() {
    let worker = worker("leads-dlq").await;
    let receiver = Receiver::start();
    let endpoint = worker.add_endpoint(json!({"id": "crm", "url": receiver.url("/hooks"), "preset": {"kind": "generic"}, "events": ["lead.created"]}),
    )
    .await;
    receiver.set_secrets(vec![endpoint.secret]);
    receiver.set_reply(Reply::Status(500));
    let lead = submit(&worker, LeadKind::Callback, "visitor-dlq-1", "dlq1").await;
    // Three days of schedule at an hour per second.
    let failed: Vec<DeliveryView> = eventually("the delivery to fail for good", Duration::from_secs(150), || async {
        let failed: Vec<DeliveryView> = worker.admin_get("/sites/demo/deliveries?state=failed").await;
        (!failed.is_empty()).then_some(failed)
    })
    .await;
    assert_eq!(failed.len(), 1);
    assert!((8..=12).contains(&failed[0].attempts.len()), "the whole schedule: {}", failed[0].attempts.len());
    receiver.set_reply(Reply::Ok);
    let (status, _) = worker.admin_send(Method::POST, &format!("/sites/demo/deliveries/{}/replay", failed[0].id), None).await;
    assert_eq!(status, 202);
    let hook = eventually("the replayed delivery", Duration::from_secs(20), || async {
        receiver.received().into_iter().find(|r| r.delivered())
    })
    .await;
    assert_eq!(hook.json()["data"]["id"], lead.id.as_str());
    assert_eq!(hook.header("webhook-id"), Some(failed[0].event_id.as_str()), "the same webhook-id after replay");
    let (status, _) = worker.admin_send(Method::POST, &format!("/sites/demo/deliveries/{}/replay", failed[0].id), None).await;
    assert_eq!(status, 404, "a delivered delivery cannot be replayed");
}

#[tokio::test]
async fn bad_leads_get_clear_4xx_and_nothing_partial_is_stored() {
    let worker = worker("leads-bad").await;
    let (status, body) = worker
        .admin_send(
            Method::PUT,
            "/sites/demo/delivery",
            Some(json!({"allow_private_endpoints": true, "lead_limits": {"per_ip": 100, "per_visitor": 2, "window_s": 600}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let origin = worker.origin();
    let good = || request(LeadKind::Callback, "visitor-bad-0", "bad0", &origin);
    let json = |r: &floorwalker_core::leads::lead::LeadRequest| serde_json::to_string(r).unwrap();
    let mut cases: Vec<(&str, String, String, u16, ErrorCode)> = Vec::new();
    let mut case = |name: &'static str, edit: &dyn Fn(&mut floorwalker_core::leads::lead::LeadRequest), status, code| {
        let mut r = good();
        edit(&mut r);
        cases.push((name, json(&r), origin.clone(), status, code));
    };
    case("invalid phone", &|r| r.contact.phone = Some("12345".into()), 400, ErrorCode::InvalidPhone);
    case("oversized name", &|r| r.contact.name = Some("А".repeat(101)), 400, ErrorCode::FieldTooLong);
    case("unknown site", &|r| r.site = "nosuchshop".into(), 404, ErrorCode::UnknownSite);
    case("honeypot", &|r| r.honeypot = "http://spam".into(), 422, ErrorCode::SpamSuspected);
    case("too fast", &|r| r.submitted_at = r.form_shown_at + 200, 422, ErrorCode::SubmittedTooFast);
    case("consent for another purpose", &|r| r.consent.purpose = ConsentPurpose::Marketing, 400, ErrorCode::InvalidConsent);
    case("too many products", &|r| r.context.products = vec![r.context.products[0].clone(); 21], 400, ErrorCode::FieldTooLong);
    let mut email = request(LeadKind::ComparisonEmail, "visitor-bad-0", "bad1", &origin);
    email.contact.email = Some("anna@@example".into());
    cases.push(("invalid email", json(&email), origin.clone(), 400, ErrorCode::InvalidEmail));
    cases.push(("wrong origin", json(&good()), "https://evil.example".into(), 403, ErrorCode::OriginNotAllowed));
    cases.push(("garbage JSON", "{nope".into(), origin.clone(), 400, ErrorCode::InvalidJson));
    cases.push(("oversized body", json(&good()).replace("после 18:00", &"x".repeat(40_000)), origin.clone(), 413, ErrorCode::PayloadTooLarge));
    for (name, body, from, status, code) in cases {
        let response = post(&worker, &from, &body).await;
        assert_eq!(response.status().as_u16(), status, "{name}");
        let error: ErrorBody = response.json().await.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(error.error.code, code, "{name}: {}", error.error.message);
        assert!(!error.error.message.is_empty());
    }
    let leads: Vec<Lead> = worker.admin_get("/sites/demo/leads").await;
    assert!(leads.is_empty(), "nothing stored: {leads:?}");
    let log: Vec<DeliveryView> = deliveries(&worker).await;
    assert!(log.is_empty(), "nothing enqueued");

    // A replayed idempotency key is the same lead (200), not a second one.
    let first = post(&worker, &origin, &json(&good())).await;
    assert_eq!(first.status().as_u16(), 201);
    let replay = post(&worker, &origin, &json(&good())).await;
    assert_eq!(replay.status().as_u16(), 200);
    // Per-visitor limit (2 per window here): the third distinct lead gets 429 with Retry-After.
    let second = post(&worker, &origin, &json(&request(LeadKind::Callback, "visitor-bad-0", "bad2", &origin))).await;
    assert_eq!(second.status().as_u16(), 201);
    let third = post(&worker, &origin, &json(&request(LeadKind::Callback, "visitor-bad-0", "bad3", &origin))).await;
    assert_eq!(third.status().as_u16(), 429);
    let retry_after: u64 = third.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=600).contains(&retry_after));
    assert_eq!(third.json::<ErrorBody>().await.unwrap().error.code, ErrorCode::RateLimited);
    // Another visitor is not held back by this one.
    let other = post(&worker, &origin, &json(&request(LeadKind::Callback, "visitor-bad-1", "bad4", &origin))).await;
    assert_eq!(other.status().as_u16(), 201);
    let leads: Vec<Lead> = worker.admin_get("/sites/demo/leads").await;
    assert_eq!(leads.len(), 3);
    let phone = leads.iter().find_map(|l| l.contact.phone.clone());
    assert_eq!(phone.as_deref(), Some("+79161234567"), "Russian 8… normalised to E.164");

    // Endpoints outside the guard are refused when the site does not allow private addresses.
    worker.admin_send(Method::PUT, "/sites/demo/delivery", Some(json!({}))).await;
    let (status, body) = worker
        .admin_send(Method::POST, "/sites/demo/endpoints", Some(json!({"id": "x", "url": "http://127.0.0.1:9/", "preset": {"kind": "generic"}})))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "endpoint_not_allowed");
}

#[tokio::test]
async fn the_promised_email_goes_out_through_postmark_and_survives_its_outage() {
    let receiver = Receiver::start();
    let base = receiver.url("/postmark");
    let worker = Worker::start_with_vars(
        "leads-postmark",
        &[
            ("EMAIL_PROVIDER", "postmark"),
            ("POSTMARK_SERVER_TOKEN", "pm-test-token"),
            ("EMAIL_API_BASE", base.as_str()),
            ("EMAIL_FROM", "Кроха <shop@kroha.example>"),
        ],
    )
    .await;
    worker.seed_demo_site(&[]).await;
    // The provider's first answer is an outage: the email is retried, not lost.
    receiver.script([Reply::Status(500)]);
    let lead = submit(&worker, LeadKind::ComparisonEmail, "visitor-postmark-1", "postmark1").await;
    let sent = eventually("the email at Postmark", Duration::from_secs(30), || async {
        receiver.received_at("/postmark/").into_iter().find(|r| r.delivered())
    })
    .await;
    assert_eq!(sent.path, "/postmark/email");
    assert_eq!(sent.header("x-postmark-server-token"), Some("pm-test-token"));
    assert_eq!(sent.header("accept"), Some("application/json"));
    let body = sent.json();
    let keys: Vec<&str> = body.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    assert_eq!(keys.len(), 7, "{keys:?}");
    let unsubscribe = body["Headers"][0]["Value"].as_str().unwrap_or_default();
    assert!(unsubscribe.starts_with(&format!("<{}/v1/consent/", worker.origin())), "{body}");
    assert_eq!(body["Headers"][0]["Name"], "List-Unsubscribe");
    assert_eq!(body["Headers"][1], json!({"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"}));
    assert_eq!(body["From"], "Кроха <shop@kroha.example>");
    assert_eq!(body["To"], "anna@example.com");
    assert_eq!(body["MessageStream"], "outbound");
    assert!(body["Subject"].as_str().unwrap_or_default().contains("Кроха"));
    assert!(body["HtmlBody"].as_str().unwrap_or_default().contains("Автокресло Lumi Hug Fix"));
    assert!(body["TextBody"].as_str().unwrap_or_default().contains(&format!("{}/v1/consent/", worker.origin())));
    assert_eq!(receiver.received_at("/postmark/").len(), 2, "one failed attempt, one delivered");
    let log = deliveries(&worker).await;
    let email = log.iter().find(|d| d.target == "email").expect("the email delivery");
    assert_eq!(email.state, DeliveryState::Delivered);
    assert_eq!(email.attempts.iter().map(|a| a.response_code).collect::<Vec<_>>(), [Some(500), Some(200)]);
    let mailbox = worker.http().get(worker.url("/v1/mailbox")).send().await.unwrap();
    assert_eq!(mailbox.status().as_u16(), 404, "no local mailbox with a real provider");
    assert!(!lead.duplicate);
}

/// The mailbox record of the comparison email sent for `lead`, as stored JSON.
async fn stored_email_json(worker: &Worker, lead: &str) -> Value {
    eventually("the comparison email in the local mailbox", Duration::from_secs(20), || async {
        let emails: Vec<Value> = worker.admin_get(&format!("/mailbox?lead={lead}")).await;
        emails.into_iter().next()
    })
    .await
}

async fn consent_updates(receiver: &Receiver) -> Vec<Value> {
    receiver
        .received_at("/hooks/consent")
        .into_iter()
        .filter(|r| r.delivered() && r.json()["type"] == "consent.updated")
        .map(|r| r.json())
        .collect()
}

/// A mail scanner that prefetches the links (GET) changes nothing and emits nothing; the page's
/// button (a POST) and a mail client's RFC 8058 one-click POST do. Every email carries the
/// `List-Unsubscribe` and `List-Unsubscribe-Post` headers.
#[tokio::test]
async fn consent_links_change_nothing_on_get_and_one_click_post_unsubscribes() {
    let worker = worker("leads-consent-get").await;
    let receiver = Receiver::start();
    let hook = worker
        .add_endpoint(json!({"id": "consent", "url": receiver.url("/hooks/consent"), "preset": {"kind": "generic"}, "events": ["consent.updated"]}))
        .await;
    receiver.set_secrets(vec![hook.secret.clone()]);
    let receipt = submit(&worker, LeadKind::ComparisonEmail, "visitor-consent-get", "consentget").await;
    let stored = stored_email_json(&worker, &receipt.id).await;
    let text = stored["message"]["text"].as_str().unwrap_or_default().to_owned();
    let more = link_after(&text, "Присылайте мне похожие подборки от магазина «Кроха»");
    let unsubscribe = link_after(&text, "Отписаться от писем");

    let headers: HashMap<String, String> = stored["message"]["headers"]
        .as_array()
        .map(|headers| {
            headers.iter().map(|h| (h["Name"].as_str().unwrap_or_default().to_owned(), h["Value"].as_str().unwrap_or_default().to_owned())).collect()
        })
        .unwrap_or_default();
    // The prefetch: each link twice, as a scanner and then a curious visitor might.
    for link in [&more, &unsubscribe, &more, &unsubscribe] {
        let page = worker.http().get(link).send().await.unwrap();
        assert_eq!(page.status().as_u16(), 200);
        assert_eq!(page.headers()["cache-control"], "no-store");
        let html = page.text().await.unwrap();
        assert!(html.contains("lang=\"ru\"") && html.contains("<h1") && html.contains("<form method=\"post\""), "{html}");
        assert!(!html.contains("Готово") && !html.contains("Вы отписались"), "a GET changed consent: {html}");
    }
    assert_eq!(headers.get("List-Unsubscribe"), Some(&format!("<{unsubscribe}>")), "{stored}");
    assert_eq!(headers.get("List-Unsubscribe-Post").map(String::as_str), Some("List-Unsubscribe=One-Click"));

    let escaped = worker.http().get(format!("{more}x")).send().await.unwrap();
    assert_eq!(escaped.status().as_u16(), 400, "a forged token gets no page with a button");

    // The page's button: a form POST.
    let page = worker
        .http()
        .post(&more)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("Готово"));
    eventually("the granted consent.updated", Duration::from_secs(20), || async {
        (consent_updates(&receiver).await.len() == 1).then_some(())
    })
    .await;

    // A mail client's one-click unsubscribe (RFC 8058) at the URL of the List-Unsubscribe header.
    let one_click = headers["List-Unsubscribe"].trim_start_matches('<').trim_end_matches('>').to_owned();
    let page = worker
        .http()
        .post(&one_click)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("Вы отписались"));
    let updates = eventually("the withdrawn consent.updated", Duration::from_secs(20), || async {
        let updates = consent_updates(&receiver).await;
        (updates.len() >= 2).then_some(updates)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let updates_after = consent_updates(&receiver).await;
    assert_eq!(updates_after.len(), 2, "only the two POSTs changed consent: {updates_after:?}");
    assert_eq!(updates.iter().filter(|u| u["data"]["granted"] == true).count(), 1);
    assert_eq!(updates.iter().filter(|u| u["data"]["granted"] == false).count(), 1);
}

/// Without PUBLIC_BASE_URL, a request's Host is trusted only on loopback: a forged Host stores the
/// lead (nothing lost) but no email leaves with signed links on the forger's host; the email is
/// parked with a configuration error, replayable once PUBLIC_BASE_URL is set.
#[tokio::test]
async fn a_forged_host_header_never_puts_consent_links_on_another_host() {
    let worker = worker("leads-forged-host").await;
    let body = serde_json::to_string(&request(LeadKind::ComparisonEmail, "visitor-forged-host", "forgedhost", &worker.origin())).unwrap();
    let response = worker
        .http()
        .post(worker.url("/v1/leads"))
        .header("host", "evil.example")
        .header("origin", worker.origin())
        .header("content-type", "text/plain;charset=UTF-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201, "the lead is stored");
    let receipt: LeadReceipt = response.json().await.unwrap();
    let leads: Vec<Lead> = worker.admin_get("/sites/demo/leads").await;
    assert!(leads.iter().any(|l| l.id == receipt.id));
    let email = eventually("the email delivery settled", Duration::from_secs(20), || async {
        deliveries(&worker).await.into_iter().find(|d| d.target == "email" && d.state != DeliveryState::Pending)
    })
    .await;
    let mailbox: Vec<Value> = worker.admin_get("/mailbox").await;
    let mailbox = serde_json::to_string(&mailbox).unwrap();
    assert!(!mailbox.contains("evil.example"), "links on the forged host: {mailbox}");
    assert_eq!(email.state, DeliveryState::Failed, "{email:?}");
    assert!(email.last_error.as_deref().unwrap_or_default().contains("PUBLIC_BASE_URL"), "{email:?}");
}
