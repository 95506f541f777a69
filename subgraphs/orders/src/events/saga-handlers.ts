import { randomUUID } from 'node:crypto';
import { type Sql } from '@orderflow/common/db';
import { RetryLater, backoffMs, createEvent, writeOutbox, type EventHandler } from '@orderflow/common/messaging';
import { EventSchemas, money } from '@orderflow/contracts';
import type { Order } from '../db.ts';
import { mirrorShipment } from '../domain/order-status.ts';
import { decidePayment, maskToken } from '../domain/payment.ts';
import { lockOrder, transition } from '../service/order-lifecycle.ts';
import { applyCancel, recordCancelVerdict } from '../service/order-cancellation.ts';

/**
 * The orders service's part of the saga, one handler per event type. Each
 * runs inside its consumer's inbox transaction: a redelivered event finds
 * its id in the inbox and changes nothing.
 */

/**
 * Records an order's one payment outcome; false when the order has one already
 * (the unique order_id: a repeated orders.created charges nothing twice).
 */
async function recordPayment(
  tx: Sql,
  order: Order,
  id: string,
  status: 'SUCCEEDED' | 'FAILED',
  attempts: number,
  reason: string | null = null,
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO payments (id, order_id, status, amount_cents, currency_code, reason, attempts) VALUES ($1::uuid, $2::uuid, $3::payment_status, $4, $5, $6, $7)
     ON CONFLICT (order_id) DO NOTHING`,
    [id, order.id, status, order.totalCents, order.currencyCode, reason, attempts],
  );
  return rowCount === 1;
}

/**
 * orders.created → charge the order (simulated), once, with retries for transient errors, and move the
 * order on in the same transaction: PENDING_SHIPMENT with payments.succeeded, or PAYMENT_FAILED with
 * payments.failed. The order is locked while it is charged, so a cancel either comes first (nothing is
 * charged) or waits for the order to be paid (and is then refunded).
 */
export function paymentWorker({
  failureRate,
}: {
  failureRate: number;
}): EventHandler<(typeof EventSchemas)['orders.created']['_output']> {
  return {
    name: 'payments',
    type: 'orders.created',
    schema: EventSchemas['orders.created'],
    async handle(event, { tx, attempt, log }) {
      const order = await lockOrder(tx, event.data.orderId);
      if (!order) throw new RetryLater(backoffMs(attempt), 'order not visible yet');
      const fail = async (reason: string) => {
        if (!(await recordPayment(tx, order, randomUUID(), 'FAILED', attempt, reason))) return;
        const failed = createEvent({
          type: 'payments.failed',
          source: 'orders',
          correlationId: order.id,
          causationId: event.id,
          data: { orderId: order.id, reason, retryable: false },
        });
        if (order.status === 'PENDING_PAYMENT')
          await transition(tx, order, 'PAYMENT_FAILED', { reason, causationId: failed.id, extraEvents: [failed] });
        else await writeOutbox(tx, failed);
        log.info({ orderId: order.id, reason, token: maskToken(order.paymentToken) }, 'payment failed');
      };
      // Never charge an order the customer cancelled while it waited.
      if (order.status !== 'PENDING_PAYMENT') return fail(`order ${order.status.toLowerCase()} before payment`);
      const decision = decidePayment(order.paymentToken, attempt, { failureRate });
      if (decision.outcome === 'transient') throw new RetryLater(backoffMs(attempt, 250, 5_000), decision.reason);
      if (decision.outcome === 'declined') return fail(decision.reason);
      const paymentId = randomUUID();
      if (!(await recordPayment(tx, order, paymentId, 'SUCCEEDED', attempt))) return;
      const succeeded = createEvent({
        type: 'payments.succeeded',
        source: 'orders',
        correlationId: order.id,
        causationId: event.id,
        data: { orderId: order.id, paymentId, amount: money(order.totalCents, order.currencyCode) },
      });
      await transition(tx, order, 'PENDING_SHIPMENT', {
        reason: 'payment succeeded',
        causationId: succeeded.id,
        extraEvents: [succeeded],
      });
      log.info({ orderId: order.id, attempt }, 'payment succeeded');
    },
  };
}

/** shipments.status_updated → SHIPPED, IN_TRANSIT, DELIVERED, strictly in order. */
export const onShipmentStatusUpdated: EventHandler<(typeof EventSchemas)['shipments.status_updated']['_output']> = {
  name: 'shipment-status',
  type: 'shipments.status_updated',
  schema: EventSchemas['shipments.status_updated'],
  async handle(event, { tx, attempt }) {
    const order = await lockOrder(tx, event.data.orderId);
    if (!order) return;
    const decision = mirrorShipment(order.status, event.data.previousStatus, event.data.status);
    if (decision.action === 'wait')
      throw new RetryLater(backoffMs(attempt, 100, 2_000), 'an earlier shipment step has not arrived yet');
    if (decision.action === 'ignore') return;
    const where = event.data.location ? ` at ${event.data.location}` : '';
    await transition(tx, order, decision.status, {
      reason: `shipment ${event.data.status.toLowerCase().replace('_', ' ')}${where}`,
      causationId: event.id,
    });
  },
};

/**
 * shipments.cancelled → completes a paid order's cancel: the shipments service gave the shipment up at
 * the order's request (orders.cancel_requested), so the order must follow: the request's verdict,
 * CANCELLED, the refund and orders.cancelled (products returns the units), in one transaction. An order
 * found CANCELLED already (a redelivery under a new id) is left alone.
 */
export const onShipmentCancelled: EventHandler<(typeof EventSchemas)['shipments.cancelled']['_output']> = {
  name: 'shipment-cancelled',
  type: 'shipments.cancelled',
  schema: EventSchemas['shipments.cancelled'],
  async handle(event, { tx, log }) {
    const order = await lockOrder(tx, event.data.orderId);
    if (!order) return;
    await recordCancelVerdict(tx, order.id, event.data.requestId, { verdict: 'CANCELLED' });
    // Shipments cancels only at the request of a cancel of a paid order: any other status has moved on.
    if (order.status !== 'PENDING_SHIPMENT') return;
    if (await applyCancel(tx, order, event.data.reason, event.id))
      log.info({ orderId: order.id, eventId: event.id }, 'order cancelled');
  },
};

/**
 * shipments.cancel_refused → the shipment was dispatched before the cancel request reached it: the
 * request is answered REFUSED (cancelOrder, waiting on it, answers CannotCancel) and the order goes on
 * to be delivered, mirrored by the shipment-status step.
 */
export const onShipmentCancelRefused: EventHandler<(typeof EventSchemas)['shipments.cancel_refused']['_output']> = {
  name: 'shipment-cancel-refused',
  type: 'shipments.cancel_refused',
  schema: EventSchemas['shipments.cancel_refused'],
  async handle(event, { tx, log }) {
    const refused = { verdict: 'REFUSED' as const, shipmentStatus: event.data.shipmentStatus };
    if (await recordCancelVerdict(tx, event.data.orderId, event.data.requestId, refused))
      log.info(
        { orderId: event.data.orderId, shipmentStatus: event.data.shipmentStatus },
        'cancel refused: dispatched',
      );
  },
};

/**
 * inventory.reservation_overdue → tells products whether the order of an overdue reservation was recorded
 * (orders.reservation_checked). The reservation's deadline outlasts any placeOrder still in flight, so an
 * order that is not here now never will be.
 */
export const onReservationOverdue: EventHandler<(typeof EventSchemas)['inventory.reservation_overdue']['_output']> = {
  name: 'check-reservation',
  type: 'inventory.reservation_overdue',
  schema: EventSchemas['inventory.reservation_overdue'],
  async handle(event, { tx }) {
    const { rowCount } = await tx.query(`SELECT 1 FROM orders WHERE id = $1::uuid`, [event.data.orderId]);
    await writeOutbox(
      tx,
      createEvent({
        type: 'orders.reservation_checked',
        source: 'orders',
        correlationId: event.data.orderId,
        causationId: event.id,
        data: { orderId: event.data.orderId, orderExists: (rowCount ?? 0) > 0 },
      }),
    );
  },
};
