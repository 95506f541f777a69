import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'graphql';
import { z } from 'zod';
import { createLogger, type Logger } from '@orderflow/common/observability';
import { createReservationFailures } from './metrics.ts';
import { startSubgraph } from '@orderflow/common/server';
import { isUuid } from '@orderflow/contracts';
import type { ProductsConfig } from './config.ts';
import type { ProductsContext } from './context.ts';
import { createStockTimelineLoader } from './service/stock-timeline.ts';
import { createDb } from './db.ts';
import { createReservationSweeper } from './events/reservation-sweeper.ts';
import { inventoryHandlers } from './events/saga-handlers.ts';
import { resolvers } from './resolvers/index.ts';
import { createCatalogService } from './service/catalog-service.ts';
import { createInventoryService } from './service/inventory-service.ts';

export const typeDefs = parse(readFileSync(fileURLToPath(new URL('./schema.graphql', import.meta.url)), 'utf8'));

const reserveBody = z.object({
  orderId: z.string().refine(isUuid),
  items: z
    .array(z.object({ productId: z.string().refine(isUuid), quantity: z.number().int().min(1).max(1000) }))
    .min(1)
    .max(50),
});
const releaseBody = z.object({ orderId: z.string().refine(isUuid), reason: z.string().max(500) });

export async function startProducts(
  config: ProductsConfig,
  opts: { log?: Logger; onQuery?: (sql: string) => void } = {},
) {
  const log = opts.log ?? createLogger('products', config.LOG_LEVEL);
  let sweeper!: ReturnType<typeof createReservationSweeper>;
  const running = await startSubgraph<ReturnType<typeof createDb>, ProductsContext>({
    name: 'products',
    config,
    log,
    migrationsDir: fileURLToPath(new URL('../prisma/migrations', import.meta.url)),
    db: () => createDb(config.DATABASE_URL, { poolSize: config.DB_POOL_SIZE, onQuery: opts.onQuery }),
    publishesEvents: true,
    setup({ db, relay, consumer, metrics }) {
      const reservationFailures = createReservationFailures(metrics);
      const catalog = createCatalogService({ db, maxPriceCents: config.MAX_PRICE_CENTS });
      const inventory = createInventoryService({ db, log, afterCommit: relay?.afterCommit });
      sweeper = createReservationSweeper({
        inventory,
        log,
        deadlineMs: config.RESERVATION_DEADLINE_MS,
        intervalMs: config.SWEEP_INTERVAL_MS,
      });
      return {
        typeDefs,
        resolvers,
        context: (viewer) => ({
          viewer,
          catalog,
          inventory,
          loaders: { product: catalog.createProductLoader(), stockTimeline: createStockTimelineLoader(db) },
        }),
        workers: [sweeper, ...inventoryHandlers(inventory).map((handler) => consumer(handler))],
        internalRoutes(router) {
          router.post('/reservations', async (req, res, next) => {
            if (!req.viewer?.scopes.has('internal:inventory')) return void res.status(403).json({ error: 'forbidden' });
            const body = reserveBody.safeParse(req.body);
            if (!body.success) return void res.status(400).json({ error: 'invalid_request' });
            inventory.reserve(body.data.orderId, body.data.items).then((r) => {
              if (r.status !== 'reserved') reservationFailures.inc({ reason: r.status });
              res.json(r);
            }, next);
          });
          router.post('/reservations/release', async (req, res, next) => {
            if (!req.viewer?.scopes.has('internal:inventory')) return void res.status(403).json({ error: 'forbidden' });
            const body = releaseBody.safeParse(req.body);
            if (!body.success) return void res.status(400).json({ error: 'invalid_request' });
            inventory.release(body.data.orderId, body.data.reason).then((released) => res.json({ released }), next);
          });
        },
      };
    },
  });
  return { ...running, sweeper };
}
