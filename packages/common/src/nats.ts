import {
  connect,
  RetentionPolicy,
  StorageType,
  DiscardPolicy,
  type NatsConnection,
  type JetStreamClient,
  type StreamConfig,
} from 'nats';
import type { Logger } from './logger.ts';

/**
 * The streams of the saga, declared in code and created or updated at
 * start-up (schema/events/README.md documents them). `prefix` isolates test
 * runs and tenants sharing one NATS: subjects become `<prefix>.<type>`.
 */
export const STREAMS = [
  { name: 'ORDERS', subjects: ['orders.>', 'payments.>'] },
  { name: 'INVENTORY', subjects: ['inventory.>'] },
  { name: 'SHIPMENTS', subjects: ['shipments.>'] },
  { name: 'DLQ', subjects: ['dlq.>'] },
] as const;

export interface Bus {
  nc: NatsConnection;
  js: JetStreamClient;
  prefix: string;
  /** Subject on the wire for an event type. */
  subject(type: string): string;
  /** Stream name on the wire for a logical stream. */
  stream(name: string): string;
  close(): Promise<void>;
}

export async function connectBus({
  url,
  prefix = '',
  name,
  log,
  replicas = 1,
  duplicateWindowMs = 2 * 60_000,
  streams = STREAMS,
}: {
  url: string;
  prefix?: string;
  name: string;
  log: Logger;
  replicas?: number;
  duplicateWindowMs?: number;
  /** Streams to declare. Default: the saga's STREAMS; [] for a process that only uses KV (gateway, auth). */
  streams?: readonly { name: string; subjects: readonly string[] }[];
}): Promise<Bus> {
  const nc = await connect({
    servers: url.split(','),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
  });
  (async () => {
    for await (const s of nc.status()) log.info({ type: s.type }, 'nats status');
  })().catch(() => {});
  const subject = (type: string) => (prefix ? `${prefix}.${type}` : type);
  const stream = (n: string) => (prefix ? `${prefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_')}_${n}` : n);

  const jsm = await nc.jetstreamManager();
  for (const s of streams) {
    const config: Partial<StreamConfig> = {
      name: stream(s.name),
      subjects: s.subjects.map(subject),
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      num_replicas: replicas,
      duplicate_window: duplicateWindowMs * 1_000_000,
      max_age: 7 * 24 * 3600 * 1_000_000_000,
    };
    try {
      await jsm.streams.add(config);
    } catch (err) {
      // Exists already (possibly with older settings): bring it up to date.
      if (!/already in use|exists/i.test((err as Error).message)) throw err;
      await jsm.streams.update(config.name!, config);
    }
  }
  return {
    nc,
    js: nc.jetstream(),
    prefix,
    subject,
    stream,
    async close() {
      await nc.drain().catch(() => {});
    },
  };
}
