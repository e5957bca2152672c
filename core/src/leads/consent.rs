//! Consent scoped to one purpose: a contact given for "email me this comparison" is used for that
//! email and nothing else. Marketing is its own purpose, off unless the visitor separately said yes
//! (in the widget or through the signed one-click link in the promised email).

use serde::{Deserialize, Serialize};

use crate::base::crypto::{base64url_decode, seal, unseal};
use crate::base::error::{ApiError, ErrorCode};
use crate::base::ids::validate_site_id;
use crate::base::locale::Locale;
use crate::base::text::check_len;

/// Longest consent text kept (the exact wording the visitor saw, links included).
pub const MAX_CONSENT_TEXT_LEN: usize = 2000;
pub const MAX_TEXT_VERSION_LEN: usize = 32;
/// How long a link in an email keeps working: people find old emails.
pub const LINK_TTL_MS: u64 = 365 * 24 * 60 * 60 * 1000;
/// Clock difference tolerated between the signer and the verifier.
const LINK_CLOCK_SKEW_MS: u64 = 5 * 60 * 1000;
/// Signing keys shorter than this are configuration mistakes, not secrets.
pub const MIN_LINK_SECRET_LEN: usize = 32;
/// A token is far shorter; anything longer is refused before any work is done on it.
const MAX_TOKEN_LEN: usize = 512;
/// Keeps these MACs from ever being valid for another token type signed with the same key.
const LINK_DOMAIN: &[u8] = b"floorwalker.consent-link.v1\n";

/// What a contact may be used for. One lead carries consent for exactly one of these (plus
/// `marketing` only if given separately).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ConsentPurpose {
    /// The one email with the products the visitor compared.
    ComparisonEmail,
    /// One call back to the number given.
    Callback,
    /// One reply to the question the visitor answered (an addition to the original purpose list:
    /// the question prompt makes its own promise, "we'll email you picks for your answer").
    QuestionAnswer,
    /// A reply to a message left while no operator was online.
    OfflineMessage,
    /// A copy of the chat, and follow-up on it.
    ChatTranscript,
    /// "Send me more like this": newsletters and offers. Never implied.
    Marketing,
}

impl ConsentPurpose {
    /// The wire name (`comparison_email`), as in the lead's JSON and the owner's CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentPurpose::ComparisonEmail => "comparison_email",
            ConsentPurpose::Callback => "callback",
            ConsentPurpose::QuestionAnswer => "question_answer",
            ConsentPurpose::OfflineMessage => "offline_message",
            ConsentPurpose::ChatTranscript => "chat_transcript",
            ConsentPurpose::Marketing => "marketing",
        }
    }
}

/// The consent as the widget submits it: what the visitor agreed to, in the words they saw.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConsentText {
    pub purpose: ConsentPurpose,
    /// The exact text shown next to the checkbox or button.
    pub text: String,
    /// The copy's version in the site config, so the wording can be traced even if the text is edited.
    pub text_version: String,
}

impl ConsentText {
    pub fn validate(&self, field: &str) -> Result<(), ApiError> {
        if self.text.trim().is_empty() || self.text_version.trim().is_empty() {
            return Err(ApiError::new(
                ErrorCode::InvalidConsent,
                format!("{field}: the consent text and its version are required"),
            ));
        }
        check_len(&format!("{field}.text"), &self.text, MAX_CONSENT_TEXT_LEN)?;
        check_len(&format!("{field}.text_version"), &self.text_version, MAX_TEXT_VERSION_LEN)
    }
}

/// A consent as stored with the lead and forwarded to the CRM: the visitor's words plus when,
/// where and in which language they gave it (the server's clock, not the visitor's).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    #[serde(flatten)]
    pub given: ConsentText,
    pub locale: Locale,
    /// Milliseconds since the Unix epoch.
    pub granted_at: u64,
    pub page_url: String,
}

/// What a one-click link in the promised email does.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LinkAction {
    /// "Send me more like this": grants `marketing`.
    MarketingOptIn,
    /// Withdraws `marketing`. The promised email itself is one-off, so marketing is all that is
    /// left to withdraw; the worker also suppresses the address for the site.
    Unsubscribe,
}

impl LinkAction {
    fn as_str(self) -> &'static str {
        match self {
            LinkAction::MarketingOptIn => "marketing_opt_in",
            LinkAction::Unsubscribe => "unsubscribe",
        }
    }

    fn parse(text: &str) -> Option<LinkAction> {
        [LinkAction::MarketingOptIn, LinkAction::Unsubscribe].into_iter().find(|a| a.as_str() == text)
    }
}

/// What a signed link says.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct LinkClaims {
    pub site: String,
    pub lead: String,
    pub action: LinkAction,
    /// Milliseconds since the Unix epoch.
    pub issued_at: u64,
}

impl LinkClaims {
    /// `site|lead|action|issued_at`: site and lead ids never contain `|`, so this is unambiguous
    /// and needs no JSON encoder in core.
    fn payload(&self) -> String {
        format!("{}|{}|{}|{}", self.site, self.lead, self.action.as_str(), self.issued_at)
    }

    fn parse(payload: &str) -> Option<LinkClaims> {
        let mut parts = payload.split('|');
        let claims = LinkClaims {
            site: parts.next()?.to_owned(),
            lead: parts.next()?.to_owned(),
            action: LinkAction::parse(parts.next()?)?,
            issued_at: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(claims)
    }
}

/// Every signed link's secret (`LINK_SECRET`) is at least [`MIN_LINK_SECRET_LEN`] bytes: a short
/// one fails closed, with the deployment to blame.
pub fn check_link_secret(secret: &[u8]) -> Result<(), ApiError> {
    if secret.len() < MIN_LINK_SECRET_LEN {
        // The server's configuration is wrong; nothing the visitor did.
        return Err(ApiError::new(ErrorCode::Internal, "link signing secret is too short"));
    }
    Ok(())
}

/// Signs a one-click link token: `base64url(payload).base64url(HMAC-SHA256(secret, payload))`.
pub fn sign_link(secret: &[u8], claims: &LinkClaims) -> Result<String, ApiError> {
    check_link_secret(secret)?;
    validate_site_id(&claims.site)?;
    if claims.lead.is_empty() || claims.lead.contains('|') || claims.lead.len() > 64 {
        return Err(ApiError::new(ErrorCode::InvalidLead, "lead id cannot be put in a link"));
    }
    Ok(seal(secret, LINK_DOMAIN, claims.payload().as_bytes()))
}

/// Checks a token from a link: genuine (constant-time MAC compare), for `site`, and not expired.
pub fn verify_link(secret: &[u8], site: &str, token: &str, now_ms: u64) -> Result<LinkClaims, ApiError> {
    check_link_secret(secret)?;
    let invalid = || ApiError::new(ErrorCode::InvalidToken, "the link is not valid");
    let payload = unseal(secret, LINK_DOMAIN, token, MAX_TOKEN_LEN).ok_or_else(invalid)?;
    let claims = std::str::from_utf8(&payload).ok().and_then(LinkClaims::parse).ok_or_else(invalid)?;
    if claims.site != site || claims.issued_at > now_ms.saturating_add(LINK_CLOCK_SKEW_MS) {
        return Err(invalid());
    }
    if now_ms.saturating_sub(claims.issued_at) > LINK_TTL_MS {
        return Err(ApiError::new(ErrorCode::TokenExpired, "the link has expired"));
    }
    Ok(claims)
}

/// The site a token claims to be for, read WITHOUT verifying it: only to find which site's config
/// to load before [`verify_link`] checks the token for that site.
pub fn claimed_site(token: &str) -> Option<String> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let payload = base64url_decode(token.split_once('.')?.0)?;
    let claims = LinkClaims::parse(std::str::from_utf8(&payload).ok()?)?;
    validate_site_id(&claims.site).ok()?;
    Some(claims.site)
}

/// The id of a consent change, stable for "this lead's purpose moved to `granted` after `prior`
/// earlier changes": two clicks racing on the same link record one change, not two.
pub fn change_id(lead: &str, purpose: ConsentPurpose, granted: bool, prior: usize) -> String {
    let digest = crate::base::crypto::sha256(format!("floorwalker.consent\n{lead}\n{purpose:?}\n{granted}\n{prior}").as_bytes());
    format!("cns_{}", crate::base::ids::client_id_from_bytes(&digest[..12]))
}

/// Where a consent change came from.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ConsentSource {
    Widget,
    EmailLink,
    /// An operator recorded it on the visitor's request (e.g. asked by phone to stop).
    Operator,
}

/// The `data` of a `consent.updated` webhook, and the row the worker appends to the consent log.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ConsentUpdated {
    pub site: String,
    pub lead: String,
    pub purpose: ConsentPurpose,
    pub granted: bool,
    pub source: ConsentSource,
    /// Milliseconds since the Unix epoch.
    pub at: u64,
    /// The wording agreed to, for grants; withdrawals need no wording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<ConsentRecord>,
}

impl ConsentUpdated {
    /// The change a verified link asks for. `link_text` is the link's wording in the email (for an
    /// opt-in, that wording is what the visitor agreed to).
    pub fn from_link(claims: &LinkClaims, link_text: ConsentText, locale: Locale, page_url: &str, now_ms: u64) -> Self {
        let granted = claims.action == LinkAction::MarketingOptIn;
        ConsentUpdated {
            site: claims.site.clone(),
            lead: claims.lead.clone(),
            purpose: ConsentPurpose::Marketing,
            granted,
            source: ConsentSource::EmailLink,
            at: now_ms,
            record: granted.then(|| ConsentRecord {
                given: ConsentText { purpose: ConsentPurpose::Marketing, ..link_text },
                locale,
                granted_at: now_ms,
                page_url: page_url.to_owned(),
            }),
        }
    }
}

/// Whether `purpose` is currently granted, given the consent from the lead form (if any) and the
/// later changes for that lead in any order: the latest change wins, ties go to withdrawal.
pub fn is_granted(purpose: ConsentPurpose, initial: Option<&ConsentRecord>, changes: &[ConsentUpdated]) -> bool {
    let initial = initial.filter(|r| r.given.purpose == purpose).map(|r| (r.granted_at, true));
    changes
        .iter()
        .filter(|c| c.purpose == purpose)
        .map(|c| (c.at, c.granted))
        .chain(initial)
        // `false < true`, so at equal times a withdrawal sorts last and wins.
        .max_by_key(|&(at, granted)| (at, !granted))
        .is_some_and(|(_, granted)| granted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::crypto::base64url_encode;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: u64 = 1_790_000_000_000;

    fn claims(action: LinkAction) -> LinkClaims {
        LinkClaims { site: "demo".into(), lead: "lead_0123456789abcdef".into(), action, issued_at: NOW }
    }

    #[test]
    fn link_round_trip() {
        for action in [LinkAction::MarketingOptIn, LinkAction::Unsubscribe] {
            let token = sign_link(SECRET, &claims(action)).unwrap();
            assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'), "{token}");
            assert_eq!(verify_link(SECRET, "demo", &token, NOW + 1000).unwrap(), claims(action));
        }
    }

    #[test]
    fn tampered_tokens_are_refused() {
        let token = sign_link(SECRET, &claims(LinkAction::Unsubscribe)).unwrap();
        let (payload, mac) = token.split_once('.').unwrap();
        let forged_payload = base64url_encode(b"demo|lead_0123456789abcdef|marketing_opt_in|1790000000000");
        let other_lead = base64url_encode(b"demo|lead_someone_else|unsubscribe|1790000000000");
        let mut flipped = mac.to_owned().into_bytes();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        for bad in [
            format!("{forged_payload}.{mac}"),
            format!("{other_lead}.{mac}"),
            format!("{payload}.{flipped}"),
            format!("{payload}.{}", &mac[..mac.len() - 2]),
            format!("{payload}."),
            format!(".{mac}"),
            payload.to_owned(),
            format!("{payload}.{mac}.extra"),
            format!("{payload}!.{mac}"),
            String::new(),
            "x".repeat(600),
        ] {
            let err = verify_link(SECRET, "demo", &bad, NOW).expect_err(&bad);
            assert_eq!(err.code, ErrorCode::InvalidToken, "{bad}");
        }
    }

    #[test]
    fn wrong_secret_or_site_is_refused() {
        let token = sign_link(SECRET, &claims(LinkAction::MarketingOptIn)).unwrap();
        let other = b"fedcba9876543210fedcba9876543210";
        assert_eq!(verify_link(other, "demo", &token, NOW).unwrap_err().code, ErrorCode::InvalidToken);
        assert_eq!(verify_link(SECRET, "other-shop", &token, NOW).unwrap_err().code, ErrorCode::InvalidToken);
        assert_eq!(sign_link(b"short", &claims(LinkAction::Unsubscribe)).unwrap_err().code, ErrorCode::Internal);
        assert_eq!(verify_link(b"short", "demo", &token, NOW).unwrap_err().code, ErrorCode::Internal);
    }

    #[test]
    fn expiry_and_future_tokens() {
        let token = sign_link(SECRET, &claims(LinkAction::Unsubscribe)).unwrap();
        assert!(verify_link(SECRET, "demo", &token, NOW + LINK_TTL_MS).is_ok());
        assert_eq!(verify_link(SECRET, "demo", &token, NOW + LINK_TTL_MS + 1).unwrap_err().code, ErrorCode::TokenExpired);
        // A little clock skew is fine; a token from the far future was not signed by us honestly.
        assert!(verify_link(SECRET, "demo", &token, NOW - 60_000).is_ok());
        assert_eq!(verify_link(SECRET, "demo", &token, NOW - 3_600_000).unwrap_err().code, ErrorCode::InvalidToken);
    }

    #[test]
    fn ids_that_would_break_the_payload_are_not_signed() {
        let mut bad = claims(LinkAction::Unsubscribe);
        bad.lead = "a|b".into();
        assert!(sign_link(SECRET, &bad).is_err());
        bad.lead = "lead_1".into();
        bad.site = "Bad Site".into();
        assert!(sign_link(SECRET, &bad).is_err());
    }

    fn record(purpose: ConsentPurpose, at: u64) -> ConsentRecord {
        ConsentRecord {
            given: ConsentText { purpose, text: "Пришлите мне сравнение".into(), text_version: "v3".into() },
            locale: Locale::Ru,
            granted_at: at,
            page_url: "https://shop.example/p/1".into(),
        }
    }

    fn link_text() -> ConsentText {
        ConsentText { purpose: ConsentPurpose::Marketing, text: "Присылайте ещё похожее".into(), text_version: "email-v1".into() }
    }

    #[test]
    fn marketing_is_off_unless_given() {
        let comparison = record(ConsentPurpose::ComparisonEmail, NOW);
        assert!(is_granted(ConsentPurpose::ComparisonEmail, Some(&comparison), &[]));
        assert!(!is_granted(ConsentPurpose::Marketing, Some(&comparison), &[]));
        assert!(!is_granted(ConsentPurpose::Callback, Some(&comparison), &[]));
        assert!(!is_granted(ConsentPurpose::Marketing, None, &[]));
    }

    #[test]
    fn latest_change_wins() {
        let opt_in = ConsentUpdated::from_link(&claims(LinkAction::MarketingOptIn), link_text(), Locale::Ru, "https://shop.example/", NOW + 10);
        let unsubscribe = ConsentUpdated::from_link(&claims(LinkAction::Unsubscribe), link_text(), Locale::Ru, "https://shop.example/", NOW + 20);
        assert!(opt_in.granted && opt_in.record.is_some());
        assert!(!unsubscribe.granted && unsubscribe.record.is_none());
        assert_eq!(unsubscribe.purpose, ConsentPurpose::Marketing);
        assert!(is_granted(ConsentPurpose::Marketing, None, std::slice::from_ref(&opt_in)));
        assert!(!is_granted(ConsentPurpose::Marketing, None, &[unsubscribe.clone(), opt_in.clone()]));
        let tie = ConsentUpdated { at: opt_in.at, ..unsubscribe };
        assert!(!is_granted(ConsentPurpose::Marketing, None, &[opt_in, tie]));
    }

    #[test]
    fn consent_updated_wire_shape() {
        let update = ConsentUpdated::from_link(&claims(LinkAction::MarketingOptIn), link_text(), Locale::En, "https://shop.example/", NOW);
        let json = serde_json::to_value(&update).unwrap();
        assert_eq!(json["purpose"], "marketing");
        assert_eq!(json["source"], "email_link");
        assert_eq!(json["record"]["text"], "Присылайте ещё похожее");
        assert_eq!(json["record"]["text_version"], "email-v1");
        assert_eq!(json["record"]["locale"], "en");
        let back: ConsentUpdated = serde_json::from_value(json).unwrap();
        assert_eq!(back, update);
    }

    #[test]
    fn claimed_site_peeks_without_trusting() {
        let token = sign_link(SECRET, &claims(LinkAction::Unsubscribe)).unwrap();
        assert_eq!(claimed_site(&token).as_deref(), Some("demo"));
        assert_eq!(claimed_site("garbage"), None);
        assert_eq!(claimed_site(&format!("{}.x", base64url_encode(b"Bad Site|l|unsubscribe|1"))), None);
        let a = change_id("lead_1", ConsentPurpose::Marketing, true, 0);
        assert_eq!(a, change_id("lead_1", ConsentPurpose::Marketing, true, 0));
        assert_ne!(a, change_id("lead_1", ConsentPurpose::Marketing, true, 1));
        assert_ne!(a, change_id("lead_1", ConsentPurpose::Marketing, false, 0));
    }

    #[test]
    fn consent_text_validation() {
        assert!(link_text().validate("consent").is_ok());
        let empty = ConsentText { text: "  ".into(), ..link_text() };
        assert_eq!(empty.validate("consent").unwrap_err().code, ErrorCode::InvalidConsent);
        let long = ConsentText { text: "a".repeat(MAX_CONSENT_TEXT_LEN + 1), ..link_text() };
        assert_eq!(long.validate("consent").unwrap_err().code, ErrorCode::FieldTooLong);
        let version = ConsentText { text_version: "v".repeat(33), ..link_text() };
        assert_eq!(version.validate("consent").unwrap_err().code, ErrorCode::FieldTooLong);
    }
}
