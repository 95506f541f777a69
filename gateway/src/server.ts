import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type NextFunction, type Request, type Response } from 'express';
import { GraphQLError } from 'graphql';
import { connectBus, openRevocationBucket } from '@orderflow/common/messaging';
import { traceHeaders, type Logger } from '@orderflow/common/observability';
import type { GatewayMetrics } from './metrics.ts';
import {
  CLIENT_ADDRESS_HEADER,
  INTERNAL_TOKEN_HEADER,
  createInternalAuth,
  maskError,
  unauthenticated,
  type InternalAuth,
  type Viewer,
} from '@orderflow/common/server';
import { ErrorCode } from '@orderflow/contracts';
import { SUPERGRAPH_PATH, type SubgraphName } from './compose.ts';
import type { GatewayConfig } from './config.ts';
import { createCors } from './cors.ts';
import { createAdmissionControl } from './admission.ts';
import { createConnectionLimit } from './connection-limit.ts';
import { createIdentityResolver } from './identity.ts';
import { createLandingPage } from './landing-page.ts';
import { createGatewayObservability, timeSubgraphFetch } from './observability.ts';
import { operationLimitOptions } from './limits.ts';
import { oneCredentialFieldPlugin } from './credential-fields.ts';
import { GATEWAY_SERVICE, createOAuthProxy } from './oauth-proxy.ts';
import { createRateLimiter } from './rate-limit.ts';
import { createRequestGuard } from './request-guard.ts';
import { createTrustedDocuments, loadTrustedDocuments } from './trusted-documents.ts';
import { createSharedRateLimiter, openRateLimitBucket } from './shared-rate-limit.ts';
import { createRevocationList } from './revocation-list.ts';
import { createSubgraphDedup } from './subgraph-dedup.ts';
import { createSubgraphFetcher, type Fetcher } from './subgraph-http.ts';
import { supergraphForGateway } from './supergraph.ts';
import { InvalidTokenError, createTokenVerifier, type TokenVerifier } from './token-verifier.ts';
import { startSubscriptions } from './subscriptions/index.ts';
import { registerPayloadMetrics } from './subscriptions/metrics.ts';
import { createWebApp } from './web-app.ts';

/** connection_init params as lower-case header names (string values only). */
function paramsAsHeaders(params: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params ?? {})) if (typeof v === 'string') out[k.toLowerCase()] = v;
  return out;
}

export interface GatewayContext {
  viewer: Viewer | null;
  /** The client's address (req.ip), forwarded to subgraphs for their limits per address (the log-in throttle). */
  clientAddress?: string;
}

/**
 * A subgraph that could not be reached or dropped the connection (down,
 * restarting, crashed mid-request): SERVICE_UNAVAILABLE for the fields it
 * owns, which a client may retry (every mutation is safe to retry: idempotency
 * keys, cancels and status moves answer the state reached). Its message names
 * neither the subgraph's address nor the socket error; the log has both.
 */
export class SubgraphUnavailableError extends GraphQLError {
  constructor(
    readonly subgraph: string,
    cause: Error,
  ) {
    super('Part of the service is temporarily unavailable; please retry', {
      extensions: { code: ErrorCode.SERVICE_UNAVAILABLE },
      originalError: cause,
    });
  }
}

/**
 * Subgraph calls go through `createSubgraphFetcher` (node:http, keep-alive,
 * never retried; see subgraph-http.ts), not @apollo/gateway's default
 * make-fetch-happen nor Node's fetch: both cost the gateway a large share of
 * its CPU per call (docs/bench/FINDINGS.md). A network error becomes a
 * `SubgraphUnavailableError`.
 */
function subgraphFetcher(subgraph: string, http: Fetcher): RemoteGraphQLDataSource['fetcher'] {
  return async (url, init) => {
    try {
      return await http(url, init);
    } catch (err) {
      throw new SubgraphUnavailableError(subgraph, err as Error);
    }
  };
}

/** Forwards each subgraph call with an internal token carrying the caller's identity, and the request's trace. */
class InternalDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    url: string,
    private readonly internalAuth: InternalAuth,
    http: Fetcher,
    private readonly subgraph = 'unknown',
    private readonly metrics?: GatewayMetrics,
  ) {
    super({ url, fetcher: subgraphFetcher(subgraph, http) });
  }
  override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>) {
    const viewer = 'viewer' in context ? (context.viewer ?? null) : null;
    request.http?.headers.set(INTERNAL_TOKEN_HEADER, await this.internalAuth.sign(viewer));
    if ('clientAddress' in context && context.clientAddress)
      request.http?.headers.set(CLIENT_ADDRESS_HEADER, context.clientAddress);
    for (const [name, value] of Object.entries(traceHeaders())) request.http?.headers.set(name, value);
  }
  /**
   * A subgraph answering with an HTTP error (401/403: the internal secrets
   * differ; 5xx) is a fault of the system, not of the caller: a plain error,
   * masked as INTERNAL_SERVER_ERROR and logged with the status. Apollo's
   * default would hand the client UNAUTHENTICATED/FORBIDDEN with the
   * subgraph's URL and response body in `extensions.response`.
   */
  override async errorFromResponse(response: Parameters<RemoteGraphQLDataSource['errorFromResponse']>[0]) {
    return new GraphQLError(`the ${this.subgraph} subgraph answered HTTP ${response.status} ${response.statusText}`);
  }
  override process(options: GraphQLDataSourceProcessOptions<GatewayContext>) {
    return timeSubgraphFetch(this.metrics, this.subgraph, () => super.process(options));
  }
}

export async function startGateway(
  config: GatewayConfig,
  { log, supergraphSdl }: { log: Logger; supergraphSdl?: string },
) {
  const production = config.NODE_ENV === 'production';
  const internalAuth = createInternalAuth({ secret: config.internalAuthSecret, issuer: 'gateway' });

  // Revoked tokens: the NATS KV bucket the auth service writes, held in memory and watched.
  const bus = await connectBus({
    url: config.NATS_URL,
    user: config.NATS_USER,
    password: config.NATS_PASSWORD,
    prefix: config.NATS_PREFIX,
    name: 'gateway',
    log,
    replicas: config.NATS_REPLICAS,
    streams: [],
  });
  const kv = await openRevocationBucket(bus, {
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    replicas: config.NATS_REPLICAS,
    log,
  });
  // eslint-disable-next-line prefer-const -- assigned once the revocation list exists, read by callbacks made before
  let verifier!: TokenVerifier;
  // Sockets of a revoked token are closed (4401) as soon as the revocation arrives.
  let onTokenRevoked: (jti: string) => void = () => {};
  const revocations = await createRevocationList({
    kv,
    log,
    onRevoked: (jti) => onTokenRevoked(jti),
    onKeysRotated: () =>
      void verifier.reloadKeys().catch((err: Error) => log.warn({ err: err.message }, 'JWKS reload failed')),
  });
  verifier = createTokenVerifier({
    jwksUrl: `${config.AUTH_URL}/internal/oauth/jwks`,
    jwksHeaders: async () => ({ [INTERNAL_TOKEN_HEADER]: await internalAuth.sign(GATEWAY_SERVICE) }),
    issuer: config.OAUTH_ISSUER.replace(/\/+$/, ''),
    audience: config.OAUTH_AUDIENCE,
    isRevoked: revocations.isRevoked,
    cooldownMs: config.JWKS_COOLDOWN_MS,
  });
  const resolveIdentity = createIdentityResolver({ verifier });
  /** The viewer of a request's headers: null when anonymous; UNAUTHENTICATED for a bad credential. */
  const resolveViewer = async (headers: Record<string, string | undefined>): Promise<Viewer | null> => {
    try {
      return (await resolveIdentity(headers))?.viewer ?? null;
    } catch (err) {
      throw err instanceof InvalidTokenError ? unauthenticated(err.message) : err;
    }
  };
  // Per-instance buckets: for WebSocket upgrades, and for HTTP while the shared store is unreachable.
  const localLimiter = createRateLimiter();
  // HTTP requests (GraphQL, /oauth) draw on buckets every gateway shares, in NATS KV (shared-rate-limit.ts).
  const limiter = createSharedRateLimiter({
    openBucket: () =>
      openRateLimitBucket(bus, { replicas: config.NATS_REPLICAS, timeoutMs: config.RATE_LIMIT_STORE_TIMEOUT_MS }),
    fallback: localLimiter,
    leaseFraction: config.RATE_LIMIT_LEASE_FRACTION,
    log,
  });
  // Metrics (GET /metrics), the trace of each request, a log line per GraphQL request.
  const observability = createGatewayObservability({ log });

  const subgraphHttp = createSubgraphFetcher({ timeoutMs: config.SUBGRAPH_TIMEOUT_MS });
  // Identical query fetches in flight (same subgraph, document, variables, viewer) share one call (subgraph-dedup.ts).
  const dedup = createSubgraphDedup({
    enabled: config.GATEWAY_DEDUP === 'on',
    onShared: (subgraph) => observability.metrics.sharedFetches.inc({ subgraph }),
  });
  const gateway = new ApolloGateway({
    supergraphSdl: supergraphForGateway(supergraphSdl ?? readFileSync(SUPERGRAPH_PATH, 'utf8')),
    buildService: ({ name }) =>
      new InternalDataSource(
        `${config.subgraphUrls[name as SubgraphName]}/graphql`,
        internalAuth,
        dedup.wrap(name, subgraphHttp),
        name,
        observability.metrics,
      ),
  });

  const app = express();
  app.disable('x-powered-by');
  // Which address is the client's, for the per-IP rate limit.
  app.set('trust proxy', config.TRUST_PROXY);
  // Cross-origin browsers (CORS_ORIGINS), answered before any route: preflights never reach the API.
  const corsHandler = createCors(config.CORS_ORIGINS);
  if (corsHandler) app.use(corsHandler);
  // Deadlines to receive a request (slow headers or bodies get 408), and a cap on one address's connections.
  const connections = createConnectionLimit({
    maxPerAddress: config.maxConnectionsPerAddress,
    onRefused: () => observability.metrics.rateLimited.inc({ limit: 'connections' }),
  });
  const httpServer = createServer(
    {
      headersTimeout: config.HEADERS_TIMEOUT_MS,
      requestTimeout: config.BODY_TIMEOUT_MS,
      // How often Node checks those deadlines (default 30 s, which would triple a 10 s deadline).
      connectionsCheckingInterval: 1_000,
    },
    (req, res) => {
      if (!connections.isRefused(req)) app(req, res);
    },
  );
  connections.attach(httpServer);
  // Depth, cost, aliases, directives, tokens; no batches; CSRF prevention (limits.ts).
  const limits = operationLimitOptions<GatewayContext>(config.operationLimits);
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: !production,
    // No "Did you mean …?" field suggestions where introspection is off.
    hideSchemaDetailsFromClientErrors: production,
    parseOptions: limits.parseOptions,
    validationRules: limits.validationRules,
    allowBatchedHttpRequests: limits.allowBatchedHttpRequests,
    csrfPrevention: limits.csrfPrevention,
    includeStacktraceInErrorResponses: false,
    // runService owns shutdown; Apollo's own signal handler would race it.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      limits.plugin,
      oneCredentialFieldPlugin,
      observability.plugin,
      // Development: Apollo Sandbox (subscriptions on ws://<host>/graphql); production: the production page.
      createLandingPage({ production, log }),
    ],
    formatError(formatted, error) {
      const unreachable =
        error instanceof SubgraphUnavailableError ? error : (error as GraphQLError | undefined)?.originalError;
      if (unreachable instanceof SubgraphUnavailableError)
        log.warn({ subgraph: unreachable.subgraph, err: unreachable.originalError?.message }, 'subgraph unavailable');
      const { masked, error: out } = maskError(formatted);
      if (masked)
        log.error({ err: error instanceof GraphQLError ? (error.originalError ?? error) : error }, 'unexpected error');
      if (out.extensions) delete (out.extensions as Record<string, unknown>).serviceName;
      return out;
    },
  });
  await apollo.start();

  app.get('/health/live', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/health/ready', async (_req, res) => {
    const checks = await Promise.all(
      Object.entries(config.subgraphUrls).map(async ([name, url]) => {
        const ok = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2_000) }).then(
          (r) => r.ok,
          () => false,
        );
        return [name, ok ? 'ok' : 'unavailable'] as const;
      }),
    );
    // Without NATS, revocations would go unseen: not ready.
    const nats = bus.nc.isClosed() ? 'unavailable' : 'ok';
    const ok = checks.every(([, s]) => s === 'ok') && nats === 'ok';
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', subgraphs: Object.fromEntries(checks), nats });
  });
  app.use(observability.trace);

  // /oauth/token, /oauth/revoke and /.well-known/*, answered by the auth service.
  app.use(
    createOAuthProxy({
      authUrl: config.AUTH_URL,
      internalAuth,
      limiter,
      perIpPerMinute: config.ANONYMOUS_RATE_LIMIT_PER_MINUTE,
      maxBodyBytes: config.OAUTH_MAX_BODY_BYTES,
      log,
    }),
  );

  const admission = createAdmissionControl({
    maxInFlight: config.MAX_IN_FLIGHT_REQUESTS,
    onShed: () => observability.metrics.shed.inc(),
  });
  app.use(
    '/graphql',
    // Refuse when full, then identity and rate limit, all before the body is read; an in-flight slot only once it is.
    admission.whenFull,
    createRequestGuard({
      resolveIdentity,
      limiter,
      anonymousPerMinute: config.ANONYMOUS_RATE_LIMIT_PER_MINUTE,
      log,
      onLimited: (limit) => observability.metrics.rateLimited.inc({ limit }),
    }),
    express.json({ limit: config.MAX_BODY_BYTES }),
    // The web app's operations by id; in production its first-party clients may send nothing else.
    createTrustedDocuments({
      documents: loadTrustedDocuments(config.TRUSTED_DOCUMENTS_MANIFESTS),
      enforcedClients: config.TRUSTED_DOCUMENT_CLIENTS,
      enforce: production,
    }),
    admission.admit,
    expressMiddleware(apollo, {
      context: async ({ req }) => ({ viewer: req.viewer ?? null, clientAddress: req.ip }),
    }),
  );
  // The web app at `/` when it is built (web/dist); after the API routes, which it never shadows.
  const webApp = createWebApp({ distDir: config.WEB_DIST_DIR });
  if (webApp) app.use(webApp);
  log.info(
    { webDistDir: config.WEB_DIST_DIR },
    webApp ? 'serving the web app at /' : 'no web app to serve (no index.html there)',
  );
  app.use((_req: Request, res: Response) => void res.status(404).json({ error: 'not_found' }));
  app.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    const status = err.status && err.status < 500 ? err.status : 500;
    if (status === 500) log.error({ err }, 'request failed');
    const message =
      err.type === 'entity.too.large'
        ? 'Request body too large'
        : status === 400
          ? 'Malformed request body'
          : 'Internal server error';
    res
      .status(status)
      .json({ errors: [{ message, extensions: { code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST' } }] });
  });

  const subscriptions = await startSubscriptions({
    httpServer,
    apollo,
    gateway,
    bus,
    parseOptions: limits.parseOptions,
    validationRules: limits.validationRules,
    checkOperation: limits.checkOperation,
    log,
    // WebSockets: per-address sockets and subscribe rate, per-socket and per-viewer subscriptions, replay bounds.
    limits: {
      perAddress: config.WS_MAX_CONNECTIONS_PER_ADDRESS,
      subscribesPerMinute: config.WS_SUBSCRIBE_RATE_PER_MINUTE,
      perConnection: config.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION,
      perViewer: config.WS_MAX_SUBSCRIPTIONS_PER_VIEWER,
      replay: { maxEvents: config.WS_REPLAY_MAX_EVENTS, maxAgeMs: config.WS_REPLAY_MAX_AGE_SECONDS * 1000 },
    },
    // Express's req.ip for the upgrade request: TRUST_PROXY applies as for HTTP.
    clientAddress: (req) => (Object.setPrototypeOf(req, app.request) as Request).ip ?? 'unknown',
    // An upgrade is a request without a token yet: it draws on the per-address bucket.
    upgradeLimit: { limiter: localLimiter, perMinute: config.ANONYMOUS_RATE_LIMIT_PER_MINUTE },
    // connection_init params play the part of request headers (e.g. { authorization: 'Bearer …' }).
    authenticate: async (params) => {
      const viewer = await resolveViewer(paramsAsHeaders(params));
      return { viewer, ...(viewer?.tokenExpiresAt ? { expiresAt: viewer.tokenExpiresAt * 1000 } : {}) };
    },
  });
  onTokenRevoked = (jti) => subscriptions.server.closeToken(jti);

  observability.trackSubscriptions(() => subscriptions.server.active);
  registerPayloadMetrics(observability.registry, () => subscriptions.server.payloadsComputed);

  // GET /metrics on its own listener (METRICS_HOST:METRICS_PORT), never on the public port.
  const metricsListener = await observability.listenMetrics({ host: config.METRICS_HOST, port: config.METRICS_PORT });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.PORT, config.HOST, resolve);
  });
  const port = (httpServer.address() as AddressInfo).port;
  log.info({ port, metrics: metricsListener.url }, 'gateway listening');
  return {
    url: `http://${config.HOST}:${port}`,
    port,
    /** Where GET /metrics is served (not on `url`). */
    metricsUrl: metricsListener.url,
    subscriptions: subscriptions.server,
    async stop() {
      await subscriptions.stop();
      await apollo.stop();
      await revocations.stop();
      limiter.close();
      await bus.close();
      subgraphHttp.close();
      await metricsListener.close();
    },
  };
}
