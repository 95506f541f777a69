import type { Bus } from '@orderflow/common/messaging';
import type { Logger } from '@orderflow/common/observability';
import type { Db } from '../db.ts';
import { createDeadLetters } from '../events/dead-letters.ts';
import { createBusinessMetrics } from './business-metrics.ts';
import { createOperatorActions } from './operator-actions.ts';
import { createOrderSearch } from './order-search.ts';
import { createOrderTimeline } from './order-timeline.ts';
import type { OrderService } from './order-service.ts';

/** What the operator console asks of the orders service: search, timeline, figures and actions (issue 15). */
export function createOperatorConsole({
  db,
  bus,
  orders,
  log,
}: {
  db: Db;
  /** The service's NATS connection: dead letters and consumer backlogs (null: none, as in some tests). */
  bus: Bus | null;
  orders: Pick<OrderService, 'cancelOrder'>;
  log: Logger;
}) {
  const deadLetters = bus ? createDeadLetters(bus) : null;
  return {
    searchOrders: createOrderSearch({ db }),
    timeline: createOrderTimeline({ db, deadLetters, log }),
    businessMetrics: createBusinessMetrics({ db, bus }),
    ...createOperatorActions({ db, cancelOrder: orders.cancelOrder, deadLetters, log }),
  };
}
export type OperatorConsole = ReturnType<typeof createOperatorConsole>;
