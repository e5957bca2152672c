use super::*;
use crate::leads::lead::tests::lead;

/// The test vector from the Standard Webhooks reference libraries.
#[test]
fn standard_webhooks_test_vector() {
    let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let body = br#"{"test": 2432232314}"#;
    let signature = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body);
    assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    verify(&[secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", &signature, body, 1_614_265_330 + 10).unwrap();
}

fn secrets() -> (WebhookSecret, WebhookSecret) {
    (
        WebhookSecret::parse(&WebhookSecret::generate([7; 32])).unwrap(),
        WebhookSecret::parse(&WebhookSecret::generate([9; 32])).unwrap(),
    )
}

#[test]
fn rotation_signs_with_every_secret() {
    let (old, new) = secrets();
    let body = b"{}";
    let headers = signed_headers("msg_1", 1000, body, &[old.clone(), new.clone()]);
    assert_eq!(headers[0], ("webhook-id", "msg_1".to_owned()));
    assert_eq!(headers[1], ("webhook-timestamp", "1000".to_owned()));
    let signature = &headers[2].1;
    assert_eq!(signature.split(' ').count(), 2);
    assert!(signature.split(' ').all(|s| s.starts_with("v1,")));
    assert!(verify(std::slice::from_ref(&old), "msg_1", "1000", signature, body, 1000).is_ok());
    assert!(verify(std::slice::from_ref(&new), "msg_1", "1000", signature, body, 1000).is_ok());
}

#[test]
fn verification_refuses_tampering_and_replays() {
    let (secret, other) = secrets();
    let body = br#"{"type":"lead.created"}"#;
    let sig = secret.sign("msg_1", 1000, body);
    let ok = |id: &str, ts: &str, sig: &str, body: &[u8], now: u64, secret: &WebhookSecret| {
        verify(std::slice::from_ref(secret), id, ts, sig, body, now)
    };
    assert!(ok("msg_1", "1000", &sig, body, 1000 + TIMESTAMP_TOLERANCE_S, &secret).is_ok());
    assert!(ok("msg_1", "1000", &format!("v1a,xyz {sig}"), body, 1000, &secret).is_ok());
    let refused = [
        ok("msg_1", "1000", &sig, b"{\"type\":\"lead.created \"}", 1000, &secret),
        ok("msg_2", "1000", &sig, body, 1000, &secret),
        ok("msg_1", "1001", &sig, body, 1000, &secret),
        ok("msg_1", "1000", &sig, body, 1000, &other),
        ok("msg_1", "1000", &sig, body, 1001 + TIMESTAMP_TOLERANCE_S, &secret),
        ok("msg_1", "1000", &sig, body, 999 - TIMESTAMP_TOLERANCE_S, &secret),
        ok("msg_1", "soon", &sig, body, 1000, &secret),
        ok("msg_1", "1000", "", body, 1000, &secret),
        ok("msg_1", "1000", &sig.replace("v1,", "v2,"), body, 1000, &secret),
        ok("msg_1", "1000", "v1,not-base64!", body, 1000, &secret),
        ok("", "1000", &sig, body, 1000, &secret),
    ];
    for result in refused {
        assert_eq!(result.unwrap_err().code, ErrorCode::InvalidSignature);
    }
}

#[test]
fn secret_format() {
    assert!(WebhookSecret::generate([0; 32]).starts_with("whsec_"));
    let b64 = |n: usize| format!("whsec_{}", base64_encode(&vec![1u8; n]));
    for bad in [String::new(), "whsec_".into(), "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(), "whsec_!!!".into(), b64(23), b64(65)] {
        assert_eq!(WebhookSecret::parse(&bad).unwrap_err().code, ErrorCode::InvalidConfig, "{bad}");
    }
    assert!(WebhookSecret::parse(&b64(24)).is_ok());
    assert!(WebhookSecret::parse(&b64(64)).is_ok());
    assert!(!format!("{:?}", WebhookSecret::parse(&b64(24)).unwrap()).contains(&base64_encode(&[1u8; 24])));
}

#[test]
fn timestamps_are_rfc3339() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(rfc3339(1_614_265_330_123), "2021-02-25T15:02:10.123Z");
    assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    assert_eq!(rfc3339(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
}

#[test]
fn envelope_wire_shape_and_stable_ids() {
    let lead = lead(LeadKind::Callback);
    let events = WebhookEvent::for_lead(&lead);
    let types: Vec<EventType> = events.iter().map(WebhookEvent::event_type).collect();
    assert_eq!(types, [EventType::LeadCreated, EventType::CallbackRequested]);
    assert_eq!(WebhookEvent::for_lead(&crate::leads::lead::tests::lead(LeadKind::ComparisonEmail)).len(), 1);

    let json = serde_json::to_value(events[0].envelope()).unwrap();
    assert_eq!(json["type"], "lead.created");
    assert_eq!(json["timestamp"], "2026-09-21T14:13:20.000Z");
    assert_eq!(json["data"]["id"], lead.id.as_str());
    assert_eq!(json["data"]["contact"]["phone"], "+79161234567");
    assert_eq!(json.as_object().map(|o| o.len()), Some(3));
    let back: Envelope = serde_json::from_value(json).unwrap();
    assert_eq!(back, events[0].envelope());

    let id = events[0].message_id();
    assert!(id.starts_with("msg_") && id.len() == 36, "{id}");
    assert_eq!(id, WebhookEvent::LeadCreated(lead.clone()).message_id());
    assert_ne!(id, events[1].message_id());
    for t in EventType::ALL {
        assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
    }
}

#[test]
fn schedule_without_jitter() {
    let delays: Vec<u64> = (1..=9).map(|n| retry_delay_ms(n, 0) / 1000).collect();
    assert_eq!(delays, [5, 300, 1800, 7200, 18_000, 36_000, 43_200, 43_200, 43_200]);
    assert_eq!(retry_delay_ms(u32::MAX, 0), 43_200_000);
    assert_eq!(retry_delay_ms(0, 0), 5000);
}

#[test]
fn jitter_is_bounded() {
    assert_eq!(retry_delay_ms(2, 100), 330_000);
    assert_eq!(retry_delay_ms(2, -100), 270_000);
    assert_eq!(retry_delay_ms(2, 5000), 330_000);
    assert_eq!(retry_delay_ms(2, i32::MIN), 270_000);
    assert_eq!(retry_delay_ms(1, 37), 5185);
}

fn response(status: u16) -> AttemptResult {
    AttemptResult::Response { status, retry_after: None, body: Vec::new() }
}

#[test]
fn classification() {
    let cases = [
        (response(200), AttemptStatus::Delivered),
        (response(204), AttemptStatus::Delivered),
        (response(301), AttemptStatus::Failed),
        (response(400), AttemptStatus::Failed),
        (response(404), AttemptStatus::Failed),
        (response(410), AttemptStatus::EndpointGone),
        (response(429), AttemptStatus::Failed),
        (response(500), AttemptStatus::Failed),
        (response(503), AttemptStatus::Failed),
        (AttemptResult::Timeout, AttemptStatus::Timeout),
        (AttemptResult::ConnectionError("dns".into()), AttemptStatus::ConnectionError),
    ];
    for (result, status) in cases {
        assert_eq!(result.status(), status, "{result:?}");
    }
    assert_eq!(next_step(&response(200), 1, 0, 0, 0), NextStep::Done);
    assert_eq!(next_step(&response(410), 1, 0, 0, 0), NextStep::DisableEndpoint);
    assert_eq!(next_step(&response(302), 1, 0, 0, 0), NextStep::RetryAt { at: 5000 });
    assert_eq!(next_step(&AttemptResult::Timeout, 2, 0, 20_000, 0), NextStep::RetryAt { at: 320_000 });
}

#[test]
fn full_schedule_ends_in_the_dead_letter_queue_after_three_days() {
    let first = 1_000_000;
    let mut now = first;
    let mut attempts = 0;
    loop {
        attempts += 1;
        // Each attempt takes the whole timeout: the worst case for the window.
        now += ATTEMPT_TIMEOUT_MS;
        match next_step(&AttemptResult::Timeout, attempts, first, now, 100) {
            NextStep::RetryAt { at } => {
                assert!(at > now);
                now = at;
            }
            NextStep::DeadLetter => break,
            other => panic!("{other:?}"),
        }
    }
    assert!(now - first <= RETRY_WINDOW_MS);
    assert!(now - first > RETRY_WINDOW_MS - 14 * 3600 * 1000, "retried until near the end of the window");
    assert!((8..=12).contains(&attempts), "{attempts}");
}

#[test]
fn retry_after_is_honoured_and_capped() {
    let slow = |value: &str| AttemptResult::Response { status: 429, retry_after: Some(value.into()), body: vec![] };
    assert_eq!(next_step(&slow("120"), 1, 0, 0, 0), NextStep::RetryAt { at: 120_000 });
    // Never earlier than our own schedule.
    assert_eq!(next_step(&slow("1"), 2, 0, 0, 0), NextStep::RetryAt { at: 300_000 });
    assert_eq!(next_step(&slow("999999999"), 1, 0, 0, 0), NextStep::RetryAt { at: MAX_RETRY_AFTER_S * 1000 });
    assert_eq!(next_step(&slow("Wed, 21 Oct 2015 07:28:00 GMT"), 1, 0, 0, 0), NextStep::RetryAt { at: 5000 });
    assert_eq!(next_step(&slow("-5"), 1, 0, 0, 0), NextStep::RetryAt { at: 5000 });
    assert_eq!(next_step(&slow("3600"), 1, 0, RETRY_WINDOW_MS - 1000, 0), NextStep::DeadLetter);
}

#[test]
fn attempt_records_truncate_on_char_boundaries() {
    let body = "я".repeat(1000).into_bytes();
    let record = AttemptRecord::new(5, 120, &AttemptResult::Response { status: 500, retry_after: None, body });
    let kept = record.response_body.clone().unwrap();
    assert_eq!(kept.len(), 1024);
    assert_eq!(kept.chars().count(), 512);
    assert_eq!(record.status, AttemptStatus::Failed);
    assert_eq!(record.response_code, Some(500));

    let odd = AttemptRecord::new(5, 1, &AttemptResult::Response { status: 200, retry_after: None, body: "a".repeat(1023).bytes().chain("я".bytes()).collect() });
    assert_eq!(odd.response_body.map(|b| b.len()), Some(1023));
    let binary = AttemptRecord::new(5, 1, &AttemptResult::Response { status: 200, retry_after: None, body: vec![0xff, 0xfe, b'o', b'k'] });
    assert_eq!(binary.response_body.as_deref(), Some("\u{fffd}\u{fffd}ok"));
    let empty = AttemptRecord::new(5, 1, &response(204));
    assert_eq!(empty.response_body, None);

    let timeout = AttemptRecord::new(5, 15_000, &AttemptResult::Timeout);
    assert_eq!(timeout.error.as_deref(), Some("no response within 15 s"));
    let json = serde_json::to_value(&timeout).unwrap();
    assert_eq!(json, serde_json::json!({"at": 5, "status": "timeout", "latency_ms": 15000, "error": "no response within 15 s"}));
    assert_eq!(truncate_on_char_boundary("ab", 10), "ab");
}
