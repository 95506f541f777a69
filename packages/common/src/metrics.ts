import type { RequestHandler } from 'express';
import { defaultFieldResolver, type GraphQLSchema } from 'graphql';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type { Registry };
/** prom-client's metric types, for a service's own metrics (src/metrics.ts in each service). */
export { Counter, Gauge, Histogram };

/**
 * Every metric a process exposes on GET /metrics (docs/operations.md says
 * what each means). One registry per process — per service instance, so the
 * test system, which runs every service in one process, keeps them apart —
 * labelled with `service`, plus Node's default process metrics.
 */
export function createMetricsRegistry(
  service: string,
  { defaultMetrics = true }: { defaultMetrics?: boolean } = {},
): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (defaultMetrics) collectDefaultMetrics({ register: registry });
  return registry;
}

/** GET /metrics: the registry in Prometheus text format. */
export function metricsHandler(registry: Registry): RequestHandler {
  return (_req, res, next) => {
    registry.metrics().then((body) => {
      res.set('content-type', registry.contentType);
      res.send(body);
    }, next);
  };
}

/** Seconds; from a fast cached read to a slow saga call. */
/** Buckets of every latency histogram, in seconds. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface SamplerOptions {
  /** Longest a read may hold a scrape; a slower read keeps the last value. Default 1 s. */
  timeoutMs?: number;
  /** Scrapes closer together than this reuse the last value (a scrape flood is not a query flood). Default 1 s. */
  minIntervalMs?: number;
}

/**
 * A value read at scrape time (a count in the database, a stream's state),
 * cheap by construction: at most one read at a time, at most one per
 * `minIntervalMs`, and a read that fails or outlasts `timeoutMs` leaves the
 * last value in place instead of failing or stalling the scrape.
 */
export function createSampler<T>(
  read: () => Promise<T>,
  { timeoutMs = 1_000, minIntervalMs = 1_000 }: SamplerOptions = {},
) {
  let last: T | undefined;
  let readAt = 0;
  let pending: Promise<T | undefined> | null = null;
  return (): Promise<T | undefined> => {
    if (Date.now() - readAt < minIntervalMs) return Promise.resolve(last);
    pending ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('metric sample timed out')), timeoutMs);
        });
        last = await Promise.race([read(), timeout]);
        readAt = Date.now();
      } catch {
        // keep the last value; the next scrape tries again
      } finally {
        clearTimeout(timer);
        pending = null;
      }
      return last;
    })();
    return pending;
  };
}

/** The part of a Prisma client a scrape-time query needs. */
interface QueryClient {
  $transaction<R>(
    fn: (tx: {
      $executeRawUnsafe(sql: string): Promise<number>;
      $queryRawUnsafe<T>(sql: string): Promise<T>;
    }) => Promise<R>,
  ): Promise<R>;
}

/**
 * Runs one read-only statement for a metric with a server-side
 * statement_timeout, so a slow count is cancelled in PostgreSQL rather than
 * left holding a pooled connection after the scrape gave up on it.
 */
export function sampleQuery<T>(db: unknown, sql: string, timeoutMs = 1_000): Promise<T> {
  return (db as QueryClient).$transaction(async (tx) => {
    await tx.$executeRawUnsafe(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
    return tx.$queryRawUnsafe<T>(sql);
  });
}

// ---- subgraphs -----------------------------------------------------------

/**
 * Latency of root fields (Query, Mutation; `_entities` is how the gateway
 * fetches entities): their resolvers wrapped in the schema, so that no other
 * field pays anything. (An Apollo plugin with `willResolveField` makes Apollo
 * wrap every field of every request: about half the execution CPU of a
 * 30-field answer.) Call it on the finished schema, access rules included, so
 * that a refused call is timed too. Returns the schema.
 */
export function timeRootFields(schema: GraphQLSchema, registry: Registry): GraphQLSchema {
  const duration = new Histogram({
    name: 'graphql_resolver_duration_seconds',
    help: 'Time to resolve one root field (Query or Mutation) in this subgraph; outcome ok or error',
    labelNames: ['type', 'field', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  for (const type of [schema.getQueryType(), schema.getMutationType()]) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      const resolve = field.resolve ?? defaultFieldResolver;
      const labels = { type: type!.name, field: field.name };
      field.resolve = (source, args, context, info) => {
        const end = duration.startTimer(labels);
        try {
          const result = resolve(source, args, context, info);
          if (!(result instanceof Promise)) {
            end({ outcome: 'ok' });
            return result;
          }
          return result.then(
            (value) => (end({ outcome: 'ok' }), value),
            (err: unknown) => {
              end({ outcome: 'error' });
              throw err;
            },
          );
        } catch (err) {
          end({ outcome: 'error' });
          throw err;
        }
      };
    }
  }
  return schema;
}

/** Unpublished outbox rows and the age of the oldest: the relay's backlog. */
export function registerOutboxMetrics(
  registry: Registry,
  read: () => Promise<{ backlog: number; oldestAgeSeconds: number }>,
  options?: SamplerOptions,
) {
  const sample = createSampler(read, options);
  new Gauge({
    name: 'outbox_backlog',
    help: 'Outbox rows written but not yet published to JetStream',
    registers: [registry],
    async collect() {
      const s = await sample();
      if (s) this.set(s.backlog);
    },
  });
  new Gauge({
    name: 'outbox_oldest_unpublished_age_seconds',
    help: 'Age of the oldest unpublished outbox row (0 when none): a stuck relay grows it',
    registers: [registry],
    async collect() {
      const s = await sample();
      if (s) this.set(s.oldestAgeSeconds);
    },
  });
}

export interface ConsumerState {
  consumer: string;
  /** Messages in the stream not yet delivered to the consumer (num_pending). */
  pending: number;
  /** Delivered and not yet acknowledged (num_ack_pending). */
  ackPending: number;
  /** Delivered more than once and not yet acknowledged (num_redelivered). */
  redelivered: number;
}

/** Each durable consumer's state from JetStream consumer info, read at scrape time. */
export function registerConsumerMetrics(
  registry: Registry,
  read: () => Promise<ConsumerState[]>,
  options?: SamplerOptions,
) {
  const sample = createSampler(read, options);
  const gauge = (name: string, help: string, pick: (s: ConsumerState) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['consumer'] as const,
      registers: [registry],
      async collect() {
        const states = await sample();
        if (!states) return;
        this.reset();
        for (const s of states) this.set({ consumer: s.consumer }, pick(s));
      },
    });
  gauge(
    'jetstream_consumer_pending_messages',
    'Messages of the consumer’s subject not yet delivered to it (lag)',
    (s) => s.pending,
  );
  gauge(
    'jetstream_consumer_ack_pending_messages',
    'Messages delivered to the consumer and not yet acknowledged (in progress or awaiting retry)',
    (s) => s.ackPending,
  );
  gauge(
    'jetstream_consumer_redelivered_messages',
    'Messages delivered more than once and not yet acknowledged (failing handlers retrying)',
    (s) => s.redelivered,
  );
}

/** Messages in the dead-letter stream. */
export function registerDlqMetrics(registry: Registry, read: () => Promise<number>, options?: SamplerOptions) {
  const sample = createSampler(read, options);
  return new Gauge({
    name: 'dlq_messages',
    help: 'Messages in the dead-letter stream (DLQ), waiting to be inspected or replayed',
    registers: [registry],
    async collect() {
      const n = await sample();
      if (n !== undefined) this.set(n);
    },
  });
}
