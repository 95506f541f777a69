import { sqlPool, modelRow } from '@orderflow/common/db';
import { badInput } from '@orderflow/common/server';
import { decodeCursor, encodeCursor, isPageSize, isTextWithin, isUuid } from '@orderflow/contracts';
import type { Db, Order, OrderStatus } from '../db.ts';
import {
  searchCountStatement,
  searchPageStatement,
  type OrderSearchCursor,
  type OrderSearchFilter,
} from '../store/order-search.ts';

export interface OrderFilterInput {
  status?: OrderStatus[] | null;
  customerEmail?: string | null;
  createdAfter?: string | null;
  createdBefore?: string | null;
  productId?: string | null;
}

function date(value: string, field: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw badInput(`${field} must be an ISO-8601 date-time`, `filter.${field}`);
  return d;
}

/** The GraphQL filter, checked, as the store's filter. */
export function parseOrderFilter(input: OrderFilterInput | null | undefined): OrderSearchFilter {
  const filter: OrderSearchFilter = {};
  if (!input) return filter;
  if (input.status?.length) filter.statuses = [...new Set(input.status)];
  if (input.customerEmail != null) {
    if (!isTextWithin(input.customerEmail, 1, 320))
      throw badInput('customerEmail must be 1 to 320 characters', 'filter.customerEmail');
    filter.customerEmail = input.customerEmail.trim();
  }
  if (input.createdAfter != null) filter.createdAfter = date(input.createdAfter, 'createdAfter');
  if (input.createdBefore != null) filter.createdBefore = date(input.createdBefore, 'createdBefore');
  if (input.productId != null) {
    if (!isUuid(input.productId)) throw badInput('productId is not a valid product id', 'filter.productId');
    filter.productId = input.productId;
  }
  return filter;
}

function parseCursor(after: string): OrderSearchCursor {
  const parts = decodeCursor(after, 2);
  const createdAt = parts && new Date(String(parts[0]));
  if (!parts || !createdAt || Number.isNaN(createdAt.getTime()) || !isUuid(parts[1]))
    throw badInput('Invalid cursor', 'after');
  return { createdAt, id: parts[1] };
}

/**
 * Query.orders: staff search, newest first, keyset-paginated (store/order-search.ts says why a page
 * stays cheap and stable). orders:read:all is @requiresScopes on the field, its only caller.
 */
export function createOrderSearch({ db }: { db: Db }) {
  const sql = sqlPool(db);
  return async function searchOrders({
    filter,
    first,
    after,
  }: {
    filter?: OrderFilterInput | null;
    first: number;
    after?: string | null;
  }) {
    if (!isPageSize(first)) throw badInput('first must be an integer from 0 to 100', 'first');
    const where = parseOrderFilter(filter);
    const cursor = after != null ? parseCursor(after) : null;
    const page = searchPageStatement(where, cursor, first + 1);
    const count = searchCountStatement(where);
    // As query configs, so run unnamed (not prepared, see db.ts): each search is planned for its own values,
    // as test/order-search-plans.int.test.ts EXPLAINs them (a best seller's product filter, a rare status).
    const [{ rows }, { rows: counted }] = await Promise.all([
      sql.query({ text: page.text, values: page.values }),
      sql.query<{ count: number }>({ text: count.text, values: count.values }),
    ]);
    const nodes = rows.slice(0, first).map((r) => modelRow<Order>(r));
    const edges = nodes.map((node) => ({ cursor: encodeCursor([node.createdAt.toISOString(), node.id]), node }));
    return {
      edges,
      totalCount: counted[0].count,
      pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null },
    };
  };
}
