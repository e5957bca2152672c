//! Every end-to-end suite in one test binary: the harness keeps both cores busy across suites
//! (a binary per suite left one idle while its slowest test finished) and links once. A suite
//! runs alone with `cargo test -p floorwalker-e2e --test e2e <suite>::`.

mod api_edge;
mod attack_access;
mod attack_edges;
mod attack_mail;
mod canned;
mod chat;
mod chat_delivery;
mod chat_widget;
mod cockpit_access;
mod cockpit_crm;
mod cockpit_email;
mod cockpit_experiments;
mod cockpit_install;
mod cockpit_prompts;
mod cockpit_results;
mod cockpit_team;
mod console;
mod docs_examples;
mod funnel;
mod fuzz;
mod host_page;
mod inbox;
mod leads;
mod privacy;
mod prompts;
mod retention;
mod salesperson;
mod visitor_panel;
mod walking_skeleton;
mod worker_modules;
