-- Chat events now go through the same durable outbox as leads: the Conversation object writes each
-- event into its own SQLite with the message, and its flush writes `outbox_events` + `deliveries`
-- (edge-worker/src/chat/outbox.rs). `chat_outbox` was a second D1 copy that nothing delivered and
-- nothing pruned; keeping it as a staging table would make two records of the same event, so it
-- goes. Rows in it were never deliverable (no deliveries existed for them) and the project had no
-- production deployment when this was written; a deployment that had one would have to re-emit
-- them from the conversations (their transcripts stay in the objects).
DROP INDEX IF EXISTS chat_outbox_pending;
DROP TABLE IF EXISTS chat_outbox;

-- The chat admin view lists one site's chat events by type.
CREATE INDEX IF NOT EXISTS outbox_events_by_site_type ON outbox_events (site, type, created_at);
