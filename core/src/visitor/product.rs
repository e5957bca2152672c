//! Product detection decisions: which product a page is about, read from whatever markup the shop
//! has (schema.org JSON-LD or microdata, OpenGraph, `data-fw-product` attributes, the JS API).
//!
//! The widget only reads the DOM into the neutral shapes here — [`Ld`] for a parsed JSON-LD
//! document, [`RawProduct`] for a product's fields as strings — and core decides everything else:
//! which JSON-LD node is the page's product, which offer gives the price, how `"24 990,00 ₽"` becomes
//! minor units, which URLs are kept. Everything here is pure and bounded, because the input is
//! whatever a page (or an attacker's page) contains.

use crate::base::money::{minor_exponent, Currency, Money};
use crate::base::text::{decimal, parse_digits, truncate_chars, MAX_CATEGORY_LEN, MAX_PRODUCT_ID_LEN, MAX_PRODUCT_NAME_LEN, MAX_URL_LEN};
use crate::base::url::{path_of, without_fragment};
use crate::visitor::context::{AgeRange, Product};

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
    let sign = if n < 0.0 { "-" } else { "" };
    (n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15).then(|| sign.to_owned() + &decimal(n.abs() as u64))
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
    pub suits_age: Option<AgeRange>,
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
    let currency = raw.currency.as_deref().and_then(Currency::parse);
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
        suits_age: raw.suits_age,
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
        product.suits_age = product.suits_age.or(other.suits_age);
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
    let major = i64::try_from(parse_digits(&int)?).ok()?;
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
        [scheme, "://", rest].concat()
    } else if href.contains(':') && href.find(':') < href.find(['/', '?', '#']).or(Some(href.len())) {
        // Another scheme (`data:`, `javascript:`): never a product URL or image we pass on.
        return None;
    } else {
        let (scheme, rest) = base.split_once("://")?;
        let authority = rest.split(['/', '?', '#']).next()?;
        if href.starts_with('/') {
            [scheme, "://", authority, href].concat()
        } else {
            let base_path = path_of(base);
            let dir = base_path.rfind('/').map_or("/", |i| &base_path[..=i]);
            // `concat`, not `format!`: no `core::fmt` in the widget's first load.
            let base = if href.starts_with(['?', '#']) { base_path } else { dir };
            [scheme, "://", authority, base, href].concat()
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
    product_nodes(doc).into_iter().map(|(node, depth)| ld_product(node, depth)).collect()
}

/// The page's product nodes of a JSON-LD document (see [`products_from_json_ld`]), each with its
/// depth in the document.
fn product_nodes(doc: &Ld) -> Vec<(&Ld, usize)> {
    let mut found = Vec::new();
    collect_products(doc, 0, &mut found);
    found
}

fn collect_products<'a>(node: &'a Ld, depth: usize, found: &mut Vec<(&'a Ld, usize)>) {
    if depth > MAX_LD_DEPTH || found.len() >= MAX_LD_PRODUCTS {
        return;
    }
    match node {
        Ld::Array(items) => items.iter().for_each(|item| collect_products(item, depth + 1, found)),
        Ld::Object(_) => {
            if node.has_type(&["Product", "ProductGroup", "IndividualProduct", "ProductModel", "Vehicle", "Car"]) {
                found.push((node, depth));
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
        suits_age: node.get("audience").and_then(ld_audience_age),
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

/// A plain decimal as text (`"3"`, `"0.5"`, `"0,5"`), read without the float parser, which would
/// pull its ~10 KB of code and tables into the widget's first load.
fn plain_decimal(text: &str) -> Option<f64> {
    let (int, frac) = text.split_once(['.', ',']).unwrap_or((text, ""));
    let digits = |s: &str| s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return None;
    }
    let number = |s: &str| s.bytes().fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
    Some(f64::from(number(int)) + f64::from(number(frac)) / 10f64.powi(frac.len() as i32))
}

/// The ages a schema.org `audience` (a `PeopleAudience`, or a list: the first with an age) suggests,
/// given in years (`0.5` is six months). `None` without a readable minimum or maximum, or when they
/// are inverted.
fn ld_audience_age(audience: &Ld) -> Option<AgeRange> {
    audience.items().iter().find_map(|audience| {
        let years = |key: &str| match audience.get(key)? {
            Ld::Number(n) => Some(*n),
            Ld::String(s) => plain_decimal(s.trim()),
            _ => None,
        };
        let months = |years: f64| (years.is_finite() && (0.0..=150.0).contains(&years)).then(|| (years * 12.0).round() as u16);
        let (min, max) = (years("suggestedMinAge"), years("suggestedMaxAge"));
        if min.is_none() && max.is_none() {
            return None;
        }
        let min_months = match min {
            Some(min) => months(min)?,
            None => 0,
        };
        let max_months = match max {
            Some(max) => Some(months(max)?),
            None => None,
        };
        max_months.is_none_or(|max| min_months <= max).then_some(AgeRange { min_months, max_months })
    })
}

/// A microdata property's value, as HTML defines it per element, with one exception for a
/// `category`: a link's text («Термосы»), not its address (`/c/termos`), names the category.
/// The widget reads the element: its tag name, its `content` attribute, the attribute that holds
/// the value for its tag (`src`, `href`, `value`, `datetime`) and its text.
pub fn microdata_value(property: &str, tag: &str, content: Option<String>, attribute: Option<String>, text: Option<String>) -> Option<String> {
    if content.is_some() {
        return content;
    }
    match microdata_value_attribute(tag) {
        Some(_) if property == "category" && tag.eq_ignore_ascii_case("a") => {
            text.filter(|t| !t.trim().is_empty()).or(attribute)
        }
        Some(_) => attribute,
        None if tag.eq_ignore_ascii_case("meta") => None,
        None => text,
    }
}

/// The attribute that holds an element's microdata value, for the elements that have one.
pub fn microdata_value_attribute(tag: &str) -> Option<&'static str> {
    match tag.to_ascii_lowercase().as_str() {
        "img" | "audio" | "video" | "source" | "iframe" | "embed" => Some("src"),
        "a" | "link" | "area" => Some("href"),
        "data" | "meter" => Some("value"),
        "time" => Some("datetime"),
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

pub mod page;

#[cfg(test)]
mod tests;
