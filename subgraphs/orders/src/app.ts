import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'graphql';
import { createLogger, sampleQuery, type Logger } from '@orderflow/common/observability';
import { registerOrdersByStatus } from './metrics.ts';
import { startSubgraph } from '@orderflow/common/server';
import type { OrdersConfig } from './config.ts';
import type { OrdersContext } from './context.ts';
import { createDb } from './db.ts';
import { resolvers } from './resolvers/index.ts';
import { createInventoryClient } from './service/inventory-client.ts';
import { createOperatorConsole } from './service/operator-console.ts';
import { createOrderService } from './service/order-service.ts';
import { createCancelVerdicts } from './service/cancel-verdicts.ts';
import { createMailer, notificationHandlers } from './events/notifications.ts';
import {
  onReservationOverdue,
  onShipmentCancelRefused,
  onShipmentCancelled,
  onShipmentStatusUpdated,
  paymentWorker,
} from './events/saga-handlers.ts';

export const typeDefs = parse(readFileSync(fileURLToPath(new URL('./schema.graphql', import.meta.url)), 'utf8'));

export async function startOrders(config: OrdersConfig, opts: { log?: Logger; onQuery?: (sql: string) => void } = {}) {
  const log = opts.log ?? createLogger('orders', config.LOG_LEVEL);
  return startSubgraph<ReturnType<typeof createDb>, OrdersContext>({
    name: 'orders',
    config,
    log,
    migrationsDir: fileURLToPath(new URL('../prisma/migrations', import.meta.url)),
    db: () => createDb(config.DATABASE_URL, { poolSize: config.DB_POOL_SIZE, onQuery: opts.onQuery }),
    publishesEvents: true,
    setup({ db, bus, relay, internalAuth, consumer, metrics }) {
      // Every status, zeros included, so a dashboard shows a status before its first order.
      // count(o.status), not count(o.id): only status is read, so orders_status_idx answers
      // it with an index-only scan instead of a scan of the whole table.
      registerOrdersByStatus(metrics, () =>
        sampleQuery<{ status: string; count: number }[]>(
          db,
          `SELECT s::text AS status, count(o.status)::int AS count FROM unnest(enum_range(NULL::order_status)) s LEFT JOIN orders o ON o.status = s GROUP BY s`,
        ),
      );
      const inventory = createInventoryClient({
        baseUrl: config.PRODUCTS_URL,
        internalAuth,
        log,
        timeoutMs: config.INVENTORY_TIMEOUT_MS,
      });
      const orders = createOrderService({
        db,
        inventory,
        cancelVerdicts: createCancelVerdicts({ db, log }),
        cancelVerdictTimeoutMs: config.CANCEL_VERDICT_TIMEOUT_MS,
        log,
        afterCommit: relay?.afterCommit,
        maxOrderTotalCents: config.MAX_ORDER_TOTAL_CENTS,
      });
      const mailer = createMailer({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM });
      const emails = notificationHandlers({ db, mailer, log });
      const operations = createOperatorConsole({ db, bus, orders, log });
      return {
        workers: [
          consumer(paymentWorker({ failureRate: config.PAYMENT_FAILURE_RATE })),
          consumer(onShipmentStatusUpdated, { maxDeliver: 30 }),
          consumer(onShipmentCancelled, { maxDeliver: 30 }),
          consumer(onShipmentCancelRefused, { maxDeliver: 30 }),
          consumer(onReservationOverdue),
          // Workers stop in reverse order: the SMTP pool closes after the email consumers have stopped.
          {
            init: async () => {},
            start() {},
            async stop() {
              mailer.close();
            },
          },
          consumer(emails.received, { maxDeliver: 30, concurrency: 4 }),
          consumer(emails.statusChanged, { maxDeliver: 30, concurrency: 4 }),
        ],
        typeDefs,
        resolvers,
        context: (viewer) => ({ viewer, orders, loaders: orders.createLoaders(), operations }),
      };
    },
  });
}
