import { z } from 'zod';
import { loadSubgraphConfig, subgraphEnvSchema } from '@orderflow/common';

const schema = subgraphEnvSchema('orders', 4003).extend({
  PRODUCTS_URL: z.string().url().default('http://127.0.0.1:4002'),
  /** Timeout of one reservation call to products, before a retry. Default 2 s. */
  INVENTORY_TIMEOUT_MS: z.coerce.number().int().min(50).default(2_000),
});

export type OrdersConfig = ReturnType<typeof loadConfig>;
export const loadConfig = (env: NodeJS.ProcessEnv) => loadSubgraphConfig(schema, env);
