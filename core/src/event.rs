//! Visitor events: what the widget observed, in the versioned shape it sends to `POST /v1/events`.

use serde::{Deserialize, Serialize};

use crate::api::{ApiError, ErrorCode};
use crate::ids::{validate_client_id, validate_site_id};

/// The batch format version this build reads and writes. A batch with another `v` is refused with
/// `unsupported_version`, so an old widget cached somewhere never has its data misread.
pub const EVENT_BATCH_VERSION: u32 = 1;
/// Most events one batch may carry.
pub const MAX_EVENTS_PER_BATCH: usize = 50;
/// Largest request body accepted for a batch, in bytes.
pub const MAX_BATCH_BYTES: usize = 64 * 1024;
/// Longest URL or referrer kept.
pub const MAX_URL_LEN: usize = 2048;
/// Longest page title kept.
pub const MAX_TITLE_LEN: usize = 512;

/// What the widget sends: a batch of events from one visitor's session on one site.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    /// Format version, [`EVENT_BATCH_VERSION`].
    pub v: u32,
    pub site: String,
    /// Random id kept in first-party storage for the visit's lifetime on this site.
    pub visitor: String,
    /// Random id for this visit.
    pub session: String,
    pub events: Vec<Event>,
}

/// One observation, with a client-generated id that makes re-sending the same batch harmless.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    /// Milliseconds since the Unix epoch, by the visitor's clock.
    pub at: u64,
    #[serde(flatten)]
    pub data: EventData,
}

/// The kinds of observation. Tagged by `type` on the wire.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventData {
    PageView(PageView),
}

impl EventData {
    /// The wire name of the event type, as stored alongside the event.
    pub fn kind(&self) -> &'static str {
        match self {
            EventData::PageView(_) => "page_view",
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct PageView {
    pub url: String,
    #[serde(default)]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
}

/// An event as the admin API returns it: the event with who sent it and when it arrived.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub visitor: String,
    pub session: String,
    /// Milliseconds since the Unix epoch, by the server's clock.
    pub received_at: u64,
    pub event: Event,
}

impl EventBatch {
    /// Checks everything the server must not trust: version, ids, sizes and URL shapes.
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.v != EVENT_BATCH_VERSION {
            return Err(ApiError::new(
                ErrorCode::UnsupportedVersion,
                format!("event batch version {} is not supported (expected {EVENT_BATCH_VERSION})", self.v),
            ));
        }
        validate_site_id(&self.site)?;
        validate_client_id("visitor", &self.visitor)?;
        validate_client_id("session", &self.session)?;
        if self.events.is_empty() {
            return Err(invalid("a batch needs at least one event"));
        }
        if self.events.len() > MAX_EVENTS_PER_BATCH {
            return Err(invalid(format!(
                "a batch holds at most {MAX_EVENTS_PER_BATCH} events, got {}",
                self.events.len()
            )));
        }
        for (index, event) in self.events.iter().enumerate() {
            event.validate().map_err(|e| ApiError::new(e.code, format!("events[{index}]: {}", e.message)))?;
        }
        Ok(())
    }
}

impl Event {
    fn validate(&self) -> Result<(), ApiError> {
        validate_client_id("id", &self.id)?;
        match &self.data {
            EventData::PageView(view) => {
                validate_http_url("url", &view.url)?;
                if let Some(referrer) = &view.referrer {
                    // Referrers may legitimately be any scheme (android-app://...), only bound the size.
                    check_len("referrer", referrer, MAX_URL_LEN)?;
                }
                check_len("title", &view.title, MAX_TITLE_LEN)
            }
        }
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidEvent, message)
}

fn check_len(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.chars().count() > max {
        return Err(invalid(format!("{field} is longer than {max} characters")));
    }
    Ok(())
}

/// A page URL must be an absolute http(s) URL of bounded length.
pub fn validate_http_url(field: &str, url: &str) -> Result<(), ApiError> {
    check_len(field, url, MAX_URL_LEN)?;
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| invalid(format!("{field} must be an absolute http(s) URL")))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || url.chars().any(char::is_control) {
        return Err(invalid(format!("{field} must be an absolute http(s) URL")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_view(url: &str) -> Event {
        Event {
            id: "evt00000001".into(),
            at: 1_790_000_000_000,
            data: EventData::PageView(PageView { url: url.into(), title: "Коляска".into(), referrer: None }),
        }
    }

    fn batch(events: Vec<Event>) -> EventBatch {
        EventBatch { v: 1, site: "demo".into(), visitor: "visitor01".into(), session: "session01".into(), events }
    }

    #[test]
    fn wire_format_is_flat_and_tagged() {
        let json = serde_json::to_value(page_view("https://shop.example/p/1")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id":"evt00000001","at":1_790_000_000_000u64,"type":"page_view",
                "url":"https://shop.example/p/1","title":"Коляска"})
        );
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, page_view("https://shop.example/p/1"));
    }

    #[test]
    fn valid_batch_passes() {
        batch(vec![page_view("http://127.0.0.1:8787/product/x/")]).validate().unwrap();
    }

    #[test]
    fn unknown_event_type_does_not_parse() {
        let err = serde_json::from_str::<Event>(r#"{"id":"evt00000001","at":1,"type":"mind_read"}"#);
        assert!(err.is_err());
    }

    #[test]
    fn refuses_bad_batches() {
        let cases: Vec<(EventBatch, ErrorCode)> = vec![
            (EventBatch { v: 2, ..batch(vec![page_view("https://a.b/")]) }, ErrorCode::UnsupportedVersion),
            (EventBatch { site: "Bad Site".into(), ..batch(vec![page_view("https://a.b/")]) }, ErrorCode::InvalidSite),
            (EventBatch { visitor: "x".into(), ..batch(vec![page_view("https://a.b/")]) }, ErrorCode::InvalidEvent),
            (batch(vec![]), ErrorCode::InvalidEvent),
            (batch(vec![page_view("https://a.b/"); MAX_EVENTS_PER_BATCH + 1]), ErrorCode::InvalidEvent),
            (batch(vec![page_view("javascript:alert(1)")]), ErrorCode::InvalidEvent),
            (batch(vec![page_view("https:///nohost")]), ErrorCode::InvalidEvent),
            (batch(vec![page_view(&format!("https://a.b/{}", "x".repeat(MAX_URL_LEN)))]), ErrorCode::InvalidEvent),
        ];
        for (batch, code) in cases {
            assert_eq!(batch.validate().expect_err("must be refused").code, code, "{batch:?}");
        }
    }

    #[test]
    fn error_names_the_offending_event() {
        let err = batch(vec![page_view("https://a.b/"), page_view("ftp://a.b/")]).validate().unwrap_err();
        assert!(err.message.starts_with("events[1]:"), "{}", err.message);
    }
}
