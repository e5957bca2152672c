-- Deals back from amoCRM (issue 14): which amoCRM deal each lead delivered to an amoCRM endpoint
-- became, read from amoCRM's answer to the complex add (core::outbound::crm::AmoDealLink), so
-- amoCRM's own status webhook, which names only its deal, is matched to our lead and its prompt.
-- Kept exactly as long as its lead: deleted with it (ON DELETE CASCADE) by the retention run's
-- `leads` rule and by a visitor's erasure (which also deletes it by name).
-- When amoCRM's duplicate control merges a later lead into the same deal, the first lead keeps it.
CREATE TABLE amocrm_deals (
  site TEXT NOT NULL,
  amocrm_deal TEXT NOT NULL,           -- amoCRM's deal id, decimal digits
  lead TEXT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  endpoint TEXT NOT NULL,              -- the amoCRM endpoint whose answer named it
  created_at INTEGER NOT NULL,
  PRIMARY KEY (site, amocrm_deal)
);
-- A lead's deletion (retention, erasure) finds its rows by this index.
CREATE INDEX amocrm_deals_by_lead ON amocrm_deals (lead);
