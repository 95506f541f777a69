import DataLoader from 'dataloader';
import { modelRow, sqlPool } from '@orderflow/common/db';
import { badInput, type Viewer } from '@orderflow/common/server';
import { decodeCursor, encodeCursor, isPageSize, isUuid } from '@orderflow/contracts';
import type { Db, Order, OrderItem, OrderStatus, OrderStatusChange } from '../db.ts';

/** Whether the viewer may see an order: its customer, or a client with orders:read:all. */
export const canSee = (viewer: Viewer, order: Pick<Order, 'customerId'>) =>
  order.customerId === viewer.id || viewer.scopes.has('orders:read:all');

/** The orders service's reads: an order, a status change, a customer's orders, and the request loaders. */
export function createOrderQueries({ db }: { db: Db }) {
  const sql = sqlPool(db);
  return {
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

    createLoaders: () => createLoaders(db),
    canSee,
  };
}

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
