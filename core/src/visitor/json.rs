//! The visitor context's JSON form without serde (`base::json`): what the widget's UI modules
//! attach to a lead or a new conversation. Written only (the worker reads it with serde), as
//! serde writes it.

use crate::base::json::{ToJson, Writer};
use crate::json_struct;
use crate::visitor::context::{AgeRange, Answer, PageTitle, Product, Touch, ViewedProduct, VisitorContext};

json_struct!(write Touch { utm_source, utm_medium, utm_campaign, utm_content, utm_term, gclid, yclid, referrer, landing_page, at });
json_struct!(write ViewedProduct { product, views, last_viewed_at });
json_struct!(write Product { id, name, price, image, url, category, suits_age });
json_struct!(write AgeRange { min_months, max_months });
json_struct!(write Answer { question, answer });
json_struct!(write PageTitle { url, title });

impl ToJson for VisitorContext {
    fn write(&self, out: &mut Writer) {
        out.raw("{");
        out.field("first_touch", &self.first_touch);
        out.field("last_touch", &self.last_touch);
        out.field("pages_viewed", &self.pages_viewed);
        out.field("recent_pages", &self.recent_pages);
        out.field("products", &self.products);
        out.field("active_seconds", &self.active_seconds);
        out.field("answers", &self.answers);
        out.field("returning", &self.returning);
        out.field("locale", &self.locale);
        out.field("page_url", &self.page_url);
        // `skip_serializing_if = "Vec::is_empty"`: the widget has none to send.
        if !self.page_titles.is_empty() {
            out.field("page_titles", &self.page_titles);
        }
        out.raw("}");
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::base::json::tests::writes_as_serde;
    use crate::base::locale::Locale;
    use crate::base::money::{Currency, Money};
    use crate::visitor::context::*;

    pub(crate) fn full_context() -> VisitorContext {
        let touch = Touch {
            utm_source: Some("yandex".into()),
            utm_medium: Some("cpc".into()),
            utm_campaign: Some("весна".into()),
            utm_content: Some("a".into()),
            utm_term: Some("коляска".into()),
            gclid: Some("g".into()),
            yclid: Some("y".into()),
            referrer: Some("https://ya.ru/".into()),
            landing_page: "https://shop.example/p/1?utm_source=yandex".into(),
            at: 1_767_000_000_000,
        };
        let product = Product {
            id: "sku-1".into(),
            name: "Коляска «Orsa»".into(),
            price: Some(Money { minor: 4_599_000, currency: Currency::RUB }),
            image: Some("https://shop.example/i.jpg".into()),
            url: Some("https://shop.example/p/1".into()),
            category: Some("Коляски".into()),
            suits_age: Some(AgeRange { min_months: 0, max_months: Some(36) }),
        };
        VisitorContext {
            first_touch: Some(touch.clone()),
            last_touch: Some(Touch { landing_page: "https://shop.example/".into(), at: 1, ..Touch::default() }),
            pages_viewed: 7,
            recent_pages: vec!["https://shop.example/".into(), "https://shop.example/p/1".into()],
            products: vec![
                ViewedProduct { product: product.clone(), views: 2, last_viewed_at: 1_767_000_000_500 },
                ViewedProduct {
                    product: Product { id: "sku-2".into(), name: "Mini".into(), price: None, image: None, url: None, category: None, suits_age: Some(AgeRange { min_months: 6, max_months: None }) },
                    views: 1,
                    last_viewed_at: 2,
                },
            ],
            active_seconds: 95,
            answers: vec![Answer { question: "age".into(), answer: "0-6 \"months\"".into() }],
            returning: true,
            locale: Locale::En,
            page_url: "https://shop.example/p/1".into(),
            page_titles: vec![],
        }
    }

    #[test]
    fn the_context_is_written_as_serde_writes_it() {
        writes_as_serde(&VisitorContext::default());
        writes_as_serde(&full_context());
        writes_as_serde(&VisitorContext {
            page_titles: vec![PageTitle { url: "https://shop.example/".into(), title: "Кроха".into() }],
            ..full_context()
        });
    }
}
