import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TRANSACTION_LIMITS, applyMigrations, sqlPool, type Sql } from '@orderflow/common/db';
import { createEvent, eventsWrittenIn, publishingTransaction, writeOutbox } from '@orderflow/common/messaging';
import { type EventEnvelope } from '@orderflow/contracts';
import { createDb, type Db } from '../src/db.ts';

// The plain-SQL transactions of the hot paths (packages/common/src/events.ts), on a
// real PostgreSQL, with a pool of ONE connection so that every transaction
// reuses the same pooled client.
describe('publishingTransaction', () => {
  let db: Db;
  beforeAll(async () => {
    const url = `postgresql://postgres@127.0.0.1:${inject('postgresPort')}/orders_sqltx_${randomBytes(4).toString('hex')}`;
    await applyMigrations({
      databaseUrl: url,
      migrationsDir: fileURLToPath(new URL('../prisma/migrations', import.meta.url)),
    });
    db = createDb(url, { poolSize: 1 });
  });
  afterAll(async () => db?.$disconnect());

  const event = () =>
    createEvent({
      type: 'orders.cancelled',
      source: 'orders',
      correlationId: randomUUID(),
      data: { orderId: randomUUID(), reason: 'test', stockCommitted: false },
    });
  /** The events handed over after each commit. */
  const handed: EventEnvelope[][] = [];
  const afterCommit = (events: EventEnvelope[]) => handed.push(events);
  const outboxHas = async (id: string) =>
    (await sqlPool(db).query('SELECT 1 FROM outbox WHERE id = $1::uuid', [id])).rowCount === 1;

  it('prepares a parameterised statement once per connection and runs it by name afterwards', async () => {
    const text = 'SELECT count(*)::int AS n FROM outbox WHERE subject = $1';
    const prepared = () =>
      sqlPool(db).query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1 AND NOT from_sql`,
        [text],
      );
    expect((await prepared()).rows[0].n).toBe(0);
    for (const subject of ['orders.cancelled', 'orders.created', 'orders.cancelled'])
      await sqlPool(db).query(text, [subject]);
    // One connection: the text was parsed once, and its later runs reused the statement by name.
    expect((await prepared()).rows[0].n).toBe(1);
    // Inside a transaction too (the same pooled connection): no second preparation.
    await publishingTransaction(db, (tx) => tx.query(text, ['orders.created']), afterCommit);
    expect((await prepared()).rows[0].n).toBe(1);
  });

  it('commits what fn wrote, and reports only the events of its own transaction on a reused connection', async () => {
    const first = event();
    const second = event();
    let tx1: Sql | undefined;
    let tx2: Sql | undefined;
    await publishingTransaction(
      db,
      async (tx) => {
        tx1 = tx;
        await writeOutbox(tx, first);
      },
      afterCommit,
    );
    await publishingTransaction(
      db,
      async (tx) => {
        tx2 = tx;
        await writeOutbox(tx, second);
      },
      afterCommit,
    );
    expect(eventsWrittenIn(tx1!).map((e) => e.id)).toEqual([first.id]);
    expect(eventsWrittenIn(tx2!).map((e) => e.id)).toEqual([second.id]);
    expect(await outboxHas(first.id)).toBe(true);
    expect(await outboxHas(second.id)).toBe(true);
  });

  it('rolls everything back when fn throws, and the connection serves the next transaction', async () => {
    const lost = event();
    await expect(
      publishingTransaction(
        db,
        async (tx) => {
          await writeOutbox(tx, lost);
          throw new Error('handler failed');
        },
        afterCommit,
      ),
    ).rejects.toThrow('handler failed');
    expect(await outboxHas(lost.id)).toBe(false);
    const kept = event();
    await publishingTransaction(db, (tx) => writeOutbox(tx, kept), afterCommit);
    expect(await outboxHas(kept.id)).toBe(true);
  });

  it('hands over the events it wrote after the commit, and nothing after a rollback or when it wrote none', async () => {
    handed.length = 0;
    const committed = event();
    await publishingTransaction(db, (tx) => writeOutbox(tx, committed), afterCommit);
    await publishingTransaction(db, async () => {}, afterCommit);
    await expect(
      publishingTransaction(
        db,
        async (tx) => {
          await writeOutbox(tx, event());
          throw new Error('handler failed');
        },
        afterCommit,
      ),
    ).rejects.toThrow('handler failed');
    expect(handed.map((events) => events.map((e) => e.id))).toEqual([[committed.id]]);
  });

  it('runs with the same time bounds as Prisma transactions: a stuck statement or an idle transaction cannot hold locks for ever', async () => {
    const settings = await publishingTransaction(
      db,
      async (tx) => {
        const { rows } = await tx.query<{ statement: string; idle: string }>(
          `SELECT current_setting('statement_timeout') AS statement, current_setting('idle_in_transaction_session_timeout') AS idle`,
        );
        return rows[0];
      },
      afterCommit,
    );
    const seconds = `${TRANSACTION_LIMITS.timeout / 1000}s`;
    expect(settings).toEqual({ statement: seconds, idle: seconds });
  });
});
