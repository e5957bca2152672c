//! The visitor context's wire form (`base::wire`): how the widget hands the context to its UI
//! modules, which attach it to a lead or a new conversation. Fields go in declaration order.

use crate::visitor::context::{AgeRange, Answer, Product, Touch, ViewedProduct, VisitorContext};
use crate::wire_struct;

wire_struct!(VisitorContext {
    first_touch,
    last_touch,
    pages_viewed,
    recent_pages,
    products,
    active_seconds,
    answers,
    returning,
    locale,
    page_url,
});
wire_struct!(Touch { utm_source, utm_medium, utm_campaign, utm_content, utm_term, gclid, yclid, referrer, landing_page, at });
wire_struct!(ViewedProduct { product, views, last_viewed_at });
wire_struct!(Product { id, name, price, image, url, category, suits_age });
wire_struct!(AgeRange { min_months, max_months });
wire_struct!(Answer { question, answer });

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::locale::Locale;
    use crate::base::money::{Currency, Money};
    use crate::base::wire::{decode, encode};

    #[test]
    fn a_visitor_context_survives_the_wire() {
        let product = Product {
            id: "orsa".into(),
            name: "Коляска Orsa".into(),
            price: Some(Money { minor: 4_599_000, currency: Currency::RUB }),
            image: None,
            url: Some("https://shop.example/p/orsa".into()),
            category: Some("Коляски".into()),
            suits_age: Some(AgeRange { min_months: 0, max_months: Some(36) }),
        };
        let touch = Touch { utm_source: Some("ya".into()), landing_page: "https://shop.example/".into(), at: 7, ..Touch::default() };
        let context = VisitorContext {
            first_touch: Some(touch.clone()),
            last_touch: None,
            pages_viewed: 3,
            recent_pages: vec!["https://shop.example/".into()],
            products: vec![ViewedProduct { product, views: 2, last_viewed_at: 1_700_000_000_000 }],
            active_seconds: 95,
            answers: vec![Answer { question: "age".into(), answer: "0-1".into() }],
            returning: true,
            locale: Locale::En,
            page_url: "https://shop.example/p/orsa".into(),
        };
        assert_eq!(decode::<VisitorContext>(&encode(&context)), Some(context));
    }
}
