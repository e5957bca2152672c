-- What the CRM's last call with each deal token did (core::insights::deals::TokenCall, JSON):
-- deals recorded, the first few skipped with why, or the refusal. The owner's token list shows
-- it, so a refused call or a skipped deal is seen without the CRM's own webhook log. One bounded
-- value per token, overwritten by each call; it goes with its token.
ALTER TABLE deal_tokens ADD COLUMN last_call TEXT;
