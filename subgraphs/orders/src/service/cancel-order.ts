import { publishingTransaction } from '@orderflow/common/messaging';
import { type Logger } from '@orderflow/common/observability';
import { appError, badInput, type Viewer } from '@orderflow/common/server';
import { ErrorCode, isTextWithin, isUuid, type EventEnvelope } from '@orderflow/contracts';
import type { Db, Order, OrderStatus } from '../db.ts';
import { canCancel, mirroredStatus } from '../domain/order-status.ts';
import type { CancelVerdicts } from './cancel-verdicts.ts';
import { applyCancel, requestCancel } from './order-cancellation.ts';
import { lockOrder } from './order-lifecycle.ts';

export type CancelOrderResult =
  | { __typename: 'OrderCancelled'; order: Order }
  | { __typename: 'CannotCancel'; message: string; status: OrderStatus }
  | { __typename: 'CancellationPending'; message: string; order: Order };

export interface CancelOrderDeps {
  db: Db;
  log: Logger;
  afterCommit: (events: EventEnvelope[]) => void;
  releaseQuietly: (orderId: string, reason: string) => Promise<void>;
  verdicts: CancelVerdicts;
  /** How long cancelOrder waits for the shipments service's verdict on a paid order (CANCEL_VERDICT_TIMEOUT_MS). */
  verdictTimeoutMs: number;
}

export const CANCELLATION_PENDING_MESSAGE =
  'The cancellation has been requested and is being completed; the order status will show CANCELLED, or SHIPPED if it was dispatched first';

type Step =
  | { kind: 'cancelled'; order: Order; paid: false }
  | { kind: 'requested'; requestId: string; created: boolean }
  | { kind: 'cannot'; status: OrderStatus };

/**
 * cancelOrder: cancels an order before it ships. Before payment it is CANCELLED at once and the
 * reservation released. After payment the shipments service decides (of a cancel and a dispatch exactly
 * one wins): the order records a cancel request with orders.cancel_requested in one transaction, and the
 * call waits up to `verdictTimeoutMs` for the verdict to reach the order row (any replica's consumer
 * writes it there), answering OrderCancelled or CannotCancel, or CancellationPending when it is late; the
 * cancel completes either way (docs/decisions/003-cancel-by-event.md).
 */
export function createCancelOrder({
  db,
  log,
  afterCommit,
  releaseQuietly,
  verdicts,
  verdictTimeoutMs,
}: CancelOrderDeps) {
  const cannot = (status: OrderStatus): CancelOrderResult => ({
    __typename: 'CannotCancel',
    message: `An order in status ${status} cannot be cancelled`,
    status,
  });
  const reload = (orderId: string) => db.order.findUniqueOrThrow({ where: { id: orderId } });

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
    if (!canCancel(order.status)) return cannot(order.status);
    const why = reason ?? 'cancelled by customer';
    const step = await publishingTransaction(
      db,
      async (tx): Promise<Step> => {
        const current = await lockOrder(tx, orderId);
        if (!current) return { kind: 'cannot', status: order.status };
        if (current.status === 'PENDING_PAYMENT') {
          const next = await applyCancel(tx, current, why);
          return next ? { kind: 'cancelled', order: next, paid: false } : { kind: 'cannot', status: current.status };
        }
        if (current.status !== 'PENDING_SHIPMENT') return { kind: 'cannot', status: current.status };
        return { kind: 'requested', ...(await requestCancel(tx, current, why)) };
      },
      afterCommit,
    );
    if (step.kind === 'cannot') return cannot(step.status);
    if (step.kind === 'cancelled') {
      await releaseQuietly(orderId, why);
      log.info({ orderId, paid: false }, 'order cancelled');
      return { __typename: 'OrderCancelled', order: step.order };
    }
    if (step.created) log.info({ orderId, requestId: step.requestId }, 'cancel requested');
    const verdict = await verdicts.wait(step.requestId, verdictTimeoutMs);
    if (verdict?.orderStatus === 'CANCELLED') return { __typename: 'OrderCancelled', order: await reload(orderId) };
    if (verdict?.verdict === 'REFUSED')
      return cannot(
        verdict.orderStatus === 'PENDING_SHIPMENT' ? mirroredStatus(verdict.shipmentStatus) : verdict.orderStatus,
      );
    if (verdict) return cannot(verdict.orderStatus);
    const now = await reload(orderId);
    if (now.status === 'CANCELLED') return { __typename: 'OrderCancelled', order: now };
    log.info({ orderId, requestId: step.requestId }, 'cancel verdict late; answered CancellationPending');
    return { __typename: 'CancellationPending', message: CANCELLATION_PENDING_MESSAGE, order: now };
  };
}
