//! What the widget observes: visitor events and their validation, the session folded from them,
//! product detection, and the visitor context every later step is given; the visitor's attention
//! (active seconds, exit intent) and the event queue on its way to the server.

pub mod attention;
pub mod context;
pub mod event;
pub mod event_queue;
pub mod product;
pub mod session;
mod wire;
pub mod json;

/// How old an event batch's wire form the worker still reads (its layout pinned in `wire`'s tests).
pub use wire::OLDEST_BATCH_VERSION;
