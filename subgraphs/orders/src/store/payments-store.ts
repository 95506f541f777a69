import type { Sql } from '@orderflow/common/db';
import type { OrderStatus } from '@orderflow/contracts';

/**
 * The payment step's statements (docs/data-access.md), one named, typed function each. The payment worker
 * decides (domain/payment.ts) and builds the events; these carry the decision out.
 */

/** An order's one payment outcome, as the payment worker decided it. */
export interface PaymentRow {
  id: string;
  status: 'SUCCEEDED' | 'FAILED';
  amountCents: number;
  currencyCode: string;
  reason: string | null;
  attempts: number;
}

/**
 * $1 order id, $2 the status it must still be in, $3 the new status, $4 the history row's reason, $5-$10 the
 * payment. The guarded update is what serialises the step with a concurrent cancel: it waits for the
 * cancel's row lock and then matches no row. The payment row and the history row are written only from
 * the row it moved, so a payment is never recorded for an order that was not in `$2`.
 */
const MOVE_WITH_PAYMENT = `
WITH moved AS (
  UPDATE orders SET status = $3::order_status, updated_at = now() WHERE id = $1::uuid AND status = $2::order_status RETURNING *
), change AS (
  INSERT INTO order_status_history (order_id, previous_status, status, reason)
  SELECT id, $2::order_status, $3::order_status, $4 FROM moved RETURNING id, occurred_at
), paid AS (
  INSERT INTO payments (id, order_id, status, amount_cents, currency_code, reason, attempts)
  SELECT $5::uuid, id, $6::payment_status, $7, $8, $9, $10 FROM moved
  ON CONFLICT (order_id) DO NOTHING RETURNING id
)
SELECT moved.*, change.id::text AS change_id, change.occurred_at AS change_occurred_at,
       (SELECT count(*) FROM paid)::int AS paid
  FROM moved, change`;

/**
 * Moves an order from `from` to `to` with its status-history row and records its payment, in ONE statement
 * inside `tx` (no `SELECT … FOR UPDATE` first: the update's own row lock serialises it). Returns the moved
 * order's columns and its history row, or null when the order was not in `from` (cancelled meanwhile, moved
 * on by a repeated event, or not there): then nothing was written.
 */
export async function moveWithPayment(
  tx: Sql,
  {
    orderId,
    from,
    to,
    reason,
    payment,
  }: { orderId: string; from: OrderStatus; to: OrderStatus; reason: string | null; payment: PaymentRow },
): Promise<{ columns: Record<string, unknown>; change: { id: string; occurredAt: Date } } | null> {
  const {
    rows: [row],
  } = await tx.query<{ change_id: string; change_occurred_at: Date; paid: number }>(MOVE_WITH_PAYMENT, [
    orderId,
    from,
    to,
    reason,
    payment.id,
    payment.status,
    payment.amountCents,
    payment.currencyCode,
    payment.reason,
    payment.attempts,
  ]);
  if (!row) return null;
  const { change_id: id, change_occurred_at: occurredAt, paid, ...columns } = row;
  // Both rows are written by the step that leaves `from`, in one transaction: a payment beside an order
  // still in `from` cannot exist. Roll back rather than move an order without its payment.
  if (paid !== 1) throw new Error(`order ${orderId} already has a payment but was still ${from}`);
  return { columns, change: { id, occurredAt } };
}

/**
 * Records an order's payment outcome without moving it (an order no longer waiting for its payment);
 * false when the order has one already (the unique order_id: a repeated orders.created charges nothing
 * twice).
 */
export async function insertPayment(tx: Sql, orderId: string, payment: PaymentRow): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO payments (id, order_id, status, amount_cents, currency_code, reason, attempts)
     VALUES ($1::uuid, $2::uuid, $3::payment_status, $4, $5, $6, $7) ON CONFLICT (order_id) DO NOTHING`,
    [payment.id, orderId, payment.status, payment.amountCents, payment.currencyCode, payment.reason, payment.attempts],
  );
  return rowCount === 1;
}
