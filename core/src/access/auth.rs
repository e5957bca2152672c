//! Credential checks shared by every adapter: signed visitor tokens, identity verification
//! (`user_hash`), operator passwords and operator sessions.
//!
//! Every MAC covers a purpose label as well as the content, so one secret may sign several kinds of
//! token without a visitor token ever passing for an operator session.

use crate::base::crypto::{
    base64_decode, base64_encode, base64url_decode, base64url_encode, constant_time_eq, hmac_sha256,
};
use crate::base::error::{ApiError, ErrorCode};
use crate::base::ids::{client_id_from_bytes, validate_client_id, validate_site_id};
use crate::chat::conversation::ConversationOwner;

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, message)
}

// ---- Visitor tokens ----

/// How far in the future a token's `iat` may be (clock skew between worker instances).
pub const CLOCK_SKEW_MS: u64 = 60_000;
/// Longest user id accepted from a site (an email, a CRM id, a UUID).
pub const MAX_USER_ID_LEN: usize = 256;
const MAX_TOKEN_LEN: usize = 2048;
const VISITOR_TOKEN_PURPOSE: &[u8] = b"fw-visitor-v1.";
const TOKEN_VERSION: u64 = 1;

/// What a visitor token vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorClaims {
    pub site: String,
    pub visitor_id: String,
    /// Milliseconds since the Unix epoch.
    pub issued_at: u64,
    /// The site's own id for this person, present only after [`verify_user_hash`] succeeded, so it
    /// can be trusted to open the same person's conversations on another device.
    pub user_id: Option<String>,
}

impl VisitorClaims {
    /// `base64url(payload JSON) "." base64url(HMAC-SHA256)`.
    pub fn sign(&self, secret: &[u8]) -> String {
        let mut json = format!(
            r#"{{"v":{TOKEN_VERSION},"site":{},"vid":{},"iat":{}"#,
            json_string(&self.site),
            json_string(&self.visitor_id),
            self.issued_at
        );
        if let Some(user_id) = &self.user_id {
            json.push_str(&format!(r#","uid":{}"#, json_string(user_id)));
        }
        json.push('}');
        let payload = base64url_encode(json.as_bytes());
        let mac = hmac_sha256(secret, &[VISITOR_TOKEN_PURPOSE, payload.as_bytes()].concat());
        format!("{payload}.{}", base64url_encode(&mac))
    }
}

/// A token for an anonymous visitor.
pub fn issue_visitor_token(secret: &[u8], site: &str, visitor_id: &str, issued_at: u64) -> String {
    VisitorClaims { site: site.to_owned(), visitor_id: visitor_id.to_owned(), issued_at, user_id: None }.sign(secret)
}

/// Checks signature, shape and age. Every failure is the same `unauthorized` code; the message
/// only separates "expired" (the widget fetches a new token) from everything else.
pub fn verify_visitor_token(secret: &[u8], token: &str, now: u64, max_age_ms: u64) -> Result<VisitorClaims, ApiError> {
    let invalid = || unauthorized("invalid visitor token");
    // An empty secret would make every token forgeable; fail closed on a misconfigured worker.
    if secret.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(invalid());
    }
    let (payload, signature) = token.split_once('.').ok_or_else(invalid)?;
    let signature = base64url_decode(signature).ok_or_else(invalid)?;
    let expected = hmac_sha256(secret, &[VISITOR_TOKEN_PURPOSE, payload.as_bytes()].concat());
    if !constant_time_eq(&signature, &expected) {
        return Err(invalid());
    }
    // From here on the payload is ours: parse failures mean a bug or a rotated format, not an attack.
    let json = base64url_decode(payload).and_then(|bytes| String::from_utf8(bytes).ok()).ok_or_else(invalid)?;
    let fields = parse_flat_json(&json).ok_or_else(invalid)?;
    let (mut v, mut site, mut vid, mut iat, mut uid) = (None, None, None, None, None);
    for (key, value) in fields {
        let slot_taken = match (key.as_str(), value) {
            ("v", Json::Number(n)) => v.replace(n).is_some(),
            ("site", Json::String(s)) => site.replace(s).is_some(),
            ("vid", Json::String(s)) => vid.replace(s).is_some(),
            ("iat", Json::Number(n)) => iat.replace(n).is_some(),
            ("uid", Json::String(s)) => uid.replace(s).is_some(),
            _ => return Err(invalid()),
        };
        if slot_taken {
            return Err(invalid());
        }
    }
    let (Some(TOKEN_VERSION), Some(site), Some(visitor_id), Some(issued_at)) = (v, site, vid, iat) else {
        return Err(invalid());
    };
    validate_site_id(&site).map_err(|_| invalid())?;
    validate_client_id("visitor", &visitor_id).map_err(|_| invalid())?;
    if uid.as_ref().is_some_and(|u| u.is_empty() || u.chars().count() > MAX_USER_ID_LEN) {
        return Err(invalid());
    }
    if issued_at > now.saturating_add(CLOCK_SKEW_MS) {
        return Err(invalid());
    }
    if now.saturating_sub(issued_at) > max_age_ms {
        return Err(unauthorized("visitor token expired"));
    }
    Ok(VisitorClaims { site, visitor_id, issued_at, user_id: uid })
}

/// Whether the bearer of `claims` may read and write the conversation `owner` owns: the same site,
/// and the same browser or the same verified person.
pub fn may_access(claims: &VisitorClaims, owner: &ConversationOwner) -> bool {
    let same_person = match (&claims.user_id, &owner.user_id) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    };
    claims.site == owner.site && (claims.visitor_id == owner.visitor_id || same_person)
}

// ---- Identity verification ----

/// `hex(HMAC-SHA256(identity_secret, user_id))`, what the site's backend computes and puts on the
/// page next to the user id (Intercom's `user_hash`).
pub fn user_hash(identity_secret: &[u8], user_id: &str) -> String {
    client_id_from_bytes(&hmac_sha256(identity_secret, user_id.as_bytes()))
}

/// Checks a page's `user_hash` for `user_id` (hex in either case), in constant time.
pub fn verify_user_hash(identity_secret: &[u8], user_id: &str, hash: &str) -> bool {
    !identity_secret.is_empty()
        && !user_id.is_empty()
        && user_id.chars().count() <= MAX_USER_ID_LEN
        && constant_time_eq(user_hash(identity_secret, user_id).as_bytes(), hash.to_ascii_lowercase().as_bytes())
}

/// The claims for the next token once the page proved who the visitor is.
pub fn identify(claims: VisitorClaims, identity_secret: &[u8], user_id: &str, hash: &str, now: u64) -> Result<VisitorClaims, ApiError> {
    if !verify_user_hash(identity_secret, user_id, hash) {
        return Err(unauthorized("user_hash does not match user_id"));
    }
    Ok(VisitorClaims { user_id: Some(user_id.to_owned()), issued_at: now, ..claims })
}

// ---- Operator passwords ----

/// PBKDF2 iterations for new operator passwords. 100 000 is the most Cloudflare's WebCrypto
/// `deriveBits` accepts in production (workerd#1346; `wrangler dev` does not enforce it), so
/// hashes stored now can also be checked natively. It is below OWASP's 600 000 for SHA-256: that
/// is the price of the platform. [`pbkdf2_hmac_sha256`] re-keys HMAC every iteration (four SHA-256
/// compressions each, 400 000 in all), an estimated tens to hundreds of ms of wasm CPU (not
/// measured on workerd): fine for a login on a paid plan, too much for the free plan's 10 ms, where
/// the edge should use WebCrypto for the same computation. The stored string records the count,
/// so it can rise later ([`password_needs_rehash`]).
pub const DEFAULT_PASSWORD_ITERATIONS: u32 = 100_000;
const _: () = assert!(DEFAULT_PASSWORD_ITERATIONS <= 100_000, "Workers' WebCrypto PBKDF2 refuses more");
/// Refuses stored hashes that would take minutes to check (a corrupted or planted row).
pub const MAX_PASSWORD_ITERATIONS: u32 = 10_000_000;
const PASSWORD_SCHEME: &str = "pbkdf2-sha256";

/// PBKDF2 (RFC 8018) with HMAC-SHA256, filling `out`. An iteration count of 0 counts as 1.
pub fn pbkdf2_hmac_sha256(password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
    for (index, chunk) in out.chunks_mut(32).enumerate() {
        let block = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let mut u = hmac_sha256(password, &[salt, &block.to_be_bytes()].concat());
        let mut t = u;
        for _ in 1..iterations.max(1) {
            u = hmac_sha256(password, &u);
            t.iter_mut().zip(u).for_each(|(t, u)| *t ^= u);
        }
        chunk.copy_from_slice(&t[..chunk.len()]);
    }
}

/// `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`. The salt must be random (core has no RNG).
pub fn hash_password(password: &str, salt: &[u8; 16], iterations: u32) -> String {
    let iterations = iterations.clamp(1, MAX_PASSWORD_ITERATIONS);
    let mut hash = [0u8; 32];
    pbkdf2_hmac_sha256(password.as_bytes(), salt, iterations, &mut hash);
    format!("{PASSWORD_SCHEME}${iterations}${}${}", base64_encode(salt), base64_encode(&hash))
}

struct StoredPassword {
    iterations: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

fn parse_stored_password(stored: &str) -> Option<StoredPassword> {
    let mut parts = stored.split('$');
    let (scheme, iterations, salt, hash) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if scheme != PASSWORD_SCHEME || parts.next().is_some() {
        return None;
    }
    let iterations: u32 = iterations.parse().ok().filter(|n| (1..=MAX_PASSWORD_ITERATIONS).contains(n))?;
    let salt = base64_decode(salt).filter(|s| !s.is_empty())?;
    let hash = base64_decode(hash).filter(|h| h.len() == 32)?;
    Some(StoredPassword { iterations, salt, hash })
}

/// Whether `password` matches the stored string; a malformed stored string matches nothing.
pub fn verify_password(password: &str, stored: &str) -> bool {
    parse_stored_password(stored).is_some() && verify_login(password, Some(stored))
}

/// A login's password check, doing the same work whether or not the email has an account: with no
/// stored hash (an unknown email, a disabled account) or an unreadable one, the password is hashed
/// once with [`DEFAULT_PASSWORD_ITERATIONS`] against a fixed salt and the result thrown away, which
/// costs what checking a stored hash of the default strength costs. (Hashing a dummy password and
/// then verifying against it would cost twice as much, and tell unknown emails apart by being slow.)
pub fn verify_login(password: &str, stored: Option<&str>) -> bool {
    match stored.and_then(parse_stored_password) {
        Some(stored) => {
            let mut hash = [0u8; 32];
            pbkdf2_hmac_sha256(password.as_bytes(), &stored.salt, stored.iterations, &mut hash);
            constant_time_eq(&hash, &stored.hash)
        }
        None => {
            let mut wasted = [0u8; 32];
            pbkdf2_hmac_sha256(password.as_bytes(), &[0u8; 16], login_work(None), &mut wasted);
            // Read the result so the computation is not optimised away.
            std::hint::black_box(wasted);
            false
        }
    }
}

/// The PBKDF2 iterations [`verify_login`] runs for `stored` (what a timing test compares).
pub fn login_work(stored: Option<&str>) -> u32 {
    stored.and_then(parse_stored_password).map_or(DEFAULT_PASSWORD_ITERATIONS, |s| s.iterations)
}

/// Whether a stored hash is weaker than `iterations` (or unreadable): re-hash after the next
/// successful login, while the plain password is at hand.
pub fn password_needs_rehash(stored: &str, iterations: u32) -> bool {
    parse_stored_password(stored).is_none_or(|s| s.iterations < iterations)
}

// ---- Operator sessions ----

/// The session cookie's name. `__Host-` makes browsers refuse it unless it is Secure, has Path=/
/// and no Domain, so a sibling subdomain cannot plant or read it.
pub const OPERATOR_SESSION_COOKIE: &str = "__Host-fw_op";
const OPERATOR_SESSION_PURPOSE: &[u8] = b"fw-operator-session-v1.";

/// A verified operator session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorSession {
    /// Random, from the caller; the key of the session row, so a logout can revoke it.
    pub session_id: String,
    pub operator_id: String,
    /// Milliseconds since the Unix epoch.
    pub expires_at: u64,
}

/// `<session_id>.<operator_id>.<expires_at>.<base64url HMAC>`. Ids follow the client-id rules
/// (`[A-Za-z0-9_-]`), which is what keeps `.` an unambiguous separator.
pub fn issue_operator_session(secret: &[u8], session: &OperatorSession) -> Result<String, ApiError> {
    validate_client_id("session_id", &session.session_id)?;
    validate_client_id("operator_id", &session.operator_id)?;
    let body = format!("{}.{}.{}", session.session_id, session.operator_id, session.expires_at);
    let mac = hmac_sha256(secret, &[OPERATOR_SESSION_PURPOSE, body.as_bytes()].concat());
    Ok(format!("{body}.{}", base64url_encode(&mac)))
}

/// Checks signature and expiry. The caller still checks the session row is not revoked.
pub fn verify_operator_session(secret: &[u8], token: &str, now: u64) -> Result<OperatorSession, ApiError> {
    let invalid = || unauthorized("invalid session");
    if secret.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(invalid());
    }
    let (body, signature) = token.rsplit_once('.').ok_or_else(invalid)?;
    let signature = base64url_decode(signature).ok_or_else(invalid)?;
    let expected = hmac_sha256(secret, &[OPERATOR_SESSION_PURPOSE, body.as_bytes()].concat());
    if !constant_time_eq(&signature, &expected) {
        return Err(invalid());
    }
    let mut parts = body.split('.');
    let (Some(session_id), Some(operator_id), Some(expires_at), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let expires_at: u64 = expires_at.parse().map_err(|_| invalid())?;
    if now >= expires_at {
        return Err(unauthorized("session expired"));
    }
    Ok(OperatorSession { session_id: session_id.to_owned(), operator_id: operator_id.to_owned(), expires_at })
}

/// A `Set-Cookie` value for an operator session: not readable by scripts, HTTPS only, never sent
/// on cross-site requests (the console is same-origin with the API).
pub fn session_cookie(token: &str, max_age_secs: u64) -> String {
    format!("{OPERATOR_SESSION_COOKIE}={token}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={max_age_secs}")
}

/// The `Set-Cookie` value that logs out.
pub fn clear_session_cookie() -> String {
    session_cookie("", 0)
}

/// The value of cookie `name` in a `Cookie` request header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').filter_map(|pair| pair.trim().split_once('=')).find(|(key, _)| *key == name).map(|(_, value)| value)
}

// ---- The little JSON the tokens need (core has no JSON library at run time) ----

fn json_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

enum Json {
    String(String),
    Number(u64),
}

/// Parses one flat object of string and unsigned-integer values, which is all a token payload is.
/// Anything else (nesting, floats, surrogate escapes, trailing bytes) is `None`.
fn parse_flat_json(text: &str) -> Option<Vec<(String, Json)>> {
    let mut chars = text.chars().peekable();
    let mut fields = Vec::new();
    if next_token(&mut chars)? != '{' {
        return None;
    }
    skip_whitespace(&mut chars);
    if chars.peek() == Some(&'}') {
        chars.next();
    } else {
        loop {
            skip_whitespace(&mut chars);
            let key = parse_json_string(&mut chars)?;
            if next_token(&mut chars)? != ':' {
                return None;
            }
            skip_whitespace(&mut chars);
            let value = match chars.peek()? {
                '"' => Json::String(parse_json_string(&mut chars)?),
                '0'..='9' => {
                    let mut n: u64 = 0;
                    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                        n = n.checked_mul(10)?.checked_add(u64::from(d))?;
                        chars.next();
                    }
                    Json::Number(n)
                }
                _ => return None,
            };
            fields.push((key, value));
            match next_token(&mut chars)? {
                ',' => continue,
                '}' => break,
                _ => return None,
            }
        }
    }
    skip_whitespace(&mut chars);
    chars.next().is_none().then_some(fields)
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn skip_whitespace(chars: &mut Chars<'_>) {
    while chars.next_if(|c| matches!(c, ' ' | '\t' | '\n' | '\r')).is_some() {}
}

fn next_token(chars: &mut Chars<'_>) -> Option<char> {
    skip_whitespace(chars);
    chars.next()
}

fn parse_json_string(chars: &mut Chars<'_>) -> Option<String> {
    if chars.next()? != '"' {
        return None;
    }
    let mut out = String::new();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => out.push(match chars.next()? {
                '"' => '"',
                '\\' => '\\',
                '/' => '/',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'b' => '\u{8}',
                'f' => '\u{c}',
                'u' => {
                    let hex: String = (0..4).map(|_| chars.next()).collect::<Option<String>>()?;
                    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return None;
                    }
                    char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
                }
                _ => return None,
            }),
            c if u32::from(c) < 0x20 => return None,
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests;
