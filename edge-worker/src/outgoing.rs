//! How one attempt leaves the worker: what it will do ([`Prepared`]), the email provider's
//! request for a message, and the one outbound fetch with its timeout. The queue's deliveries
//! (`deliver`), the owner's test emails (`mail_settings`) and test events (`owner_crm`) all go
//! this way, so none of them imports another.

use std::cell::RefCell;
use std::time::Duration;

use floorwalker_core::outbound::delivery::MAX_IN_FLIGHT;
use floorwalker_core::outbound::email::{provider_request, EmailMessage, EmailProvider};
use floorwalker_core::outbound::webhook::{AttemptResult, ATTEMPT_TIMEOUT_MS};
use futures_util::future::{select, Either};
use wasm_bindgen::JsValue;
use worker::{AbortController, Delay, Env, Fetch, Headers, Method, Request, RequestInit, RequestRedirect};

use crate::platform::vars::{secret, var};
use crate::http::now_ms;

/// What one attempt will do.
pub(crate) enum Prepared {
    Http(HttpRequest),
    /// The local email provider: store in the mailbox.
    Local(EmailMessage),
    /// Not now: the shop's product pages cannot be read; retried on the delivery schedule.
    Wait(String),
    /// Nothing to send (the endpoint no longer takes this event): done.
    Skip(String),
    /// Cannot be sent as configured (endpoint disabled or refused by the SSRF guard): parked as
    /// failed, replayable after the configuration is fixed.
    Park(String),
}

pub(crate) struct HttpRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// How `message` leaves through the deployment's `EMAIL_PROVIDER`: into the local mailbox, or
/// as one HTTP request to the provider (`id` is its idempotency key); parked when the provider is
/// not configured. The queue's deliveries and the owner's test emails both go this way.
pub(crate) fn provider_email(env: &Env, id: &str, message: EmailMessage) -> Prepared {
    let provider = var(env, "EMAIL_PROVIDER").as_deref().and_then(EmailProvider::parse);
    let (provider, key) = match provider {
        Some(EmailProvider::Local) => return Prepared::Local(message),
        Some(EmailProvider::Resend) => (EmailProvider::Resend, secret(env, "RESEND_API_KEY")),
        Some(EmailProvider::Postmark) => (EmailProvider::Postmark, secret(env, "POSTMARK_SERVER_TOKEN")),
        None => return Prepared::Park("EMAIL_PROVIDER must be local, resend or postmark".into()),
    };
    let stream = var(env, "POSTMARK_MESSAGE_STREAM").unwrap_or_else(|| "outbound".into());
    let base = var(env, "EMAIL_API_BASE");
    let request = match provider_request(provider, base.as_deref(), &key.unwrap_or_default(), &stream, id, &message) {
        Ok(request) => request,
        Err(e) => return Prepared::Park(e.message),
    };
    match serde_json::to_string(&request.body) {
        Ok(body) => Prepared::Http(HttpRequest { url: request.url, headers: request.headers, body }),
        Err(e) => Prepared::Park(format!("encoding an email: {e}")),
    }
}

/// One POST, raced against the timeout (see [`send_once`]).
pub(crate) async fn send(request: HttpRequest, timeout_ms: u64) -> AttemptResult {
    let connection = Connection::take().await;
    send_on(&connection, request, timeout_ms).await
}

/// The same, on a connection the caller already holds.
pub(crate) async fn send_on(connection: &Connection, request: HttpRequest, timeout_ms: u64) -> AttemptResult {
    exchange(connection, Method::Post, &request.url, &request.headers, Some(&request.body), timeout_ms).await
}

/// One request, raced against the timeout: a delivery's attempt, or the owner's test of an
/// endpoint (`owner_crm`). Redirects are not followed (`manual`): a 3xx is a failure, since the
/// new location never passed the SSRF guard. The timeout starts once the request holds one of
/// this isolate's [`MAX_IN_FLIGHT`] connections.
pub(crate) async fn send_once(method: Method, url: &str, headers: &[(String, String)], body: Option<&str>, timeout_ms: u64) -> AttemptResult {
    exchange(&Connection::take().await, method, url, headers, body, timeout_ms).await
}

async fn exchange(
    connection: &Connection,
    method: Method,
    url: &str,
    headers: &[(String, String)],
    body: Option<&str>,
    timeout_ms: u64,
) -> AttemptResult {
    let outgoing_headers = Headers::new();
    for (name, value) in headers {
        if let Err(e) = outgoing_headers.set(name, value) {
            return AttemptResult::ConnectionError(format!("invalid header {name}: {e}"));
        }
    }
    let mut init = RequestInit::new();
    init.with_method(method).with_headers(outgoing_headers).with_redirect(RequestRedirect::Manual);
    if let Some(body) = body {
        init.with_body(Some(JsValue::from_str(body)));
    }
    let outgoing = match Request::new_with_init(url, &init) {
        Ok(outgoing) => outgoing,
        Err(e) => return AttemptResult::ConnectionError(format!("invalid request: {e}")),
    };
    let controller = AbortController::default();
    let signal = controller.signal();
    let exchange = async {
        let mut response = Fetch::Request(outgoing).send_with_signal(&signal).await?;
        let status = response.status_code();
        let retry_after = response.headers().get("retry-after").ok().flatten();
        let body = response.bytes().await.unwrap_or_default();
        Ok::<_, worker::Error>((status, retry_after, body))
    };
    let timeout = Delay::from(Duration::from_millis(timeout_ms));
    futures_util::pin_mut!(exchange);
    match select(exchange, timeout).await {
        Either::Left((Ok((status, retry_after, body)), _)) => AttemptResult::Response { status, retry_after, body },
        Either::Left((Err(e), _)) => AttemptResult::ConnectionError(e.to_string()),
        Either::Right(((), _)) => {
            controller.abort();
            connection.linger(timeout_ms);
            AttemptResult::Timeout
        }
    }
}

/// One of the connections this isolate's requests may hold at once. The runtime lets an
/// invocation open six at a time and makes a seventh wait with its timeout already running, so a
/// receiver's late 2xx would count as a timeout and be sent again; locally, the queue runs several
/// consumer batches and first attempts side by side in one isolate. Counting here, before the
/// timeout starts, keeps every request's wait outside its timeout. A delivery takes it before its
/// claim, so its lease is not spent waiting either.
///
/// A waiter looks again every few milliseconds on a timer of its own invocation: waking it from
/// another invocation (the one releasing) would run its code in the wrong request's context,
/// which workerd does not allow (such a request hangs). An invocation the runtime abandons never
/// drops what it holds, so a connection held longer than any attempt can take counts as free.
pub(crate) struct Connection {
    id: u64,
}

struct Connections {
    next_id: u64,
    held: Vec<Held>,
    /// In turn: a lead's first attempts (0) before the queue's (1), then first come first served.
    waiting: Vec<Waiter>,
}

struct Waiter {
    turn: (u8, u64),
    /// When it last looked; one that stopped looking was abandoned.
    seen: u64,
}

struct Held {
    id: u64,
    /// Counted as free from then on, whatever happens.
    until: u64,
    /// Kept after its holder is done, until `until`.
    lingers: bool,
}

thread_local! {
    static CONNECTIONS: RefCell<Connections> = const { RefCell::new(Connections { next_id: 0, held: Vec::new(), waiting: Vec::new() }) };
}

/// How often a waiter looks for a free connection.
const CONNECTION_POLL_MS: u64 = 5;
/// A waiter that has not looked for this long was abandoned by its invocation.
const CONNECTION_ABANDONED_MS: u64 = 20 * CONNECTION_POLL_MS;
/// Longer than any attempt holds one (its page reads, the production timeout, its records).
const CONNECTION_STALE_MS: u64 = 2 * ATTEMPT_TIMEOUT_MS + 10_000;

impl Connection {
    /// One for the queue's attempts or an owner's test, in turn.
    pub(crate) async fn take() -> Connection {
        Connection::in_turn(1).await
    }

    /// One for a lead's first attempt, ahead of the queue's: its lease is already running.
    pub(crate) async fn take_first() -> Connection {
        Connection::in_turn(0).await
    }

    async fn in_turn(rank: u8) -> Connection {
        let id = CONNECTIONS.with_borrow_mut(|connections| {
            connections.next_id += 1;
            connections.waiting.push(Waiter { turn: (rank, connections.next_id), seen: now_ms() });
            connections.next_id
        });
        let _in_line = InLine(id);
        loop {
            let now = now_ms();
            let taken = CONNECTIONS.with_borrow_mut(|connections| {
                connections.held.retain(|held| held.until > now);
                connections.waiting.retain(|waiter| waiter.turn.1 == id || now.saturating_sub(waiter.seen) < CONNECTION_ABANDONED_MS);
                // Back in its place if it was taken for abandoned (a busy thread delayed its timer).
                match connections.waiting.iter_mut().find(|waiter| waiter.turn.1 == id) {
                    Some(waiter) => waiter.seen = now,
                    None => connections.waiting.push(Waiter { turn: (rank, id), seen: now }),
                }
                let first = connections.waiting.iter().map(|waiter| waiter.turn).min();
                (connections.held.len() < MAX_IN_FLIGHT && first.is_some_and(|turn| turn.1 == id)).then(|| {
                    connections.waiting.retain(|waiter| waiter.turn.1 != id);
                    connections.held.push(Held { id, until: now + CONNECTION_STALE_MS, lingers: false });
                    Connection { id }
                })
            });
            if let Some(connection) = taken {
                return connection;
            }
            Delay::from(Duration::from_millis(CONNECTION_POLL_MS)).await;
        }
    }

    /// After a timeout: the request was aborted, but the runtime keeps its connection until the
    /// receiver answers or closes, so it stays counted for `ms` more (a request sent on it now
    /// would wait for a connection with its timeout running).
    fn linger(&self, ms: u64) {
        let until = now_ms() + ms;
        CONNECTIONS.with_borrow_mut(|connections| {
            for held in connections.held.iter_mut().filter(|held| held.id == self.id) {
                held.until = until;
                held.lingers = true;
            }
        });
    }
}

/// A place in line, given up when the waiter is dropped.
struct InLine(u64);

impl Drop for InLine {
    fn drop(&mut self) {
        CONNECTIONS.with_borrow_mut(|connections| connections.waiting.retain(|waiter| waiter.turn.1 != self.0));
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        CONNECTIONS.with_borrow_mut(|connections| connections.held.retain(|held| held.id != self.id || held.lingers));
    }
}
