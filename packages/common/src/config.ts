import { z } from 'zod';
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
