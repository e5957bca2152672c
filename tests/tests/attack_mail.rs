//! The shop's mail, attacked as a script would: spraying transcript and comparison requests at many
//! addresses from one address, and leads that try to put their own words, links and tracking
//! images into the shop's mail. Real parts only: the worker under wrangler dev (the demo shop is
//! its static assets, whose product pages the worker reads), the local mailbox (EMAIL_PROVIDER=local).

use std::time::Duration;

use floorwalker_core::base::error::{ErrorBody, ErrorCode};
use floorwalker_core::base::money::{Currency, Money};
use floorwalker_core::leads::lead::{LeadKind, LeadRequest};
use floorwalker_core::outbound::delivery::{DeliveryState, DeliveryView};
use floorwalker_core::outbound::email::StoredEmail;
use floorwalker_e2e::chat::{start_conversation, visitor_session, SHOP};
use floorwalker_e2e::{eventually, within_one_window};
use floorwalker_e2e::leads::{post, product, request};
use floorwalker_e2e::worker::Worker;
use serde_json::{json, Value};

const PHISHING: &str = "ACTION REQUIRED: confirm payment";
const EVIL_LINK: &str = "https://evil.example/login";
const PIXEL: &str = "https://tracker.example/pixel.gif?u=target";

async fn worker(name: &str) -> Worker {
    // The mail caps count per UTC day: a test straddling midnight would see its counts reset.
    within_one_window(86_400, 600).await;
    let worker = Worker::start(name).await;
    worker.seed_demo_site(&[SHOP.to_owned()]).await;
    worker
}

async fn mailbox(worker: &Worker) -> Vec<StoredEmail> {
    worker.admin_get("/mailbox").await
}

/// Waits until the mailbox holds `count` emails, then a moment more, so that any extra would show.
async fn settled_mailbox(worker: &Worker, count: usize) -> Vec<StoredEmail> {
    eventually(&format!("{count} emails in the mailbox"), Duration::from_secs(60), || async {
        (mailbox(worker).await.len() >= count).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    mailbox(worker).await
}

/// A comparison lead from `visitor` to `to`, as the widget sends it.
fn comparison(worker: &Worker, visitor: &str, to: &str) -> LeadRequest {
    let mut lead = request(LeadKind::ComparisonEmail, visitor, visitor, &worker.origin());
    lead.contact.email = Some(to.to_owned());
    lead
}

fn assert_capped(response_status: u16, headers: &reqwest::header::HeaderMap, origin: &str) {
    assert_eq!(response_status, 429);
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&retry_after), "a day's cap: {retry_after}");
    assert_eq!(headers["access-control-allow-origin"], origin);
    assert!(headers["access-control-expose-headers"].to_str().unwrap().contains("retry-after"));
}

#[tokio::test]
async fn comparison_emails_sprayed_at_many_addresses_from_one_ip_are_capped() {
    let worker = worker("attack-mail-spray-leads").await;
    let origin = worker.origin();
    let mut statuses = Vec::new();
    for n in 0..25 {
        let body = serde_json::to_string(&comparison(&worker, &format!("visitor-spray-{n:02}"), &format!("target{n}@example.com"))).unwrap();
        let response = post(&worker, &origin, &body).await;
        let status = response.status().as_u16();
        if status == 429 {
            assert_capped(status, response.headers(), &origin);
            assert_eq!(response.json::<ErrorBody>().await.unwrap().error.code, ErrorCode::RateLimited);
        }
        statuses.push(status);
    }
    // 20 a day per client address by default; each other visitor and address changes nothing.
    assert!(statuses[..20].iter().all(|&s| s == 201), "{statuses:?}");
    assert!(statuses[20..].iter().all(|&s| s == 429), "{statuses:?}");
    let emails = settled_mailbox(&worker, 20).await;
    assert_eq!(emails.len(), 20, "nothing beyond the cap leaves");

    // Per recipient: one inbox gets at most five a day, however many clients ask.
    let worker = worker_for_recipient_cap().await;
    let origin = worker.origin();
    let mut statuses = Vec::new();
    for n in 0..7 {
        let body = serde_json::to_string(&comparison(&worker, &format!("visitor-inbox-{n:02}"), "Victim@Example.com")).unwrap();
        let response = worker
            .http()
            .post(worker.url("/v1/leads"))
            .header("origin", &origin)
            .header("cf-connecting-ip", format!("203.0.113.{}", n + 1))
            .header("content-type", "text/plain;charset=UTF-8")
            .body(body)
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [201, 201, 201, 201, 201, 429, 429], "the same inbox, typed differently, from several addresses");
}

async fn worker_for_recipient_cap() -> Worker {
    worker("attack-mail-recipient").await
}

#[tokio::test]
async fn transcripts_sprayed_at_many_addresses_from_one_ip_are_capped() {
    let worker = worker("attack-mail-spray-chat").await;
    let mut statuses = Vec::new();
    for n in 0..25 {
        // A fresh visitor and conversation each time: one conversation mails one address only.
        let visitor = visitor_session(&worker, SHOP, &format!("visitor-chat-spray-{n:02}")).await;
        let conversation = start_conversation(&worker, SHOP, &visitor.token).await;
        let path = format!("/v1/chat/conversations/{conversation}/transcript");
        let response = worker
            .http()
            .post(worker.url(&path))
            .header("origin", SHOP)
            .header("content-type", "text/plain;charset=UTF-8")
            .body(json!({"token": visitor.token, "email": format!("target{n}@example.com")}).to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        if status == 429 {
            assert_capped(status, response.headers(), SHOP);
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"]["code"], "rate_limited", "{body}");
        }
        statuses.push(status);
    }
    assert!(statuses[..20].iter().all(|&s| s == 202), "{statuses:?}");
    assert!(statuses[20..].iter().all(|&s| s == 429), "{statuses:?}");
    let emails = settled_mailbox(&worker, 20).await;
    assert_eq!(emails.len(), 20, "nothing beyond the cap leaves");
}

/// A lead that names a product off the shop's site is refused outright; one that names the
/// shop's own page with its own words, price, image and the visitor's "name" gets the email the
/// page publishes, with nothing of the request in it.
#[tokio::test]
async fn a_lead_cannot_put_its_words_links_or_images_into_the_shops_mail() {
    let worker = worker("attack-mail-content").await;
    let origin = worker.origin();
    let mut lead = comparison(&worker, "visitor-phish-01", "victim@example.com");
    let phishing = &mut lead.context.products[1].product;
    phishing.name = PHISHING.into();
    phishing.url = Some(EVIL_LINK.into());
    phishing.image = Some(PIXEL.into());
    let response = post(&worker, &origin, &serde_json::to_string(&lead).unwrap()).await;
    assert_eq!(response.status().as_u16(), 400);
    let error = response.json::<ErrorBody>().await.unwrap().error;
    assert_eq!(error.code, ErrorCode::InvalidLead);
    assert!(error.message.contains("evil.example"), "{}", error.message);
    let stored: Vec<Value> = worker.admin_get("/sites/demo/leads").await;
    assert!(stored.is_empty(), "nothing stored");

    // The shop's own page, described by the request as something else entirely.
    let mut lead = comparison(&worker, "visitor-phish-02", "victim@example.com");
    lead.contact.name = Some(format!("{PHISHING} at evil.example"));
    lead.context.products = vec![product("orsa-360-isofix", PHISHING, 1, &origin)];
    let hint = &mut lead.context.products[0].product;
    hint.image = Some(PIXEL.into());
    hint.category = Some(format!("Log in at {EVIL_LINK}"));
    let response = post(&worker, &origin, &serde_json::to_string(&lead).unwrap()).await;
    assert_eq!(response.status().as_u16(), 201);
    let emails = settled_mailbox(&worker, 1).await;
    let raw = serde_json::to_string(&emails).unwrap();
    for planted in ["ACTION REQUIRED", "evil.example", "tracker.example", "1 ₽"] {
        assert!(!raw.contains(planted), "{planted} reached the mail: {raw}");
    }
    let message = &emails[0].message;
    assert!(message.html.contains("Поворотное автокресло Orsa 360 Isofix"), "the page's name");
    assert!(message.html.contains("34 990 ₽"), "the page's price");
    assert!(message.html.contains(&format!(r#"<img src="{origin}/img/orsa-360-isofix.svg""#)), "the page's image");
}

/// The demo shop's page for `slug`, as the test reads it: its JSON-LD product.
async fn published(worker: &Worker, slug: &str) -> Value {
    let html = worker.http().get(worker.url(&format!("/product/{slug}/"))).send().await.unwrap().text().await.unwrap();
    let start = html.find(r#"<script type="application/ld+json">"#).expect("JSON-LD") + r#"<script type="application/ld+json">"#.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

#[tokio::test]
async fn the_comparison_shows_what_the_shops_pages_publish_side_by_side() {
    let worker = worker("attack-mail-pages").await;
    let origin = worker.origin();
    let mut lead = comparison(&worker, "visitor-pages-01", "anna@example.com");
    // Hints only: the names and prices here are wrong on purpose; a missing page is dropped.
    lead.context.products = vec![
        product("aistenok-flyer", "stroller 1", 5, &origin),
        product("no-such-product", "stroller 2", 5, &origin),
        product("nordika-city-lite", "stroller 3", 5, &origin),
    ];
    let response = post(&worker, &origin, &serde_json::to_string(&lead).unwrap()).await;
    assert_eq!(response.status().as_u16(), 201);
    let emails = settled_mailbox(&worker, 1).await;
    assert_eq!(emails.len(), 1);
    let message = &emails[0].message;
    assert!(!message.text.contains("stroller"), "no name from the request: {}", message.text);
    // When the visitor asked, on the shop's clock (Moscow, UTC+3, the demo's zone) and named so.
    let minute_now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 60;
    let moscow = |minute: u64| format!("{:02}:{:02} (Europe/Moscow)", (minute + 180) / 60 % 24, (minute + 180) % 60);
    assert!(
        (minute_now.saturating_sub(3)..=minute_now).any(|minute| message.text.contains(&moscow(minute))),
        "asked at about {} in the text: {}",
        moscow(minute_now),
        message.text
    );
    let table_at = message.html.find(r#"data-comparison="side-by-side""#).expect("the side-by-side table");
    let table = &message.html[table_at..];
    // Most recently viewed first: Nordika, then Aistenok.
    let order: Vec<usize> = ["nordika-city-lite", "aistenok-flyer"]
        .iter()
        .map(|slug| message.text.find(&format!("/product/{slug}/?utm_source=floorwalker")).expect("a link to the page"))
        .collect();
    assert!(order[0] < order[1]);
    for slug in ["nordika-city-lite", "aistenok-flyer"] {
        let page = published(&worker, slug).await;
        let name = page["name"].as_str().unwrap();
        assert!(message.html.contains(name), "{name}");
        let rub: f64 = page["offers"]["price"].as_str().unwrap().parse().unwrap();
        let price = Money { minor: (rub * 100.0) as i64, currency: Currency::RUB };
        let shown = floorwalker_core::outbound::crm::format_money(price);
        assert!(table.contains(&shown), "{shown} in the table");
        assert!(table.contains(page["brand"]["name"].as_str().unwrap()));
        for property in page["additionalProperty"].as_array().expect("the page's specs") {
            // As core cleans page text: whitespace runs (no-break spaces too) become one space.
            let clean = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
            let (label, value) = (clean(property["name"].as_str().unwrap()), clean(property["value"].as_str().unwrap()));
            assert!(table.contains(&label) && table.contains(&value), "{label}: {value} in the table");
            assert!(message.text.contains(&format!("{label}: {value}")), "{label}: {value} in the text");
        }
    }
    assert!(table.contains("В наличии"), "availability");

    // Every page gone: nothing is sent; the delivery is parked as failed, saying why.
    let mut lead = comparison(&worker, "visitor-pages-02", "boris@example.com");
    lead.context.products = vec![product("no-such-product", "stroller", 5, &origin)];
    let response = post(&worker, &origin, &serde_json::to_string(&lead).unwrap()).await;
    assert_eq!(response.status().as_u16(), 201);
    let failed = eventually("the email delivery parked", Duration::from_secs(30), || async {
        let log: Vec<DeliveryView> = worker.admin_get("/sites/demo/deliveries?limit=100").await;
        log.into_iter().find(|d| d.target == "email" && d.state == DeliveryState::Failed)
    })
    .await;
    assert!(failed.last_error.as_deref().is_some_and(|e| e.contains("no product page publishes")), "{failed:?}");
    assert_eq!(mailbox(&worker).await.len(), 1, "no email for the lead whose pages are gone");
}
