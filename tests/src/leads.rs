//! Lead submissions as the widget sends them, built from core's own types.

use floorwalker_core::base::locale::Locale;
use floorwalker_core::base::money::{Currency, Money};
use floorwalker_core::leads::consent::ConsentText;
use floorwalker_core::leads::lead::{Contact, LeadKind, LeadRequest};
use floorwalker_core::visitor::context::{Product, Touch, ViewedProduct, VisitorContext};

use crate::worker::Worker;

/// A product the demo shop sells, as the widget would have detected it on its page
/// (`/product/{id}/`, which the worker reads for the comparison email).
pub fn product(id: &str, name: &str, rub: i64, shop_origin: &str) -> ViewedProduct {
    ViewedProduct {
        product: Product {
            id: id.into(),
            name: name.into(),
            price: Some(Money { minor: rub * 100, currency: Currency::RUB }),
            image: Some(format!("{shop_origin}/img/{id}.svg")),
            url: Some(format!("{shop_origin}/product/{id}/")),
            category: Some("Автокресла".into()),
            suits_age: None,
        },
        views: 2,
        last_viewed_at: 1_790_000_000_000,
    }
}

/// A valid submission of `kind` from `visitor` on a page of `shop_origin`. `key` makes it unique.
pub fn request(kind: LeadKind, visitor: &str, key: &str, shop_origin: &str) -> LeadRequest {
    let page = format!("{shop_origin}/product/orsa-360-isofix/");
    let contact = match kind {
        LeadKind::ComparisonEmail | LeadKind::QuestionAnswer => {
            Contact { email: Some("anna@example.com".into()), name: Some("Анна".into()), ..Contact::default() }
        }
        LeadKind::Callback => Contact {
            phone: Some("8 (916) 123-45-67".into()),
            name: Some("Анна".into()),
            time_slot: Some("после 18:00".into()),
            ..Contact::default()
        },
        LeadKind::OfflineMessage => {
            Contact { email: Some("anna@example.com".into()), message: Some("Есть ли серое?".into()), ..Contact::default() }
        }
        LeadKind::ChatContact => Contact { phone: Some("+7 916 123 45 67".into()), ..Contact::default() },
    };
    let consent_text = match kind {
        LeadKind::Callback => "Перезвоните мне по этому номеру",
        _ => "Пришлите мне одно письмо со сравнением",
    };
    LeadRequest {
        site: "demo".into(),
        visitor: visitor.into(),
        kind,
        prompt: Some("compare-2".into()),
        contact,
        honeypot: String::new(),
        form_shown_at: 1_790_000_000_000,
        submitted_at: 1_790_000_009_000,
        idempotency_key: format!("idem-{key}-0123456789"),
        consent: ConsentText { purpose: kind.consent_purpose(), text: consent_text.into(), text_version: "v3".into() },
        marketing_consent: None,
        context: VisitorContext {
            first_touch: Some(Touch {
                utm_source: Some("yandex".into()),
                utm_medium: Some("cpc".into()),
                utm_campaign: Some("carseats".into()),
                landing_page: format!("{shop_origin}/"),
                at: 1_789_999_000_000,
                ..Touch::default()
            }),
            last_touch: None,
            pages_viewed: 4,
            recent_pages: vec![format!("{shop_origin}/"), page.clone()],
            products: vec![
                product("orsa-360-isofix", "Поворотное автокресло Orsa 360 Isofix", 34_990, shop_origin),
                product("lumi-hug-fix", "Автокресло Lumi Hug Fix", 19_990, shop_origin),
            ],
            active_seconds: 95,
            answers: if kind == LeadKind::QuestionAnswer {
                vec![floorwalker_core::visitor::context::Answer { question: "Возраст ребёнка?".into(), answer: "до года".into() }]
            } else {
                vec![]
            },
            returning: false,
            locale: Locale::Ru,
            page_url: page.clone(),
            page_titles: Vec::new(),
        },
        locale: Locale::Ru,
        page_url: page,
    }
}

/// POSTs a submission as the widget does (Origin, JSON as text/plain).
pub async fn post(worker: &Worker, origin: &str, body: &str) -> reqwest::Response {
    worker
        .http()
        .post(worker.url("/v1/leads"))
        .header("origin", origin)
        .header("content-type", "text/plain;charset=UTF-8")
        .body(body.to_owned())
        .send()
        .await
        .expect("POST /v1/leads")
}
