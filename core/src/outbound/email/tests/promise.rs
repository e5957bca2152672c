//! The email keeps the card's promise: the table holds every attribute each page publishes, in
//! that product's column, the differences are highlighted, page text is escaped, and the mail
//! looks like the shop, speaks warmly in its zone's time, and comes from the shop.

use super::*;
use crate::outbound::email::branding::MAIL_TEXT;
use crate::outbound::email::sample::{render_sample, sample_products, SampleMail};
use crate::prompts::contrast::{contrast_ratio, relative_luminance};
use crate::prompts::judgement::Highlighted;
use crate::prompts::playbooks::builtin_playbooks;
use crate::visitor::product::page::{AttributeName, Availability, ProductAttribute, Rating};

/// A product page as the demo shop publishes one.
fn published_page(id: &str, name: &str, minor: i64) -> PublishedProduct {
    PublishedProduct {
        page_url: format!("https://shop.example/p/{id}"),
        product: Product {
            id: id.into(),
            name: name.into(),
            price: Some(Money { minor, currency: Currency::RUB }),
            image: None,
            url: Some(format!("https://shop.example/p/{id}")),
            category: Some("Коляски".into()),
            suits_age: None,
        },
        brand: None,
        availability: None,
        rating: None,
        attributes: Vec::new(),
    }
}

fn attribute(name: AttributeName, value: &str) -> ProductAttribute {
    ProductAttribute { name, value: value.into() }
}

fn products() -> Vec<PublishedProduct> {
    let mut a = published_page("a", "Nordika City Lite", 1_899_000);
    a.brand = Some("Nordika".into());
    a.availability = Some(Availability::InStock);
    a.rating = Some(Rating { value: "4.8".into(), best: "5".into(), count: Some(21) });
    a.attributes = vec![
        attribute(AttributeName::Weight, "6,9 кг"),
        attribute(AttributeName::Named("Размер в сложенном виде".into()), "54 × 45 × 23 см"),
        attribute(AttributeName::Color, "Графит"),
        attribute(AttributeName::Named("Возраст".into()), "6 мес – 4 года"),
    ];
    let mut b = published_page("b", "Aistenok <Flyer> & \"Co\"", 2_499_000);
    b.brand = Some("Aistenok".into());
    b.availability = Some(Availability::PreOrder);
    b.attributes = vec![
        attribute(AttributeName::Weight, "9,2 кг"),
        attribute(AttributeName::Named("Размер в сложенном виде".into()), "60 × 48 × 30 см"),
        attribute(AttributeName::Color, " графит "),
        attribute(AttributeName::Named("Колёса <script>alert(1)</script>".into()), "Ø 15 см <img src=x onerror=alert(1)>"),
    ];
    vec![a, b]
}

/// The side-by-side table as rows of (label, differs, cells), read back from the HTML.
fn table_rows(html: &str) -> Vec<(String, bool, Vec<String>)> {
    let start = html.find(r#"data-comparison="side-by-side""#).expect("a side-by-side table");
    let table = &html[start..html[start..].find("</table>").map_or(html.len(), |end| start + end)];
    let strip = |cell: &str| -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for c in cell.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out.replace("&#9679;", "").trim().to_owned()
    };
    table
        .split("<tr")
        .skip(1)
        .filter(|row| row.contains(r#"scope="row""#))
        .map(|row| {
            let differs = row.contains(r#"data-differs="true""#);
            let label = row.split("<th").nth(1).and_then(|th| th.split_once('>')).map(|(_, rest)| rest.split("</th>").next().unwrap_or_default()).unwrap_or_default();
            let cells = row.split("<td").skip(1).map(|td| strip(td.split_once('>').map(|(_, r)| r.split("</td>").next().unwrap_or_default()).unwrap_or_default())).collect();
            (strip(label), differs, cells)
        })
        .collect()
}

fn render_ru(products: &[PublishedProduct], shop: &ShopMail<'_>) -> EmailMessage {
    render_comparison(&comparison_lead(Locale::Ru), products, shop, &links(), None).unwrap()
}

#[test]
fn the_table_holds_every_attribute_each_page_publishes_in_its_column() {
    let origins = site_origins();
    let products = products();
    let email = render_ru(&products, &shop("Кроха", "Кроха <shop@kroha.example>", &origins));
    let rows = table_rows(&email.html);
    let row = |label: &str| rows.iter().find(|(l, _, _)| l == label).unwrap_or_else(|| panic!("row {label} in {rows:?}")).clone();
    assert_eq!(row("Цена").2, vec!["18 990 ₽", "24 990 ₽"]);
    assert_eq!(row("Бренд").2, vec!["Nordika", "Aistenok"]);
    assert_eq!(row("Наличие").2, vec!["В наличии", "Предзаказ"]);
    assert_eq!(row("Рейтинг").2, vec!["4.8 / 5 (21 отзыв)", "—"]);
    assert_eq!(row("Вес").2, vec!["6,9 кг", "9,2 кг"]);
    assert_eq!(row("Размер в сложенном виде").2, vec!["54 × 45 × 23 см", "60 × 48 × 30 см"]);
    assert_eq!(row("Цвет").2, vec!["Графит", "графит"]);
    assert_eq!(row("Возраст").2, vec!["6 мес – 4 года", "—"]);
    // Every attribute of every product is in its own column.
    for (column, product) in products.iter().enumerate() {
        for attribute in &product.attributes {
            let found = rows.iter().any(|(_, _, cells)| {
                cells.get(column).is_some_and(|cell| cell.replace("&lt;", "<").replace("&gt;", ">") == attribute.value.trim())
            });
            assert!(found, "{:?} of product {column} in {rows:?}", attribute.value);
        }
    }
    // The header names the products in order, escaped.
    assert!(email.html.contains("1. Nordika City Lite</th>"));
    assert!(email.html.contains("2. Aistenok &lt;Flyer&gt; &amp; &quot;Co&quot;</th>"));
}

#[test]
fn differences_are_highlighted_and_sameness_is_not() {
    let origins = site_origins();
    let shop = shop("Кроха", "shop@kroha.example", &origins);
    let email = render_ru(&products(), &shop);
    let rows = table_rows(&email.html);
    let differs = |label: &str| rows.iter().find(|(l, _, _)| l == label).map(|(_, d, _)| *d).unwrap();
    for label in ["Цена", "Бренд", "Наличие", "Рейтинг", "Вес", "Размер в сложенном виде", "Возраст"] {
        assert!(differs(label), "{label} differs");
    }
    assert!(!differs("Цвет"), "«Графит» and « графит » are the same colour");
    // Not by colour alone: the differing cells are tinted and bold, and a legend says what it means.
    let tint = &shop.look.tint;
    let highlighted = format!("background:{tint};font-weight:bold");
    let weight_row = email.html.split("<tr").find(|row| row.contains(">Вес")).unwrap();
    assert_eq!(weight_row.matches(&highlighted).count(), 3, "label and both values: {weight_row}");
    let colour_row = email.html.split("<tr").find(|row| row.contains(">Цвет")).unwrap();
    assert!(!colour_row.contains(&highlighted));
    assert!(email.html.contains("Цветом и жирным выделено то, чем товары отличаются."));
    assert!(email.text.contains("   Вес: 6,9 кг *") && email.text.contains("   Цвет: Графит\n"));
    assert!(email.text.contains("* — здесь товары отличаются."));
    let lum = |c: &str| relative_luminance(c).unwrap();
    assert!(contrast_ratio(lum(tint), lum(MAIL_TEXT)) >= 4.5, "text reads on the highlight");
}

#[test]
fn page_text_is_escaped_everywhere() {
    let origins = site_origins();
    let email = render_ru(&products(), &shop("Кроха", "shop@kroha.example", &origins));
    for raw in ["<script", "<img src=x", "<Flyer>", "onerror=alert(1)>"] {
        assert!(!email.html.contains(raw), "{raw} unescaped");
    }
    assert!(email.html.contains("Колёса &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(email.html.contains("Ø 15 см &lt;img src=x onerror=alert(1)&gt;"));
    assert!(!email.html.contains("class="), "inline styles only");
    assert!(!email.html.contains("<link") && !email.html.contains("<style"), "no external or embedded CSS");
    // The plain text is text: as the page wrote it.
    assert!(email.text.contains("2. Aistenok <Flyer> & \"Co\""));
}

#[test]
fn the_mail_looks_like_the_shop_and_invites_a_reply() {
    let origins = site_origins();
    let settings = MailSettings {
        sender_name: None,
        reply_to: Some("hello@kroha.example".into()),
        logo_url: Some("https://cdn.kroha.example/logo.png?v=\"2\"".into()),
        brand_color: Some("#E4572E".into()),
        alert_to: None,
        alert_confirmed: None,
    };
    // A logo URL with a quote is refused by validation and never reaches the page.
    assert!(settings.validate().is_err());
    let look = MailLook::new("Кроха", &MailSettings { logo_url: Some("https://cdn.kroha.example/logo.png".into()), ..settings }, None);
    let shop = ShopMail { look: &look, ..shop("Кроха", "Кроха <shop@kroha.example>", &origins) };
    let email = render_ru(&products(), &shop);
    assert!(email.html.contains(r##"data-brand="#e4572e" style="padding:16px 24px;background:#e4572e"##));
    assert!(email.html.contains(r#"<img src="https://cdn.kroha.example/logo.png" alt="Кроха" height="40""#));
    assert!(email.html.contains(&format!("background:#e4572e;color:{}", look.on_color)), "buttons in the brand colour, readable");
    assert_eq!(email.reply_to.as_deref(), Some("hello@kroha.example"));
    assert!(email.text.contains("просто ответьте на это письмо"));
    assert!(email.text.contains("С заботой, команда магазина «Кроха»"));
    // Without a logo the band names the shop in a readable colour; without a reply address the
    // email does not invite replies that would go nowhere.
    let plain = MailLook::new("Кроха", &MailSettings::default(), Some("#e4572e"));
    let shop = ShopMail { look: &plain, ..shop };
    let email = render_ru(&products(), &shop);
    assert!(email.html.contains(&format!(r#"color:{}">Кроха</span>"#, plain.on_color)));
    assert!(email.reply_to.is_none() && !email.text.contains("ответьте"));
}

#[test]
fn times_are_the_sites_own_and_the_tone_is_warm_in_both_languages() {
    let origins = site_origins();
    let moscow = MailClock { zone: "Europe/Moscow", offset_minutes: 180 };
    let shop = ShopMail { clock: moscow, ..shop("Кроха", "shop@kroha.example", &origins) };
    let lead = comparison_lead(Locale::Ru);
    let email = render_comparison(&lead, &products(), &shop, &links(), None).unwrap();
    let when = moscow.date_time(lead.created_at, Locale::Ru);
    assert!(when.ends_with("(Europe/Moscow)") && email.text.contains(&when), "{when} in {}", email.text);
    assert_ne!(moscow.time(lead.created_at), MailClock::UTC.time(lead.created_at));
    assert!(email.text.contains("Спасибо, что заглянули к нам. Как и обещали"));
    for text in [&email.subject, &email.text] {
        assert!(!text.contains("в «Кроха»") && !text.contains("от «Кроха»") && !text.contains("с «Кроха»"), "{text}");
    }
    let english = render_comparison(&comparison_lead(Locale::En), &products(), &shop, &links(), None).unwrap();
    assert!(english.text.contains("Thank you for stopping by. As promised") && english.text.contains("Warm regards, the Кроха team"));
    assert!(english.text.contains("(Europe/Moscow)"));
    let transcript = render_transcript(&transcript_request(Locale::Ru), &shop).unwrap();
    assert!(transcript.text.contains("Время указано по часовому поясу магазина: Europe/Moscow."));
    assert!(transcript.text.contains("[21 сентября 2026, 17:14] Вы:"), "{}", transcript.text);
}

#[test]
fn products_the_answers_point_out_are_marked() {
    let origins = site_origins();
    let shop = shop("Кроха", "shop@kroha.example", &origins);
    let marked = Highlighted { products: vec!["b".into()], note: "Подходит по возрасту".into() };
    let email = render_comparison(&comparison_lead(Locale::Ru), &products(), &shop, &links(), Some(&marked)).unwrap();
    assert_eq!(email.html.matches(r#"data-marked="true""#).count(), 1);
    let mark = email.html.find("&#10003; Подходит по возрасту").unwrap();
    assert!(mark > email.html.find("Aistenok &lt;Flyer&gt;").unwrap(), "beside the product it is about");
    assert!(email.text.contains("2. Aistenok <Flyer> & \"Co\"\n   ✓ Подходит по возрасту"));
}

#[test]
fn the_card_promises_only_what_the_email_holds() {
    // What the comparison card names, the email must show: prices, weight, sizes, side by side,
    // differences highlighted, the age marks. Nothing the email does not hold (notes, reviews).
    let email = render_ru(&products(), &shop("Кроха", "shop@kroha.example", &site_origins()));
    let rows = table_rows(&email.html);
    for label in ["Цена", "Вес", "Размер в сложенном виде"] {
        assert!(rows.iter().any(|(l, _, _)| l == label), "{label}");
    }
    let comparison = builtin_playbooks().into_iter().find(|p| p.id == "compare_by_email").unwrap();
    for (copy, held, never) in [
        (comparison.copy.get(crate::base::locale::Locale::Ru), ["цены", "вес", "размеры", "отличиями"], ["шоурум", "заметк", "отзыв"]),
        (comparison.copy.get(crate::base::locale::Locale::En), ["prices", "weight", "sizes", "differences highlighted"], ["showroom", "notes", "reviews"]),
    ] {
        let mut texts = vec![copy.body.clone()];
        texts.extend(copy.answered.iter().map(|a| a.body.clone()));
        for text in texts {
            for word in never {
                assert!(!text.to_lowercase().contains(word), "{word:?} promised in {text:?}");
            }
        }
        for word in held {
            assert!(copy.body.contains(word), "{word:?} in {:?}", copy.body);
        }
    }
}

#[test]
fn samples_render_every_kind_from_the_shop_never_the_platform() {
    let origins = vec!["http://127.0.0.1:8787".to_owned()];
    let look = MailLook::new("Кроха", &MailSettings::default(), Some("#e4572e"));
    let from = MailSettings::default().sender("Кроха", None, "Floorwalker demo <no-reply@floorwalker.invalid>");
    let shop = ShopMail {
        name: "Кроха",
        from: &from,
        links: MailLinks { origins: &origins, hosts: &[] },
        look: &look,
        clock: MailClock { zone: "Europe/Moscow", offset_minutes: 180 },
        test: true,
    };
    for kind in MailKind::ALL {
        for locale in [Locale::Ru, Locale::En] {
            let sample = SampleMail {
                kind,
                locale,
                to: "owner@kroha.example",
                owner_name: "Анна",
                now_ms: 1_789_988_700_000,
                origin: &origins[0],
                link_base: "http://127.0.0.1:8787",
            };
            let email = render_sample(&sample, "demo", &shop, Vec::new()).unwrap();
            assert_eq!(email.from, "Кроха <no-reply@floorwalker.invalid>");
            assert!(!email.html.contains("Floorwalker") && !email.text.contains("Floorwalker"));
            assert!(email.subject.starts_with(if locale == Locale::Ru { "[Тест] " } else { "[Test] " }), "{}", email.subject);
            assert!(email.html.contains(r#"data-test-notice="true""#));
            assert_eq!(email.to, "owner@kroha.example");
            if kind == MailKind::Comparison {
                assert!(email.html.contains(r#"data-comparison="side-by-side""#), "the example shows the table");
                assert!(email.html.contains(r#"data-differs="true""#) && email.html.contains(r#"data-differs="false""#));
            } else {
                assert!(email.text.contains("Анна"));
            }
        }
    }
    assert_eq!(sample_products(Locale::En, "https://shop.example")[0].product.url.as_deref(), Some("https://shop.example/example/one"));
}
