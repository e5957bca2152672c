-- Canned replies (core's chat::canned): one JSON list per site, written by its owner. Kept while
-- the site exists, like the site's other settings (not pruned: README, "What is kept").
CREATE TABLE IF NOT EXISTS canned_replies (
  site TEXT PRIMARY KEY,
  replies TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
