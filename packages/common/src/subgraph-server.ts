import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
} from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { DocumentNode } from 'graphql';
import { enforceAccessRules, readAccessRules } from './authorization.ts';
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable, maskError } from './errors.ts';
import { CLIENT_ADDRESS_HEADER, INTERNAL_TOKEN_HEADER, InternalAuthError, type InternalAuth } from './internal-auth.ts';
import { httpRequest, keepAliveAgent } from './http-request.ts';
import type { Logger } from './logger.ts';
import { metricsHandler, timeRootFields, type Registry } from './metrics.ts';
import { TRACEPARENT_HEADER, traceHeaders, traceparentForRequest, withTraceparent } from './trace-context.ts';
import type { Viewer } from './viewer.ts';

export interface SubgraphServerOptions<Ctx extends object> {
  name: string;
  typeDefs: DocumentNode;
  resolvers: GraphQLResolverMap<Ctx>;
  internalAuth: InternalAuth;
  log: Logger;
  /** Per-request context: the verified viewer (and where the request came from) in, loaders and services out. */
  context: (viewer: Viewer | null, request: RequestInfo) => Ctx;
  /** Readiness: resolves true when the service's dependencies answer. */
  ready: () => Promise<boolean>;
  /** Service-to-service routes, mounted under /internal behind `requireService`. */
  internalRoutes?: (router: express.Router) => void;
  /** Served on GET /metrics, with root-field latency added. Default: no /metrics. */
  metrics?: Registry;
}

/** What a subgraph knows of a request besides its viewer. */
export interface RequestInfo {
  /** The end client's address, from the gateway (CLIENT_ADDRESS_HEADER); null when a sibling service calls. */
  clientAddress: string | null;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

declare module 'express-serve-static-core' {
  interface Request {
    viewer?: Viewer | null;
  }
}

/**
 * The HTTP server every subgraph runs: GraphQL on /graphql, health on
 * /health/live and /health/ready, internal routes on /internal. Everything
 * but health requires an internal token (the gateway's or a sibling's).
 */
export async function startSubgraphServer<Ctx extends object>(
  opts: SubgraphServerOptions<Ctx>,
  { host, port }: { host: string; port: number },
): Promise<RunningServer> {
  const { log, internalAuth } = opts;
  // The SDL's @authenticated / @requiresScopes are checked before any resolver runs.
  const schema = enforceAccessRules(
    buildSubgraphSchema({ typeDefs: opts.typeDefs, resolvers: opts.resolvers as GraphQLResolverMap<unknown> }),
    readAccessRules(opts.typeDefs),
  );
  const apollo = new ApolloServer<Ctx>({
    schema: opts.metrics ? timeRootFields(schema, opts.metrics) : schema,
    includeStacktraceInErrorResponses: false,
    // runService owns shutdown; Apollo's own signal handler would race it.
    stopOnTerminationSignals: false,
    // No Apollo Studio here: inline traces would only cost time on every request. No @cacheControl in our
    // schemas: Apollo's cache-control plugin would still compute a policy for every field of every answer (and
    // by hooking willResolveField, make Apollo wrap every field), for answers that are never cacheable.
    plugins: [ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginCacheControlDisabled()],
    // Only the gateway calls us, with JSON POSTs behind a token.
    csrfPrevention: false,
    formatError(formatted, error) {
      // What the resolver threw (a GraphQLError from execution wraps it as originalError).
      const original = (error as { originalError?: unknown })?.originalError ?? error;
      const { masked, error: out } = maskError(formatted, original);
      if (masked === 'unexpected') log.error({ err: original }, 'unexpected error');
      if (masked === 'unavailable')
        log.warn(
          { err: (original as Error).message, path: formatted.path },
          'database unavailable; answered SERVICE_UNAVAILABLE',
        );
      return out;
    },
  });
  await apollo.start();

  const app: Express = express();
  app.disable('x-powered-by');
  app.get('/health/live', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/health/ready', async (_req, res) => {
    const ok = await opts.ready().catch(() => false);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable' });
  });
  if (opts.metrics) app.get('/metrics', metricsHandler(opts.metrics));
  // Everything after this runs in the caller's trace (the gateway's or a sibling's traceparent).
  app.use((req: Request, _res: Response, next: NextFunction) =>
    withTraceparent(traceparentForRequest(req.headers[TRACEPARENT_HEADER]), next),
  );

  const authenticate = async (req: Request, res: Response, next: NextFunction) => {
    try {
      req.viewer = await internalAuth.verify(req.header(INTERNAL_TOKEN_HEADER));
      next();
    } catch (err) {
      if (!(err instanceof InternalAuthError)) return next(err);
      res.status(401).json({ errors: [{ message: 'Unauthorized', extensions: { code: 'UNAUTHENTICATED' } }] });
    }
  };

  app.use(
    '/graphql',
    authenticate,
    express.json({ limit: '1mb' }),
    expressMiddleware(apollo, {
      context: async ({ req }) =>
        opts.context(req.viewer ?? null, { clientAddress: req.header(CLIENT_ADDRESS_HEADER) || null }),
    }),
  );

  if (opts.internalRoutes) {
    const router = express.Router();
    opts.internalRoutes(router);
    app.use('/internal', authenticate, requireService, express.json({ limit: '256kb' }), router);
  }

  app.use((_req: Request, res: Response) => void res.status(404).json({ error: 'not_found' }));
  app.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (err.status && err.status < 500) {
      res.status(err.status).json({ error: err.type ?? 'bad_request' });
      return;
    }
    // The service's database down or restarting: 503, retry later (an OAuth client reads `temporarily_unavailable`).
    if (isDatabaseUnavailable(err)) {
      log.warn({ err: err.message }, 'request failed: database unavailable');
      res
        .set('Retry-After', '5')
        .status(503)
        .json({ error: 'temporarily_unavailable', error_description: DATABASE_UNAVAILABLE_MESSAGE });
      return;
    }
    log.error({ err }, 'request failed');
    res.status(500).json({ error: 'internal_error' });
  });

  // Only the gateway and siblings call us, each request in one write: a request still arriving after
  // these deadlines is a fault (or someone inside the network), answered 408 instead of holding a socket.
  const server: Server = createServer(
    { headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 5_000 },
    app,
  );
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const actual = (server.address() as AddressInfo).port;
  log.info({ port: actual }, `${opts.name} subgraph listening`);
  return {
    url: `http://${host}:${actual}`,
    port: actual,
    async close() {
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
    },
  };
}

function requireService(req: Request, res: Response, next: NextFunction) {
  if (req.viewer?.kind !== 'service') {
    res.status(403).json({ error: 'forbidden' });
    return;
  }
  next();
}

/**
 * Calls a sibling's /internal route with this service's own credential: a
 * JSON POST on a keep-alive agent (`httpRequest`), given up after
 * `timeoutMs`. Nothing is retried here; callers decide (the reservation is
 * idempotent, its client retries).
 */
export function createInternalClient({
  baseUrl,
  internalAuth,
  service,
  scopes,
  timeoutMs = 2_000,
}: {
  baseUrl: string;
  internalAuth: InternalAuth;
  service: string;
  scopes: string[];
  timeoutMs?: number;
}) {
  const self: Viewer = { id: `service:${service}`, clientId: service, kind: 'service', scopes: new Set(scopes) };
  const agent = keepAliveAgent();
  return {
    async post<T>(path: string, body: unknown): Promise<{ status: number; body: T }> {
      const payload = JSON.stringify(body);
      const headers = {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(payload)),
        [INTERNAL_TOKEN_HEADER]: await internalAuth.sign(self),
        ...traceHeaders(),
      };
      const answer = await httpRequest(`${baseUrl}/internal${path}`, {
        method: 'POST',
        headers,
        body: payload,
        agent,
        timeoutMs,
      });
      let json: T;
      try {
        json = JSON.parse(answer.body) as T;
      } catch {
        json = null as T;
      }
      return { status: answer.status, body: json };
    },
    /** Closes kept-alive connections (at shutdown). */
    close: () => agent.destroy(),
  };
}
