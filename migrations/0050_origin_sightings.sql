-- Where each site's tag was seen (core::prompts::sightings): origins the site does not list whose
-- requests were refused, and the site's own origins where the widget loaded. At most 20 rows per
-- site and kind (the most used, then the most recent); rows unseen for 30 days are deleted.
CREATE TABLE origin_sightings (
  site TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('refused', 'loaded')),
  origin TEXT NOT NULL,
  first_seen_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (site, kind, origin)
);
CREATE INDEX origin_sightings_by_use ON origin_sightings (site, kind, count, last_seen_at);
