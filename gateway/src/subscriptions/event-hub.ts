import { DeliverPolicy, type ConsumerMessages, type JsMsg } from 'nats';
import type { Bus, EventEnvelope, Logger } from '@orderflow/common';

/** An event as subscribers see it: the envelope and its stream sequence (the cursor). */
export interface HubEvent {
  seq: number;
  event: EventEnvelope<Record<string, unknown>>;
}

type Listener = (e: HubEvent) => void;

const STREAM_OF: Record<string, string> = { 'orders.status_changed': 'ORDERS', 'inventory.low_stock': 'INVENTORY' };

/**
 * The gateway's one window on JetStream for subscriptions: a single ordered
 * consumer per followed event type and gateway instance (not one per client
 * subscription), fanned out in memory to whoever listens. Replays for
 * reconnecting clients read the stream from their cursor with a short-lived
 * ordered consumer.
 */
export function createEventHub({ bus, log, eventTypes }: { bus: Bus; log: Logger; eventTypes: string[] }) {
  const listeners = new Map<string, Set<Listener>>();
  const running: ConsumerMessages[] = [];
  let stopped = false;

  const parse = (m: JsMsg): HubEvent | null => {
    try {
      return { seq: m.seq, event: m.json<EventEnvelope<Record<string, unknown>>>() };
    } catch {
      return null; // not ours to judge: the saga's consumers dead-letter it
    }
  };

  async function follow(type: string) {
    while (!stopped) {
      try {
        const consumer = await bus.js.consumers.get(bus.stream(STREAM_OF[type]), {
          filterSubjects: bus.subject(type),
          deliver_policy: DeliverPolicy.New,
        });
        const messages = await consumer.consume({ max_messages: 512 });
        running.push(messages);
        for await (const m of messages) {
          const e = parse(m);
          if (e) for (const l of listeners.get(type) ?? []) l(e);
        }
      } catch (err) {
        if (stopped) return;
        log.warn({ type, err: (err as Error).message }, 'subscription feed interrupted; resuming');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  return {
    start() {
      for (const type of eventTypes) void follow(type);
    },
    /** Live events of a type from now on; returns the unsubscribe function. */
    listen(type: string, listener: Listener): () => void {
      let set = listeners.get(type);
      if (!set) listeners.set(type, (set = new Set()));
      set.add(listener);
      return () => set!.delete(listener);
    },
    /**
     * Every stored event of `type` after sequence `afterSeq` (or since
     * `since`), oldest first, up to the end of the stream as it is now.
     */
    async replay(
      type: string,
      from: { afterSeq: number } | { since: Date },
      onEvent: (e: HubEvent) => void,
      signal?: AbortSignal,
    ): Promise<void> {
      const stream = bus.stream(STREAM_OF[type]);
      const jsm = await bus.nc.jetstreamManager();
      const lastSeq = (await jsm.streams.info(stream)).state.last_seq;
      if ('afterSeq' in from && from.afterSeq >= lastSeq) return;
      const consumer = await bus.js.consumers.get(stream, {
        filterSubjects: bus.subject(type),
        ...('afterSeq' in from
          ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from.afterSeq + 1 }
          : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: from.since.toISOString() }),
      });
      while (!signal?.aborted) {
        const batch = await consumer.fetch({ max_messages: 256, expires: 1_000 });
        let got = 0;
        let done = false;
        for await (const m of batch) {
          got++;
          const e = parse(m);
          if (e) onEvent(e);
          if (m.seq >= lastSeq || m.info.pending === 0) done = true;
        }
        if (done || got === 0) return;
      }
    },
    async stop() {
      stopped = true;
      for (const m of running) m.stop();
    },
  };
}
export type EventHub = ReturnType<typeof createEventHub>;
