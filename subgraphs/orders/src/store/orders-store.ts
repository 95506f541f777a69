import type { Sql } from '@orderflow/common/db';
import type { EventEnvelope } from '@orderflow/contracts';
import type { AddressInput } from '../domain/place-order.ts';

/**
 * The orders service's statements that are hot enough to be plain SQL (docs/data-access.md says when
 * code uses Prisma and when plain SQL), one named, typed function each. No statement here decides
 * anything or builds an event: the rules are in `domain/`, the events are built by `createEvent` and
 * passed in whole.
 */

/** A new order's row, as placeOrder decided it. */
export interface PlacedOrderRow {
  id: string;
  customerId: string;
  customerEmail: string | null;
  totalCents: number;
  currencyCode: string;
  shippingAddress: AddressInput;
  paymentToken: string;
  idempotencyKey: string;
  requestHash: string;
}

export interface PlacedOrderLine {
  productId: string;
  productName: string;
  quantity: number;
  unitPriceCents: number;
}

const INSERT_PLACED_ORDER = `
WITH placed AS (
  INSERT INTO orders (id, customer_id, customer_email, status, total_cents, currency_code, ship_name, ship_line1, ship_line2,
                      ship_city, ship_postal_code, ship_country, payment_token, idempotency_key, request_hash, created_at, updated_at)
  VALUES ($1::uuid, $2, $3, 'PENDING_PAYMENT', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $23::timestamptz, $23::timestamptz)
  ON CONFLICT (customer_id, idempotency_key) DO NOTHING
  RETURNING *
), lines AS (
  INSERT INTO order_items (order_id, position, product_id, product_name, quantity, unit_price_cents)
  SELECT placed.id, l.n - 1, l.product_id, l.product_name, l.quantity, l.unit_price_cents
    FROM placed, unnest($15::uuid[], $16::text[], $17::int[], $18::int[]) WITH ORDINALITY AS l(product_id, product_name, quantity, unit_price_cents, n)
), change AS (
  INSERT INTO order_status_history (id, order_id, previous_status, status, reason, occurred_at)
  SELECT $19::bigint, id, NULL, status, 'order placed', $23::timestamptz FROM placed
), events AS (
  INSERT INTO outbox (id, subject, payload)
  SELECT e.id, e.subject, e.payload FROM placed, unnest($20::uuid[], $21::text[], $22::jsonb[]) AS e(id, subject, payload)
)
SELECT * FROM placed`;

/**
 * An order's whole write in ONE statement (atomic without BEGIN/COMMIT round trips): the order, its
 * lines in request order, its first status-history row (id `changeId`, from `createHistoryIds`) and
 * its outbox rows. `placedAt` is the order's creation time and its first status's, decided by the
 * caller before it built the events that carry it (the columns keep milliseconds, as a Date does).
 * Returns the order's columns, or null when the customer has an order under this idempotency key already
 * (committed, or committed by a concurrent statement this one waited for): then nothing was written.
 */
export async function insertPlacedOrder(
  sql: Sql,
  {
    order,
    lines,
    changeId,
    placedAt,
    events,
  }: { order: PlacedOrderRow; lines: PlacedOrderLine[]; changeId: bigint; placedAt: Date; events: EventEnvelope[] },
): Promise<Record<string, unknown> | null> {
  const a = order.shippingAddress;
  const {
    rows: [row],
  } = await sql.query<Record<string, unknown>>(INSERT_PLACED_ORDER, [
    order.id,
    order.customerId,
    order.customerEmail,
    order.totalCents,
    order.currencyCode,
    a.name,
    a.line1,
    a.line2 ?? null,
    a.city,
    a.postalCode,
    a.country,
    order.paymentToken,
    order.idempotencyKey,
    order.requestHash,
    lines.map((l) => l.productId),
    lines.map((l) => l.productName),
    lines.map((l) => l.quantity),
    lines.map((l) => l.unitPriceCents),
    changeId.toString(),
    events.map((e) => e.id),
    events.map((e) => e.type),
    events.map((e) => JSON.stringify(e)),
    placedAt.toISOString(),
  ]);
  return row ?? null;
}

/**
 * Ids of status-history rows handed out ahead of their insert, `blockSize` per statement, so that
 * placeOrder can build its `orders.status_changed` event (whose `changeId` is the row's id) in TypeScript
 * before the one statement that writes both. Every id comes from the table's own sequence: rows written
 * later by a transition (the column's default) always get a larger id, so an order's history stays in
 * id order, whichever replica handed out its first id.
 */
export function createHistoryIds(sql: Sql, blockSize = 100) {
  let block: bigint[] = [];
  let refill: Promise<void> | null = null;
  return async function nextHistoryId(): Promise<bigint> {
    while (block.length === 0) {
      refill ??= sql
        .query<{ id: string }>(
          `SELECT nextval('order_status_history_id_seq')::text AS id FROM generate_series(1, $1)`,
          [blockSize],
        )
        .then(({ rows }) => {
          block = rows.map((r) => BigInt(r.id));
        })
        .finally(() => (refill = null));
      await refill;
    }
    return block.shift()!;
  };
}
