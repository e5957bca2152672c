//! The real worker under `wrangler dev`, with local D1 state in a directory of its own.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use floorwalker_core::prompts::config::SiteConfig;
use floorwalker_core::visitor::event::StoredEvent;

use crate::{free_port, repo_root};

pub struct Worker {
    pub port: u16,
    pub admin_token: String,
    /// Signs the one-click links in emails (the `LINK_SECRET` secret in production).
    pub link_secret: String,
    /// `FLOORWALKER_TEST_TIMING=1`, the deploy-level switch of the tests: the delivery schedule
    /// runs an hour per second, and site configs may shorten the prompt engine's time floors
    /// (`widget.test_timing`). Never set in production.
    pub test_timing: bool,
    /// More `--var NAME:VALUE` pairs (an email provider pointed at a test double, ...).
    vars: Vec<(String, String)>,
    state_dir: PathBuf,
    /// Its state lives in memory ([`Worker::start_in_memory`]): nothing to keep for a post-mortem.
    remove_state_on_stop: bool,
    child: Option<Child>,
    http: reqwest::Client,
}

impl Worker {
    /// Applies the D1 migrations to fresh state and starts `wrangler dev` on a free port, with the
    /// test-timing switch on.
    pub async fn start(name: &str) -> Worker {
        Worker::start_with_vars(name, &[]).await
    }

    /// Like [`Worker::start`], with more vars (which override `wrangler.toml`'s).
    pub async fn start_with_vars(name: &str, vars: &[(&str, &str)]) -> Worker {
        Worker::launch(free_port(), Worker::fresh_state_dir(name), random_token(), true, vars).await
    }

    /// Like [`Worker::start`], with `seed` run on the migrated local state before the worker
    /// starts (a benchmark writes its data set straight into the D1 file).
    pub async fn start_seeded(name: &str, seed: impl FnOnce(&Path)) -> Worker {
        let mut worker = Worker::prepare(free_port(), Worker::fresh_state_dir(name), random_token(), true);
        worker.migrate();
        seed(&worker.state_dir);
        worker.spawn().await;
        worker
    }

    /// Like [`Worker::start`], with the state in memory (`/dev/shm`, where there is one) and
    /// removed when the worker stops: a benchmark measures the worker, not the disk's fsyncs
    /// (every local Durable Object write is a commit on workerd's one thread).
    pub async fn start_in_memory(name: &str) -> Worker {
        let shm = Path::new("/dev/shm");
        let state_dir = if shm.is_dir() { shm.join(format!("floorwalker-{name}-{}-{}", std::process::id(), free_port())) } else { Worker::fresh_state_dir(name) };
        let mut worker = Worker::launch(free_port(), state_dir, random_token(), true, &[]).await;
        worker.remove_state_on_stop = true;
        worker
    }

    /// Like [`Worker::start`], but on production timing (the switch off).
    pub async fn start_with_real_timing(name: &str) -> Worker {
        Worker::launch(free_port(), Worker::fresh_state_dir(name), random_token(), false, &[]).await
    }

    /// Starts `wrangler dev` on `port` with local state kept in `state_dir` (migrated first), on
    /// production timing, with more `vars` (as [`Worker::start_with_vars`]).
    pub async fn start_with(port: u16, state_dir: PathBuf, admin_token: String, vars: &[(&str, &str)]) -> Worker {
        Worker::launch(port, state_dir, admin_token, false, vars).await
    }

    async fn launch(port: u16, state_dir: PathBuf, admin_token: String, test_timing: bool, vars: &[(&str, &str)]) -> Worker {
        let mut worker = Worker::prepare(port, state_dir, admin_token, test_timing);
        worker.vars = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        worker.migrate();
        worker.spawn().await;
        worker
    }

    fn fresh_state_dir(name: &str) -> PathBuf {
        repo_root().join("target/e2e").join(format!("{name}-{}-{}", std::process::id(), free_port()))
    }

    fn prepare(port: u16, state_dir: PathBuf, admin_token: String, test_timing: bool) -> Worker {
        crate::require_build();
        std::fs::create_dir_all(&state_dir).expect("creating the worker state dir");
        // Kept with the state, so links in emails sent before a restart keep working.
        let secret_file = state_dir.join("link-secret");
        let link_secret = std::fs::read_to_string(&secret_file).ok().filter(|s| s.len() >= 32).unwrap_or_else(|| {
            let secret = format!("{}{}", random_token(), random_token());
            std::fs::write(&secret_file, &secret).expect("writing the link secret");
            secret
        });
        Worker { port, admin_token, link_secret, test_timing, vars: Vec::new(), state_dir, remove_state_on_stop: false, child: None, http: client() }
    }

    /// Whether the worker process has exited by itself.
    pub fn has_exited(&mut self) -> bool {
        self.child.as_mut().is_none_or(|child| !matches!(child.try_wait(), Ok(None)))
    }

    /// The process id of `wrangler dev`, which leads the process group its workerd runs in.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Has WebSockets connect to workerd's own socket instead of the relay in front of it (the
    /// benches: in production nothing stands between a socket and the worker, so the relay's CPU
    /// per frame would be charged to the worker).
    pub fn sockets_straight_to_workerd(&mut self) {
        let log = std::fs::read_to_string(self.state_dir.join("wrangler.log")).unwrap_or_default();
        let port = log.lines().rev().find_map(|line| line.strip_prefix("workerd socket 127.0.0.1:")?.trim().parse().ok());
        let port = port.unwrap_or_else(|| panic!("wrangler.log names no workerd socket:\n{log}"));
        crate::chat::connect_straight(self.port, port);
    }

    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `node <script>` (a path from the repository root).
    fn node_script(&self, script: &str, log_name: &str) -> Command {
        let mut command = logged(Command::new("node"), &self.state_dir.join(log_name));
        command.arg(repo_root().join(script));
        command
    }

    /// Brings the local D1 state up to date. A fresh state dir gets a copy of state migrated once
    /// per set of migrations (`wrangler d1 migrations apply` costs ~6 s of CPU, and every test
    /// starts a worker of its own); an existing one (`make demo`'s, kept across upgrades) has its
    /// pending migrations applied in place.
    fn migrate(&self) {
        if self.state_dir.join("v3").exists() {
            apply_migrations(&self.state_dir);
        } else {
            copy_tree(migrated_template(), &self.state_dir);
        }
    }

    async fn spawn(&mut self) {
        // workerd binds internal ports of its own; with several workers starting at once on a busy
        // machine one of them is sometimes taken ("Address already in use"). That start is
        // abandoned and retried, rather than failing a test over a port race.
        for attempt in 1..=3 {
            if self.try_spawn(attempt).await {
                return;
            }
            self.stop();
        }
        let log = self.state_dir.join("wrangler-3.log");
        panic!("wrangler dev did not start after 3 attempts (log: {}):\n{}", log.display(), log_tail(&log));
    }

    /// Starts `wrangler dev` once; `false` if it failed to start (the caller retries).
    async fn try_spawn(&mut self, attempt: u32) -> bool {
        use std::os::unix::process::CommandExt;
        let log_name = format!("wrangler-{attempt}.log");
        // `wrangler dev` through its programmatic API, with the DevTools inspector off (the CLI
        // always starts one, and wrangler then buffers every inspector event in its node process).
        let mut command = self.node_script("scripts/wrangler-dev.mjs", if attempt == 1 { "wrangler.log" } else { &log_name });
        for (name, value) in &self.vars {
            command.args(["--var", &format!("{name}:{value}")]);
        }
        command
            .args(["--port", &self.port.to_string()])
            .arg("--persist-to")
            .arg(&self.state_dir)
            .args(["--var", &format!("ADMIN_TOKEN:{}", self.admin_token)])
            // Chat secrets, derived from the admin token so a restart keeps tokens and sessions valid.
            .args(["--var", &format!("VISITOR_TOKEN_SECRET:{}-visitor", self.admin_token)])
            .args(["--var", &format!("OPERATOR_SESSION_SECRET:{}-operator", self.admin_token)])
            .args(["--var", &format!("LINK_SECRET:{}", self.link_secret)])
            .args(["--var", &format!("FLOORWALKER_TEST_TIMING:{}", u8::from(self.test_timing))]);
        // Cron does not fire locally; the launcher serves GET /__scheduled, which runs the
        // sweeper (`Worker::sweep`).
        let child = command
            // Its own process group, so stopping it also stops the workerd it spawns.
            .process_group(0)
            .spawn()
            .expect("starting wrangler dev");
        self.child = Some(child);
        let health = self.url("/v1/health");
        let log = self.state_dir.join(if attempt == 1 { "wrangler.log".to_owned() } else { log_name });
        // A start normally answers within seconds. One that has said nothing for a minute (seen
        // once on CI: no error, no exit, no answer) is abandoned and retried like a failed one.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let healthy = self.http.get(&health).send().await.ok().is_some_and(|r| r.status().is_success());
            if healthy {
                return true;
            }
            let failed = std::fs::read_to_string(&log).is_ok_and(|text| text.contains("failed to start"));
            if failed || self.has_exited() || std::time::Instant::now() >= deadline {
                eprintln!("wrangler dev attempt {attempt} did not start; its log ends:\n{}", log_tail(&log));
                return false;
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Stops the worker process (and its workerd) as a crash or deploy would.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
            let _ = child.wait();
            let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        }
    }

    /// Starts the worker again on the same port with the same local state.
    pub async fn restart(&mut self) {
        self.stop();
        self.spawn().await;
    }

    /// Runs the cron sweeper once, as the cron trigger would in production.
    pub async fn sweep(&self) {
        let response = self.http.get(self.url("/__scheduled?cron=*/5+*+*+*+*")).send().await.expect("GET /__scheduled");
        assert!(response.status().is_success(), "the scheduled handler failed: {}", response.status());
    }

    /// `GET /v1/admin{path}` as JSON.
    pub async fn admin_get<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let response = self.http.get(self.url(&format!("/v1/admin{path}"))).bearer_auth(&self.admin_token).send().await.expect("admin GET");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "GET /v1/admin{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET /v1/admin{path}: {e}: {text}"))
    }

    /// `{method} /v1/admin{path}` with a JSON body; returns the status and the JSON answer.
    pub async fn admin_send(&self, method: reqwest::Method, path: &str, body: Option<serde_json::Value>) -> (u16, serde_json::Value) {
        let mut request = self.http.request(method, self.url(&format!("/v1/admin{path}"))).bearer_auth(&self.admin_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("an admin request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// The path of the newest link in the local mailbox that confirms `to` as an alert address
    /// (`/v1/mail/alert-confirm/<token>`), as the owner of `to` would find it in the email.
    pub async fn alert_link(&self, to: &str) -> String {
        let emails: Vec<floorwalker_core::outbound::email::StoredEmail> = self.admin_get("/mailbox").await;
        let email = emails
            .iter()
            .filter(|e| e.lead == "alert-confirm" && e.message.to == to)
            .max_by_key(|e| e.created_at)
            .unwrap_or_else(|| panic!("no confirmation link for {to} in the mailbox"));
        let at = email.message.text.find("/v1/mail/alert-confirm/").expect("a link in the email's text");
        email.message.text[at..].split_whitespace().next().expect("the link").to_owned()
    }

    /// Confirms `to` as the demo site's alert address the way its owner would: opens the emailed
    /// link (a page with a button, which changes nothing) and presses the button (a POST).
    pub async fn confirm_alert_address(&self, to: &str) {
        let link = self.url(&self.alert_link(to).await);
        let page = self.http.get(&link).send().await.expect("opening the link");
        assert_eq!(page.status().as_u16(), 200);
        assert!(page.text().await.unwrap_or_default().contains("<form method=\"post\">"), "a button to confirm");
        let done = self.http.post(&link).send().await.expect("confirming");
        assert_eq!(done.status().as_u16(), 200, "{}", done.text().await.unwrap_or_default());
    }

    /// Lets the demo site's endpoints point at loopback, where the test receiver listens.
    pub async fn allow_private_endpoints(&self) {
        let body = serde_json::json!({"allow_private_endpoints": true});
        let (status, answer) = self.admin_send(reqwest::Method::PUT, "/sites/demo/delivery", Some(body)).await;
        assert_eq!(status, 200, "{answer}");
    }

    /// Adds a webhook endpoint to the demo site; returns it with its signing secret.
    pub async fn add_endpoint(&self, body: serde_json::Value) -> floorwalker_core::outbound::delivery::EndpointSecret {
        let (status, answer) = self.admin_send(reqwest::Method::POST, "/sites/demo/endpoints", Some(body)).await;
        assert_eq!(status, 201, "{answer}");
        serde_json::from_value(answer).expect("endpoint and secret")
    }

    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// The rows of one `SELECT` on the worker's local D1, read with `wrangler d1 execute` (for
    /// what no route shows: storage itself).
    pub fn d1_select(&self, sql: &str) -> Vec<serde_json::Value> {
        let output = Command::new(repo_root().join("node_modules/.bin/wrangler"))
            .current_dir(repo_root())
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CI", "true")
            .args(["d1", "execute", "DB", "--local", "--json", "--persist-to"])
            .arg(&self.state_dir)
            .args(["--command", sql])
            .output()
            .expect("running wrangler d1 execute");
        let text = String::from_utf8_lossy(&output.stdout);
        let json: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text} {}", String::from_utf8_lossy(&output.stderr)));
        json[0]["results"].as_array().cloned().unwrap_or_else(|| panic!("no results for {sql}: {json}"))
    }

    /// Stores the demo site's config (demo-site/site.json), allowing the worker's own origin and
    /// `extra_origins` too, through the admin API, which validates it with core.
    pub async fn seed_demo_site(&self, extra_origins: &[String]) -> SiteConfig {
        let config = self.demo_site_config(extra_origins);
        self.put_site(&config).await;
        config
    }

    /// The demo site's config (demo-site/site.json) with the worker's own origin and
    /// `extra_origins` allowed (each origin once), for a test to adjust before [`Worker::put_site`].
    pub fn demo_site_config(&self, extra_origins: &[String]) -> SiteConfig {
        let path = repo_root().join("demo-site/site.json");
        let json = std::fs::read_to_string(&path).expect("reading demo-site/site.json");
        let mut config: SiteConfig = serde_json::from_str(&json).expect("demo-site/site.json is a valid SiteConfig");
        // Each once: site.json already lists the default port's origins (`make demo` on 8787).
        for origin in std::iter::once(self.origin()).chain(extra_origins.iter().cloned()) {
            if !config.origins.contains(&origin) {
                config.origins.push(origin);
            }
        }
        config
    }

    pub async fn put_site(&self, config: &SiteConfig) {
        let response = self.try_put_site(config).await;
        let status = response.status();
        assert!(status.is_success(), "seeding the site failed: {status} {}", response.text().await.unwrap_or_default());
    }

    /// PUTs a site config and returns the response, whatever its status.
    pub async fn try_put_site(&self, config: &SiteConfig) -> reqwest::Response {
        self.http.put(self.url(&format!("/v1/admin/sites/{}", config.site))).bearer_auth(&self.admin_token).json(config).send().await.expect("PUT the site")
    }

    /// Events of `visitor` on `site`, read back from D1 through the admin API.
    pub async fn events(&self, site: &str, visitor: &str) -> Vec<StoredEvent> {
        let response = self
            .http
            .get(self.url(&format!("/v1/admin/sites/{site}/events?visitor={visitor}")))
            .bearer_auth(&self.admin_token)
            .send()
            .await
            .expect("GET events");
        assert!(response.status().is_success(), "listing events: {}", response.status());
        response.json().await.expect("events JSON")
    }
}

/// `command` run from the repository root, its output logged to `log`.
fn logged(mut command: Command, log: &Path) -> Command {
    let log = File::create(log).unwrap_or_else(|e| panic!("creating {}: {e}", log.display()));
    command
        .current_dir(repo_root())
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CI", "true")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("cloning a log handle"))
        .stderr(log);
    command
}

/// `wrangler d1 migrations apply` on the local state in `dir`, logged to `dir/migrate.log`.
fn apply_migrations(dir: &Path) {
    let status = logged(Command::new(repo_root().join("node_modules/.bin/wrangler")), &dir.join("migrate.log"))
        .args(["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
        .arg(dir)
        .status()
        .expect("running wrangler d1 migrations apply");
    assert!(status.success(), "migrations failed, see {}", dir.join("migrate.log").display());
}

/// Fresh local state with every migration applied, made once and shared (read-only) by every
/// test process: `target/e2e/migrated-<hash>`, the hash covering the migrations, `wrangler.toml`
/// (the D1 file is named after its database id) and wrangler's version (its state layout). It is
/// made in a scratch dir and renamed into place, so a test process never sees a half-made one.
fn migrated_template() -> &'static Path {
    static TEMPLATE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        use std::hash::{Hash, Hasher};
        let root = repo_root();
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        let mut migrations: Vec<PathBuf> = std::fs::read_dir(root.join("migrations"))
            .expect("reading migrations/")
            .map(|entry| entry.expect("a migrations/ entry").path())
            .collect();
        migrations.sort();
        for path in migrations.iter().chain([&root.join("wrangler.toml"), &root.join("node_modules/wrangler/package.json")]) {
            path.file_name().hash(&mut hasher);
            std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display())).hash(&mut hasher);
        }
        let e2e = root.join("target/e2e");
        let template = e2e.join(format!("migrated-{:016x}", hasher.finish()));
        if !template.exists() {
            let scratch = e2e.join(format!("migrating-{}-{}", std::process::id(), random_token()));
            std::fs::create_dir_all(&scratch).expect("creating a scratch state dir");
            apply_migrations(&scratch);
            // Another test process may have won the race; its copy is as good as ours.
            if std::fs::rename(&scratch, &template).is_err() {
                let _ = std::fs::remove_dir_all(&scratch);
                assert!(template.exists(), "could not move migrated state into {}", template.display());
            }
        }
        template
    })
}

/// Copies the directory tree `from` into `to` (created if missing).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("creating {}: {e}", to.display()));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("reading {}: {e}", from.display())) {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        // SQLite rebuilds a WAL index (`-shm`) from the WAL when the first connection opens; a
        // copied one could describe another moment.
        if entry.file_name().to_string_lossy().ends_with("-shm") {
            continue;
        }
        if entry.file_type().expect("a file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap_or_else(|e| panic!("copying {}: {e}", entry.path().display()));
        }
    }
}

/// 32 hex characters from the kernel's random source.
pub fn random_token() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).expect("reading /dev/urandom");
    floorwalker_core::base::ids::client_id_from_bytes(&bytes)
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop();
        if self.remove_state_on_stop {
            let _ = std::fs::remove_dir_all(&self.state_dir);
        }
    }
}

/// The client every test talks to the worker with. Its pooled connections are dropped after 2 s
/// idle, below the 5 s after which wrangler's server closes them: a test that blocks its runtime
/// (reading the D1 files, say) cannot see that close in time and would send on a dead connection
/// (hyper's `IncompleteMessage`, seen as a flaky failure on a loaded machine).
pub fn client() -> reqwest::Client {
    // A request with no answer in a minute is a failure naming it, not a hang.
    reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(2))
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build()
        .expect("an HTTP client")
}

/// The last lines of a log, for a failure message that CI prints (the log itself is not kept).
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}
