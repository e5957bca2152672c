//! What leaves Floorwalker: signed webhooks and their retry schedule, endpoints and the SSRF guard,
//! CRM payload presets, the delivery log, the promised emails and the chat's webhook events.

pub mod chat_events;
pub mod crm;
pub mod delivery;
pub mod email;
pub mod endpoint;
pub mod webhook;
