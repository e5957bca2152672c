//! Issue 14, deals back from amoCRM: a lead delivered to an amoCRM endpoint (the receiver answers
//! as amoCRM documents its complex add) is remembered as the amoCRM deal it became, so amoCRM's own
//! form-encoded «Смена статуса сделки» webhook, which names only that deal, shows as revenue under
//! the lead's prompt. The unhappy paths, another site's deals, and the link's erasure and retention.

use std::time::Duration;

use floorwalker_core::base::locale::Locale;
use floorwalker_core::insights::deals::{DealToken, TokenCall};
use floorwalker_core::insights::funnel::Funnel;
use floorwalker_core::leads::lead::{Lead, LeadKind};
use floorwalker_core::outbound::delivery::{DeliveryState, DeliveryView};
use floorwalker_core::upkeep::retention::{Kept, RetentionPolicy, DAY_MS};
use floorwalker_e2e::eventually;
use floorwalker_e2e::leads::{post, request};
use floorwalker_e2e::receiver::{Receiver, Reply};
use floorwalker_e2e::worker::Worker;
use reqwest::Method;
use serde_json::{json, Value};

const COMPARE: &str = "compare_by_email";
const AMO_TOKEN: (&str, &str) = ("CRM_AMO_TOKEN_TEST", "amo-long-lived-token");
const COMPLEX: &str = "/api/v4/leads/complex";
const OTHER_ORIGIN: &str = "http://other-shop.example";

/// A worker whose `site` sends leads to an amoCRM endpoint at `receiver`, which answers as amoCRM.
async fn amocrm_endpoint(worker: &Worker, site: &str, receiver: &Receiver) {
    receiver.set_reply_for(COMPLEX, Reply::AmoCrm);
    let (status, answer) = worker.admin_send(Method::PUT, &format!("/sites/{site}/delivery"), Some(json!({"allow_private_endpoints": true}))).await;
    assert_eq!(status, 200, "{answer}");
    let endpoint = json!({"id": "amo", "url": receiver.url(""), "preset": {"kind": "amocrm", "token_secret": AMO_TOKEN.0}});
    let (status, answer) = worker.admin_send(Method::POST, &format!("/sites/{site}/endpoints"), Some(endpoint)).await;
    assert_eq!(status, 201, "{answer}");
}

/// Posts a lead of `site` from `visitor` (prompt: the comparison); its id.
async fn lead(worker: &Worker, site: &str, origin: &str, visitor: &str) -> String {
    let mut lead = request(LeadKind::ComparisonEmail, visitor, visitor, origin);
    lead.site = site.into();
    lead.prompt = Some(COMPARE.into());
    let response = post(worker, origin, &serde_json::to_string(&lead).unwrap()).await;
    assert_eq!(response.status().as_u16(), 201, "{}", response.text().await.unwrap_or_default());
    Lead::id_for(site, visitor, &lead.idempotency_key)
}

/// The amoCRM deal `lead` of `site` became, as the delivery log shows amoCRM's answer (the double
/// echoes our request id as amoCRM does). The worker remembers it before it marks the delivery
/// delivered, so from then on the deal is known.
async fn amocrm_deal_of(worker: &Worker, site: &str, lead: &str) -> String {
    eventually("the lead delivered to amoCRM", Duration::from_secs(30), || async {
        let log: Vec<DeliveryView> = worker.admin_get(&format!("/sites/{site}/deliveries?limit=100")).await;
        log.iter()
            .filter(|d| d.target == "endpoint:amo" && d.state == DeliveryState::Delivered)
            .flat_map(|d| d.attempts.iter())
            .filter_map(|attempt| serde_json::from_str::<Value>(attempt.response_body.as_deref()?).ok())
            .find(|answer| answer[0]["request_id"] == json!([lead]))
            .and_then(|answer| answer[0]["id"].as_u64())
            .map(|id| id.to_string())
    })
    .await
}

async fn deal_token(worker: &Worker, site: &str) -> String {
    let (status, created) = worker.admin_send(Method::POST, &format!("/sites/{site}/deal-tokens"), Some(json!({"name": "amoCRM"}))).await;
    assert_eq!(status, 201, "{created}");
    created["token"].as_str().unwrap().to_owned()
}

/// What the demo site's newest deal token says of its last call.
async fn last_call(worker: &Worker) -> Option<TokenCall> {
    let tokens: Vec<DealToken> = worker.admin_get("/sites/demo/deal-tokens").await;
    tokens.into_iter().next().expect("a token").last_call
}

/// amoCRM's webhook for deals moved to (id, status, price): its fields, as it sends them.
fn status_webhook(deals: &[(&str, &str, &str)]) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for (n, (id, status, price)) in deals.iter().enumerate() {
        for (name, value) in [("id", *id), ("status_id", *status), ("pipeline_id", "3104455"), ("old_status_id", "31868449"), ("old_pipeline_id", "3104455"), ("price", *price)] {
            fields.push((format!("leads[status][{n}][{name}]"), value.to_owned()));
        }
    }
    fields.push(("account[subdomain]".into(), "krokha".into()));
    fields.push(("account[id]".into(), "29085955".into()));
    fields
}

/// Posts amoCRM's webhook (form-encoded, brackets escaped, as amoCRM does) to `url`.
async fn post_webhook(worker: &Worker, url: &str, fields: &[(String, String)]) -> (u16, Value) {
    let response = worker.http().post(url).form(fields).send().await.expect("POST /v1/deals");
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

fn revenue(funnel: &Funnel) -> Vec<(String, i64, u64)> {
    let compare = funnel.prompts.iter().find(|p| p.prompt == COMPARE).unwrap_or_else(|| panic!("{COMPARE} in {funnel:#?}"));
    compare.revenue.iter().map(|r| (r.currency.as_str().to_owned(), r.amount_minor, r.deals)).collect()
}

#[tokio::test]
async fn amocrm_won_status_webhook_shows_revenue_under_the_leads_prompt() {
    let worker = Worker::start_with_vars("amocrm-deals", &[AMO_TOKEN]).await;
    worker.seed_demo_site(&[]).await;
    let receiver = Receiver::start();
    amocrm_endpoint(&worker, "demo", &receiver).await;
    let lead_id = lead(&worker, "demo", &worker.origin(), "visitor-amo-1").await;
    let deal = amocrm_deal_of(&worker, "demo", &lead_id).await;
    let sent = &receiver.received_at(COMPLEX)[0];
    assert_eq!(sent.header("authorization"), Some("Bearer amo-long-lived-token"));

    let token = deal_token(&worker, "demo").await;
    let url = worker.url(&format!("/v1/deals/demo?token={token}"));
    // Won (142) at 44 990, another deal won that no lead became, one moved to another stage.
    let webhook = status_webhook(&[(&deal, "142", "44990"), ("99000001", "142", "100"), (&deal, "31868452", "44990")]);
    let (status, receipt) = post_webhook(&worker, &url, &webhook).await;
    assert_eq!(status, 200, "{receipt}");
    assert_eq!((receipt["recorded"].as_u64(), receipt["skipped"].as_u64(), receipt["ignored"].as_u64()), (Some(1), Some(1), Some(1)), "{receipt}");
    assert_eq!(receipt["deals"][0]["outcome"], "created");
    assert_eq!(receipt["deals"][0]["deal"]["lead"], lead_id.as_str());
    assert_eq!(receipt["deals"][0]["deal"]["deal"], deal.as_str());
    // No currency on the URL: the shop's own prices in the lead say roubles.
    assert_eq!(receipt["deals"][0]["deal"]["amount"], json!({"minor": 4_499_000, "currency": "RUB"}));
    assert_eq!(receipt["skipped_deals"], json!([{"amocrm_deal": "99000001", "reason": "unknown_deal"}]));
    let funnel: Funnel = worker.admin_get("/sites/demo/funnel").await;
    assert_eq!(revenue(&funnel), [("RUB".to_owned(), 4_499_000, 1)]);
    // The owner's token list says what the call did, the skipped deal and why included.
    let call = last_call(&worker).await.expect("a call");
    assert_eq!((call.recorded, call.skipped, call.refused.is_none()), (1, 1, true), "{call:?}");
    assert_eq!(call.words(Locale::En), "deals recorded: 1; skipped 1: deal 99000001 (not a deal a Floorwalker lead became)");

    // amoCRM sends it again: unchanged. The budget corrected: updated, one deal still.
    let won = status_webhook(&[(&deal, "142", "44990")]);
    let (status, receipt) = post_webhook(&worker, &url, &won).await;
    assert_eq!((status, receipt["deals"][0]["outcome"].as_str()), (200, Some("unchanged")), "{receipt}");
    let (status, receipt) = post_webhook(&worker, &url, &status_webhook(&[(&deal, "142", "45990")])).await;
    assert_eq!((status, receipt["deals"][0]["outcome"].as_str()), (200, Some("updated")), "{receipt}");
    let funnel: Funnel = worker.admin_get("/sites/demo/funnel").await;
    assert_eq!(revenue(&funnel), [("RUB".to_owned(), 4_599_000, 1)]);

    // The owner's `currency` on the URL names the account's currency, and wins.
    let (status, receipt) = post_webhook(&worker, &format!("{url}&currency=usd"), &status_webhook(&[(&deal, "142", "500")])).await;
    assert_eq!((status, receipt["deals"][0]["deal"]["amount"].clone()), (200, json!({"minor": 50_000, "currency": "USD"})), "{receipt}");
    // A deal without budget is skipped and said so; amoCRM still gets its 2xx.
    let (status, receipt) = post_webhook(&worker, &url, &status_webhook(&[(&deal, "142", "")])).await;
    assert_eq!((status, receipt["skipped_deals"][0]["reason"].as_str()), (200, Some("no_price")), "{receipt}");
    // A webhook of another event only: nothing to do, 200.
    let added = [("leads[add][0][id]".to_owned(), deal.clone()), ("account[id]".to_owned(), "29085955".to_owned())];
    let (status, receipt) = post_webhook(&worker, &url, &added).await;
    assert_eq!((status, receipt["recorded"].as_u64(), receipt["ignored"].as_u64()), (200, Some(0), Some(0)), "{receipt}");
}

#[tokio::test]
async fn amocrm_webhook_refuses_what_it_must_and_never_reaches_another_site() {
    let worker = Worker::start_with_vars("amocrm-deals-refusals", &[AMO_TOKEN]).await;
    worker.seed_demo_site(&[]).await;
    let mut other = worker.demo_site_config(&[]);
    other.site = "other".into();
    other.origins = vec![OTHER_ORIGIN.into()];
    worker.put_site(&other).await;
    let receiver = Receiver::start();
    amocrm_endpoint(&worker, "demo", &receiver).await;
    amocrm_endpoint(&worker, "other", &receiver).await;
    let ours = lead(&worker, "demo", &worker.origin(), "visitor-amo-ours").await;
    let theirs = lead(&worker, "other", OTHER_ORIGIN, "visitor-amo-theirs").await;
    let our_deal = amocrm_deal_of(&worker, "demo", &ours).await;
    let their_deal = amocrm_deal_of(&worker, "other", &theirs).await;
    let token = deal_token(&worker, "demo").await;
    let other_token = deal_token(&worker, "other").await;
    let base = worker.url("/v1/deals/demo");
    let won = status_webhook(&[(&our_deal, "142", "44990")]);

    // No token, a wrong one, another site's: 401, nothing recorded.
    for url in [base.clone(), format!("{base}?token=fwdeal_wrong"), format!("{base}?token={other_token}")] {
        let (status, body) = post_webhook(&worker, &url, &won).await;
        assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unauthorized")), "{url}: {body}");
    }
    // Another site's amoCRM deal is unknown here, even with a good token: skipped, and that
    // site's lead gets no revenue.
    let url = format!("{base}?token={token}");
    let (status, receipt) = post_webhook(&worker, &url, &status_webhook(&[(&their_deal, "142", "44990")])).await;
    assert_eq!((status, receipt["skipped_deals"][0]["reason"].as_str(), receipt["recorded"].as_u64()), (200, Some("unknown_deal"), Some(0)), "{receipt}");
    let funnel: Funnel = worker.admin_get("/sites/other/funnel").await;
    assert!(funnel.prompts.iter().all(|p| p.revenue.is_empty()), "{funnel:#?}");
    // Malformed: a 400 naming the field, never a 5xx.
    for (fields, field) in [
        (vec![("leads[status][0][id]", "abc"), ("leads[status][0][status_id]", "142")], "leads[status][0][id]"),
        (vec![("leads[status][x][id]", "1")], "leads[status][x][id]"),
        (vec![("leads[status][0][id]", "5")], "leads[status][0][status_id]"),
        (vec![("leads[status][0][id]", "5"), ("leads[status][0][status_id]", "142"), ("leads[status][0][price]", "44 990,50")], "leads[status][0][price]"),
    ] {
        let fields: Vec<(String, String)> = fields.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        let (status, body) = post_webhook(&worker, &url, &fields).await;
        assert_eq!((status, body["error"]["code"].as_str(), body["error"]["field"].as_str()), (400, Some("invalid_deal"), Some(field)), "{body}");
    }
    let (status, body) = post_webhook(&worker, &format!("{url}&currency=рубли"), &won).await;
    assert_eq!((status, body["error"]["field"].as_str()), (400, Some("currency")), "{body}");
    // The owner sees the refusal on the token, not only amoCRM's log.
    let refused = last_call(&worker).await.and_then(|call| call.refused).expect("the refusal kept");
    assert_eq!(refused.field.as_deref(), Some("currency"), "{refused:?}");
    // Hundreds of changes in one body, and a body past the limit: refused, not worked through.
    let many: Vec<(String, String)> =
        (0..60).flat_map(|n| [(format!("leads[status][{n}][id]"), our_deal.clone()), (format!("leads[status][{n}][status_id]"), "142".into())]).collect();
    let (status, body) = post_webhook(&worker, &url, &many).await;
    assert_eq!((status, body["error"]["field"].as_str()), (400, Some("leads[status]")), "{body}");
    let huge = format!("leads[status][0][id]={our_deal}&leads[status][0][status_id]=142&pad={}", "x".repeat(20_000));
    let response = worker.http().post(&url).header("content-type", "application/x-www-form-urlencoded").body(huge).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 413);
    // Nothing above recorded a deal.
    let funnel: Funnel = worker.admin_get("/sites/demo/funnel").await;
    assert!(revenue(&funnel).is_empty(), "{funnel:#?}");
}

#[tokio::test]
async fn amocrm_deal_links_go_with_an_erased_visitor_and_with_their_lead_in_retention() {
    let worker = Worker::start_with_vars("amocrm-deals-privacy", &[AMO_TOKEN]).await;
    worker.seed_demo_site(&[]).await;
    let receiver = Receiver::start();
    amocrm_endpoint(&worker, "demo", &receiver).await;
    let erased = lead(&worker, "demo", &worker.origin(), "visitor-amo-erased").await;
    let kept = lead(&worker, "demo", &worker.origin(), "visitor-amo-kept").await;
    let erased_deal = amocrm_deal_of(&worker, "demo", &erased).await;
    let kept_deal = amocrm_deal_of(&worker, "demo", &kept).await;
    let url = worker.url(&format!("/v1/deals/demo?token={}", deal_token(&worker, "demo").await));

    // A visitor erased takes the link with them: their deal is unknown from then on.
    let (status, answer) = worker.admin_send(Method::POST, "/sites/demo/visitors/erase", Some(json!({"visitor": "visitor-amo-erased"}))).await;
    assert_eq!(status, 200, "{answer}");
    let links = worker.d1_select("SELECT amocrm_deal, lead FROM amocrm_deals ORDER BY amocrm_deal");
    assert_eq!(links, [json!({"amocrm_deal": kept_deal, "lead": kept})]);
    let (status, receipt) = post_webhook(&worker, &url, &status_webhook(&[(&erased_deal, "142", "100"), (&kept_deal, "142", "200")])).await;
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(receipt["skipped_deals"], json!([{"amocrm_deal": erased_deal, "reason": "unknown_deal"}]));
    assert_eq!(receipt["deals"][0]["deal"]["lead"], kept.as_str());

    // Retention: the link is kept exactly as long as its lead.
    let keep = RetentionPolicy::default().keep_ms(Kept::Leads, None);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let (status, report) = worker.admin_send(Method::POST, &format!("/retention/run?at={}", now + keep - DAY_MS), None).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(worker.d1_select("SELECT COUNT(*) AS n FROM amocrm_deals")[0]["n"], 1, "a day before its lead's time: kept");
    let (status, report) = worker.admin_send(Method::POST, &format!("/retention/run?at={}", now + keep + DAY_MS), None).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(worker.d1_select("SELECT COUNT(*) AS n FROM leads")[0]["n"], 0, "{report}");
    assert_eq!(worker.d1_select("SELECT COUNT(*) AS n FROM amocrm_deals")[0]["n"], 0, "gone with its lead");
}
