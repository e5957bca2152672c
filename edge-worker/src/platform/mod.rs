//! The worker's platform layer: every binding of the Workers runtime the rest of the worker uses,
//! one small module each, thin like workers-rs itself. Nothing here decides anything about
//! Floorwalker; it turns the runtime's values and failures into core's types (`ApiError`).
//!
//! - [`vars`]: plain vars and secrets (one rule for when one is set, one minimum for signing keys),
//!   and the deploy-level test-timing switch.
//! - [`random`]: the one CSPRNG (`crypto.getRandomValues` through `getrandom`).
//! - [`d1`]: the `DB` binding and typed statements without per-call error plumbing.
//! - [`files`]: the `FILES` binding (R2), where the chat's attachments are kept.
//! - [`tally`]: counts of the work done, for the benches and cost tests.
//! - [`zone`]: a time zone's offset from UTC at a moment (the runtime's `Intl`).

pub mod d1;
pub mod files;
pub mod random;
pub mod tally;
pub mod vars;
pub mod zone;
