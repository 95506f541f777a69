import { z } from 'zod';
import { accessTokenEnvSchema, baseEnvSchema, parseEnv, resolveInternalSecret } from '@orderflow/common';

const schema = baseEnvSchema.extend(accessTokenEnvSchema.shape).extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  AUTH_URL: z.string().url().default('http://127.0.0.1:4001'),
  PRODUCTS_URL: z.string().url().default('http://127.0.0.1:4002'),
  ORDERS_URL: z.string().url().default('http://127.0.0.1:4003'),
  SHIPMENTS_URL: z.string().url().default('http://127.0.0.1:4004'),
  /** Largest accepted request body. Default 1 MB. */
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1_000_000),
  /** Largest body of /oauth/token and /oauth/revoke. Default 8 KiB: a refresh token and a scope list fit many times over. */
  OAUTH_MAX_BODY_BYTES: z.coerce.number().int().min(512).max(1_000_000).default(8 * 1024),
  /**
   * Requests per minute from one IP address without a valid token (anonymous
   * GraphQL, /oauth/*, and refused tokens). Default 600. Token holders are
   * limited by their client's limit (the token's rate_limit claim) instead.
   */
  ANONYMOUS_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /**
   * Least time between two JWKS fetches caused by an unknown kid (a token
   * flood with random kids must not become a flood on the auth service).
   * Default 10 s; a key rotation is announced on NATS and fetched at once anyway.
   */
  JWKS_COOLDOWN_MS: z.coerce.number().int().min(0).default(10_000),
  /**
   * Express "trust proxy": false (default: the peer address is the client),
   * true, a hop count, or addresses/subnets of the proxies in front. Only
   * with it set does X-Forwarded-For decide the IP for rate limiting.
   */
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((v): boolean | number | string => (v === 'true' ? true : v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v)),
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
