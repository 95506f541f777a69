import { AckPolicy, DeliverPolicy, nanos, nuid, type ConsumerMessages, type JetStreamManager, type JsMsg } from 'nats';
import type { Bus } from '@orderflow/common/messaging';
import type { Logger } from '@orderflow/common/observability';
import { streamOf, type EventEnvelope } from '@orderflow/contracts';
import { ReplayTooOldError, replayRefusal, type ReplayBounds } from './replay-bounds.ts';

/** An event as subscribers see it: the envelope and its stream sequence (the cursor). */
export interface HubEvent {
  seq: number;
  event: EventEnvelope<Record<string, unknown>>;
}

type Listener = (e: HubEvent) => void;

/** Events a replay reads at once. */
export const REPLAY_BATCH = 100;

/** A replay admitted within its bounds (`EventHub.openReplay`). */
export interface Replay {
  /** Events of the type to read (the subscriber's among them). */
  pending: number;
  /**
   * Delivers the events, oldest first, up to the end of the stream as it is
   * when the last one is read; resolves when done or as soon as `signal` is
   * aborted. Reads `REPLAY_BATCH` events at a time, each batch once
   * `ready` resolves (the subscriber has room for it). Closes the replay
   * either way; rejects when the stream cannot be read to the end.
   */
  run(onEvent: (e: HubEvent) => void, signal: AbortSignal, ready?: () => Promise<void>): Promise<void>;
  /** Releases the replay's consumer (idempotent); a replay never run must be closed. */
  close(): Promise<void>;
}

/**
 * The gateway's one window on JetStream for subscriptions: a single ordered
 * consumer per followed event type and gateway instance (not one per client
 * subscription), fanned out in memory to whoever listens. Replays for
 * reconnecting clients read the stream from their cursor with a short-lived
 * consumer of their own, within bounds (replay-bounds.ts), deleted as soon as
 * the replay ends or its subscriber goes away.
 */
export function createEventHub({ bus, log, eventTypes }: { bus: Bus; log: Logger; eventTypes: string[] }) {
  const listeners = new Map<string, Set<Listener>>();
  const running: ConsumerMessages[] = [];
  let stopped = false;
  let active = 0;
  let jsm: Promise<JetStreamManager> | undefined;
  const manager = () => (jsm ??= bus.nc.jetstreamManager());

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
        const consumer = await bus.js.consumers.get(bus.stream(streamOf(type)), {
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
     * Opens a replay of the stored events of `type` after sequence `afterSeq`
     * (or since `since`), oldest first: null when there is nothing to replay;
     * throws `ReplayTooOldError` past `bounds`, before reading any event. The
     * replay holds one ephemeral consumer on the stream until it has run or is
     * closed; listen first, then `run`, so that no event falls between the two.
     */
    async openReplay(
      type: string,
      from: { afterSeq: number } | { since: Date },
      bounds: ReplayBounds,
    ): Promise<Replay | null> {
      const stream = bus.stream(streamOf(type));
      const jsm = await manager();
      const { state } = await jsm.streams.info(stream);
      if ('afterSeq' in from && from.afterSeq >= state.last_seq) return null;
      let oldestAt: number | null = null;
      let gap = false;
      if ('since' in from) oldestAt = from.since.getTime();
      else if (from.afterSeq === 0) oldestAt = state.messages > 0 ? Date.parse(state.first_ts) : null;
      else if (from.afterSeq + 1 < state.first_seq) gap = true;
      else
        oldestAt = await jsm.streams.getMessage(stream, { seq: from.afterSeq + 1 }).then(
          (m) => m.time.getTime(),
          () => (state.messages > 0 ? Date.parse(state.first_ts) : null),
        );
      const early = replayRefusal({ pending: 0, oldestAt, gap }, bounds, Date.now());
      if (early) throw new ReplayTooOldError(early);
      const info = await jsm.consumers.add(stream, {
        // Named (CONSUMER.CREATE.<stream>.<name>.<subject>): what the gateway's NATS user may create.
        name: `replay_${nuid.next()}`,
        filter_subject: bus.subject(type),
        ack_policy: AckPolicy.None,
        mem_storage: true,
        // Deleted when the replay ends; this covers a gateway that died mid-replay (and outlasts a slow reader's pauses).
        inactive_threshold: nanos(120_000),
        ...('afterSeq' in from
          ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from.afterSeq + 1 }
          : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: from.since.toISOString() }),
      });
      let closed = false;
      const close = async () => {
        if (closed) return;
        closed = true;
        active--;
        await jsm.consumers.delete(stream, info.name).catch(() => {});
      };
      active++;
      const refused = replayRefusal({ pending: info.num_pending, oldestAt, gap }, bounds, Date.now());
      if (refused || info.num_pending === 0) {
        await close();
        if (refused) throw new ReplayTooOldError(refused);
        return null;
      }
      return {
        pending: info.num_pending,
        close,
        async run(onEvent, signal, ready) {
          try {
            const consumer = await bus.js.consumers.get(stream, info.name);
            while (!signal.aborted && !closed) {
              await ready?.();
              if (signal.aborted) return;
              const batch = await consumer.fetch({ max_messages: REPLAY_BATCH, expires: 2_000 });
              // Stops a pending pull at once: a completed subscriber's replay reads nothing more.
              const stop = () => batch.stop();
              signal.addEventListener('abort', stop, { once: true });
              let got = 0;
              let done = false;
              try {
                for await (const m of batch) {
                  if (signal.aborted) break;
                  got++;
                  const e = parse(m);
                  if (e) onEvent(e);
                  if (m.info.pending === 0) done = true;
                }
              } finally {
                signal.removeEventListener('abort', stop);
              }
              if (done || got === 0) return;
            }
          } finally {
            await close();
          }
        },
      };
    },
    /** Replays holding a consumer on the stream right now. */
    get activeReplays() {
      return active;
    },
    async stop() {
      stopped = true;
      for (const m of running) m.stop();
    },
  };
}
export type EventHub = ReturnType<typeof createEventHub>;
