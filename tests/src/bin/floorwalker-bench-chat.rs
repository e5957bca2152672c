//! `make bench-chat`: visitor → operator message latency over the real worker (wrangler dev on
//! loopback) with 1, 100 and 500 concurrent conversations, and the local stack's RSS and CPU
//! during each run. Sockets connect to workerd itself, not through the relay the tests put in
//! front of it (`scripts/wrangler-dev.mjs`): nothing stands between a socket and the worker in
//! production, and the relay's CPU per frame would be counted as the worker's. Bounded: every
//! conversation sends `MESSAGES` messages, then the run stops.
//!
//! Each conversation has a visitor socket and an operator socket; the visitor sends a message,
//! the clock stops when the operator's socket receives it, and the next follows after a short
//! pause. All conversations run at once.
//!
//! With `RATE=R` (messages a second, all conversations together) it runs open-loop instead: each
//! conversation writes every C/R seconds whether or not earlier messages arrived, the starts
//! spread over one interval, for `WARMUP` (3 s, not counted) plus `SECONDS` (15 s) measured. A
//! visitor may write 20 messages a minute, so every third message is the visitor's and the rest
//! the operator's; each is timed from its send to the other side's socket. It prints
//! `chat: C conversations, R msg/s offered, D msg/s delivered, p50 X ms, p99 Y ms, cpu Z ms/msg`
//! (cpu: every process of the local stack, wrangler's node and workerd, per message delivered in the
//! measured window).

use std::sync::Arc;
use std::time::{Duration, Instant};

use floorwalker_core::chat::hub::HubNotification;
use floorwalker_core::chat::protocol::ServerFrame;
use floorwalker_e2e::chat::*;
use floorwalker_e2e::worker::Worker;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

const MESSAGES: usize = 5;

/// The console's list lines as they arrive: when, and how old the line's last activity was then
/// (the worker's clock and this one are the machine's).
static LIST_LINES: std::sync::Mutex<Vec<(tokio::time::Instant, u64)>> = std::sync::Mutex::new(Vec::new());
const PAUSE: Duration = Duration::from_millis(200);

/// The local stack: every process in wrangler's process group (wrangler's node and its workerd
/// processes): (pid, rss kB, cpu ticks, whether it is workerd).
fn stack(pgid: u32) -> Vec<(u32, u64, u64, bool)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let Some((head, tail)) = stat.rsplit_once(") ") else { continue };
        let fields: Vec<&str> = tail.split_whitespace().collect();
        // After "comm) ": state ppid pgrp ... utime(14th field overall → index 11) stime(12).
        let (Some(pgrp), Some(utime), Some(stime)) = (fields.get(2), fields.get(11), fields.get(12)) else { continue };
        if pgrp.parse::<u32>().ok() != Some(pgid) {
            continue;
        }
        let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
            .unwrap_or(0);
        found.push((pid, rss, utime.parse::<u64>().unwrap_or(0) + stime.parse::<u64>().unwrap_or(0), head.contains("workerd")));
    }
    found
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

type Pair = (ChatSocket, ChatSocket);

/// Sets up every conversation first (sessions, starts, both sockets), a few at a time.
async fn pairs(worker: &Arc<Worker>, cookie: &Arc<String>, conversations: usize, round: usize) -> Vec<Pair> {
    let setup = Arc::new(Semaphore::new(16));
    let mut pairs = Vec::new();
    for i in 0..conversations {
        let (worker, cookie, setup) = (worker.clone(), cookie.clone(), setup.clone());
        pairs.push(tokio::spawn(async move {
            let _permit = setup.acquire().await.expect("semaphore");
            let visitor = visitor_session(&worker, SHOP, &format!("bench-r{round}-v{i:05}")).await;
            let conv = start_conversation(&worker, SHOP, &visitor.token).await;
            let mut v = ChatSocket::visitor(&worker, SHOP, &conv, &visitor.token).await;
            v.hello(0).await;
            let mut op = ChatSocket::operator(&worker, &conv, &cookie).await;
            op.hello(0).await;
            (v, op)
        }));
    }
    let mut ready = Vec::new();
    for pair in pairs {
        ready.push(pair.await.expect("setting up a conversation"));
    }
    ready
}

async fn run(worker: &Arc<Worker>, cookie: &Arc<String>, conversations: usize, round: usize) {
    let ready = pairs(worker, cookie, conversations, round).await;
    let pgid = worker.pid().expect("wrangler is running");
    let before = stack(pgid);
    let started = Instant::now();
    let mut runs = Vec::new();
    for (i, (mut v, mut op)) in ready.into_iter().enumerate() {
        runs.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(MESSAGES);
            for m in 0..MESSAGES {
                let id = format!("b{round}-{i:05}-{m:03}");
                let sent = Instant::now();
                v.say(&id, &format!("message {m} of conversation {i}")).await;
                let want = id.clone();
                op.until("the visitor's message", |f| match f {
                    ServerFrame::Message(msg) if msg.client_msg_id.as_deref() == Some(want.as_str()) => Some(()),
                    _ => None,
                })
                .await;
                latencies.push(sent.elapsed());
                tokio::time::sleep(PAUSE).await;
            }
            v.close().await;
            op.close().await;
            latencies
        }));
    }
    let mut all = Vec::new();
    for run in runs {
        all.extend(run.await.expect("a conversation's run"));
    }
    let wall = started.elapsed();
    let after = stack(pgid);
    all.sort();
    let ticks_per_s = 100.0; // USER_HZ on Linux
    let cpu: u64 = after.iter().map(|a| a.2).sum::<u64>().saturating_sub(before.iter().map(|b| b.2).sum::<u64>());
    let rss: u64 = after.iter().map(|a| a.1).sum();
    println!(
        "{conversations:>5} conversations  {:>5} messages  p50 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms  wall {:>5.1} s  workerd RSS {:>4} MB  CPU {:>5.1} s ({:>3.0}% of one core)",
        all.len(),
        percentile(&all, 50.0).as_secs_f64() * 1000.0,
        percentile(&all, 99.0).as_secs_f64() * 1000.0,
        all.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
        wall.as_secs_f64(),
        rss / 1024,
        cpu as f64 / ticks_per_s,
        cpu as f64 / ticks_per_s / wall.as_secs_f64() * 100.0,
    );
}

enum Event {
    Tick,
    Visitor(Option<Message>),
    Operator(Option<Message>),
}

/// A frame's message id when it is a chat message.
fn message_id(message: Option<Message>) -> Option<String> {
    let Some(Message::Text(text)) = message else { return None };
    match serde_json::from_str::<ServerFrame>(text.as_str()).ok()? {
        ServerFrame::Message(msg) => msg.client_msg_id,
        _ => None,
    }
}

/// What the worker has counted so far (`GET /v1/admin/tally`).
async fn tally(worker: &Worker) -> serde_json::Value {
    worker.admin_get("/tally").await
}

fn env_secs(name: &str, default: u64) -> Duration {
    Duration::from_secs(std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default))
}

async fn open_loop(worker: &Arc<Worker>, cookie: &Arc<String>, conversations: usize, rate: f64, round: usize) {
    use futures_util::StreamExt;
    use std::collections::HashMap;
    let (warmup, measured) = (env_secs("WARMUP", 3), env_secs("SECONDS", 15));
    let ready = pairs(worker, cookie, conversations, round).await;
    let interval = Duration::from_secs_f64(conversations as f64 / rate);
    let t0 = tokio::time::Instant::now() + Duration::from_millis(500);
    let (from, to) = (t0 + warmup, t0 + warmup + measured);
    let mut runs = Vec::new();
    for (i, (mut v, mut op)) in ready.into_iter().enumerate() {
        runs.push(tokio::spawn(async move {
            let mut next = t0 + interval.mul_f64(i as f64 / conversations as f64);
            let mut sent: HashMap<String, tokio::time::Instant> = HashMap::new();
            let (mut latencies, mut m) = (Vec::new(), 0usize);
            // Until every message sent arrived, or 10 s after the last send.
            let give_up = to + Duration::from_secs(10);
            while (next < to || !sent.is_empty()) && tokio::time::Instant::now() < give_up {
                let sending = next < to;
                let event = tokio::select! {
                    _ = tokio::time::sleep_until(next), if sending => Event::Tick,
                    _ = tokio::time::sleep_until(give_up) => break,
                    frame = v.ws.next() => Event::Visitor(frame.and_then(Result::ok)),
                    frame = op.ws.next() => Event::Operator(frame.and_then(Result::ok)),
                };
                let now = tokio::time::Instant::now();
                match event {
                    Event::Tick => {
                        let by_visitor = m % 3 == 0;
                        let id = format!("{}{round}-{i:05}-{m:05}", if by_visitor { 'v' } else { 'o' });
                        let text = format!("message {m} of conversation {i}");
                        if by_visitor { v.say(&id, &text).await } else { op.say(&id, &text).await }
                        sent.insert(id, now);
                        m += 1;
                        next += interval;
                    }
                    // Each side times the other's messages.
                    Event::Visitor(frame) => {
                        if let Some(id) = message_id(frame).filter(|id| id.starts_with('o')) {
                            if let Some(at) = sent.remove(&id) {
                                latencies.push((at, now - at));
                            }
                        }
                    }
                    Event::Operator(frame) => {
                        if let Some(id) = message_id(frame).filter(|id| id.starts_with('v')) {
                            if let Some(at) = sent.remove(&id) {
                                latencies.push((at, now - at));
                            }
                        }
                    }
                }
            }
            v.close().await;
            op.close().await;
            (latencies, sent.len())
        }));
    }
    let pgid = worker.pid().expect("wrangler is running");
    tokio::time::sleep_until(from).await;
    let before = stack(pgid);
    let tally_before = tally(worker).await;
    tokio::time::sleep_until(to).await;
    let after = stack(pgid);
    let tally_after = tally(worker).await;
    let (mut window, mut lost) = (Vec::new(), 0);
    for run in runs {
        let (latencies, missing) = run.await.expect("a conversation's run");
        lost += missing;
        window.extend(latencies.into_iter().filter(|(at, _)| *at >= from && *at < to).map(|(_, d)| d));
    }
    window.sort();
    // USER_HZ is 100: a tick is 10 ms.
    let cpu_ms = |workerd_only: bool| {
        let ticks = |at: &[(u32, u64, u64, bool)]| at.iter().filter(|p| p.3 || !workerd_only).map(|p| p.2).sum::<u64>();
        ticks(&after).saturating_sub(ticks(&before)) as f64 * 10.0
    };
    let (cpu_ms, workerd_ms) = (cpu_ms(false), cpu_ms(true));
    let delivered = window.len() as f64 / measured.as_secs_f64();
    println!(
        "chat: {conversations} conversations, {rate:.0} msg/s offered, {delivered:.0} msg/s delivered, p50 {:.1} ms, p99 {:.1} ms, cpu {:.2} ms/msg",
        percentile(&window, 50.0).as_secs_f64() * 1000.0,
        percentile(&window, 99.0).as_secs_f64() * 1000.0,
        cpu_ms / window.len().max(1) as f64,
    );
    println!("  cpu by process: workerd {:.2} ms/msg, wrangler's node {:.2} ms/msg", workerd_ms / window.len().max(1) as f64, (cpu_ms - workerd_ms) / window.len().max(1) as f64);
    let per_message = |name: &str| {
        let count = |t: &serde_json::Value| t[name].as_u64().unwrap_or(0);
        (count(&tally_after) - count(&tally_before)) as f64 / window.len().max(1) as f64
    };
    println!(
        "  per message: {:.2} frames, {:.2} alarms rung, {:.2} alarms set, {:.2} hub entries, {:.2} D1 round trips",
        per_message("chat_frames"),
        per_message("conversation_alarms"),
        per_message("conversation_alarms_set"),
        per_message("hub_entries"),
        per_message("d1_round_trips"),
    );
    let mut ages: Vec<Duration> =
        LIST_LINES.lock().expect("the list lines").iter().filter(|(at, _)| *at >= from && *at < to).map(|(_, age)| Duration::from_millis(*age)).collect();
    ages.sort();
    println!(
        "  list lines at the console: {:.0}/s, age on arrival p50 {:.0} ms, p99 {:.0} ms (the hub's pace at work)",
        ages.len() as f64 / measured.as_secs_f64(),
        percentile(&ages, 50.0).as_secs_f64() * 1000.0,
        percentile(&ages, 99.0).as_secs_f64() * 1000.0,
    );
    if lost > 0 {
        println!("  ({lost} messages never arrived within 10 s of the last send)");
    }
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![1, 100, 500] } else { sizes };
    // Hundreds of visitors are hundreds of addresses, not one client over every rate limit.
    floorwalker_e2e::chat::one_address_per_request();
    let mut worker = Worker::start_in_memory("bench-chat").await;
    worker.sockets_straight_to_workerd();
    worker.seed_demo_site(&[SHOP.to_owned()]).await;
    create_operator(&worker, "bench@demo.example", "Bench", "bench password 123").await;
    let cookie = login(&worker, "bench@demo.example", "bench password 123").await;
    // An operator online, so no conversation turns into a callback offer; its list updates are
    // read as a console would, each line's age noted (`LIST_LINES`).
    let mut console = ConsoleSocket::open(&worker, &cookie).await;
    tokio::spawn(async move {
        use futures_util::StreamExt;
        while let Some(message) = console.ws.next().await {
            let Ok(Message::Text(text)) = message else { continue };
            let Ok(notification) = serde_json::from_str::<HubNotification>(text.as_str()) else { continue };
            if let HubNotification::ConversationUpdated { entry } | HubNotification::ConversationOpened { entry } = notification {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_millis() as u64;
                LIST_LINES.lock().expect("the list lines").push((tokio::time::Instant::now(), now.saturating_sub(entry.updated_at)));
            }
        }
    });
    let worker = Arc::new(worker);
    let cookie = Arc::new(cookie);
    let idle = stack(worker.pid().expect("wrangler is running"));
    let rate: Option<f64> = std::env::var("RATE").ok().and_then(|r| r.parse().ok());
    match rate {
        Some(rate) => println!(
            "chat latency, each side's socket → worker → Conversation DO → the other side's socket, loopback; open loop at {rate} msg/s, warm-up {} s, measured {} s",
            env_secs("WARMUP", 3).as_secs(),
            env_secs("SECONDS", 15).as_secs()
        ),
        None => println!(
            "chat latency, visitor socket → worker → Conversation DO → operator socket, loopback; {MESSAGES} messages per conversation, {} ms apart",
            PAUSE.as_millis()
        ),
    }
    println!("local stack processes {:?}, idle RSS {} MB", idle.iter().map(|p| p.0).collect::<Vec<_>>(), idle.iter().map(|p| p.1).sum::<u64>() / 1024);
    for (round, n) in sizes.into_iter().enumerate() {
        match rate {
            Some(rate) => open_loop(&worker, &cookie, n, rate, round).await,
            None => run(&worker, &cookie, n, round).await,
        }
    }
}
