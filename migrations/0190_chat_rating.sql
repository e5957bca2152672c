-- The operator's workspace (issue 13): the visitor's rating (1-5) of a closed conversation, noted
-- in its row by the chat's outbox when `conversation.rated` passes; the Results screen shows the
-- range's satisfaction. Kept and deleted with the row (retention: closed_conversations).
ALTER TABLE chat_conversations ADD COLUMN rating INTEGER;
