//! The vocabulary every domain shares. Nothing here imports anything else of core, so any
//! module may use it without creating a cycle.

pub mod clock;
pub mod crypto;
pub mod error;
pub mod ids;
pub mod json;
pub mod locale;
pub mod merge_patch;
pub mod money;
pub mod phone;
pub mod text;
pub mod url;
pub mod wire;
