import { sqlPool, type Sql } from '@orderflow/common/db';
import { createEvent, publishingTransaction, writeOutbox } from '@orderflow/common/messaging';
import { type Logger } from '@orderflow/common/observability';
import { isUniqueViolation } from '@orderflow/common/server';
import { type EventData, type EventEnvelope, type EventType, type ReserveResult } from '@orderflow/contracts';
import { v5 as uuidv5 } from 'uuid';
import type { Db } from '../db.ts';
import {
  SETTLEMENTS,
  decideReservation,
  lowStockCrossings,
  type LowStockCrossing,
  type ReserveLine,
  type Settlement,
} from '../domain/inventory.ts';
import {
  confirmReservations,
  insertLowStockAlerts,
  lockSettlements,
  markOverdueChecks,
  reserveStock,
  settleReservation,
} from '../store/inventory-store.ts';

export type { ReservedLine, ReserveResult } from '@orderflow/contracts';

export interface InventoryServiceDeps {
  db: Db;
  log: Logger;
  /** Called after a commit that wrote outbox rows, with the events when they are known (the relay's afterCommit). */
  afterCommit?: (events: EventEnvelope[]) => void;
}

/** Namespace of the low-stock alerts' ids (uuid v5 of order id and product id): one alert per reservation line. */
const LOW_STOCK_ALERT_IDS = '5b0d7a52-3f0e-4f6b-9a52-6c1d2f0b7e4a';

export function createInventoryService({ db, log, afterCommit = () => {} }: InventoryServiceDeps) {
  /** The pool under `db`, for the hot path's plain SQL (see publishingTransaction). */
  const sql = sqlPool(db);
  const event = <K extends EventType>(
    type: K,
    orderId: string,
    data: EventData<K>,
    causationId: string | null = null,
  ) => createEvent({ type, source: 'products', correlationId: orderId, causationId, data });

  /**
   * The inventory.low_stock events of an order's crossings (domain/inventory.ts `lowStockCrossings`). Each
   * id derives from the order and the product, so the alert of one reservation line is one outbox row
   * however many times it is written (`insertLowStockAlerts`).
   */
  const lowStockAlerts = (orderId: string, crossings: LowStockCrossing[], traceparent?: string | null) =>
    crossings.map((data) =>
      createEvent({
        id: uuidv5(`${orderId}/${data.productId}`, LOW_STOCK_ALERT_IDS),
        type: 'inventory.low_stock',
        source: 'products',
        correlationId: orderId,
        traceparent,
        data,
      }),
    );

  /**
   * Applies a settlement (domain/inventory.ts) to every line of an order's reservation in the status it
   * moves from, inside `tx`; returns how many lines moved (0: nothing to do, e.g. a redelivered event or a
   * reservation already released). Two statements: the settlement (`settleReservation`: lock, move,
   * audit), and its event, built here from the lines it moved. Releasing a reservation whose order was
   * never recorded also writes its low-stock alerts if they are missing (a third statement, only when a
   * line had crossed): the reservation call that made it may have died between its two writes (see `reserve`).
   */
  async function settle(
    tx: Sql,
    orderId: string,
    kind: Settlement,
    reason: string | null,
    causationId: string | null = null,
  ): Promise<number> {
    const s = SETTLEMENTS[kind];
    const settled = await settleReservation(tx, { orderId, rule: s, reason });
    if (settled.length === 0) return 0;
    const items = settled.map(({ productId, quantity }) => ({ productId, quantity }));
    if (kind === 'release') {
      const unconfirmed = settled.filter((l) => !l.confirmed);
      const crossings = lowStockCrossings(
        unconfirmed,
        unconfirmed.map((l) => ({
          id: l.productId,
          available: l.availableBefore,
          lowStockThreshold: l.lowStockThreshold,
        })),
      );
      if (crossings.length) await insertLowStockAlerts(tx, lowStockAlerts(orderId, crossings));
    }
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

  /**
   * The reservation already made for an order, as the first call answered it. Writes its low-stock alerts
   * if they are missing: the first call may have died after the reservation committed and before its
   * alerts were written.
   */
  async function replay(orderId: string): Promise<ReserveResult | null> {
    const existing = await db.reservation.findMany({
      where: { orderId },
      include: { product: { select: { currencyCode: true, name: true } } },
    });
    if (existing.length === 0) return null;
    const crossings = lowStockCrossings(
      existing,
      existing.map((r) => ({ id: r.productId, available: r.availableBefore, lowStockThreshold: r.lowStockThreshold })),
    );
    if (crossings.length) afterCommit(await insertLowStockAlerts(sql, lowStockAlerts(orderId, crossings)));
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
     * (autocommit, `reserveStock`): the products locked in id order, the
     * check under the lock, available → reserved, the reservation, the
     * RESERVE movements and inventory.reserved's outbox row. A hot product is
     * locked for one statement, not for a conversation with this process:
     * lock time is what bounds throughput on a best-seller.
     * A line that takes available stock from above its threshold to at or
     * below it raises inventory.low_stock (`lowStockCrossings`, decided from
     * the rows as locked: of concurrent orders exactly one crosses), written
     * by a second statement only then, before the call answers. Its id derives
     * from order and product, and the reservation keeps the values it was
     * decided from, so a call that died between the two statements loses no
     * alert: the orders service's retry (`replay`) or the release of a
     * reservation it never got an answer for (`settle`) writes it, once.
     * Idempotent per order id: a retry hits the reservation's primary key
     * and returns the first reservation.
     */
    async reserve(orderId: string, lines: ReserveLine[]): Promise<ReserveResult> {
      const reserved = event('inventory.reserved', orderId, { orderId, items: lines });
      let result: Awaited<ReturnType<typeof reserveStock>>;
      try {
        result = await reserveStock(sql, { orderId, lines, reserved });
      } catch (err) {
        // The order was reserved already (a retry, or a concurrent duplicate): answer as the first call did.
        if (isUniqueViolation(err)) {
          const first = await replay(orderId);
          if (first) return first;
        }
        throw err;
      }
      const { ok, products } = result;
      if (ok) {
        const crossings = lowStockCrossings(lines, products);
        const alerts = crossings.length
          ? await insertLowStockAlerts(sql, lowStockAlerts(orderId, crossings, reserved.traceparent))
          : [];
        // Published now (the statements committed): inventory.reserved and any low-stock alerts.
        afterCommit([reserved, ...alerts]);
        const byId = new Map(products.map((p) => [p.id, p]));
        return {
          status: 'reserved',
          lines: lines.map((l) => {
            const p = byId.get(l.productId)!;
            return {
              productId: l.productId,
              quantity: l.quantity,
              unitCents: p.priceCents,
              currencyCode: p.currencyCode,
              name: p.name,
            };
          }),
        };
      }
      // Refused: say why, from the rows as they were under the lock.
      const decision = decideReservation(lines, products);
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
      return publishingTransaction(db, (tx) => settle(tx, orderId, 'release', reason), afterCommit);
    },

    /** A reservation moves on, inside the caller's (consumer's) transaction. */
    settle,

    /**
     * Before the settlements of several orders in one transaction (a consumer's batch): locks all their
     * reservation lines and products at once, in product id order (`lockSettlements`), so that the batch
     * cannot deadlock with another batch or a reservation.
     */
    async lockForSettlement(tx: Sql, orderIds: string[]): Promise<void> {
      await lockSettlements(tx, orderIds);
    },

    /**
     * Marks reservations as backed by a recorded order (the sweeper leaves
     * them alone): inside `tx` (the orders.created consumer's transaction),
     * or on its own (the sweeper). Runs concurrently with a settlement of the
     * same order (another consumer): it locks the lines in the order `settle`
     * does (by product id), or the two could deadlock on a multi-line order.
     */
    async confirm(orderIds: string[], tx: Sql = sql): Promise<void> {
      if (orderIds.length === 0) return;
      await confirmReservations(tx, orderIds);
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
          const orderIds = await markOverdueChecks(tx, { olderThanMs, recheckAfterMs, limit });
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
        afterCommit,
      );
    },
  };
}
export type InventoryService = ReturnType<typeof createInventoryService>;
