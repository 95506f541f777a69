import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApolloServerPlugin } from '@apollo/server';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  TRACEPARENT_HEADER,
  createMetricsRegistry,
  traceparentForRequest,
  withTraceparent,
  type Logger,
} from '@orderflow/common/observability';
import { ErrorCode, isKnownErrorCode } from '@orderflow/contracts';
import { createGatewayMetrics, registerActiveSubscriptions, type GatewayMetrics } from './metrics.ts';

export interface GatewayObservabilityOptions {
  log: Logger;
  /**
   * Distinct operation names kept as label values; later names are counted
   * as `other`. Operation names come from clients, so without a cap anyone
   * could grow the metrics without bound. Default 200.
   */
  maxOperationNames?: number;
}

/**
 * The gateway's operator view: Prometheus metrics (registry, Apollo plugin,
 * GET /metrics on a listener of its own), the per-request trace context, and
 * one log line per GraphQL request.
 */
export function createGatewayObservability({ log, maxOperationNames = 200 }: GatewayObservabilityOptions) {
  const registry = createMetricsRegistry('gateway');
  const metrics = createGatewayMetrics(registry);
  const names = new Set<string>();

  const operationLabel = (name: string | null | undefined): string => {
    if (!name) return 'anonymous';
    if (names.has(name)) return name;
    if (names.size >= maxOperationNames || name.length > 100) return 'other';
    names.add(name);
    return name;
  };

  /**
   * Counts and times every GraphQL request that came over HTTP (the
   * subscription payloads the gateway runs for itself are not requests),
   * and logs it once, with its trace id, after the response is ready.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- used with every context type
  const plugin: ApolloServerPlugin<any> = {
    async requestDidStart({ request }) {
      if (!request.http) return;
      const started = process.hrtime.bigint();
      let operation = 'unknown';
      let type = 'unknown';
      return {
        async didResolveOperation({ operationName, operation: op }) {
          operation = operationLabel(operationName);
          type = op?.operation ?? 'unknown';
        },
        async willSendResponse({ errors }) {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const labels = { operation, type };
          metrics.requests.inc(labels);
          metrics.duration.observe(labels, seconds);
          const codes = (errors ?? []).map((e) => {
            const code = e.extensions?.code;
            return isKnownErrorCode(code) ? code : ErrorCode.INTERNAL_SERVER_ERROR;
          });
          for (const code of codes) metrics.errors.inc({ ...labels, code });
          log.info(
            { operation, type, durationMs: Math.round(seconds * 1000), ...(codes.length ? { errors: codes } : {}) },
            'graphql request',
          );
        },
      };
    },
  };

  /**
   * Runs the rest of the request in its trace: the caller's `traceparent`
   * when it sent a valid one (a child span of it), else a new trace.
   */
  const trace: RequestHandler = (req: Request, _res: Response, next: NextFunction) =>
    withTraceparent(traceparentForRequest(req.headers[TRACEPARENT_HEADER]), next);

  return {
    registry,
    metrics,
    plugin,
    trace,
    /**
     * Serves GET /metrics on `host:port`, apart from the public port: metrics
     * name operations, subgraphs and load, which are nobody else's business.
     * Default host 127.0.0.1 (METRICS_HOST): only this machine can scrape.
     */
    async listenMetrics({ host, port }: { host: string; port: number }) {
      const server = createServer((req, res) => {
        if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
          res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
          return;
        }
        registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
          (err: Error) => {
            log.error({ err }, 'metrics scrape failed');
            res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal_error"}');
          },
        );
      });
      server.requestTimeout = 10_000;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, resolve);
      });
      const actual = (server.address() as AddressInfo).port;
      return {
        url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}/metrics`,
        close: () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      };
    },
    /** Reports the subscriptions open on this instance at each scrape. */
    trackSubscriptions(active: () => number) {
      registerActiveSubscriptions(registry, active);
    },
  };
}

/** Times one subgraph fetch: ok, error (the subgraph answered with errors) or failure (no answer). */
export async function timeSubgraphFetch<T extends { errors?: readonly unknown[] }>(
  metrics: GatewayMetrics | undefined,
  subgraph: string,
  fetch: () => Promise<T>,
): Promise<T> {
  if (!metrics) return fetch();
  const end = metrics.subgraphDuration.startTimer({ subgraph });
  try {
    const response = await fetch();
    end({ outcome: response.errors?.length ? 'error' : 'ok' });
    return response;
  } catch (err) {
    end({ outcome: 'failure' });
    throw err;
  }
}
