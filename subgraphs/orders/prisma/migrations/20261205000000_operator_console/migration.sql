-- The operator console (issue 15): staff search, operator actions in the timeline, business figures.

-- Query.orders pages newest first by (created_at desc, id desc) with a keyset cursor. One index per
-- filter, each ending in that order, so a page is an index range read and stops after `first` rows
-- whatever the table's size. The customer's email is matched case-insensitively.
CREATE INDEX "orders_created_at_id_idx" ON "orders"("created_at" DESC, "id" DESC);
CREATE INDEX "orders_status_created_at_id_idx" ON "orders"("status", "created_at" DESC, "id" DESC);
CREATE INDEX "orders_customer_email_created_at_id_idx" ON "orders"(lower("customer_email"), "created_at" DESC, "id" DESC);
-- The product filter reads a product's lines newest first and joins each to its order, so each line
-- carries its order's created_at. placeOrder writes the order and its lines in one statement, where
-- both columns' default (CURRENT_TIMESTAMP: the transaction's start) is the same instant; the lines
-- already there take their order's.
ALTER TABLE "order_items" ADD COLUMN "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
UPDATE "order_items" i SET "created_at" = o."created_at" FROM "orders" o WHERE o."id" = i."order_id";
CREATE INDEX "order_items_product_id_created_at_order_id_idx" ON "order_items"("product_id", "created_at" DESC, "order_id" DESC);

-- What an operator did to an order (cancelOrderAsOperator, replayDeadLetter), with their client id.
-- internal: hidden from the order's owner (a replayed dead letter).
CREATE TABLE "operator_actions" (
    "id" BIGSERIAL NOT NULL,
    "order_id" UUID NOT NULL,
    "action" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "internal" BOOLEAN NOT NULL DEFAULT false,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "operator_actions_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "operator_actions_order_id_id_idx" ON "operator_actions"("order_id", "id");

-- Business figures (Query.businessMetrics) as per-minute rollups, written by triggers as orders are
-- placed and paid, so a dashboard reads at most (window × 16) small rows instead of scanning orders.
-- 16 shards per minute (a random one per write) so concurrent orders rarely wait for the same row.
-- to_shipment_ms: a histogram of the time from placing to PENDING_SHIPMENT, one count per bucket of
-- order_metrics_latency_bounds() (ms; the last bucket is everything above the last bound).
CREATE TABLE "order_metrics_minute" (
    "minute" TIMESTAMPTZ(0) NOT NULL,
    "shard" SMALLINT NOT NULL,
    "placed" INTEGER NOT NULL DEFAULT 0,
    "placed_total_cents" BIGINT NOT NULL DEFAULT 0,
    "paid" INTEGER NOT NULL DEFAULT 0,
    "payment_failed" INTEGER NOT NULL DEFAULT 0,
    "to_shipment_ms" INTEGER[] NOT NULL,
    CONSTRAINT "order_metrics_minute_pkey" PRIMARY KEY ("minute", "shard")
);

CREATE FUNCTION order_metrics_latency_bounds() RETURNS INTEGER[] LANGUAGE sql IMMUTABLE AS $$
  SELECT ARRAY[50, 100, 150, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10000, 15000, 30000, 60000, 120000, 300000, 900000]
$$;

CREATE FUNCTION order_metrics_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bucket_count INTEGER := cardinality(order_metrics_latency_bounds()) + 1;
  bucket INTEGER := 0;
  placed INTEGER := 0;
  placed_cents BIGINT := 0;
  paid INTEGER := 0;
  failed INTEGER := 0;
BEGIN
  IF TG_OP = 'INSERT' THEN
    placed := 1;
    placed_cents := NEW.total_cents;
  ELSIF OLD.status = 'PENDING_PAYMENT' AND NEW.status = 'PENDING_SHIPMENT' THEN
    paid := 1;
    -- width_bucket: 0 below the first bound, i for bounds[i] <= x < bounds[i+1]; +1 makes it 1-based.
    bucket := width_bucket(greatest(0, extract(epoch FROM now() - NEW.created_at) * 1000)::int, order_metrics_latency_bounds()) + 1;
  ELSIF OLD.status = 'PENDING_PAYMENT' AND NEW.status = 'PAYMENT_FAILED' THEN
    failed := 1;
  ELSE
    RETURN NULL;
  END IF;
  INSERT INTO order_metrics_minute AS m (minute, shard, placed, placed_total_cents, paid, payment_failed, to_shipment_ms)
  VALUES (date_trunc('minute', now()), floor(random() * 16)::smallint, placed, placed_cents, paid, failed,
          ARRAY(SELECT CASE WHEN i = bucket THEN 1 ELSE 0 END FROM generate_series(1, bucket_count) i ORDER BY i))
  ON CONFLICT ("minute", "shard") DO UPDATE SET
    placed = m.placed + EXCLUDED.placed,
    placed_total_cents = m.placed_total_cents + EXCLUDED.placed_total_cents,
    paid = m.paid + EXCLUDED.paid,
    payment_failed = m.payment_failed + EXCLUDED.payment_failed,
    to_shipment_ms = ARRAY(SELECT a + b FROM unnest(m.to_shipment_ms, EXCLUDED.to_shipment_ms) WITH ORDINALITY AS t(a, b, i) ORDER BY i);
  RETURN NULL;
END
$$;

CREATE TRIGGER "orders_metrics_placed" AFTER INSERT ON "orders"
  FOR EACH ROW EXECUTE FUNCTION order_metrics_rollup();
CREATE TRIGGER "orders_metrics_settled" AFTER UPDATE OF "status" ON "orders"
  FOR EACH ROW WHEN (OLD.status = 'PENDING_PAYMENT' AND NEW.status IN ('PENDING_SHIPMENT', 'PAYMENT_FAILED'))
  EXECUTE FUNCTION order_metrics_rollup();
