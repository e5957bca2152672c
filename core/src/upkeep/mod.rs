//! What Floorwalker keeps, for how long, and how it lets go: the retention policy per table
//! (defaults, per-site overrides and the reasons), and the pruner that the worker's cron drives in
//! bounded steps. Uses `base`, `chat` (the conversation's idle default) and `access`
//! (the longest rate-limit window).

pub mod pruning;
pub mod retention;
