-- Products as the shop's own pages publish them, read by the worker for the comparison email
-- (edge-worker/src/product_pages.rs). One row per page: `data` is core's PublishedProduct as
-- JSON, NULL when the page published no product. Used as read for an hour, kept seven days as a
-- stand-in during an outage of the shop's site, then pruned in small batches on every write.
CREATE TABLE product_pages (
  site TEXT NOT NULL,
  url TEXT NOT NULL,
  read_at INTEGER NOT NULL,
  data TEXT,
  PRIMARY KEY (site, url)
);
CREATE INDEX product_pages_read_at ON product_pages (read_at);
