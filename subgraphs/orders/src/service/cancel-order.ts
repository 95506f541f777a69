import { publishingTransaction } from '@orderflow/common/messaging';
import { type Logger } from '@orderflow/common/observability';
import { appError, badInput, type Viewer } from '@orderflow/common/server';
import { ErrorCode, isTextWithin, isUuid, type EventEnvelope } from '@orderflow/contracts';
import type { Db, Order, OrderStatus } from '../db.ts';
import { canCancel } from '../domain/order-status.ts';
import { applyCancel } from './order-cancellation.ts';
import { lockOrder } from './order-lifecycle.ts';
import type { ShipmentsClient } from './shipments-client.ts';

export type CancelOrderResult =
  { __typename: 'OrderCancelled'; order: Order } | { __typename: 'CannotCancel'; message: string; status: OrderStatus };

export interface CancelOrderDeps {
  db: Db;
  shipments: ShipmentsClient;
  log: Logger;
  onEvents: (events: EventEnvelope[]) => void;
  releaseQuietly: (orderId: string, reason: string) => Promise<void>;
}

/**
 * cancelOrder: cancels an order before it ships. Before payment the reservation is released; after
 * payment the shipments service is asked first (it owns the race with SHIPPED: of a cancel and a dispatch
 * exactly one wins), then the payment is refunded and products returns the stock on orders.cancelled.
 */
export function createCancelOrder({ db, shipments, log, onEvents, releaseQuietly }: CancelOrderDeps) {
  return async function cancelOrder(
    viewer: Viewer,
    orderId: string,
    reason?: string | null,
  ): Promise<CancelOrderResult> {
    if (!isUuid(orderId)) throw badInput('orderId is not a valid order id', 'orderId');
    if (reason != null && !isTextWithin(reason, 0, 500))
      throw badInput('reason must be at most 500 characters', 'reason');
    const order = await db.order.findUnique({ where: { id: orderId } });
    if (!order || order.customerId !== viewer.id) throw appError(ErrorCode.NOT_FOUND, 'Order not found');
    const cannot = (status: OrderStatus): CancelOrderResult => ({
      __typename: 'CannotCancel',
      message: `An order in status ${status} cannot be cancelled`,
      status,
    });
    if (!canCancel(order.status)) return cannot(order.status);
    const why = reason ?? 'cancelled by customer';
    const paid = order.status === 'PENDING_SHIPMENT';
    if (paid) {
      // From here the cancel is decided: shipments' answer comes with a shipments.cancelled event, from
      // which the orders-shipment-cancelled consumer completes the order's side if this transaction never commits.
      const verdict = await shipments.cancel(orderId, why);
      if (verdict.status === 'too-late') return cannot(verdict.orderStatus);
    }
    const updated = await publishingTransaction(
      db,
      async (tx) => {
        const current = await lockOrder(tx, orderId);
        if (!current) return null;
        // The shipments.cancelled consumer got there first: the cancel asked for is done.
        if (paid && current.status === 'CANCELLED') return { order: current, applied: false };
        if (current.status !== order.status) return null;
        const next = await applyCancel(tx, current, why);
        return next && { order: next, applied: true };
      },
      onEvents,
    );
    if (!updated) return cannot((await db.order.findUniqueOrThrow({ where: { id: orderId } })).status);
    if (!paid) await releaseQuietly(orderId, why);
    log.info({ orderId, paid }, 'order cancelled');
    return { __typename: 'OrderCancelled', order: updated.order };
  };
}
