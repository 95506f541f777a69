import { z } from 'zod';
import { TRANSACTION_LIMITS } from './db.ts';
import { RESERVE_CALL_POLICY } from '@orderflow/contracts';
import { placeOrderWorstCaseMs } from './inventory-api.ts';
import { refuseWeakSecrets } from './secrets.ts';

/**
 * Settings every service shares. Each service's own `config.ts` extends this
 * schema; only those files read `process.env`.
 */
export const baseEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().default('127.0.0.1'),
  /**
   * Secret shared by the gateway and the subgraphs to sign internal tokens.
   * A fixed development value is used outside production; production must set it.
   */
  INTERNAL_AUTH_SECRET: z.string().min(32).optional(),
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  /**
   * This service's NATS user and password: each service has its own, allowed only its own subjects
   * (packages/contracts/src/nats-access.ts). Unset: no credentials (a server without authorization).
   */
  NATS_USER: z
    .string()
    .regex(/^[a-z0-9_-]+$/i)
    .optional(),
  NATS_PASSWORD: z.string().min(1).optional(),
  /** Prefix of stream names and subjects; tests give every run its own. */
  NATS_PREFIX: z
    .string()
    .regex(/^[a-z0-9_-]*$/i)
    .default(''),
  /** Replicas of every JetStream stream: 1 on one server, 3 on a cluster. Default 1. */
  NATS_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  /** Multiplies the saga's retry delays (transient payment errors, backoff). Tests shrink it. Default 1. */
  SAGA_RETRY_SCALE: z.coerce.number().min(0).max(10).default(1),
});

/**
 * Settings of the access tokens that the auth service issues and the gateway
 * verifies. Both extend their schema with these, so they agree by default.
 */
export const accessTokenEnvSchema = z.object({
  /**
   * `iss` of access tokens and the issuer of the RFC 8414 metadata: the
   * gateway's public origin, where /oauth and /.well-known are served.
   * Default http://localhost:4000 (the development gateway).
   */
  OAUTH_ISSUER: z.string().url().default('http://localhost:4000'),
  /** `aud` of access tokens: this API. Default "orderflow-api". */
  OAUTH_AUDIENCE: z.string().min(1).default('orderflow-api'),
  /** Access-token lifetime in seconds. Default 3600 (the contract's hour). */
  ACCESS_TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(10)
    .max(24 * 3600)
    .default(3600),
});

/**
 * The reservation placeOrder takes in products, and the deadline after which
 * the products sweeper may release it when no order was recorded for it.
 * Products (which sweeps) and orders (which calls) both read both and check
 * them with `checkReservationTiming`, so either refuses to start with a
 * deadline that an in-flight placeOrder could outlast. Set them alike on both.
 */
export const reservationEnvSchema = z.object({
  /**
   * Timeout of one reservation call from orders to products, before a retry.
   * Default 5 s: the call is one SQL statement, so a slow answer means an
   * overloaded machine, where retrying early only adds load.
   */
  INVENTORY_TIMEOUT_MS: z.coerce.number().int().min(50).default(5_000),
  /**
   * Age after which products checks an unconfirmed reservation against the
   * orders service (and releases it when no order was recorded). Default 60 s;
   * must exceed `placeOrderWorstCaseMs(INVENTORY_TIMEOUT_MS)` (42 s by default).
   */
  RESERVATION_DEADLINE_MS: z.coerce.number().int().min(1000).default(60_000),
});

/**
 * Refinement for a schema that includes `reservationEnvSchema`: rejects a
 * deadline at or below the longest an in-flight placeOrder can hold its
 * reservation before its order is committed. A shorter one lets the sweeper
 * release stock under an order about to be written: units sold twice.
 */
export function checkReservationTiming(
  c: { INVENTORY_TIMEOUT_MS: number; RESERVATION_DEADLINE_MS: number },
  ctx: z.RefinementCtx,
): void {
  const worstCase = placeOrderWorstCaseMs(c.INVENTORY_TIMEOUT_MS);
  if (c.RESERVATION_DEADLINE_MS > worstCase) return;
  const { retries, maxBackoffMs } = RESERVE_CALL_POLICY;
  ctx.addIssue({
    code: 'custom',
    path: ['RESERVATION_DEADLINE_MS'],
    message:
      `must be greater than ${worstCase} (got ${c.RESERVATION_DEADLINE_MS}): the longest placeOrder can hold a reservation before its order is written ` +
      `(${retries + 1} reservation attempts × INVENTORY_TIMEOUT_MS ${c.INVENTORY_TIMEOUT_MS}, ${retries} backoffs of up to ${maxBackoffMs}, ` +
      `then the order write: ${TRANSACTION_LIMITS.maxWait} waiting for a connection + ${TRANSACTION_LIMITS.timeout} transaction timeout); ` +
      `a shorter deadline lets the reservation sweeper release stock under an order that is about to be confirmed`,
  });
}

export type BaseConfig = z.infer<typeof baseEnvSchema> & { internalAuthSecret: string };

const DEV_INTERNAL_SECRET = 'development-only-internal-secret-change-me!';

/** Parses env with a schema; throws one readable error listing every bad variable. */
export function parseEnv<S extends z.ZodTypeAny>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** The internal-token secret: required in production and never a published one there (secrets.ts). */
export function resolveInternalSecret(nodeEnv: string, secret: string | undefined): string {
  refuseWeakSecrets(nodeEnv, { INTERNAL_AUTH_SECRET: secret });
  if (secret) return secret;
  if (nodeEnv === 'production')
    throw new Error('Invalid configuration:\n  INTERNAL_AUTH_SECRET: required in production');
  return DEV_INTERNAL_SECRET;
}
