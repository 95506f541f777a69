import { createEvent, isUniqueViolation, writeOutbox, type EventData, type EventEnvelope, type EventType, type Logger } from '@orderflow/common';
import type { Db, Tx } from '../db.ts';
import { crossesLowStock, decideReservation, type ReserveLine, type Shortfall, type StockRow } from '../domain/inventory.ts';

export interface ReservedLine {
  productId: string;
  quantity: number;
  unitCents: number;
  currencyCode: string;
  name: string;
}

export type ReserveResult =
  | { status: 'reserved'; lines: ReservedLine[] }
  | { status: 'unavailable'; items: Shortfall[] }
  | { status: 'invalid'; field: string; message: string };

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
  /** Called after a commit that wrote outbox rows. */
  onEvents?: () => void;
}

/**
 * How a reservation moves on: from which status, to which, and what each
 * line does to the product's quantities and its audit trail.
 */
const SETTLEMENTS = {
  release: { from: 'ACTIVE', to: 'RELEASED', available: +1, reserved: -1, sold: 0, movement: 'RELEASE', sign: +1, event: 'inventory.released' },
  commit: { from: 'ACTIVE', to: 'COMMITTED', available: 0, reserved: -1, sold: +1, movement: 'COMMIT', sign: -1, event: 'inventory.committed' },
  return: { from: 'COMMITTED', to: 'RETURNED', available: +1, reserved: 0, sold: -1, movement: 'RETURN', sign: +1, event: 'inventory.returned' },
} as const;
export type Settlement = keyof typeof SETTLEMENTS;

export function createInventoryService({ db, log, onEvents = () => {} }: InventoryServiceDeps) {
  const event = <K extends EventType>(type: K, orderId: string, data: EventData<K>, causationId: string | null = null) =>
    createEvent({ type, source: 'products', correlationId: orderId, causationId, data });

  /**
   * Applies a settlement to every line of an order's reservation in the given
   * status, inside `tx`; returns how many lines moved (0: nothing to do, e.g.
   * a redelivered event or a reservation already released).
   */
  async function settle(tx: Tx, orderId: string, kind: Settlement, reason: string | null, causationId: string | null = null): Promise<number> {
    const s = SETTLEMENTS[kind];
    const lines = await tx.$queryRawUnsafe<{ product_id: string; quantity: number }[]>(
      `SELECT r.product_id::text, r.quantity FROM reservations r JOIN products p ON p.id = r.product_id
        WHERE r.order_id = $1::uuid AND r.status = $2::reservation_status ORDER BY r.product_id FOR UPDATE OF p, r`,
      orderId,
      s.from,
    );
    if (lines.length === 0) return 0;
    const ids = lines.map((l) => l.product_id);
    const qty = lines.map((l) => l.quantity);
    await tx.$executeRawUnsafe(
      `UPDATE products p SET available = p.available + $3::int * v.q, reserved = p.reserved + $4::int * v.q, sold = p.sold + $5::int * v.q, updated_at = now()
         FROM unnest($1::uuid[], $2::int[]) AS v(id, q) WHERE p.id = v.id`,
      ids,
      qty,
      s.available,
      s.reserved,
      s.sold,
    );
    await tx.reservation.updateMany({ where: { orderId, status: s.from }, data: { status: s.to } });
    await tx.stockMovement.createMany({ data: lines.map((l) => ({ productId: l.product_id, type: s.movement, quantity: s.sign * l.quantity, orderId, reason })) });
    const items = lines.map((l) => ({ productId: l.product_id, quantity: l.quantity }));
    await writeOutbox(tx, createEvent({ type: s.event, source: 'products', correlationId: orderId, causationId, data: { orderId, items, ...(kind === 'release' && reason ? { reason } : {}) } }));
    log.info({ orderId, kind, reason }, 'reservation settled');
    return lines.length;
  }

  /** The reservation already made for an order, as the first call answered it. */
  async function replay(orderId: string): Promise<ReserveResult | null> {
    const existing = await db.reservation.findMany({ where: { orderId }, include: { product: { select: { currencyCode: true, name: true } } } });
    if (existing.length === 0) return null;
    return {
      status: 'reserved',
      lines: existing.map((r) => ({ productId: r.productId, quantity: r.quantity, unitCents: r.unitCents, currencyCode: r.product.currencyCode, name: r.product.name })),
    };
  }

  return {
    /**
     * Reserves every line for `orderId` in one transaction, all or nothing.
     * Rows are locked in id order (no deadlock between multi-line orders) and
     * checked under the lock, so two buyers can never take the same unit.
     * While the lock is held we make a single write statement: on a hot
     * product, lock time is what bounds throughput.
     * Idempotent per order id: a retried call returns the first reservation.
     */
    async reserve(orderId: string, lines: ReserveLine[]): Promise<ReserveResult> {
      const previous = await replay(orderId);
      if (previous) return previous;
      const ids = lines.map((l) => l.productId);
      let result: { result: ReserveResult; wrote: boolean };
      try {
        result = await db.$transaction(async (tx) => {
          const locked = await tx.$queryRawUnsafe<LockedRow[]>(
            `SELECT id::text, available, is_active, low_stock_threshold, price_cents, currency_code, name
               FROM products WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
            ids,
          );
          const stock: StockRow[] = locked.map((r) => ({ id: r.id, available: r.available, isActive: r.is_active, lowStockThreshold: r.low_stock_threshold }));
          const decision = decideReservation(lines, stock);
          if (decision.kind === 'unknown-product')
            return { result: { status: 'invalid', field: `items[${decision.index}].productId`, message: 'Unknown or inactive product' } as ReserveResult, wrote: false };
          if (decision.kind === 'short') return { result: { status: 'unavailable', items: decision.items } as ReserveResult, wrote: false };

          const byId = new Map(locked.map((r) => [r.id, r]));
          const events: EventEnvelope[] = [event('inventory.reserved', orderId, { orderId, items: lines })];
          for (const l of lines) {
            const row = byId.get(l.productId)!;
            if (crossesLowStock(row.available, row.available - l.quantity, row.low_stock_threshold))
              events.push(event('inventory.low_stock', orderId, { productId: l.productId, availableQuantity: row.available - l.quantity, threshold: row.low_stock_threshold }));
          }
          await tx.$executeRawUnsafe(
            `WITH moved AS (
               UPDATE products p SET available = p.available - v.q, reserved = p.reserved + v.q, updated_at = now()
                 FROM unnest($1::uuid[], $2::int[]) AS v(id, q) WHERE p.id = v.id RETURNING p.id
             ), held AS (
               INSERT INTO reservations (order_id, product_id, quantity, unit_cents)
               SELECT $3::uuid, v.id, v.q, v.c FROM unnest($1::uuid[], $2::int[], $4::int[]) AS v(id, q, c)
             ), audit AS (
               INSERT INTO stock_movements (product_id, type, quantity, order_id)
               SELECT v.id, 'RESERVE', -v.q, $3::uuid FROM unnest($1::uuid[], $2::int[]) AS v(id, q)
             )
             INSERT INTO outbox (id, subject, payload) SELECT * FROM unnest($5::uuid[], $6::text[], $7::jsonb[])`,
            ids,
            lines.map((l) => l.quantity),
            orderId,
            lines.map((l) => byId.get(l.productId)!.price_cents),
            events.map((e) => e.id),
            events.map((e) => e.type),
            events.map((e) => JSON.stringify(e)),
          );
          return {
            result: {
              status: 'reserved',
              lines: lines.map((l) => ({ productId: l.productId, quantity: l.quantity, unitCents: byId.get(l.productId)!.price_cents, currencyCode: byId.get(l.productId)!.currency_code, name: byId.get(l.productId)!.name })),
            } as ReserveResult,
            wrote: true,
          };
        });
      } catch (err) {
        // A concurrent call for the same order won the race: answer as it did.
        if (isUniqueViolation(err)) {
          const winner = await replay(orderId);
          if (winner) return winner;
        }
        throw err;
      }
      if (result.wrote) onEvents();
      return result.result;
    },

    /** Returns an order's active reservation to available stock; idempotent. */
    async release(orderId: string, reason: string): Promise<number> {
      const n = await db.$transaction((tx) => settle(tx, orderId, 'release', reason));
      if (n) onEvents();
      return n;
    },

    /** A reservation moves on, inside the caller's (consumer's) transaction. */
    settle,

    /** Marks reservations as backed by a recorded order (the sweeper leaves them alone). */
    async confirm(orderIds: string[]): Promise<void> {
      if (orderIds.length === 0) return;
      await db.reservation.updateMany({ where: { orderId: { in: orderIds }, confirmedAt: null }, data: { confirmedAt: new Date() } });
    },

    /** Orders whose reservation is still unconfirmed after `olderThanMs`. */
    async unconfirmed(olderThanMs: number, limit = 500): Promise<string[]> {
      const rows = await db.reservation.findMany({
        where: { status: 'ACTIVE', confirmedAt: null, createdAt: { lt: new Date(Date.now() - olderThanMs) } },
        select: { orderId: true },
        distinct: ['orderId'],
        take: limit,
      });
      return rows.map((r) => r.orderId);
    },
  };
}
export type InventoryService = ReturnType<typeof createInventoryService>;
