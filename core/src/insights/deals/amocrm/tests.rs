use super::*;
use crate::base::url::form_pairs;
use crate::leads::lead::tests::lead;
use crate::leads::lead::LeadKind;

fn rub() -> Currency {
    Currency::try_from("RUB".to_owned()).unwrap()
}

/// amoCRM's «Смена статуса сделки» webhook as it sends it: form-encoded brackets, one deal won
/// (142), one moved to another stage, and the account block.
const WEBHOOK: &str = "leads%5Bstatus%5D%5B0%5D%5Bid%5D=25399013&leads%5Bstatus%5D%5B0%5D%5Bstatus_id%5D=142\
    &leads%5Bstatus%5D%5B0%5D%5Bpipeline_id%5D=3104455&leads%5Bstatus%5D%5B0%5D%5Bold_status_id%5D=31868449\
    &leads%5Bstatus%5D%5B0%5D%5Bold_pipeline_id%5D=3104455&leads%5Bstatus%5D%5B0%5D%5Bprice%5D=44990\
    &leads%5Bstatus%5D%5B1%5D%5Bid%5D=25399014&leads%5Bstatus%5D%5B1%5D%5Bstatus_id%5D=31868452\
    &leads%5Bstatus%5D%5B1%5D%5Bprice%5D=&account%5Bsubdomain%5D=krokha&account%5Bid%5D=29085955";

fn changes(body: &str) -> Result<Vec<StatusChange>, ApiError> {
    status_changes(&form_pairs(body))
}

fn field_of(body: &str) -> Option<String> {
    changes(body).unwrap_err().field
}

#[test]
fn amocrm_status_webhook_is_read_from_its_form() {
    let fields = form_pairs(WEBHOOK);
    assert!(is_amocrm_webhook(&fields));
    assert!(!is_amocrm_webhook(&form_pairs("lead=lead_x&deal=1&amount=5&currency=RUB")));
    let read = status_changes(&fields).unwrap();
    assert_eq!(
        read,
        vec![
            StatusChange { amocrm_deal: "25399013".into(), status_id: 142, price: Some("44990".into()) },
            StatusChange { amocrm_deal: "25399014".into(), status_id: 31_868_452, price: None },
        ]
    );
    let (receipt, won) = WebhookReceipt::sort(&read);
    assert_eq!((receipt.ignored, won.len(), won[0].amocrm_deal.as_str()), (1, 1, "25399013"));

    // Unencoded brackets (a hand-written curl) read the same; the order of fields does not matter;
    // entries of other events and nested fields are left alone.
    let plain = "account[subdomain]=krokha&leads[status][3][price]=100&leads[status][3][custom_fields][0][id]=9\
        &leads[status][3][status_id]=142&leads[status][3][id]=0042&leads[update][0][id]=7&leads[status][3][id][x]=1";
    assert_eq!(changes(plain).unwrap(), vec![StatusChange { amocrm_deal: "42".into(), status_id: 142, price: Some("100".into()) }]);
    // Another event only: nothing to do, and no error (amoCRM needs a 2xx).
    assert_eq!(changes("leads[add][0][id]=7&account[id]=1").unwrap(), vec![]);
}

#[test]
fn a_malformed_amocrm_webhook_is_refused_naming_its_field() {
    for (body, field) in [
        ("leads[status][x][id]=1&leads[status][x][status_id]=142", "leads[status][x][id]"),
        ("leads[status][-1][id]=1", "leads[status][-1][id]"),
        ("leads[status][99999][id]=1", "leads[status][99999][id]"),
        ("leads[status][0", "leads[status][0"),
        ("leads[status][0][status_id]=142", "leads[status][0][id]"),
        ("leads[status][0][id]=abc&leads[status][0][status_id]=142", "leads[status][0][id]"),
        ("leads[status][0][id]=0&leads[status][0][status_id]=142", "leads[status][0][id]"),
        ("leads[status][0][id]=99999999999999999999&leads[status][0][status_id]=142", "leads[status][0][id]"),
        ("leads[status][0][id]=1", "leads[status][0][status_id]"),
        ("leads[status][0][id]=1&leads[status][0][status_id]=won", "leads[status][0][status_id]"),
        ("leads[status][0][id]=1&leads[status][0][status_id]=142&leads[status][0][price]=-5", "leads[status][0][price]"),
        ("leads[status][0][id]=1&leads[status][0][status_id]=142&leads[status][0][price]=44 990,50", "leads[status][0][price]"),
        ("leads[status][0][id]=1&leads[status][0][status_id]=142&leads[status][0][price]=1e9", "leads[status][0][price]"),
    ] {
        let error = changes(body).unwrap_err();
        assert_eq!((error.code, error.field.as_deref()), (ErrorCode::InvalidDeal, Some(field)), "{body}");
    }
    // A body of hundreds of changes is refused, not worked through.
    let many: Vec<String> = (0..=MAX_STATUS_CHANGES).map(|i| format!("leads[status][{i}][id]={}&leads[status][{i}][status_id]=142", i + 1)).collect();
    assert_eq!(field_of(&many.join("&")).as_deref(), Some("leads[status]"));
    assert_eq!(changes(&many[..MAX_STATUS_CHANGES].join("&")).unwrap().len(), MAX_STATUS_CHANGES);
    // Junk that is not amoCRM's at all reads as no status change.
    for junk in ["", "&&&", "=", "%zz=%zz", "leads=1", "leads%5B=1", "leads[status]=1"] {
        assert_eq!(changes(junk), Ok(vec![]), "{junk:?}");
    }
}

#[test]
fn a_won_amocrm_deal_reports_its_budget_for_our_lead() {
    let ours = lead(LeadKind::Callback);
    let won = StatusChange { amocrm_deal: "25399013".into(), status_id: WON_STATUS_ID, price: Some("44990".into()) };
    assert_eq!(
        won.report(&ours, Some(rub())),
        Ok(DealReport { deal: "25399013".into(), lead: ours.id.clone(), amount: Money { minor: 4_499_000, currency: rub() } })
    );
    let usd = Currency::try_from("USD".to_owned()).unwrap();
    assert_eq!(won.report(&ours, Some(usd)).unwrap().amount, Money { minor: 4_499_000, currency: usd });
    let jpy = Currency::try_from("JPY".to_owned()).unwrap();
    assert_eq!(won.report(&ours, Some(jpy)).unwrap().amount.minor, 44_990, "whole units are minor units of a currency without them");
    assert_eq!(won.report(&ours, None), Err(SkipReason::NoCurrency));
    let no_budget = StatusChange { price: None, ..won.clone() };
    assert_eq!(no_budget.report(&ours, Some(rub())), Err(SkipReason::NoPrice));
    let beyond = StatusChange { price: Some("999999999999999".into()), ..won.clone() };
    assert_eq!(beyond.report(&ours, Some(rub())), Err(SkipReason::NoPrice), "beyond the largest amount kept");
}

#[test]
fn an_amocrm_deal_is_counted_in_the_url_currency_or_else_the_shops_prices() {
    let ours = lead(LeadKind::Callback);
    let shop = ours.context.products.iter().rev().find_map(|v| v.product.price).expect("the test lead viewed priced products").currency;
    let usd = Currency::try_from("USD".to_owned()).unwrap();
    assert_eq!(deal_currency(Some(usd), &ours), Some(usd), "the owner's word for the account's currency wins");
    assert_eq!(deal_currency(None, &ours), Some(shop));
    let mut no_products = ours.clone();
    no_products.context.products.clear();
    assert_eq!(deal_currency(None, &no_products), None);
    assert_eq!(deal_currency(Some(usd), &no_products), Some(usd));

    let query = |q: &str| url_currency(&crate::base::url::query_pairs(q));
    assert_eq!(query("?token=fwdeal_x&currency=usd"), Ok(Some(usd)));
    assert_eq!(query("?token=fwdeal_x"), Ok(None));
    for bad in ["?currency=", "?currency=рубли", "?currency=RUBX", "?currency=R%00B"] {
        assert_eq!(query(bad).unwrap_err().field.as_deref(), Some("currency"), "{bad}");
    }
}

#[test]
fn the_receipt_counts_what_became_of_each_change() {
    let read = changes(WEBHOOK).unwrap();
    let (mut receipt, won) = WebhookReceipt::sort(&read);
    receipt.skipped(won[0], SkipReason::UnknownDeal);
    let json = serde_json::to_value(&receipt).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"recorded": 0, "skipped": 1, "ignored": 1, "deals": [],
            "skipped_deals": [{"amocrm_deal": "25399013", "reason": "unknown_deal"}]})
    );
}
