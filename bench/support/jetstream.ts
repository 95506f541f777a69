/**
 * The bench's own window on NATS: the saga's durable consumers and their
 * backlog (jsm.consumers.list), and a plain (core) subscription to event
 * subjects, to see when an event reaches NATS (e.g. shipments.created).
 */
import { connect, type NatsConnection } from 'nats';

const STREAMS = ['ORDERS', 'INVENTORY', 'SHIPMENTS', 'DLQ'];

export interface ConsumerBacklog {
  stream: string;
  consumer: string;
  /** Messages in the stream not yet delivered to the consumer. */
  numPending: number;
  /** Delivered, not yet acknowledged. */
  numAckPending: number;
  numRedelivered: number;
  delivered: number;
  ackFloor: number;
}

export interface BacklogSnapshot {
  /** ms, performance.now() */
  at: number;
  consumers: ConsumerBacklog[];
  /** Sum over the saga's durable consumers (the gateway's ephemeral ordered consumers excluded). */
  totalPending: number;
  totalAckPending: number;
  /** Messages per stream. */
  streams: Record<string, number>;
}

export async function connectNats(url: string, prefix: string) {
  const nc: NatsConnection = await connect({ servers: url, name: 'bench-observer', maxReconnectAttempts: -1 });
  const jsm = await nc.jetstreamManager();
  const streamName = (n: string) => (prefix ? `${prefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_')}_${n}` : n);
  const subject = (type: string) => (prefix ? `${prefix}.${type}` : type);

  return {
    nc,
    /** Backlog of every durable consumer of the saga's streams. */
    async backlog(): Promise<BacklogSnapshot> {
      const consumers: ConsumerBacklog[] = [];
      const streams: Record<string, number> = {};
      for (const s of STREAMS) {
        const name = streamName(s);
        try {
          streams[s] = (await jsm.streams.info(name)).state.messages;
        } catch {
          continue; // not created (yet)
        }
        for await (const c of jsm.consumers.list(name)) {
          if (!c.config.durable_name) continue; // the gateway's ordered consumers and replays
          consumers.push({
            stream: s,
            consumer: c.name,
            numPending: c.num_pending,
            numAckPending: c.num_ack_pending,
            numRedelivered: c.num_redelivered,
            delivered: c.delivered.stream_seq,
            ackFloor: c.ack_floor.stream_seq,
          });
        }
      }
      consumers.sort((a, b) => a.consumer.localeCompare(b.consumer));
      return {
        at: performance.now(),
        consumers,
        totalPending: consumers.reduce((a, c) => a + c.numPending, 0),
        totalAckPending: consumers.reduce((a, c) => a + c.numAckPending, 0),
        streams,
      };
    },
    /** Calls `onEvent` with each event of `type` as it is published (core subscription: no consumer, no ack). */
    watch(
      type: string,
      onEvent: (event: { id: string; occurredAt: string; data: Record<string, any> }, receivedAt: number) => void,
    ) {
      const sub = nc.subscribe(subject(type));
      (async () => {
        for await (const m of sub) {
          const at = performance.now();
          try {
            onEvent(m.json(), at);
          } catch {
            /* not an envelope: not ours to judge */
          }
        }
      })().catch(() => {});
      return () => sub.unsubscribe();
    },
    async close() {
      await nc.drain().catch(() => {});
    },
  };
}
export type NatsObserver = Awaited<ReturnType<typeof connectNats>>;
