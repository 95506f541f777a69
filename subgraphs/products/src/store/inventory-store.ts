import type { Sql } from '@orderflow/common/db';
import type { EventEnvelope } from '@orderflow/contracts';
import type { ReserveLine, SettlementRule } from '../domain/inventory.ts';

/**
 * The products service's statements on the saga's path, one named, typed function each (docs/data-access.md).
 * None decides anything or builds an event: the rules are in `domain/inventory.ts`.
 */

/**
 * The reservation statement; $1 product ids, $2 quantities, $3 order id, $4 the inventory.reserved event.
 * Returns the locked rows as they were before the update, each with the verdict `ok`. `moved` computes
 * every quantity from `locked`, never from `p` (docs/decisions/006-reservation-computes-from-the-locked-row.md).
 * Each reservation line keeps its product's available stock and threshold as locked, the low-stock
 * alert's inputs.
 */
const RESERVE_STOCK = `
WITH req AS (
  SELECT * FROM unnest($1::uuid[], $2::int[]) AS r(id, q)
), locked AS (
  SELECT p.id, p.available, p.reserved, p.sold, p.stocked, p.is_active, p.low_stock_threshold, p.price_cents, p.currency_code, p.name
    FROM products p WHERE p.id IN (SELECT id FROM req) ORDER BY p.id FOR UPDATE
), verdict AS (
  SELECT (SELECT count(*) FROM locked l JOIN req r USING (id) WHERE l.is_active AND l.available >= r.q) = (SELECT count(*) FROM req) AS ok
), moved AS (
  UPDATE products p SET available = l.available - r.q, reserved = l.reserved + r.q, sold = l.sold, stocked = l.stocked, updated_at = now()
    FROM req r JOIN locked l USING (id), verdict v WHERE v.ok AND p.id = r.id RETURNING p.id
), held AS (
  INSERT INTO reservations (order_id, product_id, quantity, unit_cents, available_before, low_stock_threshold)
  SELECT $3::uuid, r.id, r.q, l.price_cents, l.available, l.low_stock_threshold
    FROM req r JOIN locked l USING (id), verdict v WHERE v.ok
), audit AS (
  INSERT INTO stock_movements (product_id, type, quantity, order_id)
  SELECT r.id, 'RESERVE', -r.q, $3::uuid FROM req r, verdict v WHERE v.ok
), events AS (
  INSERT INTO outbox (id, subject, payload) SELECT ($4::jsonb->>'id')::uuid, $4::jsonb->>'type', $4::jsonb FROM verdict WHERE ok
)
SELECT l.id::text, l.available, l.is_active, l.low_stock_threshold, l.price_cents, l.currency_code, l.name, v.ok
  FROM locked l CROSS JOIN verdict v`;

/** A product as the reservation statement locked it, before its update. */
export interface LockedProduct {
  id: string;
  available: number;
  isActive: boolean;
  lowStockThreshold: number;
  priceCents: number;
  currencyCode: string;
  name: string;
}

/**
 * Reserves every line for `orderId`, all or nothing, in ONE statement (autocommit, on the pool): locks the
 * products in id order (no deadlock between multi-line orders), checks under the lock that every line fits
 * (active, enough available), and only then moves available → reserved and writes the reservation lines,
 * the RESERVE movements and the outbox row of `reserved`. Returns `ok` and the products as locked, before
 * the update (whatever the verdict: a refusal is explained from them). A second reservation of the same
 * order fails on the reservations' primary key.
 */
export async function reserveStock(
  sql: Sql,
  { orderId, lines, reserved }: { orderId: string; lines: ReserveLine[]; reserved: EventEnvelope },
): Promise<{ ok: boolean; products: LockedProduct[] }> {
  const { rows } = await sql.query<{
    id: string;
    available: number;
    is_active: boolean;
    low_stock_threshold: number;
    price_cents: number;
    currency_code: string;
    name: string;
    ok: boolean;
  }>(RESERVE_STOCK, [lines.map((l) => l.productId), lines.map((l) => l.quantity), orderId, JSON.stringify(reserved)]);
  return {
    ok: rows[0]?.ok ?? false,
    products: rows.map((r) => ({
      id: r.id,
      available: r.available,
      isActive: r.is_active,
      lowStockThreshold: r.low_stock_threshold,
      priceCents: r.price_cents,
      currencyCode: r.currency_code,
      name: r.name,
    })),
  };
}

/**
 * Writes low-stock alerts to the outbox unless they are there already (their ids derive from the order
 * and product: a second write of one alert, after a crash or by a retry, is a no-op). Returns the events
 * this call wrote.
 */
export async function insertLowStockAlerts(sql: Sql, events: EventEnvelope[]): Promise<EventEnvelope[]> {
  if (events.length === 0) return [];
  const { rows } = await sql.query<{ id: string }>(
    `INSERT INTO outbox (id, subject, payload) SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[])
     ON CONFLICT (id) DO NOTHING RETURNING id::text`,
    [events.map((e) => e.id), events.map((e) => e.type), events.map((e) => JSON.stringify(e))],
  );
  const written = new Set(rows.map((r) => r.id));
  return events.filter((e) => written.has(e.id));
}

/** A reservation line as a settlement moved it. */
export interface SettledLine {
  productId: string;
  quantity: number;
  /** The product's available stock and threshold as the reservation locked them (null: not recorded). */
  availableBefore: number | null;
  lowStockThreshold: number | null;
  /** Whether the orders service had recorded the order (reservations.confirmed_at set). */
  confirmed: boolean;
}

/**
 * A settlement in one statement. `line` locks the order's reservation lines in the status `$2` with their
 * products, in product id order (as the reservation statement locks products: two settlements of
 * multi-line orders cannot deadlock), and reads the products' quantities as locked. The updates compute
 * every quantity from those locked values, never from `p`, the version in the statement's snapshot: a
 * reservation of the same product committed after the snapshot would otherwise have the CHECK constraints
 * tested on stale numbers (docs/decisions/006-reservation-computes-from-the-locked-row.md). A line that
 * another settlement moved on meanwhile fails the status re-check under the lock and is left out of every
 * step. $1 order id, $2 → $3 the status, $4-$6 the factors of available, reserved and sold, $7 the
 * movement type, $8 its sign, $9 the reason.
 */
const SETTLE_RESERVATION = `
WITH line AS (
  SELECT r.product_id AS id, r.quantity AS q, p.available, p.reserved, p.sold, p.stocked,
         r.available_before, r.low_stock_threshold, r.confirmed_at IS NOT NULL AS confirmed
    FROM reservations r JOIN products p ON p.id = r.product_id
   WHERE r.order_id = $1::uuid AND r.status = $2::reservation_status
   ORDER BY r.product_id FOR UPDATE OF p, r
), stock AS (
  UPDATE products p SET available = l.available + $4::int * l.q, reserved = l.reserved + $5::int * l.q,
                        sold = l.sold + $6::int * l.q, stocked = l.stocked, updated_at = now()
    FROM line l WHERE p.id = l.id
), status AS (
  UPDATE reservations r SET status = $3::reservation_status, updated_at = now()
    FROM line l WHERE r.order_id = $1::uuid AND r.product_id = l.id AND r.status = $2::reservation_status
), audit AS (
  INSERT INTO stock_movements (product_id, type, quantity, order_id, reason)
  SELECT l.id, $7::stock_movement_type, $8::int * l.q, $1::uuid, $9::text FROM line l
)
SELECT id::text AS product_id, q AS quantity, available_before, low_stock_threshold, confirmed FROM line ORDER BY id`;

/**
 * Moves every line of an order's reservation that is in `rule.from` to `rule.to`, with the products'
 * quantities and the audit trail, in ONE statement inside `tx`. Returns the lines moved, in product
 * id order: none when there was nothing to do (a redelivered event, a reservation already settled).
 */
export async function settleReservation(
  tx: Sql,
  { orderId, rule, reason }: { orderId: string; rule: SettlementRule; reason: string | null },
): Promise<SettledLine[]> {
  const { rows } = await tx.query<{
    product_id: string;
    quantity: number;
    available_before: number | null;
    low_stock_threshold: number | null;
    confirmed: boolean;
  }>(SETTLE_RESERVATION, [
    orderId,
    rule.from,
    rule.to,
    rule.available,
    rule.reserved,
    rule.sold,
    rule.movement,
    rule.sign,
    reason,
  ]);
  return rows.map((r) => ({
    productId: r.product_id,
    quantity: r.quantity,
    availableBefore: r.available_before,
    lowStockThreshold: r.low_stock_threshold,
    confirmed: r.confirmed,
  }));
}

/**
 * Locks every reservation line of the orders $1 with its product, in product id order then order id, in ONE
 * statement: what the settlements of a consumer's batch of these orders will lock, taken at once in the order
 * the reservation statement and a settlement alone lock products. Settled one after another in the batch,
 * each order locking its own products, two batches (or a batch and a reservation) could each hold a product
 * the other waits for. Locks lines in every status (a superset of what the settlements move).
 */
const LOCK_SETTLEMENTS = `
SELECT count(*)::int AS locked FROM (
  SELECT 1 FROM reservations r JOIN products p ON p.id = r.product_id
   WHERE r.order_id = ANY($1::uuid[])
   ORDER BY r.product_id, r.order_id FOR UPDATE OF p, r
) l`;

/** Locks the reservation lines and products of the orders `orderIds` (see LOCK_SETTLEMENTS); returns the lines locked. */
export async function lockSettlements(tx: Sql, orderIds: string[]): Promise<number> {
  if (orderIds.length === 0) return 0;
  const { rows } = await tx.query<{ locked: number }>(LOCK_SETTLEMENTS, [[...new Set(orderIds)]]);
  return rows[0]?.locked ?? 0;
}

/** Confirms the reservations of the orders $1 (see `confirmReservations`). */
const CONFIRM_RESERVATIONS = `
UPDATE reservations r SET confirmed_at = now(), updated_at = now()
  FROM (SELECT order_id, product_id FROM reservations WHERE order_id = ANY($1::uuid[]) AND confirmed_at IS NULL
         ORDER BY order_id, product_id FOR UPDATE) l
 WHERE r.order_id = l.order_id AND r.product_id = l.product_id`;

/**
 * Marks the overdue reservations of at most $3 orders as checked now and returns their order ids: ACTIVE,
 * unconfirmed, created more than $1 ms ago, and not asked about in the last $2 ms. Lines a settlement holds
 * are skipped (it decides them anyway); locked in the order `settle` locks them.
 */
const MARK_OVERDUE_CHECKS = `
WITH due AS (
  SELECT order_id FROM reservations
   WHERE status = 'ACTIVE' AND confirmed_at IS NULL
     AND created_at < now() - ($1::int * interval '1 millisecond')
     AND (check_requested_at IS NULL OR check_requested_at < now() - ($2::int * interval '1 millisecond'))
   GROUP BY order_id LIMIT $3
), lines AS (
  SELECT r.order_id, r.product_id FROM reservations r JOIN due USING (order_id)
   WHERE r.status = 'ACTIVE' ORDER BY r.order_id, r.product_id FOR UPDATE OF r SKIP LOCKED
)
UPDATE reservations r SET check_requested_at = now() FROM lines
 WHERE r.order_id = lines.order_id AND r.product_id = lines.product_id
RETURNING r.order_id::text`;

/**
 * Marks the reservations of `orderIds` as backed by a recorded order (the sweeper leaves them alone), locking
 * their lines by order id then product id: one order's lines in product id order, as a settlement locks them.
 */
export async function confirmReservations(tx: Sql, orderIds: string[]): Promise<void> {
  await tx.query(CONFIRM_RESERVATIONS, [orderIds]);
}

/**
 * Marks the overdue reservations of at most `limit` orders as asked about now (see MARK_OVERDUE_CHECKS) and
 * returns their order ids, each once.
 */
export async function markOverdueChecks(
  tx: Sql,
  { olderThanMs, recheckAfterMs, limit }: { olderThanMs: number; recheckAfterMs: number; limit: number },
): Promise<string[]> {
  const { rows } = await tx.query<{ order_id: string }>(MARK_OVERDUE_CHECKS, [olderThanMs, recheckAfterMs, limit]);
  return [...new Set(rows.map((r) => r.order_id))];
}
