//! What leaves Floorwalker: signed webhooks and their retry schedule, endpoints and the SSRF guard,
//! CRM payload presets, the delivery log, the promised emails, the chat's webhook events and the
//! privacy operations (erase and export one visitor).

pub mod chat_events;
pub mod crm;
pub mod delivery;
pub mod email;
pub mod endpoint;
pub mod lead_log;
pub mod privacy;
pub mod test_event;
pub mod webhook;
