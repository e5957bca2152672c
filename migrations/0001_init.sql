-- Sites and their validated config (JSON of floorwalker_core::config::SiteConfig).
CREATE TABLE sites (
  id TEXT PRIMARY KEY,
  config TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

-- Visitor events. The client-generated id makes a re-sent batch harmless (INSERT OR IGNORE).
CREATE TABLE events (
  site TEXT NOT NULL,
  id TEXT NOT NULL,
  visitor TEXT NOT NULL,
  session TEXT NOT NULL,
  type TEXT NOT NULL,
  at INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (site, id)
);
CREATE INDEX events_by_visitor ON events (site, visitor, at);

-- Which origins each site allows, for CORS preflights that do not name their site.
CREATE TABLE site_origins (
  origin TEXT NOT NULL,
  site TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  PRIMARY KEY (origin, site)
);
