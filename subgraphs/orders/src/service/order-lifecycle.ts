import { modelRow, type Sql } from '@orderflow/common/db';
import { createEvent, writeOutbox } from '@orderflow/common/messaging';
import { money, type EventEnvelope } from '@orderflow/contracts';
import type { Order, OrderStatus } from '../db.ts';
import { canTransition } from '../domain/order-status.ts';

// The saga's writes on an order, in plain SQL inside the caller's transaction
// (`publishingTransaction`, a consumer's): they run for every order, several times, and pg does
// them at a fraction of Prisma's CPU. Reads elsewhere stay on Prisma.

/**
 * The conditional status update and its history row in one statement: of two
 * concurrent transitions from the same status exactly one matches the row.
 * $1 order id, $2 the status it was read in, $3 the new status, $4 reason.
 */
const TRANSITION_SQL = `
WITH moved AS (
  UPDATE orders SET status = $3::order_status, updated_at = now() WHERE id = $1::uuid AND status = $2::order_status RETURNING *
), change AS (
  INSERT INTO order_status_history (order_id, previous_status, status, reason) SELECT id, $2::order_status, $3::order_status, $4 FROM moved RETURNING id, occurred_at
)
SELECT moved.*, change.id::text AS change_id, change.occurred_at AS change_occurred_at FROM moved, change`;

/**
 * `orders.status_changed` for a history row: its id (the changeId subscribers resolve) and its own time,
 * so that a subscription payload is the row as a query answers it, with no read of the row.
 */
export function statusChanged(
  order: Pick<Order, 'id' | 'customerId'>,
  from: OrderStatus | null,
  to: OrderStatus,
  reason: string | null,
  change: { id: string; occurredAt: Date },
  causationId: string | null = null,
): EventEnvelope {
  return createEvent({
    type: 'orders.status_changed',
    source: 'orders',
    correlationId: order.id,
    causationId,
    data: {
      orderId: order.id,
      customerId: order.customerId,
      previousStatus: from,
      status: to,
      reason,
      changeId: change.id,
      occurredAt: change.occurredAt.toISOString(),
    },
  });
}

/**
 * Moves an order from the status it was read in to `to`, inside the caller's
 * transaction: the conditional update with its status-history row, and an
 * `orders.status_changed` event (plus `extraEvents`). Returns the updated
 * order, or null when the order had moved on.
 */
export async function transition(
  tx: Sql,
  order: Order,
  to: OrderStatus,
  {
    reason,
    causationId = null,
    extraEvents = [],
  }: { reason: string | null; causationId?: string | null; extraEvents?: EventEnvelope[] },
): Promise<Order | null> {
  if (!canTransition(order.status, to)) return null;
  const {
    rows: [row],
  } = await tx.query<{ change_id: string; change_occurred_at: Date }>(TRANSITION_SQL, [
    order.id,
    order.status,
    to,
    reason,
  ]);
  if (!row) return null;
  // The row's time as the statement wrote it (the column keeps milliseconds): the event carries that.
  const { change_id: id, change_occurred_at: occurredAt, ...columns } = row;
  await writeOutbox(
    tx,
    statusChanged(order, order.status, to, reason, { id, occurredAt }, causationId),
    ...extraEvents,
  );
  return modelRow<Order>(columns);
}

/**
 * Locks and reads an order inside a transaction (serialises the saga steps of
 * one order): one `SELECT … FOR UPDATE` for both.
 */
export async function lockOrder(tx: Sql, orderId: string): Promise<Order | null> {
  const {
    rows: [row],
  } = await tx.query('SELECT * FROM orders WHERE id = $1::uuid FOR UPDATE', [orderId]);
  return row ? modelRow<Order>(row) : null;
}

/** Refunds a succeeded payment (simulated) and publishes payments.refunded, inside the caller's transaction. */
export async function refund(tx: Sql, orderId: string, reason: string, causationId: string | null): Promise<boolean> {
  const {
    rows: [payment],
  } = await tx.query<{ id: string; amount_cents: number; currency_code: string }>(
    `UPDATE payments SET status = 'REFUNDED', reason = $2, updated_at = now() WHERE order_id = $1::uuid AND status = 'SUCCEEDED'
     RETURNING id::text, amount_cents, currency_code`,
    [orderId, reason],
  );
  if (!payment) return false;
  await writeOutbox(
    tx,
    createEvent({
      type: 'payments.refunded',
      source: 'orders',
      correlationId: orderId,
      causationId,
      data: { orderId, paymentId: payment.id, amount: money(payment.amount_cents, payment.currency_code), reason },
    }),
  );
  return true;
}
