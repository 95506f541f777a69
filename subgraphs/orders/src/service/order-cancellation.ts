import { type Sql } from '@orderflow/common/db';
import { createEvent } from '@orderflow/common/messaging';
import type { Order } from '../db.ts';
import { refund, transition } from './order-lifecycle.ts';

/**
 * The orders side of a cancel, inside the caller's transaction, on an order
 * read with `lockOrder`: CANCELLED with its history row and
 * `orders.cancelled` (products releases the reservation, or returns the sold
 * units when `stockCommitted`), and for a paid order the refund. Both the
 * cancelOrder mutation and the `shipments.cancelled` consumer come here, so a
 * cancel completed by either is the same cancel, and the conditional
 * transition lets only the first of them apply it.
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
