use super::*;
use crate::leads::consent::{ConsentPurpose, ConsentSource, ConsentText};
use crate::leads::lead::tests::lead;
use crate::outbound::webhook::WebhookEvent;

fn query(visitor: Option<&str>, email: Option<&str>, phone: Option<&str>) -> SubjectQuery {
    SubjectQuery { visitor: visitor.map(Into::into), email: email.map(Into::into), phone: phone.map(Into::into) }
}

#[test]
fn a_subject_is_exactly_one_of_visitor_email_or_phone_normalised_as_stored() {
    let subject = |q: SubjectQuery| q.subject(PhoneRegion::Ru);
    assert_eq!(subject(query(Some("visitor-0001"), None, None)).unwrap(), Subject::Visitor("visitor-0001".into()));
    assert_eq!(subject(query(None, Some("  Anna@YANDEX.ru "), None)).unwrap(), Subject::Email("Anna@yandex.ru".into()));
    assert_eq!(subject(query(None, None, Some("8 (916) 123-45-67"))).unwrap(), Subject::Phone("+79161234567".into()));
    for wrong in [query(None, None, None), query(Some("visitor-0001"), Some("a@b.ru"), None), query(None, Some("a@b.ru"), Some("+79161234567"))] {
        assert_eq!(subject(wrong).unwrap_err().code, ErrorCode::MissingField);
    }
    assert_eq!(subject(query(None, Some("not an address"), None)).unwrap_err().code, ErrorCode::InvalidEmail);
    assert_eq!(subject(query(None, None, Some("12"))).unwrap_err().code, ErrorCode::InvalidPhone);
    assert_eq!(subject(query(Some("x"), None, None)).unwrap_err().http_status(), 400);
    let unknown: Result<SubjectQuery, _> = serde_json::from_str(r#"{"visitor":"visitor-0001","everything":true}"#);
    assert!(unknown.is_err(), "unknown fields are refused");
}

#[test]
fn a_contact_leads_to_each_visitor_once_and_too_many_are_refused_not_cut() {
    let email = Subject::Email("anna@example.com".into());
    let found = vec!["v-b".to_owned(), "v-a".to_owned(), "v-b".to_owned()];
    assert_eq!(visitor_ids(&email, found).unwrap(), ["v-a", "v-b"]);
    assert!(visitor_ids(&email, vec![]).unwrap().is_empty());
    let many: Vec<String> = (0..=MAX_VISITORS_PER_SUBJECT).map(|i| format!("visitor-{i:04}")).collect();
    assert_eq!(visitor_ids(&email, many).unwrap_err().code, ErrorCode::PayloadTooLarge);
    // A visitor id is itself, whatever the contact lookup found.
    assert_eq!(visitor_ids(&Subject::Visitor("visitor-0001".into()), vec!["other".into()]).unwrap(), ["visitor-0001"]);
}

#[test]
fn contact_hashes_are_keyed_by_site_and_do_not_contain_the_contact() {
    let hash = contact_hash("demo", "anna@example.com");
    assert!(hash.starts_with("sha256:") && hash.len() == 7 + 64, "{hash}");
    assert!(hash[7..].bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(hash, contact_hash("demo", "anna@example.com"));
    assert_ne!(hash, contact_hash("other", "anna@example.com"));
    assert_ne!(hash, contact_hash("demo", "anna2@example.com"));
    assert_ne!(visitor_hash("demo", "anna@example.com"), hash, "visitor ids and contacts never collide");
}

#[test]
fn the_consent_proof_keeps_the_wording_and_time_and_hashes_the_contact() {
    let mut lead = lead(LeadKind::ComparisonEmail);
    lead.page_url = "https://shop.example/p/s2?email=anna@yandex.ru#top".into();
    lead.consent.page_url = lead.page_url.clone();
    lead.contact.name = Some("Анна".into());
    let link_text = ConsentText { purpose: ConsentPurpose::Marketing, text: "Присылайте ещё".into(), text_version: "email-v1".into() };
    let granted = ConsentUpdated {
        site: lead.site.clone(),
        lead: lead.id.clone(),
        purpose: ConsentPurpose::Marketing,
        granted: true,
        source: ConsentSource::EmailLink,
        at: lead.created_at + 2000,
        record: Some(ConsentRecord { given: link_text, locale: lead.locale, granted_at: lead.created_at + 2000, page_url: "https://edge.example/v1/consent/x?y=1".into() }),
    };
    let withdrawn = ConsentUpdated { granted: false, at: lead.created_at + 1000, record: None, ..granted.clone() };
    let proof = ConsentProof::of(&lead, &[granted, withdrawn], 42);
    assert_eq!(proof.lead, lead.id);
    assert_eq!(proof.consent.given, lead.consent.given, "the exact wording the visitor agreed to");
    assert_eq!(proof.consent.granted_at, lead.consent.granted_at);
    assert_eq!(proof.consent.page_url, "https://shop.example/p/s2");
    assert_eq!(proof.email_hash, Some(contact_hash(&lead.site, "Anna@yandex.ru")));
    assert_eq!(proof.phone_hash, None);
    assert_eq!(proof.changes.iter().map(|c| c.granted).collect::<Vec<_>>(), [false, true], "oldest first");
    assert_eq!(proof.changes[1].record.as_ref().map(|r| r.page_url.as_str()), Some("https://edge.example/v1/consent/x"));
    assert_eq!(proof.erased_at, 42);
    assert!(proof.concerns("Anna@yandex.ru"));
    assert!(!proof.concerns("other@yandex.ru"));
    let json = serde_json::to_string(&proof).unwrap();
    for personal in ["Anna@yandex.ru", "anna@yandex.ru", "Анна", "recent_pages", "products", "email="] {
        assert!(!json.contains(personal), "{personal} must not survive in {json}");
    }

    let callback = ConsentProof::of(&crate::leads::lead::tests::lead(LeadKind::Callback), &[], 42);
    assert!(callback.phone_hash.is_some() && callback.email_hash.is_none());
    assert!(callback.concerns("+79161234567"));
    assert!(!serde_json::to_string(&callback).unwrap().contains("79161234567"));
}

#[test]
fn only_deliveries_a_receiver_already_has_are_kept_and_then_without_payload() {
    assert_eq!(delivery_fate(DeliveryState::Pending), DeliveryFate::Delete, "never sent after the erasure");
    assert_eq!(delivery_fate(DeliveryState::Failed), DeliveryFate::Delete, "nobody has it; a replay must not send it");
    assert_eq!(delivery_fate(DeliveryState::Delivered), DeliveryFate::KeepWithoutPayload);
    let payload = ErasedPayload { event_type: EventType::LeadCreated, erased_at: 7 };
    assert_eq!(serde_json::to_value(&payload).unwrap(), serde_json::json!({"type": "lead.created", "erased_at": 7}));
    assert!(serde_json::from_value::<WebhookEvent>(serde_json::to_value(&payload).unwrap()).is_err(), "never mistaken for an event");
}

#[test]
fn visitor_erased_is_a_webhook_without_contacts_and_each_erasure_is_its_own_event() {
    let erased = VisitorErased {
        site: "demo".into(),
        visitor_id: "visitor-0001".into(),
        lead_ids: vec!["lead_1".into()],
        conversation_ids: vec!["c1".into()],
        erased_at: 1_790_000_000_000,
    };
    let event = WebhookEvent::VisitorErased(erased.clone());
    assert_eq!(event.event_type(), EventType::VisitorErased);
    assert!(EventType::VisitorErased.is_webhook());
    assert!(EventType::ALL.contains(&EventType::VisitorErased));
    assert_eq!(event.occurred_at(), erased.erased_at);
    let envelope = serde_json::to_value(event.envelope()).unwrap();
    assert_eq!(envelope["type"], "visitor.erased");
    assert_eq!(envelope["data"]["visitor_id"], "visitor-0001");
    assert_eq!(envelope["data"]["lead_ids"][0], "lead_1");
    assert_eq!(envelope["timestamp"], crate::outbound::webhook::rfc3339(erased.erased_at));
    let back: WebhookEvent = serde_json::from_value(serde_json::json!({"type": "visitor.erased", "data": envelope["data"].clone()})).unwrap();
    assert_eq!(back, event);
    assert_eq!(event.message_id(), WebhookEvent::VisitorErased(erased.clone()).message_id(), "stable across retries");
    let later = WebhookEvent::VisitorErased(VisitorErased { erased_at: erased.erased_at + 1, ..erased.clone() });
    assert_ne!(event.message_id(), later.message_id());
    let other_site = WebhookEvent::VisitorErased(VisitorErased { site: "other".into(), ..erased });
    assert_ne!(event.message_id(), other_site.message_id());
}

#[test]
fn nothing_found_means_nothing_to_announce() {
    assert!(Found::default().is_empty());
    assert!(!Found { events: 1, ..Found::default() }.is_empty());
    assert!(!Found { lead_ids: vec!["lead_1".into()], ..Found::default() }.is_empty());
    assert!(!Found { conversation_ids: vec!["c1".into()], ..Found::default() }.is_empty());
    assert!(!Found { outbox_events: 1, ..Found::default() }.is_empty());
    assert!(VisitorExport::default().is_empty());
}

#[test]
fn what_is_kept_is_listed_with_a_reason() {
    let kept = kept();
    assert_eq!(kept.len(), KEPT.len());
    assert!(kept.iter().all(|k| !k.what.is_empty() && !k.why.is_empty()));
    assert!(kept[0].what.contains("consent") && kept[0].what.contains("hash"));
}

#[test]
fn export_pages_continue_only_after_a_full_page() {
    assert_eq!(next_offset(0, 1000, 1000), Some(1000));
    assert_eq!(next_offset(1000, 999, 1000), None);
    assert_eq!(next_offset(0, 0, 1000), None);
    assert_eq!(next_offset(u32::MAX, 1000, 1000), Some(u32::MAX));
}
