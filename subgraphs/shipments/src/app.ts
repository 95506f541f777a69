import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'graphql';
import { z } from 'zod';
import { createLogger, type Logger } from '@orderflow/common/observability';
import { startSubgraph } from '@orderflow/common/server';
import { isUuid } from '@orderflow/contracts';
import type { ShipmentsConfig } from './config.ts';
import type { ShipmentsContext } from './context.ts';
import { createDb } from './db.ts';
import { resolvers } from './resolvers/index.ts';
import { createShipmentService } from './service/shipment-service.ts';
import { shipOnPaidOrder } from './events/saga-handlers.ts';

const cancelBody = z.object({ orderId: z.string().refine(isUuid), reason: z.string().max(500).optional() });

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
      const shipments = createShipmentService({ db, onEvents: relay?.committed });
      return {
        typeDefs,
        resolvers,
        context: (viewer) => ({ viewer, shipments, loaders: shipments.createLoaders() }),
        workers: [consumer(shipOnPaidOrder(shipments))],
        internalRoutes(router) {
          router.post('/shipments/cancel', async (req, res, next) => {
            if (!req.viewer?.scopes.has('internal:shipments')) return void res.status(403).json({ error: 'forbidden' });
            const body = cancelBody.safeParse(req.body);
            if (!body.success) return void res.status(400).json({ error: 'invalid_request' });
            shipments
              .cancelForOrder(body.data.orderId, body.data.reason ?? 'order cancelled by customer')
              .then((r) => res.json(r), next);
          });
        },
      };
    },
  });
}
