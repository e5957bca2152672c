//! A real webhook receiver on 127.0.0.1: records every request, checks Standard Webhooks
//! signatures with a verifier written here from the specification (not core's), and answers as
//! scripted: 2xx, an error status, a hang past the sender's timeout, or 410 Gone.
//!
//! It is also `make demo`'s CRM receiver: `GET /` is a page listing what arrived (see [`page`]),
//! where a person pastes an endpoint's signing secret to have the signatures checked. The page's
//! own requests are never recorded as deliveries.

mod page;

use std::collections::VecDeque;
use std::io::Read as _;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::free_port;

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// 200 with a small JSON body.
    Ok,
    Status(u16),
    /// A status with `Retry-After: <seconds>`.
    RetryAfter(u16, u32),
    /// Holds the connection this long, then answers 503 (too late for the sender).
    Hang(Duration),
    /// 200 as amoCRM documents its answer to `POST /api/v4/leads/complex`: per lead sent,
    /// `{"id": <a new deal id>, "contact_id": <a new contact id>, "company_id": null,
    /// "request_id": [<the lead's request_id>], "merged": false}`, in
    /// `application/hal+json` (<https://www.amocrm.ru/developers/content/crm_platform/leads-api>,
    /// «Комплексное добавление сделок с контактом и компанией»). Deal ids count up from
    /// [`AMO_FIRST_DEAL_ID`]; a body that is not a JSON array of leads gets amoCRM's 400.
    AmoCrm,
}

/// The first deal id [`Reply::AmoCrm`] hands out (amoCRM's ids are in the tens of millions).
pub const AMO_FIRST_DEAL_ID: u64 = 31_000_001;

/// The path `make demo` tells people to send to (any path but the page's records the same).
pub const WEBHOOK_PATH: &str = "/crm";
/// How many requests `make demo`'s receiver keeps: a long session's worth, in bounded memory
/// however long the demo runs.
pub const DEMO_KEPT: usize = 200;
/// A request body is read up to this size (deliveries are a few KiB).
const MAX_BODY_BYTES: u64 = 1 << 20;
/// Secrets pasted on the page are kept up to this many, the oldest forgotten first.
const MAX_SECRETS: usize = 20;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    /// The same moment on the wall clock (ms since the epoch): the page shows it, and a
    /// signature checked later is checked against the timestamp as it was on arrival.
    pub at_ms: u64,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The status the receiver answered (for a hang: what it tried to answer afterwards).
    pub answered: u16,
    /// The body it answered with.
    pub answer: String,
    /// `Some(true)` when a signature verified against one of the configured secrets.
    pub signature_valid: Option<bool>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn delivered(&self) -> bool {
        (200..300).contains(&self.answered)
    }

    /// Whether the request's Standard Webhooks signature verifies against `secrets`, as of its
    /// arrival.
    pub fn signature(&self, secrets: &[String]) -> Signature {
        let (id, timestamp, signature) = (self.header("webhook-id"), self.header("webhook-timestamp"), self.header("webhook-signature"));
        if id.is_none() && signature.is_none() {
            return Signature::Unsigned;
        }
        if secrets.is_empty() {
            return Signature::NotChecked;
        }
        match (id, timestamp, signature) {
            (Some(id), Some(timestamp), Some(signature))
                if verify_standard_webhook(secrets, id, timestamp, signature, &self.body, self.at_ms / 1000) =>
            {
                Signature::Valid
            }
            _ => Signature::Invalid,
        }
    }
}

/// What can be said of a request's signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    /// No Standard Webhooks headers (a CRM preset's request, say).
    Unsigned,
    /// Signed, but no secret to check it with.
    NotChecked,
    Valid,
    Invalid,
}

impl Signature {
    /// As [`Received::signature_valid`] has it: an unchecked signature is not a valid one.
    fn as_valid(self) -> Option<bool> {
        match self {
            Signature::Unsigned => None,
            Signature::Valid => Some(true),
            Signature::NotChecked | Signature::Invalid => Some(false),
        }
    }
}

#[derive(Default)]
struct State {
    /// Fixed answers for paths starting with a prefix (one receiver, several endpoints).
    by_path: Vec<(String, Reply)>,
    script: VecDeque<Reply>,
    default: Option<Reply>,
    secrets: Vec<String>,
    received: Vec<Received>,
    /// The most requests kept, the oldest dropped first (unbounded in the tests, which read
    /// back everything they sent).
    kept: usize,
    /// Deals [`Reply::AmoCrm`] created so far.
    amo_deals: u64,
}

pub struct Receiver {
    pub port: u16,
    state: Arc<Mutex<State>>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Receiver {
    /// A receiver on a free port that keeps every request.
    pub fn start() -> Receiver {
        Receiver::start_on(free_port(), usize::MAX).expect("binding the receiver")
    }

    /// A receiver on `port` that keeps the last `kept` requests (`make demo`'s: [`DEMO_KEPT`]);
    /// why not when the port cannot be had.
    pub fn start_on(port: u16, kept: usize) -> Result<Receiver, String> {
        let server = tiny_http::Server::http(("127.0.0.1", port)).map_err(|e| format!("127.0.0.1:{port}: {e}"))?;
        let server = Arc::new(server);
        let state = Arc::new(Mutex::new(State { kept, ..State::default() }));
        let (serving, shared) = (server.clone(), state.clone());
        let thread = std::thread::spawn(move || {
            for request in serving.incoming_requests() {
                let shared = shared.clone();
                // A thread per request: a hanging answer must not hold up the others.
                std::thread::spawn(move || handle(request, &shared, port));
            }
        });
        Ok(Receiver { port, state, server, thread: Some(thread) })
    }

    pub fn url(&self, path: &str) -> String {
        local_url(self.port, path)
    }

    /// Where `make demo` tells people to point an endpoint.
    pub fn webhook_url(&self) -> String {
        self.url(WEBHOOK_PATH)
    }

    /// The page listing what arrived.
    pub fn page_url(&self) -> String {
        self.url("/")
    }

    /// The answer to every request not covered by a script (initially `Reply::Ok`).
    pub fn set_reply(&self, reply: Reply) {
        lock(&self.state).default = Some(reply);
    }

    /// The answers to the next requests, in order; then the default again.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        lock(&self.state).script.extend(replies);
    }

    /// Requests whose path starts with `prefix` always get `reply` (not scripted).
    pub fn set_reply_for(&self, prefix: &str, reply: Reply) {
        let mut state = lock(&self.state);
        state.by_path.retain(|(p, _)| p != prefix);
        state.by_path.push((prefix.to_owned(), reply));
    }

    /// Requests to paths starting with `prefix`, in arrival order.
    pub fn received_at(&self, prefix: &str) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.path.starts_with(prefix)).collect()
    }

    /// The `whsec_` secrets signatures are checked against.
    pub fn set_secrets(&self, secrets: Vec<String>) {
        lock(&self.state).secrets = secrets;
    }

    pub fn received(&self) -> Vec<Received> {
        lock(&self.state).received.clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn handle(mut request: tiny_http::Request, shared: &Mutex<State>, port: u16) {
    let mut body = Vec::new();
    let _ = request.as_reader().take(MAX_BODY_BYTES).read_to_end(&mut body);
    if let Some(route) = page::Route::of(request.method(), request.url()) {
        let response = answer_page(route, request.url(), &body, shared, port);
        let _ = request.respond(response);
        return;
    }
    let headers: Vec<(String, String)> =
        request.headers().iter().map(|h| (h.field.as_str().as_str().to_ascii_lowercase(), h.value.as_str().to_owned())).collect();
    let (reply, secrets) = {
        let mut state = lock(shared);
        let fixed = state.by_path.iter().find(|(prefix, _)| request.url().starts_with(prefix.as_str())).map(|(_, r)| *r);
        let reply = match fixed {
            Some(reply) => reply,
            None => state.script.pop_front().or(state.default).unwrap_or(Reply::Ok),
        };
        (reply, state.secrets.clone())
    };
    let (answered, answer) = match reply {
        Reply::Ok => (200, "{\"ok\":true}".to_owned()),
        Reply::Status(status) | Reply::RetryAfter(status, _) => (status, if status == 200 { "{\"ok\":true}" } else { "{\"ok\":false}" }.to_owned()),
        Reply::Hang(_) => (503, "{\"ok\":false}".to_owned()),
        Reply::AmoCrm => amocrm_complex_added(&body, &mut lock(shared).amo_deals),
    };
    let mut received = Received {
        at: Instant::now(),
        at_ms: now_ms(),
        method: request.method().as_str().to_owned(),
        path: request.url().to_owned(),
        headers,
        body,
        answered,
        answer: answer.clone(),
        signature_valid: None,
    };
    received.signature_valid = received.signature(&secrets).as_valid();
    // Recorded before answering, so a test that sees the record can rely on the answer.
    {
        let mut state = lock(shared);
        state.received.push(received);
        let excess = state.received.len().saturating_sub(state.kept);
        state.received.drain(..excess);
    }
    if let Reply::Hang(duration) = reply {
        std::thread::sleep(duration);
    }
    let mut response = tiny_http::Response::from_string(answer).with_status_code(answered);
    if reply == Reply::AmoCrm {
        let json = if answered == 200 { "application/hal+json" } else { "application/problem+json" };
        if let Ok(header) = tiny_http::Header::from_bytes("content-type", json) {
            response = response.with_header(header);
        }
    }
    // One request per connection: tiny_http answers pipelined requests of a connection in order,
    // so a hung answer would hold back the next request's answer on a reused connection.
    if let Ok(header) = tiny_http::Header::from_bytes("connection", "close") {
        response = response.with_header(header);
    }
    if let Reply::RetryAfter(_, seconds) = reply {
        if let Ok(header) = tiny_http::Header::from_bytes("retry-after", seconds.to_string()) {
            response = response.with_header(header);
        }
    }
    let _ = request.respond(response);
}

/// amoCRM's answer to a complex add of `body` (see [`Reply::AmoCrm`]), each lead a new deal.
fn amocrm_complex_added(body: &[u8], created: &mut u64) -> (u16, String) {
    let Ok(serde_json::Value::Array(leads)) = serde_json::from_slice::<serde_json::Value>(body) else {
        let problem = serde_json::json!({"title": "Bad Request", "type": "https://httpstatus.es/400", "status": 400, "detail": "Request body is invalid"});
        return (400, problem.to_string());
    };
    let added: Vec<serde_json::Value> = leads
        .iter()
        .enumerate()
        .map(|(index, lead)| {
            let deal = AMO_FIRST_DEAL_ID + *created;
            *created += 1;
            // amoCRM echoes each lead's request_id, or its index when it had none.
            let request_id = lead.get("request_id").and_then(|r| r.as_str()).map_or_else(|| index.to_string(), str::to_owned);
            serde_json::json!({"id": deal, "contact_id": deal + 50_000_000, "company_id": null, "request_id": [request_id], "merged": false})
        })
        .collect();
    (200, serde_json::Value::Array(added).to_string())
}

fn local_url(port: u16, path: &str) -> String {
    format!("http://127.0.0.1:{port}{path}")
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The page, or what its form did: a secret pasted there is kept (in memory only) and the
/// browser is sent back to the page, which says whether it was taken.
fn answer_page(route: page::Route, url: &str, body: &[u8], shared: &Mutex<State>, port: u16) -> page::Answer {
    match route {
        page::Route::Page => {
            let (requests, secrets, kept) = {
                let state = lock(shared);
                (state.received.clone(), state.secrets.clone(), state.kept)
            };
            let query = page::Query::of(url);
            let html = page::render(&page::View {
                requests: &requests,
                secrets: &secrets,
                kept: (kept != usize::MAX).then_some(kept),
                webhook_url: &local_url(port, WEBHOOK_PATH),
                locale: query.locale,
                notice: query.notice,
            });
            page::html_response(html)
        }
        page::Route::AddSecret => {
            let form = page::SecretForm::of(body);
            let taken = form.secret.filter(|secret| page::is_secret(secret));
            let notice = if let Some(secret) = &taken {
                let mut state = lock(shared);
                if !state.secrets.contains(secret) {
                    state.secrets.push(secret.clone());
                }
                let excess = state.secrets.len().saturating_sub(MAX_SECRETS);
                state.secrets.drain(..excess);
                page::Notice::SecretAdded
            } else {
                page::Notice::SecretRefused
            };
            page::back_to_page(form.locale, notice)
        }
        page::Route::Missing => page::not_found(),
    }
}

/// Standard Webhooks verification as the specification describes it
/// (<https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md>):
/// the secret is base64 after `whsec_`; the signed content is `{id}.{timestamp}.{body}`; the
/// signature is base64 HMAC-SHA256, `v1,`-prefixed, several separated by spaces; the timestamp must
/// be within 5 minutes.
pub fn verify_standard_webhook(secrets: &[String], id: &str, timestamp: &str, signatures: &str, body: &[u8], now_s: u64) -> bool {
    let Ok(ts) = timestamp.parse::<u64>() else { return false };
    if ts.abs_diff(now_s) > 300 {
        return false;
    }
    let engine = base64::engine::general_purpose::STANDARD;
    let mut content = format!("{id}.{timestamp}.").into_bytes();
    content.extend_from_slice(body);
    secrets.iter().any(|secret| {
        let Some(key) = secret.strip_prefix("whsec_").and_then(|b64| engine.decode(b64).ok()) else { return false };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else { return false };
        mac.update(&content);
        let expected = engine.encode(mac.finalize().into_bytes());
        signatures.split(' ').filter_map(|s| s.strip_prefix("v1,")).any(|given| given == expected)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The specification's published example.
    #[test]
    fn spec_test_vector() {
        let secret = vec!["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned()];
        let body = br#"{"test": 2432232314}"#;
        let sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert!(verify_standard_webhook(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", sig, body, 1_614_265_330));
        assert!(verify_standard_webhook(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", &format!("v1,bm9wZQ== {sig}"), body, 1_614_265_330));
        assert!(!verify_standard_webhook(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", sig, b"{}", 1_614_265_330));
        assert!(!verify_standard_webhook(&secret, "msg_other", "1614265330", sig, body, 1_614_265_330));
        assert!(!verify_standard_webhook(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", sig, body, 1_614_265_330 + 301));
    }
}

#[cfg(test)]
mod concurrency {
    use super::*;

    /// A hung answer holds up nothing else: each request has its own connection and thread.
    #[tokio::test]
    async fn a_hang_does_not_block_other_requests() {
        let receiver = Receiver::start();
        receiver.script([Reply::Hang(Duration::from_secs(3))]);
        let client = reqwest::Client::new();
        let url = receiver.url("/a");
        let hung = tokio::spawn({
            let (client, url) = (client.clone(), url.clone());
            async move { client.post(url).body("1").send().await.map(|r| r.status().as_u16()) }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        let status = client.post(&url).body("2").send().await.expect("second request").status().as_u16();
        assert_eq!(status, 200);
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
        assert_eq!(hung.await.expect("task").expect("first request"), 503);
    }
}
