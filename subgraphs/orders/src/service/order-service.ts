import { randomUUID } from 'node:crypto';
import DataLoader from 'dataloader';
import {
  ErrorCode,
  appError,
  badInput,
  createEvent,
  decodeCursor,
  encodeCursor,
  isPageSize,
  isTextWithin,
  isUniqueViolation,
  isUuid,
  modelRow,
  money,
  publishingTransaction,
  sqlPool,
  type EventEnvelope,
  type Logger,
  type Viewer,
} from '@orderflow/common';
import type { Db, Order, OrderItem, OrderStatus, OrderStatusChange } from '../db.ts';
import { canCancel } from '../domain/order-status.ts';
import { lockOrder, statusChanged } from './order-lifecycle.ts';
import { applyCancel } from './order-cancellation.ts';
import type { ShipmentsClient } from './shipments-client.ts';
import {
  checkOrderTotal,
  invalidOrder,
  normalizeItems,
  requestHash,
  validatePlaceOrder,
  type PlaceOrderInput,
} from '../domain/place-order.ts';
import { InventoryUnavailableError, type InventoryClient } from './inventory-client.ts';

/**
 * An order's whole write in ONE statement (atomic without BEGIN/COMMIT round
 * trips): the order, its items ($15–$18, in request order), its first
 * history row, and the outbox rows — `orders.status_changed` ($19, whose
 * `data.changeId` is filled in here with the history row's id) and
 * `orders.created` ($20). Returns the order's row and the change id.
 */
const PLACE_ORDER_SQL = `
WITH placed AS (
  INSERT INTO orders (id, customer_id, customer_email, status, total_cents, currency_code, ship_name, ship_line1, ship_line2,
                      ship_city, ship_postal_code, ship_country, payment_token, idempotency_key, request_hash)
  VALUES ($1::uuid, $2, $3, 'PENDING_PAYMENT', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
  RETURNING *
), lines AS (
  INSERT INTO order_items (order_id, position, product_id, product_name, quantity, unit_price_cents)
  SELECT $1::uuid, l.n - 1, l.product_id, l.product_name, l.quantity, l.unit_price_cents
    FROM unnest($15::uuid[], $16::text[], $17::int[], $18::int[]) WITH ORDINALITY AS l(product_id, product_name, quantity, unit_price_cents, n)
), change AS (
  INSERT INTO order_status_history (order_id, previous_status, status, reason) SELECT id, NULL, status, 'order placed' FROM placed RETURNING id, occurred_at
), events AS (
  INSERT INTO outbox (id, subject, payload)
  SELECT (e->>'id')::uuid, e->>'type', e
    FROM (SELECT jsonb_set($19::jsonb, '{data,changeId}', to_jsonb(change.id::text)) AS e FROM change UNION ALL SELECT $20::jsonb) x
)
SELECT placed.*, change.id::text AS change_id, change.occurred_at AS change_occurred_at FROM placed, change`;

export type PlaceOrderResult =
  | { __typename: 'OrderPlaced'; order: Order }
  | {
      __typename: 'ProductsUnavailable';
      message: string;
      unavailableItems: { productId: string; requested: number; available: number; isAvailable: false }[];
    }
  | ReturnType<typeof invalidOrder>;

export type CancelOrderResult =
  { __typename: 'OrderCancelled'; order: Order } | { __typename: 'CannotCancel'; message: string; status: OrderStatus };

export interface OrderServiceDeps {
  db: Db;
  inventory: InventoryClient;
  shipments: ShipmentsClient;
  log: Logger;
  /** Called after a commit that wrote outbox rows, with the events written (relay.committed). */
  onEvents?: (events: EventEnvelope[]) => void;
  /** Largest order total in cents (MAX_ORDER_TOTAL_CENTS); a larger order is InvalidOrder and its reservation released. */
  maxOrderTotalCents: number;
}

export function createOrderService({
  db,
  inventory,
  shipments,
  log,
  onEvents = () => {},
  maxOrderTotalCents,
}: OrderServiceDeps) {
  /** The pool under `db`, for the hot path's plain SQL (see sqlTransaction). */
  const sql = sqlPool(db);
  const canSee = (viewer: Viewer, order: Pick<Order, 'customerId'>) =>
    order.customerId === viewer.id || viewer.scopes.has('orders:read:all');

  async function replay(viewer: Viewer, key: string, hash: string): Promise<PlaceOrderResult | null> {
    const existing = await db.order.findUnique({
      where: { customerId_idempotencyKey: { customerId: viewer.id, idempotencyKey: key } },
    });
    if (!existing) return null;
    if (existing.requestHash !== hash)
      return invalidOrder('idempotencyKey', 'This idempotencyKey was already used for a different order');
    return { __typename: 'OrderPlaced', order: existing };
  }

  async function releaseQuietly(orderId: string, reason: string) {
    try {
      await inventory.release(orderId, reason);
    } catch (err) {
      // The products sweeper releases it once the deadline passes.
      log.warn({ orderId, err: (err as Error).message }, 'release failed; left to the reservation sweeper');
    }
  }

  return {
    /**
     * validate → replay an idempotent retry → reserve every line in products
     * (all or nothing) → one transaction: order, items, first history row and
     * the orders.created outbox row. A failed write releases the reservation.
     */
    async placeOrder(viewer: Viewer, input: PlaceOrderInput, loaders?: Loaders): Promise<PlaceOrderResult> {
      const invalid = validatePlaceOrder(input);
      if (invalid) return invalid;
      const hash = requestHash(input);
      const replayed = await replay(viewer, input.idempotencyKey, hash);
      if (replayed) return replayed;

      const orderId = randomUUID();
      const items = normalizeItems(input.items);
      let outcome;
      try {
        outcome = await inventory.reserve(orderId, items);
      } catch (err) {
        if (err instanceof InventoryUnavailableError) {
          // The reservation may have landed before the call gave up: no order will use it.
          void releaseQuietly(orderId, 'reservation call failed');
          throw appError(ErrorCode.SERVICE_UNAVAILABLE, 'Inventory is temporarily unavailable; please retry');
        }
        throw err;
      }
      if (outcome.status === 'invalid') return invalidOrder(outcome.field, outcome.message);
      if (outcome.status === 'unavailable')
        return {
          __typename: 'ProductsUnavailable',
          message: 'Some products are not available in the requested quantity',
          unavailableItems: outcome.items.map((i) => ({ ...i, isAvailable: false as const })),
        };

      const priceOf = new Map(outcome.lines.map((l) => [l.productId, l]));
      const totalCents = items.reduce((sum, i) => sum + priceOf.get(i.productId)!.unitCents * i.quantity, 0);
      const currencyCode = outcome.lines[0].currencyCode;
      const overTotal = checkOrderTotal(totalCents, maxOrderTotalCents, currencyCode);
      if (overTotal) {
        await releaseQuietly(orderId, 'order total over the maximum');
        return overTotal;
      }
      const address = input.shippingAddress;
      const created = createEvent({
        type: 'orders.created',
        source: 'orders',
        correlationId: orderId,
        data: {
          orderId,
          customerId: viewer.id,
          customerEmail: viewer.email ?? null,
          items: items.map((i) => ({
            productId: i.productId,
            quantity: i.quantity,
            unitPrice: money(priceOf.get(i.productId)!.unitCents, currencyCode).amount,
          })),
          totalAmount: money(totalCents, currencyCode),
          paymentToken: input.paymentToken,
        },
      });
      try {
        const statusEvent = statusChanged(
          { id: orderId, customerId: viewer.id },
          null,
          'PENDING_PAYMENT',
          'order placed',
          '',
        );
        const {
          rows: [row],
        } = await sql.query<{ change_id: string; change_occurred_at: Date }>(PLACE_ORDER_SQL, [
          orderId,
          viewer.id,
          viewer.email ?? null,
          totalCents,
          currencyCode,
          address.name,
          address.line1,
          address.line2 ?? null,
          address.city,
          address.postalCode,
          address.country,
          input.paymentToken,
          input.idempotencyKey,
          hash,
          items.map((i) => i.productId),
          items.map((i) => priceOf.get(i.productId)!.name),
          items.map((i) => i.quantity),
          items.map((i) => priceOf.get(i.productId)!.unitCents),
          JSON.stringify(statusEvent),
          JSON.stringify(created),
        ]);
        const { change_id: changeId, change_occurred_at: occurredAt, ...columns } = row;
        (statusEvent.data as { changeId: string }).changeId = changeId;
        onEvents([statusEvent, created]);
        log.info({ orderId, lines: items.length }, 'order placed');
        // The response's items and history are what was just written: no need to read them back.
        loaders?.items.prime(
          orderId,
          items.map((i, position) => ({
            orderId,
            position,
            productId: i.productId,
            productName: priceOf.get(i.productId)!.name,
            quantity: i.quantity,
            unitPriceCents: priceOf.get(i.productId)!.unitCents,
          })),
        );
        loaders?.history.prime(orderId, [
          {
            id: BigInt(changeId),
            orderId,
            previousStatus: null,
            status: 'PENDING_PAYMENT',
            reason: 'order placed',
            occurredAt,
          },
        ]);
        return { __typename: 'OrderPlaced', order: modelRow<Order>(columns) };
      } catch (err) {
        await releaseQuietly(orderId, 'order write failed');
        // Lost a race with a concurrent request under the same key: answer as that one.
        if (isUniqueViolation(err)) {
          const winner = await replay(viewer, input.idempotencyKey, hash);
          if (winner) return winner;
        }
        throw err;
      }
    },

    /**
     * Cancels an order before it ships. Before payment the reservation is
     * released; after payment the shipments service is asked first (it owns
     * the race with SHIPPED: of a cancel and a dispatch exactly one wins),
     * then the payment is refunded and products returns the stock on
     * orders.cancelled.
     */
    async cancelOrder(viewer: Viewer, orderId: string, reason?: string | null): Promise<CancelOrderResult> {
      if (!isUuid(orderId)) throw badInput('orderId is not a valid order id', 'orderId');
      if (reason != null && !isTextWithin(reason, 0, 500))
        throw badInput('reason must be at most 500 characters', 'reason');
      const order = await db.order.findUnique({ where: { id: orderId } });
      if (!order || order.customerId !== viewer.id) throw appError(ErrorCode.NOT_FOUND, 'Order not found');
      const cannot = (status: OrderStatus): CancelOrderResult => ({
        __typename: 'CannotCancel',
        message: `An order in status ${status} cannot be cancelled`,
        status,
      });
      if (!canCancel(order.status)) return cannot(order.status);
      const why = reason ?? 'cancelled by customer';
      const paid = order.status === 'PENDING_SHIPMENT';
      if (paid) {
        // From here the cancel is decided: shipments' answer comes with a shipments.cancelled event, from
        // which the consumer below completes the order's side if this transaction never commits.
        const verdict = await shipments.cancel(orderId, why);
        if (verdict.status === 'too-late') return cannot(verdict.orderStatus);
      }
      const updated = await publishingTransaction(
        db,
        async (tx) => {
          const current = await lockOrder(tx, orderId);
          if (!current) return null;
          // The shipments.cancelled consumer got there first: the cancel asked for is done.
          if (paid && current.status === 'CANCELLED') return { order: current, applied: false };
          if (current.status !== order.status) return null;
          const next = await applyCancel(tx, current, why);
          return next && { order: next, applied: true };
        },
        onEvents,
      );
      if (!updated) return cannot((await db.order.findUniqueOrThrow({ where: { id: orderId } })).status);
      if (!paid) await releaseQuietly(orderId, why);
      log.info({ orderId, paid }, 'order cancelled');
      return { __typename: 'OrderCancelled', order: updated.order };
    },

    /** One status-history entry of an order the viewer may see, or null. */
    async findVisibleChange(viewer: Viewer | null, id: string): Promise<OrderStatusChange | null> {
      if (!viewer) return null;
      if (!/^\d{1,18}$/.test(id)) throw badInput('id is not a valid status change id', 'id');
      // Read for every subscription payload (each status change, each subscriber group): one plain statement.
      const {
        rows: [row],
      } = await sql.query<{ id: string; customer_id: string }>(
        `SELECT h.*, o.customer_id FROM order_status_history h JOIN orders o ON o.id = h.order_id WHERE h.id = $1::bigint`,
        [id],
      );
      if (!row) return null;
      const { customer_id: customerId, ...change } = row;
      return canSee(viewer, { customerId }) ? modelRow<OrderStatusChange>({ ...change, id: BigInt(change.id) }) : null;
    },

    /** An order the viewer may see, or null (missing and someone else's look the same). */
    async findVisible(viewer: Viewer | null, id: string): Promise<Order | null> {
      if (!viewer) return null;
      if (!isUuid(id)) throw badInput('id is not a valid order id', 'id');
      const order = await db.order.findUnique({ where: { id } });
      return order && canSee(viewer, order) ? order : null;
    },

    /** The viewer's orders, newest first. orders:read is @requiresScopes on Query.myOrders, its only caller. */
    async myOrders(
      viewer: Viewer,
      { first, after, status }: { first: number; after?: string | null; status?: OrderStatus | null },
    ) {
      if (!isPageSize(first)) throw badInput('first must be an integer from 0 to 100', 'first');
      let cursor: [string, string] | null = null;
      if (after != null) {
        const parts = decodeCursor(after, 2);
        if (!parts || !isUuid(parts[1]) || Number.isNaN(Date.parse(String(parts[0]))))
          throw badInput('Invalid cursor', 'after');
        cursor = [String(parts[0]), String(parts[1])];
      }
      const where = { customerId: viewer.id, ...(status ? { status } : {}) };
      const [page, totalCount] = await Promise.all([
        db.order.findMany({
          where: cursor
            ? {
                ...where,
                OR: [
                  { createdAt: { lt: new Date(cursor[0]) } },
                  { createdAt: new Date(cursor[0]), id: { lt: cursor[1] } },
                ],
              }
            : where,
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          take: first + 1,
        }),
        db.order.count({ where }),
      ]);
      const edges = page
        .slice(0, first)
        .map((node) => ({ cursor: encodeCursor([node.createdAt.toISOString(), node.id]), node }));
      return {
        edges,
        totalCount,
        pageInfo: { hasNextPage: page.length > first, endCursor: edges.at(-1)?.cursor ?? null },
      };
    },

    /** Which of these ids are recorded orders (for the products reservation sweeper). */
    async existing(orderIds: string[]): Promise<string[]> {
      const rows = await db.order.findMany({ where: { id: { in: orderIds.filter(isUuid) } }, select: { id: true } });
      return rows.map((r) => r.id);
    },

    createLoaders: () => createLoaders(db),
    canSee,
  };
}
export type OrderService = ReturnType<typeof createOrderService>;

/** One request's DataLoaders: an order's items and history, and orders by id, each one query per request. */
function createLoaders(db: Db) {
  return {
    items: new DataLoader<string, OrderItem[]>(async (orderIds) => {
      const rows = await db.orderItem.findMany({
        where: { orderId: { in: [...orderIds] } },
        orderBy: [{ orderId: 'asc' }, { position: 'asc' }],
      });
      return orderIds.map((id) => rows.filter((r) => r.orderId === id));
    }),
    history: new DataLoader<string, OrderStatusChange[]>(async (orderIds) => {
      const rows = await db.orderStatusChange.findMany({
        where: { orderId: { in: [...orderIds] } },
        orderBy: { id: 'asc' },
      });
      return orderIds.map((id) => rows.filter((r) => r.orderId === id));
    }),
    order: new DataLoader<string, Order | null>(async (ids) => {
      const rows = await db.order.findMany({ where: { id: { in: ids.filter(isUuid) } } });
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}
/** One request's DataLoaders (`createLoaders`). */
export type Loaders = ReturnType<typeof createLoaders>;
