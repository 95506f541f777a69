import { Counter, type Registry } from '@orderflow/common/observability';

/** Payloads the subscription server computed, by how: from the event alone, or with a fetch as one viewer. */
export interface PayloadCounts {
  event: number;
  fetch: number;
}

/**
 * `gateway_subscription_payloads_computed_total{source}`: payloads computed
 * for subscribers (each shared by every subscription of the same selection,
 * and for `fetch` the same viewer, that wanted it). Against
 * `graphql_ws` deliveries it says how much sharing saves; `fetch` against
 * the subgraph fetches says what subscriptions cost the subgraphs.
 */
export function registerPayloadMetrics(registry: Registry, counts: () => PayloadCounts) {
  return new Counter({
    name: 'gateway_subscription_payloads_computed_total',
    help: 'Subscription payloads computed: source event (from the event alone, no subgraph asked) or fetch (fields the event lacks fetched as the viewer)',
    labelNames: ['source'] as const,
    registers: [registry],
    collect() {
      const now = counts();
      this.reset();
      this.inc({ source: 'event' }, now.event);
      this.inc({ source: 'fetch' }, now.fetch);
    },
  });
}
