//! The shop's mail carries only what the shop publishes: the pages a comparison is read from, the
//! links and images it may show, the plan when pages cannot be read, the side-by-side table, and
//! a visitor's links in a transcript.

use super::*;
use crate::outbound::delivery::{MailLimits, SiteDelivery};
use crate::outbound::email::links::{check_mail_link_hosts, defang_foreign_links, origin_of};
use crate::visitor::product::page::{AttributeName, Availability, ProductAttribute, Rating};

const PHISHING: &str = "ACTION REQUIRED: confirm payment";

fn attacker_lead(url: Option<&str>) -> Lead {
    let mut lead = comparison_lead(Locale::En);
    lead.context.products = vec![viewed("x", PHISHING, 100, url, Some("https://tracker.example/pixel.gif?to=anna"))];
    lead
}

#[test]
fn a_comparison_is_read_only_from_the_sites_own_pages() {
    let origins = site_origins();
    let evil = attacker_lead(Some("https://evil.example/login"));
    let refused = comparison_pages(&evil, &origins).unwrap_err();
    assert_eq!((refused.code, refused.http_status()), (ErrorCode::InvalidLead, 400));
    assert!(refused.message.contains("evil.example"));
    for sneaky in [
        "https://shop.example@evil.example/login",
        "https://shop.example.evil.example/p",
        "http://shop.example/p",
        "https://shop.example:8443/p",
        "javascript:alert(1)//https://shop.example/",
        "https://shop.example\\@evil.example/",
    ] {
        assert!(comparison_pages(&attacker_lead(Some(sneaky)), &origins).is_err(), "{sneaky}");
    }
    assert_eq!(comparison_pages(&attacker_lead(None), &origins).unwrap_err().code, ErrorCode::InvalidLead, "nothing to read");

    // Most recently viewed first, each page once, without fragments.
    let mut lead = comparison_lead(Locale::Ru);
    lead.context.products = vec![
        viewed("a", "A", 1, Some("https://shop.example/p/a#reviews"), None),
        viewed("b", "B", 1, Some("https://shop.example/p/b?color=red"), None),
        viewed("c", "C", 1, None, None),
        viewed("a2", "A again", 1, Some("https://shop.example/p/a"), None),
    ];
    assert_eq!(comparison_pages(&lead, &origins).unwrap(), vec!["https://shop.example/p/a", "https://shop.example/p/b?color=red"]);
}

fn page(id: &str, name: &str) -> PublishedProduct {
    PublishedProduct {
        page_url: format!("https://shop.example/p/{id}"),
        product: Product {
            id: id.into(),
            name: name.into(),
            price: Some(Money { minor: 2_499_000, currency: Currency::RUB }),
            image: Some(format!("https://shop.example/img/{id}.svg")),
            url: Some(format!("https://shop.example/p/{id}")),
            category: None,
            suits_age: None,
        },
        brand: None,
        availability: None,
        rating: None,
        attributes: Vec::new(),
    }
}

#[test]
fn links_and_images_point_only_at_the_shop_or_hosts_its_owner_lists() {
    let origins = site_origins();
    let hosts = vec!["img.cdn.example".to_owned()];
    let links_ok = MailLinks { origins: &origins, hosts: &hosts };
    assert!(links_ok.allows("https://shop.example/p/1?x=1#y"));
    assert!(links_ok.allows("https://img.cdn.example/a.png"));
    for refused in [
        "https://evil.example/login",
        "http://img.cdn.example/a.png",
        "https://shop.example@evil.example/",
        "https://shop.example.evil.example/",
        "https://evil.example/?https://shop.example/",
        "//shop.example/p",
        "/p/1",
        "https://shop.example/p\"onmouseover=\"x",
        "data:image/gif;base64,R0lGOD",
    ] {
        assert!(!links_ok.allows(refused), "{refused}");
    }
    assert_eq!(origin_of("HTTPS://Shop.Example/p"), Some("https://shop.example".to_owned()));

    // A page that itself points elsewhere: its product link falls back to the page, its image is dropped.
    let mut elsewhere = page("a", "Коляска");
    elsewhere.product.url = Some("https://evil.example/a".into());
    elsewhere.product.image = Some("https://tracker.example/pixel.gif".into());
    let mut on_cdn = page("b", "Кроватка");
    on_cdn.product.image = Some("https://img.cdn.example/b.png".into());
    let lead = attacker_lead(Some("https://shop.example/p/a"));
    let shop = ShopMail { links: links_ok, ..shop("Kroha", "shop@example.com", &origins) };
    let email = render_comparison(&lead, &[elsewhere, on_cdn], &shop, &links(), None).unwrap();
    for absent in ["evil.example", "tracker.example", PHISHING, "Анна"] {
        assert!(!email.html.contains(absent) && !email.text.contains(absent), "{absent} in the email");
    }
    assert!(email.html.contains(r#"href="https://shop.example/p/a?utm_source=floorwalker"#));
    assert!(email.html.contains(r#"<img src="https://img.cdn.example/b.png""#));

    // The page the visitor asked on is named only when it is the shop's.
    let mut lead = comparison_lead(Locale::En);
    lead.page_url = "https://evil.example/pay".into();
    let email = render_comparison(&lead, &[page("a", "A")], &shop, &links(), None).unwrap();
    assert!(!email.text.contains("evil.example") && email.text.contains("asked for it on Kroha's site"));
}

#[test]
fn pages_that_cannot_be_read_delay_the_email_and_gone_ones_are_left_out() {
    let (a, b) = (page("a", "A"), page("b", "B"));
    assert_eq!(
        plan_comparison(vec![PageRead::Published(Box::new(a.clone())), PageRead::Gone("404".into()), PageRead::Published(Box::new(b.clone()))]),
        ComparisonPlan::Send(vec![a.clone(), b])
    );
    assert_eq!(
        plan_comparison(vec![PageRead::Published(Box::new(a)), PageRead::Unreachable("timeout".into())]),
        ComparisonPlan::Retry("timeout".into())
    );
    match plan_comparison(vec![PageRead::Gone("HTTP 404".into())]) {
        ComparisonPlan::Park(why) => assert!(why.contains("HTTP 404")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_side_by_side_table_shows_what_each_page_publishes() {
    let mut a = page("a", "Коляска Flyer");
    a.brand = Some("Aistenok".into());
    a.availability = Some(Availability::InStock);
    a.rating = Some(Rating { value: "4.7".into(), best: "5".into(), count: Some(23) });
    a.attributes = vec![
        ProductAttribute { name: AttributeName::Weight, value: "5.8 kg".into() },
        ProductAttribute { name: AttributeName::Named("Колёса <big>".into()), value: "Ø 15 см".into() },
    ];
    let mut b = page("b", "Коляска Nordika");
    b.attributes = vec![ProductAttribute { name: AttributeName::Weight, value: "6.9 kg".into() }];
    let origins = site_origins();
    let lead = comparison_lead(Locale::Ru);
    let shop = shop("Кроха", "shop@example.com", &origins);
    let email = render_comparison(&lead, &[a.clone(), b.clone()], &shop, &links(), None).unwrap();
    let table = &email.html[email.html.find(r#"data-comparison="side-by-side""#).expect("a table")..];
    for cell in ["Цена", "24 990 ₽", "Бренд", "Aistenok", "В наличии", "4.7 / 5 (23 отзыва)", "Вес", "5.8 kg", "6.9 kg", "Колёса &lt;big&gt;", "Ø 15 см", "—"] {
        assert!(table.contains(cell), "{cell} in the table");
    }
    assert!(table.find("5.8 kg").unwrap() < table.find("6.9 kg").unwrap(), "one column per product, in order");
    assert!(
        email.text.contains("1. Коляска Flyer\n   24 990 ₽\n   Бренд: Aistenok *\n   Наличие: В наличии *\n   Рейтинг: 4.7 / 5 (23 отзыва) *\n   Вес: 5.8 kg *"),
        "{}",
        email.text
    );
    // One product: nothing to put side by side.
    let single = render_comparison(&lead, &[a], &shop, &links(), None).unwrap();
    assert!(!single.html.contains("data-comparison"));
    assert!(single.text.contains("Вес: 5.8 kg"));
}

#[test]
fn a_visitors_foreign_links_in_a_transcript_are_defanged() {
    let origins = site_origins();
    let links_ok = MailLinks { origins: &origins, hosts: &[] };
    let cases = [
        ("pay the fee at https://evil.example/pay now", "pay the fee at https[:]//evil[.]example/pay now"),
        ("(evil.example/pay).", "(evil[.]example/pay)[.]"),
        ("write to billing@evil.example", "write to billing[at]evil[.]example"),
        ("www.evil.example", "www[.]evil[.]example"),
        ("see https://shop.example/p/1 and shop.example", "see https://shop.example/p/1 and shop.example"),
        ("e.g. 5.8 kg, т.е. Orsa 360", "e.g. 5.8 kg, т.е. Orsa 360"),
        ("line one\nhttp://evil.example\tx", "line one\nhttp[:]//evil[.]example\tx"),
    ];
    for (text, expected) in cases {
        assert_eq!(defang_foreign_links(text, &links_ok), expected, "{text}");
    }

    let mut request = transcript_request(Locale::En);
    request.transcript.messages[0].text = "pay the fee at https://evil.example/pay".into();
    request.transcript.messages[1].text = "Track it at https://track.carrier.example/1".into();
    let email = render_transcript(&request, &shop("Kroha", "a@b.ru", &origins)).unwrap();
    assert!(!email.text.contains("https://evil.example") && email.text.contains("https[:]//evil[.]example/pay"));
    assert!(!email.html.contains("https://evil.example"));
    assert!(email.text.contains("https://track.carrier.example/1"), "the operators' words are the shop's");
}

#[test]
fn mail_settings_are_validated() {
    assert!(check_mail_link_hosts(&["img.cdn.example".into(), "shop-2.example".into()]).is_ok());
    for bad in ["*.cdn.example", "IMG.cdn.example", "localhost", "img.cdn.example/x", "a..example", "https://x.example", ""] {
        assert!(check_mail_link_hosts(&[bad.into()]).is_err(), "{bad}");
    }
    assert!(check_mail_link_hosts(&["a.example".into(), "a.example".into()]).is_err(), "twice");
    assert!(check_mail_link_hosts(&vec!["a.example".to_owned(); 21]).is_err());

    assert_eq!(MailLimits::default(), MailLimits { per_recipient: 5, per_ip: 20, per_site: 1000 });
    assert!(SiteDelivery::default().validate().is_ok());
    for bad in [
        MailLimits { per_recipient: 0, ..MailLimits::default() },
        MailLimits { per_ip: 0, ..MailLimits::default() },
        MailLimits { per_site: 2_000_000, ..MailLimits::default() },
    ] {
        let settings = SiteDelivery { mail_limits: bad, ..SiteDelivery::default() };
        assert_eq!(settings.validate().unwrap_err().code, ErrorCode::InvalidConfig, "{bad:?}");
    }
    let listed = SiteDelivery { mail_link_hosts: vec!["no dots".into()], ..SiteDelivery::default() };
    assert!(listed.validate().is_err());
    // Settings stored before these fields existed still read.
    let old: SiteDelivery = serde_json::from_str(r#"{"phone_region":"RU"}"#).unwrap();
    assert_eq!(old.mail_limits, MailLimits::default());
}

#[test]
fn page_answers_and_the_page_cache() {
    assert_eq!(page_answer(200), PageAnswer::Read);
    assert_eq!(page_answer(308), PageAnswer::Redirect);
    assert_eq!(page_answer(404), PageAnswer::Gone);
    assert_eq!(page_answer(410), PageAnswer::Gone);
    for later in [429, 408, 500, 503, 204, 0] {
        assert_eq!(page_answer(later), PageAnswer::Unreachable, "{later}");
    }
    let product = page("a", "A");
    let now = 10 * PAGE_KEEP_MS;
    assert_eq!(cached_page(None, now), (None, None));
    assert_eq!(cached_page(Some((now - 1000, Some(product.clone()))), now), (Some(PageRead::Published(Box::new(product.clone()))), None));
    assert!(matches!(cached_page(Some((now - 1000, None)), now), (Some(PageRead::Gone(_)), None)));
    // Older than fresh: fetch again, keeping the old read for an outage.
    assert_eq!(cached_page(Some((now - PAGE_FRESH_MS, Some(product.clone()))), now), (None, Some(product.clone())));
    assert_eq!(cached_page(Some((now - PAGE_FRESH_MS, None)), now), (None, None));
    assert_eq!(cached_page(Some((now - PAGE_KEEP_MS, Some(product))), now), (None, None), "too old to stand in");
}
