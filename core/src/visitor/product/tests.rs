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

#[test]
fn json_ld_audience_ages_become_months() {
    let product = |audience: Ld| {
        let raw = &products_from_json_ld(&obj(&[("@type", s("Product")), ("name", s("Orsa")), ("audience", audience)]))[0];
        normalize(raw, PAGE).expect("a product").suits_age
    };
    let people = |fields: &[(&str, Ld)]| {
        let mut all = vec![("@type", s("PeopleAudience"))];
        all.extend_from_slice(fields);
        obj(&all)
    };
    let range = |min_months, max_months| Some(AgeRange { min_months, max_months });
    assert_eq!(product(people(&[("suggestedMinAge", Ld::Number(0.0)), ("suggestedMaxAge", Ld::Number(4.0))])), range(0, Some(48)));
    assert_eq!(product(people(&[("suggestedMinAge", s("0,5")), ("suggestedMaxAge", s("1.25"))])), range(6, Some(15)));
    assert_eq!(product(people(&[("suggestedMinAge", Ld::Number(3.5))])), range(42, None), "no upper bound: and older");
    assert_eq!(product(people(&[("suggestedMaxAge", s("5e1"))])), None, "a number written otherwise is unread");
    assert_eq!(product(people(&[("suggestedMinAge", s(" 3 "))])), range(36, None));
    assert_eq!(product(people(&[("suggestedMaxAge", s("12"))])), range(0, Some(144)));
    assert_eq!(product(Ld::Array(vec![people(&[]), people(&[("suggestedMaxAge", Ld::Number(1.0))])])), range(0, Some(12)));
    for nonsense in [
        people(&[]),
        people(&[("suggestedMinAge", Ld::Number(5.0)), ("suggestedMaxAge", Ld::Number(1.0))]),
        people(&[("suggestedMinAge", Ld::Number(-1.0))]),
        people(&[("suggestedMaxAge", Ld::Number(f64::INFINITY))]),
        people(&[("suggestedMaxAge", s("newborns"))]),
        s("parents"),
    ] {
        assert_eq!(product(nonsense.clone()), None, "{nonsense:?}");
    }
}

#[test]
fn microdata_values_follow_html_and_a_category_link_is_named_by_its_text() {
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(microdata_value("category", "a", None, some("/c/termos"), some(" Термосы ")), some(" Термосы "));
    assert_eq!(microdata_value("category", "A", None, some("/c/termos"), some("  ")), some("/c/termos"), "an empty link keeps its address");
    assert_eq!(microdata_value("category", "a", some("Термосы"), some("/c/termos"), None), some("Термосы"), "content wins");
    assert_eq!(microdata_value("url", "a", None, some("/p/1"), some("Термос")), some("/p/1"));
    assert_eq!(microdata_value("image", "img", None, some("/i.png"), None), some("/i.png"));
    assert_eq!(microdata_value("name", "h1", None, None, some("Термос")), some("Термос"));
    assert_eq!(microdata_value("sku", "meta", None, None, some("x")), None, "a meta without content has no value");
    assert_eq!(microdata_value_attribute("TIME"), Some("datetime"));
    assert_eq!(microdata_value_attribute("span"), None);
}

#[test]
fn age_ranges_overlap_when_some_age_is_in_both() {
    let range = |min_months, max_months| AgeRange { min_months, max_months };
    assert!(range(0, Some(48)).overlaps(&range(0, Some(12))));
    assert!(range(6, Some(48)).overlaps(&range(0, Some(12))));
    assert!(!range(42, Some(144)).overlaps(&range(0, Some(12))), "a booster from 3.5 years does not suit a baby");
    assert!(range(42, None).overlaps(&range(36, None)));
    assert!(!range(0, Some(6)).overlaps(&range(36, None)));
    assert!(range(0, Some(0)).overlaps(&range(0, Some(0))), "expecting: products from birth");
}
