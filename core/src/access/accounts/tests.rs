use super::*;

fn sites(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn new_members_are_checked_and_normalised() {
    let member = NewMember { email: "  Anna@Shop.Example ".into(), name: " Anna ".into(), password: Some("long enough pw".into()), role: Role::Operator };
    let checked = member.validate().unwrap();
    assert_eq!((checked.email.as_str(), checked.name.as_str()), ("anna@shop.example", "Anna"));
    let base = NewMember { email: "a@shop.example".into(), name: "A".into(), password: None, role: Role::Owner };
    for (bad, code) in [
        (NewMember { email: "not an email".into(), ..base.clone() }, ErrorCode::InvalidEmail),
        (NewMember { name: "  ".into(), ..base.clone() }, ErrorCode::FieldTooLong),
        (NewMember { name: "x".repeat(61), ..base.clone() }, ErrorCode::FieldTooLong),
        (NewMember { name: "a\nb".into(), ..base.clone() }, ErrorCode::InvalidText),
        (NewMember { password: Some("short".into()), ..base.clone() }, ErrorCode::InvalidConfig),
        (NewMember { password: Some("p".repeat(MAX_PASSWORD_CHARS + 1)), ..base.clone() }, ErrorCode::FieldTooLong),
    ] {
        assert_eq!(bad.clone().validate().unwrap_err().code, code, "{bad:?}");
    }
    let wire: NewMember = serde_json::from_str(r#"{"email":"a@b.example","name":"A"}"#).unwrap();
    assert_eq!(wire.role, Role::Operator, "operator unless said otherwise");
    assert!(serde_json::from_str::<NewMember>(r#"{"email":"a@b.example","name":"A","admin":true}"#).is_err());
}

#[test]
fn an_existing_account_joins_with_its_own_password() {
    assert_eq!(joining(false, Some("a new password")).unwrap(), Joining::NewAccount { password: "a new password".into() });
    assert_eq!(joining(true, None).unwrap(), Joining::ExistingAccount);
    assert_eq!(joining(false, None).unwrap_err().code, ErrorCode::MissingField);
    let taken = joining(true, Some("somebody else's choice")).unwrap_err();
    assert_eq!((taken.code, taken.code.http_status()), (ErrorCode::AccountExists, 409));
}

#[test]
fn owners_act_on_their_sites_and_on_accounts_wholly_theirs() {
    let owned = sites(&["shop-a", "shop-b"]);
    let owner = Actor::Owner { owned_sites: &owned };
    assert!(owner.require_site("shop-a").is_ok());
    assert_eq!(owner.require_site("shop-c").unwrap_err().code, ErrorCode::Forbidden);
    assert!(owner.require_account(&sites(&["shop-a", "shop-b"])).is_ok());
    // The operator also works for another shop: its owner's business, not this one's.
    assert_eq!(owner.require_account(&sites(&["shop-a", "shop-c"])).unwrap_err().code, ErrorCode::Forbidden);
    assert!(Actor::Admin.require_site("anything").is_ok());
    assert!(Actor::Admin.require_account(&sites(&["shop-a", "shop-c"])).is_ok());
}

#[test]
fn a_session_works_on_one_active_site() {
    let memberships = vec![
        MemberSite { site: "shop-b".into(), role: Role::Operator, active: true },
        MemberSite { site: "shop-a".into(), role: Role::Owner, active: true },
        MemberSite { site: "shop-c".into(), role: Role::Operator, active: false },
    ];
    assert_eq!(session_site(&memberships, None).unwrap().site, "shop-a", "the first by id");
    assert_eq!(session_site(&memberships, Some("shop-b")).unwrap().role, Role::Operator);
    for refused in [Some("shop-c"), Some("shop-x")] {
        let err = session_site(&memberships, refused).unwrap_err();
        assert_eq!((err.code, err.message.as_str()), (ErrorCode::Unauthorized, "wrong email or password"));
    }
    assert!(session_site(&[], None).is_err());
}

#[test]
fn a_revocation_closes_the_right_sockets() {
    let logout = Revocation { operator_id: "op-1".into(), session_id: Some("s-1".into()) };
    assert!(logout.covers("op-1", Some("s-1")));
    assert!(!logout.covers("op-1", Some("s-2")), "another device stays");
    assert!(logout.covers("op-1", None), "a socket that does not know its session closes");
    assert!(!logout.covers("op-2", Some("s-1")));
    let disabled = Revocation { operator_id: "op-1".into(), session_id: None };
    assert!(disabled.covers("op-1", Some("s-1")) && disabled.covers("op-1", Some("s-2")));
    assert!(!disabled.covers("op-2", None));
}

#[test]
fn roles_round_trip() {
    for role in [Role::Owner, Role::Operator] {
        assert_eq!(Role::parse(role.as_str()), Some(role));
        assert_eq!(serde_json::to_value(role).unwrap(), serde_json::Value::String(role.as_str().into()));
    }
    assert_eq!(Role::parse("admin"), None);
}

#[test]
fn logins_are_counted_per_email_and_per_client() {
    let [email, client] = login_counters(" Anna@Shop.Example", "203.0.113.7");
    assert_eq!(email.key, login_counters("anna@shop.example", "198.51.100.1")[0].key, "the same person, wherever from");
    assert!(!email.key.contains("anna"), "no address in the counters' table: {}", email.key);
    assert_eq!(client.key, "login-client|203.0.113.7");
    LOGIN_PER_EMAIL.validate("login").unwrap();
    LOGIN_PER_CLIENT.validate("login").unwrap();
    let now = 1_000_000;
    let counted = [(&email, LOGIN_PER_EMAIL.max + 1), (&client, 1)];
    assert!(crate::access::throttle::verdict(&counted, now).is_some_and(|retry| retry > 0 && retry <= 900));
}

#[test]
fn a_local_receiver_is_a_loopback_http_url_and_its_page_is_its_root() {
    let receiver = LocalReceiver::from_webhook_url(" http://127.0.0.1:8788/crm ").expect("the demo's receiver");
    assert_eq!(receiver.webhook_url, "http://127.0.0.1:8788/crm");
    assert_eq!(receiver.page_url, "http://127.0.0.1:8788/");
    assert_eq!(LocalReceiver::from_webhook_url("https://LOCALHOST/hooks?x=1").map(|r| r.page_url).as_deref(), Some("https://localhost/"));
    assert_eq!(LocalReceiver::from_webhook_url("http://[::1]:9000/crm").map(|r| r.page_url).as_deref(), Some("http://[::1]:9000/"));
    // Never a link off this machine or into a script, whatever the deployment's var says.
    for refused in ["", "javascript:alert(1)//127.0.0.1", "https://crm.example/hooks", "http://127.0.0.1@evil.example/",
        "ftp://127.0.0.1/", "http://10.0.0.1/crm", "http://127.0.0.1/\n<script>"]
    {
        assert_eq!(LocalReceiver::from_webhook_url(refused), None, "{refused:?}");
    }
}

#[test]
fn who_is_signed_in_starts_without_the_shop_s_or_the_deployment_s_facts() {
    let profile = OperatorProfile { id: "acc-1".into(), site: "demo".into(), email: "olga@shop.example".into(), name: "Olga".into() };
    let signed_in = SignedIn::new(profile, Role::Owner, vec!["demo".into()]);
    assert!(signed_in.site_name.is_empty() && signed_in.site_timezone.is_empty() && signed_in.local_receiver.is_none());
    let json = serde_json::to_value(&signed_in).unwrap();
    assert!(json.get("local_receiver").is_none(), "absent, not null, on a deployed worker: {json}");
}
