-- The rollup trigger of 20261205000000_operator_console, cheaper: one upsert per case that touches
-- only its own counters (a paid order increments one histogram bucket in place) instead of merging
-- the whole histogram array on every placed order. Measured server-side (a loop of insert, commit,
-- pay, commit on an idle PostgreSQL 15): the triggers added 0.4-1.1 ms per order before, 0.16-0.28 ms
-- now, against 0.3 ms for the two statements without them.
CREATE OR REPLACE FUNCTION order_metrics_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bucket_count CONSTANT INTEGER := cardinality(order_metrics_latency_bounds()) + 1;
  this_minute CONSTANT TIMESTAMPTZ := date_trunc('minute', now());
  this_shard CONSTANT SMALLINT := floor(random() * 16)::smallint;
  bucket INTEGER;
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO order_metrics_minute AS m (minute, shard, placed, placed_total_cents, to_shipment_ms)
    VALUES (this_minute, this_shard, 1, NEW.total_cents, array_fill(0, ARRAY[bucket_count]))
    ON CONFLICT ("minute", "shard") DO UPDATE
      SET placed = m.placed + 1, placed_total_cents = m.placed_total_cents + EXCLUDED.placed_total_cents;
  ELSIF NEW.status = 'PENDING_SHIPMENT' THEN
    -- width_bucket: 0 below the first bound, i for bounds[i] <= x < bounds[i+1]; +1 makes it 1-based.
    bucket := width_bucket(greatest(0, extract(epoch FROM now() - NEW.created_at) * 1000)::int, order_metrics_latency_bounds()) + 1;
    INSERT INTO order_metrics_minute AS m (minute, shard, paid, to_shipment_ms)
    VALUES (this_minute, this_shard, 1, array_fill(0, ARRAY[bucket - 1]) || 1 || array_fill(0, ARRAY[bucket_count - bucket]))
    ON CONFLICT ("minute", "shard") DO UPDATE
      SET paid = m.paid + 1, to_shipment_ms[bucket] = m.to_shipment_ms[bucket] + 1;
  ELSE
    INSERT INTO order_metrics_minute AS m (minute, shard, payment_failed, to_shipment_ms)
    VALUES (this_minute, this_shard, 1, array_fill(0, ARRAY[bucket_count]))
    ON CONFLICT ("minute", "shard") DO UPDATE SET payment_failed = m.payment_failed + 1;
  END IF;
  RETURN NULL;
END
$$;
