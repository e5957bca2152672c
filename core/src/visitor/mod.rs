//! What the widget observes: visitor events and their validation, the session folded from them,
//! product detection, and the visitor context every later step is given.

pub mod context;
pub mod event;
pub mod product;
pub mod session;
