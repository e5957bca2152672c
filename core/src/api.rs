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
    /// A chat message longer than `chat::MAX_MESSAGE_CHARS` after normalisation.
    MessageTooLong,
    /// A chat message with nothing left after trimming and stripping control characters.
    EmptyMessage,
    /// Authenticated, but this party may not do that (a visitor closing a conversation).
    Forbidden,
    /// The conversation was closed; the widget starts a new one instead.
    ConversationClosed,
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
            | ErrorCode::EmptyMessage => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::OriginNotAllowed | ErrorCode::Forbidden => 403,
            ErrorCode::NotFound | ErrorCode::UnknownSite => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::ConversationClosed => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::RateLimited => 429,
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
}
