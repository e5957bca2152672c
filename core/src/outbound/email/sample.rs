//! The owner's preview and test of each kind of email: the real renderers, fed with the shop's
//! own recently read product pages when there are any, else with example products and an
//! example conversation (which the test email says it holds).

use super::branding::MailKind;
use super::{render_comparison_mail, render_transcript, ComparisonLinks, ComparisonMail, EmailMessage, ShopMail};
use crate::base::error::ApiError;
use crate::base::locale::Locale;
use crate::base::money::{Currency, Money};
use crate::chat::conversation::{ConversationOwner, Transcript};
use crate::chat::protocol::{message_id, Author, ChatMessage};
use crate::outbound::chat_events::TranscriptRequested;
use crate::visitor::context::Product;
use crate::visitor::product::page::{AttributeName, Availability, ProductAttribute, PublishedProduct, Rating};

/// Everything a sample needs besides the shop: to whom, in which language, when, and from which
/// origin the example pages pretend to come.
#[derive(Debug, Clone, Copy)]
pub struct SampleMail<'a> {
    pub kind: MailKind,
    pub locale: Locale,
    pub to: &'a str,
    /// The owner's name, the operator in the example chat.
    pub owner_name: &'a str,
    pub now_ms: u64,
    /// The site's first origin: the example pages and the "asked on" page are there.
    pub origin: &'a str,
    /// Where the (inert) subscription links of a sample point.
    pub link_base: &'a str,
}

/// Two example products whose pages publish different things, so the sample shows the table and
/// its highlighted differences.
pub fn sample_products(locale: Locale, origin: &str) -> Vec<PublishedProduct> {
    let pick = |ru: &str, en: &str| match locale {
        Locale::Ru => ru.to_owned(),
        Locale::En => en.to_owned(),
    };
    let attribute = |name: AttributeName, value: String| ProductAttribute { name, value };
    let product = |id: &str, name: String, minor: i64| Product {
        id: id.into(),
        name,
        price: Some(Money { minor, currency: Currency::RUB }),
        image: None,
        url: Some(format!("{}/example/{id}", origin.trim_end_matches('/'))),
        category: Some(pick("Пример", "Example")),
        suits_age: None,
    };
    vec![
        PublishedProduct {
            page_url: format!("{}/example/one", origin.trim_end_matches('/')),
            product: product("one", pick("Пример товара «Лёгкий»", "Example product \"Light\""), 1_899_000),
            brand: Some("Nordika".into()),
            availability: Some(Availability::InStock),
            rating: Some(Rating { value: "4.8".into(), best: "5".into(), count: Some(23) }),
            attributes: vec![
                attribute(AttributeName::Weight, pick("6,9 кг", "6.9 kg")),
                attribute(AttributeName::Named(pick("Размер в сложенном виде", "Folded size")), pick("54 × 45 × 23 см", "54 × 45 × 23 cm")),
                attribute(AttributeName::Color, pick("Графит", "Graphite")),
            ],
        },
        PublishedProduct {
            page_url: format!("{}/example/two", origin.trim_end_matches('/')),
            product: product("two", pick("Пример товара «Прочный»", "Example product \"Sturdy\""), 2_499_000),
            brand: Some("Nordika".into()),
            availability: Some(Availability::PreOrder),
            rating: None,
            attributes: vec![
                attribute(AttributeName::Weight, pick("9,2 кг", "9.2 kg")),
                attribute(AttributeName::Named(pick("Размер в сложенном виде", "Folded size")), pick("60 × 48 × 30 см", "60 × 48 × 30 cm")),
                attribute(AttributeName::Color, pick("Графит", "Graphite")),
            ],
        },
    ]
}

/// An example chat for the transcript sample: a visitor's question and the owner's answer.
pub fn sample_transcript(sample: &SampleMail<'_>, site: &str) -> TranscriptRequested {
    let (question, answer) = match sample.locale {
        Locale::Ru => ("Здравствуйте! Эта коляска подойдёт для ребёнка 8 месяцев?", "Здравствуйте! Да, она рассчитана на детей от 6 месяцев до 4 лет."),
        Locale::En => ("Hello! Would this pushchair suit an 8-month-old?", "Hello! Yes, it is made for children from 6 months to 4 years."),
    };
    let started = sample.now_ms.saturating_sub(10 * 60_000);
    let message = |seq: u64, author: Author, text: &str| ChatMessage {
        seq,
        id: message_id("sample", seq),
        author,
        text: text.into(),
        at: started + seq * 60_000,
        client_msg_id: None,
        action: None,
        attachment: None,
    };
    let operator = if sample.owner_name.trim().is_empty() { "—" } else { sample.owner_name.trim() };
    TranscriptRequested {
        site: site.into(),
        email: sample.to.into(),
        requested_at: sample.now_ms,
        transcript: Transcript {
            conversation_id: "sample".into(),
            owner: ConversationOwner { site: site.into(), visitor_id: "sample".into(), user_id: None },
            visitor_label: "Visitor".into(),
            opened_at: started,
            closed_at: sample.now_ms,
            messages: vec![message(1, Author::Visitor, question), message(2, Author::Operator { name: operator.into() }, answer)],
        },
        locale: sample.locale,
    }
}

/// The sample of `sample.kind`, rendered by the same function as the real email. `products`: the
/// shop's own recently read pages (two or more make a real side-by-side), else the examples.
pub fn render_sample(sample: &SampleMail<'_>, site: &str, shop: &ShopMail<'_>, products: Vec<PublishedProduct>) -> Result<EmailMessage, ApiError> {
    match sample.kind {
        MailKind::Comparison => {
            let products = if products.len() >= 2 { products } else { sample_products(sample.locale, sample.origin) };
            let base = sample.link_base.trim_end_matches('/');
            let links = ComparisonLinks { more_like_this: format!("{base}/v1/consent/sample"), unsubscribe: format!("{base}/v1/consent/sample") };
            let asked_on = products.first().map(|p| p.page_url.clone()).unwrap_or_default();
            let mail = ComparisonMail { to: sample.to, locale: sample.locale, asked_on: &asked_on, asked_at: sample.now_ms, marked: None };
            render_comparison_mail(&mail, &products, shop, &links)
        }
        MailKind::Transcript => render_transcript(&sample_transcript(sample, site), shop),
    }
}
