import {
  connect,
  RetentionPolicy,
  StorageType,
  DiscardPolicy,
  type NatsConnection,
  type JetStreamClient,
  type StreamConfig,
} from 'nats';
import { STREAMS } from '@orderflow/contracts';
import { natsInboxPrefix, natsStreamName, natsSubject } from '@orderflow/contracts/nats-access';
import type { Logger } from './logger.ts';

/**
 * The saga's streams (STREAMS, from the contracts) are created or updated at start-up by `connectBus`
 * (schema/events/README.md documents them). `prefix` isolates test runs and tenants sharing one NATS:
 * subjects become `<prefix>.<type>`.
 */

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
  user,
  password,
}: {
  url: string;
  prefix?: string;
  name: string;
  log: Logger;
  replicas?: number;
  duplicateWindowMs?: number;
  /** Streams to declare. Default: the saga's STREAMS; [] for a process that only uses KV (gateway, auth). */
  streams?: readonly { name: string; subjects: readonly string[] }[];
  /**
   * This service's NATS user (NATS_USER) and password (NATS_PASSWORD): the server allows each user
   * only its own subjects (contracts' nats-access.ts). Replies come to `_INBOX_<user>.…`, which only
   * that user may read. Unset: an unauthenticated connection (a server without authorization).
   */
  user?: string;
  password?: string;
}): Promise<Bus> {
  const nc = await connect({
    servers: url.split(','),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    ...(user ? { user, pass: password, inboxPrefix: natsInboxPrefix(user) } : {}),
  });
  (async () => {
    for await (const s of nc.status()) log.info({ type: s.type }, 'nats status');
  })().catch(() => {});
  const subject = (type: string) => natsSubject(prefix, type);
  const stream = (n: string) => natsStreamName(prefix, n);

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
      try {
        await jsm.streams.update(config.name!, config);
      } catch (updateErr) {
        // Another service's stream: created by whoever starts first, kept up to date by its owner.
        if (!isPermissionError(updateErr)) throw updateErr;
        log.warn(
          { stream: config.name },
          "stream settings differ from this service's; left to the service that writes it",
        );
      }
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

/** Whether NATS refused an operation because the user lacks the permission (`Permissions Violation`). */
export function isPermissionError(err: unknown): boolean {
  return (
    err instanceof Error &&
    ((err as { code?: string }).code === 'PERMISSIONS_VIOLATION' || /permissions violation/i.test(err.message))
  );
}
