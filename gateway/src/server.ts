import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageLocalDefault, ApolloServerPluginLandingPageProductionDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type NextFunction, type Request, type Response } from 'express';
import { GraphQLError } from 'graphql';
import { INTERNAL_TOKEN_HEADER, createInternalAuth, maskError, type InternalAuth, type Logger, type Viewer } from '@orderflow/common';
import { SUPERGRAPH_PATH, type SubgraphName } from './compose.ts';
import type { GatewayConfig } from './config.ts';
import { createIdentityResolver } from './identity.ts';

export interface GatewayContext {
  viewer: Viewer | null;
}

/** Forwards each subgraph call with an internal token carrying the caller's identity. */
class InternalDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(url: string, private readonly internalAuth: InternalAuth) {
    super({ url });
  }
  override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>) {
    const viewer = 'viewer' in context ? (context.viewer ?? null) : null;
    request.http?.headers.set(INTERNAL_TOKEN_HEADER, await this.internalAuth.sign(viewer));
  }
}

export async function startGateway(config: GatewayConfig, { log, supergraphSdl }: { log: Logger; supergraphSdl?: string }) {
  const production = config.NODE_ENV === 'production';
  const internalAuth = createInternalAuth({ secret: config.internalAuthSecret, issuer: 'gateway' });
  const resolveViewer = createIdentityResolver({ allowDevHeaders: !production });
  const gateway = new ApolloGateway({
    supergraphSdl: supergraphSdl ?? readFileSync(SUPERGRAPH_PATH, 'utf8'),
    buildService: ({ name }) => new InternalDataSource(`${config.subgraphUrls[name as SubgraphName]}/graphql`, internalAuth),
  });

  const app = express();
  app.disable('x-powered-by');
  const httpServer = createServer(app);
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: !production,
    includeStacktraceInErrorResponses: false,
    // runService owns shutdown; Apollo's own signal handler would race it.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      production ? ApolloServerPluginLandingPageProductionDefault({ footer: false }) : ApolloServerPluginLandingPageLocalDefault({ footer: false, embed: true }),
    ],
    formatError(formatted, error) {
      const { masked, error: out } = maskError(formatted);
      if (masked) log.error({ err: error instanceof GraphQLError ? (error.originalError ?? error) : error }, 'unexpected error');
      if (out.extensions) delete (out.extensions as Record<string, unknown>).serviceName;
      return out;
    },
  });
  await apollo.start();

  app.get('/health/live', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/health/ready', async (_req, res) => {
    const checks = await Promise.all(
      Object.entries(config.subgraphUrls).map(async ([name, url]) => {
        const ok = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
        return [name, ok ? 'ok' : 'unavailable'] as const;
      }),
    );
    const ok = checks.every(([, s]) => s === 'ok');
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', subgraphs: Object.fromEntries(checks) });
  });

  app.use(
    '/graphql',
    express.json({ limit: config.MAX_BODY_BYTES }),
    expressMiddleware(apollo, {
      context: async ({ req }) => ({ viewer: resolveViewer(req.headers) }),
    }),
  );
  app.use((_req: Request, res: Response) => void res.status(404).json({ error: 'not_found' }));
  app.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    const status = err.status && err.status < 500 ? err.status : 500;
    if (status === 500) log.error({ err }, 'request failed');
    const message = err.type === 'entity.too.large' ? 'Request body too large' : status === 400 ? 'Malformed request body' : 'Internal server error';
    res.status(status).json({ errors: [{ message, extensions: { code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST' } }] });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.PORT, config.HOST, resolve);
  });
  const port = (httpServer.address() as AddressInfo).port;
  log.info({ port }, 'gateway listening');
  return {
    url: `http://${config.HOST}:${port}`,
    port,
    async stop() {
      await apollo.stop();
    },
  };
}
