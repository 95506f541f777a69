import { randomUUID } from 'node:crypto';
import type { EventData, EventEnvelope, EventType } from '@orderflow/contracts';
import { sqlPool, withTransaction, type Sql } from './db.ts';
import { currentTraceparent } from './trace-context.ts';

/**
 * A new event; its `traceparent` is the current trace context's unless given, its `id` a random one unless
 * given (an id derived from what the event is about makes a second write of the same event a no-op).
 */
export function createEvent<K extends EventType>({
  id = randomUUID(),
  type,
  source,
  correlationId,
  causationId = null,
  traceparent = currentTraceparent(),
  data,
  version = 1,
}: {
  id?: string;
  type: K;
  source: string;
  correlationId: string;
  causationId?: string | null;
  traceparent?: string | null;
  data: EventData<K>;
  version?: number;
}): EventEnvelope<EventData<K>> {
  return {
    id,
    type,
    version,
    occurredAt: new Date().toISOString(),
    source,
    correlationId,
    causationId,
    traceparent,
    data,
  };
}

/**
 * Writes events into the outbox table inside the caller's transaction
 * (`publishingTransaction`, or a consumer's), in one statement.
 */
export async function writeOutbox(tx: Sql, ...events: EventEnvelope[]): Promise<void> {
  if (events.length === 0) return;
  const collecting = collected.get(tx);
  if (collecting) return void collecting.push(...events);
  await tx.query(
    `INSERT INTO outbox (id, subject, payload) SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[])`,
    [events.map((e) => e.id), events.map((e) => e.type), events.map((e) => JSON.stringify(e))],
  );
  const written = writtenIn.get(tx);
  if (written) written.push(...events);
  else writtenIn.set(tx, [...events]);
}

/** Views from `collectOutboxWrites`, with the events written through each so far. */
const collected = new WeakMap<object, EventEnvelope[]>();

/**
 * A view of the transaction `tx` on which `writeOutbox` only collects the events; `flush()` writes all of them
 * in one statement, before the commit. A consumer's batch gives it to its handlers: one outbox insert per batch
 * instead of one per event. `onQuery` sees every statement sent through the view; `size()` is the number of
 * events collected so far.
 */
export function collectOutboxWrites(
  tx: Sql,
  onQuery: (text: string) => void = () => {},
): { tx: Sql; size(): number; flush(): Promise<void> } {
  const events: EventEnvelope[] = [];
  const view: Sql = {
    query: (text, values) => {
      onQuery(text);
      return tx.query(text, values);
    },
  };
  collected.set(view, events);
  return { tx: view, size: () => events.length, flush: () => writeOutbox(tx, ...events.splice(0)) };
}

/** The events `writeOutbox` wrote in each transaction, so its owner can publish them right after the commit. */
const writtenIn = new WeakMap<object, EventEnvelope[]>();

/**
 * The events written with `writeOutbox` in the transaction `tx` (empty when
 * none). Call it after the commit and hand them to the relay
 * (`relay.afterCommit(events)`): they are published at once instead of by the
 * relay's next round.
 */
export function eventsWrittenIn(tx: object): EventEnvelope[] {
  return writtenIn.get(tx) ?? [];
}

/**
 * The one way to open a plain-SQL transaction (docs/data-access.md): runs `fn` in a transaction on the
 * pool under a Prisma client from `createPrismaClient`, then — once it committed — hands the events
 * `writeOutbox` wrote in it to `afterCommit` (the relay's `afterCommit`: published at once; not called
 * when it wrote none, nor after a rollback). The hot paths' writes (each saga step, a cancel, a release)
 * use it: Prisma's interactive transaction costs four times the CPU of the same transaction on pg, and
 * each model call about three times the statement's (bench/prisma-overhead.ts); reads and the rare
 * writes that publish nothing stay on Prisma (`db.$transaction`).
 */
export async function publishingTransaction<R>(
  db: object,
  fn: (tx: Sql) => Promise<R>,
  afterCommit: (events: EventEnvelope[]) => void,
): Promise<R> {
  // `tx` belongs to this transaction only, so the events written through it are this transaction's.
  let written: object = {};
  const result = await withTransaction(sqlPool(db), (client) => {
    const tx: Sql = { query: (text, values) => client.query(text, values) as never };
    written = tx;
    return fn(tx);
  });
  const events = eventsWrittenIn(written);
  if (events.length) afterCommit(events);
  return result;
}
