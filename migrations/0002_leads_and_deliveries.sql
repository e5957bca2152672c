-- Leads, consent changes, webhook endpoints and the durable delivery outbox.

-- One row per lead (JSON of floorwalker_core::lead::Lead). The id is derived from site, visitor and
-- idempotency key, so a double submit hits the primary key and returns the original lead.
CREATE TABLE leads (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  visitor TEXT NOT NULL,
  kind TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX leads_by_site ON leads (site, created_at);

-- Later consent changes (JSON of consent::ConsentUpdated); the form's own consent is in the lead.
-- The id is consent::change_id, so two racing clicks on one link record one change.
CREATE TABLE consent_changes (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  lead TEXT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  purpose TEXT NOT NULL,
  granted INTEGER NOT NULL,
  at INTEGER NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX consent_changes_by_lead ON consent_changes (lead, at);

-- Server-side delivery settings of a site (JSON of delivery::SiteDelivery).
CREATE TABLE site_delivery (
  site TEXT PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
  settings TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

-- Webhook endpoints (JSON of endpoint::Endpoint, secrets included: we sign with them).
CREATE TABLE endpoints (
  site TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  config TEXT NOT NULL,
  disabled_reason TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (site, id)
);

-- Events to deliver (JSON of webhook::WebhookEvent); id is the webhook-id.
CREATE TABLE outbox_events (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  type TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  data TEXT NOT NULL
);

-- One delivery per (event, target): the outbox row the queue message points at. Written in the
-- same D1 batch as the lead; the sweeper re-enqueues pending rows whose message went missing.
CREATE TABLE deliveries (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  event TEXT NOT NULL REFERENCES outbox_events (id),
  target TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  -- Attempts since the last replay: the retry schedule's position.
  cycle_attempts INTEGER NOT NULL DEFAULT 0,
  first_attempt_at INTEGER,
  -- When the queue should hand it to a consumer next; the sweeper's clock.
  next_attempt_at INTEGER NOT NULL,
  -- A consumer holds it until then while an attempt is in flight.
  lease_until INTEGER NOT NULL DEFAULT 0,
  delivered_at INTEGER,
  last_error TEXT,
  -- Target-specific data fixed at creation (the public base URL for email links).
  extra TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (event, target)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_by_site ON deliveries (site, created_at);

-- Every attempt (JSON of webhook::AttemptRecord plus the columns to query on).
CREATE TABLE delivery_attempts (
  delivery TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  n INTEGER NOT NULL,
  at INTEGER NOT NULL,
  status TEXT NOT NULL,
  latency_ms INTEGER NOT NULL,
  response_code INTEGER,
  data TEXT NOT NULL,
  PRIMARY KEY (delivery, n)
);

-- The local email provider's outbox (demos and tests): what would have been sent.
CREATE TABLE mailbox (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  lead TEXT NOT NULL,
  to_addr TEXT NOT NULL,
  subject TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX mailbox_by_time ON mailbox (created_at);

-- Fixed-window counters for lead rate limits; old windows are deleted by the sweeper.
CREATE TABLE rate_limits (
  key TEXT NOT NULL,
  window INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (key, window)
);
