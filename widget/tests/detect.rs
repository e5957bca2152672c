//! Product detection on fixture pages, in headless Chromium (wasm-bindgen-test): one fixture per
//! markup style, and malformed markup that must yield nothing (or the best valid source) without
//! ever panicking.

use floorwalker_core::base::money::{Currency, Money};
use floorwalker_core::visitor::context::Product;
use floorwalker_widget::detect;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const PAGE: &str = "https://shop.example/product/vento/";

/// A fresh document (not the test runner's) holding `head` and `body` markup.
fn page(head: &str, body: &str) -> web_sys::Document {
    let document = web_sys::window().and_then(|w| w.document()).expect("a document");
    let fixture = document.implementation().expect("DOM implementation").create_html_document_with_title("fixture").expect("doc");
    // Test fixtures only: the widget itself never writes markup from strings.
    fixture.head().expect("head").set_inner_html(head);
    fixture.body().expect("body").set_inner_html(body);
    fixture
}

fn detect(head: &str, body: &str) -> Option<Product> {
    detect::page_product(&page(head, body), PAGE, None)
}

fn ld(json: &str) -> String {
    format!(r#"<script type="application/ld+json">{json}</script>"#)
}

fn rub(minor: i64) -> Option<Money> {
    Some(Money { minor, currency: Currency::RUB })
}

#[wasm_bindgen_test]
fn json_ld_product_with_offer_and_string_price() {
    let product = detect(
        &ld(r#"{"@context":"https://schema.org","@type":"Product","name":"Коляска Vento 3 в 1","sku":"VENTO-3",
            "image":"/img/vento.svg","category":"Коляски","url":"/product/vento/",
            "offers":{"@type":"Offer","price":"24990.00","priceCurrency":"RUB"}}"#),
        "",
    )
    .expect("a product");
    assert_eq!(product.id, "VENTO-3");
    assert_eq!(product.name, "Коляска Vento 3 в 1");
    assert_eq!(product.price, rub(2_499_000));
    assert_eq!(product.image.as_deref(), Some("https://shop.example/img/vento.svg"));
    assert_eq!(product.url.as_deref(), Some("https://shop.example/product/vento/"));
    assert_eq!(product.category.as_deref(), Some("Коляски"));
}

#[wasm_bindgen_test]
fn json_ld_product_group_in_a_graph_with_numeric_prices() {
    let product = detect(
        &ld(r#"{"@context":"https://schema.org","@graph":[
            {"@type":"Organization","name":"Shop"},
            {"@type":"ProductGroup","name":"Кроватка Sonno","productGroupID":"sonno","variesBy":"color",
             "hasVariant":[
               {"@type":"Product","sku":"sonno-white","name":"white","image":{"@type":"ImageObject","url":"https://cdn.example/w.jpg"},
                "offers":{"@type":"Offer","price":18990,"priceCurrency":"RUB"}},
               {"@type":"Product","sku":"sonno-oak","name":"oak","offers":{"@type":"Offer","price":16490.5,"priceCurrency":"RUB"}}]}]}"#),
        "",
    )
    .expect("a product");
    assert_eq!(product.id, "sonno");
    assert_eq!(product.price, rub(1_649_050), "the cheapest variant, a number with kopecks");
    assert_eq!(product.image.as_deref(), Some("https://cdn.example/w.jpg"));
}

#[wasm_bindgen_test]
fn json_ld_aggregate_offer_and_offer_lists() {
    let aggregate = detect(
        &ld(r#"[{"@type":"BreadcrumbList"},{"@type":["Product"],"name":"Orsa","sku":"orsa",
            "offers":{"@type":"AggregateOffer","lowPrice":"19 990,00","highPrice":"25990","priceCurrency":"RUB","offerCount":3}}]"#),
        "",
    )
    .expect("a product");
    assert_eq!(aggregate.price, rub(1_999_000), "lowPrice, formatted the Russian way");
    let list = detect(
        &ld(r#"{"@type":"Product","name":"Orsa","sku":"orsa","offers":[
            {"@type":"Offer","price":"31000","priceCurrency":"RUB"},{"@type":"Offer","price":"29500","priceCurrency":"RUB"}]}"#),
        "",
    )
    .expect("a product");
    assert_eq!(list.price, rub(2_950_000), "the cheapest offer");
}

#[wasm_bindgen_test]
fn microdata_product_with_offer() {
    let product = detect(
        "",
        r#"<div itemscope itemtype="https://schema.org/Product">
             <h1 itemprop="name">Orsa 360 Isofix</h1>
             <img itemprop="image" src="/img/orsa.svg" alt="">
             <meta itemprop="sku" content="ORSA-360">
             <div itemprop="review" itemscope itemtype="https://schema.org/Review"><span itemprop="name">Great seat</span></div>
             <div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
               <span itemprop="price" content="25990.00">25 990 ₽</span>
               <meta itemprop="priceCurrency" content="RUB">
             </div>
           </div>"#,
    )
    .expect("a product");
    assert_eq!(product.id, "ORSA-360");
    assert_eq!(product.name, "Orsa 360 Isofix", "a nested review's name is not the product's");
    assert_eq!(product.price, rub(2_599_000));
    assert_eq!(product.image.as_deref(), Some("https://shop.example/img/orsa.svg"));
}

#[wasm_bindgen_test]
fn microdata_category_is_the_link_s_name_not_its_address() {
    let product = detect(
        "",
        r#"<div itemscope itemtype="https://schema.org/Product">
             <a itemprop="category" href="/c/termos">Термосы</a>
             <h1 itemprop="name">Термос Arctic 0,5 л</h1>
           </div>"#,
    )
    .expect("a product");
    assert_eq!(product.category.as_deref(), Some("Термосы"));
}

#[wasm_bindgen_test]
fn open_graph_product_tags() {
    let product = detect(
        r#"<meta property="og:type" content="product">
           <meta property="og:title" content="Матрас Dream">
           <meta property="og:image" content="https://cdn.example/dream.jpg">
           <meta property="og:url" content="https://shop.example/product/dream/">
           <meta property="product:price:amount" content="7490">
           <meta property="product:price:currency" content="RUB">"#,
        "",
    )
    .expect("a product");
    assert_eq!(product.id, "/product/dream/", "no SKU: the product URL's path");
    assert_eq!(product.price, rub(749_000));
    assert_eq!(product.image.as_deref(), Some("https://cdn.example/dream.jpg"));
    assert!(detect(r#"<meta property="og:type" content="article"><meta property="og:title" content="Blog">"#, "").is_none());
}

#[wasm_bindgen_test]
fn data_fw_product_attributes() {
    let product = detect(
        "",
        r#"<section data-fw-product="SKU-77" data-fw-name="Автокресло Mio" data-fw-price="12 490 ₽"
             data-fw-currency="RUB" data-fw-image="/i/mio.png" data-fw-category="Автокресла"></section>"#,
    )
    .expect("a product");
    assert_eq!(product.id, "SKU-77");
    assert_eq!(product.price, rub(1_249_000));
    assert_eq!(product.category.as_deref(), Some("Автокресла"));
}

#[wasm_bindgen_test]
fn js_api_product_wins_over_markup() {
    let given = js_sys::JSON::parse(r#"{"sku":"api-1","name":"From the API","price":990.5,"currency":"rub","image":"/a.png","extra":{"x":1}}"#)
        .expect("JSON");
    let raw = detect::raw_from_js(&given);
    let document = page(&ld(r#"{"@type":"Product","name":"Markup","sku":"m-1"}"#), "");
    let product = detect::page_product(&document, PAGE, Some(&raw)).expect("a product");
    assert_eq!((product.id.as_str(), product.name.as_str()), ("api-1", "From the API"));
    assert_eq!(product.price, rub(99_050));
    // Numbers where text is expected are read, not dropped.
    let numeric = detect::raw_from_js(&js_sys::JSON::parse(r#"{"id":12345,"name":"N","price":"1 000"}"#).expect("JSON"));
    assert_eq!(numeric.id.as_deref(), Some("12345"));
}

#[wasm_bindgen_test]
fn listing_pages_are_not_product_views() {
    let two = ld(r#"[{"@type":"Product","name":"A","sku":"a"},{"@type":"Product","name":"B","sku":"b"}]"#);
    assert!(detect(&two, "").is_none(), "two different products: a catalogue page");
    let list = ld(r#"{"@type":"ItemList","itemListElement":[{"@type":"ListItem","item":{"@type":"Product","name":"A","sku":"a"}}]}"#);
    assert!(detect(&list, "").is_none());
}

#[wasm_bindgen_test]
fn malformed_markup_never_crashes_and_falls_back() {
    // Broken JSON-LD is skipped; the OpenGraph tags still describe the product.
    let product = detect(
        &format!(
            "{}{}{}",
            ld(r#"{"@type":"Product","name":"Broken", "#),
            ld("not json at all </p>"),
            r#"<meta property="og:type" content="product"><meta property="og:title" content="Fallback">"#
        ),
        "",
    )
    .expect("the OpenGraph product");
    assert_eq!(product.name, "Fallback");

    // Missing or absurd prices leave the product without a price, never with a wrong one.
    for offers in [
        r#"{"@type":"Offer"}"#,
        r#"{"@type":"Offer","price":"","priceCurrency":"RUB"}"#,
        r#"{"@type":"Offer","price":-5,"priceCurrency":"RUB"}"#,
        r#"{"@type":"Offer","price":1e300,"priceCurrency":"RUB"}"#,
        r#"{"@type":"Offer","price":"call us","priceCurrency":"RUB"}"#,
        r#"{"@type":"Offer","price":"100","priceCurrency":"rubles"}"#,
        r#"{"@type":"Offer","price":{"nested":true},"priceCurrency":"RUB"}"#,
        r#"null"#,
    ] {
        let product = detect(&ld(&format!(r#"{{"@type":"Product","name":"X","sku":"x","offers":{offers}}}"#)), "")
            .unwrap_or_else(|| panic!("still a product with offers {offers}"));
        assert_eq!(product.price, None, "offers {offers}");
    }

    // Huge strings are bounded or skipped, not copied whole into the session.
    let huge = "x".repeat(1_000_000);
    let product = detect(&ld(&format!(r#"{{"@type":"Product","name":"Big","sku":"{huge}"}}"#)), "");
    assert!(product.is_none_or(|p| p.id.len() <= 128));
    let product = detect("", &format!(r#"<div data-fw-product="a" data-fw-name="{huge}"></div>"#));
    assert!(product.is_none_or(|p| p.name.len() <= 256));

    // Nonsense shapes: no name, wrong types, deep nesting, hostile URLs.
    let deep = format!("{}{{\"@type\":\"Product\",\"name\":\"deep\"}}{}", "[".repeat(500), "]".repeat(500));
    for markup in [
        ld(r#"{"@type":"Product"}"#),
        ld(r#"{"@type":null,"name":"x"}"#),
        ld(r#"{"@type":"Product","name":["",""]}"#),
        ld(r#""Product""#),
        ld(&deep),
    ] {
        assert!(detect(&markup, "").is_none(), "{}", &markup[..markup.len().min(80)]);
    }
    let hostile = detect(&ld(r#"{"@type":"Product","name":"<img src=x onerror=alert(1)>","sku":"h","image":"javascript:alert(1)"}"#), "")
        .expect("a product");
    assert_eq!(hostile.name, "<img src=x onerror=alert(1)>", "kept as text; the widget renders it as a text node");
    assert_eq!(hostile.image, None);
    assert!(detect("", r#"<div itemscope itemtype="https://schema.org/Product"><span itemprop="price">10</span></div>"#).is_none());
}
