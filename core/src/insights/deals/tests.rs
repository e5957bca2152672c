use super::*;

fn rub() -> Currency {
    Currency::try_from("RUB".to_owned()).unwrap()
}

const LEAD: &str = "lead_0123456789abcdef01234567";

#[test]
fn amounts_are_read_as_people_and_crms_write_them() {
    let jpy = Currency::try_from("JPY".to_owned()).unwrap();
    let kwd = Currency::try_from("KWD".to_owned()).unwrap();
    for (text, currency, minor) in [
        ("44990", rub(), 4_499_000),
        ("44990.00", rub(), 4_499_000),
        ("44 990,50", rub(), 4_499_050),
        ("44\u{a0}990", rub(), 4_499_000),
        ("1,299.99", rub(), 129_999),
        ("1.299", rub(), 129_900),
        ("0.5", rub(), 50),
        ("0", rub(), 0),
        ("1500", jpy, 1500),
        ("1.250", kwd, 1250),
    ] {
        assert_eq!(parse_amount(text, currency).unwrap(), minor, "{text}");
    }
    for bad in ["", "-5", "abc", "12.3456", "1.2.3", "1,2.30", "5e3", "99999999999999999999", "."] {
        assert_eq!(parse_amount(bad, rub()).unwrap_err().code, ErrorCode::InvalidDeal, "{bad:?}");
    }
}

#[test]
fn a_report_names_a_lead_a_deal_and_a_sum() {
    let json = serde_json::json!({"lead": LEAD, "deal": "B24-1017", "amount": 44990.5, "currency": "rub"});
    let report = DealReport::from_json(&json).unwrap();
    assert_eq!(report, DealReport { deal: "B24-1017".into(), lead: LEAD.into(), amount: Money { minor: 4_499_050, currency: rub() } });
    let field = |json: serde_json::Value| DealReport::from_json(&json).unwrap_err().field;
    assert_eq!(field(serde_json::json!({"deal": "1", "amount": 1, "currency": "RUB"})), Some("lead".into()));
    assert_eq!(field(serde_json::json!({"lead": "lead_x", "deal": "1", "amount": 1, "currency": "RUB"})), Some("lead".into()));
    assert_eq!(field(serde_json::json!({"lead": LEAD, "amount": 1, "currency": "RUB"})), Some("deal".into()));
    assert_eq!(field(serde_json::json!({"lead": LEAD, "deal": "1", "amount": 1, "currency": "RUBLES"})), Some("currency".into()));
    assert_eq!(field(serde_json::json!({"lead": LEAD, "deal": "1", "amount": "-1", "currency": "RUB"})), Some("amount".into()));
    assert_eq!(field(serde_json::json!({"lead": LEAD, "deal": "x".repeat(129), "amount": 1, "currency": "RUB"})), Some("deal".into()));
    assert_eq!(DealReport::from_json(&serde_json::json!([1])).unwrap_err().code, ErrorCode::InvalidJson);
}

#[test]
fn the_same_deal_again_is_idempotent_and_a_correction_wins() {
    let report = DealReport { deal: "7".into(), lead: LEAD.into(), amount: Money { minor: 100, currency: rub() } };
    let stored = Deal {
        deal: "7".into(),
        lead: LEAD.into(),
        prompt: None,
        lead_day: Day(20_000),
        amount: report.amount,
        reported_at: 1,
    };
    assert_eq!(DealOutcome::of(None, &report), DealOutcome::Created);
    assert_eq!(DealOutcome::of(Some(&stored), &report), DealOutcome::Unchanged);
    let corrected = DealReport { amount: Money { minor: 200, currency: rub() }, ..report };
    assert_eq!(DealOutcome::of(Some(&stored), &corrected), DealOutcome::Updated);
    assert_eq!(DealOutcome::Created.http_status(), 201);
}

#[test]
fn tokens_are_recognisable_and_only_their_hash_is_kept() {
    let (token, hash) = new_token(&[7; 24]);
    assert!(token.starts_with(TOKEN_PREFIX) && token.len() > 30);
    assert_eq!(hash, token_hash(&token));
    assert_eq!(hash.len(), 64);
    assert_ne!(token_hash(&new_token(&[8; 24]).0), hash);
}

#[test]
fn a_tokens_last_call_says_what_became_of_it_in_both_languages() {
    use amocrm::{SkipReason, Skipped};
    let read = TokenCall::recorded(1, 2, &[]);
    assert_eq!(read.words(Locale::En), "deals recorded: 2");
    assert_eq!(read.words(Locale::Ru), "записано сделок: 2");

    let skipped: Vec<Skipped> = (0..7).map(|n| Skipped { amocrm_deal: format!("{}", 100 + n), reason: SkipReason::UnknownDeal }).collect();
    let partly = TokenCall::recorded(1, 1, &skipped);
    assert_eq!((partly.skipped, partly.skipped_deals.len()), (7, MAX_SKIPPED_KEPT), "the count whole, the first few kept");
    let en = partly.words(Locale::En);
    assert!(en.starts_with("deals recorded: 1; skipped 7: deal 100 (not a deal a Floorwalker lead became), deal 101"), "{en}");
    assert!(en.ends_with(" and 2 more"), "{en}");
    assert!(partly.words(Locale::Ru).contains("пропущено 7: сделка 100 (не из заявок Floorwalker)"));
    let no_currency = TokenCall::recorded(1, 0, &[Skipped { amocrm_deal: "7".into(), reason: SkipReason::NoCurrency }]);
    assert!(no_currency.words(Locale::En).contains("add &currency=RUB"));

    let long = ApiError { code: ErrorCode::InvalidDeal, message: "x".repeat(5000), field: Some("currency".into()) };
    let refused = TokenCall::refused(1, &long);
    let kept = refused.refused.as_ref().expect("refused");
    assert_eq!((kept.code, kept.field.as_deref(), kept.message.chars().count()), (ErrorCode::InvalidDeal, Some("currency"), MAX_REFUSAL_KEPT));
    assert!(refused.words(Locale::Ru).starts_with("отклонён: xxx"));
    let json = serde_json::to_value(&refused).expect("JSON");
    assert_eq!(serde_json::from_value::<TokenCall>(json).expect("read back"), refused);
}
