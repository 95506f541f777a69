import { z } from 'zod';
import { baseEnvSchema, parseEnv, resolveInternalSecret } from '@orderflow/common';

const schema = baseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  AUTH_URL: z.string().url().default('http://127.0.0.1:4001'),
  PRODUCTS_URL: z.string().url().default('http://127.0.0.1:4002'),
  ORDERS_URL: z.string().url().default('http://127.0.0.1:4003'),
  SHIPMENTS_URL: z.string().url().default('http://127.0.0.1:4004'),
  /** Largest accepted request body. Default 1 MB. */
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1_000_000),
});

export type GatewayConfig = ReturnType<typeof loadConfig>;

export function loadConfig(env: NodeJS.ProcessEnv) {
  const c = parseEnv(schema, env);
  return {
    ...c,
    internalAuthSecret: resolveInternalSecret(c.NODE_ENV, c.INTERNAL_AUTH_SECRET),
    subgraphUrls: { auth: c.AUTH_URL, products: c.PRODUCTS_URL, orders: c.ORDERS_URL, shipments: c.SHIPMENTS_URL },
  };
}
