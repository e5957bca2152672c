-- Does it sell? (issue 14): whether and how fast operators answer. The chat's outbox notes an
-- operator's first message in its conversation's row; the rollups count answered conversations.
ALTER TABLE chat_conversations ADD COLUMN first_reply_at INTEGER;
ALTER TABLE funnel_rollups ADD COLUMN chats_answered INTEGER NOT NULL DEFAULT 0;
