-- The orders_by_status metric counts orders per status at every scrape
-- (subgraphs/orders/src/app.ts): without an index that is a scan of the whole
-- orders table; with it, an index-only scan of this much smaller index.
-- Not CONCURRENTLY: migrations run in a transaction (packages/common/src/migrate.ts),
-- so writes to orders wait while the index is built.
CREATE INDEX "orders_status_idx" ON "orders"("status");
