-- Privacy operations (edge-worker/src/privacy.rs, core::outbound::privacy): erasing a visitor keeps
-- only what core::outbound::privacy::KEPT lists.

-- The consent proof of each erased lead (JSON of privacy::ConsentProof): the wording, purpose, time
-- and page, the contact only as a keyed hash. Found again by that hash.
CREATE TABLE erased_consents (
  lead TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  email_hash TEXT,
  phone_hash TEXT,
  erased_at INTEGER NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX erased_consents_by_email ON erased_consents (site, email_hash);
CREATE INDEX erased_consents_by_phone ON erased_consents (site, phone_hash);

-- One row per erased visitor id: when and how much (JSON of privacy::VisitorErasure, its visitor id
-- replaced by the hash), proof that the request was carried out.
CREATE TABLE visitor_erasures (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  visitor_hash TEXT NOT NULL,
  erased_at INTEGER NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX visitor_erasures_by_site ON visitor_erasures (site, erased_at);

-- Finding everything of one visitor, or who gave a contact.
CREATE INDEX IF NOT EXISTS leads_by_visitor ON leads (site, visitor);
CREATE INDEX IF NOT EXISTS chat_callbacks_by_contact ON chat_callbacks (site, contact);
CREATE INDEX IF NOT EXISTS mailbox_by_lead ON mailbox (site, lead);
