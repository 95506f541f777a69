import { randomUUID } from 'node:crypto';
import { modelRow, sqlPool } from '@orderflow/common/db';
import { createEvent } from '@orderflow/common/messaging';
import { type Logger } from '@orderflow/common/observability';
import { appError, type Viewer } from '@orderflow/common/server';
import { ErrorCode, money, type EventEnvelope } from '@orderflow/contracts';
import type { Db, Order } from '../db.ts';
import {
  checkOrderTotal,
  invalidOrder,
  normalizeItems,
  requestHash,
  validatePlaceOrder,
  type PlaceOrderInput,
} from '../domain/place-order.ts';
import { createHistoryIds, insertPlacedOrder } from '../store/orders-store.ts';
import { InventoryUnavailableError, type InventoryClient } from './inventory-client.ts';
import { statusChanged } from './order-lifecycle.ts';
import type { Loaders } from './order-queries.ts';

export type PlaceOrderResult =
  | { __typename: 'OrderPlaced'; order: Order }
  | {
      __typename: 'ProductsUnavailable';
      message: string;
      unavailableItems: { productId: string; requested: number; available: number; isAvailable: false }[];
    }
  | ReturnType<typeof invalidOrder>;

export interface PlaceOrderDeps {
  db: Db;
  inventory: InventoryClient;
  log: Logger;
  /** Called after the order's commit with the events it wrote (the relay's afterCommit). */
  afterCommit: (events: EventEnvelope[]) => void;
  /** Largest order total in cents (MAX_ORDER_TOTAL_CENTS); a larger order is InvalidOrder and its reservation released. */
  maxOrderTotalCents: number;
  /** Releases a reservation no order will use; never throws (the products sweeper is the safety net). */
  releaseQuietly: (orderId: string, reason: string) => Promise<void>;
}

/**
 * placeOrder: validate → reserve every line in products (all or nothing, the one synchronous call between
 * services) → one statement: order, items, first history row and the `orders.status_changed` and
 * `orders.created` outbox rows, unless the customer's idempotency key has an order already. A retry is
 * detected by that statement (no read before every order): it releases its reservation and answers as the
 * first request; so does any answer other than a new order when the key has one (decision 010). A failed
 * write releases the reservation.
 */
export function createPlaceOrder({
  db,
  inventory,
  log,
  afterCommit,
  maxOrderTotalCents,
  releaseQuietly,
}: PlaceOrderDeps) {
  const sql = sqlPool(db);
  const nextHistoryId = createHistoryIds(sql);

  async function replay(viewer: Viewer, key: string, hash: string): Promise<PlaceOrderResult | null> {
    const existing = await db.order.findUnique({
      where: { customerId_idempotencyKey: { customerId: viewer.id, idempotencyKey: key } },
    });
    if (!existing) return null;
    if (existing.requestHash !== hash)
      return invalidOrder('idempotencyKey', 'This idempotencyKey was already used for a different order');
    return { __typename: 'OrderPlaced', order: existing };
  }

  return async function placeOrder(
    viewer: Viewer,
    input: PlaceOrderInput,
    loaders?: Loaders,
  ): Promise<PlaceOrderResult> {
    const invalid = validatePlaceOrder(input);
    if (invalid) return invalid;
    const hash = requestHash(input);
    // A retry is found by the order's own insert (its idempotency key), not by a read before every order:
    // every answer other than a new order asks first whether this key placed one already (decision 010).
    const firstOr = async (answer: PlaceOrderResult) => (await replay(viewer, input.idempotencyKey, hash)) ?? answer;

    const orderId = randomUUID();
    const items = normalizeItems(input.items);
    let outcome;
    try {
      outcome = await inventory.reserve(orderId, items);
    } catch (err) {
      if (err instanceof InventoryUnavailableError) {
        // The reservation may have landed before the call gave up: no order will use it.
        void releaseQuietly(orderId, 'reservation call failed');
        // A retry of a placed order is answered even while products is unreachable.
        const first = await replay(viewer, input.idempotencyKey, hash);
        if (first) return first;
        throw appError(ErrorCode.SERVICE_UNAVAILABLE, 'Inventory is temporarily unavailable; please retry');
      }
      throw err;
    }
    // A retry after its order took the last units is refused stock here: it answers that order.
    if (outcome.status === 'invalid') return firstOr(invalidOrder(outcome.field, outcome.message));
    if (outcome.status === 'unavailable')
      return firstOr({
        __typename: 'ProductsUnavailable',
        message: 'Some products are not available in the requested quantity',
        unavailableItems: outcome.items.map((i) => ({ ...i, isAvailable: false as const })),
      });

    const priceOf = new Map(outcome.lines.map((l) => [l.productId, l]));
    const lines = items.map((i) => ({
      productId: i.productId,
      productName: priceOf.get(i.productId)!.name,
      quantity: i.quantity,
      unitPriceCents: priceOf.get(i.productId)!.unitCents,
    }));
    const totalCents = lines.reduce((sum, l) => sum + l.unitPriceCents * l.quantity, 0);
    const currencyCode = outcome.lines[0].currencyCode;
    const overTotal = checkOrderTotal(totalCents, maxOrderTotalCents, currencyCode);
    if (overTotal) {
      await releaseQuietly(orderId, 'order total over the maximum');
      return firstOr(overTotal);
    }
    try {
      const changeId = await nextHistoryId();
      // Decided once, here: the order's and its first status's time, carried by its event as written.
      const occurredAt = new Date();
      const placed = statusChanged({ id: orderId, customerId: viewer.id }, null, 'PENDING_PAYMENT', 'order placed', {
        id: changeId.toString(),
        occurredAt,
      });
      const created = createEvent({
        type: 'orders.created',
        source: 'orders',
        correlationId: orderId,
        data: {
          orderId,
          customerId: viewer.id,
          customerEmail: viewer.email ?? null,
          items: lines.map((l) => ({
            productId: l.productId,
            quantity: l.quantity,
            unitPrice: money(l.unitPriceCents, currencyCode).amount,
          })),
          totalAmount: money(totalCents, currencyCode),
          paymentToken: input.paymentToken,
        },
      });
      const columns = await insertPlacedOrder(sql, {
        order: {
          id: orderId,
          customerId: viewer.id,
          customerEmail: viewer.email ?? null,
          totalCents,
          currencyCode,
          shippingAddress: input.shippingAddress,
          paymentToken: input.paymentToken,
          idempotencyKey: input.idempotencyKey,
          requestHash: hash,
        },
        lines,
        changeId,
        placedAt: occurredAt,
        events: [placed, created],
      });
      if (!columns) {
        // A retry (or a concurrent request under the same key, whose insert this one waited for): the
        // reservation just made is released before answering as the first request, so none is held twice.
        await releaseQuietly(orderId, 'idempotent retry');
        const first = await replay(viewer, input.idempotencyKey, hash);
        if (first) return first;
        throw new Error('idempotency key taken, but no order found under it');
      }
      afterCommit([placed, created]);
      log.info({ orderId, lines: lines.length }, 'order placed');
      const order = modelRow<Order>(columns);
      // The response's items and history are what was just written: no need to read them back.
      loaders?.items.prime(
        orderId,
        lines.map((l, position) => ({ orderId, position, createdAt: order.createdAt, ...l })),
      );
      loaders?.history.prime(orderId, [
        { id: changeId, orderId, previousStatus: null, status: 'PENDING_PAYMENT', reason: 'order placed', occurredAt },
      ]);
      return { __typename: 'OrderPlaced', order };
    } catch (err) {
      await releaseQuietly(orderId, 'order write failed');
      throw err;
    }
  };
}
