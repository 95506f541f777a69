import { z } from 'zod';
import { loadSubgraphConfig, subgraphEnvSchema } from '@orderflow/common/server';
import { amountLimitEnv, defaultPortOf, checkReservationTiming, reservationEnvSchema } from '@orderflow/contracts';

const schema = subgraphEnvSchema('products', defaultPortOf('products'))
  .extend({
    // RESERVATION_DEADLINE_MS (an unconfirmed reservation older than this is checked against the orders
    // service) and INVENTORY_TIMEOUT_MS (orders' reservation call, read to check the deadline outlasts it).
    ...reservationEnvSchema.shape,
    /** How often the reservation sweeper runs. Default 15 s. */
    SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(15_000),
    /** Largest product price in cents; createProduct refuses more with BAD_USER_INPUT. Default 99999999 (999999.99). */
    MAX_PRICE_CENTS: amountLimitEnv(),
  })
  .superRefine(checkReservationTiming);

export type ProductsConfig = ReturnType<typeof loadConfig>;
/** Every variable this service reads (test/compose.test.ts checks docker-compose.yml against it). */
export const envSchema = schema;
export const loadConfig = (env: NodeJS.ProcessEnv) => loadSubgraphConfig(schema, env);
