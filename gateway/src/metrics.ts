import { Counter, Gauge, Histogram, LATENCY_BUCKETS, type Registry } from '@orderflow/common/observability';

/** The gateway's own metrics (docs/operations.md says what each means). */
export function createGatewayMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'graphql_requests_total',
      help: 'GraphQL operations served over HTTP, by operation name and type',
      labelNames: ['operation', 'type'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'graphql_request_duration_seconds',
      help: 'Time from receiving a GraphQL operation to sending its response',
      labelNames: ['operation', 'type'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    errors: new Counter({
      name: 'graphql_request_errors_total',
      help: 'Errors in GraphQL responses, by operation and error code',
      labelNames: ['operation', 'type', 'code'] as const,
      registers: [registry],
    }),
    subgraphDuration: new Histogram({
      name: 'gateway_subgraph_request_duration_seconds',
      help: 'Time of one fetch from the gateway to a subgraph; outcome ok, error (GraphQL errors) or failure (no answer)',
      labelNames: ['subgraph', 'outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    sharedFetches: new Counter({
      name: 'gateway_subgraph_fetches_shared_total',
      help: 'Subgraph fetches answered by an identical call already in flight (GATEWAY_DEDUP), by subgraph',
      labelNames: ['subgraph'] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'gateway_rate_limited_requests_total',
      help: 'GraphQL requests refused with RATE_LIMITED; limit is client (token holders) or ip (everyone else)',
      labelNames: ['limit'] as const,
      registers: [registry],
    }),
    shed: new Counter({
      name: 'gateway_shed_requests_total',
      help: 'GraphQL requests refused with HTTP 503 because MAX_IN_FLIGHT_REQUESTS were already being answered',
      registers: [registry],
    }),
  };
}
export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;

/** Subscriptions open on this gateway instance, read at scrape time. */
export function registerActiveSubscriptions(registry: Registry, active: () => number) {
  return new Gauge({
    name: 'gateway_active_subscriptions',
    help: 'GraphQL subscriptions open on this gateway instance',
    registers: [registry],
    collect() {
      this.set(active());
    },
  });
}
