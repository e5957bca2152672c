use super::*;

const NOW: u64 = 1_800_000_000_000;

fn link(purpose: LinkPurpose) -> StoredLink {
    StoredLink {
        purpose,
        site: "shop-a".into(),
        email: "anna@shop.example".into(),
        role: Role::Operator,
        expires_at: NOW + INVITE_TTL_MS,
        used_at: None,
        revoked_at: None,
    }
}

fn accept(password: &str, name: Option<&str>, site: Option<&str>) -> AcceptLink {
    AcceptLink { token: String::new(), password: password.into(), name: name.map(Into::into), site: site.map(Into::into) }
}

#[test]
fn tokens_are_random_hex_with_a_prefix_and_only_their_hash_is_stored() {
    let token = token_from_bytes(&[0xab; TOKEN_BYTES]);
    assert_eq!(token.len(), TOKEN_PREFIX.len() + TOKEN_BYTES * 2);
    assert!(token.starts_with("fwl_abab"));
    let hash = token_hash(&token).unwrap();
    assert_eq!(hash.len(), 64);
    assert!(!hash.contains(&token[4..]), "the stored form is not the token");
    assert_eq!(token_hash(&format!(" {token}\n")).unwrap(), hash, "a pasted link's whitespace is forgiven");
    assert_ne!(token_hash(&token_from_bytes(&[0xac; TOKEN_BYTES])).unwrap(), hash);
    for bad in ["", "fwl_", "abab", &token[..token.len() - 1], &format!("{token}0"), &token.to_uppercase(), &format!("fwk_{}", &token[4..])] {
        assert_eq!(token_hash(bad).unwrap_err().code, ErrorCode::InvalidToken, "{bad:?}");
    }
    assert_eq!(token_hash(&"f".repeat(1 << 20)).unwrap_err().code, ErrorCode::InvalidToken);
}

#[test]
fn the_link_carries_its_token_in_the_fragment() {
    let token = token_from_bytes(&[7; TOKEN_BYTES]);
    let path = link_path(&token);
    assert!(path.starts_with("/console/#"), "{path}");
    let fragment = &path[path.find('#').unwrap()..];
    assert_eq!(token_in_fragment(fragment), Some(token.as_str()));
    assert_eq!(token_in_fragment("#team"), None);
    assert_eq!(token_in_fragment("#link="), None);
    assert_eq!(token_in_fragment(""), None);
}

#[test]
fn invitations_are_checked_and_owners_invite_operators_only() {
    let owned = vec!["shop-a".to_owned()];
    let owner = Actor::Owner { owned_sites: &owned };
    let invite = NewInvite { email: " Anna@Shop.Example ".into(), role: Role::Operator, expires_in_s: None };
    let checked = invite.clone().validate(&owner, false).unwrap();
    assert_eq!((checked.email.as_str(), checked.role, checked.ttl_ms), ("anna@shop.example", Role::Operator, INVITE_TTL_MS));
    let co_owner = NewInvite { role: Role::Owner, ..invite.clone() };
    assert_eq!(co_owner.clone().validate(&owner, false).unwrap_err().code, ErrorCode::Forbidden);
    assert_eq!(co_owner.validate(&Actor::Admin, false).unwrap().role, Role::Owner);
    assert_eq!(NewInvite { email: "nope".into(), ..invite.clone() }.validate(&owner, false).unwrap_err().code, ErrorCode::InvalidEmail);
    let hour = NewInvite { expires_in_s: Some(3600), ..invite.clone() };
    assert_eq!(hour.validate(&owner, false).unwrap().ttl_ms, MIN_INVITE_TTL_MS);
    for bad in [Some(0), Some(59), Some(3599), Some(INVITE_TTL_MS / 1000 + 1), Some(u64::MAX)] {
        let err = NewInvite { expires_in_s: bad, ..invite.clone() }.validate(&owner, false).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidConfig, "{bad:?}");
    }
    let second = NewInvite { expires_in_s: Some(1), ..invite.clone() };
    assert!(second.clone().validate(&owner, false).is_err());
    assert_eq!(second.validate(&owner, true).unwrap().ttl_ms, 1000, "a test deployment may watch one expire");
    assert!(serde_json::from_str::<NewInvite>(r#"{"email":"a@b.example","site":"shop-b"}"#).is_err(), "no site in the body");
    let wire: NewInvite = serde_json::from_str(r#"{"email":"a@b.example"}"#).unwrap();
    assert_eq!(wire.role, Role::Operator);
}

#[test]
fn a_link_is_used_once_before_it_expires_on_its_own_site() {
    let fresh = link(LinkPurpose::Invite);
    assert_eq!(fresh.check(NOW), Ok(()));
    assert_eq!(fresh.check(fresh.expires_at - 1), Ok(()));
    for (gone, why) in [
        (StoredLink { used_at: Some(NOW), ..fresh.clone() }, "used"),
        (StoredLink { revoked_at: Some(NOW), ..fresh.clone() }, "withdrawn"),
        (StoredLink { expires_at: NOW, ..fresh.clone() }, "expired"),
    ] {
        let err = gone.check(NOW).unwrap_err();
        assert_eq!((err.code, err.code.http_status()), (ErrorCode::TokenExpired, 410));
        assert!(err.message.contains(why), "{err:?}");
    }
    assert_eq!(fresh.check_site(Some("shop-a")), Ok(()));
    assert_eq!(fresh.check_site(None), Ok(()));
    assert_eq!(fresh.check_site(Some("shop-b")).unwrap_err().code, ErrorCode::Forbidden);
}

#[test]
fn using_a_link_asks_for_what_the_account_needs() {
    let invite = link(LinkPurpose::Invite);
    assert_eq!(
        acceptance(&invite, false, &accept("a long password", Some(" Anna "), Some("shop-a")), NOW),
        Ok(Acceptance::NewAccount { name: "Anna".into(), password: "a long password".into() })
    );
    assert_eq!(acceptance(&invite, false, &accept("a long password", None, None), NOW).unwrap_err().code, ErrorCode::FieldTooLong);
    assert_eq!(acceptance(&invite, false, &accept("short", Some("Anna"), None), NOW).unwrap_err().code, ErrorCode::InvalidConfig);
    assert_eq!(acceptance(&invite, true, &accept("old pw", None, None), NOW), Ok(Acceptance::ExistingAccount { password: "old pw".into() }));
    assert_eq!(acceptance(&invite, true, &accept("", None, None), NOW).unwrap_err().code, ErrorCode::MissingField);
    assert_eq!(
        acceptance(&invite, true, &accept("old pw", None, Some("shop-b")), NOW).unwrap_err().code,
        ErrorCode::Forbidden,
        "an invite for shop A does not join shop B"
    );
    let used = StoredLink { used_at: Some(NOW - 1), ..invite };
    assert_eq!(acceptance(&used, false, &accept("a long password", Some("Anna"), None), NOW).unwrap_err().code, ErrorCode::TokenExpired);
    let reset = link(LinkPurpose::Reset);
    assert_eq!(acceptance(&reset, true, &accept("a new long password", None, None), NOW), Ok(Acceptance::NewPassword { password: "a new long password".into() }));
    assert_eq!(acceptance(&reset, true, &accept("short", None, None), NOW).unwrap_err().code, ErrorCode::InvalidConfig);
    assert_eq!(acceptance(&reset, false, &accept("a new long password", None, None), NOW).unwrap_err().code, ErrorCode::TokenExpired);
}

#[test]
fn a_site_keeps_an_enabled_owner() {
    let member = |id: &str, role, active| Standing { id: id.into(), role, active };
    let lone = vec![member("op-olga", Role::Owner, true), member("op-anna", Role::Operator, true)];
    assert_eq!(keeps_an_owner(&lone, "op-olga").unwrap_err().code, ErrorCode::Forbidden);
    assert_eq!(keeps_an_owner(&lone, "op-anna"), Ok(()));
    let with_disabled = vec![member("op-olga", Role::Owner, true), member("op-oleg", Role::Owner, false)];
    assert!(keeps_an_owner(&with_disabled, "op-olga").is_err(), "a disabled owner does not count");
    assert_eq!(keeps_an_owner(&with_disabled, "op-oleg"), Ok(()), "removing a disabled owner leaves the enabled one");
    let two = vec![member("op-olga", Role::Owner, true), member("op-oleg", Role::Owner, true)];
    assert_eq!(keeps_an_owner(&two, "op-olga"), Ok(()));
    assert_eq!(keeps_an_owner(&[member("op-anna", Role::Operator, true)], "op-anna"), Ok(()), "a site without owners (admin-run) stays so");
    assert_eq!(keeps_an_owner(&lone, "op-nobody"), Ok(()));
}

#[test]
fn purposes_round_trip() {
    for purpose in [LinkPurpose::Invite, LinkPurpose::Reset] {
        assert_eq!(LinkPurpose::parse(purpose.as_str()), Some(purpose));
        assert_eq!(serde_json::to_value(purpose).unwrap(), serde_json::Value::String(purpose.as_str().into()));
    }
    assert_eq!(LinkPurpose::parse("login"), None);
    LINKS_PER_CLIENT.validate("links").unwrap();
    assert_eq!(link_counter("203.0.113.7").key, "link-client|203.0.113.7");
}

#[test]
fn pending_invitations() {
    let view = InviteView {
        id: "i1".into(),
        site: "shop-a".into(),
        email: "a@b.example".into(),
        role: Role::Operator,
        created_at: NOW,
        expires_at: NOW + 10,
        used_at: None,
        revoked_at: None,
    };
    assert!(view.pending(NOW));
    assert!(!view.pending(NOW + 10));
    assert!(!InviteView { used_at: Some(NOW), ..view.clone() }.pending(NOW));
    assert!(!InviteView { revoked_at: Some(NOW), ..view }.pending(NOW));
}
