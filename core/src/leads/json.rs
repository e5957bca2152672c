//! A lead request's JSON form without serde (`base::json`): what the widget's forms post to
//! `POST /v1/leads`. Written only (the worker reads it with serde), as serde writes it.

use crate::leads::consent::{ConsentPurpose, ConsentText};
use crate::leads::lead::{Contact, LeadKind, LeadRequest};
use crate::{json_enum, json_struct};

json_enum!(LeadKind { ComparisonEmail, Callback, QuestionAnswer, OfflineMessage, ChatContact });
json_enum!(ConsentPurpose { ComparisonEmail, Callback, QuestionAnswer, OfflineMessage, ChatTranscript, Marketing });
json_struct!(write Contact { email, phone, name, time_slot, message });
json_struct!(write ConsentText { purpose, text, text_version });
json_struct!(write LeadRequest {
    site,
    visitor,
    kind,
    prompt,
    contact,
    honeypot,
    form_shown_at,
    submitted_at,
    idempotency_key,
    consent,
    marketing_consent,
    context,
    locale,
    page_url,
});

#[cfg(test)]
mod tests {
    use crate::base::json::tests::writes_as_serde;
    use crate::base::json::{to_json, JsonEnum};
    use crate::base::locale::Locale;
    use crate::leads::consent::{ConsentPurpose, ConsentText};
    use crate::leads::lead::{Contact, LeadKind, LeadRequest};
    use crate::visitor::context::VisitorContext;

    #[test]
    fn a_lead_request_is_written_as_serde_writes_it() {
        let consent = ConsentText { purpose: ConsentPurpose::Callback, text: "Позвоните мне".into(), text_version: "v1".into() };
        let request = LeadRequest {
            site: "demo".into(),
            visitor: "0123456789abcdef0123456789abcdef".into(),
            kind: LeadKind::Callback,
            prompt: None,
            contact: Contact { phone: Some("+79001234567".into()), ..Contact::default() },
            honeypot: String::new(),
            form_shown_at: 1_767_000_000_000,
            submitted_at: 1_767_000_009_000,
            idempotency_key: "k-0123456789".into(),
            consent: consent.clone(),
            marketing_consent: None,
            context: VisitorContext::default(),
            locale: Locale::Ru,
            page_url: "https://shop.example/p/1".into(),
        };
        writes_as_serde(&request);
        writes_as_serde(&LeadRequest {
            prompt: Some("callback".into()),
            contact: Contact {
                email: Some("a@b.example".into()),
                phone: Some("+79001234567".into()),
                name: Some("Ольга".into()),
                time_slot: Some("завтра после 18".into()),
                message: Some("line\nbreak \"quoted\"".into()),
            },
            marketing_consent: Some(ConsentText { purpose: ConsentPurpose::Marketing, ..consent }),
            context: crate::visitor::json::tests::full_context(),
            ..request
        });
        for kind in <LeadKind as JsonEnum>::ALL {
            assert_eq!(to_json(kind), serde_json::to_string(kind).unwrap());
        }
        for purpose in <ConsentPurpose as JsonEnum>::ALL {
            assert_eq!(to_json(purpose), serde_json::to_string(purpose).unwrap());
        }
    }
}
