//! What the cards' forms and the chat's have in common.

/// A form's progress (the chat's forms and the prompt cards').
#[derive(Clone, PartialEq)]
pub(crate) enum Status {
    Editing,
    /// The input does not pass the client-side check; the message says why.
    Invalid(String),
    Sending,
    /// The server refused or was unreachable; the message says so, the input stays.
    Failed(String),
    Done(String),
}
