-- Does it sell (issue 14): when a site's "any operator online" flipped, recorded by its SiteHub,
-- so the funnel replays a day's prompts (the chat invitation asks for an operator) with who was
-- online then, not as if nobody ever was. A handful of rows a day per site; pruned with the
-- site's events (retention: events), whose replay they serve.
CREATE TABLE presence_changes (
  site TEXT NOT NULL,
  at INTEGER NOT NULL,
  online INTEGER NOT NULL,
  PRIMARY KEY (site, at)
);
