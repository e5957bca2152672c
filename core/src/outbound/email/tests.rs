use super::*;
use crate::base::money::{Currency, Money};
use crate::leads::lead::tests::lead;
use crate::chat::protocol::Author;
use crate::leads::lead::{Lead, LeadKind};
use crate::outbound::chat_events::TranscriptRequested;
use crate::visitor::context::{Product, ViewedProduct};
use crate::visitor::product::page::PublishedProduct;

const ORIGINS: &[String] = &[];

fn site_origins() -> Vec<String> {
    vec!["https://shop.example".to_owned()]
}

fn shop<'a>(name: &'a str, from: &'a str, origins: &'a [String]) -> ShopMail<'a> {
    // Leaked: a test's look lives as long as the test binary, which keeps the helper a one-liner.
    let look: &'static MailLook = Box::leak(Box::new(MailLook::new(name, &MailSettings::default(), None)));
    ShopMail { name, from, links: MailLinks { origins, hosts: &[] }, look, clock: MailClock::UTC, test: false }
}

/// The lead's products as their pages (on shop.example) publish them, most recently viewed first.
fn published(lead: &Lead) -> Vec<PublishedProduct> {
    lead.context
        .products
        .iter()
        .rev()
        .map(|viewed| PublishedProduct {
            page_url: format!("https://shop.example/p/{}", viewed.product.id),
            product: viewed.product.clone(),
            brand: None,
            availability: None,
            rating: None,
            attributes: Vec::new(),
        })
        .collect()
}

fn render(lead: &Lead, name: &str, from: &str) -> Result<EmailMessage, ApiError> {
    let origins = site_origins();
    render_comparison(lead, &published(lead), &shop(name, from, &origins), &links(), None)
}

fn links() -> ComparisonLinks {
    ComparisonLinks {
        more_like_this: "https://edge.example/v1/consent/abc.def".into(),
        unsubscribe: "https://edge.example/v1/consent/ghi.jkl".into(),
    }
}

fn viewed(id: &str, name: &str, minor: i64, url: Option<&str>, image: Option<&str>) -> ViewedProduct {
    ViewedProduct {
        product: Product {
            id: id.into(),
            name: name.into(),
            price: Some(Money { minor, currency: Currency::RUB }),
            image: image.map(Into::into),
            url: url.map(Into::into),
            category: Some("Коляски".into()),
            suits_age: None,
        },
        views: 1,
        last_viewed_at: 0,
    }
}

fn comparison_lead(locale: Locale) -> Lead {
    let mut lead = lead(LeadKind::ComparisonEmail);
    lead.locale = locale;
    lead.context.products = vec![
        viewed("s1", "Коляска Vento 3 в 1", 2_499_000, Some("https://shop.example/p/s1?color=red#reviews"), Some("https://shop.example/i/s1.jpg")),
        viewed("s2", "Alto <Lux> & \"Co\"", 3_150_050, Some("javascript:alert(1)"), Some("javascript:alert(2)")),
    ];
    lead
}

#[test]
fn utm_links_keep_the_query_and_fragment() {
    assert_eq!(
        with_utm("https://shop.example/p/1"),
        "https://shop.example/p/1?utm_source=floorwalker&utm_medium=email&utm_campaign=comparison"
    );
    assert_eq!(
        with_utm("https://shop.example/p/1?color=red&utm_source=ads&UTM_MEDIUM=cpc#top"),
        "https://shop.example/p/1?color=red&utm_source=floorwalker&utm_medium=email&utm_campaign=comparison#top"
    );
}

#[test]
fn russian_email_lists_exactly_the_products_with_prices_and_links() {
    let email = render(&comparison_lead(Locale::Ru), "Кроха", "Кроха <shop@example.com>").unwrap();
    assert_eq!(email.to, "Anna@yandex.ru");
    assert_eq!(email.from, "Кроха <shop@example.com>");
    assert_eq!(email.subject, "Сравнение товаров из магазина «Кроха»");
    assert!(email.html.starts_with("<!DOCTYPE html><html lang=\"ru\">"));
    // Most recently viewed first.
    let first = email.html.find("Alto &lt;Lux&gt; &amp; &quot;Co&quot;").unwrap();
    let second = email.html.find("Коляска Vento 3 в 1").unwrap();
    assert!(first < second);
    assert!(email.html.contains("24 990 ₽"));
    assert!(email.html.contains("31 500,50 ₽"));
    assert!(email.html.contains(r#"data-currency="RUB""#));
    assert!(email.html.contains(
        r#"href="https://shop.example/p/s1?color=red&amp;utm_source=floorwalker&amp;utm_medium=email&amp;utm_campaign=comparison#reviews""#
    ));
    assert!(email.html.contains(r#"<img src="https://shop.example/i/s1.jpg""#));
    assert!(email.html.contains("Коляски"));
    assert!(email.html.contains("Мы прислали это письмо один раз"));
    assert!(email.html.contains(r#"href="https://edge.example/v1/consent/abc.def""#));
    assert!(email.html.contains("Присылайте мне похожие подборки от магазина «Кроха»"));
    assert!(!email.html.contains("в «Кроха»") && !email.text.contains("в «Кроха»"), "the name is never declined by hand");
    assert!(email.html.contains("Отписаться"));
    assert!(email.text.contains("1. Alto <Lux> & \"Co\"\n   31 500,50 ₽"));
    assert!(email.text.contains("https://shop.example/p/s1?color=red&utm_source=floorwalker&utm_medium=email&utm_campaign=comparison#reviews"));
    assert!(email.text.contains("Отписаться от писем: https://edge.example/v1/consent/ghi.jkl"));
}

#[test]
fn nothing_unsafe_reaches_the_html() {
    let mut lead = comparison_lead(Locale::En);
    lead.contact.name = Some("<script>alert(1)</script>".into());
    let email = render(&lead, "Shop \"<b>\"", "shop@example.com").unwrap();
    for bad in ["<script", "javascript:", "<b>", "<Lux>"] {
        assert!(!email.html.contains(bad), "{bad} in {}", email.html);
    }
    assert!(!email.html.contains("script") && !email.text.contains("script"), "no name typed in a form is mailed as the shop");
    assert!(!email.html.contains("class="), "inline styles only");
    assert!(!email.text.contains("javascript:"));
}

#[test]
fn english_email() {
    let email = render(&comparison_lead(Locale::En), "Kroha", "shop@example.com").unwrap();
    assert_eq!(email.subject, "Your comparison from Kroha");
    assert!(email.html.starts_with("<!DOCTYPE html><html lang=\"en\">"));
    let when = MailClock::UTC.date_time(lead_created_at(), Locale::En);
    assert!(email.html.contains(&format!("We sent this one email because you asked for it on https://shop.example/p/s2 on {when}.")));
    assert!(email.html.contains("Send me more picks like this from Kroha"));
    assert!(email.text.starts_with("Hello!\n\nThank you for stopping by. As promised, here is the comparison"), "no name from the form");
    assert!(email.text.contains("Warm regards, the Kroha team"));
    assert!(email.text.contains("Unsubscribe: https://edge.example/v1/consent/ghi.jkl"));
}

#[test]
fn only_comparison_leads_get_it() {
    let callback = lead(LeadKind::Callback);
    assert_eq!(render(&callback, "Kroha", "a@b.ru").unwrap_err().code, ErrorCode::InvalidLead);
}

fn lead_created_at() -> u64 {
    comparison_lead(Locale::En).created_at
}

#[test]
fn link_text_is_the_consent_wording() {
    let text = marketing_link_text(Locale::En, "Kroha");
    assert_eq!(text.purpose, ConsentPurpose::Marketing);
    assert!(text.validate("marketing").is_ok());
}

fn message() -> EmailMessage {
    EmailMessage {
        from: "Kroha <shop@example.com>".into(),
        to: "anna@example.com".into(),
        subject: "Your comparison".into(),
        html: "<p>hi</p>".into(),
        text: "hi".into(),
        reply_to: None,
        headers: vec![],
    }
}

#[test]
fn resend_request_matches_the_documented_shape() {
    let request = provider_request(EmailProvider::Resend, None, "re_123", "outbound", "dlv_1", &message()).unwrap();
    assert_eq!(request.url, "https://api.resend.com/emails");
    assert!(request.headers.contains(&("authorization".into(), "Bearer re_123".into())));
    assert!(request.headers.contains(&("content-type".into(), "application/json".into())));
    assert!(request.headers.contains(&("idempotency-key".into(), "dlv_1".into())));
    assert_eq!(
        serde_json::to_value(&request.body).unwrap(),
        serde_json::json!({"from": "Kroha <shop@example.com>", "to": ["anna@example.com"], "subject": "Your comparison",
                           "html": "<p>hi</p>", "text": "hi"})
    );
    assert!(!format!("{request:?}").contains("re_123"));
}

#[test]
fn postmark_request_matches_the_documented_shape() {
    let request =
        provider_request(EmailProvider::Postmark, Some("http://127.0.0.1:9/"), "pm-token", "outbound", "dlv_1", &message()).unwrap();
    assert_eq!(request.url, "http://127.0.0.1:9/email");
    assert!(request.headers.contains(&("x-postmark-server-token".into(), "pm-token".into())));
    assert!(request.headers.contains(&("accept".into(), "application/json".into())));
    assert_eq!(
        serde_json::to_value(&request.body).unwrap(),
        serde_json::json!({"From": "Kroha <shop@example.com>", "To": "anna@example.com", "Subject": "Your comparison",
                           "HtmlBody": "<p>hi</p>", "TextBody": "hi", "MessageStream": "outbound"})
    );
    assert_eq!(provider_request(EmailProvider::Postmark, None, "", "outbound", "d", &message()).unwrap_err().code, ErrorCode::InvalidConfig);
    assert!(provider_request(EmailProvider::Local, None, "k", "outbound", "d", &message()).is_err());
    assert_eq!(EmailProvider::parse(" Resend "), Some(EmailProvider::Resend));
    assert_eq!(EmailProvider::parse("smtp"), None);
}

#[test]
fn the_comparison_carries_one_click_unsubscribe_in_each_providers_shape() {
    let email = render(&comparison_lead(Locale::En), "Kroha", "a@b.ru").unwrap();
    let expected = vec![
        EmailHeader { name: "List-Unsubscribe".into(), value: "<https://edge.example/v1/consent/ghi.jkl>".into() },
        EmailHeader { name: "List-Unsubscribe-Post".into(), value: "List-Unsubscribe=One-Click".into() },
    ];
    assert_eq!(email.headers, expected, "the unsubscribe link, never the opt-in one");
    let resend = provider_request(EmailProvider::Resend, None, "re_1", "outbound", "d", &email).unwrap();
    assert_eq!(
        serde_json::to_value(&resend.body).unwrap()["headers"],
        serde_json::json!({"List-Unsubscribe": "<https://edge.example/v1/consent/ghi.jkl>",
                           "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    );
    let postmark = provider_request(EmailProvider::Postmark, None, "pm", "outbound", "d", &email).unwrap();
    assert_eq!(
        serde_json::to_value(&postmark.body).unwrap()["Headers"],
        serde_json::json!([{"Name": "List-Unsubscribe", "Value": "<https://edge.example/v1/consent/ghi.jkl>"},
                           {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"}])
    );
    let with_mailto = list_unsubscribe_headers("https://e.example/u", Some("unsubscribe@kroha.example"));
    assert_eq!(with_mailto[0].value, "<https://e.example/u>, <mailto:unsubscribe@kroha.example?subject=unsubscribe>");
    let transcript = render_transcript(&transcript_request(Locale::En), &shop("Kroha", "a@b.ru", ORIGINS)).unwrap();
    assert!(transcript.headers.is_empty(), "a one-off transcript is on no list");
}

#[test]
fn email_links_come_from_configuration_or_loopback_only() {
    assert_eq!(email_link_base(Some("https://edge.kroha.example/"), "https://evil.example").unwrap(), "https://edge.kroha.example");
    assert_eq!(email_link_base(None, "http://127.0.0.1:8787").unwrap(), "http://127.0.0.1:8787");
    assert_eq!(email_link_base(Some("  "), "http://localhost:8787").unwrap(), "http://localhost:8787");
    assert_eq!(email_link_base(None, "http://[::1]:8787").unwrap(), "http://[::1]:8787");
    for forged in ["http://evil.example", "https://127.0.0.1.evil.example", "http://localhost.evil.example:8787", ""] {
        let error = email_link_base(None, forged).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidConfig, "{forged}");
        assert!(error.message.contains("PUBLIC_BASE_URL"));
    }
}

fn transcript_request(locale: Locale) -> TranscriptRequested {
    use crate::chat::conversation::{ConversationOwner, Transcript};
    use crate::chat::protocol::{message_id, ChatMessage};
    let message = |seq: u64, author: Author, text: &str| ChatMessage {
        seq,
        id: message_id("conv-0001", seq),
        author,
        text: text.into(),
        at: 1_790_000_000_000 + seq * 60_000,
        client_msg_id: None,
        action: None,
        attachment: None,
    };
    TranscriptRequested {
        site: "demo".into(),
        email: "anna@example.com".into(),
        requested_at: 1_790_000_600_000,
        transcript: Transcript {
            conversation_id: "conv-0001".into(),
            owner: ConversationOwner { site: "demo".into(), visitor_id: "visitor-0001".into(), user_id: None },
            visitor_label: "Visitor".into(),
            opened_at: 1_790_000_000_000,
            closed_at: 1_790_000_600_000,
            messages: vec![
                message(1, Author::Visitor, "Is <b>Orsa</b> in stock? \"Grey\" & black\nSecond line"),
                message(2, Author::Operator { name: "Анна <admin>".into() }, "Yes, both."),
                message(3, Author::System, "<script>alert(1)</script>"),
            ],
        },
        locale,
    }
}

#[test]
fn transcript_email_has_every_message_in_order_and_escapes_html() {
    let email = render_transcript(&transcript_request(Locale::En), &shop("Kroha & Co", "Kroha <shop@kroha.example>", ORIGINS)).unwrap();
    assert_eq!(email.to, "anna@example.com");
    assert_eq!(email.from, "Kroha <shop@kroha.example>");
    assert_eq!(email.subject, "Your conversation with Kroha & Co");
    // Plain text: as written, in order, with authors and times.
    let first = email.text.find("Is <b>Orsa</b> in stock?").expect("first message");
    let second = email.text.find("Yes, both.").expect("second message");
    let third = email.text.find("<script>alert(1)</script>").expect("the notice");
    assert!(first < second && second < third, "{}", email.text);
    assert!(email.text.contains("[21 September 2026, 14:14] You:"), "{}", email.text);
    assert!(email.text.contains("Times are in the shop's time zone, UTC."));
    assert!(email.text.contains("] Анна <admin>:"));
    assert!(email.text.contains("  Second line"));
    // HTML: no markup from messages, names or the shop survives unescaped.
    assert!(!email.html.contains("<script>") && !email.html.contains("<b>Orsa") && !email.html.contains("<admin>"));
    assert!(email.html.contains("Is &lt;b&gt;Orsa&lt;/b&gt; in stock? &quot;Grey&quot; &amp; black<br>Second line"));
    assert!(email.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(email.html.contains("Анна &lt;admin&gt;"));
    assert!(email.html.contains("<title>Your conversation with Kroha &amp; Co</title>"));
    let seqs: Vec<usize> = (1..=3).map(|n| email.html.find(&format!("data-seq=\"{n}\"")).expect("a row per message")).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn transcript_email_in_russian_and_for_an_empty_chat() {
    let mut request = transcript_request(Locale::Ru);
    let email = render_transcript(&request, &shop("Кроха", "", ORIGINS)).unwrap();
    assert_eq!(email.subject, "Ваша переписка с магазином «Кроха»");
    assert!(email.text.contains("] Вы:") && email.html.contains("lang=\"ru\""));
    request.transcript.messages.clear();
    let empty = render_transcript(&request, &shop("Кроха", "", ORIGINS)).unwrap();
    assert!(empty.text.contains("В переписке пока нет сообщений."));
    request.email = " ".into();
    assert_eq!(render_transcript(&request, &shop("Кроха", "", ORIGINS)).unwrap_err().code, ErrorCode::MissingField);
}

#[cfg(test)]
mod guard;
#[cfg(test)]
mod promise;

#[test]
fn an_offline_reply_goes_to_the_visitors_address_with_their_message_quoted_and_escaped() {
    use crate::chat::offline::OfflineReply;
    let mut lead = lead(LeadKind::OfflineMessage);
    lead.contact.email = Some("olga@example.com".into());
    lead.contact.message = Some("Есть <script>x</script> размер 86?\nСм. https://evil.example/a".into());
    let origins = site_origins();
    let reply = OfflineReply { seq: 2, author: "Анна <b>".into(), text: "Да, есть.\n<i>Ждём</i>".into(), at: lead.created_at + 60_000 };
    let mail = render_offline_reply(&lead, &reply, &shop("Кроха", "Кроха <shop@example.com>", &origins)).unwrap();
    assert_eq!(mail.to, "olga@example.com");
    assert!(mail.text.contains("Да, есть.\n<i>Ждём</i>"), "{}", mail.text);
    assert!(mail.html.contains("Да, есть.<br>&lt;i&gt;Ждём&lt;/i&gt;"), "{}", mail.html);
    assert!(mail.html.contains("&lt;script&gt;") && !mail.html.contains("<script>"));
    assert!(mail.html.contains("Анна &lt;b&gt;"));
    assert!(!mail.html.contains("https://evil.example") && !mail.text.contains("https://evil.example"), "a visitor's foreign link is defanged");
    lead.contact.email = None;
    assert!(render_offline_reply(&lead, &reply, &shop("Кроха", "Кроха <shop@example.com>", &origins)).is_err());
}

#[test]
fn the_waiting_alert_says_who_since_when_and_what_they_wrote_escaped() {
    use crate::chat::conversation::ConversationWaiting;
    use crate::chat::protocol::ChatMessage;
    let origins = site_origins();
    let said = |seq: u64, text: &str| ChatMessage {
        seq,
        id: format!("conv-1-{seq}"),
        author: Author::Visitor,
        text: text.into(),
        at: 1_700_000_000_000,
        client_msg_id: None,
        action: None,
        attachment: None,
    };
    let waiting = ConversationWaiting {
        site: "demo".into(),
        conversation_id: "conv-1".into(),
        visitor_id: "visitor-1".into(),
        visitor_label: "anna@example.com".into(),
        waiting_since: 1_700_000_000_000,
        at: 1_700_000_090_000,
        operator_online: false,
        messages: vec![said(1, "Is the <b>grey</b> one here?\nsee https://evil.example/x"), said(2, "Hello?")],
        lead_ids: Vec::new(),
    };
    let shop = shop("Кроха", "Кроха <shop@kroha.example>", &origins);
    let email = render_waiting_alert(&waiting, " Team@Kroha.Example ", &shop, Locale::Ru, Some("https://fw.example/console/")).unwrap();
    assert_eq!((email.to.as_str(), email.subject.as_str()), ("Team@kroha.example", "Посетитель ждёт ответа в чате: anna@example.com"));
    assert!(email.text.starts_with("anna@example.com ждёт ответа с 14 ноября 2023, 22:13 (UTC).\n"), "{}", email.text);
    assert!(email.text.contains("> Is the <b>grey</b> one here?\n"), "{}", email.text);
    assert!(email.text.contains("Никого из операторов нет в сети.\nОткрыть входящие: https://fw.example/console/"), "{}", email.text);
    assert!(email.html.contains("Is the &lt;b&gt;grey&lt;/b&gt; one here?<br>"), "{}", email.html);
    assert!(!email.html.contains("<b>grey"), "the visitor's text is never markup");
    assert!(!email.html.contains("href=\"https://evil.example"), "a visitor's foreign link is not a link");
    assert!(email.html.contains(r#"href="https://fw.example/console/""#));
    assert!(email.html.contains(r#"data-nobody="true""#));
    let online = ConversationWaiting { operator_online: true, ..waiting.clone() };
    let english = render_waiting_alert(&online, "team@kroha.example", &shop, Locale::En, None).unwrap();
    assert_eq!(english.subject, "A visitor is waiting in the chat: anna@example.com");
    assert!(!english.html.contains("data-nobody") && !english.html.contains("<a "), "{}", english.html);
    assert_eq!(render_waiting_alert(&waiting, "team@", &shop, Locale::En, None).unwrap_err().code, ErrorCode::InvalidConfig);
}

#[test]
fn the_alert_confirmation_names_the_shop_escaped_and_carries_only_its_link() {
    let origins = site_origins();
    let shop = shop("Кроха <b>", "Кроха <shop@kroha.example>", &origins);
    let link = "https://fw.example/v1/mail/alert-confirm/abc.def?x=1&y=\"2\"";
    let email = render_alert_confirmation(" team@Kroha.Example ", link, &shop, Locale::Ru).unwrap();
    assert_eq!(email.to, "team@kroha.example");
    assert!(email.subject.contains("Подтвердите адрес для оповещений"), "{}", email.subject);
    assert!(email.html.contains("«Кроха &lt;b&gt;»") && !email.html.contains("Кроха <b>"), "{}", email.html);
    assert!(email.html.contains("href=\"https://fw.example/v1/mail/alert-confirm/abc.def?x=1&amp;y=&quot;2&quot;\""), "{}", email.html);
    assert!(email.text.contains(&format!("Подтвердить адрес: {link}")), "{}", email.text);
    let english = render_alert_confirmation("team@kroha.example", link, &shop, Locale::En).unwrap();
    assert!(english.text.contains("nothing is sent here without confirmation"), "{}", english.text);
    assert_eq!(render_alert_confirmation("team@", link, &shop, Locale::En).unwrap_err().code, ErrorCode::InvalidConfig);
}
