use super::*;
use proptest::prelude::*;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const NOW: u64 = 1_700_000_000_000;
const DAY: u64 = 86_400_000;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn token_comparison() {
    assert!(constant_time_eq(b"secret-token", b"secret-token"));
    assert!(!constant_time_eq(b"secret-token", b"secret-tokex"));
    assert!(!constant_time_eq(b"secret", b"secret-token"));
    assert!(!constant_time_eq(b"", b"x"));
}

#[test]
fn visitor_tokens_round_trip() {
    let token = issue_visitor_token(SECRET, "demo", "visitor-0001", NOW);
    let claims = verify_visitor_token(SECRET, &token, NOW + 1000, DAY).unwrap();
    assert_eq!(
        claims,
        VisitorClaims { site: "demo".into(), visitor_id: "visitor-0001".into(), issued_at: NOW, user_id: None }
    );
    // The payload is plain JSON, readable by anyone (it holds nothing secret).
    let (payload, _) = token.split_once('.').unwrap();
    let json: serde_json::Value = serde_json::from_slice(&base64url_decode(payload).unwrap()).unwrap();
    assert_eq!(json, serde_json::json!({"v": 1, "site": "demo", "vid": "visitor-0001", "iat": NOW}));
    assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)), "URL- and header-safe");
}

#[test]
fn bad_visitor_tokens_are_unauthorized() {
    let token = issue_visitor_token(SECRET, "demo", "visitor-0001", NOW);
    let check = |secret: &[u8], token: &str, now: u64| verify_visitor_token(secret, token, now, DAY);
    let refused = |result: Result<VisitorClaims, ApiError>| result.expect_err("must be refused").code;
    assert_eq!(refused(check(b"another secret", &token, NOW)), ErrorCode::Unauthorized);
    assert_eq!(refused(check(b"", &token, NOW)), ErrorCode::Unauthorized);
    // Expired, and issued in the future beyond the skew allowance.
    let expired = check(SECRET, &token, NOW + DAY + 1).unwrap_err();
    assert_eq!((expired.code, expired.message.as_str()), (ErrorCode::Unauthorized, "visitor token expired"));
    assert!(check(SECRET, &token, NOW + DAY).is_ok());
    assert!(check(SECRET, &token, NOW - CLOCK_SKEW_MS).is_ok());
    assert_eq!(refused(check(SECRET, &token, NOW - CLOCK_SKEW_MS - 1)), ErrorCode::Unauthorized);
    // Tampering: a payload claiming another visitor keeps the old signature.
    let (_, signature) = token.split_once('.').unwrap();
    let forged_payload = base64url_encode(br#"{"v":1,"site":"demo","vid":"visitor-9999","iat":1700000000000}"#);
    assert_eq!(refused(check(SECRET, &format!("{forged_payload}.{signature}"), NOW)), ErrorCode::Unauthorized);
    let mut flipped = token.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    assert_eq!(refused(check(SECRET, &String::from_utf8(flipped).unwrap(), NOW)), ErrorCode::Unauthorized);
    for malformed in ["", ".", "abc", "abc.def", &format!("{token}.x"), &format!("{token}x"), &"a".repeat(5000)] {
        assert_eq!(refused(check(SECRET, malformed, NOW)), ErrorCode::Unauthorized, "{malformed}");
    }
    // An operator session signed with the same secret is not a visitor token.
    let session = OperatorSession { session_id: "sess-00000001".into(), operator_id: "op-anna-01".into(), expires_at: NOW + DAY };
    let session_token = issue_operator_session(SECRET, &session).unwrap();
    assert_eq!(refused(check(SECRET, &session_token, NOW)), ErrorCode::Unauthorized);
}

#[test]
fn signed_but_unusable_payloads_are_refused() {
    let sign = |json: &str| {
        let payload = base64url_encode(json.as_bytes());
        let mac = hmac_sha256(SECRET, &[VISITOR_TOKEN_PURPOSE, payload.as_bytes()].concat());
        format!("{payload}.{}", base64url_encode(&mac))
    };
    for json in [
        r#"{"v":2,"site":"demo","vid":"visitor-0001","iat":1700000000000}"#,
        r#"{"v":1,"site":"Demo!","vid":"visitor-0001","iat":1700000000000}"#,
        r#"{"v":1,"site":"demo","vid":"v1","iat":1700000000000}"#,
        r#"{"v":1,"site":"demo","vid":"visitor-0001"}"#,
        r#"{"v":1,"site":"demo","vid":"visitor-0001","iat":1700000000000,"admin":"yes"}"#,
        r#"{"v":1,"site":"demo","site":"other","vid":"visitor-0001","iat":1700000000000}"#,
        r#"{"v":1,"site":"demo","vid":"visitor-0001","iat":1700000000000,"uid":""}"#,
        r#"{"v":1,"site":"demo","vid":"visitor-0001","iat":"1700000000000"}"#,
        r#"{"v":1,"site":"demo","vid":"visitor-0001","iat":1700000000000} trailing"#,
        r#"{"v":1,"site":"demo","vid":"visitor-0001","iat":99999999999999999999999}"#,
        "not json",
    ] {
        assert_eq!(verify_visitor_token(SECRET, &sign(json), NOW, DAY).unwrap_err().code, ErrorCode::Unauthorized, "{json}");
    }
    // Key order and whitespace are not part of the format.
    let reordered = sign(r#" { "iat" : 1700000000000 , "vid":"visitor-0001","site":"demo","v":1 } "#);
    assert!(verify_visitor_token(SECRET, &reordered, NOW, DAY).is_ok());
}

#[test]
fn identity_verification() {
    let identity_secret = b"site identity secret";
    let hash = user_hash(identity_secret, "customer-42");
    assert_eq!(hash, hex(&hmac_sha256(identity_secret, b"customer-42")));
    assert_eq!(hash.len(), 64);
    assert!(verify_user_hash(identity_secret, "customer-42", &hash));
    assert!(verify_user_hash(identity_secret, "customer-42", &hash.to_uppercase()));
    assert!(!verify_user_hash(identity_secret, "customer-43", &hash));
    assert!(!verify_user_hash(b"other secret", "customer-42", &hash));
    assert!(!verify_user_hash(identity_secret, "customer-42", &hash[..63]));
    assert!(!verify_user_hash(b"", "customer-42", &user_hash(b"", "customer-42")));
    assert!(!verify_user_hash(identity_secret, "", &user_hash(identity_secret, "")));

    let anonymous = verify_visitor_token(SECRET, &issue_visitor_token(SECRET, "demo", "visitor-0001", NOW), NOW, DAY).unwrap();
    assert_eq!(identify(anonymous.clone(), identity_secret, "customer-42", "00", NOW).unwrap_err().code, ErrorCode::Unauthorized);
    let known = identify(anonymous, identity_secret, "customer-42", &hash, NOW + 5).unwrap();
    assert_eq!((known.user_id.as_deref(), known.issued_at), (Some("customer-42"), NOW + 5));
    // A user id with characters JSON must escape survives the token.
    let odd = VisitorClaims { user_id: Some("ann\"o\\n\u{1}@example.com/é".into()), ..known };
    assert_eq!(verify_visitor_token(SECRET, &odd.sign(SECRET), NOW + 5, DAY).unwrap(), odd);
}

#[test]
fn conversation_access() {
    let owner = ConversationOwner { site: "demo".into(), visitor_id: "visitor-0001".into(), user_id: Some("customer-42".into()) };
    let claims = |site: &str, vid: &str, uid: Option<&str>| VisitorClaims {
        site: site.into(),
        visitor_id: vid.into(),
        issued_at: NOW,
        user_id: uid.map(Into::into),
    };
    assert!(may_access(&claims("demo", "visitor-0001", None), &owner));
    assert!(may_access(&claims("demo", "phone-0002", Some("customer-42")), &owner), "same person, another device");
    assert!(!may_access(&claims("demo", "phone-0002", Some("customer-43")), &owner));
    assert!(!may_access(&claims("demo", "phone-0002", None), &owner));
    assert!(!may_access(&claims("other", "visitor-0001", None), &owner), "the same visitor id on another site");
    assert!(!may_access(&claims("other", "phone-0002", Some("customer-42")), &owner));
    let anonymous_owner = ConversationOwner { user_id: None, ..owner };
    assert!(!may_access(&claims("demo", "phone-0002", Some("customer-42")), &anonymous_owner));
}

#[test]
fn pbkdf2_matches_rfc_7914_vectors() {
    let mut out = [0u8; 64];
    pbkdf2_hmac_sha256(b"passwd", b"salt", 1, &mut out);
    assert_eq!(
        hex(&out),
        "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc\
         49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
    );
    pbkdf2_hmac_sha256(b"Password", b"NaCl", 80_000, &mut out);
    assert_eq!(
        hex(&out),
        "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56\
         a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"
    );
    // Lengths that are not a multiple of the block size take a prefix of the last block.
    let mut short = [0u8; 20];
    pbkdf2_hmac_sha256(b"passwd", b"salt", 1, &mut short);
    assert_eq!(hex(&short), "55ac046e56e3089fec1691c22544b605f9418521");
}

#[test]
fn passwords() {
    let salt = [7u8; 16];
    let stored = hash_password("correct horse", &salt, 1000);
    assert!(stored.starts_with("pbkdf2-sha256$1000$BwcHBwcHBwcHBwcHBwcHBw==$"), "{stored}");
    assert!(verify_password("correct horse", &stored));
    assert!(!verify_password("correct horsE", &stored));
    assert!(!verify_password("", &stored));
    // Another salt, another hash.
    assert_ne!(hash_password("correct horse", &[8u8; 16], 1000), stored);
    for broken in [
        "",
        "correct horse",
        &stored.replace("pbkdf2-sha256", "pbkdf2-sha1"),
        &stored.replace("$1000$", "$0$"),
        &stored.replace("$1000$", "$99999999999$"),
        &stored.replace("$1000$", "$-1$"),
        &format!("{stored}$extra"),
        &stored[..stored.len() - 4],
        "pbkdf2-sha256$1000$$AAAA",
    ] {
        assert!(!verify_password("correct horse", broken), "{broken}");
    }
    assert!(password_needs_rehash(&stored, DEFAULT_PASSWORD_ITERATIONS));
    assert!(!password_needs_rehash(&stored, 1000));
    assert!(password_needs_rehash("garbage", 1));
}

#[test]
fn default_iterations_fit_the_edge() {
    let stored = hash_password("operator password", &[1u8; 16], DEFAULT_PASSWORD_ITERATIONS);
    assert!(verify_password("operator password", &stored));
    assert!(!password_needs_rehash(&stored, DEFAULT_PASSWORD_ITERATIONS));
}

#[test]
fn operator_sessions() {
    let session = OperatorSession { session_id: "sess-00000001".into(), operator_id: "op-anna-01".into(), expires_at: NOW + DAY };
    assert_eq!(issue_operator_session(SECRET, &OperatorSession { operator_id: "op.anna-01".into(), ..session.clone() }).unwrap_err().code, ErrorCode::InvalidEvent);
    let token = issue_operator_session(SECRET, &session).unwrap();
    assert!(token.starts_with("sess-00000001.op-anna-01.1700086400000."));
    assert_eq!(verify_operator_session(SECRET, &token, NOW).unwrap(), session);
    let refused = |secret: &[u8], token: &str, now: u64| verify_operator_session(secret, token, now).unwrap_err();
    assert_eq!(refused(SECRET, &token, NOW + DAY).message, "session expired");
    assert_eq!(refused(b"wrong", &token, NOW).code, ErrorCode::Unauthorized);
    assert_eq!(refused(b"", &token, NOW).code, ErrorCode::Unauthorized);
    // Extending one's own session, or becoming another operator, breaks the signature.
    let longer = token.replace("1700086400000", "1800086400000");
    assert_eq!(refused(SECRET, &longer, NOW).message, "invalid session");
    let other = token.replace("op-anna-01", "op-boss-01");
    assert_eq!(refused(SECRET, &other, NOW).message, "invalid session");
    for malformed in ["", "a.b", "...", &format!("{token}.")] {
        assert_eq!(refused(SECRET, malformed, NOW).code, ErrorCode::Unauthorized, "{malformed}");
    }
    // A visitor token is not a session.
    assert_eq!(refused(SECRET, &issue_visitor_token(SECRET, "demo", "visitor-0001", NOW), NOW).code, ErrorCode::Unauthorized);
}

#[test]
fn cookies() {
    assert_eq!(
        session_cookie("tok.en", 3600),
        "__Host-fw_op=tok.en; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=3600"
    );
    assert!(clear_session_cookie().starts_with("__Host-fw_op=; ") && clear_session_cookie().ends_with("Max-Age=0"));
    let header = "theme=dark; __Host-fw_op=abc.def; other=1";
    assert_eq!(cookie_value(header, OPERATOR_SESSION_COOKIE), Some("abc.def"));
    assert_eq!(cookie_value(header, "missing"), None);
    assert_eq!(cookie_value("", OPERATOR_SESSION_COOKIE), None);
    assert_eq!(cookie_value("x__Host-fw_op=evil", OPERATOR_SESSION_COOKIE), None);
}

proptest! {
    #[test]
    fn any_claims_round_trip(
        site in "[a-z0-9]{1,20}",
        vid in "[A-Za-z0-9_-]{8,64}",
        iat in 0..u64::MAX / 2,
        uid in proptest::option::of("\\PC{1,40}"),
    ) {
        let claims = VisitorClaims { site, visitor_id: vid, issued_at: iat, user_id: uid };
        prop_assert_eq!(verify_visitor_token(SECRET, &claims.sign(SECRET), iat, 0).unwrap(), claims);
    }

    #[test]
    fn garbage_never_verifies(token in "\\PC{0,200}") {
        prop_assert!(verify_visitor_token(SECRET, &token, NOW, DAY).is_err());
        prop_assert!(verify_operator_session(SECRET, &token, NOW).is_err());
    }
}

/// A login for an unknown email does the work of one password check of the default strength,
/// no more (the old dummy hashed and then verified: twice the work, so slow it told unknown
/// emails apart) and no less.
#[test]
fn login_checks_do_the_same_work_for_unknown_emails() {
    let stored = hash_password("operator password", &[7; 16], DEFAULT_PASSWORD_ITERATIONS);
    assert_eq!(login_work(None), login_work(Some(&stored)));
    assert_eq!(login_work(Some("not a stored hash")), DEFAULT_PASSWORD_ITERATIONS);
    assert!(verify_login("operator password", Some(&stored)));
    assert!(!verify_login("operator passworD", Some(&stored)));
    assert!(!verify_login("operator password", None));
    assert!(!verify_login("", Some("pbkdf2-sha256$1$AAAA$")));
}
