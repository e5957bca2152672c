//! A product as the shop's own page publishes it, read on the server from the page's HTML: the
//! same product decisions as the widget's (JSON-LD first, then microdata, through
//! [`page_product`]), plus what a side-by-side comparison shows: brand, availability, rating and
//! the attributes the page lists (schema.org `additionalProperty`, `weight`, `size`, ...).
//!
//! The promised email is built from this, never from what a request claims a product is.

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::{clean_text, ld_name, ld_product, normalize, page_product, product_nodes, Ld, RawProduct, Source};
use crate::visitor::context::Product;

pub mod markup;

/// Most of a page read; product markup sits in the head or near the top of any real page.
pub const MAX_PRODUCT_PAGE_BYTES: usize = 1024 * 1024;
/// Largest JSON-LD script parsed (as in the widget).
pub const MAX_LD_TEXT: usize = 256 * 1024;
/// Attributes kept per product: a comparison, not a spec sheet.
pub const MAX_ATTRIBUTES: usize = 16;
const MAX_ATTRIBUTE_NAME: usize = 60;
const MAX_ATTRIBUTE_VALUE: usize = 120;
const MAX_BRAND: usize = 80;
/// Longest JSON-LD string kept, and most items of an array or keys of an object (as in the widget).
const MAX_LD_STRING: usize = 4096;
const MAX_LD_ITEMS: usize = 256;
const MAX_LD_KEYS: usize = 128;

/// One product as its page publishes it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct PublishedProduct {
    /// The page it was read from.
    pub page_url: String,
    pub product: Product,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<Availability>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<ProductAttribute>,
}

/// schema.org `ItemAvailability`, the values a shop's offer uses.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    InStock,
    OutOfStock,
    PreOrder,
    BackOrder,
    LimitedAvailability,
    SoldOut,
    Discontinued,
    OnlineOnly,
    InStoreOnly,
}

impl Availability {
    /// `https://schema.org/InStock`, `schema:InStock` or `InStock`.
    pub fn parse(text: &str) -> Option<Availability> {
        let short = text.trim().rsplit(['/', ':', '#']).next().unwrap_or_default();
        let all = [
            ("InStock", Availability::InStock),
            ("OutOfStock", Availability::OutOfStock),
            ("PreOrder", Availability::PreOrder),
            ("PreSale", Availability::PreOrder),
            ("BackOrder", Availability::BackOrder),
            ("LimitedAvailability", Availability::LimitedAvailability),
            ("SoldOut", Availability::SoldOut),
            ("Discontinued", Availability::Discontinued),
            ("OnlineOnly", Availability::OnlineOnly),
            ("InStoreOnly", Availability::InStoreOnly),
        ];
        all.iter().find(|(name, _)| short.eq_ignore_ascii_case(name)).map(|(_, a)| *a)
    }
}

/// `aggregateRating`: the value as the page writes it (a number within `0..=best`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    pub value: String,
    pub best: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// What an attribute is: one of schema.org's own product properties (the email names it in the
/// reader's language), or a name the page gives (`additionalProperty`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AttributeName {
    Weight,
    Width,
    Height,
    Depth,
    Size,
    Color,
    Material,
    Named(String),
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ProductAttribute {
    pub name: AttributeName,
    pub value: String,
}

/// The product `html` (the page at `page_url`) publishes, or `None` when it publishes none in
/// JSON-LD or microdata. `parse_json` parses one JSON-LD script (the worker's JSON parser; core
/// has none), `None` for a broken one.
pub fn read_product_page(html: &str, page_url: &str, parse_json: impl Fn(&str) -> Option<Ld>) -> Option<PublishedProduct> {
    let mut cut = html.len().min(MAX_PRODUCT_PAGE_BYTES);
    while !html.is_char_boundary(cut) {
        cut -= 1;
    }
    let markup = markup::scan(&html[..cut]);
    let docs: Vec<Ld> = markup.json_ld.iter().filter(|text| text.len() <= MAX_LD_TEXT).filter_map(|text| parse_json(text)).collect();
    let ld_nodes: Vec<(&Ld, usize)> = docs.iter().flat_map(product_nodes).collect();
    let ld_raw: Vec<RawProduct> = ld_nodes.iter().map(|(node, depth)| ld_product(node, *depth)).collect();
    let microdata = Ld::Array(markup.microdata);
    let micro_node = product_nodes(&microdata).into_iter().next();

    // As the widget decides: a page listing several different products is a catalogue.
    let one_product = ld_raw.iter().all(|p| p.name == ld_raw[0].name && p.sku == ld_raw[0].sku);
    let mut nodes = Vec::new();
    let mut candidates = Vec::new();
    if let (true, Some(first), Some(node)) = (one_product, ld_raw.first(), ld_nodes.first()) {
        candidates.push((Source::JsonLd, first.clone()));
        nodes.push(*node);
    }
    if let Some((node, depth)) = micro_node {
        candidates.push((Source::Microdata, ld_product(node, depth)));
        nodes.push((node, depth));
    }
    let product = page_product(candidates, page_url)?;
    // The details come from the nodes that describe this same product, best source first.
    let mut published =
        PublishedProduct { page_url: page_url.to_owned(), product, brand: None, availability: None, rating: None, attributes: Vec::new() };
    for (node, depth) in nodes {
        let same = normalize(&ld_product(node, depth), page_url)
            .is_some_and(|p| p.id == published.product.id || p.name.eq_ignore_ascii_case(&published.product.name));
        if !same {
            continue;
        }
        published.brand = published.brand.or_else(|| node.get("brand").and_then(ld_name).and_then(|b| clean_text(&b, MAX_BRAND)));
        published.availability = published.availability.or_else(|| availability(node));
        published.rating = published.rating.take().or_else(|| node.get("aggregateRating").and_then(rating));
        if published.attributes.is_empty() {
            published.attributes = attributes(node);
        }
    }
    Some(published)
}

fn availability(node: &Ld) -> Option<Availability> {
    let offers = node.get("offers")?;
    offers.items().iter().find_map(|offer| {
        offer.field("availability").and_then(|a| Availability::parse(&a)).or_else(|| {
            // An AggregateOffer's own offers.
            offer.get("offers").and_then(|inner| inner.items().iter().find_map(|o| o.field("availability")).and_then(|a| Availability::parse(&a)))
        })
    })
}

/// A number as a page writes it, kept as text: digits with at most one `.` or `,` decimal mark.
fn number_text(value: &Ld) -> Option<String> {
    let text = match value {
        Ld::Number(n) if n.is_finite() && n.abs() < 1e12 => format!("{n}"),
        Ld::String(s) => s.trim().to_owned(),
        Ld::Array(items) => return items.first().and_then(number_text),
        _ => return None,
    };
    let marks = text.chars().filter(|c| matches!(c, '.' | ',')).count();
    let digits = text.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | ','));
    (digits && marks <= 1 && text.len() <= 12 && text.starts_with(|c: char| c.is_ascii_digit())).then_some(text)
}

fn as_number(text: &str) -> Option<f64> {
    text.replace(',', ".").parse().ok().filter(|n: &f64| n.is_finite())
}

fn rating(value: &Ld) -> Option<Rating> {
    let rated = number_text(value.get("ratingValue")?)?;
    let best = value.get("bestRating").and_then(number_text).unwrap_or_else(|| "5".to_owned());
    let (rated_n, best_n) = (as_number(&rated)?, as_number(&best)?);
    if !(0.0..=best_n).contains(&rated_n) || best_n <= 0.0 {
        return None;
    }
    let count = ["reviewCount", "ratingCount"]
        .iter()
        .find_map(|key| value.get(key).and_then(number_text))
        .and_then(|n| n.parse::<u64>().ok());
    Some(Rating { value: rated, best, count })
}

/// The short unit for a UN/CEFACT code schema.org's `unitCode` uses, for the common ones.
fn unit_of_code(code: &str) -> Option<&'static str> {
    let units = [("KGM", "kg"), ("GRM", "g"), ("LBR", "lb"), ("CMT", "cm"), ("MMT", "mm"), ("MTR", "m"), ("INH", "in"), ("LTR", "l")];
    units.iter().find(|(c, _)| code.trim().eq_ignore_ascii_case(c)).map(|(_, unit)| *unit)
}

/// A property value as text: plain text, a number, or a `QuantitativeValue`/`PropertyValue`
/// (`value` with `unitText` or `unitCode`), or a thing with a `name`.
fn value_text(value: &Ld) -> Option<String> {
    let text = match value {
        Ld::String(_) | Ld::Number(_) => number_text(value).or_else(|| value.text()),
        Ld::Array(items) => return items.first().and_then(value_text),
        Ld::Object(_) => {
            let amount = value.get("value").and_then(|v| number_text(v).or_else(|| v.text()));
            match amount {
                Some(amount) => {
                    let unit = value.field("unitText").or_else(|| value.field("unitCode").and_then(|c| unit_of_code(&c)).map(str::to_owned));
                    Some(unit.map_or(amount.clone(), |unit| format!("{amount} {unit}")))
                }
                None => value.field("name"),
            }
        }
        _ => None,
    };
    text.and_then(|t| clean_text(&t, MAX_ATTRIBUTE_VALUE))
}

fn attributes(node: &Ld) -> Vec<ProductAttribute> {
    let mut found: Vec<ProductAttribute> = Vec::new();
    let own = [
        ("weight", AttributeName::Weight),
        ("width", AttributeName::Width),
        ("height", AttributeName::Height),
        ("depth", AttributeName::Depth),
        ("size", AttributeName::Size),
        ("color", AttributeName::Color),
        ("material", AttributeName::Material),
    ];
    for (key, name) in own {
        if let Some(value) = node.get(key).and_then(value_text) {
            found.push(ProductAttribute { name, value });
        }
    }
    for property in node.get("additionalProperty").map(Ld::items).unwrap_or_default() {
        let (Some(name), Some(value)) = (property.field("name").and_then(|n| clean_text(&n, MAX_ATTRIBUTE_NAME)), value_text(property)) else {
            continue;
        };
        let taken = found.iter().any(|a| matches!(&a.name, AttributeName::Named(n) if n.eq_ignore_ascii_case(&name)));
        if !taken {
            found.push(ProductAttribute { name: AttributeName::Named(name), value });
        }
    }
    found.truncate(MAX_ATTRIBUTES);
    found
}

/// JSON into [`Ld`] with the widget's bounds: long strings become null, long arrays and objects
/// are cut. Nesting is bounded by the JSON parser (serde_json stops at 128 levels).
impl<'de> Deserialize<'de> for Ld {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Ld, D::Error> {
        deserializer.deserialize_any(LdVisitor)
    }
}

struct LdVisitor;

impl<'de> Visitor<'de> for LdVisitor {
    type Value = Ld;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Ld, E> {
        Ok(Ld::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Ld, E> {
        Ok(Ld::Number(v as f64))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Ld, E> {
        Ok(Ld::Number(v as f64))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Ld, E> {
        Ok(Ld::Number(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Ld, E> {
        Ok(if v.len() > MAX_LD_STRING { Ld::Null } else { Ld::String(v.to_owned()) })
    }

    fn visit_unit<E: de::Error>(self) -> Result<Ld, E> {
        Ok(Ld::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Ld, E> {
        Ok(Ld::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ld, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Ld>()? {
            if items.len() < MAX_LD_ITEMS {
                items.push(item);
            }
        }
        Ok(Ld::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ld, A::Error> {
        let mut fields = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if fields.len() < MAX_LD_KEYS {
                fields.push((key, map.next_value::<Ld>()?));
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Ld::Object(fields))
    }
}

#[cfg(test)]
mod tests;
