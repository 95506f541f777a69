import { z } from 'zod';
import {
  accessTokenEnvSchema,
  loadSubgraphConfig,
  refuseWeakSecrets,
  subgraphEnvSchema,
} from '@orderflow/common/server';
import { defaultPortOf } from '@orderflow/contracts';
import { DEV_CLIENT_SECRETS, SEED_CLIENTS, type SeedClientId } from './domain/clients.ts';

/** An unset variable and an empty one (`${VAR:-}` in compose) mean the same: not given. */
const optionalSecret = z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16).optional());

const schema = subgraphEnvSchema('auth', defaultPortOf('auth'))
  .extend(accessTokenEnvSchema.shape)
  .extend({
    /** Refresh-token lifetime in seconds. Default 30 days (the issue's). */
    REFRESH_TOKEN_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .default(30 * 24 * 3600),
    /**
     * Encrypts the private signing keys at rest (a key is derived from it
     * with HKDF). A fixed development value is used outside production;
     * production must set it, 32+ characters.
     */
    SIGNING_KEY_SECRET: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(32).optional()),
    /**
     * scrypt cost as log2(N), with r=8 and p=1. Default 17, OWASP's
     * recommendation (N=131072: 128 MiB and about 0.7 s of one core per hash
     * on the reference machine; docs/decisions/001-password-work.md).
     * Stored hashes carry their own parameters: older ones keep verifying
     * and are rehashed at the next successful log-in.
     */
    PASSWORD_HASH_COST: z.coerce.number().int().min(10).max(20).default(17),
    /**
     * Hashes computed at once (each on a libuv thread, so keep it at most
     * UV_THREADPOOL_SIZE, 4 by default). Default 1: on two cores, log-ins can
     * take one and never starve queries.
     */
    PASSWORD_HASH_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(1),
    /**
     * Hashes waiting for a slot; beyond, SERVICE_UNAVAILABLE with retryAfter 1.
     * Default 4: about 3 s of work at cost 17, so the last in line is still
     * answered within the gateway's subgraph deadline (SUBGRAPH_TIMEOUT_MS, 5 s).
     */
    PASSWORD_HASH_QUEUE: z.coerce.number().int().min(0).max(10_000).default(4),
    /**
     * Password checks (log-ins, client authentications, sign-ups) one address
     * may have under way at once; beyond, RATE_LIMITED with retryAfter 1.
     * Default 2: one address cannot fill the hashing queue that everyone shares.
     */
    PASSWORD_CHECKS_PER_ADDRESS: z.coerce.number().int().min(1).max(10_000).default(2),
    /** The window over which each log-in and sign-up budget below refills. Default 300 s. */
    LOGIN_THROTTLE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
    /** Failed log-ins per account from one address per window. Default 5 (then one a minute). */
    LOGIN_FAILURES_PER_ACCOUNT_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(5),
    /**
     * Failed log-ins per account from addresses that never logged in to it,
     * per window. Default 20 (then one every 15 s): above what one address
     * may spend, so one address alone can never exhaust it.
     */
    LOGIN_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).max(1_000_000).default(20),
    /** Failed log-ins (and client authentications) from one address, over all accounts, per window. Default 30. */
    LOGIN_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(30),
    /** Sign-ups from one address per window (each one counts). Default 10. */
    SIGNUPS_PER_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(10),
    /**
     * Secrets of the three registered clients. Outside production each
     * defaults to its development secret (contract: `<id>-dev-secret`); in
     * production a client is registered only when its secret is set here.
     */
    STOREFRONT_CLIENT_SECRET: optionalSecret,
    OPS_CONSOLE_CLIENT_SECRET: optionalSecret,
    DELIVERY_PARTNER_CLIENT_SECRET: optionalSecret,
    /**
     * Per-client rate limits in requests per minute, e.g.
     * `storefront=600,delivery-partner=30`; unnamed clients keep their
     * defaults (storefront 600, ops-console 6000, delivery-partner 1200).
     */
    OAUTH_CLIENT_RATE_LIMITS: z
      .string()
      .default('')
      .transform((raw, ctx) => {
        const limits: Partial<Record<SeedClientId, number>> = {};
        for (const part of raw
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean)) {
          const m = /^([a-z-]+)=(\d{1,7})$/.exec(part);
          if (!m || !(m[1] in SEED_CLIENTS) || Number(m[2]) < 1) {
            ctx.addIssue({
              code: 'custom',
              message: `"${part}" is not <client>=<requests per minute> for a registered client`,
            });
            return z.NEVER;
          }
          limits[m[1] as SeedClientId] = Number(m[2]);
        }
        return limits;
      }),
  });

const DEV_SIGNING_KEY_SECRET = 'development-only-signing-key-secret-change-me!';

export type AuthConfig = ReturnType<typeof loadConfig>;
/** Every variable this service reads (test/compose.test.ts checks docker-compose.yml against it). */
export const envSchema = schema;

export function loadConfig(env: NodeJS.ProcessEnv) {
  const c = loadSubgraphConfig(schema, env);
  const production = c.NODE_ENV === 'production';
  // A published secret (the development defaults, compose's placeholders) would let anyone forge tokens or log in as a client.
  refuseWeakSecrets(c.NODE_ENV, {
    SIGNING_KEY_SECRET: c.SIGNING_KEY_SECRET,
    STOREFRONT_CLIENT_SECRET: c.STOREFRONT_CLIENT_SECRET,
    OPS_CONSOLE_CLIENT_SECRET: c.OPS_CONSOLE_CLIENT_SECRET,
    DELIVERY_PARTNER_CLIENT_SECRET: c.DELIVERY_PARTNER_CLIENT_SECRET,
  });
  if (production && !c.SIGNING_KEY_SECRET)
    throw new Error('Invalid configuration:\n  SIGNING_KEY_SECRET: required in production');
  const given: Record<SeedClientId, string | undefined> = {
    storefront: c.STOREFRONT_CLIENT_SECRET,
    'ops-console': c.OPS_CONSOLE_CLIENT_SECRET,
    'delivery-partner': c.DELIVERY_PARTNER_CLIENT_SECRET,
  };
  const clients = (Object.keys(SEED_CLIENTS) as SeedClientId[]).flatMap((id) => {
    const secret = given[id] ?? (production ? undefined : DEV_CLIENT_SECRETS[id]);
    if (!secret) return [];
    const seed = SEED_CLIENTS[id];
    return [{ ...seed, id, secret, rateLimitPerMinute: c.OAUTH_CLIENT_RATE_LIMITS[id] ?? seed.rateLimitPerMinute }];
  });
  return { ...c, signingKeySecret: c.SIGNING_KEY_SECRET ?? DEV_SIGNING_KEY_SECRET, clients };
}
