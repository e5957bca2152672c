//! Chat helpers for the end-to-end tests and the chat bench: visitor sessions, operator accounts
//! and logins through the real HTTP API, and a WebSocket client speaking core's chat protocol.

use std::time::Duration;

use floorwalker_core::chat::hub::HubNotification;
use floorwalker_core::chat::protocol::{ClientFrame, ServerFrame, CHAT_PROTOCOL_VERSION};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::worker::Worker;

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The shop origin the chat suites write from, as the site config lists it (no server needed: the
/// API checks the Origin header); [`chat_worker`] allows it.
pub const SHOP: &str = "http://shop.example";
/// The password every test operator gets.
pub const PASSWORD: &str = "correct horse battery";

/// A worker with the demo site, [`SHOP`] among its origins.
pub async fn chat_worker(name: &str) -> Worker {
    let worker = Worker::start(name).await;
    worker.seed_demo_site(&[SHOP.to_owned()]).await;
    worker
}

/// A visitor token and the visitor's open conversation, from `POST /v1/chat/session`.
pub struct VisitorSession {
    pub visitor: String,
    pub token: String,
    pub conversation_id: Option<String>,
    pub operator_online: bool,
}

/// Whether each request of [`post_json`] and [`connect`] comes from an address of its own (as
/// many real visitors' would), for the benches: the worker limits each client address
/// (`core::access::public_limits`), and a bench's hundreds of visitors on one loopback address
/// would be one client far over its limits.
static ONE_ADDRESS_PER_REQUEST: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static NEXT_ADDRESS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

/// Makes every later request of this process come from an address of its own (see above).
pub fn one_address_per_request() {
    ONE_ADDRESS_PER_REQUEST.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// The `CF-Connecting-IP` to send, if requests are spread over addresses: 10.x.y.z, a new one each time.
fn client_address() -> Option<String> {
    use std::sync::atomic::Ordering::Relaxed;
    ONE_ADDRESS_PER_REQUEST.load(Relaxed).then(|| {
        let [_, x, y, z] = NEXT_ADDRESS.fetch_add(1, Relaxed).to_be_bytes();
        format!("10.{x}.{y}.{z}")
    })
}

/// POSTs JSON as the widget does (`text/plain`, no preflight). A request that fails at the
/// connection level (a pooled keep-alive connection closed under load) is tried again; the chat
/// endpoints used this way are idempotent.
pub async fn post_json(worker: &Worker, path: &str, origin: Option<&str>, body: &Value) -> (u16, Value) {
    let mut attempt = 0;
    let response = loop {
        let mut request = worker.http().post(worker.url(path)).header("content-type", "text/plain;charset=UTF-8").body(body.to_string());
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(address) = client_address() {
            request = request.header("cf-connecting-ip", address);
        }
        match request.send().await {
            Ok(response) => break response,
            Err(error) if attempt < 3 => {
                attempt += 1;
                eprintln!("retrying POST {path}: {error}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => panic!("POST {path}: {error}"),
        }
    };
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub async fn visitor_session(worker: &Worker, origin: &str, visitor: &str) -> VisitorSession {
    let (status, body) = post_json(worker, "/v1/chat/session", Some(origin), &json!({"site": "demo", "visitor": visitor})).await;
    assert_eq!(status, 200, "chat session: {body}");
    VisitorSession {
        visitor: visitor.to_owned(),
        token: body["token"].as_str().expect("a token").to_owned(),
        conversation_id: body["conversation_id"].as_str().map(str::to_owned),
        operator_online: body["operator_online"].as_bool().unwrap_or(false),
    }
}

pub async fn start_conversation(worker: &Worker, origin: &str, token: &str) -> String {
    let (status, body) = post_json(worker, "/v1/chat/conversations", Some(origin), &json!({"token": token})).await;
    assert!(status == 200 || status == 201, "starting a conversation: {status} {body}");
    body["conversation_id"].as_str().expect("a conversation id").to_owned()
}

/// Creates an operator account for the demo site through the admin API.
pub async fn create_operator(worker: &Worker, email: &str, name: &str, password: &str) {
    let body = json!({"email": email, "name": name, "password": password});
    let (status, answer) = worker.admin_send(reqwest::Method::POST, "/sites/demo/operators", Some(body)).await;
    assert!((200..300).contains(&status), "creating an operator: {status} {answer}");
}

/// Logs in through `POST /v1/console/login` and returns the `Cookie` header value to send.
pub async fn login(worker: &Worker, email: &str, password: &str) -> String {
    let request = worker.http().post(worker.url("/v1/console/login")).header("origin", worker.origin()).json(&json!({"email": email, "password": password}));
    let response = request.send().await.expect("POST /v1/console/login");
    let status = response.status();
    if !status.is_success() {
        panic!("login: {status} {}", response.text().await.unwrap_or_default());
    }
    let set_cookie = response.headers().get("set-cookie").expect("a session cookie").to_str().expect("ASCII").to_owned();
    set_cookie.split(';').next().expect("name=value").to_owned()
}

/// Relay ports whose sockets connect to workerd's own port instead (see
/// `Worker::sockets_straight_to_workerd`).
static STRAIGHT: std::sync::Mutex<std::collections::BTreeMap<u16, u16>> = std::sync::Mutex::new(std::collections::BTreeMap::new());

/// Has sockets for `relay_port` connect to `workerd_port`.
pub fn connect_straight(relay_port: u16, workerd_port: u16) {
    STRAIGHT.lock().expect("the straight ports").insert(relay_port, workerd_port);
}

/// Opens a WebSocket with the given `Origin` (and `Cookie`); the error carries the refusal status.
pub async fn connect(url: &str, origin: Option<&str>, cookie: Option<&str>) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut request = url.into_client_request()?;
    if let Some(origin) = origin {
        request.headers_mut().insert("origin", HeaderValue::from_str(origin).expect("an origin header"));
    }
    if let Some(cookie) = cookie {
        request.headers_mut().insert("cookie", HeaderValue::from_str(cookie).expect("a cookie header"));
    }
    if let Some(address) = client_address() {
        request.headers_mut().insert("cf-connecting-ip", HeaderValue::from_str(&address).expect("an address header"));
    }
    let straight = request.uri().port_u16().and_then(|port| STRAIGHT.lock().expect("the straight ports").get(&port).copied());
    let handshake = async {
        match straight {
            // The request, its Host header included, is the relay's; only the connection is workerd's.
            Some(port) => {
                let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
                tokio_tungstenite::client_async(request, tokio_tungstenite::MaybeTlsStream::Plain(stream)).await
            }
            None => tokio_tungstenite::connect_async(request).await,
        }
    };
    // A handshake with no answer is an error, not a hang.
    match tokio::time::timeout(std::time::Duration::from_secs(30), handshake).await {
        Ok(connected) => connected.map(|(ws, _)| ws),
        Err(_) => Err(tokio_tungstenite::tungstenite::Error::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, format!("{url}: no handshake in 30 s")))),
    }
}

/// The HTTP status a refused WebSocket handshake got (panics if it was accepted).
pub async fn refused_status(url: &str, origin: Option<&str>, cookie: Option<&str>) -> u16 {
    match connect(url, origin, cookie).await {
        Ok(_) => panic!("{url} accepted a socket it should refuse"),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("{url}: expected an HTTP refusal, got {other}"),
    }
}

pub fn ws_url(worker: &Worker, path: &str) -> String {
    format!("ws://127.0.0.1:{}{path}", worker.port)
}

/// A chat participant's socket speaking core's frames.
pub struct ChatSocket {
    pub ws: Ws,
}

impl ChatSocket {
    pub async fn visitor(worker: &Worker, origin: &str, conversation: &str, token: &str) -> ChatSocket {
        let url = ws_url(worker, &format!("/v1/chat/conversations/{conversation}/ws?token={token}"));
        ChatSocket { ws: connect(&url, Some(origin), None).await.expect("visitor socket") }
    }

    pub async fn operator(worker: &Worker, conversation: &str, cookie: &str) -> ChatSocket {
        let url = ws_url(worker, &format!("/v1/console/conversations/{conversation}/ws"));
        ChatSocket { ws: connect(&url, Some(&worker.origin()), Some(cookie)).await.expect("operator socket") }
    }

    pub async fn send(&mut self, frame: &ClientFrame) {
        self.send_text(serde_json::to_string(frame).expect("a frame")).await;
    }

    pub async fn send_text(&mut self, text: String) {
        self.ws.send(Message::text(text)).await.expect("sending a frame");
    }

    pub async fn hello(&mut self, last_seen_seq: u64) -> floorwalker_core::chat::protocol::Welcome {
        self.send(&ClientFrame::Hello { v: CHAT_PROTOCOL_VERSION, last_seen_seq, client_id: "test-client".into() }).await;
        match self.next().await {
            ServerFrame::Welcome(welcome) => welcome,
            other => panic!("expected a welcome, got {other:?}"),
        }
    }

    pub async fn say(&mut self, client_msg_id: &str, text: &str) {
        self.send(&ClientFrame::Send { client_msg_id: client_msg_id.into(), text: text.into() }).await;
    }

    /// The next server frame (10 s at most).
    pub async fn next(&mut self) -> ServerFrame {
        self.try_next(Duration::from_secs(10)).await.expect("a server frame within 10 s")
    }

    pub async fn try_next(&mut self, wait: Duration) -> Option<ServerFrame> {
        loop {
            let message = tokio::time::timeout(wait, self.ws.next()).await.ok()??.ok()?;
            match message {
                Message::Text(text) => return Some(serde_json::from_str(text.as_str()).unwrap_or_else(|e| panic!("{e}: {text}"))),
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Frames until `pick` accepts one (10 s at most); the others are returned too, in order.
    pub async fn until<T>(&mut self, what: &str, mut pick: impl FnMut(&ServerFrame) -> Option<T>) -> (T, Vec<ServerFrame>) {
        let mut seen = Vec::new();
        loop {
            let frame = self.try_next(Duration::from_secs(10)).await.unwrap_or_else(|| panic!("timed out waiting for {what}; saw {seen:?}"));
            if let Some(value) = pick(&frame) {
                return (value, seen);
            }
            seen.push(frame);
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// An operator console's hub socket.
pub struct ConsoleSocket {
    pub ws: Ws,
}

impl ConsoleSocket {
    pub async fn open(worker: &Worker, cookie: &str) -> ConsoleSocket {
        let url = ws_url(worker, "/v1/console/ws");
        ConsoleSocket { ws: connect(&url, Some(&worker.origin()), Some(cookie)).await.expect("console socket") }
    }

    pub async fn until<T>(&mut self, what: &str, mut pick: impl FnMut(&HubNotification) -> Option<T>) -> T {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
                .map(|frame| frame.expect("a console frame"))
                .unwrap_or_else(|| panic!("console socket closed waiting for {what}"));
            if let Message::Text(text) = message {
                let notification: HubNotification = serde_json::from_str(text.as_str()).unwrap_or_else(|e| panic!("{e}: {text}"));
                if let Some(value) = pick(&notification) {
                    return value;
                }
            }
        }
    }
}

/// The demo site's chat events in the delivery outbox (`outbox_events`), through the admin API:
/// `payload` is the event (`{"type", "data"}`), `deliveries` / `delivered` count its deliveries.
pub async fn outbox(worker: &Worker, kind: Option<&str>) -> Vec<Value> {
    let mut url = worker.url("/v1/admin/chat/outbox?site=demo");
    if let Some(kind) = kind {
        url.push_str(&format!("&type={kind}"));
    }
    let response = worker.http().get(url).bearer_auth(&worker.admin_token).send().await.expect("GET outbox");
    assert!(response.status().is_success(), "outbox: {}", response.status());
    response.json().await.expect("outbox JSON")
}
