use super::markup::{decode, scan};
use super::*;
use crate::base::money::{Currency, Money};

const PAGE: &str = "https://shop.example/product/flyer/";

fn parse(text: &str) -> Option<Ld> {
    serde_json::from_str(text).ok()
}

fn read(html: &str) -> Option<PublishedProduct> {
    read_product_page(html, PAGE, parse)
}

const JSON_LD_PAGE: &str = r#"<!DOCTYPE html><html><head><title>Flyer</title>
<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":"Коляска Aistenok Flyer",
"sku":"KR-STR-004","image":"/img/flyer.svg","url":"/product/flyer/","brand":{"@type":"Brand","name":"Aistenok"},
"category":"Коляски","weight":{"@type":"QuantitativeValue","value":5.8,"unitCode":"KGM"},"color":"Графит",
"aggregateRating":{"@type":"AggregateRating","ratingValue":"4.7","reviewCount":23},
"additionalProperty":[{"@type":"PropertyValue","name":"Размер в сложенном виде","value":"54 × 45 × 23 см"},
{"@type":"PropertyValue","name":"Максимальная нагрузка","value":22,"unitText":"кг"}],
"offers":{"@type":"Offer","price":"24990.00","priceCurrency":"RUB","availability":"https://schema.org/InStock"}}</script>
</head><body><h1>Коляска</h1></body></html>"#;

#[test]
fn json_ld_gives_the_product_and_everything_a_comparison_shows() {
    let published = read(JSON_LD_PAGE).expect("a product");
    assert_eq!(published.page_url, PAGE);
    let p = &published.product;
    assert_eq!((p.id.as_str(), p.name.as_str()), ("KR-STR-004", "Коляска Aistenok Flyer"));
    assert_eq!(p.price, Some(Money { minor: 2_499_000, currency: Currency::RUB }));
    assert_eq!(p.image.as_deref(), Some("https://shop.example/img/flyer.svg"));
    assert_eq!(p.url.as_deref(), Some("https://shop.example/product/flyer/"));
    assert_eq!(published.brand.as_deref(), Some("Aistenok"));
    assert_eq!(published.availability, Some(Availability::InStock));
    assert_eq!(published.rating, Some(Rating { value: "4.7".into(), best: "5".into(), count: Some(23) }));
    let attributes: Vec<(AttributeName, &str)> = published.attributes.iter().map(|a| (a.name.clone(), a.value.as_str())).collect();
    assert_eq!(
        attributes,
        vec![
            (AttributeName::Weight, "5.8 kg"),
            (AttributeName::Color, "Графит"),
            (AttributeName::Named("Размер в сложенном виде".into()), "54 × 45 × 23 см"),
            (AttributeName::Named("Максимальная нагрузка".into()), "22 кг"),
        ]
    );
    // What the cache stores reads back the same.
    let json = serde_json::to_string(&published).unwrap();
    assert_eq!(serde_json::from_str::<PublishedProduct>(&json).unwrap(), published);
}

const MICRODATA_PAGE: &str = r#"<html><body>
<!-- <div itemscope itemtype="https://schema.org/Product"><span itemprop="name">Commented out</span></div> -->
<div itemscope itemtype="https://schema.org/Product">
  <h1 itemprop="name">Кроватка <b>Dremushka</b> &amp; матрас</h1>
  <img itemprop="image" src="/img/crib.png" alt="">
  <meta itemprop="sku" content="KR-CRB-001">
  <span itemprop="brand" itemscope itemtype="https://schema.org/Brand"><span itemprop="name">Dremushka</span></span>
  <div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
    <span itemprop="price" content="15990">15 990 ₽</span><meta itemprop="priceCurrency" content="RUB">
    <link itemprop="availability" href="https://schema.org/PreOrder">
  </div>
  <table><tr itemprop="additionalProperty" itemscope itemtype="https://schema.org/PropertyValue">
    <th itemprop="name">Материал</th><td itemprop="value">Бук</td></tr>
  <tr itemprop=additionalProperty itemscope itemtype=https://schema.org/PropertyValue><th itemprop=name>Размер</th><td itemprop=value>120×60 см</td></tr>
  </table>
  <p>Unclosed paragraph
</div>
<div itemscope itemtype="https://schema.org/Product"><span itemprop="name">A related product</span></div>
</body></html>"#;

#[test]
fn microdata_is_read_like_json_ld() {
    let published = read(MICRODATA_PAGE).expect("a product");
    let p = &published.product;
    assert_eq!(p.name, "Кроватка Dremushka & матрас");
    assert_eq!(p.id, "KR-CRB-001");
    assert_eq!(p.price, Some(Money { minor: 1_599_000, currency: Currency::RUB }));
    assert_eq!(p.image.as_deref(), Some("https://shop.example/img/crib.png"));
    assert_eq!(published.brand.as_deref(), Some("Dremushka"));
    assert_eq!(published.availability, Some(Availability::PreOrder));
    let names: Vec<String> = published.attributes.iter().map(|a| format!("{:?}={}", a.name, a.value)).collect();
    assert_eq!(names, vec![r#"Named("Материал")=Бук"#, r#"Named("Размер")=120×60 см"#]);
}

#[test]
fn json_ld_wins_over_microdata_and_fills_in_from_it() {
    let html = format!(
        "{}{}",
        r#"<script type="application/ld+json">{"@type":"Product","name":"Кроватка Dremushka & матрас","sku":"KR-CRB-001"}</script>"#,
        MICRODATA_PAGE
    );
    let published = read(&html).expect("a product");
    assert_eq!(published.product.id, "KR-CRB-001");
    assert_eq!(published.product.price.map(|m| m.minor), Some(1_599_000), "the price from microdata");
    assert_eq!(published.brand.as_deref(), Some("Dremushka"));
}

#[test]
fn pages_without_one_product_publish_none() {
    assert_eq!(read("<html><body><h1>Коляска</h1><p>24 990 ₽</p></body></html>"), None);
    assert_eq!(read(""), None);
    let catalogue = r#"<script type="application/ld+json">[{"@type":"Product","name":"A","sku":"1"},{"@type":"Product","name":"B","sku":"2"}]</script>"#;
    assert_eq!(read(catalogue), None, "a catalogue is no product page");
    let broken = r#"<script type="application/ld+json">{"@type":"Product","name":</script>"#;
    assert_eq!(read(broken), None);
    let not_ld = r#"<script>var x = {"@type":"Product","name":"A"};</script><script type="text/template">{"@type":"Product","name":"B"}</script>"#;
    assert_eq!(read(not_ld), None, "only JSON-LD scripts count");
}

#[test]
fn script_bodies_are_raw_text() {
    // A `<div itemscope>` inside a script is not markup; the script's JSON-LD is found whatever the case.
    let html = r#"<SCRIPT TYPE="Application/LD+JSON">{"@type":"Product","name":"Flyer <div itemscope>"}</SCRIPT>
<script>document.write('<div itemscope itemtype="https://schema.org/Product"><b itemprop=name>Fake</b></div>')</script>"#;
    let markup = scan(html);
    assert_eq!(markup.json_ld.len(), 1);
    assert!(markup.microdata.is_empty());
    assert_eq!(read(html).map(|p| p.product.name), Some("Flyer <div itemscope>".to_owned()));
}

#[test]
fn hostile_markup_is_bounded_and_never_panics() {
    let cases = [
        "<".repeat(10_000),
        "<div itemscope itemtype=\"https://schema.org/Product\">".repeat(5_000),
        "<a href=\"".to_owned(),
        "<div itemscope itemprop=x itemtype=".to_owned(),
        "&#xFFFFFFFF; &#0; &#x110000; &amp &; <b>é</b>".to_owned(),
        format!("<script type=\"application/ld+json\">{}</script>", "[".repeat(200_000)),
        format!("<script type=\"application/ld+json\">{{\"@type\":\"Product\",\"name\":\"{}\"}}</script>", "x".repeat(300_000)),
        "<div itemscope itemtype=https://schema.org/Product><span itemprop=name>Ёлка".to_owned(),
    ];
    for html in &cases {
        let _ = read(html);
    }
    assert_eq!(read(&cases[7]).map(|p| p.product.name), Some("Ёлка".to_owned()), "an unclosed page still has its text");
    // Cut at the size bound, on a character boundary.
    let big = format!("{}{}", "ж".repeat(MAX_PRODUCT_PAGE_BYTES / 2 + 1), JSON_LD_PAGE);
    assert_eq!(read(&big), None, "markup past the bound is not read");
}

#[test]
fn character_references() {
    assert_eq!(decode("a &amp; b &lt;c&gt; &quot;d&quot; &#39;e&#x27; &nbsp;&unknown; & x"), "a & b <c> \"d\" 'e' \u{a0}&unknown; & x");
}

#[test]
fn ratings_and_numbers_are_checked() {
    let page = |rating: &str| {
        format!(r#"<script type="application/ld+json">{{"@type":"Product","name":"A","sku":"1","aggregateRating":{rating}}}</script>"#)
    };
    let rating = |json: &str| read(&page(json)).and_then(|p| p.rating);
    assert_eq!(rating(r#"{"ratingValue":9,"bestRating":10,"ratingCount":"7"}"#), Some(Rating { value: "9".into(), best: "10".into(), count: Some(7) }));
    assert_eq!(rating(r#"{"ratingValue":"6"}"#), None, "above the best rating");
    assert_eq!(rating(r#"{"ratingValue":"five stars"}"#), None);
    assert_eq!(rating(r#"{"ratingValue":"-1"}"#), None);
}
