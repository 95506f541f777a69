import type { OrderStatus } from '../db.ts';

/**
 * The staff search's statements (Query.orders), built here once so that the service runs them and
 * test/order-search-plans.int.test.ts EXPLAINs exactly the same text. Every filter has an index that
 * ends in the page order (migration 20261205000000_operator_console), and the keyset cursor
 * `(created_at, id) < (…)` continues the index range: a page reads about `first` index entries
 * whatever the table's size, and an order placed meanwhile lands before the first page, never
 * inside one already read.
 */

export interface OrderSearchFilter {
  statuses?: OrderStatus[];
  /** Matched exactly, case-insensitively. */
  customerEmail?: string;
  createdAfter?: Date;
  createdBefore?: Date;
  productId?: string;
}

/** The last row of the previous page. */
export interface OrderSearchCursor {
  createdAt: Date;
  id: string;
}

export interface Statement {
  text: string;
  values: unknown[];
}

/** Beyond this many matches totalCount stops counting (reported as this + 1): a count never reads the whole table. */
export const SEARCH_COUNT_CAP = 10_000;

function whereClause(filter: OrderSearchFilter, values: unknown[]): string[] {
  const param = (v: unknown) => {
    values.push(v);
    return `$${values.length}`;
  };
  const where: string[] = [];
  if (filter.statuses?.length) where.push(`o.status = ANY(${param(filter.statuses)}::order_status[])`);
  if (filter.customerEmail != null) where.push(`lower(o.customer_email) = lower(${param(filter.customerEmail)})`);
  // With a product, its lines' created_at (their order's): the range is then one of the product's index.
  const createdAt = filter.productId ? 'i.created_at' : 'o.created_at';
  if (filter.createdAfter) where.push(`${createdAt} >= ${param(filter.createdAfter)}`);
  if (filter.createdBefore) where.push(`${createdAt} < ${param(filter.createdBefore)}`);
  if (filter.productId) where.push(`i.product_id = ${param(filter.productId)}::uuid`);
  return where;
}

/**
 * FROM and ORDER BY: the orders in page order, or with a product, that product's lines in page order
 * (order_items.created_at is its order's, and a product appears once per order), each joined to its
 * order by primary key, so the product's index gives the order and every other filter is checked on
 * the way. `OFFSET 0` keeps that lookup per line: flattened into a join, a best seller's count (all
 * its lines) is planned as a hash join over a sequential scan of orders, whose cost grows with the
 * whole table rather than with the product's lines (test/order-search-plans.int.test.ts).
 */
function source(filter: OrderSearchFilter) {
  return filter.productId
    ? {
        from: 'order_items i CROSS JOIN LATERAL (SELECT * FROM orders WHERE orders.id = i.order_id OFFSET 0) o',
        key: ['i.created_at', 'i.order_id'],
      }
    : { from: 'orders o', key: ['o.created_at', 'o.id'] };
}

/** One page: `limit` rows (ask for first + 1 to know whether there is a next page), newest first. */
export function searchPageStatement(
  filter: OrderSearchFilter,
  cursor: OrderSearchCursor | null,
  limit: number,
): Statement {
  const values: unknown[] = [];
  const where = whereClause(filter, values);
  const { from, key } = source(filter);
  if (cursor) {
    values.push(cursor.createdAt, cursor.id);
    where.push(`(${key[0]}, ${key[1]}) < ($${values.length - 1}, $${values.length}::uuid)`);
  }
  values.push(limit);
  return {
    text: `SELECT o.* FROM ${from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${key[0]} DESC, ${key[1]} DESC LIMIT $${values.length}`,
    values,
  };
}

/** How many orders match, counted up to SEARCH_COUNT_CAP + 1 along the same index as the pages. */
export function searchCountStatement(filter: OrderSearchFilter): Statement {
  const values: unknown[] = [];
  const where = whereClause(filter, values);
  const { from, key } = source(filter);
  values.push(SEARCH_COUNT_CAP + 1);
  return {
    text: `SELECT count(*)::int AS count FROM (SELECT 1 FROM ${from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${key[0]} DESC, ${key[1]} DESC LIMIT $${values.length}) matched`,
    values,
  };
}
