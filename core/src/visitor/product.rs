//! Product detection decisions: which product a page is about, read from whatever markup the shop
//! has (schema.org JSON-LD or microdata, OpenGraph, `data-fw-product` attributes, the JS API).
//!
//! The widget only reads the DOM into the neutral shapes here — [`Ld`] for a parsed JSON-LD
//! document, [`RawProduct`] for a product's fields as strings — and core decides everything else:
//! which JSON-LD node is the page's product, which offer gives the price, how `"24 990,00 ₽"` becomes
//! minor units, which URLs are kept. Everything here is pure and bounded, because the input is
//! whatever a page (or an attacker's page) contains.

use crate::base::money::minor_exponent;
use crate::base::money::{Currency, Money};
use crate::base::text::{truncate_chars, MAX_CATEGORY_LEN, MAX_PRODUCT_ID_LEN, MAX_PRODUCT_NAME_LEN, MAX_URL_LEN};
use crate::base::url::{path_of, without_fragment};
use crate::visitor::context::Product;

/// The largest price accepted, in major units: anything above is a markup error (a GTIN in the
/// price field, a price in the wrong unit), and would only mislead a price condition.
pub const MAX_PRICE_MAJOR: i64 = 1_000_000_000;
/// How deep the JSON-LD walk goes (`@graph` → `mainEntity` → `offers` → `priceSpecification`).
pub const MAX_LD_DEPTH: usize = 8;
/// Most products looked at in one JSON-LD document; a page listing more is a catalogue anyway.
pub const MAX_LD_PRODUCTS: usize = 32;

/// A JSON value as the widget read it from a `<script type="application/ld+json">` (via the
/// browser's own `JSON.parse`, so the widget carries no JSON parser). Objects keep their order.
#[derive(Debug, Clone, PartialEq)]
pub enum Ld {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Ld>),
    Object(Vec<(String, Ld)>),
}

impl Ld {
    /// The value of `key` in an object.
    pub fn get(&self, key: &str) -> Option<&Ld> {
        match self {
            Ld::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A scalar as text (`"24990"` and `24990` alike); the first element of an array.
    fn text(&self) -> Option<String> {
        match self {
            Ld::String(s) => Some(s.clone()),
            Ld::Number(n) => integer_text(*n),
            Ld::Array(items) => items.first().and_then(Ld::text),
            _ => None,
        }
    }

    fn field(&self, key: &str) -> Option<String> {
        self.get(key).and_then(Ld::text).filter(|s| !s.trim().is_empty())
    }

    /// The items of an array, or the value itself (JSON-LD allows a single value where a list is meant).
    fn items(&self) -> &[Ld] {
        match self {
            Ld::Array(items) => items,
            other => std::slice::from_ref(other),
        }
    }

    /// Whether `@type` names one of `types` (`"Product"`, `"schema:Product"`,
    /// `"https://schema.org/Product"` or a list containing one).
    fn has_type(&self, types: &[&str]) -> bool {
        self.get("@type").is_some_and(|t| {
            t.items().iter().any(|t| match t {
                Ld::String(name) => {
                    let short = name.rsplit(['/', ':', '#']).next().unwrap_or(name);
                    types.iter().any(|wanted| short.eq_ignore_ascii_case(wanted))
                }
                _ => false,
            })
        })
    }
}

/// A whole number as text (a numeric SKU); fractions are no id or name, and formatting them
/// would pull float formatting into the widget.
fn integer_text(n: f64) -> Option<String> {
    (n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15).then(|| (n as i64).to_string())
}

/// A price as found: schema.org says text with a `.` decimal point, but pages also put numbers in
/// JSON-LD and formatted text (`"24 990,00 ₽"`) in attributes.
#[derive(Debug, Clone, PartialEq)]
pub enum RawPrice {
    Text(String),
    Number(f64),
}

/// Where a detected product came from; earlier sources win when several describe the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// `floorwalker('product', {...})`: the shop said so explicitly.
    JsApi,
    /// `data-fw-product` attributes.
    DataAttributes,
    JsonLd,
    Microdata,
    OpenGraph,
}

/// A product's fields as read from the page, before any checking. Every field is optional: the
/// normalisation decides what is enough.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RawProduct {
    pub id: Option<String>,
    pub sku: Option<String>,
    pub name: Option<String>,
    pub price: Option<RawPrice>,
    pub currency: Option<String>,
    pub image: Option<String>,
    pub url: Option<String>,
    pub category: Option<String>,
}

/// Turns what a page said into a [`Product`], or `None` when it has no usable name.
///
/// - id: `sku`, else `id`, else the product URL's path, else the page's path — so the same product
///   seen twice (two visits to its page) has the same id even without a SKU;
/// - price: kept only with a valid ISO 4217 currency and within `0..=MAX_PRICE_MAJOR`;
/// - image and url: resolved against `page_url`, kept only as absolute http(s) URLs;
/// - text: control characters removed, whitespace collapsed, lengths bounded.
pub fn normalize(raw: &RawProduct, page_url: &str) -> Option<Product> {
    let name = clean_text(raw.name.as_deref()?, MAX_PRODUCT_NAME_LEN)?;
    let url = raw.url.as_deref().and_then(|u| resolve_url(page_url, u));
    let id = [raw.sku.as_deref(), raw.id.as_deref()]
        .into_iter()
        .flatten()
        .find_map(|id| clean_text(id, MAX_PRODUCT_ID_LEN))
        .or_else(|| {
            let from = url.as_deref().unwrap_or(page_url);
            clean_text(path_of(from), MAX_PRODUCT_ID_LEN).filter(|path| path != "/")
        })?;
    let currency = raw.currency.as_deref().and_then(|c| Currency::try_from(c.trim().to_owned()).ok());
    let price = match (&raw.price, currency) {
        (Some(price), Some(currency)) => {
            let exponent = minor_exponent(currency);
            match price {
                RawPrice::Text(text) => parse_price(text, exponent),
                RawPrice::Number(n) => price_from_number(*n, exponent),
            }
            .map(|minor| Money { minor, currency })
        }
        _ => None,
    };
    Some(Product {
        id,
        name,
        price,
        image: raw.image.as_deref().and_then(|u| resolve_url(page_url, u)),
        url,
        category: raw.category.as_deref().and_then(|c| clean_text(c, MAX_CATEGORY_LEN)),
    })
}

/// The page's product from everything detected, best source first: the first that normalises
/// wins, and its missing price, image, URL or category are filled in from other sources that
/// describe the same product (same id or same name). `None` when nothing usable was found.
pub fn page_product(candidates: Vec<(Source, RawProduct)>, page_url: &str) -> Option<Product> {
    // Ordered by source without a sort: a general sort costs the widget kilobytes for five items.
    const ORDER: [Source; 5] = [Source::JsApi, Source::DataAttributes, Source::JsonLd, Source::Microdata, Source::OpenGraph];
    let products: Vec<Product> = ORDER
        .iter()
        .flat_map(|wanted| candidates.iter().filter(move |(source, _)| source == wanted))
        .filter_map(|(_, raw)| normalize(raw, page_url))
        .collect();
    let (first, rest) = products.split_first()?;
    let mut product = first.clone();
    for other in rest.iter().filter(|o| o.id == product.id || o.name.eq_ignore_ascii_case(&product.name)) {
        product.price = product.price.or(other.price);
        product.image = product.image.take().or_else(|| other.image.clone());
        product.url = product.url.take().or_else(|| other.url.clone());
        product.category = product.category.take().or_else(|| other.category.clone());
    }
    Some(product)
}


/// A price in major units given as a number, in minor units; `None` when negative, not finite or
/// absurdly large.
pub fn price_from_number(price: f64, exponent: u32) -> Option<i64> {
    if !price.is_finite() || price < 0.0 || price > MAX_PRICE_MAJOR as f64 {
        return None;
    }
    let minor = (price * 10f64.powi(i32::try_from(exponent).ok()?)).round();
    // In range by the check above, so the conversion cannot saturate.
    Some(minor as i64)
}

/// A price written as text, in minor units: `"24990"`, `"24990.00"`, `"24 990,00 ₽"`, `"1,299.99"`,
/// `"1.299,99 €"`, `"$1'299.50"`. `None` for anything that is not one plain amount.
///
/// A string of digits with at most one `.` is read the schema.org way (dot decimal). Otherwise
/// currency signs and spaces are dropped; with both `.` and `,` the later one is the decimal point;
/// a single separator followed by exactly three digits groups thousands (`1,299`), any other single
/// separator is the decimal point (`24,99`); a separator repeated is grouping (`1.299.000`).
pub fn parse_price(text: &str, exponent: u32) -> Option<i64> {
    let text = text.trim();
    if text.len() > 64 || text.contains('-') {
        return None;
    }
    // The amount runs from the first digit to the last; around it only a short currency sign or
    // code may stand ("₽", "руб.", "RUB", "$"), inside it only digits, separators and spaces.
    let first = text.find(|c: char| c.is_ascii_digit())?;
    let last = text.rfind(|c: char| c.is_ascii_digit())?;
    let (prefix, amount, suffix) = (&text[..first], &text[first..=last], &text[last + 1..]);
    let is_group_space = |c: char| c.is_whitespace() || matches!(c, '\'' | '’');
    if prefix.trim_end_matches(['.', ',']).chars().count() > 8
        || suffix.chars().count() > 8
        || prefix.chars().chain(suffix.chars()).any(|c| c.is_ascii_digit())
        || !amount.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | ',') || is_group_space(c))
    {
        return None;
    }
    let kept: String = amount.chars().filter(|c| !is_group_space(*c)).collect();
    let digits_only = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    // Thousands groups after the first have exactly three digits; anything else is not one amount.
    let ungroup = |s: &str, sep: char| {
        let mut groups = s.split(sep);
        let head = groups.next().unwrap_or_default();
        let ok = digits_only(head) && groups.clone().all(|g| g.len() == 3 && digits_only(g));
        ok.then(|| s.replace(sep, ""))
    };
    let (int, frac) = match (kept.rfind('.'), kept.rfind(',')) {
        (None, None) => (kept.clone(), String::new()),
        (Some(dot), Some(comma)) => {
            let (decimal, group) = if dot > comma { ('.', ',') } else { (',', '.') };
            let (int, frac) = kept.rsplit_once(decimal)?;
            (ungroup(int, group)?, frac.to_owned())
        }
        (Some(_), None) | (None, Some(_)) => {
            let sep = if kept.contains('.') { '.' } else { ',' };
            let parts: Vec<&str> = kept.split(sep).collect();
            let strict_schema = sep == '.' && parts.len() == 2;
            if parts.len() > 2 {
                (ungroup(&kept, sep)?, String::new())
            } else if !strict_schema && parts[1].len() == 3 && (1..=3).contains(&parts[0].len()) {
                (parts.concat(), String::new())
            } else {
                (parts[0].to_owned(), parts[1].to_owned())
            }
        }
    };
    if !digits_only(&int) || !(frac.is_empty() || digits_only(&frac)) || int.len() > 12 {
        return None;
    }
    let major: i64 = int.parse().ok()?;
    if major > MAX_PRICE_MAJOR {
        return None;
    }
    let scale = 10i64.pow(exponent);
    // Extra precision is rounded half up, e.g. "9.995" USD → 1000 cents.
    let mut frac_digits: Vec<i64> = frac.bytes().map(|b| i64::from(b - b'0')).collect();
    let exponent = usize::try_from(exponent).ok()?;
    let round_up = frac_digits.get(exponent).is_some_and(|d| *d >= 5);
    frac_digits.resize(exponent, 0);
    let minor_frac = frac_digits.iter().fold(0i64, |acc, d| acc * 10 + d) + i64::from(round_up);
    major.checked_mul(scale)?.checked_add(minor_frac)
}

/// `href` made absolute against `base` (an absolute http(s) URL), or `None` unless the result is
/// an http(s) URL of bounded length. Handles absolute, scheme-relative, root-relative and
/// document-relative references; `..` segments are left for the browser to resolve.
pub fn resolve_url(base: &str, href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty() || href.chars().any(char::is_control) || href.contains(char::is_whitespace) {
        return None;
    }
    let lower = href.get(..8).unwrap_or(href).to_ascii_lowercase();
    let resolved = if lower.starts_with("http://") || lower.starts_with("https://") {
        href.to_owned()
    } else if let Some(rest) = href.strip_prefix("//") {
        let scheme = base.split_once("://")?.0;
        format!("{scheme}://{rest}")
    } else if href.contains(':') && href.find(':') < href.find(['/', '?', '#']).or(Some(href.len())) {
        // Another scheme (`data:`, `javascript:`): never a product URL or image we pass on.
        return None;
    } else {
        let (scheme, rest) = base.split_once("://")?;
        let authority = rest.split(['/', '?', '#']).next()?;
        if href.starts_with('/') {
            format!("{scheme}://{authority}{href}")
        } else {
            let base_path = path_of(base);
            let dir = base_path.rfind('/').map_or("/", |i| &base_path[..=i]);
            let href = if href.starts_with(['?', '#']) {
                format!("{}{href}", base_path)
            } else {
                format!("{dir}{href}")
            };
            format!("{scheme}://{authority}{href}")
        }
    };
    let host_ok = resolved.split_once("://").and_then(|(_, r)| r.split(['/', '?', '#']).next()).is_some_and(|h| !h.is_empty());
    (host_ok && resolved.chars().count() <= MAX_URL_LEN).then_some(resolved)
}

/// The products a JSON-LD document describes, in document order: top-level nodes, `@graph`
/// members and a page's `mainEntity`. Products inside lists (`ItemList`, `isRelatedTo`, an
/// offer's `itemOffered`) are not the page's product and are not returned. A `ProductGroup`
/// counts as one product, priced from its own offers or its cheapest variant.
pub fn products_from_json_ld(doc: &Ld) -> Vec<RawProduct> {
    let mut found = Vec::new();
    collect_products(doc, 0, &mut found);
    found
}

fn collect_products(node: &Ld, depth: usize, found: &mut Vec<RawProduct>) {
    if depth > MAX_LD_DEPTH || found.len() >= MAX_LD_PRODUCTS {
        return;
    }
    match node {
        Ld::Array(items) => items.iter().for_each(|item| collect_products(item, depth + 1, found)),
        Ld::Object(_) => {
            if node.has_type(&["Product", "ProductGroup", "IndividualProduct", "ProductModel", "Vehicle", "Car"]) {
                found.push(ld_product(node, depth));
                return;
            }
            for key in ["@graph", "mainEntity"] {
                if let Some(inner) = node.get(key) {
                    collect_products(inner, depth + 1, found);
                }
            }
        }
        _ => {}
    }
}

fn ld_product(node: &Ld, depth: usize) -> RawProduct {
    let is_group = node.has_type(&["ProductGroup"]);
    let mut raw = RawProduct {
        id: node.field("productID").or_else(|| node.field("productGroupID")).or_else(|| node.field("@id")),
        sku: node
            .field("sku")
            .or_else(|| ["gtin", "gtin13", "gtin14", "gtin12", "gtin8", "mpn"].iter().find_map(|k| node.field(k))),
        name: node.field("name"),
        image: node.get("image").and_then(ld_url),
        url: node.field("url"),
        category: node.get("category").and_then(ld_name),
        ..RawProduct::default()
    };
    if is_group {
        // A group's own productGroupID is its stable id; a variant SKU would split one product in two.
        raw.sku = node.field("productGroupID").or(raw.sku);
    }
    let mut offer = node.get("offers").and_then(|offers| best_offer(offers, depth + 1));
    if offer.is_none() && is_group {
        let variants = node.get("hasVariant").map(Ld::items).unwrap_or_default();
        offer = cheapest(variants.iter().filter_map(|v| v.get("offers").and_then(|o| best_offer(o, depth + 2))));
        if raw.image.is_none() {
            raw.image = variants.iter().find_map(|v| v.get("image").and_then(ld_url));
        }
    }
    if let Some((price, currency)) = offer {
        raw.price = Some(price);
        raw.currency = currency;
    }
    raw
}

type Offer = (RawPrice, Option<String>);

/// The price to show for `offers`: one `Offer`, a list of them (the cheapest), an `AggregateOffer`
/// (its `lowPrice`, else `price`, else its own offers), or a `priceSpecification`.
fn best_offer(offers: &Ld, depth: usize) -> Option<Offer> {
    if depth > MAX_LD_DEPTH {
        return None;
    }
    cheapest(offers.items().iter().filter_map(|offer| {
        let currency = offer.field("priceCurrency");
        let price = ["lowPrice", "price"].iter().find_map(|key| offer.get(key).and_then(ld_price));
        match price {
            Some(price) => Some((price, currency)),
            None => offer
                .get("priceSpecification")
                .and_then(|spec| best_offer(spec, depth + 1))
                .or_else(|| offer.get("offers").and_then(|inner| best_offer(inner, depth + 1)))
                .map(|(price, inner_currency)| (price, inner_currency.or(currency))),
        }
    }))
}

/// The offer with the lowest readable price; an unreadable one only if nothing is readable.
fn cheapest(offers: impl Iterator<Item = Offer>) -> Option<Offer> {
    let mut best: Option<(Option<i64>, Offer)> = None;
    for offer in offers {
        let value = match &offer.0 {
            RawPrice::Text(text) => parse_price(text, 2),
            RawPrice::Number(n) => price_from_number(*n, 2),
        };
        let better = match &best {
            None => true,
            Some((None, _)) => value.is_some(),
            Some((Some(current), _)) => value.is_some_and(|v| v < *current),
        };
        if better {
            best = Some((value, offer));
        }
    }
    best.map(|(_, offer)| offer)
}

fn ld_price(value: &Ld) -> Option<RawPrice> {
    match value {
        Ld::Number(n) => Some(RawPrice::Number(*n)),
        Ld::String(s) if !s.trim().is_empty() => Some(RawPrice::Text(s.clone())),
        Ld::Array(items) => items.first().and_then(ld_price),
        _ => None,
    }
}

/// An image or URL: a string, a list (first), or an `ImageObject` (`url`/`contentUrl`).
fn ld_url(value: &Ld) -> Option<String> {
    match value {
        Ld::String(s) => Some(s.clone()),
        Ld::Array(items) => items.iter().find_map(ld_url),
        Ld::Object(_) => value.field("url").or_else(|| value.field("contentUrl")),
        _ => None,
    }
}

/// A category: text, a list (first), or a thing with a `name`. `"Baby > Strollers"` paths are kept.
fn ld_name(value: &Ld) -> Option<String> {
    match value {
        Ld::String(s) => Some(s.clone()),
        Ld::Array(items) => items.iter().find_map(ld_name),
        Ld::Object(_) => value.field("name"),
        _ => None,
    }
}

/// Text from a page made safe to keep: no control characters, whitespace runs collapsed, trimmed,
/// cut to `max` characters. `None` when nothing is left.
pub fn clean_text(text: &str, max: usize) -> Option<String> {
    // Bounded before the work: a megabyte of whitespace must not cost a megabyte of scanning twice.
    let text = truncate_chars(text, max.saturating_mul(4).max(64));
    let mut cleaned = String::with_capacity(text.len().min(max * 4));
    for word in text.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()) {
        if !cleaned.is_empty() {
            cleaned.push(' ');
        }
        cleaned.push_str(word);
    }
    let cleaned = truncate_chars(&cleaned, max);
    (!cleaned.is_empty()).then_some(cleaned)
}

/// The page identity a product view is counted under: the URL without its fragment.
pub fn page_key(url: &str) -> &str {
    without_fragment(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "https://shop.ru/product/vento/?utm_source=x";

    fn obj(fields: &[(&str, Ld)]) -> Ld {
        Ld::Object(fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
    }

    fn s(value: &str) -> Ld {
        Ld::String(value.into())
    }

    fn rub(minor: i64) -> Option<Money> {
        Some(Money { minor, currency: Currency::RUB })
    }

    #[test]
    fn prices_in_every_common_format() {
        let cases: &[(&str, Option<i64>)] = &[
            ("24990", Some(2_499_000)),
            ("24990.00", Some(2_499_000)),
            ("24990.5", Some(2_499_050)),
            ("24 990,00", Some(2_499_000)),
            ("24\u{a0}990,00 ₽", Some(2_499_000)),
            ("24\u{202f}990 руб.", Some(2_499_000)),
            ("1,299.99", Some(129_999)),
            ("1.299,99 €", Some(129_999)),
            ("$1'299.50", Some(129_950)),
            ("1,299", Some(129_900)),
            ("1.299.000", Some(129_900_000)),
            ("24,99", Some(2499)),
            ("0.500", Some(50)),
            ("9.995", Some(1000)),
            ("  15  ", Some(1500)),
            ("0", Some(0)),
            ("", None),
            ("free", None),
            ("-5", None),
            ("12-34", None),
            ("1e5", None),
            ("abc 12 def ghi jkl", None),
            ("12.34.56,7", None),
            ("99999999999999999999", None),
            ("1000000001", None),
            (",", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_price(text, 2), *expected, "{text:?}");
        }
        assert_eq!(parse_price("1500", 0), Some(1500), "yen have no minor unit");
        assert_eq!(parse_price("1.5", 3), Some(1500));
        assert_eq!(parse_price(&"9".repeat(10_000), 2), None, "huge strings are refused early");
    }

    #[test]
    fn prices_as_numbers() {
        assert_eq!(price_from_number(24990.0, 2), Some(2_499_000));
        assert_eq!(price_from_number(19.99, 2), Some(1999), "binary fractions round to the cent");
        assert_eq!(price_from_number(-1.0, 2), None);
        assert_eq!(price_from_number(f64::NAN, 2), None);
        assert_eq!(price_from_number(f64::INFINITY, 2), None);
        assert_eq!(price_from_number(1e300, 2), None);
    }

    #[test]
    fn urls_resolve_against_the_page() {
        assert_eq!(resolve_url(PAGE, "/img/vento.svg").as_deref(), Some("https://shop.ru/img/vento.svg"));
        assert_eq!(resolve_url(PAGE, "vento.jpg").as_deref(), Some("https://shop.ru/product/vento/vento.jpg"));
        assert_eq!(resolve_url(PAGE, "//cdn.shop.ru/a.jpg").as_deref(), Some("https://cdn.shop.ru/a.jpg"));
        assert_eq!(resolve_url(PAGE, "HTTP://x.ru/a").as_deref(), Some("HTTP://x.ru/a"));
        assert_eq!(resolve_url("http://127.0.0.1:8787/p/x", "/a").as_deref(), Some("http://127.0.0.1:8787/a"));
        for bad in ["javascript:alert(1)", "data:image/png;base64,AAAA", "", "  ", "a b.jpg", "https://"] {
            assert_eq!(resolve_url(PAGE, bad), None, "{bad:?}");
        }
        assert_eq!(resolve_url(PAGE, &format!("/{}", "x".repeat(3000))), None);
    }

    #[test]
    fn normalisation_bounds_and_cleans() {
        let raw = RawProduct {
            sku: Some("  VENTO-3in1 ".into()),
            name: Some("  Коляска\n\t Vento\u{0}  3 в 1 ".into()),
            price: Some(RawPrice::Text("24 990,00".into())),
            currency: Some("rub".into()),
            image: Some("/img/vento.svg".into()),
            url: Some("javascript:void(0)".into()),
            category: Some("Коляски".into()),
            ..RawProduct::default()
        };
        let product = normalize(&raw, PAGE).unwrap();
        assert_eq!(product.id, "VENTO-3in1");
        assert_eq!(product.name, "Коляска Vento 3 в 1");
        assert_eq!(product.price, rub(2_499_000));
        assert_eq!(product.image.as_deref(), Some("https://shop.ru/img/vento.svg"));
        assert_eq!(product.url, None, "a script URL is dropped, the product kept");
        assert_eq!(product.category.as_deref(), Some("Коляски"));

        // No name, no product; no currency, no price; no id, the page path.
        assert_eq!(normalize(&RawProduct { sku: Some("x".into()), ..RawProduct::default() }, PAGE), None);
        assert_eq!(normalize(&RawProduct { name: Some(" \n ".into()), ..RawProduct::default() }, PAGE), None);
        let bare = RawProduct { name: Some("Vento".into()), price: Some(RawPrice::Number(10.0)), ..RawProduct::default() };
        let product = normalize(&bare, PAGE).unwrap();
        assert_eq!((product.id.as_str(), product.price), ("/product/vento/", None));
        assert_eq!(normalize(&bare, "https://shop.ru/"), None, "the home page is not a product id");
        let bad_currency = RawProduct { currency: Some("рубли".into()), ..bare.clone() };
        assert_eq!(normalize(&bad_currency, PAGE).unwrap().price, None);

        let huge = RawProduct { sku: Some("s".repeat(100_000)), name: Some("n".repeat(1_000_000)), ..RawProduct::default() };
        let product = normalize(&huge, PAGE).unwrap();
        assert_eq!(product.id.chars().count(), MAX_PRODUCT_ID_LEN);
        assert_eq!(product.name.chars().count(), MAX_PRODUCT_NAME_LEN);
        let absurd = RawProduct { price: Some(RawPrice::Number(1e13)), currency: Some("RUB".into()), ..bare };
        assert_eq!(normalize(&absurd, PAGE).unwrap().price, None);
    }

    fn offer(price: Ld, currency: &str) -> Ld {
        obj(&[("@type", s("Offer")), ("price", price), ("priceCurrency", s(currency))])
    }

    #[test]
    fn json_ld_product_with_an_offer() {
        let doc = obj(&[
            ("@context", s("https://schema.org")),
            ("@type", s("Product")),
            ("name", s("Коляска Vento")),
            ("sku", s("VENTO")),
            ("image", Ld::Array(vec![s("/img/vento.svg"), s("/img/2.svg")])),
            ("category", s("Коляски")),
            ("offers", offer(s("24990.00"), "RUB")),
        ]);
        let found = products_from_json_ld(&doc);
        assert_eq!(found.len(), 1);
        let product = normalize(&found[0], PAGE).unwrap();
        assert_eq!((product.id.as_str(), product.price), ("VENTO", rub(2_499_000)));
        assert_eq!(product.image.as_deref(), Some("https://shop.ru/img/vento.svg"));
    }

    #[test]
    fn json_ld_offer_lists_aggregates_and_specifications() {
        let product = |offers: Ld| obj(&[("@type", s("Product")), ("name", s("X")), ("sku", s("X1")), ("offers", offers)]);
        let price_of = |doc: &Ld| normalize(&products_from_json_ld(doc)[0], PAGE).and_then(|p| p.price);

        let list = Ld::Array(vec![offer(s("30000"), "RUB"), offer(Ld::Number(25_000.0), "RUB"), offer(s("n/a"), "RUB")]);
        assert_eq!(price_of(&product(list)), rub(2_500_000), "the cheapest readable offer");
        let aggregate = obj(&[
            ("@type", s("AggregateOffer")),
            ("lowPrice", Ld::Number(19_990.0)),
            ("highPrice", s("29990")),
            ("priceCurrency", s("RUB")),
        ]);
        assert_eq!(price_of(&product(aggregate)), rub(1_999_000));
        let nested = obj(&[
            ("@type", s("AggregateOffer")),
            ("priceCurrency", s("RUB")),
            ("offers", Ld::Array(vec![obj(&[("price", s("5 000"))])])),
        ]);
        assert_eq!(price_of(&product(nested)), rub(500_000), "the aggregate's currency carries down");
        let spec = obj(&[
            ("@type", s("Offer")),
            ("priceSpecification", obj(&[("price", Ld::Number(7.5)), ("priceCurrency", s("EUR"))])),
        ]);
        assert_eq!(price_of(&product(spec)), Some(Money { minor: 750, currency: Currency::try_from("EUR".to_owned()).unwrap() }));
        assert_eq!(price_of(&product(obj(&[("@type", s("Offer"))]))), None, "an offer without a price");
    }

    #[test]
    fn json_ld_graph_main_entity_and_type_spellings() {
        let doc = obj(&[
            ("@context", s("https://schema.org")),
            (
                "@graph",
                Ld::Array(vec![
                    obj(&[("@type", s("Organization")), ("name", s("Кроха"))]),
                    obj(&[("@type", s("BreadcrumbList")), ("itemListElement", Ld::Array(vec![]))]),
                    obj(&[
                        ("@type", s("ItemPage")),
                        (
                            "mainEntity",
                            obj(&[
                                ("@type", Ld::Array(vec![s("Thing"), s("http://schema.org/Product")])),
                                ("name", s("Orsa 360")),
                                ("productID", s("orsa")),
                            ]),
                        ),
                    ]),
                ]),
            ),
        ]);
        let found = products_from_json_ld(&doc);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name.as_deref(), Some("Orsa 360"));
        assert_eq!(normalize(&found[0], PAGE).unwrap().id, "orsa");
    }

    #[test]
    fn json_ld_lists_and_related_products_are_not_the_page_product() {
        let item = |n: &str| obj(&[("@type", s("Product")), ("name", s(n)), ("sku", s(n))]);
        let list = obj(&[
            ("@type", s("ItemList")),
            ("itemListElement", Ld::Array(vec![obj(&[("@type", s("ListItem")), ("item", item("a"))])])),
        ]);
        assert!(products_from_json_ld(&list).is_empty());
        let with_related = obj(&[
            ("@type", s("Product")),
            ("name", s("Main")),
            ("isRelatedTo", item("other")),
            ("offers", obj(&[("@type", s("Offer")), ("itemOffered", item("x")), ("price", s("1"))])),
        ]);
        let found = products_from_json_ld(&with_related);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name.as_deref(), Some("Main"));
    }

    #[test]
    fn json_ld_product_group_is_one_product() {
        let variant = |sku: &str, price: f64| {
            obj(&[
                ("@type", s("Product")),
                ("sku", s(sku)),
                ("name", s(sku)),
                ("image", obj(&[("@type", s("ImageObject")), ("url", s("https://cdn.shop.ru/v.jpg"))])),
                ("offers", offer(Ld::Number(price), "RUB")),
            ])
        };
        let group = obj(&[
            ("@type", s("ProductGroup")),
            ("name", s("Кроватка Sonno")),
            ("productGroupID", s("sonno")),
            ("sku", s("sonno-white")),
            ("variesBy", s("color")),
            ("hasVariant", Ld::Array(vec![variant("sonno-white", 18_990.0), variant("sonno-oak", 16_490.0)])),
        ]);
        let found = products_from_json_ld(&Ld::Array(vec![group]));
        assert_eq!(found.len(), 1, "variants are not separate page products");
        let product = normalize(&found[0], PAGE).unwrap();
        assert_eq!(product.id, "sonno");
        assert_eq!(product.price, rub(1_649_000), "the cheapest variant");
        assert_eq!(product.image.as_deref(), Some("https://cdn.shop.ru/v.jpg"));
    }

    #[test]
    fn json_ld_garbage_yields_nothing_and_never_panics() {
        let mut deep = obj(&[("@type", s("Product")), ("name", s("too deep"))]);
        for _ in 0..50 {
            deep = obj(&[("@graph", Ld::Array(vec![deep]))]);
        }
        for doc in [
            Ld::Null,
            s("Product"),
            Ld::Number(1.0),
            Ld::Array(vec![Ld::Null, Ld::Bool(true)]),
            obj(&[("@type", Ld::Number(3.0)), ("name", s("x"))]),
            obj(&[("@graph", s("nope"))]),
            deep,
        ] {
            assert!(products_from_json_ld(&doc).iter().all(|raw| normalize(raw, PAGE).is_none()), "{doc:?}");
        }
        let many = Ld::Array((0..1000).map(|i| obj(&[("@type", s("Product")), ("name", s(&i.to_string()))])).collect());
        assert_eq!(products_from_json_ld(&many).len(), MAX_LD_PRODUCTS);
        let no_price = obj(&[("@type", s("Product")), ("name", s("X")), ("offers", obj(&[("price", Ld::Null)]))]);
        assert_eq!(normalize(&products_from_json_ld(&no_price)[0], PAGE).unwrap().price, None);
    }

    #[test]
    fn sources_merge_best_first() {
        let og = RawProduct {
            name: Some("Vento".into()),
            price: Some(RawPrice::Text("24990".into())),
            currency: Some("RUB".into()),
            image: Some("https://shop.ru/og.jpg".into()),
            ..RawProduct::default()
        };
        let ld = RawProduct { sku: Some("V1".into()), name: Some("Vento".into()), ..RawProduct::default() };
        let api = RawProduct { id: Some("api-1".into()), name: Some("Something else".into()), ..RawProduct::default() };
        let product = page_product(vec![(Source::OpenGraph, og.clone()), (Source::JsonLd, ld.clone())], PAGE).unwrap();
        assert_eq!(product.id, "V1", "JSON-LD beats OpenGraph");
        assert_eq!(product.price, rub(2_499_000), "the price is filled in from OpenGraph for the same name");
        assert_eq!(product.image.as_deref(), Some("https://shop.ru/og.jpg"));
        let product = page_product(vec![(Source::JsonLd, ld), (Source::JsApi, api), (Source::OpenGraph, og)], PAGE).unwrap();
        assert_eq!((product.id.as_str(), product.price), ("api-1", None), "another product's price is not borrowed");
        assert_eq!(page_product(vec![], PAGE), None);
        assert_eq!(page_product(vec![(Source::Microdata, RawProduct::default())], PAGE), None);
    }

    #[test]
    fn clean_text_collapses_and_bounds() {
        assert_eq!(clean_text("  a \u{7}\n b  ", 10).as_deref(), Some("a b"));
        assert_eq!(clean_text("\u{0}\u{1}", 10), None);
        assert_eq!(clean_text("абвгд", 3).as_deref(), Some("абв"));
        assert_eq!(clean_text(&" ".repeat(1_000_000), 10), None);
    }
}
