//! `make bench-webhooks`: lead → CRM delivery through the real worker (wrangler dev, local D1 and
//! Queues) to a real receiver on loopback.
//!
//! 0. Paced: PACED_LEADS leads (default 40) one at a time: latency = POST sent → lead.created
//!    received, without a backlog.
//! 1. Steady: LEADS callback leads (default 200) posted with CONCURRENCY (default 8) parallel
//!    clients; latency = POST sent → lead.created received; throughput = deliveries (each lead
//!    makes two webhooks, lead.created and callback.requested, and nothing else) delivered per
//!    second from the first POST to the last delivery. Callback leads, so that every delivery the
//!    worker makes is one the receiver counts (a comparison lead also makes an email).
//! 2. Outage: the receiver fails (500s, then hangs past the timeout) while OUTAGE_LEADS (default 30)
//!    leads arrive, then recovers; counts leads that never reached it (must be 0).
//!
//! Runs on test timing (`FLOORWALKER_TEST_TIMING=1`), which only shortens retry delays.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use floorwalker_core::leads::lead::LeadKind;
use floorwalker_core::outbound::delivery::LeadReceipt;
use floorwalker_e2e::leads::request;
use floorwalker_e2e::receiver::{Receiver, Reply};
use floorwalker_e2e::worker::Worker;
use reqwest::Method;
use serde_json::json;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Posts `count` leads with `concurrency` clients; returns lead id → when its POST was sent.
async fn post_leads(worker: &Arc<Worker>, kind: LeadKind, prefix: &str, count: usize, concurrency: usize) -> HashMap<String, Instant> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (worker, next, prefix) = (worker.clone(), next.clone(), prefix.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= count {
                    break;
                }
                let mut body = request(kind, &format!("visitor-{prefix}-{n}"), &format!("{prefix}{n}"), &worker.origin());
                if kind == LeadKind::ComparisonEmail {
                    // One address per lead: the mail caps count per recipient.
                    body.contact.email = Some(format!("anna+{prefix}{n}@example.com"));
                }
                let started = Instant::now();
                // As the widget does: a failed POST is retried with the same idempotency key.
                let mut tries = 0;
                let receipt: LeadReceipt = loop {
                    tries += 1;
                    let response =
                        worker.http().post(worker.url("/v1/leads")).header("origin", worker.origin()).json(&body).send().await;
                    match response {
                        Ok(r) if r.status().is_success() => break r.json().await.expect("receipt"),
                        Ok(r) if tries < 5 && r.status().is_server_error() => {}
                        Err(_) if tries < 5 => {}
                        Ok(r) => panic!("POST /v1/leads: {} {}", r.status(), r.text().await.unwrap_or_default()),
                        Err(e) => panic!("POST /v1/leads: {e}"),
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                };
                sent.push((receipt.id, started));
            }
            sent
        }));
    }
    let mut all = HashMap::new();
    for task in tasks {
        all.extend(task.await.expect("a client task"));
    }
    all
}

/// Lead id → when its lead.created was first answered 2xx by the receiver.
fn delivered(receiver: &Receiver) -> HashMap<String, Instant> {
    let mut seen = HashMap::new();
    for r in receiver.received().iter().filter(|r| r.delivered()) {
        let body = r.json();
        if body["type"] == "lead.created" {
            if let Some(id) = body["data"]["id"].as_str() {
                seen.entry(id.to_owned()).or_insert(r.at);
            }
        }
    }
    seen
}

/// When each delivery (a webhook-id answered 2xx) of the leads `ids` first arrived.
fn deliveries_of(receiver: &Receiver, ids: &HashMap<String, Instant>) -> Vec<Instant> {
    let mut seen: HashMap<String, Instant> = HashMap::new();
    for r in receiver.received().iter().filter(|r| r.delivered()) {
        let body = r.json();
        if body["data"]["id"].as_str().is_some_and(|id| ids.contains_key(id)) {
            seen.entry(r.header("webhook-id").unwrap_or_default().to_owned()).or_insert(r.at);
        }
    }
    seen.into_values().collect()
}

async fn wait_for(receiver: &Receiver, ids: &HashMap<String, Instant>, limit: Duration) -> HashMap<String, Instant> {
    let deadline = Instant::now() + limit;
    loop {
        let seen = delivered(receiver);
        if ids.keys().all(|id| seen.contains_key(id)) || Instant::now() > deadline {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The worker's count of its D1 round trips so far (an admin route of test deployments).
async fn round_trips(worker: &Worker) -> u64 {
    let answer: serde_json::Value = worker.admin_get("/tally").await;
    answer["d1_round_trips"].as_u64().expect("d1_round_trips")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let leads = env_usize("LEADS", 200);
    let concurrency = env_usize("CONCURRENCY", 8);
    let outage_leads = env_usize("OUTAGE_LEADS", 30);

    let worker = Arc::new(Worker::start_in_memory("bench-webhooks").await);
    worker.seed_demo_site(&[]).await;
    let settings = json!({"allow_private_endpoints": true, "lead_limits": {"per_ip": 100000, "per_visitor": 10, "window_s": 600}, "mail_limits": {"per_recipient": 100, "per_ip": 10000, "per_site": 1000000}});
    let (status, body) = worker.admin_send(Method::PUT, "/sites/demo/delivery", Some(settings)).await;
    assert_eq!(status, 200, "{body}");
    let receiver = Receiver::start();
    let endpoint = worker.add_endpoint(json!({"id": "crm", "url": receiver.url("/hooks"), "preset": {"kind": "generic"}})).await;
    receiver.set_secrets(vec![endpoint.secret]);

    // Warm-up: the first requests compile and instantiate the worker.
    let warm = post_leads(&worker, LeadKind::ComparisonEmail, "warm", 5, 1).await;
    wait_for(&receiver, &warm, Duration::from_secs(30)).await;

    // Paced: one lead at a time, so the latency is the path itself, not a backlog.
    let paced = env_usize("PACED_LEADS", 40);
    println!("paced: {paced} leads, one every 250 ms");
    let trips_before = round_trips(&worker).await;
    let mut latencies = Vec::new();
    for n in 0..paced {
        let one = post_leads(&worker, LeadKind::ComparisonEmail, &format!("paced{n}x"), 1, 1).await;
        let seen = wait_for(&receiver, &one, Duration::from_secs(60)).await;
        for (id, at) in &one {
            latencies.extend(seen.get(id).map(|got| got.saturating_duration_since(*at)));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // The last lead's queue message (the backstop) finds its deliveries done a batch window later.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let paced_trips = (round_trips(&worker).await - trips_before) as f64 / paced as f64;
    latencies.sort();
    println!("  D1 round trips per lead: {paced_trips:.1} (the POST, the first attempt of its webhook and its email, the queue's backstop message)");
    println!(
        "  lead -> CRM latency: p50 {} ms, p99 {} ms (POST sent to webhook received)",
        percentile(&latencies, 0.50).as_millis(),
        percentile(&latencies, 0.99).as_millis()
    );

    let (healthy_p50, healthy_p99) = (percentile(&latencies, 0.50).as_millis(), percentile(&latencies, 0.99).as_millis());

    println!("steady: {leads} callback leads (two webhooks each), {concurrency} concurrent clients");
    let trips_before = round_trips(&worker).await;
    let start = Instant::now();
    let sent = post_leads(&worker, LeadKind::Callback, "steady", leads, concurrency).await;
    let posted_in = start.elapsed();
    let seen = wait_for(&receiver, &sent, Duration::from_secs(300)).await;
    let mut latencies: Vec<Duration> =
        sent.iter().filter_map(|(id, at)| seen.get(id).map(|got| got.saturating_duration_since(*at))).collect();
    latencies.sort();
    let last = sent.keys().filter_map(|id| seen.get(id)).max().copied().unwrap_or(start);
    let missing = sent.len() - latencies.len();
    println!("  posted in {:.2} s ({:.1} leads/s accepted)", posted_in.as_secs_f64(), leads as f64 / posted_in.as_secs_f64());
    println!(
        "  lead -> CRM latency under load: p50 {} ms, p99 {} ms, max {} ms",
        percentile(&latencies, 0.50).as_millis(),
        percentile(&latencies, 0.99).as_millis(),
        latencies.last().copied().unwrap_or_default().as_millis()
    );
    // Every delivery of these leads, not only lead.created: wait for the last ones too.
    let expected = sent.len() * 2;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut deliveries = deliveries_of(&receiver, &sent);
    while deliveries.len() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        deliveries = deliveries_of(&receiver, &sent);
    }
    let last = deliveries.iter().max().copied().unwrap_or(last).max(last);
    let span = last.saturating_duration_since(start).as_secs_f64();
    let sustained = deliveries.len() as f64 / span;
    let undelivered = expected - deliveries.len();
    println!("  deliveries: {} of {expected} in {span:.2} s = {sustained:.1}/s sustained; leads without lead.created: {missing}", deliveries.len());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    println!("  D1 round trips per lead: {:.1}", (round_trips(&worker).await - trips_before) as f64 / leads as f64);

    println!("outage: {outage_leads} leads while the receiver fails (500 x40, then 10 hangs past the timeout), then recovers");
    receiver.script(std::iter::repeat_n(Reply::Status(500), 40));
    receiver.script(std::iter::repeat_n(Reply::Hang(Duration::from_secs(7)), 10));
    let start = Instant::now();
    let sent = post_leads(&worker, LeadKind::ComparisonEmail, "outage", outage_leads, 4).await;
    let seen = wait_for(&receiver, &sent, Duration::from_secs(300)).await;
    let lost = sent.keys().filter(|id| !seen.contains_key(*id)).count();
    let duplicates = {
        let mut count: HashMap<String, usize> = HashMap::new();
        for r in receiver.received().iter().filter(|r| r.delivered()) {
            *count.entry(r.header("webhook-id").unwrap_or_default().to_owned()).or_default() += 1;
        }
        count.values().filter(|&&n| n > 1).count()
    };
    println!(
        "  all delivered after {:.1} s; leads lost: {lost}; webhook-ids delivered twice: {duplicates}",
        start.elapsed().as_secs_f64()
    );
    // The lines, for scripts.
    println!("webhooks: lead->CRM healthy p50 {healthy_p50} ms, p99 {healthy_p99} ms");
    println!("webhooks: {paced_trips:.1} D1 round trips per lead");
    println!("webhooks: sustained {sustained:.0} deliveries/s, lost {}", undelivered + lost);
    if lost > 0 || missing > 0 || undelivered > 0 || duplicates > 0 {
        std::process::exit(1);
    }
}
