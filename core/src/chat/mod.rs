//! Live chat: the wire protocol, the conversation and site-hub state machines, the operators' live
//! list of conversations, the visitor's chat panel and what the operator console is shown.

pub mod attachment;
pub mod canned;
pub mod conversation;
pub mod conversation_list;
pub mod hub;
pub mod json;
pub mod offline;
pub mod operator_view;
pub mod panel;
pub mod protocol;
