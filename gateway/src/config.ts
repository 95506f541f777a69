import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  accessTokenEnvSchema,
  baseEnvSchema,
  parseEnv,
  refuseWeakSecrets,
  resolveInternalSecret,
} from '@orderflow/common/server';
import { GATEWAY_DEFAULT_PORT, defaultUrlOf } from '@orderflow/contracts';
import { corsOriginsEnv } from './cors.ts';
import { DEFAULT_OPERATION_LIMITS, type OperationLimits } from './limits.ts';

const schema = baseEnvSchema.extend(accessTokenEnvSchema.shape).extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(GATEWAY_DEFAULT_PORT),
  AUTH_URL: z.string().url().default(defaultUrlOf('auth')),
  PRODUCTS_URL: z.string().url().default(defaultUrlOf('products')),
  ORDERS_URL: z.string().url().default(defaultUrlOf('orders')),
  SHIPMENTS_URL: z.string().url().default(defaultUrlOf('shipments')),
  /** Largest accepted request body. Default 1 MB. */
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1_000_000),
  /** Largest body of /oauth/token and /oauth/revoke. Default 8 KiB: a refresh token and a scope list fit many times over. */
  OAUTH_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(512)
    .max(1_000_000)
    .default(8 * 1024),
  /**
   * Requests per minute from one IP address without a valid token (anonymous
   * GraphQL, /oauth/*, and refused tokens). Default 600. Token holders are
   * limited by their client's limit (the token's rate_limit claim) instead.
   */
  ANONYMOUS_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /**
   * Share of a key's per-minute limit a gateway takes from the shared
   * rate-limit store (NATS KV) at once and spends locally. Default 0.01 (1 %,
   * at least one token): with N gateways a client gets its limit within
   * ±N % (gateway/src/shared-rate-limit.ts). Larger: fewer store round trips,
   * a looser limit.
   */
  RATE_LIMIT_LEASE_FRACTION: z.coerce.number().gt(0).max(1).default(0.01),
  /**
   * Longest wait for the shared rate-limit store; past it (or on any failure)
   * the gateway falls back to per-instance limits, logs it once, and tries
   * the store again every 5 s. Default 500 ms.
   */
  RATE_LIMIT_STORE_TIMEOUT_MS: z.coerce.number().int().min(10).default(500),
  /**
   * GraphQL requests over HTTP answered at once by this gateway; beyond it a
   * request is refused at once with HTTP 503, Retry-After and
   * SERVICE_UNAVAILABLE (load shedding) instead of queueing until it times
   * out. Default 512: a queue that long already means seconds of waiting on
   * a 2-core machine. WebSocket subscriptions have their own limits.
   */
  MAX_IN_FLIGHT_REQUESTS: z.coerce.number().int().min(1).default(512),
  /**
   * Time for a client to send a request's headers; past it the connection is
   * answered 408 and closed (slowloris). Default 5 s: headers fit in one packet.
   */
  HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  /**
   * Time for a client to send a whole request, headers and body; past it the
   * connection is answered 408 and closed. A trickled body holds a socket and
   * a buffer, never an in-flight slot, and not past this. Default 10 s: the
   * 1 MB body limit at 100 kB/s. At least HEADERS_TIMEOUT_MS.
   */
  BODY_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /**
   * Open HTTP connections from one client address (IPv6: one /64), WebSockets
   * not counted (they have WS_MAX_CONNECTIONS_PER_ADDRESS); past it a new
   * connection is answered 429 with Retry-After and closed at once. Default
   * 128 when clients connect directly; 0 (no cap) when TRUST_PROXY is set,
   * since every connection then comes from the proxy: cap at the proxy.
   */
  MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(0).optional(),
  /**
   * Longest wait for one subgraph call; past it the call is abandoned (its
   * socket destroyed) and the fields it owns answer SERVICE_UNAVAILABLE.
   * Default 5 s: well under a client's usual 10–30 s, far over the p95 of
   * any call (tens of ms).
   */
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  /**
   * In-flight deduplication of subgraph fetches (gateway/src/subgraph-dedup.ts):
   * `on` (default) lets identical query fetches to one subgraph, for the same
   * viewer and scopes, wait for one call while it is in flight; `off` makes
   * every fetch its own call. Never mutations, never across viewers, no cache.
   */
  GATEWAY_DEDUP: z.enum(['on', 'off']).default('on'),
  /**
   * Port of the metrics listener (GET /metrics, Prometheus text), apart from
   * the public port, which does not serve /metrics. Default 9464; 0 picks a free one.
   */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /**
   * Address the metrics listener binds. Default 127.0.0.1: only this host
   * can scrape. In compose, 0.0.0.0 on the private network, never published.
   */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  // WebSocket subscriptions (gateway/src/subscriptions/server.ts explains each limit).
  /** Open WebSockets from one client address; past it a new socket is closed with 4029. Default 32. */
  WS_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(1).default(32),
  /** Concurrent subscriptions on one WebSocket. Default 50. */
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(1).default(50),
  /** Concurrent subscriptions of one viewer on this gateway instance. Default 200. */
  WS_MAX_SUBSCRIPTIONS_PER_VIEWER: z.coerce.number().int().min(1).default(200),
  /** Subscribe messages per minute from one client address (all its sockets), a token bucket. Default 120. */
  WS_SUBSCRIBE_RATE_PER_MINUTE: z.coerce.number().int().min(1).default(120),
  /** Most events a replay (`after:` cursor) may have to read; past it REPLAY_TOO_OLD. Default 10,000. */
  WS_REPLAY_MAX_EVENTS: z.coerce.number().int().min(1).default(10_000),
  /** Oldest point a replay may start from, in seconds ago; past it REPLAY_TOO_OLD. Default 86,400 (a day). */
  WS_REPLAY_MAX_AGE_SECONDS: z.coerce.number().int().min(1).default(86_400),
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
    .transform((v): boolean | number | string =>
      v === 'true' ? true : v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v,
    ),
  /**
   * Browser origins allowed to call the API from another origin (CORS, with
   * credentials), comma-separated. Default empty: no cross-origin access (gateway/src/cors.ts).
   */
  CORS_ORIGINS: corsOriginsEnv,
  /**
   * The built web app (Vite's output) served at `/`, with index.html for the
   * pages a browser navigates to. Default `<repo>/web/dist`. When the folder
   * holds no index.html, `/` serves nothing and the gateway is the API only.
   */
  WEB_DIST_DIR: z
    .string()
    .min(1)
    .default(fileURLToPath(new URL('../../web/dist', import.meta.url))),
  /**
   * First-party OAuth client ids (the verified token's client_id), comma-separated,
   * that in production may run only the web app's trusted documents, sent by id
   * (gateway/src/trusted-documents.ts). Default `storefront`: every customer token.
   * Empty: none. Outside production no client is held to them.
   */
  TRUSTED_DOCUMENT_CLIENTS: z
    .string()
    .default('storefront')
    .transform(
      (v) =>
        new Set(
          v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        ),
    ),
  /**
   * The manifests of trusted documents (codegen's persisted documents: "sha256:<hash>" →
   * document), comma-separated. Default the web app's, `<repo>/web/src/gql/persisted-documents.json`;
   * during a roll-out or roll back, add the other release's so pages loaded from either keep working.
   */
  TRUSTED_DOCUMENTS_MANIFESTS: z
    .string()
    .min(1)
    .default(fileURLToPath(new URL('../../web/src/gql/persisted-documents.json', import.meta.url)))
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  // Limits on one GraphQL operation (gateway/src/limits.ts explains each measure).
  /** Deepest nesting of fields. Default 12. */
  MAX_QUERY_DEPTH: z.coerce.number().int().min(1).default(DEFAULT_OPERATION_LIMITS.maxDepth),
  /** Largest estimated cost (fields times the list sizes around them). Default 10,000. */
  MAX_QUERY_COST: z.coerce.number().int().min(1).default(DEFAULT_OPERATION_LIMITS.maxCost),
  /** Aliased fields per operation. Default 30. */
  MAX_QUERY_ALIASES: z.coerce.number().int().min(0).default(DEFAULT_OPERATION_LIMITS.maxAliases),
  /** Directives per operation. Default 50. */
  MAX_QUERY_DIRECTIVES: z.coerce.number().int().min(0).default(DEFAULT_OPERATION_LIMITS.maxDirectives),
  /** Lexical tokens per document, enforced by the parser. Default 5,000. */
  MAX_QUERY_TOKENS: z.coerce.number().int().min(100).default(DEFAULT_OPERATION_LIMITS.maxTokens),
});

export type GatewayConfig = ReturnType<typeof loadConfig>;
/** Every variable the gateway reads (test/compose.test.ts checks docker-compose.yml against it). */
export const envSchema = schema;

export function loadConfig(env: NodeJS.ProcessEnv) {
  const c = parseEnv(schema, env);
  refuseWeakSecrets(c.NODE_ENV, { NATS_PASSWORD: c.NATS_PASSWORD });
  // Node refuses a headers timeout longer than the whole request's.
  if (c.HEADERS_TIMEOUT_MS > c.BODY_TIMEOUT_MS)
    throw new Error('Invalid configuration:\n  HEADERS_TIMEOUT_MS: must be at most BODY_TIMEOUT_MS');
  return {
    ...c,
    maxConnectionsPerAddress: c.MAX_CONNECTIONS_PER_ADDRESS ?? (c.TRUST_PROXY === false ? 128 : 0),
    internalAuthSecret: resolveInternalSecret(c.NODE_ENV, c.INTERNAL_AUTH_SECRET),
    subgraphUrls: { auth: c.AUTH_URL, products: c.PRODUCTS_URL, orders: c.ORDERS_URL, shipments: c.SHIPMENTS_URL },
    operationLimits: {
      ...DEFAULT_OPERATION_LIMITS,
      maxDepth: c.MAX_QUERY_DEPTH,
      maxCost: c.MAX_QUERY_COST,
      maxAliases: c.MAX_QUERY_ALIASES,
      maxDirectives: c.MAX_QUERY_DIRECTIVES,
      maxTokens: c.MAX_QUERY_TOKENS,
    } satisfies OperationLimits,
  };
}
