-- Accounts per person, memberships per site (issue 11 item 8, issue 12's owners and operators).
-- `operators` made one email one site: the same person could not answer two shops, and an owner
-- could not own several. Now an account (one email, one password, one name) joins sites through
-- `site_members` with a role, and a session is for one account on one site, so disabling someone
-- on one site ends their work there and nowhere else.

CREATE TABLE accounts (
  id TEXT PRIMARY KEY,               -- the operator_id chat frames carry (kept from `operators`)
  email TEXT NOT NULL UNIQUE,        -- normalised, lower case
  name TEXT NOT NULL,
  password_hash TEXT NOT NULL,       -- PBKDF2-SHA256 string from core::access::auth
  created_at INTEGER NOT NULL,
  password_changed_at INTEGER,
  disabled_at INTEGER                -- the whole account (no site); unused by the admin API yet
);

CREATE TABLE site_members (
  site TEXT NOT NULL,
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('owner', 'operator')),
  created_at INTEGER NOT NULL,
  disabled_at INTEGER,               -- disabled on this site: no login, no session, no socket
  PRIMARY KEY (site, account_id)
);
CREATE INDEX site_members_by_account ON site_members (account_id);

-- Sessions behind the console cookie: one account on one site; a row lets logout revoke it.
CREATE TABLE account_sessions (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  site TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX account_sessions_by_account ON account_sessions (account_id, site);

INSERT INTO accounts (id, email, name, password_hash, created_at)
  SELECT id, email, name, password_hash, created_at FROM operators;
INSERT INTO site_members (site, account_id, role, created_at, disabled_at)
  SELECT site, id, 'operator', created_at, disabled_at FROM operators;
INSERT INTO account_sessions (id, account_id, site, created_at, expires_at, revoked_at)
  SELECT s.id, s.operator_id, o.site, s.created_at, s.expires_at, s.revoked_at
  FROM operator_sessions s JOIN operators o ON o.id = s.operator_id;

DROP TABLE operator_sessions;
DROP TABLE operators;

-- API keys are listed per site and revoked by id.
CREATE INDEX IF NOT EXISTS chat_api_keys_by_site ON chat_api_keys (site, created_at);

-- A revocation reaches every open conversation of the site (their operator sockets close).
CREATE INDEX IF NOT EXISTS chat_conversations_open_by_site ON chat_conversations (site, status, opened_at);
