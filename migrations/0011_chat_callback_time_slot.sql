-- When a visitor who asked for a callback would like it, in their own words ("after 18:00").
ALTER TABLE chat_callbacks ADD COLUMN time_slot TEXT;
