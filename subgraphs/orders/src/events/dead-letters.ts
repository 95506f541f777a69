import { getDeadLetter, replayDeadLetter, type Bus, type DeadLetter } from '@orderflow/common/messaging';
import type { EventType } from '@orderflow/contracts';
import { NATS_ACCESS } from '@orderflow/contracts/nats-access';

/** A dead letter with what the timeline needs from its original event. */
export interface OrderDeadLetter {
  seq: number;
  time: string;
  /** The original event's type, or its subject when the message was not an event. */
  type: string;
  consumer: string;
  deliveries: number;
  error: string;
  /** The original event's correlationId (the order's id for the saga's events), null when it had none. */
  orderId: string | null;
}

/** Letters read from the stream per look at most: a flood of letters is read over several looks, not in one request. */
const READ_PER_SYNC = 2_000;

function describe(letter: DeadLetter, prefix: string): OrderDeadLetter {
  let type =
    prefix && letter.originalSubject.startsWith(`${prefix}.`)
      ? letter.originalSubject.slice(prefix.length + 1)
      : letter.originalSubject;
  let orderId: string | null = null;
  try {
    const event = JSON.parse(letter.original) as { type?: unknown; correlationId?: unknown };
    if (typeof event.type === 'string') type = event.type;
    if (typeof event.correlationId === 'string') orderId = event.correlationId;
  } catch {
    // not JSON: a poison message, about no order we can tell
  }
  return {
    seq: letter.seq,
    time: letter.time,
    type,
    consumer: letter.consumer,
    deliveries: letter.deliveries,
    error: letter.error,
    orderId,
  };
}

/**
 * The dead-letter stream as the operator console reads it: an order's letters for its timeline, and
 * the replay of one. Letters never change once written, so each is read from NATS once and kept; a
 * look asks the stream for its bounds and deleted sequences (one call) and reads only new letters.
 * The stream is meant to stay near empty (`dlq_messages` alerts above 0).
 */
export function createDeadLetters(bus: Bus) {
  const stream = bus.stream('DLQ');
  const letters = new Map<number, OrderDeadLetter>();
  let readUpTo = 0;
  let syncing: Promise<void> | null = null;

  async function sync() {
    const jsm = await bus.nc.jetstreamManager({ checkAPI: false });
    const { state } = await jsm.streams.info(stream, { deleted_details: true });
    const gone = new Set(state.deleted ?? []);
    for (const seq of letters.keys()) if (seq < state.first_seq || gone.has(seq)) letters.delete(seq);
    const from = Math.max(readUpTo + 1, state.first_seq);
    const to = Math.min(state.last_seq, from + READ_PER_SYNC - 1);
    for (let seq = from; seq <= to; seq++) {
      if (gone.has(seq)) continue;
      const letter = await getDeadLetter(bus, seq);
      if (letter) letters.set(seq, describe(letter, bus.prefix));
    }
    readUpTo = Math.max(readUpTo, to);
  }

  return {
    /** The order's letters still in the stream, oldest first. */
    async forOrder(orderId: string): Promise<OrderDeadLetter[]> {
      syncing ??= sync().finally(() => (syncing = null));
      await syncing;
      return [...letters.values()].filter((l) => l.orderId === orderId).sort((a, b) => a.seq - b.seq);
    },

    async get(seq: number): Promise<OrderDeadLetter | null> {
      const letter = await getDeadLetter(bus, seq);
      return letter && describe(letter, bus.prefix);
    },

    /**
     * Publishes the letter's original event again and removes the letter (the consumers that had
     * handled it skip it by their inbox). Only events this service publishes: its NATS user may not
     * publish another service's subjects (docs/operations.md, NATS users).
     */
    async replay(letter: OrderDeadLetter): Promise<void> {
      await replayDeadLetter(bus, letter.seq);
      letters.delete(letter.seq);
    },

    /** Whether this service may publish the letter's event again. */
    canReplay: (letter: OrderDeadLetter) => NATS_ACCESS.orders.publishes.includes(letter.type as EventType),
  };
}
export type DeadLetters = ReturnType<typeof createDeadLetters>;
