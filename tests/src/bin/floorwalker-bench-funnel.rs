//! `make bench-funnel`: the owner's funnel over 90 days of a busy shop, through the real worker
//! (wrangler dev, local D1), against issue 14's budget.
//!
//! EVENTS (default 1,000,000) events of 10 per visitor-day are written straight into the local D1
//! file before the worker starts (through the API they would take hours of rate-limited batches):
//! 90 days up to today, eight sources, three devices, two languages, the shipped prompts shown,
//! accepted and dismissed; a lead for every 30th visitor and a deal for every 3rd lead. Then the
//! cron's roll-up runs until every day is rolled up (timed: what history costs once), and the
//! funnel for 90 days is read RUNS times (default 30) per split: without one, by day, by source.
//! The figure is the median answer time; the run fails when a split's median is over the budget.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use floorwalker_core::base::phone::PhoneRegion;
use floorwalker_core::insights::day::{Day, DAY_MS};
use floorwalker_core::insights::funnel::Funnel;
use floorwalker_core::leads::lead::LeadKind;
use floorwalker_e2e::leads::request;
use floorwalker_e2e::worker::Worker;

const BUDGET_MS: f64 = 200.0;
const DAYS: u64 = 90;
const EVENTS_PER_VISITOR: u64 = 10;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

/// The SQL that writes the data set: recursive CTEs, so SQLite makes a million rows itself.
fn seed_sql(events: u64, now: u64, lead_json: &str) -> String {
    let visitors = events / EVENTS_PER_VISITOR;
    let today = Day::of_ms(now);
    let first = today.plus(1 - DAYS as i64).start_ms();
    // Visitors of one day arrive a minute apart; today's are spread over what has passed of it.
    let per_day = visitors.div_ceil(DAYS).max(1);
    let today_step = (now.saturating_sub(today.start_ms()).saturating_sub(120_000) / per_day).max(1);
    let lead = lead_json.replace('\'', "''");
    format!(
        r#"PRAGMA synchronous = OFF;
BEGIN;
CREATE TEMP TABLE v AS WITH RECURSIVE n(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM n WHERE v < {last})
  SELECT v, v % {DAYS} AS d,
    {first} + (v % {DAYS}) * {DAY_MS} + CASE WHEN v % {DAYS} = {DAYS} - 1 THEN (v / {DAYS}) * {today_step} ELSE (v / {DAYS}) * 60000 END AS t,
    CASE v % 8 WHEN 0 THEN 'yandex' WHEN 1 THEN 'google' WHEN 2 THEN 'vk' WHEN 3 THEN 'telegram' WHEN 4 THEN 'email'
      WHEN 5 THEN 'partner' WHEN 6 THEN 'ads' ELSE '' END AS src,
    'p' || (v % 12) AS p1, 'p' || ((v + 1) % 12) AS p2
  FROM n;
WITH RECURSIVE k(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM k WHERE k < {EVENTS_PER_VISITOR} - 1)
INSERT INTO events (site, id, visitor, session, type, at, received_at, data, device, language)
SELECT 'demo', printf('e%08d-%d', v, k), printf('visitor%08d', v), printf('session%08d', v),
  json_extract(data, '$.type'), t + k * 5000, t + k * 5000, data,
  CASE v % 3 WHEN 0 THEN 'mobile' WHEN 1 THEN 'desktop' ELSE 'tablet' END,
  CASE v % 4 WHEN 3 THEN 'en' ELSE 'ru' END
FROM (SELECT v.*, k.k,
  CASE k.k
    WHEN 0 THEN json_object('type', 'page_view', 'url', 'https://shop.example/' || CASE WHEN src = '' THEN '' ELSE '?utm_source=' || src END, 'title', 'Кроха')
    WHEN 1 THEN json_object('type', 'page_view', 'url', 'https://shop.example/product/' || p1 || '/', 'title', p1)
    WHEN 2 THEN json_object('type', 'product_view', 'product', json_object('id', p1, 'name', 'Product ' || p1))
    WHEN 3 THEN json_object('type', 'page_view', 'url', 'https://shop.example/product/' || p2 || '/', 'title', p2)
    WHEN 4 THEN json_object('type', 'product_view', 'product', json_object('id', p2, 'name', 'Product ' || p2))
    WHEN 5 THEN json_object('type', 'active_time', 'seconds', 120)
    WHEN 6 THEN json_object('type', 'exit_intent', 'trigger', 'pointer_top')
    WHEN 7 THEN CASE v % 3 WHEN 0 THEN json_object('type', 'prompt_shown', 'prompt', 'compare_by_email')
      WHEN 1 THEN json_object('type', 'prompt_shown', 'prompt', 'child_age')
      ELSE json_object('type', 'page_view', 'url', 'https://shop.example/', 'title', 'Кроха') END
    WHEN 8 THEN CASE WHEN v % 9 = 0 THEN json_object('type', 'prompt_accepted', 'prompt', 'compare_by_email')
      WHEN v % 3 = 1 THEN json_object('type', 'prompt_dismissed', 'prompt', 'child_age')
      ELSE json_object('type', 'active_time', 'seconds', 30) END
    ELSE CASE WHEN v % 20 = 0 THEN json_object('type', 'chat_opened')
      ELSE json_object('type', 'page_view', 'url', 'https://shop.example/', 'title', 'Кроха') END
  END AS data
  FROM v, k);
INSERT INTO leads (id, site, visitor, kind, created_at, data)
SELECT printf('lead_%024x', v), 'demo', printf('visitor%08d', v), 'comparison_email', t + 50000,
  json_set('{lead}', '$.id', printf('lead_%024x', v), '$.visitor', printf('visitor%08d', v), '$.created_at', t + 50000, '$.prompt', 'compare_by_email')
FROM v WHERE v % 30 = 0;
INSERT INTO deals (site, deal, lead, prompt, lead_day, currency, amount_minor, reported_at, data)
SELECT 'demo', 'deal-' || v, printf('lead_%024x', v), 'compare_by_email', (t + 50000) / {DAY_MS}, 'RUB', 4499000, t + 86400000, '{{}}'
FROM v WHERE v % 90 = 0;
COMMIT;
"#,
        last = visitors - 1,
    )
}

fn sqlite_file(state: &Path) -> std::path::PathBuf {
    let dir = state.join("v3/d1/miniflare-D1DatabaseObject");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        // The database's file is named by its hash; miniflare's own bookkeeping is `metadata.sqlite`.
        .find(|p| p.extension().is_some_and(|x| x == "sqlite") && p.file_stem().is_some_and(|s| s != "metadata"))
        .expect("the local D1 file")
}

fn median(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (samples[samples.len() / 2], samples[samples.len() * 95 / 100])
}

#[tokio::main]
async fn main() {
    let events = env_u64("EVENTS", 1_000_000);
    let runs = env_u64("RUNS", 30) as usize;
    let now = now_ms();
    // One real lead, validated by core, as the template of the data set's leads.
    let lead = request(LeadKind::ComparisonEmail, "visitor00000000", "bench", "https://shop.example")
        .validate(PhoneRegion::Ru, now)
        .expect("a valid lead")
        .into_lead();
    let lead_json = serde_json::to_string(&lead).unwrap();

    let seeded = Instant::now();
    let worker = Worker::start_seeded("bench-funnel", |state| {
        let sql = seed_sql(events, now, &lead_json);
        let file = state.join("seed.sql");
        std::fs::write(&file, sql).unwrap();
        let status = Command::new("sqlite3").arg(sqlite_file(state)).stdin(std::fs::File::open(&file).unwrap()).status().expect("sqlite3");
        assert!(status.success(), "seeding with sqlite3 failed");
    })
    .await;
    println!("seeded {events} events ({} visitor-days over {DAYS} days) in {:.1} s", events / EVENTS_PER_VISITOR, seeded.elapsed().as_secs_f64());
    worker.seed_demo_site(&[]).await;

    let rolling = Instant::now();
    let mut days = 0;
    loop {
        let response = worker.http().post(worker.url("/v1/admin/funnel/run")).bearer_auth(&worker.admin_token).send().await.expect("a run");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "POST /v1/admin/funnel/run: {status} {text}");
        let answer: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let n = answer["rolled_up"].as_u64().unwrap();
        days += n;
        if n == 0 {
            break;
        }
    }
    let rollup_s = rolling.elapsed().as_secs_f64();
    println!("rolled up {days} days in {rollup_s:.1} s ({:.0} ms a day, what a read pays for a day not rolled up yet)", rollup_s * 1000.0 / days.max(1) as f64);

    let today = Day::of_ms(now_ms());
    let range = format!("from={}&to={today}", today.plus(1 - DAYS as i64));
    let mut over = Vec::new();
    for by in ["", "&by=day", "&by=source"] {
        let path = format!("/v1/admin/sites/demo/funnel?{range}{by}");
        let mut samples = Vec::with_capacity(runs);
        let mut last = None;
        for _ in 0..runs {
            let started = Instant::now();
            let response = worker.http().get(worker.url(&path)).bearer_auth(&worker.admin_token).send().await.expect("GET funnel");
            let status = response.status();
            let text = response.text().await.unwrap();
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
            assert!(status.is_success(), "{path}: {status} {text}");
            last = Some(text);
        }
        let funnel: Funnel = serde_json::from_str(&last.unwrap()).unwrap();
        let compare = funnel.prompts.iter().find(|p| p.prompt == "compare_by_email").unwrap();
        let (p50, p95) = median(samples);
        let label = if by.is_empty() { "per prompt" } else { by.trim_start_matches("&by=") };
        println!(
            "funnel 90 days, {label:<10}: p50 {p50:6.1} ms, p95 {p95:6.1} ms (budget {BUDGET_MS} ms) — {} visitor-days, compare: {} eligible, {} shown, {} accepted, {} leads, revenue {} deals; {} days missing",
            funnel.site.visitors, compare.counts.eligible, compare.counts.shown, compare.counts.accepted, compare.counts.leads,
            compare.revenue.first().map_or(0, |r| r.deals), funnel.days_missing
        );
        assert_eq!(funnel.days_missing, 0);
        if p50 > BUDGET_MS {
            over.push(label.to_owned());
        }
    }
    let state = worker.state_dir().to_owned();
    drop(worker);
    let _ = std::fs::remove_dir_all(&state);
    std::thread::sleep(Duration::from_millis(10));
    if !over.is_empty() {
        eprintln!("bench-funnel: over the {BUDGET_MS} ms budget: {}", over.join(", "));
        std::process::exit(1);
    }
    println!("bench-funnel: every split within {BUDGET_MS} ms");
}
