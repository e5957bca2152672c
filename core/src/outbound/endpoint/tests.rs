use super::*;

#[test]
fn public_https_urls_pass() {
    for url in [
        "https://hooks.example.com/floorwalker",
        "https://portal.bitrix24.ru/rest/1/abc123/",
        "https://shop.amocrm.ru",
        "https://HOOKS.Example.com:8443/x?y=1",
        "https://8.8.8.8/hook",
        "https://[2606:4700:4700::1111]/hook",
        "https://example.com./x",
    ] {
        check_endpoint_url(url, false).unwrap_or_else(|e| panic!("{url}: {e}"));
    }
}

#[test]
fn internal_addresses_are_refused() {
    for url in [
        "http://hooks.example.com/",
        "https://localhost/",
        "https://api.localhost/",
        "https://127.0.0.1/",
        "https://127.8.9.10:8080/",
        "https://[::1]/",
        "https://10.1.2.3/",
        "https://172.16.0.1/",
        "https://172.31.255.255/",
        "https://192.168.1.1/",
        "https://[fc00::1]/",
        "https://[fd12:3456::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:10.0.0.1]/",
        "https://intranet/",
    ] {
        let err = check_endpoint_url(url, false).expect_err(url);
        assert_eq!(err.code, ErrorCode::EndpointNotAllowed, "{url}");
        check_endpoint_url(url, true).unwrap_or_else(|e| panic!("{url} with allow_private: {e}"));
    }
}

#[test]
fn never_allowed_even_for_local_development() {
    for url in [
        "https://169.254.169.254/latest/meta-data/",
        "http://169.254.169.254/",
        "https://[fe80::1]/",
        "https://[fec0::1]/",
        "https://0.0.0.0/",
        "https://0.1.2.3/",
        "https://[::]/",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://metadata/",
        "https://printer.local/",
        "https://100.100.100.200/",
        "https://100.64.0.1/",
        "https://224.0.0.1/",
        "https://255.255.255.255/",
        "https://240.0.0.1/",
        "https://[ff02::1]/",
        "https://[64:ff9b::a9fe:a9fe]/",
        "https://[2002:a9fe:a9fe::1]/",
        "https://[::169.254.169.254]/",
    ] {
        for allow_private in [false, true] {
            let err = check_endpoint_url(url, allow_private).expect_err(url);
            assert_eq!(err.code, ErrorCode::EndpointNotAllowed, "{url}");
        }
    }
}

#[test]
fn malformed_and_disguised_urls_are_invalid() {
    for url in [
        "",
        "hooks.example.com",
        "ftp://hooks.example.com/",
        "javascript:alert(1)",
        "https://",
        "https:///path",
        "https://user:pass@hooks.example.com/",
        "https://hooks.example.com@127.0.0.1/",
        "https://2130706433/",
        "https://0x7f000001/",
        "https://127.1/",
        "https://0177.0.0.1/",
        "https://a.0x7f/",
        "https://hooks.example.com:99999/",
        "https://hooks.example.com:0/",
        "https://hooks.example.com:/",
        "https://[::1/",
        "https://[::1]x/",
        "https://hooks example.com/",
        "https://hooks.example.com/#frag",
        "https://exa_mple.com/",
        "https://hooks.example.com\\@127.0.0.1/",
        "https://-bad.example.com/",
    ] {
        let err = check_endpoint_url(url, true).expect_err(url);
        assert_eq!(err.code, ErrorCode::InvalidConfig, "{url}");
    }
}

fn endpoint(preset: Preset) -> Endpoint {
    Endpoint {
        id: "crm".into(),
        url: "https://hooks.example.com/fw".into(),
        secrets: vec![WebhookSecret::generate([3; 32])],
        events: None,
        preset,
        enabled: true,
    }
}

#[test]
fn endpoint_validation() {
    endpoint(Preset::Generic).validate(false).unwrap();
    endpoint(Preset::Amocrm { token_secret: "CRM_AMO_TOKEN".into() }).validate(false).unwrap();
    let hubspot = Preset::Hubspot { portal_id: "123456".into(), form_guid: "0a1b2c3d-0000-4a4a-8b8b-0123456789ab".into() };
    let telegram = Preset::Telegram { chat_id: "-1001234567890".into(), bot_token_secret: "CRM_TG_BOT_TOKEN".into() };
    for preset in [hubspot.clone(), telegram.clone()] {
        let e = Endpoint { url: String::new(), secrets: vec![], ..endpoint(preset) };
        e.validate(false).unwrap();
    }
    assert_eq!(Endpoint { url: String::new(), ..endpoint(telegram.clone()) }.base_url(), TELEGRAM_API);
    assert_eq!(Endpoint { url: String::new(), ..endpoint(hubspot.clone()) }.base_url(), HUBSPOT_API);
    let local = Endpoint { url: "http://127.0.0.1:9000/".into(), ..endpoint(telegram) };
    assert_eq!(local.base_url(), "http://127.0.0.1:9000");
    local.validate(true).unwrap();
    assert_eq!(local.validate(false).unwrap_err().code, ErrorCode::EndpointNotAllowed);

    let bad = [
        Endpoint { id: "CRM!".into(), ..endpoint(Preset::Generic) },
        Endpoint { url: String::new(), ..endpoint(Preset::Generic) },
        Endpoint { url: String::new(), ..endpoint(Preset::Bitrix24) },
        Endpoint { secrets: vec![], ..endpoint(Preset::Generic) },
        Endpoint { secrets: vec!["whsec_short".into()], ..endpoint(Preset::Generic) },
        Endpoint { secrets: vec![WebhookSecret::generate([1; 32]); 4], ..endpoint(Preset::Generic) },
        Endpoint { events: Some(vec![]), ..endpoint(Preset::Generic) },
        Endpoint { events: Some(vec![EventType::LeadCreated, EventType::TranscriptRequested]), ..endpoint(Preset::Generic) },
        endpoint(Preset::Amocrm { token_secret: "eyJhbGciOiJSUzI1NiJ9.actual.token".into() }),
        endpoint(Preset::Amocrm { token_secret: String::new() }),
        endpoint(Preset::Hubspot { portal_id: "12ab".into(), form_guid: "0a1b2c3d-0000-4a4a-8b8b-0123456789ab".into() }),
        endpoint(Preset::Hubspot { portal_id: "123".into(), form_guid: "not-a-guid".into() }),
        endpoint(Preset::Telegram { chat_id: "chat".into(), bot_token_secret: "TG".into() }),
        endpoint(Preset::Telegram { chat_id: "123".into(), bot_token_secret: "123456:ABC-token".into() }),
    ];
    for e in bad {
        assert_eq!(e.validate(false).expect_err("must be refused").code, ErrorCode::InvalidConfig, "{e:?}");
    }
}

#[test]
fn event_filter() {
    let all = endpoint(Preset::Generic);
    assert!(EventType::ALL.iter().all(|&t| all.wants(t)));
    let only = Endpoint { events: Some(vec![EventType::LeadCreated]), ..endpoint(Preset::Generic) };
    assert!(only.wants(EventType::LeadCreated) && !only.wants(EventType::ConsentUpdated));
    let disabled = Endpoint { enabled: false, ..endpoint(Preset::Generic) };
    assert!(!disabled.wants(EventType::LeadCreated));
    // Email-only outbox events never go to an endpoint, whatever it lists.
    assert!(!all.wants(EventType::TranscriptRequested) && !all.takes(EventType::TranscriptRequested));
    let listed = Endpoint { events: Some(vec![EventType::TranscriptRequested]), ..endpoint(Preset::Generic) };
    assert!(!listed.wants(EventType::TranscriptRequested));
    // Generic endpoints take every webhook; CRM presets only leads (the rest would be skipped).
    assert!(EventType::ALL.iter().all(|&t| all.takes(t)));
    let b24 = endpoint(Preset::Bitrix24);
    assert!(b24.takes(EventType::LeadCreated));
    for t in [EventType::MessageCreated, EventType::ConversationClosed, EventType::ConsentUpdated, EventType::CallbackRequested] {
        assert!(b24.wants(t) && !b24.takes(t), "{t:?}");
    }
}

#[test]
fn endpoint_wire_format() {
    let json = serde_json::json!({
        "id": "tg", "preset": {"kind": "telegram", "chat_id": "@shop_leads", "bot_token_secret": "CRM_TG_TOKEN"},
        "events": ["lead.created"]
    });
    let e: Endpoint = serde_json::from_value(json).unwrap();
    assert!(e.enabled);
    assert_eq!(e.preset, Preset::Telegram { chat_id: "@shop_leads".into(), bot_token_secret: "CRM_TG_TOKEN".into() });
    e.validate(false).unwrap();
    let token_value = serde_json::json!({"id": "tg", "preset": {"kind": "telegram", "chat_id": "1", "bot_token": "123:abc"}});
    assert!(serde_json::from_value::<Endpoint>(token_value).is_err());
}

/// Issue 11, item 16: IPv6 forms that carry an IPv4 address, and reserved IPv6 ranges, are
/// refused even for local development, whatever the IPv4 address inside.
#[test]
fn ipv6_forms_carrying_ipv4_and_reserved_ranges_are_never_allowed() {
    let cases = [
        ("SIIT ::ffff:0:0/96 with 127.0.0.1", "https://[::ffff:0:7f00:1]/"),
        ("SIIT with a public address", "https://[::ffff:0:808:808]/"),
        ("IPv4-compatible loopback", "https://[::127.0.0.1]/"),
        ("IPv4-compatible public", "https://[::8.8.8.8]/"),
        ("NAT64 well-known, loopback", "https://[64:ff9b::7f00:1]/"),
        ("NAT64 well-known, public", "https://[64:ff9b::808:808]/"),
        ("NAT64 local-use", "https://[64:ff9b:1::a00:1]/"),
        ("NAT64 local-use, other layout", "https://[64:ff9b:1:7f00:1::]/"),
        ("ISATAP, private", "https://[fe80::5efe:10.0.0.1]/"),
        ("ISATAP under a global prefix", "https://[2606:4700::5efe:7f00:1]/"),
        ("ISATAP, universal bit", "https://[2606:4700::200:5efe:a00:1]/"),
        ("Teredo", "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/"),
        ("Teredo, short", "https://[2001::1]/"),
        ("IETF protocol assignments", "https://[2001:2::1]/"),
        ("ORCHIDv2", "https://[2001:20::1]/"),
        ("discard-only", "https://[100::1]/"),
        ("6to4 with a private address", "https://[2002:c0a8:101::1]/"),
        ("6to4 with a public address", "https://[2002:808:808::1]/"),
        ("documentation 2001:db8", "https://[2001:db8::1]/"),
        ("documentation 3fff::/20", "https://[3fff::1]/"),
        ("SRv6 segment id", "https://[5f00::1]/"),
        ("reserved ::/8", "https://[::2]/"),
    ];
    for (case, url) in cases {
        for allow_private in [false, true] {
            let err = check_endpoint_url(url, allow_private).expect_err(case);
            assert_eq!(err.code, ErrorCode::EndpointNotAllowed, "{case}: {url} (allow_private: {allow_private})");
        }
    }
    // Ordinary global unicast addresses, and mapped ones judged by their IPv4 address, still pass.
    for url in ["https://[2606:4700:4700::1111]/", "https://[2a00:1450:4010:c05::64]/", "https://[::ffff:8.8.8.8]/"] {
        check_endpoint_url(url, false).unwrap_or_else(|e| panic!("{url}: {e}"));
    }
}

/// Issue 11, item 16: a public endpoint names no port but https's own (443) or 8443; local
/// development (`allow_private`, how the e2e receiver on a random port is reached) any.
#[test]
fn public_endpoints_use_port_443_or_8443() {
    let cases = [
        ("https://hooks.example.com/", true),
        ("https://hooks.example.com:443/", true),
        ("https://hooks.example.com:8443/", true),
        ("https://8.8.8.8:8443/", true),
        ("https://[2606:4700:4700::1111]:443/", true),
        ("https://hooks.example.com:80/", false),
        ("https://hooks.example.com:22/", false),
        ("https://hooks.example.com:6379/", false),
        ("https://8.8.8.8:8080/", false),
        ("https://[2606:4700:4700::1111]:5432/", false),
    ];
    for (url, allowed) in cases {
        match check_endpoint_url(url, false) {
            Ok(()) => assert!(allowed, "{url} must be refused"),
            Err(e) => {
                assert!(!allowed, "{url}: {e}");
                assert_eq!(e.code, ErrorCode::EndpointNotAllowed, "{url}");
            }
        }
    }
    for url in ["http://127.0.0.1:39123/hooks", "https://hooks.example.com:8080/", "http://localhost:9000/"] {
        check_endpoint_url(url, true).unwrap_or_else(|e| panic!("{url} with allow_private: {e}"));
    }
}

/// The worker's own secrets can never be named by a preset: only `CRM_` names, whatever the
/// preset (issue 11, item 5).
#[test]
fn presets_name_only_crm_secrets_never_the_workers_own() {
    let own = ["LINK_SECRET", "OPERATOR_SESSION_SECRET", "VISITOR_TOKEN_SECRET", "ADMIN_TOKEN", "RESEND_API_KEY", "POSTMARK_SERVER_TOKEN", "CRM_"];
    for name in own {
        for preset in [
            Preset::Amocrm { token_secret: name.into() },
            Preset::Telegram { chat_id: "123".into(), bot_token_secret: name.into() },
        ] {
            let e = Endpoint { url: "https://shop.amocrm.ru".into(), ..endpoint(preset) };
            let err = e.validate(false).expect_err(name);
            assert_eq!(err.code, ErrorCode::InvalidConfig, "{name}");
            assert_eq!(err.code.http_status(), 400);
        }
        assert!(check_crm_secret_name(name).is_err(), "{name}");
    }
    check_crm_secret_name("CRM_AMO_TOKEN_SHOP").unwrap();
    assert_eq!(Preset::Telegram { chat_id: "1".into(), bot_token_secret: "CRM_TG".into() }.secret_names(), vec!["CRM_TG"]);
    assert!(Preset::Generic.secret_names().is_empty());
}
