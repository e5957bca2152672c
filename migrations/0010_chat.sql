-- Live chat (edge-worker/src/chat). Messages themselves live in each Conversation Durable Object's
-- SQLite storage; D1 holds what must be found across conversations.

-- One row per conversation: who it belongs to and the visitor context captured when it started.
CREATE TABLE chat_conversations (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  visitor_id TEXT NOT NULL,
  user_id TEXT,                      -- set only through identity verification (user_hash)
  status TEXT NOT NULL DEFAULT 'open', -- open | closed
  opened_at INTEGER NOT NULL,
  closed_at INTEGER,
  visitor_label TEXT,
  context TEXT                       -- JSON of floorwalker_core::context::VisitorContext
);
CREATE INDEX chat_conversations_by_visitor ON chat_conversations (site, visitor_id, opened_at);
CREATE INDEX chat_conversations_by_user ON chat_conversations (site, user_id, opened_at);

-- Operators sign in to the console; passwords are PBKDF2-SHA256 strings from core::auth.
CREATE TABLE operators (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  disabled_at INTEGER
);

-- Sessions behind the console cookie (signed; a row lets logout revoke one).
CREATE TABLE operator_sessions (
  id TEXT PRIMARY KEY,
  operator_id TEXT NOT NULL REFERENCES operators (id),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER
);

-- Per-site API keys for CRMs answering into the chat; only the SHA-256 of the key is kept.
CREATE TABLE chat_api_keys (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  name TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);

-- The per-site secret the site's backend uses for user_hash = HMAC-SHA256(secret, user_id).
CREATE TABLE chat_identity_secrets (
  site TEXT PRIMARY KEY,
  secret TEXT NOT NULL
);

-- Callback requests left in the chat; operators mark them done.
CREATE TABLE chat_callbacks (
  conversation_id TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  contact TEXT NOT NULL,
  requested_at INTEGER NOT NULL,
  done_at INTEGER,
  done_by TEXT
);
CREATE INDEX chat_callbacks_open ON chat_callbacks (site, done_at, requested_at);

-- Chat events for the delivery pipeline: message.created, conversation.closed (Standard Webhooks
-- envelopes) and transcript.requested. The id is the webhook id, so a re-flush is harmless.
CREATE TABLE chat_outbox (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  type TEXT NOT NULL,
  conversation_id TEXT,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  delivered_at INTEGER
);
CREATE INDEX chat_outbox_pending ON chat_outbox (delivered_at, created_at);
