import { createEvent, money, writeOutbox, type EventEnvelope } from '@orderflow/common';
import type { Order, OrderStatus, Tx } from '../db.ts';
import { canTransition } from '../domain/order-status.ts';

/**
 * Moves an order from the status it was read in to `to`, inside the caller's
 * transaction: a conditional update (so of two concurrent transitions exactly
 * one wins), a status-history row and an `orders.status_changed` event.
 * Returns the updated order, or null when the order had moved on.
 */
export async function transition(
  tx: Tx,
  order: Order,
  to: OrderStatus,
  { reason, causationId = null, extraEvents = [] }: { reason: string | null; causationId?: string | null; extraEvents?: EventEnvelope[] },
): Promise<Order | null> {
  if (!canTransition(order.status, to)) return null;
  const [updated] = await tx.order.updateManyAndReturn({ where: { id: order.id, status: order.status }, data: { status: to } });
  if (!updated) return null;
  await recordStatus(tx, order, order.status, to, reason, causationId, extraEvents);
  return updated;
}

/**
 * Appends a status-history row and its `orders.status_changed` event (with
 * the row's id as changeId, so subscribers can resolve the entry).
 */
export async function recordStatus(
  tx: Tx,
  order: Pick<Order, 'id' | 'customerId'>,
  from: OrderStatus | null,
  to: OrderStatus,
  reason: string | null,
  causationId: string | null = null,
  extraEvents: EventEnvelope[] = [],
): Promise<void> {
  const change = await tx.orderStatusChange.create({ data: { orderId: order.id, previousStatus: from, status: to, reason } });
  await writeOutbox(
    tx,
    createEvent({
      type: 'orders.status_changed',
      source: 'orders',
      correlationId: order.id,
      causationId,
      data: { orderId: order.id, customerId: order.customerId, previousStatus: from, status: to, reason, changeId: change.id.toString() },
    }),
    ...extraEvents,
  );
}

/**
 * Locks and reads an order inside a transaction (serialises the saga steps of
 * one order): one `SELECT … FOR UPDATE` for both, its columns renamed to the
 * model's fields (snake_case → camelCase, as the schema maps them).
 */
export async function lockOrder(tx: Tx, orderId: string): Promise<Order | null> {
  const [row] = await tx.$queryRawUnsafe<Record<string, unknown>[]>('SELECT * FROM orders WHERE id = $1::uuid FOR UPDATE', orderId);
  return row ? (Object.fromEntries(Object.entries(row).map(([column, value]) => [column.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()), value])) as Order) : null;
}

/** Refunds a succeeded payment (simulated) and publishes payments.refunded, inside the caller's transaction. */
export async function refund(tx: Tx, orderId: string, reason: string, causationId: string | null): Promise<boolean> {
  const [payment] = await tx.payment.updateManyAndReturn({ where: { orderId, status: 'SUCCEEDED' }, data: { status: 'REFUNDED', reason } });
  if (!payment) return false;
  await writeOutbox(
    tx,
    createEvent({
      type: 'payments.refunded',
      source: 'orders',
      correlationId: orderId,
      causationId,
      data: { orderId, paymentId: payment.id, amount: money(payment.amountCents, payment.currencyCode), reason },
    }),
  );
  return true;
}
