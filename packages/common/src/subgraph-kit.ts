import pLimit from 'p-limit';
import { z } from 'zod';
import type express from 'express';
import type { DocumentNode } from 'graphql';
import { baseEnvSchema, parseEnv, resolveInternalSecret } from './config.ts';
import { refuseWeakSecrets } from './secrets.ts';
import { DEFAULT_CONSUMER_BATCH_SIZE, createEventConsumer, type EventConsumer, type EventHandler } from './consumer.ts';
import { createInternalAuth, type InternalAuth } from './internal-auth.ts';
import type { Logger } from './logger.ts';
import {
  createMetricsRegistry,
  registerConsumerMetrics,
  registerDlqMetrics,
  registerOutboxMetrics,
  sampleQuery,
  type Registry,
} from './metrics.ts';
import { applyMigrations } from './migrate.ts';
import { connectBus, type Bus } from './nats.ts';
import { createOutboxRelay, type OutboxRelay } from './outbox.ts';
import { startSubgraphServer, type RequestInfo } from './subgraph-server.ts';
import type { Viewer } from './viewer.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a service registers handlers of every event and context type
type AnyEventHandler = EventHandler<any, any>;

/** The settings of every subgraph: base settings plus its port and database. */
export function subgraphEnvSchema(name: string, defaultPort: number) {
  return baseEnvSchema.extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(defaultPort),
    DATABASE_URL: z.string().url().default(`postgresql://postgres@127.0.0.1:5432/orderflow_${name}`),
    /** Connections in this process's pool. Default 10. */
    DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
    /** Saga events a consumer handles in one transaction at most. Default 32 (DEFAULT_CONSUMER_BATCH_SIZE). */
    CONSUMER_BATCH_SIZE: z.coerce.number().int().min(1).max(500).default(DEFAULT_CONSUMER_BATCH_SIZE),
  });
}

export function loadSubgraphConfig<S extends z.ZodType<z.infer<ReturnType<typeof subgraphEnvSchema>>>>(
  schema: S,
  env: NodeJS.ProcessEnv,
) {
  const c = parseEnv(schema, env) as z.infer<S>;
  refuseWeakSecrets(c.NODE_ENV, { NATS_PASSWORD: c.NATS_PASSWORD });
  return { ...c, internalAuthSecret: resolveInternalSecret(c.NODE_ENV, c.INTERNAL_AUTH_SECRET) };
}
export type SubgraphConfig = ReturnType<typeof loadSubgraphConfig<ReturnType<typeof subgraphEnvSchema>>>;

export interface Worker {
  name?: string;
  /** Prepares before the server takes traffic (e.g. declares a consumer). */
  init?(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

interface Database {
  $queryRawUnsafe(sql: string): Promise<unknown>;
  $disconnect(): Promise<void>;
}

export interface SubgraphParts<Ctx> {
  typeDefs: DocumentNode;
  resolvers: unknown;
  context: (viewer: Viewer | null, request: RequestInfo) => Ctx;
  internalRoutes?: (router: express.Router) => void;
  workers?: Worker[];
}

/**
 * Boots a subgraph the same way every time: migrations → database → NATS and
 * the outbox relay (when the service publishes events) → HTTP server →
 * background workers. `stop()` undoes it in reverse order.
 */
export async function startSubgraph<D extends Database, Ctx extends object>({
  name,
  config,
  log,
  migrationsDir,
  db,
  publishesEvents,
  usesNats = false,
  setup,
}: {
  name: string;
  config: SubgraphConfig;
  log: Logger;
  migrationsDir: string;
  db: () => D;
  publishesEvents: boolean;
  /** Connects to NATS without the saga's streams or an outbox relay (the auth service's KV). Default false. */
  usesNats?: boolean;
  setup: (deps: {
    db: D;
    bus: Bus | null;
    relay: OutboxRelay | null;
    internalAuth: InternalAuth;
    /** A durable consumer of this service for one saga handler. */
    consumer: (handler: AnyEventHandler, options?: { maxDeliver?: number; concurrency?: number }) => EventConsumer;
    /** This service's metrics registry (GET /metrics), for the service's own metrics. */
    metrics: Registry;
  }) => SubgraphParts<Ctx> | Promise<SubgraphParts<Ctx>>;
}) {
  await applyMigrations({ databaseUrl: config.DATABASE_URL, migrationsDir, log });
  const database = db();
  const bus =
    publishesEvents || usesNats
      ? await connectBus({
          url: config.NATS_URL,
          user: config.NATS_USER,
          password: config.NATS_PASSWORD,
          prefix: config.NATS_PREFIX,
          name,
          log,
          replicas: config.NATS_REPLICAS,
          ...(publishesEvents ? {} : { streams: [] }),
        })
      : null;
  const relay = bus && publishesEvents ? createOutboxRelay({ db: database, bus, log }) : null;
  const internalAuth = createInternalAuth({ secret: config.internalAuthSecret, issuer: name });
  const metrics = createMetricsRegistry(name);
  const consumers: EventConsumer[] = [];
  // Half the pool for the consumers' transactions at most: the rest stays free for requests (placeOrder) however
  // long the backlog. Without it, 6 consumers × 8 messages in flight queue for the same 10 connections as the API.
  const transactionSlots = pLimit(Math.max(1, Math.floor(config.DB_POOL_SIZE / 2)));
  const consumer = (handler: AnyEventHandler, options: { maxDeliver?: number; concurrency?: number } = {}) => {
    if (!bus) throw new Error(`${name} consumes events: set publishesEvents`);
    const c = createEventConsumer({
      bus,
      db: database,
      log,
      service: name,
      handler,
      afterCommit: relay?.afterCommit,
      retryScale: config.SAGA_RETRY_SCALE,
      batchSize: config.CONSUMER_BATCH_SIZE,
      transactionSlots,
      ...options,
    });
    consumers.push(c);
    return c;
  };
  const parts = await setup({ db: database, bus, relay, internalAuth, consumer, metrics });
  if (relay) {
    registerOutboxMetrics(metrics, async () => {
      const [row] = await sampleQuery<{ backlog: number; age: number }[]>(
        database,
        `SELECT count(*)::int AS backlog, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS age FROM outbox WHERE published_at IS NULL`,
      );
      return { backlog: row.backlog, oldestAgeSeconds: row.age };
    });
  }
  if (consumers.length) {
    registerConsumerMetrics(metrics, () =>
      Promise.all(
        consumers.map(async (c) => {
          const info = await c.info();
          return {
            consumer: c.name,
            pending: info.num_pending,
            ackPending: info.num_ack_pending,
            redelivered: info.num_redelivered,
          };
        }),
      ),
    );
  }
  if (bus && publishesEvents) {
    const dlqStream = bus.stream('DLQ');
    registerDlqMetrics(
      metrics,
      async () => (await (await bus.nc.jetstreamManager({ checkAPI: false })).streams.info(dlqStream)).state.messages,
    );
  }
  const server = await startSubgraphServer<Ctx>(
    {
      name,
      typeDefs: parts.typeDefs,
      resolvers: parts.resolvers as never,
      internalAuth,
      log,
      context: parts.context,
      internalRoutes: parts.internalRoutes,
      metrics,
      ready: async () => {
        await database.$queryRawUnsafe('SELECT 1');
        return !bus || !bus.nc.isClosed();
      },
    },
    { host: config.HOST, port: config.PORT },
  );
  const workers: Worker[] = [...(relay ? [relay] : []), ...(parts.workers ?? [])];
  for (const w of workers) await w.init?.();
  for (const w of workers) w.start();
  return {
    url: server.url,
    db: database,
    relay,
    metrics,
    /** Background workers by name (event consumers are named after their durable). */
    worker: (name: string) => workers.find((w) => w.name === name),
    async stop() {
      await server.close();
      for (const w of [...workers].reverse()) await w.stop();
      await bus?.close();
      await database.$disconnect();
    },
  };
}
