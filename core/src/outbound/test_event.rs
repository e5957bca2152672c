//! "Send a test event" from the owner's cockpit: one request that checks an endpoint end to end
//! (address, credentials, signature) without touching real data.
//!
//! What a test event is, decided here:
//! - It is NOT a [`WebhookEvent`](crate::outbound::webhook::WebhookEvent): no type of the outbox can
//!   hold it, so it is never written to `outbox_events`/`deliveries`, never counted as a lead, never
//!   in the delivery log and never replayable. The owner's screen shows its one attempt instead.
//! - It is sent inline by the admin route (not through the queue): the owner is waiting for the
//!   answer, and a retry schedule would only hide what the receiver said. One attempt, the
//!   delivery timeout, no redirects followed (as real deliveries).
//! - Per preset, the smallest call that proves the configuration and creates nothing in the CRM:
//!   `generic`: a Standard Webhooks envelope of type `test`, signed with every active secret (a
//!   receiver verifies it like any event and can recognise it by its type); `bitrix24`:
//!   `crm.lead.fields` (read-only, needs the same `crm` scope as `crm.lead.add`); `amocrm`:
//!   `GET /api/v4/account` with the token; `telegram`: a short `sendMessage` to the chat, which
//!   is what the owner wants to see arrive. `hubspot`'s Forms API has no call that checks a form
//!   without submitting a contact, so it is refused (a 400 that says so).
//! - Rate-limited per endpoint and per site ([`test_limits`]): a test is a real request to
//!   someone's server, and the route must not become a way to hammer one.

use serde::{Deserialize, Serialize};

use crate::access::throttle::{Counter, Limit};
use crate::base::error::{ApiError, ErrorCode};
use crate::base::locale::Locale;
use crate::outbound::crm::{Signing, TelegramMessage};
use crate::outbound::endpoint::{check_crm_secret_name, Endpoint, Preset};
use crate::outbound::webhook::{rfc3339, AttemptRecord};

/// The envelope's `type`: not an [`EventType`](crate::outbound::webhook::EventType), so no
/// endpoint subscribes to it and no real event is ever mistaken for it.
pub const TEST_EVENT_TYPE: &str = "test";
/// Tests of one endpoint per minute: enough to fix a receiver and try again, not a flood.
pub const TESTS_PER_ENDPOINT_PER_MINUTE: u32 = 5;
/// Tests of all of a site's endpoints per hour.
pub const TESTS_PER_SITE_PER_HOUR: u32 = 30;

/// `data` of the test envelope.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TestEventData {
    pub site: String,
    pub endpoint: String,
    /// Says in words what this is, for whoever reads the receiver's log.
    pub note: String,
}

/// The JSON body a `generic` endpoint receives: `{"type": "test", "timestamp", "data"}`, the
/// same shape as every event's envelope.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TestEnvelope {
    #[serde(rename = "type")]
    pub event_type: String,
    pub timestamp: String,
    pub data: TestEventData,
}

/// The body of a test request, one shape per preset; the worker serialises it as JSON.
#[derive(Serialize, Debug, Clone, PartialEq)]
#[serde(untagged)]
pub enum TestBody {
    Envelope(TestEnvelope),
    /// `{}`: a read-only call that takes no parameters.
    Empty(EmptyObject),
    Telegram(TelegramMessage),
}

/// Serialises as `{}`.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmptyObject {}

/// One HTTP request of a test. As with deliveries (`crm::CrmRequest`), the worker serialises the
/// body and [`TestRequest::headers_for`] signs those exact bytes.
pub struct TestRequest {
    pub method: &'static str,
    /// May carry a credential (Bitrix24's webhook code, a Telegram bot token): never log it.
    pub url: String,
    /// Headers that do not depend on the body.
    pub headers: Vec<(String, String)>,
    pub body: Option<TestBody>,
    /// Standard Webhooks signing, for `generic` endpoints.
    pub signing: Option<Signing>,
}

impl TestRequest {
    /// All headers for the request: those of the preset plus, for `generic`, the signature of
    /// `body` at `now_s`.
    pub fn headers_for(&self, body: &[u8], now_s: u64) -> Vec<(String, String)> {
        Signing::headers(&self.headers, self.signing.as_ref(), body, now_s)
    }

    /// The `webhook-id` of a signed (generic) test.
    pub fn webhook_id(&self) -> Option<String> {
        self.signing.as_ref().map(|s| s.msg_id.clone())
    }
}

impl std::fmt::Debug for TestRequest {
    /// No URL and no header values: they can hold credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("TestRequest").field("method", &self.method).field("headers", &names).finish_non_exhaustive()
    }
}

/// What the admin route answers: which endpoint, the signed test's id, and the one attempt
/// (status, response code, latency, the response body as recorded for real deliveries).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TestDelivery {
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<String>,
    pub attempt: AttemptRecord,
}

/// The `webhook-id` of a test: `msg_test_` + the caller's random nonce, so no two tests share
/// one (receivers deduplicate on it) and none can collide with a real event's `msg_<hash>`.
pub fn test_message_id(nonce: &str) -> String {
    format!("msg_test_{nonce}")
}

fn t(locale: Locale, ru: &'static str, en: &'static str) -> &'static str {
    match locale {
        Locale::Ru => ru,
        Locale::En => en,
    }
}

/// Builds the test request for `endpoint`. `nonce` is random (the caller draws it), `now_ms`
/// the time it is sent, `secret` looks up a worker secret by name (amoCRM and Telegram tokens).
pub fn test_request(
    site: &str,
    endpoint: &Endpoint,
    nonce: &str,
    now_ms: u64,
    owner_locale: Locale,
    secret: &dyn Fn(&str) -> Option<String>,
) -> Result<TestRequest, ApiError> {
    let base = endpoint.base_url();
    let json = || vec![("content-type".to_owned(), "application/json".to_owned())];
    let lookup = |name: &str| {
        check_crm_secret_name(name)?;
        secret(name)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidConfig, format!("worker secret {name} is not set")))
    };
    let request = match &endpoint.preset {
        Preset::Generic => {
            let envelope = TestEnvelope {
                event_type: TEST_EVENT_TYPE.to_owned(),
                timestamp: rfc3339(now_ms),
                data: TestEventData {
                    site: site.to_owned(),
                    endpoint: endpoint.id.clone(),
                    note: "A test event from the Floorwalker console: no lead, no visitor, nothing to store.".to_owned(),
                },
            };
            TestRequest {
                method: "POST",
                url: base.to_owned(),
                headers: json(),
                body: Some(TestBody::Envelope(envelope)),
                signing: Some(Signing { msg_id: test_message_id(nonce), secrets: endpoint.signing_secrets()? }),
            }
        }
        Preset::Bitrix24 => {
            TestRequest {
            method: "POST",
            url: format!("{base}/crm.lead.fields.json"),
            headers: json(),
            body: Some(TestBody::Empty(EmptyObject {})),
            signing: None,
        }
        }
        Preset::Amocrm { token_secret } => TestRequest {
            method: "GET",
            url: format!("{base}/api/v4/account"),
            headers: vec![("authorization".to_owned(), format!("Bearer {}", lookup(token_secret)?))],
            body: None,
            signing: None,
        },
        Preset::Hubspot { .. } => {
            return Err(ApiError::new(
                ErrorCode::InvalidConfig,
                "HubSpot's Forms API cannot be tested without submitting a contact: send a real form from your site instead",
            ))
        }
        Preset::Telegram { chat_id, bot_token_secret } => {
            let text = format!(
                "<b>Floorwalker</b>: {} ({site} / {})",
                t(
                    owner_locale,
                    "проверка связи — сюда будут приходить заявки и посетители, которым в чате никто не ответил",
                    "a test message: leads and visitors nobody answered in the chat will be posted here",
                ),
                crate::outbound::crm::html_escape(&endpoint.id)
            );
            let message = TelegramMessage { chat_id: chat_id.clone(), text, parse_mode: "HTML" };
            TestRequest {
                method: "POST",
                url: format!("{base}/bot{}/sendMessage", lookup(bot_token_secret)?),
                headers: json(),
                body: Some(TestBody::Telegram(message)),
                signing: None,
            }
        }
    };
    Ok(request)
}

/// The counters one test hits: its endpoint's (per minute) and its site's (per hour).
pub fn test_limits(site: &str, endpoint: &str) -> [Counter; 2] {
    [
        Counter::new("endpoint-test", &[site, endpoint], Limit::new(TESTS_PER_ENDPOINT_PER_MINUTE, 60)),
        Counter::new("endpoint-test-site", &[site], Limit::new(TESTS_PER_SITE_PER_HOUR, 3600)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::webhook::{verify, EventType, WebhookSecret};

    fn endpoint(preset: Preset, url: &str) -> Endpoint {
        Endpoint {
            id: "crm".into(),
            url: url.into(),
            secrets: vec![WebhookSecret::generate([7; 32]), WebhookSecret::generate([9; 32])],
            events: None,
            preset,
            enabled: true,
        }
    }

    fn secrets(name: &str) -> Option<String> {
        (name == "CRM_TOKEN").then(|| "t0ken".to_owned())
    }

    #[test]
    fn a_generic_test_is_a_signed_envelope_of_type_test_that_verifies_with_every_secret() {
        let e = endpoint(Preset::Generic, "https://crm.example/hook/");
        let request = test_request("shop", &e, "abc123", 1_795_939_200_000, Locale::En, &secrets).unwrap();
        assert_eq!((request.method, request.url.as_str()), ("POST", "https://crm.example/hook"));
        let body = serde_json::to_string(&request.body).unwrap();
        let headers = request.headers_for(body.as_bytes(), 1_795_939_200);
        let envelope: TestEnvelope = serde_json::from_str(&body).unwrap();
        assert_eq!(envelope.event_type, "test");
        assert_eq!(envelope.timestamp, "2026-11-29T08:00:00.000Z");
        assert_eq!((envelope.data.site.as_str(), envelope.data.endpoint.as_str()), ("shop", "crm"));
        let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(header("webhook-id"), "msg_test_abc123");
        assert_eq!(header("content-type"), "application/json");
        assert_eq!(request.webhook_id().as_deref(), Some("msg_test_abc123"));
        for secret in &e.secrets {
            let key = WebhookSecret::parse(secret).unwrap();
            verify(&[key], &header("webhook-id"), &header("webhook-timestamp"), &header("webhook-signature"), body.as_bytes(), 1_795_939_200)
                .unwrap();
        }
        // No event type of the outbox reads it: it cannot be stored as one, nor replayed.
        assert!(serde_json::from_str::<crate::outbound::webhook::WebhookEvent>(&body).is_err());
        assert!(serde_json::from_value::<EventType>(serde_json::json!("test")).is_err());
    }

    #[test]
    fn presets_test_with_calls_that_create_nothing() {
        let b24 = test_request("shop", &endpoint(Preset::Bitrix24, "https://p.bitrix24.ru/rest/1/code/"), "n", 0, Locale::Ru, &secrets).unwrap();
        assert_eq!((b24.method, b24.url.as_str()), ("POST", "https://p.bitrix24.ru/rest/1/code/crm.lead.fields.json"));
        assert_eq!(serde_json::to_string(&b24.body).unwrap(), "{}");
        assert!(b24.headers_for(b"{}", 0).iter().all(|(name, _)| !name.starts_with("webhook-")), "only generic tests are signed");
        let amo = endpoint(Preset::Amocrm { token_secret: "CRM_TOKEN".into() }, "https://shop.amocrm.ru");
        let amo = test_request("shop", &amo, "n", 0, Locale::Ru, &secrets).unwrap();
        assert_eq!((amo.method, amo.url.as_str(), amo.body.is_none()), ("GET", "https://shop.amocrm.ru/api/v4/account", true));
        assert!(amo.headers.contains(&("authorization".into(), "Bearer t0ken".into())));
        assert!(!format!("{amo:?}").contains("t0ken"), "Debug shows no credential");
        let tg = endpoint(Preset::Telegram { chat_id: "-100".into(), bot_token_secret: "CRM_TOKEN".into() }, "");
        let tg = test_request("shop", &tg, "n", 0, Locale::Ru, &secrets).unwrap();
        assert_eq!(tg.url, "https://api.telegram.org/bott0ken/sendMessage");
        let tg = serde_json::to_value(&tg.body).unwrap();
        assert_eq!(tg["chat_id"], "-100");
        assert!(tg["text"].as_str().unwrap().contains("проверка связи"));
        let hubspot = Preset::Hubspot { portal_id: "1".into(), form_guid: "x".into() };
        assert_eq!(test_request("shop", &endpoint(hubspot, ""), "n", 0, Locale::En, &secrets).unwrap_err().code, ErrorCode::InvalidConfig);
        // A missing token is said as such, and only CRM_ names are ever read.
        let unset = endpoint(Preset::Amocrm { token_secret: "CRM_OTHER".into() }, "https://shop.amocrm.ru");
        assert!(test_request("shop", &unset, "n", 0, Locale::En, &secrets).unwrap_err().message.contains("CRM_OTHER"));
        let own = endpoint(Preset::Amocrm { token_secret: "ADMIN_TOKEN".into() }, "https://shop.amocrm.ru");
        assert!(test_request("shop", &own, "n", 0, Locale::En, &|_| Some("admin".into())).is_err());
    }

    #[test]
    fn tests_are_limited_per_endpoint_and_per_site() {
        let [endpoint, site] = test_limits("shop", "crm");
        assert_eq!((endpoint.key.as_str(), endpoint.limit.max), ("endpoint-test|shop|crm", TESTS_PER_ENDPOINT_PER_MINUTE));
        assert_eq!((site.key.as_str(), site.limit.max), ("endpoint-test-site|shop", TESTS_PER_SITE_PER_HOUR));
    }
}
