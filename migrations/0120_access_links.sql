-- One-time links (issue 12, the owner's cockpit): an owner's invitation to work on a site, and a
-- password reset. Only the token's SHA-256 is stored (core::access::links); a link is used once
-- (`used_at`, claimed in the same batch that acts on it), expires, can be withdrawn, and is bound
-- to its site. Pruned 30 days after expiry (core::upkeep::retention, Kept::AccessLinks).

CREATE TABLE access_links (
  id TEXT PRIMARY KEY,                 -- what the owner's list and withdrawal name (not the token)
  token_hash TEXT NOT NULL UNIQUE,     -- hex SHA-256 of the token
  purpose TEXT NOT NULL CHECK (purpose IN ('invite', 'reset')),
  site TEXT NOT NULL,
  email TEXT NOT NULL,                 -- normalised, lower case
  role TEXT NOT NULL CHECK (role IN ('owner', 'operator')),
  account_id TEXT,                     -- a reset's account
  created_by TEXT NOT NULL,            -- the owner's account id, or 'admin'
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  claim TEXT,                          -- the random claim of the use that set used_at
  revoked_at INTEGER
);
CREATE INDEX access_links_by_site ON access_links (site, purpose, created_at);
CREATE INDEX access_links_by_expiry ON access_links (expires_at);
