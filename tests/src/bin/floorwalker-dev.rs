//! `make demo`: runs the worker under `wrangler dev` with the demo shop, seeds the demo site's
//! config through the admin API, and prints what to open. Ctrl-C stops everything; so does any
//! failure: the worker is stopped (its own process group) before the demo exits non-zero.

use floorwalker_e2e::demo;
use floorwalker_e2e::worker::{random_token, Worker};

#[tokio::main]
async fn main() {
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse().unwrap_or_else(|_| panic!("PORT must be a port number, got {port:?}")),
        Err(_) => 8787,
    };
    // Demo data survives restarts of `make demo`; delete the folder for a fresh start.
    let state_dir = demo::state_dir(port);
    let admin_token = std::env::var("ADMIN_TOKEN").unwrap_or_else(|_| random_token());
    // Without its receiver the demo still runs: the CRM screen then offers none.
    let receiver = demo::start_crm_receiver(port)
        .inspect_err(|why| eprintln!("The demo's CRM receiver did not start ({why}); the demo runs without it."))
        .ok();
    let vars = receiver.as_ref().map(demo::crm_receiver_vars).unwrap_or_default();
    let vars: Vec<(&str, &str)> = vars.iter().map(|(name, value)| (*name, value.as_str())).collect();
    // A panic unwinds through here and drops the worker, which stops it.
    let mut worker = Worker::start_with(port, state_dir.clone(), admin_token, &vars).await;
    if let Err(why) = demo::seed(&worker, &demo::extra_origins(port)).await {
        eprintln!("{why}\nThe demo stopped its worker (log: {}).", state_dir.join("wrangler.log").display());
        drop(worker);
        std::process::exit(1);
    }
    let origin = worker.origin();
    let crm = match &receiver {
        Some(receiver) => format!(
            "{webhook}  (a local receiver: paste this address on the console's CRM screen)\
             \n    what it received, signatures checked: {page}",
            webhook = receiver.webhook_url(),
            page = receiver.page_url()
        ),
        None => "not running; the demo site may send to any http://127.0.0.1:… receiver of yours".to_owned(),
    };
    println!(
        "\nFloorwalker demo is running.\n\
         \n  Demo shop (RU):   {origin}/\
         \n  Demo shop (EN):   {origin}/en/\
         \n  A product page:   {origin}/product/orsa-360-isofix/\
         \n  Loader:           {origin}/fw.js\
         \n  Site config:      {origin}/v1/sites/demo/config\
         \n  Console:          {origin}/console/\
         \n    the shop's owner (every screen): make owner EMAIL=… NAME=… PASSWORD=… ADMIN_TOKEN={token} URL={origin} SITE=demo\
         \n    an operator (chats only):        make operator EMAIL=… NAME=… PASSWORD=… ADMIN_TOKEN={token} URL={origin} SITE=demo\
         \n  CRM receiver:     {crm}\
         \n    (the demo site may send to http://127.0.0.1:… receivers; a deployed site may not)\
         \n  Local mailbox:    {origin}/v1/mailbox  (the promised emails; EMAIL_PROVIDER=local)\
         \n  Admin API token:  {token}\
         \n    e.g. curl -H 'authorization: Bearer {token}' {origin}/v1/admin/sites/demo/events\
         \n  Worker log:       {log}\
         \n  Local state:      {state}  (this port's own; delete it for a fresh start)\
         \n\nPress Ctrl-C to stop.",
        token = worker.admin_token,
        log = state_dir.join("wrangler.log").display(),
        state = state_dir.display(),
    );
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {
                if worker.has_exited() {
                    eprintln!("wrangler dev exited; see the worker log above");
                    // `exit` runs no destructors: stop the workerd left in wrangler's group first.
                    drop(worker);
                    std::process::exit(1);
                }
            }
        }
    }
    // Dropping the worker stops wrangler and workerd (their own process group).
    drop(worker);
}
