import { randomUUID } from 'node:crypto';
import { modelRow } from '@orderflow/common/db';
import { RetryLater, backoffMs, createEvent, writeOutbox, type EventHandler } from '@orderflow/common/messaging';
import { EventSchemas, money, parseCents } from '@orderflow/contracts';
import type { Order } from '../db.ts';
import { mirrorShipment } from '../domain/order-status.ts';
import { decidePayment, maskToken } from '../domain/payment.ts';
import { lockOrder, statusChanged, transition } from '../service/order-lifecycle.ts';
import { applyCancel, recordCancelVerdict } from '../service/order-cancellation.ts';
import { insertPayment, moveWithPayment, type PaymentRow } from '../store/payments-store.ts';

/**
 * The orders service's part of the saga, one handler per event type. Each
 * runs inside its consumer's inbox transaction: a redelivered event finds
 * its id in the inbox and changes nothing.
 */

/**
 * orders.created → charge the order (simulated), once, with retries for transient errors, and move the
 * order on in the same transaction: PENDING_SHIPMENT with payments.succeeded, or PAYMENT_FAILED with
 * payments.failed. The charge is decided from the event (its token and total) and takes effect only with
 * the guarded move out of PENDING_PAYMENT (`moveWithPayment`, one statement with the payment row): a cancel
 * that committed first leaves the move nothing to match, and the order is not charged (a FAILED payment
 * says why); a cancel that comes later waits for the move's row lock, finds the order paid and refunds it.
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
      const { orderId, paymentToken, totalAmount } = event.data;
      const amountCents = parseCents(totalAmount.amount);
      if (amountCents === null) throw new Error(`orders.created of ${orderId} carries a malformed total`);
      const payment = (status: PaymentRow['status'], reason: string | null): PaymentRow => ({
        id: randomUUID(),
        status,
        amountCents,
        currencyCode: totalAmount.currencyCode,
        reason,
        attempts: attempt,
      });
      const failedEvent = (reason: string) =>
        createEvent({
          type: 'payments.failed',
          source: 'orders',
          correlationId: orderId,
          causationId: event.id,
          data: { orderId, reason, retryable: false },
        });

      const decision = decidePayment(paymentToken, attempt, { failureRate });
      if (decision.outcome === 'transient') throw new RetryLater(backoffMs(attempt, 250, 5_000), decision.reason);
      const paid = decision.outcome === 'succeeded' ? payment('SUCCEEDED', null) : payment('FAILED', decision.reason);
      const outcome =
        paid.status === 'SUCCEEDED'
          ? createEvent({
              type: 'payments.succeeded',
              source: 'orders',
              correlationId: orderId,
              causationId: event.id,
              data: { orderId, paymentId: paid.id, amount: money(amountCents, totalAmount.currencyCode) },
            })
          : failedEvent(paid.reason!);
      const to = paid.status === 'SUCCEEDED' ? 'PENDING_SHIPMENT' : 'PAYMENT_FAILED';
      const reason = paid.reason ?? 'payment succeeded';
      const moved = await moveWithPayment(tx, { orderId, from: 'PENDING_PAYMENT', to, reason, payment: paid });
      if (moved) {
        const order = modelRow<Order>(moved.columns);
        await writeOutbox(tx, statusChanged(order, 'PENDING_PAYMENT', to, reason, moved.change, outcome.id), outcome);
        if (paid.status === 'SUCCEEDED') log.info({ orderId, attempt }, 'payment succeeded');
        else log.info({ orderId, reason, token: maskToken(paymentToken) }, 'payment failed');
        return;
      }
      // Not waiting for its payment any more (rare): never charge an order the customer cancelled while it
      // waited. The order's status says why; its payment is FAILED, once.
      const order = await lockOrder(tx, orderId);
      if (!order) throw new RetryLater(backoffMs(attempt), 'order not visible yet');
      const why = `order ${order.status.toLowerCase()} before payment`;
      if (!(await insertPayment(tx, orderId, payment('FAILED', why)))) return;
      await writeOutbox(tx, failedEvent(why));
      log.info({ orderId, reason: why, token: maskToken(paymentToken) }, 'payment failed');
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
