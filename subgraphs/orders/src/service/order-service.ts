import type { Logger } from '@orderflow/common/observability';
import type { EventEnvelope } from '@orderflow/contracts';
import type { Db } from '../db.ts';
import { createCancelOrder } from './cancel-order.ts';
import type { InventoryClient } from './inventory-client.ts';
import { createOrderQueries } from './order-queries.ts';
import { createPlaceOrder } from './place-order.ts';
import type { CancelVerdicts } from './cancel-verdicts.ts';

export type { PlaceOrderResult } from './place-order.ts';
export type { CancelOrderResult } from './cancel-order.ts';
export type { Loaders } from './order-queries.ts';

export interface OrderServiceDeps {
  db: Db;
  inventory: InventoryClient;
  /** Where cancelOrder waits for the shipments service's verdict on a paid order's cancel. */
  cancelVerdicts: CancelVerdicts;
  /** How long it waits (CANCEL_VERDICT_TIMEOUT_MS) before answering CancellationPending. */
  cancelVerdictTimeoutMs: number;
  log: Logger;
  /** Called after a commit that wrote outbox rows, with the events written (the relay's afterCommit). */
  afterCommit?: (events: EventEnvelope[]) => void;
  /** Largest order total in cents (MAX_ORDER_TOTAL_CENTS); a larger order is InvalidOrder and its reservation released. */
  maxOrderTotalCents: number;
}

/** The orders service the resolvers call: one verb per file (place-order, cancel-order, order-queries). */
export function createOrderService({
  db,
  inventory,
  cancelVerdicts,
  cancelVerdictTimeoutMs,
  log,
  afterCommit = () => {},
  maxOrderTotalCents,
}: OrderServiceDeps) {
  async function releaseQuietly(orderId: string, reason: string) {
    try {
      await inventory.release(orderId, reason);
    } catch (err) {
      // The products sweeper releases it once the deadline passes.
      log.warn({ orderId, err: (err as Error).message }, 'release failed; left to the reservation sweeper');
    }
  }
  return {
    placeOrder: createPlaceOrder({ db, inventory, log, afterCommit, maxOrderTotalCents, releaseQuietly }),
    cancelOrder: createCancelOrder({
      db,
      log,
      afterCommit,
      releaseQuietly,
      verdicts: cancelVerdicts,
      verdictTimeoutMs: cancelVerdictTimeoutMs,
    }),
    ...createOrderQueries({ db }),
  };
}
export type OrderService = ReturnType<typeof createOrderService>;
