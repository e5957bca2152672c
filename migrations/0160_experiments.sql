-- Experiments on prompts (issue 14): a prompt's rollup rows are split by the visitor's arm, so
-- each arm's conversion is a sum of rows (core::insights::rollup, core::insights::experiment).
-- `experiment` is the prompt's experiment id when the day was rolled up and `variant` the arm
-- (`control` or a variant's id); both '' for a prompt without an experiment and for the site row.
-- Both are in the key: a day holds one row per arm of each segment, and a later experiment's
-- arms never merge with an earlier one's of the same name.
--
-- SQLite cannot change a primary key in place: the table is copied into its new shape.
CREATE TABLE funnel_rollups_by_arm (
  site TEXT NOT NULL,
  day INTEGER NOT NULL,
  prompt TEXT NOT NULL,
  experiment TEXT NOT NULL DEFAULT '',
  variant TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL,
  device TEXT NOT NULL,
  locale TEXT NOT NULL,
  visitors INTEGER NOT NULL DEFAULT 0,
  eligible INTEGER NOT NULL DEFAULT 0,
  shown INTEGER NOT NULL DEFAULT 0,
  accepted INTEGER NOT NULL DEFAULT 0,
  dismissed INTEGER NOT NULL DEFAULT 0,
  leads INTEGER NOT NULL DEFAULT 0,
  delivered INTEGER NOT NULL DEFAULT 0,
  chat_opens INTEGER NOT NULL DEFAULT 0,
  chats INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site, day, prompt, experiment, variant, source, device, locale)
);
INSERT INTO funnel_rollups_by_arm
  (site, day, prompt, source, device, locale, visitors, eligible, shown, accepted, dismissed, leads, delivered, chat_opens, chats)
  SELECT site, day, prompt, source, device, locale, visitors, eligible, shown, accepted, dismissed, leads, delivered, chat_opens, chats
  FROM funnel_rollups;
DROP TABLE funnel_rollups;
ALTER TABLE funnel_rollups_by_arm RENAME TO funnel_rollups;
CREATE INDEX funnel_rollups_by_day ON funnel_rollups (day);
-- An experiment's arms are read for the whole experiment, whatever the days.
CREATE INDEX funnel_rollups_by_experiment ON funnel_rollups (site, prompt, experiment) WHERE experiment != '';
