import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'graphql';
import { createLogger, type Logger } from '@orderflow/common/observability';
import { startSubgraph } from '@orderflow/common/server';
import type { ShipmentsConfig } from './config.ts';
import type { ShipmentsContext } from './context.ts';
import { createDb } from './db.ts';
import { resolvers } from './resolvers/index.ts';
import { createShipmentService } from './service/shipment-service.ts';
import { cancelOnRequest, shipOnPaidOrder } from './events/saga-handlers.ts';

export const typeDefs = parse(readFileSync(fileURLToPath(new URL('./schema.graphql', import.meta.url)), 'utf8'));

export async function startShipments(
  config: ShipmentsConfig,
  opts: { log?: Logger; onQuery?: (sql: string) => void } = {},
) {
  const log = opts.log ?? createLogger('shipments', config.LOG_LEVEL);
  return startSubgraph<ReturnType<typeof createDb>, ShipmentsContext>({
    name: 'shipments',
    config,
    log,
    migrationsDir: fileURLToPath(new URL('../prisma/migrations', import.meta.url)),
    db: () => createDb(config.DATABASE_URL, { poolSize: config.DB_POOL_SIZE, onQuery: opts.onQuery }),
    publishesEvents: true,
    setup({ db, relay, consumer }) {
      const shipments = createShipmentService({ db, afterCommit: relay?.afterCommit });
      return {
        typeDefs,
        resolvers,
        context: (viewer) => ({ viewer, shipments, loaders: shipments.createLoaders() }),
        workers: [consumer(shipOnPaidOrder(shipments)), consumer(cancelOnRequest(shipments), { maxDeliver: 30 })],
      };
    },
  });
}
