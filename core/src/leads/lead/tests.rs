use super::*;
use crate::base::money::{Currency, Money};
use crate::visitor::context::{Answer, Product, ViewedProduct};

pub(crate) const NOW: u64 = 1_790_000_000_000;

pub(crate) fn context() -> VisitorContext {
    let product = |id: &str, name: &str, rub: i64| ViewedProduct {
        product: Product {
            id: id.into(),
            name: name.into(),
            price: Some(Money { minor: rub * 100, currency: Currency::RUB }),
            image: None,
            url: Some(format!("https://shop.example/p/{id}")),
            category: Some("Коляски".into()),
            suits_age: None,
        },
        views: 2,
        last_viewed_at: NOW - 60_000,
    };
    VisitorContext {
        first_touch: Some(Touch {
            utm_source: Some("yandex".into()),
            utm_medium: Some("cpc".into()),
            utm_campaign: Some("strollers_spring".into()),
            utm_content: Some("ad42".into()),
            utm_term: Some("коляска 3 в 1".into()),
            gclid: None,
            yclid: Some("123".into()),
            referrer: Some("https://yandex.ru/".into()),
            landing_page: "https://shop.example/p/s1".into(),
            at: NOW - 600_000,
        }),
        last_touch: None,
        pages_viewed: 7,
        recent_pages: vec!["https://shop.example/p/s1".into(), "https://shop.example/p/s2".into()],
        products: vec![product("s1", "Коляска Vento 3 в 1", 24_990), product("s2", "Коляска Alto <Lux>", 31_500)],
        active_seconds: 240,
        answers: vec![],
        returning: false,
        locale: Locale::Ru,
        page_url: "https://shop.example/p/s2".into(),
        page_titles: Vec::new(),
    }
}

pub(crate) fn request(kind: LeadKind) -> LeadRequest {
    let contact = match kind {
        LeadKind::ComparisonEmail | LeadKind::QuestionAnswer => {
            Contact { email: Some(" Anna@Yandex.RU ".into()), name: Some("Анна".into()), ..Contact::default() }
        }
        LeadKind::Callback => Contact {
            phone: Some("8 (916) 123-45-67".into()),
            name: Some("Анна".into()),
            time_slot: Some("после 18:00".into()),
            ..Contact::default()
        },
        LeadKind::OfflineMessage => Contact {
            email: Some("anna@yandex.ru".into()),
            message: Some("Есть ли в наличии синяя?".into()),
            ..Contact::default()
        },
        LeadKind::ChatContact => Contact { phone: Some("+7 916 123 45 67".into()), ..Contact::default() },
    };
    let mut context = context();
    if kind == LeadKind::QuestionAnswer {
        context.answers.push(Answer { question: "Сколько лет ребёнку?".into(), answer: "до года".into() });
    }
    LeadRequest {
        site: "demo".into(),
        visitor: "visitor01".into(),
        kind,
        prompt: Some("compare-2".into()),
        contact,
        honeypot: String::new(),
        form_shown_at: 1_000_000,
        submitted_at: 1_009_000,
        idempotency_key: "idem0123456789abcdef".into(),
        consent: ConsentText {
            purpose: kind.consent_purpose(),
            text: "Согласен получить одно письмо со сравнением".into(),
            text_version: "v3".into(),
        },
        marketing_consent: None,
        context,
        locale: Locale::Ru,
        page_url: "https://shop.example/p/s2".into(),
    }
}

pub(crate) fn lead(kind: LeadKind) -> Lead {
    request(kind).validate(PhoneRegion::Ru, NOW).unwrap().into_lead()
}

#[test]
fn every_kind_validates_and_normalises() {
    for kind in [
        LeadKind::ComparisonEmail,
        LeadKind::Callback,
        LeadKind::QuestionAnswer,
        LeadKind::OfflineMessage,
        LeadKind::ChatContact,
    ] {
        let lead = request(kind).validate(PhoneRegion::Ru, NOW).unwrap().into_lead();
        assert_eq!(lead.kind, kind);
        assert_eq!(lead.created_at, NOW);
        assert_eq!(lead.consent.given.purpose, kind.consent_purpose());
        assert_eq!(lead.consent.granted_at, NOW);
        assert!(!lead.marketing_opted_in());
        assert!(lead.id.starts_with("lead_") && lead.id.len() == 29, "{}", lead.id);
    }
    assert_eq!(lead(LeadKind::ComparisonEmail).contact.email.as_deref(), Some("Anna@yandex.ru"));
    assert_eq!(lead(LeadKind::Callback).contact.phone.as_deref(), Some("+79161234567"));
}

#[test]
fn ids_are_stable_across_retries_and_distinct_otherwise() {
    let first = request(LeadKind::Callback).validate(PhoneRegion::Ru, NOW).unwrap().into_lead();
    let retry = request(LeadKind::Callback).validate(PhoneRegion::Ru, NOW + 5000).unwrap().into_lead();
    assert_eq!(first.id, retry.id);
    let other = LeadRequest { idempotency_key: "idem0123456789abcdeX".into(), ..request(LeadKind::Callback) };
    assert_ne!(other.validate(PhoneRegion::Ru, NOW).unwrap().lead().id, first.id);
    assert_ne!(Lead::id_for("demo", "visitor02", "idem0123456789abcdef"), first.id);
}

#[test]
fn spam_checks_come_first() {
    let bot = LeadRequest { honeypot: "http://spam".into(), site: "Bad Site".into(), ..request(LeadKind::Callback) };
    assert_eq!(bot.validate(PhoneRegion::Ru, NOW).unwrap_err().code, ErrorCode::SpamSuspected);
    let fast = LeadRequest { submitted_at: 1_001_499, ..request(LeadKind::Callback) };
    assert_eq!(fast.validate(PhoneRegion::Ru, NOW).unwrap_err().code, ErrorCode::SubmittedTooFast);
    let backwards = LeadRequest { submitted_at: 10, ..request(LeadKind::Callback) };
    assert_eq!(backwards.validate(PhoneRegion::Ru, NOW).unwrap_err().code, ErrorCode::SubmittedTooFast);
    let just_enough = LeadRequest { submitted_at: 1_001_500, ..request(LeadKind::Callback) };
    assert!(just_enough.validate(PhoneRegion::Ru, NOW).is_ok());
    let overflow = LeadRequest { form_shown_at: u64::MAX, submitted_at: u64::MAX, ..request(LeadKind::Callback) };
    assert_eq!(overflow.validate(PhoneRegion::Ru, NOW).unwrap_err().code, ErrorCode::SubmittedTooFast);
}

fn with_contact(kind: LeadKind, contact: Contact) -> LeadRequest {
    LeadRequest { contact, ..request(kind) }
}

#[test]
fn kind_specific_fields() {
    let email = || Some("a@b.ru".to_owned());
    let phone = || Some("+79161234567".to_owned());
    let message = || Some("Здравствуйте".to_owned());
    let cases = [
        (with_contact(LeadKind::ComparisonEmail, Contact::default()), ErrorCode::MissingField),
        (with_contact(LeadKind::ComparisonEmail, Contact { email: Some("  ".into()), ..Contact::default() }), ErrorCode::MissingField),
        (with_contact(LeadKind::ComparisonEmail, Contact { email: email(), phone: phone(), ..Contact::default() }), ErrorCode::InvalidLead),
        (with_contact(LeadKind::Callback, Contact { email: email(), ..Contact::default() }), ErrorCode::InvalidLead),
        (with_contact(LeadKind::Callback, Contact { name: Some("A".into()), ..Contact::default() }), ErrorCode::MissingField),
        (with_contact(LeadKind::OfflineMessage, Contact { email: email(), ..Contact::default() }), ErrorCode::MissingField),
        (with_contact(LeadKind::OfflineMessage, Contact { message: message(), ..Contact::default() }), ErrorCode::MissingField),
        (with_contact(LeadKind::ChatContact, Contact { name: Some("A".into()), ..Contact::default() }), ErrorCode::MissingField),
        (with_contact(LeadKind::ChatContact, Contact { phone: phone(), time_slot: Some("now".into()), ..Contact::default() }), ErrorCode::InvalidLead),
        (with_contact(LeadKind::ComparisonEmail, Contact { email: Some("not-an-email".into()), ..Contact::default() }), ErrorCode::InvalidEmail),
        (with_contact(LeadKind::Callback, Contact { phone: Some("12345".into()), ..Contact::default() }), ErrorCode::InvalidPhone),
        (with_contact(LeadKind::Callback, Contact { phone: phone(), name: Some("x".repeat(101)), ..Contact::default() }), ErrorCode::FieldTooLong),
        (with_contact(LeadKind::Callback, Contact { phone: phone(), time_slot: Some("x".repeat(101)), ..Contact::default() }), ErrorCode::FieldTooLong),
        (with_contact(LeadKind::OfflineMessage, Contact { phone: phone(), message: Some("x".repeat(2001)), ..Contact::default() }), ErrorCode::FieldTooLong),
        (with_contact(LeadKind::Callback, Contact { phone: phone(), name: Some("A\u{1b}[31m".into()), ..Contact::default() }), ErrorCode::InvalidText),
    ];
    for (request, code) in cases {
        assert_eq!(request.validate(PhoneRegion::Ru, NOW).expect_err("must be refused").code, code, "{:?}", request.contact);
    }
    let either = with_contact(LeadKind::OfflineMessage, Contact { phone: phone(), message: message(), ..Contact::default() });
    assert!(either.validate(PhoneRegion::Ru, NOW).is_ok());
}

#[test]
fn question_answer_needs_an_answer() {
    let mut request = request(LeadKind::QuestionAnswer);
    request.context.answers.clear();
    assert_eq!(request.validate(PhoneRegion::Ru, NOW).unwrap_err().code, ErrorCode::MissingField);
}

#[test]
fn consent_is_scoped_to_the_kind() {
    let mut wrong = request(LeadKind::Callback);
    wrong.consent.purpose = ConsentPurpose::ComparisonEmail;
    assert_eq!(wrong.validate(PhoneRegion::Ru, NOW).unwrap_err().code, ErrorCode::InvalidConsent);
    let mut marketing_as_main = request(LeadKind::ComparisonEmail);
    marketing_as_main.consent.purpose = ConsentPurpose::Marketing;
    assert_eq!(marketing_as_main.validate(PhoneRegion::Ru, NOW).unwrap_err().code, ErrorCode::InvalidConsent);
    let mut sneaky = request(LeadKind::ComparisonEmail);
    sneaky.marketing_consent = Some(sneaky.consent.clone());
    assert_eq!(sneaky.validate(PhoneRegion::Ru, NOW).unwrap_err().code, ErrorCode::InvalidConsent);
    let mut empty_text = request(LeadKind::ComparisonEmail);
    empty_text.consent.text = String::new();
    assert_eq!(empty_text.validate(PhoneRegion::Ru, NOW).unwrap_err().code, ErrorCode::InvalidConsent);

    let mut explicit = request(LeadKind::ComparisonEmail);
    explicit.marketing_consent = Some(ConsentText {
        purpose: ConsentPurpose::Marketing,
        text: "И присылайте новинки".into(),
        text_version: "v1".into(),
    });
    let lead = explicit.validate(PhoneRegion::Ru, NOW).unwrap().into_lead();
    assert!(lead.marketing_opted_in());
    assert_eq!(lead.marketing_consent.map(|c| c.given.text), Some("И присылайте новинки".into()));
}

#[test]
fn ids_keys_and_urls() {
    let cases = [
        LeadRequest { site: "Bad Site".into(), ..request(LeadKind::Callback) },
        LeadRequest { visitor: "v".into(), ..request(LeadKind::Callback) },
        LeadRequest { idempotency_key: "short".into(), ..request(LeadKind::Callback) },
        LeadRequest { idempotency_key: "has spaces in the key!!".into(), ..request(LeadKind::Callback) },
        LeadRequest { idempotency_key: "k".repeat(65), ..request(LeadKind::Callback) },
        LeadRequest { prompt: Some(String::new()), ..request(LeadKind::Callback) },
        LeadRequest { prompt: Some("<script>".into()), ..request(LeadKind::Callback) },
        LeadRequest { page_url: "javascript:alert(1)".into(), ..request(LeadKind::Callback) },
    ];
    for request in cases {
        let err = request.validate(PhoneRegion::Ru, NOW).expect_err("must be refused");
        assert!(matches!(err.code, ErrorCode::InvalidSite | ErrorCode::InvalidLead), "{err:?}");
    }
}

#[test]
fn context_is_bounded() {
    let refuse = |edit: &dyn Fn(&mut VisitorContext)| {
        let mut request = request(LeadKind::ComparisonEmail);
        edit(&mut request.context);
        request.validate(PhoneRegion::Ru, NOW).expect_err("must be refused")
    };
    let long_url = format!("https://shop.example/{}", "x".repeat(MAX_URL_LEN));
    assert_eq!(refuse(&|c| c.recent_pages = vec!["https://a.b/".into(); 21]).code, ErrorCode::FieldTooLong);
    assert_eq!(refuse(&|c| c.recent_pages.push(long_url.clone())).code, ErrorCode::FieldTooLong);
    assert_eq!(refuse(&|c| c.page_url = long_url.clone()).code, ErrorCode::FieldTooLong);
    assert_eq!(refuse(&|c| c.products = vec![c.products[0].clone(); 21]).code, ErrorCode::FieldTooLong);
    assert_eq!(refuse(&|c| c.products[1].product.name = "x".repeat(301)).code, ErrorCode::FieldTooLong);
    assert_eq!(refuse(&|c| c.products[0].product.id = "x".repeat(129)).code, ErrorCode::FieldTooLong);
    assert_eq!(refuse(&|c| c.products[0].product.image = Some(long_url.clone())).code, ErrorCode::FieldTooLong);
    assert_eq!(refuse(&|c| c.products[0].product.category = Some("x".repeat(201))).code, ErrorCode::FieldTooLong);
    assert_eq!(refuse(&|c| c.products[0].product.price = Some(Money { minor: -1, currency: Currency::RUB })).code, ErrorCode::InvalidLead);
    let answer = Answer { question: "q".into(), answer: "a".into() };
    assert_eq!(refuse(&|c| c.answers = vec![answer.clone(); 11]).code, ErrorCode::FieldTooLong);
    assert_eq!(refuse(&|c| c.answers = vec![Answer { answer: "a".repeat(501), ..answer.clone() }]).code, ErrorCode::FieldTooLong);
    assert_eq!(refuse(&|c| c.answers = vec![Answer { question: "q\u{0}".into(), ..answer.clone() }]).code, ErrorCode::InvalidText);
    let err = refuse(&|c| {
        if let Some(t) = c.first_touch.as_mut() {
            t.utm_source = Some("x".repeat(201));
        }
    });
    assert_eq!(err.code, ErrorCode::FieldTooLong);
    assert!(err.message.starts_with("context.first_touch: utm_source"), "{}", err.message);
    assert_eq!(refuse(&|c| c.last_touch = Some(Touch { landing_page: long_url.clone(), ..Touch::default() })).code, ErrorCode::FieldTooLong);
}

#[test]
fn request_wire_format() {
    let json = serde_json::json!({
        "site": "demo", "visitor": "visitor01", "kind": "callback",
        "contact": {"phone": "8 916 123-45-67"},
        "form_shown_at": 1000, "submitted_at": 9000, "idempotency_key": "idem0123456789abcdef",
        "consent": {"purpose": "callback", "text": "Перезвоните мне", "text_version": "v1"},
        "context": {"pages_viewed": 1, "active_seconds": 30, "returning": false, "locale": "ru",
                    "page_url": "https://shop.example/"},
        "locale": "ru", "page_url": "https://shop.example/"
    });
    let request: LeadRequest = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(request.honeypot, "");
    let lead = request.validate(PhoneRegion::Ru, NOW).unwrap().into_lead();
    let stored = serde_json::to_value(&lead).unwrap();
    assert_eq!(stored["contact"], serde_json::json!({"phone": "+79161234567"}));
    assert_eq!(stored["consent"]["purpose"], "callback");
    assert_eq!(stored["consent"]["granted_at"], NOW);
    assert_eq!(serde_json::from_value::<Lead>(stored).unwrap(), lead);

    let mut typo = json;
    typo["contact"]["e_mail"] = "a@b.ru".into();
    assert!(serde_json::from_value::<LeadRequest>(typo).is_err());
}
