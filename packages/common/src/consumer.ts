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
import { publishingTransaction } from './events.ts';
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
   */
  handle(event: EventEnvelope<Data>, ctx: { tx: Tx; attempt: number; log: Logger }): Promise<void>;
  /**
   * Run `handle` outside any transaction (`ctx.tx` is then the client itself),
   * with no inbox row. Default false. For a handler whose effect leaves the
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
  /** Messages handled at once; events of one saga (correlationId) are always handled one after another. Default 8 (a service runs several consumers on one connection pool). */
  concurrency?: number;
  /** Called after a commit in which the handler wrote events with `writeOutbox`, with those events (see relay.committed). */
  onPublished?: (events: EventEnvelope[]) => void;
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

/**
 * A durable JetStream pull consumer for one event type, with explicit acks,
 * an inbox for idempotency, per-saga ordering, retries with backoff and a
 * dead-letter stream for poison messages.
 */
export function createEventConsumer<Data, Tx = Sql>(opts: EventConsumerOptions<Data, Tx>) {
  const {
    bus,
    log,
    service,
    handler,
    maxDeliver = 8,
    concurrency = 8,
    onPublished = () => {},
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
  /** Tail of the chain of each saga's messages, so they are applied in order. */
  const chains = new Map<string, Promise<void>>();
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

  /** See EventHandler.outsideTransaction: no connection is held while the handler runs, and its own record is its inbox. */
  async function processOutsideTransaction(event: EventEnvelope<Data>, attempt: number): Promise<void> {
    await handler.handle(event, { tx: opts.db as Tx, attempt, log: clog });
  }

  async function process(msg: JsMsg, event: EventEnvelope<Data>) {
    if (handler.relevant && !handler.relevant(event)) return void msg.ack();
    const attempt = msg.info.redeliveryCount;
    try {
      if (handler.outsideTransaction) await processOutsideTransaction(event, attempt);
      else
        await transactionSlots(() =>
          publishingTransaction(
            db,
            async (tx) => {
              const fresh = await tx.query(
                `INSERT INTO inbox (consumer, id) VALUES ($1, $2::uuid) ON CONFLICT DO NOTHING`,
                [durable, event.id],
              );
              if (fresh.rowCount === 0) return; // seen before: the effect is already committed
              await handler.handle(event, { tx: tx as Tx, attempt, log: clog });
            },
            onPublished,
          ),
        );
      msg.ack();
      clog.debug({ eventId: event.id, type: event.type, attempt }, 'event handled');
    } catch (err) {
      if (err instanceof PoisonMessage) return deadLetter(msg, err.message);
      // A database that is down or restarting is no fault of the message: it is retried (backoff capped at
      // 10 s) until the database is back, however long that takes, and never dead-lettered for it.
      if (attempt >= maxDeliver && !isDatabaseUnavailable(err))
        return deadLetter(msg, `failed ${attempt} times: ${(err as Error).message}`);
      const delay = err instanceof RetryLater ? err.delayMs : backoffMs(attempt);
      if (!(err instanceof RetryLater))
        clog.warn({ eventId: event.id, attempt, err: (err as Error).message }, 'handler failed; will retry');
      msg.nak(Math.round(delay * retryScale));
    }
  }

  function dispatch(msg: JsMsg) {
    const event = parse(msg);
    // The handler runs in the trace the event carries: its logs and the events it writes keep the saga's trace id.
    if (typeof event === 'string')
      return track(
        runInTrace(`dead-letter ${handler.type}`, msg.headers?.get(TRACEPARENT_HEADER) || null, () =>
          deadLetter(msg, event),
        ),
      );
    const key = event.correlationId;
    const next = (chains.get(key) ?? Promise.resolve())
      .then(() =>
        runInTrace(
          `${durable} ${handler.type}`,
          event.traceparent ?? (msg.headers?.get(TRACEPARENT_HEADER) || null),
          () => process(msg, event),
        ),
      )
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
            const consumer = await bus.js.consumers.get(stream, durable);
            // Short pulls: a pull request held by a consumer leader that died (a cluster node lost) is
            // noticed after two missed idle heartbeats, half of `expires` each: 5 s instead of 30 s.
            messages = await consumer.consume({ max_messages: concurrency * 2, expires: 5_000 });
            for await (const msg of messages) {
              dispatch(msg);
              while (inFlight.size >= concurrency) await Promise.race(inFlight);
              if (stopped) break;
            }
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
      await Promise.allSettled([...inFlight]);
    },
  };
}
export type EventConsumer = ReturnType<typeof createEventConsumer>;
