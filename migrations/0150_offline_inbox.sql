-- Messages left after hours in the operators' inbox (issue 13, core::chat::offline). The message
-- itself is its `offline_message` lead; the inbox adds the operators' answers and "done".

-- "Done" belongs to the lead: it goes when the lead goes (retention, erasure).
ALTER TABLE leads ADD COLUMN done_at INTEGER;
ALTER TABLE leads ADD COLUMN done_by TEXT;
-- The inbox lists one site's messages of one kind still to handle.
CREATE INDEX IF NOT EXISTS leads_by_site_kind ON leads (site, kind, done_at, created_at);

-- An operator's answer by email (seq 2, 3, …: the visitor's message is 1). Kept exactly as long
-- as the lead it answers: deleted with it (ON DELETE CASCADE) by the retention run's `leads` rule
-- and by a visitor's erasure, as `consent_changes` are.
CREATE TABLE lead_replies (
  lead TEXT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  site TEXT NOT NULL,
  author_id TEXT NOT NULL,
  author_name TEXT NOT NULL,
  text TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (lead, seq)
);
