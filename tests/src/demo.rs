//! `make demo`'s setup (tests/src/bin/floorwalker-dev.rs), here so that the tests run the very
//! seeding the demo runs.

use std::path::PathBuf;

use floorwalker_core::prompts::config::SiteConfig;

use crate::receiver::{Receiver, DEMO_KEPT};
use crate::repo_root;
use crate::worker::Worker;

/// The demo's local state for `port`: each port its own, so two demos on two ports do not rewrite
/// each other's site origins. Survives restarts; delete the folder for a fresh start.
pub fn state_dir(port: u16) -> PathBuf {
    repo_root().join(format!(".wrangler/demo-state-{port}"))
}

/// The origins the demo allows besides demo-site/site.json's and the worker's own.
pub fn extra_origins(port: u16) -> Vec<String> {
    vec![format!("http://localhost:{port}")]
}

/// The demo's CRM receiver: on the port after the worker's, keeping the last [`DEMO_KEPT`]
/// requests, so that connecting a CRM endpoint needs no receiver of one's own; why not when that
/// port is taken.
pub fn start_crm_receiver(port: u16) -> Result<Receiver, String> {
    let crm_port = port.checked_add(1).ok_or("no port after 65535 for the CRM receiver")?;
    Receiver::start_on(crm_port, DEMO_KEPT)
}

/// The worker's vars that tell the owner's console about `receiver` (`DEMO_CRM_RECEIVER`, read
/// by the worker for an owner's session only).
pub fn crm_receiver_vars(receiver: &Receiver) -> Vec<(&'static str, String)> {
    vec![("DEMO_CRM_RECEIVER", receiver.webhook_url())]
}

/// Stores the demo site's config with `extra` origins allowed; the refusal's status and body when
/// the worker refuses it.
pub async fn seed(worker: &Worker, extra: &[String]) -> Result<SiteConfig, String> {
    let config = worker.demo_site_config(extra);
    let response = worker.try_put_site(&config).await;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("seeding the demo site failed: {status} {}", response.text().await.unwrap_or_default()));
    }
    allow_local_receivers(worker).await?;
    Ok(config)
}

/// The demo runs on this machine, and so does the CRM someone connects to try it (a local
/// receiver on `http://127.0.0.1:…`): the demo site may send to loopback and private addresses,
/// which a deployed site may not. Only this one setting changes; the rest stays as stored.
async fn allow_local_receivers(worker: &Worker) -> Result<(), String> {
    let (status, mut settings) = worker.admin_send(reqwest::Method::GET, "/sites/demo/delivery", None).await;
    if status != 200 {
        return Err(format!("reading the demo's delivery settings failed: {status} {settings}"));
    }
    settings["allow_private_endpoints"] = serde_json::Value::Bool(true);
    let (status, answer) = worker.admin_send(reqwest::Method::PUT, "/sites/demo/delivery", Some(settings)).await;
    if status != 200 {
        return Err(format!("allowing local CRM receivers failed: {status} {answer}"));
    }
    Ok(())
}
