//! Reading product markup out of the DOM. Only the reading is here: which node is the product,
//! which offer gives the price and how text becomes money is decided by `floorwalker_core::visitor::product`.
//!
//! Sources, best first (see docs/behaviour.md): `floorwalker('product', {...})`, `data-fw-product`
//! attributes, schema.org JSON-LD, schema.org microdata, OpenGraph product tags.

use floorwalker_core::visitor::context::Product;
use floorwalker_core::visitor::product::{self, Ld, RawPrice, RawProduct, Source};
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

/// Largest JSON-LD script parsed; bigger ones are not product markup worth the main thread.
const MAX_LD_TEXT: u32 = 256 * 1024;
/// Longest string kept from JSON-LD; longer ones (inlined images, essays) become null.
const MAX_LD_STRING: u32 = 4096;
/// Most values converted from one JSON-LD document.
const MAX_LD_NODES: usize = 4000;
/// Longest attribute or text value read from markup.
const MAX_ATTR_LEN: usize = 4096;

/// The product this page is about, if any. `api` is what the page passed to
/// `floorwalker('product', {...})` for the current route.
pub fn page_product(document: &Document, page_url: &str, api: Option<&RawProduct>) -> Option<Product> {
    let mut candidates = Vec::new();
    if let Some(api) = api {
        candidates.push((Source::JsApi, api.clone()));
    }
    if let Some(raw) = data_attributes(document) {
        candidates.push((Source::DataAttributes, raw));
    }
    // A page listing several different products is a catalogue, not a product page.
    let ld = json_ld(document);
    let all_one_product = ld.iter().all(|p| p.name == ld[0].name && p.sku == ld[0].sku);
    if !ld.is_empty() && all_one_product {
        candidates.extend(ld.into_iter().take(1).map(|raw| (Source::JsonLd, raw)));
    }
    if let Some(raw) = microdata(document) {
        candidates.push((Source::Microdata, raw));
    }
    if let Some(raw) = open_graph(document) {
        candidates.push((Source::OpenGraph, raw));
    }
    product::page_product(candidates, page_url)
}

/// The products in the page's JSON-LD scripts; broken scripts are skipped.
pub fn json_ld(document: &Document) -> Vec<RawProduct> {
    let mut found = Vec::new();
    let Ok(scripts) = document.query_selector_all(r#"script[type="application/ld+json" i]"#) else {
        return found;
    };
    for index in 0..scripts.length() {
        let Some(text) = scripts.item(index).and_then(|node| node.text_content()) else { continue };
        if text.len() > MAX_LD_TEXT as usize {
            continue;
        }
        // The browser's parser: no JSON parser in the wasm, and a syntax error is just an Err.
        let Ok(value) = js_sys::JSON::parse(&text) else { continue };
        let mut budget = MAX_LD_NODES;
        found.extend(product::products_from_json_ld(&to_ld(&value, 0, &mut budget)));
    }
    found
}

/// A parsed JSON value as core's neutral [`Ld`], bounded in depth, size and string length.
pub fn to_ld(value: &JsValue, depth: usize, budget: &mut usize) -> Ld {
    if *budget == 0 || depth > product::MAX_LD_DEPTH + 2 {
        return Ld::Null;
    }
    *budget -= 1;
    if let Some(b) = value.as_bool() {
        Ld::Bool(b)
    } else if let Some(n) = value.as_f64() {
        Ld::Number(n)
    } else if value.is_string() {
        let text: &js_sys::JsString = value.unchecked_ref();
        if text.length() > MAX_LD_STRING {
            Ld::Null
        } else {
            Ld::String(String::from(text))
        }
    } else if js_sys::Array::is_array(value) {
        let array: &js_sys::Array = value.unchecked_ref();
        Ld::Array(array.iter().take(256).map(|item| to_ld(&item, depth + 1, budget)).collect())
    } else if value.is_object() {
        let object: &js_sys::Object = value.unchecked_ref();
        let keys = js_sys::Object::keys(object);
        let fields = keys
            .iter()
            .take(128)
            .filter_map(|key| {
                let name = key.as_string()?;
                let inner = js_sys::Reflect::get(value, &key).ok()?;
                Some((name, to_ld(&inner, depth + 1, budget)))
            })
            .collect();
        Ld::Object(fields)
    } else {
        Ld::Null
    }
}

fn attr(element: &Element, name: &str) -> Option<String> {
    element.get_attribute(name).filter(|v| !v.trim().is_empty() && v.len() <= MAX_ATTR_LEN)
}

/// `<div data-fw-product="SKU" data-fw-name="..." data-fw-price="24990" data-fw-currency="RUB"
/// data-fw-image="..." data-fw-url="..." data-fw-category="...">`: the first such element.
pub fn data_attributes(document: &Document) -> Option<RawProduct> {
    let element = document.query_selector("[data-fw-product]").ok()??;
    let field = |name: &str| attr(&element, &["data-fw-", name].concat());
    Some(RawProduct {
        id: field("product"),
        sku: None,
        name: field("name"),
        price: field("price").map(RawPrice::Text),
        currency: field("currency"),
        image: field("image"),
        url: field("url"),
        category: field("category"),
        suits_age: None,
    })
}

/// The first schema.org `Product` (or `ProductGroup`) item in microdata, with its own properties
/// and those of its `offers` item.
pub fn microdata(document: &Document) -> Option<RawProduct> {
    let items = document.query_selector_all("[itemscope][itemtype]").ok()?;
    let item = (0..items.length()).filter_map(|i| items.item(i)?.dyn_into::<Element>().ok()).find(|el| {
        attr(el, "itemtype").is_some_and(|types| {
            types.split_whitespace().any(|t| t.ends_with("schema.org/Product") || t.ends_with("schema.org/ProductGroup"))
        })
    })?;
    let owner = |el: &Element| el.parent_element().and_then(|parent| parent.closest("[itemscope]").ok().flatten());
    let mut raw = RawProduct::default();
    let props = item.query_selector_all("[itemprop]").ok()?;
    for index in 0..props.length().min(500) {
        let Some(prop) = props.item(index).and_then(|n| n.dyn_into::<Element>().ok()) else { continue };
        let Some(scope) = owner(&prop) else { continue };
        let on_product = scope == item;
        let on_offer = !on_product
            && attr(&scope, "itemtype").is_some_and(|t| t.contains("Offer"))
            && owner(&scope).is_some_and(|outer| outer == item);
        if !on_product && !on_offer {
            continue;
        }
        let names = attr(&prop, "itemprop").unwrap_or_default();
        for name in names.split_whitespace() {
            let slot = match (on_offer, name) {
                (false, "name") => &mut raw.name,
                (false, "sku") => &mut raw.sku,
                (false, "productID" | "productGroupID" | "mpn" | "gtin13" | "gtin") => &mut raw.id,
                (false, "image") => &mut raw.image,
                (false, "url") => &mut raw.url,
                (false, "category") => &mut raw.category,
                (_, "priceCurrency") => &mut raw.currency,
                (_, "price" | "lowPrice") => {
                    if raw.price.is_none() {
                        raw.price = microdata_value_of(name, &prop).map(RawPrice::Text);
                    }
                    continue;
                }
                _ => continue,
            };
            if slot.is_none() {
                *slot = microdata_value_of(name, &prop);
            }
        }
    }
    Some(raw)
}

/// An item property's value: the element read here, the value decided by core
/// (`product::microdata_value`: per element as HTML defines it, a category link by its text).
fn microdata_value_of(property: &str, element: &Element) -> Option<String> {
    let tag = element.tag_name();
    let holder = product::microdata_value_attribute(&tag);
    let attribute = holder.and_then(|name| attr(element, name));
    // Text only where it can be the value: a whole subtree's text is not free.
    let text = (holder.is_none() || property == "category").then(|| element.text_content()).flatten();
    let text = text.filter(|t| t.len() <= MAX_ATTR_LEN);
    product::microdata_value(property, &tag, attr(element, "content"), attribute, text)
}

/// OpenGraph product tags, when `og:type` says the page is a product.
pub fn open_graph(document: &Document) -> Option<RawProduct> {
    let metas = document.query_selector_all("meta[property]").ok()?;
    let mut raw = RawProduct::default();
    let mut is_product = false;
    for index in 0..metas.length().min(200) {
        let Some(meta) = metas.item(index).and_then(|n| n.dyn_into::<Element>().ok()) else { continue };
        let (Some(property), Some(content)) = (attr(&meta, "property"), attr(&meta, "content")) else { continue };
        let slot = match property.to_ascii_lowercase().as_str() {
            "og:type" => {
                is_product = content.trim().to_ascii_lowercase().starts_with("product");
                continue;
            }
            "og:title" => &mut raw.name,
            "og:image" | "og:image:url" | "og:image:secure_url" => &mut raw.image,
            "og:url" => &mut raw.url,
            "product:retailer_item_id" | "product:sku" => &mut raw.sku,
            "product:category" => &mut raw.category,
            "product:currency" | "product:price:currency" | "og:price:currency" => &mut raw.currency,
            "product:price:amount" | "product:price" | "og:price:amount" => {
                if raw.price.is_none() {
                    raw.price = Some(RawPrice::Text(content));
                }
                continue;
            }
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(content);
        }
    }
    is_product.then_some(raw)
}

/// The object given to `floorwalker('product', {...})`: `id` or `sku`, `name`, `price` (number
/// or text), `currency`, `image`, `url`, `category`. Anything else is ignored.
pub fn raw_from_js(value: &JsValue) -> RawProduct {
    let field = |name: &str| {
        let value = js_sys::Reflect::get(value, &name.into()).ok()?;
        match value.as_f64() {
            Some(n) if n.is_finite() => crate::browser::number_text(n),
            _ => value.as_string().filter(|s| s.len() <= MAX_ATTR_LEN),
        }
    };
    let price = js_sys::Reflect::get(value, &"price".into()).ok().and_then(|price| match price.as_f64() {
        Some(n) => Some(RawPrice::Number(n)),
        None => price.as_string().filter(|s| s.len() <= 64).map(RawPrice::Text),
    });
    RawProduct {
        id: field("id"),
        sku: field("sku"),
        name: field("name"),
        price,
        currency: field("currency"),
        image: field("image"),
        url: field("url"),
        category: field("category"),
        suits_age: None,
    }
}
