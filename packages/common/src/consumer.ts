import { streamOf } from '@orderflow/contracts';
import {
  AckPolicy,
  DeliverPolicy,
  headers as natsHeaders,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
} from 'nats';
import pLimit, { type LimitFunction } from 'p-limit';
import { z } from 'zod';
import type { Sql } from './db.ts';
import { isDatabaseUnavailable } from './errors.ts';
import type { EventEnvelope } from '@orderflow/contracts';
import { collectOutboxWrites, publishingTransaction } from './events.ts';
import type { Logger } from './logger.ts';
import type { Bus } from './nats.ts';
import { TRACEPARENT_HEADER, currentTraceparent, runInTrace } from './trace-context.ts';

/** Ask for the message again after `delayMs` (a transient failure, or "not yet"). */
export class RetryLater extends Error {
  constructor(
    readonly delayMs: number,
    reason: string,
  ) {
    super(reason);
  }
}

/** A message that can never succeed: straight to the dead-letter stream. */
export class PoisonMessage extends Error {}

/** Events a consumer handles in one transaction at most, unless told otherwise (CONSUMER_BATCH_SIZE). */
export const DEFAULT_CONSUMER_BATCH_SIZE = 32;

const envelopeSchema = z.object({
  id: z.string().uuid(),
  type: z.string().min(1),
  version: z.number().int().positive(),
  occurredAt: z.string(),
  source: z.string(),
  correlationId: z.string(),
  causationId: z.string().nullable(),
  traceparent: z.string().nullable(),
  data: z.unknown(),
});

/**
 * One event type's handler. `Tx` is what `ctx.tx` is: the inbox transaction
 * (`Sql`, plain SQL on the service's pool), or with `outsideTransaction` the
 * service's Prisma client.
 */
export interface EventHandler<Data, Tx = Sql> {
  /** Names the durable consumer and its inbox rows with the service, e.g. `payments`. */
  name: string;
  /** Event type = subject without prefix, e.g. `payments.succeeded`. */
  type: string;
  /** Schema of `data`; a mismatch is a poison message. */
  schema: z.ZodType<Data>;
  /** Events this handler has nothing to do with are acknowledged without touching the database. */
  relevant?(event: EventEnvelope<Data>): boolean;
  /**
   * Applies the event inside the inbox transaction: its writes (and outbox
   * rows) commit with the record that the event was handled, or not at all.
   * The events it wrote with `writeOutbox` are published after the commit.
   * Several events (up to the consumer's batch size) share one transaction,
   * one `handle` after the other, sorted by correlationId (stable: one saga's
   * events keep the stream's order), after `lockBatch`; when one throws, the
   * whole transaction is rolled back and each event is handled again alone
   * (see `createEventConsumer`), so `handle` must not rely on anything but
   * its own writes surviving a throw.
   */
  handle(event: EventEnvelope<Data>, ctx: { tx: Tx; attempt: number; log: Logger }): Promise<void>;
  /**
   * Takes, before the first `handle` of a batch of more than one event (never for one event alone), the row
   * locks its handlers will take, in one global order, for a handler whose locks are not keyed by the order
   * (the batch's events come sorted by correlationId, so locks keyed by the order are taken in one order
   * already). Without it two batches locking shared rows event after event (or a batch and a request) can
   * deadlock. `events` are those of the batch not seen before, in the order they will be handled.
   */
  lockBatch?(events: EventEnvelope<Data>[], ctx: { tx: Tx; log: Logger }): Promise<void>;
  /**
   * Run `handle` outside any transaction (`ctx.tx` is then the client itself),
   * with no inbox row, one event at a time (never batched). Default false. For a handler whose effect leaves the
   * database (an email) and that keeps its own once-only record, committed
   * before that effect: inside the inbox transaction it would hold a pooled
   * connection idle across the network call and while it waits for a second
   * connection from the same pool for that record, which starves the pool
   * under load. Its record is also what makes a redelivery harmless, so an
   * inbox row would only add two statements per event.
   */
  outsideTransaction?: boolean;
}

export interface EventConsumerOptions<Data, Tx> {
  bus: Bus;
  db: unknown;
  log: Logger;
  /** Owning service; with the type it names the durable consumer and the inbox rows. */
  service: string;
  handler: EventHandler<Data, Tx>;
  /** Attempts before a failing message is dead-lettered (while the database cannot be reached, none is). Default 8. */
  maxDeliver?: number;
  /**
   * Events handled in one transaction at most (one inbox insert, one commit, then one ack each). Default 32
   * (`DEFAULT_CONSUMER_BATCH_SIZE`, CONSUMER_BATCH_SIZE). A batch is what arrived while the previous one ran: one event
   * when the saga is quiet (no added latency), up to this many under a backlog.
   */
  batchSize?: number;
  /** `outsideTransaction` handlers only: events handled at once; events of one saga (correlationId) one after another. Default 8. */
  concurrency?: number;
  /** Called after a commit in which the handler wrote events with `writeOutbox`, with those events (the relay's `afterCommit`). */
  afterCommit?: (events: EventEnvelope[]) => void;
  /** Multiplies every retry delay; tests shrink it. Default 1. */
  retryScale?: number;
  /**
   * Shared by all consumers of a service: bounds how many of their inbox
   * transactions hold a pooled connection at once, so that a backlog of
   * events cannot take every connection from the service's requests.
   */
  transactionSlots?: LimitFunction;
}

export function backoffMs(attempt: number, baseMs = 200, maxMs = 10_000): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}

/** Whether a statement may write (conservative: a false "yes" only costs a batch its second pass). */
function writes(text: string): boolean {
  return /\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|COPY|CALL)\b/i.test(
    text.replace(/\bFOR\s+(NO\s+KEY\s+)?UPDATE\b/gi, ''),
  );
}

interface Delivery<Data> {
  msg: JsMsg;
  event: EventEnvelope<Data>;
}

/**
 * A durable JetStream pull consumer for one event type, with explicit acks,
 * an inbox for idempotency, retries with backoff and a dead-letter stream for
 * poison messages.
 *
 * Events are handled in batches: what arrived while the previous batch ran (up
 * to `batchSize`) goes through one transaction — one multi-row inbox insert
 * that returns the ids not seen before, the handler's `lockBatch` if it has one, the handler for each of
 * those sorted by correlationId (one saga's in the stream's order), their outbox rows — and is acknowledged
 * after the commit.
 * A handler's "not yet" (`RetryLater`) before it wrote anything only leaves its event out (nak'd with its delay).
 * When that transaction fails otherwise, each event of the batch is handled again alone,
 * in its own transaction: the good ones commit and are acknowledged once, and
 * only the failing one is retried (nak with backoff) and in the end
 * dead-lettered. Batches run one after another, so one process applies the
 * events of an order in stream order; across replicas of the service the
 * order rests on the handlers' transition guards (docs/decisions/004-batched-consumers.md).
 */
export function createEventConsumer<Data, Tx = Sql>(opts: EventConsumerOptions<Data, Tx>) {
  const {
    bus,
    log,
    service,
    handler,
    maxDeliver = 8,
    batchSize = DEFAULT_CONSUMER_BATCH_SIZE,
    concurrency = 8,
    afterCommit = () => {},
    retryScale = 1,
    transactionSlots = pLimit(concurrency),
  } = opts;
  const db = opts.db as object;
  const durable = `${service}-${handler.name}`;
  const stream = bus.stream(streamOf(handler.type));
  const subject = bus.subject(handler.type);
  const clog = log.child({ consumer: durable });
  let messages: ConsumerMessages | undefined;
  let loop: Promise<void> | undefined;
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  /** Tail of the chain of each saga's messages, so they are applied in order (outsideTransaction handlers). */
  const chains = new Map<string, Promise<void>>();
  /** Messages pulled and not yet taken into a batch, in stream order, and the batches running (at most one). */
  let waiting: JsMsg[] = [];
  let batches: Promise<void> | null = null;
  let infoJsm: Promise<JetStreamManager> | undefined;

  async function deadLetter(msg: JsMsg, reason: string) {
    const h = natsHeaders();
    h.set('Nats-Msg-Id', `${durable}:${msg.seq}`);
    const traceparent = currentTraceparent();
    if (traceparent) h.set(TRACEPARENT_HEADER, traceparent);
    const body = {
      original: msg.string(),
      subject: msg.subject,
      error: reason,
      deliveries: msg.info.redeliveryCount,
      consumer: durable,
      stream: msg.info.stream,
      seq: msg.seq,
    };
    await bus.js.publish(bus.subject(`dlq.${handler.type}`), JSON.stringify(body), {
      msgID: `${durable}:${msg.seq}`,
      headers: h,
    });
    // A plain +TERM: nats-server 2.9 (Debian's) ignores "+TERM <reason>" and redelivers the message after
    // ack_wait, so a dead letter would come back every 30 s. The reason is in the dead letter and the log.
    msg.term();
    clog.warn({ seq: msg.seq, reason }, 'message dead-lettered');
  }

  function parse(msg: JsMsg): EventEnvelope<Data> | string {
    let raw: unknown;
    try {
      raw = JSON.parse(msg.string());
    } catch {
      return 'invalid JSON';
    }
    const env = envelopeSchema.safeParse(raw);
    if (!env.success)
      return `not an event envelope: ${env.error.issues[0]?.path.join('.')} ${env.error.issues[0]?.message}`;
    if (env.data.type !== handler.type) return `type ${env.data.type} does not match subject ${handler.type}`;
    const data = handler.schema.safeParse(env.data.data);
    if (!data.success)
      return `data does not match ${handler.type} v${env.data.version}: ${data.error.issues[0]?.path.join('.')} ${data.error.issues[0]?.message}`;
    return { ...(env.data as EventEnvelope<unknown>), data: data.data };
  }

  /** The handler's run for one event, as a child of the trace the event carries (its logs and events keep the saga's trace id). */
  function inTrace<T>({ msg, event }: Delivery<Data>, fn: () => Promise<T>): Promise<T> {
    return runInTrace(
      `${durable} ${handler.type}`,
      event.traceparent ?? (msg.headers?.get(TRACEPARENT_HEADER) || null),
      fn,
    );
  }

  /**
   * The inbox transaction of a batch: the events not seen before are handled, in order, and committed together.
   * A handler that says "not yet" (`RetryLater`) before writing anything is left out of the commit (its inbox row
   * removed) rather than failing the batch: returned, to be nak'd with its delay. Anything else that throws fails
   * the batch.
   */
  function applyTogether(batch: Delivery<Data>[]): Promise<{ d: Delivery<Data>; err: RetryLater }[]> {
    return transactionSlots(() =>
      publishingTransaction(
        db,
        async (tx) => {
          const { rows } = await tx.query<{ id: string }>(
            `INSERT INTO inbox (consumer, id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING RETURNING id::text`,
            [durable, batch.map((d) => d.event.id)],
          );
          // Seen before (a redelivery, a replayed dead letter): the effect is already committed.
          const fresh = new Set(rows.map((r) => r.id));
          let wrote = false;
          // The handlers' outbox rows of a batch go in with one insert at its end.
          const outbox = collectOutboxWrites(tx, (text) => (wrote ||= writes(text)));
          const later: { d: Delivery<Data>; err: RetryLater }[] = [];
          if (handler.lockBatch && batch.length > 1) {
            const events = batch.filter((d) => fresh.has(d.event.id)).map((d) => d.event);
            if (events.length > 1) await handler.lockBatch(events, { tx: outbox.tx as Tx, log: clog });
          }
          for (const d of batch) {
            if (!fresh.delete(d.event.id)) continue; // also a second copy within the batch
            const ctx = { tx: outbox.tx as Tx, attempt: d.msg.info.redeliveryCount, log: clog };
            wrote = false;
            const collected = outbox.size();
            try {
              // Alone, the whole transaction already runs in the event's trace (handleAlone).
              await (batch.length === 1
                ? handler.handle(d.event, ctx)
                : inTrace(d, () => handler.handle(d.event, ctx)));
            } catch (err) {
              if (batch.length > 1 && err instanceof RetryLater && !wrote && outbox.size() === collected) {
                later.push({ d, err });
                continue;
              }
              throw err;
            }
          }
          if (later.length)
            await tx.query(`DELETE FROM inbox WHERE consumer = $1 AND id = ANY($2::uuid[])`, [
              durable,
              later.map(({ d }) => d.event.id),
            ]);
          await outbox.flush();
          return later;
        },
        afterCommit,
      ),
    );
  }

  /** After a failure of `d` handled alone: dead letter, or nak with a delay. */
  async function failed(d: Delivery<Data>, err: unknown) {
    const attempt = d.msg.info.redeliveryCount;
    if (err instanceof PoisonMessage) return deadLetter(d.msg, err.message);
    // A database that is down or restarting is no fault of the message: it is retried (backoff capped at
    // 10 s) until the database is back, however long that takes, and never dead-lettered for it.
    if (attempt >= maxDeliver && !isDatabaseUnavailable(err))
      return deadLetter(d.msg, `failed ${attempt} times: ${(err as Error).message}`);
    const delay = err instanceof RetryLater ? err.delayMs : backoffMs(attempt);
    if (!(err instanceof RetryLater))
      clog.warn({ eventId: d.event.id, attempt, err: (err as Error).message }, 'handler failed; will retry');
    d.msg.nak(Math.round(delay * retryScale));
  }

  /** One event in a transaction of its own (or none, outsideTransaction); acknowledged after its commit. */
  async function handleAlone(d: Delivery<Data>) {
    try {
      await inTrace(d, async () => {
        if (handler.outsideTransaction)
          await handler.handle(d.event, { tx: opts.db as Tx, attempt: d.msg.info.redeliveryCount, log: clog });
        else await applyTogether([d]); // alone, a RetryLater fails it (nothing to spare from a rollback)
      });
      d.msg.ack();
    } catch (err) {
      await inTrace(d, () => failed(d, err));
    }
  }

  /**
   * A batch: messages that are not events are dead-lettered, events the handler has nothing to do with are
   * acknowledged, the rest are applied in one transaction, and alone each when that transaction fails (a
   * poison message, a "not yet", a deadlock) so that the others still commit once and only the failing one is
   * retried.
   */
  async function handleBatch(msgs: JsMsg[]) {
    const batch: Delivery<Data>[] = [];
    for (const msg of msgs) {
      const event = parse(msg);
      if (typeof event === 'string')
        await runInTrace(`dead-letter ${handler.type}`, msg.headers?.get(TRACEPARENT_HEADER) || null, () =>
          deadLetter(msg, event),
        );
      else if (handler.relevant && !handler.relevant(event)) msg.ack();
      else batch.push({ msg, event });
    }
    // One saga's events in stream order (a stable sort), the sagas in one global order: handlers that lock
    // their order's row lock the rows of a batch in the order every other batch does, so two batches (two
    // consumers, two replicas) cannot deadlock on them.
    batch.sort((x, y) =>
      x.event.correlationId < y.event.correlationId ? -1 : x.event.correlationId > y.event.correlationId ? 1 : 0,
    );
    if (batch.length === 1) return handleAlone(batch[0]);
    if (batch.length === 0) return;
    let later: { d: Delivery<Data>; err: RetryLater }[];
    try {
      later = await applyTogether(batch);
    } catch (err) {
      clog.debug({ events: batch.length, err: (err as Error).message }, 'batch failed; handling its events alone');
      for (const d of batch) await handleAlone(d);
      return;
    }
    const waits = new Map(later.map(({ d, err }) => [d, err]));
    for (const d of batch) {
      const wait = waits.get(d);
      if (wait) await inTrace(d, () => failed(d, wait));
      else d.msg.ack();
    }
    clog.debug({ events: batch.length, later: later.length }, 'batch handled');
  }

  /**
   * Takes batches of waiting messages until none is left. Started on the next turn of the event loop, so the
   * messages of one read from the socket make one batch rather than the first of them a batch alone.
   */
  function runBatches() {
    batches ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(async () => {
        while (waiting.length) {
          const batch = waiting.slice(0, batchSize);
          waiting = waiting.slice(batch.length);
          await handleBatch(batch).catch((err) => clog.error({ err: (err as Error).message }, 'consumer failure'));
        }
      })
      .finally(() => {
        batches = null;
        if (waiting.length && !stopped) runBatches();
      });
    return batches;
  }

  /** outsideTransaction handlers: each message on its own, several at once, one saga's in order. */
  function dispatchAlone(msg: JsMsg) {
    const event = parse(msg);
    if (typeof event === 'string')
      return track(
        runInTrace(`dead-letter ${handler.type}`, msg.headers?.get(TRACEPARENT_HEADER) || null, () =>
          deadLetter(msg, event),
        ),
      );
    const key = event.correlationId;
    const next = (chains.get(key) ?? Promise.resolve())
      .then(() => (handler.relevant && !handler.relevant(event) ? msg.ack() : handleAlone({ msg, event })))
      .catch((err) => clog.error({ err }, 'consumer failure'));
    chains.set(key, next);
    void next.then(() => {
      if (chains.get(key) === next) chains.delete(key);
    });
    return track(next);
  }

  function track(p: Promise<void>) {
    const t = p
      .catch((err) => clog.error({ err: (err as Error).message }, 'consumer failure'))
      .finally(() => inFlight.delete(t));
    inFlight.add(t);
    return t;
  }

  async function ensureConsumer() {
    const jsm = await bus.nc.jetstreamManager();
    const config = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: subject,
      ack_wait: 30_000_000_000,
      max_ack_pending: 1_000,
    };
    try {
      await jsm.consumers.info(stream, durable);
    } catch {
      await jsm.consumers.add(stream, config);
    }
  }

  /** Pulls: messages go to `dispatchAlone`, or wait for a batch; pulling pauses while a full batch waits. */
  async function pull() {
    const consumer = await bus.js.consumers.get(stream, durable);
    const buffered = handler.outsideTransaction ? concurrency * 2 : batchSize * 2;
    // Short pulls: a pull request held by a consumer leader that died (a cluster node lost) is
    // noticed after two missed idle heartbeats, half of `expires` each: 5 s instead of 30 s.
    messages = await consumer.consume({ max_messages: buffered, expires: 5_000 });
    for await (const msg of messages) {
      if (handler.outsideTransaction) {
        void dispatchAlone(msg);
        while (inFlight.size >= concurrency) await Promise.race(inFlight);
      } else {
        waiting.push(msg);
        const running = runBatches();
        if (waiting.length >= batchSize) await running;
      }
      if (stopped) break;
    }
  }

  return {
    name: durable,
    /** JetStream's view of this durable (pending, redelivered): for metrics. */
    async info() {
      infoJsm ??= bus.nc.jetstreamManager({ checkAPI: false });
      return (await infoJsm).consumers.info(stream, durable);
    },
    async init() {
      await ensureConsumer();
    },
    start() {
      stopped = false;
      loop = (async () => {
        while (!stopped) {
          try {
            await pull();
          } catch (err) {
            if (stopped) break;
            clog.warn({ err: (err as Error).message }, 'consumer interrupted; resuming');
            await new Promise((r) => setTimeout(r, 1_000));
            await ensureConsumer().catch(() => {});
          }
        }
      })();
    },
    async stop() {
      stopped = true;
      messages?.stop();
      await loop;
      await Promise.allSettled([...inFlight, batches]);
      // Pulled but never started: JetStream redelivers them after ack_wait; a nak hands them on at once.
      for (const msg of waiting.splice(0)) msg.nak();
    },
  };
}
export type EventConsumer = ReturnType<typeof createEventConsumer>;
