-- Does it sell? (issue 14): the funnel per prompt in daily rollups, and deals reported back by a
-- CRM (core::insights). Aggregates only: a rollup row counts visitors and never names one.

-- What the worker tells of an event's request, as classes (core::insights::rollup): the device
-- (`mobile`, `tablet`, `desktop`, from User-Agent / Sec-CH-UA-Mobile; the header itself is not
-- kept) and the browser's preferred language (`ru`, `en`, ... from Accept-Language). NULL for
-- events stored before this migration. Events exist only after consent in `consent: required`.
ALTER TABLE events ADD COLUMN device TEXT;
ALTER TABLE events ADD COLUMN language TEXT;

-- One day of one site is read by when the server received its events.
CREATE INDEX IF NOT EXISTS events_by_site_received ON events (site, received_at);
CREATE INDEX IF NOT EXISTS chat_conversations_by_site_opened ON chat_conversations (site, opened_at);

-- One row per (site, UTC day, prompt, segment); prompt '' is the site row (visitors, chat).
-- `day` is days since 1970-01-01. Rewritten whole while the day is not final, never after.
CREATE TABLE funnel_rollups (
  site TEXT NOT NULL,
  day INTEGER NOT NULL,
  prompt TEXT NOT NULL,
  source TEXT NOT NULL,
  device TEXT NOT NULL,
  locale TEXT NOT NULL,
  visitors INTEGER NOT NULL DEFAULT 0,
  eligible INTEGER NOT NULL DEFAULT 0,
  shown INTEGER NOT NULL DEFAULT 0,
  accepted INTEGER NOT NULL DEFAULT 0,
  dismissed INTEGER NOT NULL DEFAULT 0,
  leads INTEGER NOT NULL DEFAULT 0,
  delivered INTEGER NOT NULL DEFAULT 0,
  chat_opens INTEGER NOT NULL DEFAULT 0,
  chats INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site, day, prompt, source, device, locale)
);
CREATE INDEX funnel_rollups_by_day ON funnel_rollups (day);

-- Which days of a site are rolled up, when, and whether that was final (core SETTLE_DAYS).
CREATE TABLE funnel_days (
  site TEXT NOT NULL,
  day INTEGER NOT NULL,
  rolled_at INTEGER NOT NULL,
  final INTEGER NOT NULL,
  events INTEGER NOT NULL,
  PRIMARY KEY (site, day)
);
CREATE INDEX funnel_days_by_day ON funnel_days (day);

-- Deals a CRM reported won for one of our leads (JSON of core::insights::deals::Deal in `data`).
-- The CRM's own deal id is the key: a repeated report is one deal.
CREATE TABLE deals (
  site TEXT NOT NULL,
  deal TEXT NOT NULL,
  lead TEXT NOT NULL,
  prompt TEXT NOT NULL,              -- '' for leads from no prompt
  lead_day INTEGER NOT NULL,
  currency TEXT NOT NULL,
  amount_minor INTEGER NOT NULL,
  reported_at INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (site, deal)
);
CREATE INDEX deals_by_lead_day ON deals (site, lead_day);
CREATE INDEX deals_by_reported ON deals (reported_at);

-- Per-site tokens a CRM reports deals with; only the SHA-256 is kept, revoked ones answer 401.
CREATE TABLE deal_tokens (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX deal_tokens_by_site ON deal_tokens (site, created_at);
