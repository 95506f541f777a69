import { sqlPool, type Sql } from '@orderflow/common/db';
import { createEvent, publishingTransaction, writeOutbox } from '@orderflow/common/messaging';
import { type Logger } from '@orderflow/common/observability';
import { isUniqueViolation } from '@orderflow/common/server';
import { type EventData, type EventEnvelope, type EventType, type ReserveResult } from '@orderflow/contracts';
import type { Db } from '../db.ts';
import {
  SETTLEMENTS,
  decideReservation,
  type ReserveLine,
  type Settlement,
  type StockRow,
} from '../domain/inventory.ts';
import { settleReservation } from '../store/inventory-store.ts';

export type { ReservedLine, ReserveResult } from '@orderflow/contracts';

interface LockedRow {
  id: string;
  available: number;
  is_active: boolean;
  low_stock_threshold: number;
  price_cents: number;
  currency_code: string;
  name: string;
}

export interface InventoryServiceDeps {
  db: Db;
  log: Logger;
  /** Called after a commit that wrote outbox rows, with the events when they are known (relay.committed). */
  onEvents?: (events: EventEnvelope[]) => void;
}

/**
 * The reservation statement; $1 product ids, $2 quantities, $3 order id,
 * $4 the inventory.reserved envelope. Returns the locked rows as they were
 * before the update, each with the verdict `ok`. `moved` computes every quantity from `locked`, never
 * from `p` (docs/decisions/006-reservation-computes-from-the-locked-row.md).
 */
const RESERVE_SQL = `
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
  INSERT INTO reservations (order_id, product_id, quantity, unit_cents)
  SELECT $3::uuid, r.id, r.q, l.price_cents FROM req r JOIN locked l USING (id), verdict v WHERE v.ok
), audit AS (
  INSERT INTO stock_movements (product_id, type, quantity, order_id)
  SELECT r.id, 'RESERVE', -r.q, $3::uuid FROM req r, verdict v WHERE v.ok
), crossings AS (
  SELECT jsonb_build_object(
           'id', gen_random_uuid(), 'type', 'inventory.low_stock', 'version', 1,
           'occurredAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'source', 'products', 'correlationId', $3::text, 'causationId', null, 'traceparent', $4::jsonb->'traceparent',
           'data', jsonb_build_object('productId', l.id, 'availableQuantity', l.available - r.q, 'threshold', l.low_stock_threshold)) AS e
    FROM req r JOIN locked l USING (id), verdict v
   WHERE v.ok AND l.available > l.low_stock_threshold AND l.available - r.q <= l.low_stock_threshold
), events AS (
  INSERT INTO outbox (id, subject, payload)
  SELECT (e->>'id')::uuid, e->>'type', e FROM (SELECT $4::jsonb AS e FROM verdict WHERE ok UNION ALL SELECT e FROM crossings) x
)
SELECT l.id::text, l.available, l.is_active, l.low_stock_threshold, l.price_cents, l.currency_code, l.name, v.ok, c.e AS low_stock
  FROM locked l CROSS JOIN verdict v LEFT JOIN crossings c ON c.e->'data'->>'productId' = l.id::text`;

/** Confirms the reservations of the orders $1 (see `confirm`). */
const CONFIRM_SQL = `
UPDATE reservations r SET confirmed_at = now(), updated_at = now()
  FROM (SELECT order_id, product_id FROM reservations WHERE order_id = ANY($1::uuid[]) AND confirmed_at IS NULL
         ORDER BY order_id, product_id FOR UPDATE) l
 WHERE r.order_id = l.order_id AND r.product_id = l.product_id`;

/**
 * Marks the overdue reservations of at most $3 orders as checked now and returns their order ids: ACTIVE,
 * unconfirmed, created more than $1 ms ago, and not asked about in the last $2 ms. Lines a settlement holds
 * are skipped (it decides them anyway); locked in the order `settle` locks them.
 */
const REQUEST_CHECKS_SQL = `
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

export function createInventoryService({ db, log, onEvents = () => {} }: InventoryServiceDeps) {
  /** The pool under `db`, for the hot path's plain SQL (see sqlTransaction). */
  const sql = sqlPool(db);
  const event = <K extends EventType>(
    type: K,
    orderId: string,
    data: EventData<K>,
    causationId: string | null = null,
  ) => createEvent({ type, source: 'products', correlationId: orderId, causationId, data });

  /**
   * Applies a settlement (domain/inventory.ts) to every line of an order's reservation in the status it
   * moves from, inside `tx`; returns how many lines moved (0: nothing to do, e.g. a redelivered event or a
   * reservation already released). Two statements: the settlement (`settleReservation`: lock, move,
   * audit), and its event, built here from the lines it moved.
   */
  async function settle(
    tx: Sql,
    orderId: string,
    kind: Settlement,
    reason: string | null,
    causationId: string | null = null,
  ): Promise<number> {
    const s = SETTLEMENTS[kind];
    const items = await settleReservation(tx, { orderId, rule: s, reason });
    if (items.length === 0) return 0;
    await writeOutbox(
      tx,
      createEvent({
        type: s.event,
        source: 'products',
        correlationId: orderId,
        causationId,
        data: { orderId, items, ...(kind === 'release' && reason ? { reason } : {}) },
      }),
    );
    log.info({ orderId, kind, reason }, 'reservation settled');
    return items.length;
  }

  /** The reservation already made for an order, as the first call answered it. */
  async function replay(orderId: string): Promise<ReserveResult | null> {
    const existing = await db.reservation.findMany({
      where: { orderId },
      include: { product: { select: { currencyCode: true, name: true } } },
    });
    if (existing.length === 0) return null;
    return {
      status: 'reserved',
      lines: existing.map((r) => ({
        productId: r.productId,
        quantity: r.quantity,
        unitCents: r.unitCents,
        currencyCode: r.product.currencyCode,
        name: r.product.name,
      })),
    };
  }

  return {
    /**
     * Reserves every line for `orderId`, all or nothing, in ONE statement
     * (autocommit): it locks the rows in id order (no deadlock between
     * multi-line orders), decides under the lock whether every line fits,
     * and only then moves available → reserved and writes the reservation,
     * the RESERVE movements and the outbox rows (inventory.reserved, and
     * inventory.low_stock for each line that takes available stock from above
     * its threshold to at or below it). A hot product is locked for one
     * statement, not for a conversation with this process: lock time is what
     * bounds throughput on a best-seller.
     * Idempotent per order id: a retry hits the reservation's primary key
     * and returns the first reservation.
     */
    async reserve(orderId: string, lines: ReserveLine[]): Promise<ReserveResult> {
      const reserved = event('inventory.reserved', orderId, { orderId, items: lines });
      let rows: (LockedRow & { ok: boolean; low_stock: EventEnvelope | null })[];
      try {
        ({ rows } = await sql.query<LockedRow & { ok: boolean; low_stock: EventEnvelope | null }>(RESERVE_SQL, [
          lines.map((l) => l.productId),
          lines.map((l) => l.quantity),
          orderId,
          JSON.stringify(reserved),
        ]));
      } catch (err) {
        // The order was reserved already (a retry, or a concurrent duplicate): answer as the first call did.
        if (isUniqueViolation(err)) {
          const first = await replay(orderId);
          if (first) return first;
        }
        throw err;
      }
      if (rows[0]?.ok) {
        // Published now (the statement committed): inventory.reserved and any low-stock crossings.
        onEvents([reserved, ...rows.flatMap((r) => (r.low_stock ? [r.low_stock] : []))]);
        const byId = new Map(rows.map((r) => [r.id, r]));
        return {
          status: 'reserved',
          lines: lines.map((l) => {
            const r = byId.get(l.productId)!;
            return {
              productId: l.productId,
              quantity: l.quantity,
              unitCents: r.price_cents,
              currencyCode: r.currency_code,
              name: r.name,
            };
          }),
        };
      }
      // Refused: say why, from the rows as they were under the lock.
      const stock: StockRow[] = rows.map((r) => ({
        id: r.id,
        available: r.available,
        isActive: r.is_active,
        lowStockThreshold: r.low_stock_threshold,
      }));
      const decision = decideReservation(lines, stock);
      if (decision.kind === 'unknown-product')
        return {
          status: 'invalid',
          field: `items[${decision.index}].productId`,
          message: 'Unknown or inactive product',
        };
      if (decision.kind === 'short') return { status: 'unavailable', items: decision.items };
      // Everything fits now: the stock changed between the statement and our reading of it. Ask again.
      return this.reserve(orderId, lines);
    },

    /** Returns an order's active reservation to available stock; idempotent. */
    async release(orderId: string, reason: string): Promise<number> {
      return publishingTransaction(db, (tx) => settle(tx, orderId, 'release', reason), onEvents);
    },

    /** A reservation moves on, inside the caller's (consumer's) transaction. */
    settle,

    /**
     * Marks reservations as backed by a recorded order (the sweeper leaves
     * them alone): inside `tx` (the orders.created consumer's transaction),
     * or on its own (the sweeper). Runs concurrently with a settlement of the
     * same order (another consumer): it locks the lines in the order `settle`
     * does (by product id), or the two could deadlock on a multi-line order.
     */
    async confirm(orderIds: string[], tx: Sql = sql): Promise<void> {
      if (orderIds.length === 0) return;
      await tx.query(CONFIRM_SQL, [orderIds]);
    },

    /**
     * Asks the orders service, with one inventory.reservation_overdue event per order, whether the orders of
     * reservations still held after `olderThanMs` exist (an order that was never recorded: placeOrder cut
     * short by a crash, its release call lost). Each order is asked again only after `recheckAfterMs`
     * without an answer. Returns the order ids asked about.
     */
    async requestChecks(olderThanMs: number, recheckAfterMs: number, limit = 500): Promise<string[]> {
      return publishingTransaction(
        db,
        async (tx) => {
          const { rows } = await tx.query<{ order_id: string }>(REQUEST_CHECKS_SQL, [
            olderThanMs,
            recheckAfterMs,
            limit,
          ]);
          const orderIds = [...new Set(rows.map((r) => r.order_id))];
          await writeOutbox(
            tx,
            ...orderIds.map((orderId) =>
              createEvent({
                type: 'inventory.reservation_overdue',
                source: 'products',
                correlationId: orderId,
                data: { orderId },
              }),
            ),
          );
          return orderIds;
        },
        onEvents,
      );
    },
  };
}
export type InventoryService = ReturnType<typeof createInventoryService>;
