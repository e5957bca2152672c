use super::*;
use crate::base::money::Currency;
use crate::leads::consent::{ConsentPurpose, ConsentSource, ConsentUpdated};
use crate::leads::lead::LeadKind;
use crate::leads::lead::tests::lead;
use crate::outbound::webhook::{verify, EventType};
use serde_json::{json, Value};

fn endpoint(preset: Preset, url: &str) -> Endpoint {
    Endpoint {
        id: "crm".into(),
        url: url.into(),
        secrets: vec![WebhookSecret::generate([5; 32])],
        events: None,
        preset,
        enabled: true,
    }
}

fn secrets(name: &str) -> Option<String> {
    match name {
        "CRM_AMO_TOKEN" => Some("amo-token-value".into()),
        "CRM_TG_TOKEN" => Some("123456:ABC-def".into()),
        _ => None,
    }
}

fn send(endpoint: &Endpoint, event: &WebhookEvent) -> CrmRequest {
    match map_event(endpoint, event, Locale::Ru, &secrets).unwrap() {
        Mapped::Send(request) => *request,
        Mapped::Skip => panic!("skipped"),
    }
}

fn body(request: &CrmRequest) -> Value {
    serde_json::to_value(&request.body).unwrap()
}

fn callback() -> WebhookEvent {
    WebhookEvent::LeadCreated(lead(LeadKind::Callback))
}

#[test]
fn money() {
    let rub = |minor| format_money(Money { minor, currency: Currency::RUB });
    assert_eq!(rub(2_499_000), "24 990 ₽");
    assert_eq!(rub(0), "0 ₽");
    assert_eq!(rub(99_900), "999 ₽");
    assert_eq!(rub(100_000_000), "1 000 000 ₽");
    assert_eq!(rub(12_345), "123,45 ₽");
    assert_eq!(rub(-150_000), "-1 500 ₽");
    let usd = Money { minor: 129_950, currency: Currency::try_from("USD".to_owned()).unwrap() };
    assert_eq!(format_money(usd), "1 299,50 $");
    let chf = Money { minor: 100, currency: Currency::try_from("CHF".to_owned()).unwrap() };
    assert_eq!(format_money(chf), "1 CHF");
}

#[test]
fn generic_is_the_signed_envelope() {
    let event = callback();
    let endpoint = endpoint(Preset::Generic, "https://hooks.example.com/fw");
    let request = send(&endpoint, &event);
    assert_eq!(request.url, "https://hooks.example.com/fw");
    let json = body(&request);
    assert_eq!(json["type"], "lead.created");
    assert_eq!(json["data"]["kind"], "callback");
    let bytes = serde_json::to_vec(&request.body).unwrap();
    let headers = request.headers_for(&bytes, 1_790_000_100);
    let get = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(get("webhook-id"), event.message_id());
    assert_eq!(get("content-type"), "application/json");
    verify(&endpoint.signing_secrets().unwrap(), &get("webhook-id"), &get("webhook-timestamp"), &get("webhook-signature"), &bytes, 1_790_000_100)
        .unwrap();
}

#[test]
fn bitrix24_crm_lead_add() {
    let request = send(&endpoint(Preset::Bitrix24, "https://portal.bitrix24.ru/rest/1/abc123/"), &callback());
    assert_eq!(request.method, "POST");
    assert_eq!(request.url, "https://portal.bitrix24.ru/rest/1/abc123/crm.lead.add.json");
    let json = body(&request);
    let fields = &json["fields"];
    assert_eq!(fields["TITLE"], "Обратный звонок: Анна, +79161234567");
    assert_eq!(fields["NAME"], "Анна");
    assert_eq!(fields["PHONE"], json!([{"VALUE": "+79161234567", "VALUE_TYPE": "WORK"}]));
    assert!(fields.get("EMAIL").is_none());
    assert_eq!(fields["SOURCE_ID"], "WEB");
    assert_eq!(fields["SOURCE_DESCRIPTION"], "Floorwalker: yandex / cpc / strollers_spring");
    assert_eq!(fields["UTM_SOURCE"], "yandex");
    assert_eq!(fields["UTM_MEDIUM"], "cpc");
    assert_eq!(fields["UTM_CAMPAIGN"], "strollers_spring");
    assert_eq!(fields["UTM_CONTENT"], "ad42");
    assert_eq!(fields["UTM_TERM"], "коляска 3 в 1");
    assert_eq!(fields["ORIGIN_ID"], lead(LeadKind::Callback).id.as_str());
    assert_eq!(json["params"], json!({"REGISTER_SONET_EVENT": "Y"}));
    let comments = fields["COMMENTS"].as_str().unwrap();
    assert!(comments.contains("• Коляска Alto &lt;Lux&gt; — 31 500 ₽\n• Коляска Vento 3 в 1 — 24 990 ₽"), "{comments}");
    assert!(comments.contains("Удобное время: после 18:00"), "{comments}");
    assert!(comments.contains("Страница: https://shop.example/p/s2"), "{comments}");

    let email_lead = send(&endpoint(Preset::Bitrix24, "https://portal.bitrix24.ru/rest/1/abc123"), &WebhookEvent::LeadCreated(lead(LeadKind::ComparisonEmail)));
    assert_eq!(email_lead.url, "https://portal.bitrix24.ru/rest/1/abc123/crm.lead.add.json");
    assert_eq!(body(&email_lead)["fields"]["EMAIL"], json!([{"VALUE": "Anna@yandex.ru", "VALUE_TYPE": "WORK"}]));
}

#[test]
fn amocrm_complex_lead() {
    let request = send(&endpoint(Preset::Amocrm { token_secret: "CRM_AMO_TOKEN".into() }, "https://shop.amocrm.ru/"), &callback());
    assert_eq!(request.url, "https://shop.amocrm.ru/api/v4/leads/complex");
    assert!(request.headers.contains(&("authorization".into(), "Bearer amo-token-value".into())));
    let json = body(&request);
    assert!(json.is_array());
    let lead_json = &json[0];
    assert_eq!(lead_json["name"], "Обратный звонок: Анна, +79161234567");
    assert_eq!(lead_json["price"], 31_500);
    assert_eq!(
        lead_json["_embedded"]["contacts"],
        json!([{"first_name": "Анна", "custom_fields_values": [
            {"field_code": "PHONE", "values": [{"value": "+79161234567", "enum_code": "WORK"}]}
        ]}])
    );
    assert_eq!(lead_json["_embedded"]["tags"], json!([{"name": "floorwalker"}, {"name": "callback"}]));
    assert_eq!(lead_json["custom_fields_values"][0], json!({"field_code": "UTM_SOURCE", "values": [{"value": "yandex"}]}));
    assert!(!format!("{request:?}").contains("amo-token-value"));

    let email = send(&endpoint(Preset::Amocrm { token_secret: "CRM_AMO_TOKEN".into() }, "https://shop.amocrm.ru"), &WebhookEvent::LeadCreated(lead(LeadKind::OfflineMessage)));
    assert_eq!(
        body(&email)[0]["_embedded"]["contacts"][0]["custom_fields_values"],
        json!([{"field_code": "EMAIL", "values": [{"value": "anna@yandex.ru", "enum_code": "WORK"}]}])
    );
    assert!(body(&email)[0]["_embedded"]["contacts"][0].get("first_name").is_none());
}

/// amoCRM's answer to the complex add as its documentation shows it, for our lead.
fn amo_answer(status: u16, body: &str) -> AttemptResult {
    AttemptResult::Response { status, retry_after: None, body: body.as_bytes().to_vec() }
}

#[test]
fn amocrm_answer_names_the_deal_our_lead_became() {
    let event = callback();
    let WebhookEvent::LeadCreated(ours) = &event else { unreachable!() };
    let link = |result: &AttemptResult| AmoDealLink::from_answer(&event, result).map(|l| l.amocrm_deal);
    let documented = format!(r#"[{{"id":9774766,"contact_id":12117258,"company_id":null,"request_id":["{}"],"merged":false}}]"#, ours.id);
    assert_eq!(AmoDealLink::from_answer(&event, &amo_answer(200, &documented)), Some(AmoDealLink { lead: ours.id.clone(), amocrm_deal: "9774766".into() }));
    // Duplicate control merged it into a deal amoCRM had: that deal is the one to match.
    let merged = documented.replace("\"merged\":false", "\"merged\":true").replace("\"company_id\":null", "\"company_id\":12117260");
    assert_eq!(link(&amo_answer(200, &merged)).as_deref(), Some("9774766"));
    // Several requests merged into one deal: ours is among them.
    let several = format!(r#"[{{"id":5,"contact_id":1,"company_id":null,"request_id":["0","{}"],"merged":true}}]"#, ours.id);
    assert_eq!(link(&amo_answer(201, &several)).as_deref(), Some("5"));
    // One element without a request id: we sent one lead, so it is ours.
    assert_eq!(link(&amo_answer(200, r#"[{"id":77}]"#)).as_deref(), Some("77"));
    // The element of another request in a longer answer is not ours.
    assert_eq!(link(&amo_answer(200, r#"[{"id":1,"request_id":["other"]},{"id":2,"request_id":["0"]}]"#)), None);
    assert_eq!(link(&amo_answer(200, r#"[{"id":1,"request_id":["lead_someone_else"]}]"#)), None);

    // Junk says nothing: another receiver's answer, a failed attempt, a broken or hostile body.
    for junk in [
        "", "{\"ok\":true}", "[]", "null", "[{\"id\":0}]", "[{\"id\":-3}]", "[{\"id\":\"9774766\"}]", "[{\"id\":1.5}]",
        "[{\"id\":18446744073709551616}]", "[{\"id\":1,\"request_id\":\"x\"}]", "[{\"contact_id\":1}]", "<html>502</html>", "[{\"id\":1",
    ] {
        assert_eq!(link(&amo_answer(200, junk)), None, "{junk:?}");
    }
    assert_eq!(link(&amo_answer(400, &documented)), None, "only a delivered attempt is read");
    assert_eq!(link(&AttemptResult::Timeout), None);
    let huge = format!("[{}{{\"id\":1}}]", "{\"id\":2,\"request_id\":[\"x\"]},".repeat(MAX_AMO_ANSWER_BYTES / 20));
    assert_eq!(link(&amo_answer(200, &huge)), None, "an answer far larger than amoCRM's is not read");
    // callback.requested carries the same lead, but amoCRM's preset never sends it.
    let not_a_lead = WebhookEvent::CallbackRequested(ours.clone());
    assert_eq!(AmoDealLink::from_answer(&not_a_lead, &amo_answer(200, &documented)), None, "only the complex add of a lead is answered so");
}

#[test]
fn missing_worker_secret_is_a_config_error() {
    let amo = endpoint(Preset::Amocrm { token_secret: "CRM_NOT_SET".into() }, "https://shop.amocrm.ru");
    assert_eq!(map_event(&amo, &callback(), Locale::Ru, &secrets).unwrap_err().code, ErrorCode::InvalidConfig);
    let tg = endpoint(Preset::Telegram { chat_id: "1".into(), bot_token_secret: "CRM_NOT_SET".into() }, "");
    assert_eq!(map_event(&tg, &callback(), Locale::Ru, &secrets).unwrap_err().code, ErrorCode::InvalidConfig);
}

#[test]
fn hubspot_forms_submission() {
    let preset = Preset::Hubspot { portal_id: "123456".into(), form_guid: "0a1b2c3d-0000-4a4a-8b8b-0123456789ab".into() };
    let request = send(&endpoint(preset, ""), &WebhookEvent::LeadCreated(lead(LeadKind::OfflineMessage)));
    assert_eq!(
        request.url,
        "https://api.hsforms.com/submissions/v3/integration/submit/123456/0a1b2c3d-0000-4a4a-8b8b-0123456789ab"
    );
    assert_eq!(
        body(&request),
        json!({
            "submittedAt": "1790000000000",
            "fields": [
                {"objectTypeId": "0-1", "name": "email", "value": "anna@yandex.ru"},
                {"objectTypeId": "0-1", "name": "message", "value": "Есть ли в наличии синяя?"}
            ],
            "context": {"pageUri": "https://shop.example/p/s2", "pageName": "Коляска Alto <Lux>"},
            "legalConsentOptions": {"consent": {
                "consentToProcess": true, "text": "Согласен получить одно письмо со сравнением"
            }}
        })
    );
}

#[test]
fn telegram_alert() {
    let preset = Preset::Telegram { chat_id: "-1001234567890".into(), bot_token_secret: "CRM_TG_TOKEN".into() };
    let request = send(&endpoint(preset, ""), &callback());
    assert_eq!(request.url, "https://api.telegram.org/bot123456:ABC-def/sendMessage");
    assert!(!format!("{request:?}").contains("ABC-def"));
    let json = body(&request);
    assert_eq!(json["chat_id"], "-1001234567890");
    assert_eq!(json["parse_mode"], "HTML");
    assert_eq!(
        json["text"],
        "<b>Обратный звонок</b>\nИмя: Анна\nТелефон: +79161234567\nТовары:\n• Коляска Alto &lt;Lux&gt; — 31 500 ₽\n\
         • Коляска Vento 3 в 1 — 24 990 ₽\nУдобное время: после 18:00\nИсточник: yandex / cpc / strollers_spring\n\
         https://shop.example/p/s2"
    );
}

fn waiting(operator_online: bool, waited_ms: u64) -> WebhookEvent {
    use crate::chat::protocol::{Author, ChatMessage};
    let at = 1_700_000_000_000;
    let message = |seq: u64, text: &str| ChatMessage {
        seq,
        id: format!("conv-1-{seq}"),
        author: Author::Visitor,
        text: text.into(),
        at: at - waited_ms,
        client_msg_id: None,
        action: None,
        attachment: None,
    };
    WebhookEvent::ConversationWaiting(crate::outbound::chat_events::ConversationWaiting {
        site: "demo".into(),
        conversation_id: "conv-1".into(),
        visitor_id: "visitor-1".into(),
        visitor_label: "anna@example.com <Anna>".into(),
        waiting_since: at - waited_ms,
        at,
        operator_online,
        messages: vec![message(2, "Is the <b>blue</b> one in stock?"), message(3, "Hello?")],
        lead_ids: Vec::new(),
    })
}

#[test]
fn a_visitor_waiting_unanswered_is_a_telegram_alert_and_no_crm_record() {
    let preset = Preset::Telegram { chat_id: "-100123".into(), bot_token_secret: "CRM_TG_TOKEN".into() };
    let request = send(&endpoint(preset.clone(), ""), &waiting(false, 30_000));
    assert_eq!(request.url, "https://api.telegram.org/bot123456:ABC-def/sendMessage");
    let json = body(&request);
    assert_eq!((json["chat_id"].as_str(), json["parse_mode"].as_str()), (Some("-100123"), Some("HTML")));
    assert_eq!(
        json["text"],
        "<b>Посетитель ждёт ответа в чате</b>\nanna@example.com &lt;Anna&gt; · ждёт меньше минуты\n\
         «Is the &lt;b&gt;blue&lt;/b&gt; one in stock?»\n«Hello?»\nНикого из операторов нет в сети."
    );
    let english = match map_event(&endpoint(preset, ""), &waiting(true, 3 * 60_000 + 59_000), Locale::En, &secrets).unwrap() {
        Mapped::Send(request) => body(&request)["text"].as_str().unwrap_or_default().to_owned(),
        Mapped::Skip => panic!("skipped"),
    };
    assert_eq!(
        english,
        "<b>A visitor is waiting for an answer in the chat</b>\nanna@example.com &lt;Anna&gt; · waiting 3 min\n\
         «Is the &lt;b&gt;blue&lt;/b&gt; one in stock?»\n«Hello?»"
    );
    assert!(endpoint(Preset::Telegram { chat_id: "1".into(), bot_token_secret: "CRM_TG_TOKEN".into() }, "").takes(EventType::ConversationWaiting));
    // A CRM keeps one record per lead: a wait is not one, and no delivery row is written for it.
    for preset in [Preset::Bitrix24, Preset::Hubspot { portal_id: "1".into(), form_guid: "g".into() }] {
        let crm = endpoint(preset, "https://crm.example");
        assert!(!crm.takes(EventType::ConversationWaiting));
        assert!(matches!(map_event(&crm, &waiting(true, 0), Locale::Ru, &secrets), Ok(Mapped::Skip)));
    }
    // A generic receiver gets it signed, like every event.
    let generic = send(&endpoint(Preset::Generic, "https://hooks.example/in"), &waiting(true, 0));
    assert_eq!(body(&generic)["type"], "conversation.waiting");
    assert_eq!(body(&generic)["data"]["messages"][1]["text"], "Hello?");
}

#[test]
fn telegram_escapes_everything_the_visitor_wrote_and_fits_the_limit() {
    let mut lead = lead(LeadKind::OfflineMessage);
    lead.contact.name = Some("<a href=\"x\">Bob</a> & co".into());
    lead.contact.message = Some("&<>".repeat(700));
    let text = telegram_text(&lead, Locale::En);
    assert!(text.starts_with("<b>Offline message</b>\nName: &lt;a href=&quot;x&quot;&gt;Bob&lt;/a&gt; &amp; co\n"), "{text}");
    assert_eq!(text.matches('<').count(), 2, "only our own <b></b>");
    assert!(text.chars().count() <= TELEGRAM_MAX_CHARS);
    assert!(text.ends_with('…'));
    let before_ellipsis = text.trim_end_matches('…');
    let tail = &before_ellipsis[before_ellipsis.rfind('&').unwrap_or(0)..];
    assert!(tail.contains(';') || !tail.starts_with('&'), "entity split: {tail}");
    assert_eq!(truncate_html("&amp;&amp;", 7), "&amp;…");
    assert_eq!(truncate_html("short", 10), "short");
}

#[test]
fn presets_skip_what_they_cannot_use() {
    let consent = WebhookEvent::ConsentUpdated(ConsentUpdated {
        site: "demo".into(),
        lead: "lead_1".into(),
        purpose: ConsentPurpose::Marketing,
        granted: false,
        source: ConsentSource::EmailLink,
        at: 1,
        record: None,
    });
    let requested = WebhookEvent::CallbackRequested(lead(LeadKind::Callback));
    for preset in [
        Preset::Bitrix24,
        Preset::Amocrm { token_secret: "CRM_AMO_TOKEN".into() },
        Preset::Telegram { chat_id: "1".into(), bot_token_secret: "CRM_TG_TOKEN".into() },
    ] {
        let e = endpoint(preset, "https://crm.example.com");
        for event in [&consent, &requested] {
            assert!(matches!(map_event(&e, event, Locale::Ru, &secrets).unwrap(), Mapped::Skip));
        }
    }
    let generic = endpoint(Preset::Generic, "https://hooks.example.com");
    assert_eq!(body(&send(&generic, &consent))["type"], "consent.updated");
    let filtered = Endpoint { events: Some(vec![EventType::ConsentUpdated]), ..generic.clone() };
    assert!(matches!(map_event(&filtered, &callback(), Locale::Ru, &secrets).unwrap(), Mapped::Skip));
    let disabled = Endpoint { enabled: false, ..generic };
    assert!(matches!(map_event(&disabled, &consent, Locale::Ru, &secrets).unwrap(), Mapped::Skip));
}

/// An endpoint stored before the prefix rule (or written into D1 by hand) still cannot send a
/// worker secret: the lookup refuses the name before reading anything.
#[test]
fn send_time_refuses_non_crm_secret_names_without_reading_them() {
    let read = std::cell::Cell::new(0);
    let everything = |_: &str| {
        read.set(read.get() + 1);
        Some("the worker's own key".to_owned())
    };
    for preset in [
        Preset::Amocrm { token_secret: "LINK_SECRET".into() },
        Preset::Telegram { chat_id: "1".into(), bot_token_secret: "OPERATOR_SESSION_SECRET".into() },
    ] {
        let err = map_event(&endpoint(preset, "https://shop.amocrm.ru"), &callback(), Locale::Ru, &everything).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidConfig);
    }
    assert_eq!(read.get(), 0, "no worker secret was looked up");
}
