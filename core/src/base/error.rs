//! The error shape every HTTP endpoint returns, so that clients (widget, console, CRMs) can branch
//! on a stable machine code and show the message to a person.

use serde::{Deserialize, Serialize};

/// A stable, machine-readable error code. Serialised in `snake_case`.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidJson,
    InvalidSite,
    InvalidEvent,
    InvalidConfig,
    UnsupportedVersion,
    PayloadTooLarge,
    UnknownSite,
    OriginNotAllowed,
    Unauthorized,
    NotFound,
    MethodNotAllowed,
    UnsupportedMediaType,
    RateLimited,
    /// A chat frame that is not valid JSON, has an unknown `type`, or breaks a field rule.
    BadFrame,
    /// A chat message longer than `chat::protocol::MAX_MESSAGE_CHARS` after normalisation.
    MessageTooLong,
    /// A chat message with nothing left after trimming and stripping control characters.
    EmptyMessage,
    /// Authenticated, but this party may not do that (a visitor closing a conversation).
    Forbidden,
    /// The conversation was closed; the widget starts a new one instead.
    ConversationClosed,
    /// An email address that is not a deliverable-looking `local@domain.tld`.
    InvalidEmail,
    /// A phone number that cannot be normalised to E.164.
    InvalidPhone,
    /// A text field longer than its limit.
    FieldTooLong,
    /// A field the kind of form requires is absent or empty.
    MissingField,
    /// Text with control or direction-override characters.
    InvalidText,
    /// A lead request that is malformed beyond a single field (ids, kinds, fields the form never collects).
    InvalidLead,
    /// Consent absent, for another purpose than the form's promise, or marketing not given separately.
    InvalidConsent,
    /// The honeypot field was filled: a bot, refused without storing anything.
    SpamSuspected,
    /// Submitted faster than a person can fill the form.
    SubmittedTooFast,
    /// A signed link token that is malformed, forged or for another site.
    InvalidToken,
    /// A signed link token that was genuine but is too old.
    TokenExpired,
    /// A webhook endpoint URL pointing at a private, loopback, link-local or metadata address.
    EndpointNotAllowed,
    /// A webhook whose signature or timestamp does not verify.
    InvalidSignature,
    /// The same conversation was emailed to the same address a few minutes ago and nothing new
    /// was said since (`outbound::chat_events::TranscriptLog`).
    TranscriptAlreadySent,
    /// The conversation's transcript goes only to the first address it was asked for: the form
    /// must not be a way to mail the shop's chat to anyone (`outbound::chat_events::TranscriptLog`).
    TranscriptAddressLocked,
    /// A site config listing an origin that another site already has (an origin belongs to one site).
    OriginTaken,
    /// The visitor context a chat start carries is out of bounds (a price no shop has, more
    /// products than the widget sends).
    InvalidContext,
    /// An account with this email exists already (it joins a site with its own password).
    AccountExists,
    /// A fault on our side (storage unavailable, ...), never caused by the request's content.
    Internal,
}

impl ErrorCode {
    /// The HTTP status that goes with the code. Everything a client can cause is a 4xx.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidJson
            | ErrorCode::InvalidSite
            | ErrorCode::InvalidEvent
            | ErrorCode::InvalidConfig
            | ErrorCode::UnsupportedVersion
            | ErrorCode::BadFrame
            | ErrorCode::MessageTooLong
            | ErrorCode::EmptyMessage
            | ErrorCode::InvalidEmail
            | ErrorCode::InvalidPhone
            | ErrorCode::FieldTooLong
            | ErrorCode::MissingField
            | ErrorCode::InvalidText
            | ErrorCode::InvalidLead
            | ErrorCode::InvalidConsent
            | ErrorCode::InvalidToken
            | ErrorCode::InvalidContext
            | ErrorCode::EndpointNotAllowed => 400,
            ErrorCode::Unauthorized | ErrorCode::InvalidSignature => 401,
            // Gone: the link was real once; asking again will not help.
            ErrorCode::TokenExpired => 410,
            // Understood but refused on its merits, so the widget can tell it from a malformed request.
            ErrorCode::SpamSuspected | ErrorCode::SubmittedTooFast => 422,
            ErrorCode::OriginNotAllowed | ErrorCode::Forbidden => 403,
            ErrorCode::NotFound | ErrorCode::UnknownSite => 404,
            ErrorCode::MethodNotAllowed => 405,
            // A conflict with the state of the conversation or of another site, not a malformed request.
            ErrorCode::ConversationClosed | ErrorCode::TranscriptAddressLocked | ErrorCode::OriginTaken | ErrorCode::AccountExists => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::RateLimited | ErrorCode::TranscriptAlreadySent => 429,
            ErrorCode::Internal => 503,
        }
    }
}

/// `{"error": {"code": "...", "message": "..."}}` on the wire.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into() }
    }

    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// The envelope an error travels in.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    pub error: ApiError,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_are_4xx() {
        for code in [
            ErrorCode::InvalidJson,
            ErrorCode::InvalidSite,
            ErrorCode::InvalidEvent,
            ErrorCode::InvalidConfig,
            ErrorCode::UnsupportedVersion,
            ErrorCode::PayloadTooLarge,
            ErrorCode::UnknownSite,
            ErrorCode::OriginNotAllowed,
            ErrorCode::Unauthorized,
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::RateLimited,
            ErrorCode::BadFrame,
            ErrorCode::MessageTooLong,
            ErrorCode::EmptyMessage,
            ErrorCode::Forbidden,
            ErrorCode::ConversationClosed,
            ErrorCode::InvalidEmail,
            ErrorCode::InvalidPhone,
            ErrorCode::FieldTooLong,
            ErrorCode::MissingField,
            ErrorCode::InvalidText,
            ErrorCode::InvalidLead,
            ErrorCode::InvalidConsent,
            ErrorCode::SpamSuspected,
            ErrorCode::SubmittedTooFast,
            ErrorCode::InvalidToken,
            ErrorCode::TokenExpired,
            ErrorCode::EndpointNotAllowed,
            ErrorCode::InvalidSignature,
            ErrorCode::TranscriptAlreadySent,
            ErrorCode::TranscriptAddressLocked,
            ErrorCode::OriginTaken,
            ErrorCode::InvalidContext,
        ] {
            assert!((400..500).contains(&code.http_status()), "{code:?}");
        }
    }

    #[test]
    fn wire_shape() {
        let body = ErrorBody { error: ApiError::new(ErrorCode::UnknownSite, "no such site") };
        let json = serde_json::to_string(&body).unwrap();
        assert_eq!(json, r#"{"error":{"code":"unknown_site","message":"no such site"}}"#);
    }

    #[test]
    fn contact_codes_on_the_wire() {
        assert_eq!(serde_json::to_string(&ErrorCode::FieldTooLong).unwrap(), r#""field_too_long""#);
        assert_eq!(serde_json::to_string(&ErrorCode::SubmittedTooFast).unwrap(), r#""submitted_too_fast""#);
        assert_eq!(ErrorCode::TokenExpired.http_status(), 410);
        assert_eq!(ErrorCode::SpamSuspected.http_status(), 422);
        assert_eq!(ErrorCode::InvalidSignature.http_status(), 401);
    }
}
