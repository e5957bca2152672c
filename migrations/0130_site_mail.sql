-- The owner's email settings per site (core::outbound::email::MailSettings as JSON): the sender's
-- name, the reply address, the logo and the brand colour of the shop's mail
-- (edge-worker/src/mail_settings.rs). Like site_delivery, an owner's configuration: kept while
-- the site is, not pruned.
CREATE TABLE site_mail (
  site TEXT PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
  settings TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
