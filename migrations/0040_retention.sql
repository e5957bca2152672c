-- Retention (core::upkeep): each site's own periods and idle close, and an index on the column each
-- pruning rule reads its age from, so the cron's bounded DELETEs find due rows without a scan.

-- JSON of core::upkeep::retention::SiteRetention; absent = the defaults.
CREATE TABLE site_retention (
  site TEXT PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
  settings TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS events_by_received ON events (received_at);
CREATE INDEX IF NOT EXISTS leads_by_time ON leads (created_at);
CREATE INDEX IF NOT EXISTS deliveries_by_state_time ON deliveries (state, updated_at);
CREATE INDEX IF NOT EXISTS outbox_events_by_time ON outbox_events (created_at);
CREATE INDEX IF NOT EXISTS rate_limits_by_window ON rate_limits (window);
CREATE INDEX IF NOT EXISTS account_sessions_by_expiry ON account_sessions (expires_at);
CREATE INDEX IF NOT EXISTS chat_conversations_closed ON chat_conversations (status, closed_at);
