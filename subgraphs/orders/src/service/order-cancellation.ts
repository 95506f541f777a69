import { randomUUID } from 'node:crypto';
import { type Sql } from '@orderflow/common/db';
import { createEvent, writeOutbox } from '@orderflow/common/messaging';
import type { Order } from '../db.ts';
import { refund, transition } from './order-lifecycle.ts';

/**
 * The orders side of a cancel, inside the caller's transaction, on an order
 * read with `lockOrder`: CANCELLED with its history row and
 * `orders.cancelled` (products releases the reservation, or returns the sold
 * units when `stockCommitted`), and for a paid order the refund. Both the
 * cancelOrder mutation (an unpaid order) and the `shipments.cancelled`
 * consumer (a paid one) come here, and the conditional transition lets a
 * cancel apply only once.
 * Returns the cancelled order, or null when the order had moved on.
 */
export async function applyCancel(
  tx: Sql,
  order: Order,
  reason: string,
  causationId: string | null = null,
): Promise<Order | null> {
  const paid = order.status === 'PENDING_SHIPMENT';
  const cancelled = createEvent({
    type: 'orders.cancelled',
    source: 'orders',
    correlationId: order.id,
    causationId,
    data: { orderId: order.id, reason, stockCommitted: paid },
  });
  const next = await transition(tx, order, 'CANCELLED', { reason, causationId, extraEvents: [cancelled] });
  if (next && paid) await refund(tx, order.id, reason, cancelled.id);
  return next;
}

/**
 * Asks the shipments service to cancel a paid order (PENDING_SHIPMENT, read with `lockOrder`), inside
 * the caller's transaction: a cancel_requests row and `orders.cancel_requested`. An order has at most one
 * request waiting for its verdict; asking again while one waits returns that one and publishes nothing.
 */
export async function requestCancel(
  tx: Sql,
  order: Order,
  reason: string,
): Promise<{ requestId: string; created: boolean }> {
  const {
    rows: [waiting],
  } = await tx.query<{ id: string }>(
    `SELECT id::text FROM cancel_requests WHERE order_id = $1::uuid AND verdict IS NULL`,
    [order.id],
  );
  if (waiting) return { requestId: waiting.id, created: false };
  const requestId = randomUUID();
  await tx.query(`INSERT INTO cancel_requests (id, order_id, reason) VALUES ($1::uuid, $2::uuid, $3)`, [
    requestId,
    order.id,
    reason,
  ]);
  await writeOutbox(
    tx,
    createEvent({
      type: 'orders.cancel_requested',
      source: 'orders',
      correlationId: order.id,
      data: { orderId: order.id, requestId, reason },
    }),
  );
  return { requestId, created: true };
}

/**
 * Records the shipments service's verdict on the order's waiting cancel request (the one named, or
 * whichever waits when the event names none). Returns whether a waiting request was decided.
 */
export async function recordCancelVerdict(
  tx: Sql,
  orderId: string,
  requestId: string | undefined,
  verdict: { verdict: 'CANCELLED' } | { verdict: 'REFUSED'; shipmentStatus: string },
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE cancel_requests SET verdict = $3, shipment_status = $4, decided_at = now()
      WHERE order_id = $1::uuid AND ($2::uuid IS NULL OR id = $2::uuid) AND verdict IS NULL`,
    [orderId, requestId ?? null, verdict.verdict, verdict.verdict === 'REFUSED' ? verdict.shipmentStatus : null],
  );
  return (rowCount ?? 0) > 0;
}
