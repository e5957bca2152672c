//! The visitor's context as everyone downstream sees it: operators in the console, the CRM in a
//! lead, the promised email. One summary, built from the session, so no one asks twice.

use serde::{Deserialize, Serialize};

use crate::base::error::{ApiError, ErrorCode};
use crate::base::locale::Locale;
use crate::base::money::Money;
use crate::base::text::MAX_URL_LEN;
use crate::visitor::event::{MAX_EVENT_AHEAD_MS, MAX_TITLE_LEN};
use crate::visitor::product::MAX_PRICE_MAJOR;
use crate::visitor::session::{MAX_CONTEXT_ANSWERS, MAX_CONTEXT_PAGES, MAX_CONTEXT_PRODUCTS};

/// Highest price a context may carry, in minor units: the product parser's ceiling in major units
/// at the finest minor unit any currency has (4 digits). Far below 2^53, so every reader (the
/// console's JavaScript included) reads it exactly.
pub const MAX_CONTEXT_PRICE_MINOR: i64 = MAX_PRICE_MAJOR * 10_000;

/// The earliest moment a context may name (2020-01-01T00:00:00Z, in ms): older than any visit the
/// widget can have seen, so an older `at` is forged or a unit mistake (seconds for milliseconds).
pub const MIN_CONTEXT_AT_MS: u64 = 1_577_836_800_000;

/// The largest integer every reader reads exactly (JavaScript's `Number.MAX_SAFE_INTEGER`, the
/// JSON numbers of D1 and of the Durable Objects' calls): 2^53 - 1.
pub const MAX_EXACT_JSON_INTEGER: u64 = (1 << 53) - 1;

/// A product as the widget detected it on a page (JSON-LD, microdata, OpenGraph, data attributes
/// or the JS API).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// SKU or other stable id; the same product seen twice has the same id.
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The ages the shop's page says the product suits (schema.org `audience`), so that an answer
    /// such as the child's age can pick what fits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suits_age: Option<AgeRange>,
}

/// An age range in whole months; no upper bound means "and older".
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AgeRange {
    pub min_months: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_months: Option<u16>,
}

impl AgeRange {
    /// Whether some age is in both ranges: a product for 0–4 years suits a child of 0–12 months.
    pub fn overlaps(&self, other: &AgeRange) -> bool {
        self.max_months.is_none_or(|max| other.min_months <= max) && other.max_months.is_none_or(|max| self.min_months <= max)
    }
}

/// Where a visit came from: one "touch" (first or last).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct Touch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_medium: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_campaign: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_term: Option<String>,
    /// Google Ads click id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gclid: Option<String>,
    /// Yandex Direct click id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yclid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    pub landing_page: String,
    /// Milliseconds since the Unix epoch.
    pub at: u64,
}

/// A product the visitor looked at, with how often and when last.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ViewedProduct {
    pub product: Product,
    pub views: u32,
    pub last_viewed_at: u64,
}

/// The answer to a question prompt (e.g. "How old is your child?").
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub question: String,
    pub answer: String,
}

/// A page's title as its `<title>` read when the visitor viewed it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PageTitle {
    pub url: String,
    pub title: String,
}

/// What a lead, a chat and a CRM record carry about the visitor.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct VisitorContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_touch: Option<Touch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_touch: Option<Touch>,
    pub pages_viewed: u32,
    /// Most recent last, bounded.
    #[serde(default)]
    pub recent_pages: Vec<String>,
    /// Distinct products, most recently viewed last.
    #[serde(default)]
    pub products: Vec<ViewedProduct>,
    pub active_seconds: u32,
    #[serde(default)]
    pub answers: Vec<Answer>,
    pub returning: bool,
    pub locale: Locale,
    /// The page the visitor is on now.
    pub page_url: String,
    /// The titles of `page_url` and `recent_pages`, where the pages had one, so an operator reads
    /// «Коляска Puffin Trio», not an address. The worker fills them from the stored page views
    /// ([`VisitorContext::title_pages`]); the widget sends none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub page_titles: Vec<PageTitle>,
}

impl VisitorContext {
    /// Checks a context a client sent (the widget's, at a chat start) against what the widget's
    /// own session ([`crate::visitor::session::Session::context`]) can produce: its list bounds,
    /// sane prices, and every `at` between 2020 and a day past the server's clock (`now_ms`), as
    /// events are bounded. The first problem is reported with its field.
    pub fn validate(&self, now_ms: u64) -> Result<(), ApiError> {
        let invalid = |message: String| ApiError::new(ErrorCode::InvalidContext, format!("context.{message}"));
        for (field, len, max) in [
            ("products", self.products.len(), MAX_CONTEXT_PRODUCTS),
            ("recent_pages", self.recent_pages.len(), MAX_CONTEXT_PAGES),
            ("answers", self.answers.len(), MAX_CONTEXT_ANSWERS),
            ("page_titles", self.page_titles.len(), MAX_CONTEXT_PAGES + 1),
        ] {
            if len > max {
                return Err(invalid(format!("{field}: at most {max} entries, got {len}")));
            }
        }
        for (index, viewed) in self.products.iter().enumerate() {
            if let Some(price) = &viewed.product.price {
                if !(0..=MAX_CONTEXT_PRICE_MINOR).contains(&price.minor) {
                    return Err(invalid(format!(
                        "products[{index}].product.price: minor must be 0-{MAX_CONTEXT_PRICE_MINOR}, got {}",
                        price.minor
                    )));
                }
            }
        }
        if let Some(index) = self.page_titles.iter().position(|t| t.title.len() > MAX_TITLE_LEN || t.url.len() > MAX_URL_LEN) {
            return Err(invalid(format!("page_titles[{index}]: a title is at most {MAX_TITLE_LEN} bytes, an address {MAX_URL_LEN}")));
        }
        let latest = now_ms.saturating_add(MAX_EVENT_AHEAD_MS).min(MAX_EXACT_JSON_INTEGER);
        if let Some((field, at)) = self.moments().find(|(_, at)| !(MIN_CONTEXT_AT_MS..=latest).contains(at)) {
            return Err(invalid(format!(
                "{field}: {at} ms since the epoch is outside {MIN_CONTEXT_AT_MS}-{latest} (2020 to a day past the server's clock)"
            )));
        }
        Ok(())
    }

    /// Sets [`Self::page_titles`] from page views `(url, title)` in the order they happened: the
    /// latest non-blank title of each page the context lists (`page_url`, then `recent_pages`).
    pub fn title_pages<'a>(&mut self, views: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let mut latest: Vec<(&str, &str)> = Vec::new();
        for (url, title) in views {
            let title = title.trim();
            if title.is_empty() {
                continue;
            }
            match latest.iter_mut().find(|(seen, _)| *seen == url) {
                Some(entry) => entry.1 = title,
                None => latest.push((url, title)),
            }
        }
        let listed = std::iter::once(&self.page_url).chain(self.recent_pages.iter());
        let mut titles: Vec<PageTitle> = Vec::new();
        for url in listed {
            if titles.iter().any(|t| t.url == *url) {
                continue;
            }
            if let Some((_, title)) = latest.iter().find(|(seen, _)| seen == url) {
                titles.push(PageTitle { url: url.clone(), title: (*title).to_owned() });
            }
        }
        self.page_titles = titles;
    }

    /// The title of `url`, if the context has one.
    pub fn title_of(&self, url: &str) -> Option<&str> {
        self.page_titles.iter().find(|t| t.url == url).map(|t| t.title.as_str())
    }

    /// Every moment the context names, with its field's path.
    fn moments(&self) -> impl Iterator<Item = (String, u64)> + '_ {
        let touches = [("first_touch", &self.first_touch), ("last_touch", &self.last_touch)]
            .into_iter()
            .filter_map(|(name, touch)| touch.as_ref().map(|touch| (format!("{name}.at"), touch.at)));
        let views = self.products.iter().enumerate().map(|(index, viewed)| (format!("products[{index}].last_viewed_at"), viewed.last_viewed_at));
        touches.chain(views)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::money::Currency;

    const NOW: u64 = 1_790_000_000_000;

    fn context(products: Vec<ViewedProduct>) -> VisitorContext {
        VisitorContext {
            first_touch: None,
            last_touch: None,
            pages_viewed: 1,
            recent_pages: vec![],
            products,
            active_seconds: 5,
            answers: vec![],
            returning: false,
            locale: Locale::En,
            page_url: "https://shop.example/".into(),
            page_titles: Vec::new(),
        }
    }

    fn viewed(minor: i64) -> ViewedProduct {
        let product = Product {
            id: "p1".into(),
            name: "Nordika".into(),
            price: Some(Money { minor, currency: Currency::RUB }),
            image: None,
            url: None,
            category: None,
            suits_age: None,
        };
        ViewedProduct { product, views: 1, last_viewed_at: 1_790_000_000_000 }
    }

    #[test]
    fn a_context_within_the_widgets_bounds_passes() {
        context(vec![viewed(0), viewed(MAX_CONTEXT_PRICE_MINOR)]).validate(NOW).unwrap();
        context(vec![viewed(3_490_000); MAX_CONTEXT_PRODUCTS]).validate(NOW).unwrap();
    }

    #[test]
    fn absurd_contexts_are_refused_naming_the_field() {
        let too_many_pages = VisitorContext { recent_pages: vec!["https://shop.example/".into(); MAX_CONTEXT_PAGES + 1], ..context(vec![]) };
        let too_many_answers = VisitorContext {
            answers: vec![Answer { question: "q".into(), answer: "a".into() }; MAX_CONTEXT_ANSWERS + 1],
            ..context(vec![])
        };
        for (bad, field) in [
            (context(vec![viewed(i64::MAX)]), "context.products[0].product.price"),
            (context(vec![viewed(1), viewed(MAX_CONTEXT_PRICE_MINOR + 1)]), "context.products[1].product.price"),
            (context(vec![viewed(-1)]), "context.products[0].product.price"),
            (context(vec![viewed(1); MAX_CONTEXT_PRODUCTS + 1]), "context.products:"),
            (too_many_pages, "context.recent_pages:"),
            (too_many_answers, "context.answers:"),
        ] {
            let err = bad.validate(NOW).expect_err(field);
            assert_eq!(err.code, ErrorCode::InvalidContext, "{field}");
            assert!(err.message.starts_with(field), "{field}: {}", err.message);
        }
    }

    fn touch(at: u64) -> Touch {
        Touch { landing_page: "https://shop.example/".into(), at, ..Touch::default() }
    }

    #[test]
    fn moments_from_2020_to_a_day_ahead_pass() {
        for at in [MIN_CONTEXT_AT_MS, NOW, NOW + MAX_EVENT_AHEAD_MS] {
            let viewed = ViewedProduct { last_viewed_at: at, ..viewed(1) };
            VisitorContext { first_touch: Some(touch(at)), last_touch: Some(touch(at)), ..context(vec![viewed]) }
                .validate(NOW)
                .unwrap_or_else(|e| panic!("{at}: {e:?}"));
        }
    }

    #[test]
    fn moments_that_are_forged_or_beyond_exact_json_are_refused_naming_the_field() {
        let beyond_js = MAX_EXACT_JSON_INTEGER + 2;
        for (at, what) in [
            (beyond_js, "above 2^53"),
            (u64::MAX, "u64::MAX"),
            (NOW + MAX_EVENT_AHEAD_MS + 1, "more than a day ahead"),
            (MIN_CONTEXT_AT_MS - 1, "before 2020"),
            (1_790_000_000, "seconds, not milliseconds"),
            (0, "zero"),
        ] {
            let late = ViewedProduct { last_viewed_at: at, ..viewed(1) };
            for (bad, field) in [
                (VisitorContext { first_touch: Some(touch(at)), ..context(vec![]) }, "context.first_touch.at"),
                (VisitorContext { last_touch: Some(touch(at)), ..context(vec![]) }, "context.last_touch.at"),
                (context(vec![viewed(1), late]), "context.products[1].last_viewed_at"),
            ] {
                let err = bad.validate(NOW).expect_err(what);
                assert_eq!(err.code, ErrorCode::InvalidContext, "{what}: {field}");
                assert!(err.message.starts_with(field), "{what}: {field}: {}", err.message);
            }
        }
    }

    #[test]
    fn a_server_clock_beyond_2_pow_53_still_caps_moments_at_exact_json() {
        let clock_far_ahead = MAX_EXACT_JSON_INTEGER;
        let context = VisitorContext { first_touch: Some(touch(MAX_EXACT_JSON_INTEGER + 1)), ..context(vec![]) };
        assert_eq!(context.validate(clock_far_ahead).unwrap_err().code, ErrorCode::InvalidContext);
    }

    #[test]
    fn pages_are_titled_by_their_latest_title_and_only_listed_pages_are() {
        let mut c = VisitorContext {
            page_url: "https://shop.example/p/orsa".into(),
            recent_pages: vec!["https://shop.example/".into(), "https://shop.example/p/orsa".into()],
            ..context(vec![])
        };
        c.title_pages([
            ("https://shop.example/", "Кроха — детские товары"),
            ("https://shop.example/p/orsa", "Orsa (old)"),
            ("https://shop.example/cart", "Корзина"),
            ("https://shop.example/p/orsa", "  Автокресло Orsa 360  "),
            ("https://shop.example/", " "),
        ]);
        assert_eq!(
            c.page_titles,
            vec![
                PageTitle { url: "https://shop.example/p/orsa".into(), title: "Автокресло Orsa 360".into() },
                PageTitle { url: "https://shop.example/".into(), title: "Кроха — детские товары".into() },
            ],
            "the page now first, each once, the latest non-blank title; the cart is not listed"
        );
        assert_eq!(c.title_of("https://shop.example/"), Some("Кроха — детские товары"));
        assert_eq!(c.title_of("https://shop.example/cart"), None);
        c.validate(1_800_000_000_000).unwrap();
        let long = VisitorContext { page_titles: vec![PageTitle { url: "https://shop.example/".into(), title: "x".repeat(MAX_TITLE_LEN + 1) }], ..c.clone() };
        assert!(long.validate(1_800_000_000_000).unwrap_err().message.starts_with("context.page_titles[0]"));
        let many = VisitorContext {
            page_titles: vec![PageTitle { url: "https://shop.example/".into(), title: "t".into() }; MAX_CONTEXT_PAGES + 2],
            ..c
        };
        assert!(many.validate(1_800_000_000_000).is_err());
    }
}
