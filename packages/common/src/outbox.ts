import { headers as natsHeaders } from 'nats';
import type { Bus } from './nats.ts';
import type { EventEnvelope } from '@orderflow/contracts';
import type { Logger } from './logger.ts';
import { sqlPool, withTransaction } from './db.ts';

export interface OutboxRelayOptions {
  /** The service's Prisma client (from createPrismaClient); the relay's statements go straight to its pg pool. */
  db: object;
  bus: Bus;
  log: Logger;
  /** Rows per round. Default 200: one round trip per batch, bounded publish fan-out. */
  batchSize?: number;
  /**
   * Poll interval when nothing kicked the relay. Default 1 s: committed events
   * are published by their own commit (`afterCommit`) or a kick; the timed
   * rounds only pick up what a crash or a failed publish left behind (rows
   * older than POLL_MIN_AGE_MS), so polling faster costs statements for nothing.
   */
  intervalMs?: number;
  /** Published rows are deleted after this long. Default one day. */
  retainMs?: number;
  /**
   * How long events published at their commit wait to be marked published. Default 400 ms: every commit
   * within that time shares one UPDATE (at 30 orders/s, one statement for about twelve orders instead of
   * three at 100 ms). Well below POLL_MIN_AGE_MS, so the timed rounds never take them; a crash in between
   * republishes them, and the stream stores them once (Nats-Msg-Id).
   */
  markDelayMs?: number;
}

/**
 * Publishes outbox rows to JetStream after their transaction committed, with
 * `Nats-Msg-Id` = event id so a row published twice (crash between PubAck and
 * the update) is de-duplicated by the stream. Rows are claimed with
 * FOR UPDATE SKIP LOCKED, so any number of replicas can relay side by side.
 */
/** Least age of the rows a timed relay round takes (see `loop`). */
const POLL_MIN_AGE_MS = 1_000;

export function createOutboxRelay({
  db,
  bus,
  log,
  batchSize = 200,
  intervalMs = 1_000,
  retainMs = 24 * 3600_000,
  markDelayMs = 400,
}: OutboxRelayOptions) {
  const pool = sqlPool(db);
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let stopped = true;
  let again = false;
  let lastCleanup = 0;
  let scheduled: NodeJS.Timeout | null = null;

  function publish(id: string, subject: string, payload: EventEnvelope) {
    const h = natsHeaders();
    h.set('Nats-Msg-Id', id);
    if (payload.traceparent) h.set('traceparent', payload.traceparent);
    return bus.js.publish(bus.subject(subject), JSON.stringify(payload), { msgID: id, headers: h, timeout: 5_000 });
  }

  /**
   * Publishes events whose transaction has just committed, then marks their
   * rows published in one statement: one round trip instead of a relay
   * round's four (BEGIN, SELECT … FOR UPDATE, UPDATE, COMMIT). A row the
   * relay claims meanwhile is published twice and stored once (Nats-Msg-Id);
   * an event that fails to publish, or a crash before the update, is left to
   * the relay's rounds.
   */
  async function publishCommitted(events: EventEnvelope[]) {
    try {
      const results = await Promise.allSettled(events.map((e) => publish(e.id, e.type, e)));
      const acked = events.filter((_, i) => results[i].status === 'fulfilled').map((e) => e.id);
      if (acked.length) markPublished(acked);
      if (acked.length < events.length) kick();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'publishing committed events failed; the relay will');
      kick();
    }
  }

  /** Ids acked but not yet marked, the timer of the next mark, and the marks under way (one at a time). */
  let unmarked: string[] = [];
  let markTimer: NodeJS.Timeout | null = null;
  let marking: Promise<void> = Promise.resolve();

  /** Marks rows published `markDelayMs` from now, together with every other row acked by then. */
  function markPublished(ids: string[]) {
    unmarked.push(...ids);
    markTimer ??= setTimeout(() => {
      markTimer = null;
      void flushMarks();
    }, markDelayMs);
  }

  function flushMarks(): Promise<void> {
    marking = marking.then(async () => {
      if (unmarked.length === 0) return;
      const batch = unmarked;
      unmarked = [];
      try {
        await pool.query(`UPDATE outbox SET published_at = now() WHERE id = ANY($1::uuid[]) AND published_at IS NULL`, [
          batch,
        ]);
      } catch (err) {
        // Left unmarked: a timed round publishes them again, and the stream stores them once.
        log.warn({ err: (err as Error).message, rows: batch.length }, 'marking published outbox rows failed');
      }
    });
    return marking;
  }

  /**
   * Wake the relay (called after a commit that wrote events). Kicks within
   * a couple of milliseconds share one round: under load that is one
   * batch instead of one transaction per commit.
   */
  function kick() {
    if (scheduled || stopped) return;
    scheduled = setTimeout(() => {
      scheduled = null;
      void loop(true);
    }, 2);
  }

  /**
   * Whether any row older than `minAgeMs` waits: one cheap indexed statement, outside a transaction, so an idle
   * relay costs one query per round instead of a round's three (BEGIN, SELECT … FOR UPDATE, COMMIT).
   */
  async function anyWaiting(minAgeMs: number): Promise<boolean> {
    const { rows } = await pool.query<{ waiting: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM outbox WHERE published_at IS NULL AND created_at <= now() - ($1::int * interval '1 millisecond')) AS waiting`,
      [minAgeMs],
    );
    return rows[0]?.waiting === true;
  }

  /** One batch: rows written at least `minAgeMs` ago (by their transaction's start) that nobody has published. */
  async function relayOnce(minAgeMs = 0): Promise<number> {
    return withTransaction(pool, async (tx) => {
      const { rows } = await tx.query<{ id: string; subject: string; payload: EventEnvelope }>(
        `SELECT id::text, subject, payload FROM outbox
          WHERE published_at IS NULL AND created_at <= now() - ($2::int * interval '1 millisecond')
          ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [batchSize, minAgeMs],
      );
      if (rows.length === 0) return 0;
      const results = await Promise.allSettled(rows.map((row) => publish(row.id, row.subject, row.payload)));
      const acked = rows.filter((_, i) => results[i].status === 'fulfilled').map((r) => r.id);
      const failed = rows.filter((_, i) => results[i].status === 'rejected').map((r) => r.id);
      if (acked.length) await tx.query(`UPDATE outbox SET published_at = now() WHERE id = ANY($1::uuid[])`, [acked]);
      if (failed.length) {
        await tx.query(`UPDATE outbox SET attempts = attempts + 1 WHERE id = ANY($1::uuid[])`, [failed]);
        const reason = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as Error;
        log.warn({ failed: failed.length, err: reason?.message }, 'outbox publish failed; will retry');
      }
      return failed.length ? 0 : rows.length;
    });
  }

  /**
   * A kicked round takes every unpublished row. A timed round takes only rows
   * older than `POLL_MIN_AGE_MS`: younger ones are being published by the
   * service that committed them (`afterCommit`), and taking them too would
   * publish them twice (stored once, but sent twice).
   */
  async function loop(kicked: boolean) {
    if (stopped) return;
    if (running) {
      if (kicked) again = true;
      return;
    }
    running = true;
    try {
      let minAgeMs = kicked ? 0 : POLL_MIN_AGE_MS;
      again = false;
      const waiting = kicked || (await anyWaiting(minAgeMs));
      if (again) minAgeMs = 0; // kicked during the check
      if (waiting || again)
        do {
          again = false;
          let n: number;
          do n = await relayOnce(minAgeMs);
          while (n === batchSize && !stopped);
          minAgeMs = 0; // kicked while running
        } while (again && !stopped);
      if (Date.now() - lastCleanup > 60_000) {
        lastCleanup = Date.now();
        await pool.query(`DELETE FROM outbox WHERE published_at < now() - ($1::int * interval '1 millisecond')`, [
          retainMs,
        ]);
      }
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'outbox relay round failed; retrying');
    } finally {
      running = false;
    }
  }

  return {
    start() {
      stopped = false;
      timer = setInterval(() => void loop(false), intervalMs);
      void loop(true);
    },
    kick,
    /**
     * After a commit that wrote outbox rows: publishes `events` (from
     * `eventsWrittenIn(tx)`) at once, or, without them (rows written by
     * plain SQL), wakes the relay.
     */
    afterCommit(events: EventEnvelope[] = []) {
      if (stopped) return;
      if (events.length) void publishCommitted(events);
      else kick();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      if (scheduled) clearTimeout(scheduled);
      if (markTimer) clearTimeout(markTimer);
      markTimer = null;
      await flushMarks();
      while (running) await new Promise((r) => setTimeout(r, 10));
    },
    /** Publishes everything pending; for tests and graceful shutdown. */
    async drain() {
      while ((await relayOnce()) > 0);
    },
  };
}
export type OutboxRelay = ReturnType<typeof createOutboxRelay>;
