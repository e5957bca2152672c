-- Callback requests keyed by site (issue 11 item 6). The request used to be written before the
-- access check, keyed by the conversation id alone: a token of another site (or a random id)
-- left a row that one site's operators saw and none could clear. The worker now checks first;
-- the key carries the site, and rows whose conversation is not on their site (what the bug
-- wrote) are not carried over.

CREATE TABLE chat_callbacks_by_site (
  site TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  contact TEXT NOT NULL,
  time_slot TEXT,
  requested_at INTEGER NOT NULL,
  done_at INTEGER,
  done_by TEXT,
  PRIMARY KEY (site, conversation_id)
);

INSERT INTO chat_callbacks_by_site (site, conversation_id, contact, time_slot, requested_at, done_at, done_by)
  SELECT b.site, b.conversation_id, b.contact, b.time_slot, b.requested_at, b.done_at, b.done_by
  FROM chat_callbacks b JOIN chat_conversations c ON c.id = b.conversation_id AND c.site = b.site;

DROP INDEX IF EXISTS chat_callbacks_open;
DROP TABLE chat_callbacks;
ALTER TABLE chat_callbacks_by_site RENAME TO chat_callbacks;
CREATE INDEX chat_callbacks_open ON chat_callbacks (site, done_at, requested_at);
