import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { applyMigrations, sqlPool } from '@orderflow/common/db';
import {
  connectBus,
  createEvent,
  createEventConsumer,
  listDeadLetters,
  RetryLater,
  writeOutbox,
  type Bus,
  type EventConsumer,
  type EventHandler,
} from '@orderflow/common/messaging';
import { createLogger } from '@orderflow/common/observability';
import type { EventEnvelope } from '@orderflow/contracts';
import { createDb, type Db } from '../subgraphs/orders/src/db.ts';
import { onShipmentStatusUpdated } from '../subgraphs/orders/src/events/saga-handlers.ts';
import { eventually } from './support/system.ts';
import { natsAdminOptions } from './support/nats-auth.ts';

// Batched consumers (packages/common/src/consumer.ts, docs/decisions/004-batched-consumers.md) on a real
// PostgreSQL (an orders database: its inbox and outbox) and the run's real nats-server.
const log = createLogger('consumer-batches-test', 'silent');

async function bus(prefix: string, name: string): Promise<Bus> {
  // The operator's user: these tests publish on the saga's subjects and declare consumers of their own.
  const admin = natsAdminOptions(inject('natsUrl'));
  return connectBus({ url: inject('natsUrl'), user: admin.user, password: admin.pass, prefix, name, log });
}

async function ordersDatabase(poolSize = 4): Promise<{ url: string; db: Db }> {
  const url = `postgresql://postgres@127.0.0.1:${inject('postgresPort')}/orders_batches_${randomBytes(4).toString('hex')}`;
  await applyMigrations({
    databaseUrl: url,
    migrationsDir: fileURLToPath(new URL('../subgraphs/orders/prisma/migrations', import.meta.url)),
  });
  return { url, db: createDb(url, { poolSize }) };
}

const publish = (b: Bus, e: EventEnvelope) => b.js.publish(b.subject(e.type), JSON.stringify(e), { msgID: e.id });

describe('a batched consumer', () => {
  const stops: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  });

  let db: Db;
  /** This test's bus: streams of its own, so a consumer sees only the events its test published. */
  let b: Bus;
  beforeAll(async () => {
    ({ db } = await ordersDatabase());
    stops.push(() => db.$disconnect());
    await sqlPool(db).query(`CREATE TABLE applied (event_id uuid NOT NULL, txid bigint NOT NULL)`);
  });
  beforeEach(async () => {
    b = await bus(`cb${randomBytes(4).toString('hex')}`, 'consumer-batches-test');
    const mine = b;
    stops.push(() => mine.close());
  });

  /**
   * A handler that records each application (no unique key: an event applied twice shows twice) with its
   * transaction's id, writes one event to the outbox, and throws for events marked poison.
   */
  function recordingHandler(name: string): EventHandler<{ orderId: string; reason: string; stockCommitted: boolean }> {
    return {
      name,
      type: 'orders.cancelled',
      schema: z.object({ orderId: z.string(), reason: z.string(), stockCommitted: z.boolean() }),
      async handle(event, { tx, attempt }) {
        // "Not yet" on its first delivery, before writing anything (as the saga's handlers do).
        if (event.data.reason === 'later' && attempt === 1) throw new RetryLater(10, 'not yet');
        await tx.query(`INSERT INTO applied (event_id, txid) VALUES ($1::uuid, txid_current())`, [event.id]);
        await writeOutbox(
          tx,
          createEvent({
            type: 'orders.reservation_checked',
            source: 'test',
            correlationId: event.correlationId,
            causationId: event.id,
            data: { orderId: event.data.orderId, orderExists: true },
          }),
        );
        if (event.data.reason === 'poison') throw new Error('this event can never be applied');
      },
    };
  }

  const cancelled = (reason = 'test') =>
    createEvent({
      type: 'orders.cancelled',
      source: 'test',
      correlationId: randomUUID(),
      data: { orderId: randomUUID(), reason, stockCommitted: false },
    });

  /** The causes of the events the handler wrote to the outbox (committed rows). */
  async function outboxCauses(ids: string[]) {
    const { rows } = await sqlPool(db).query<{ cause: string }>(
      `SELECT payload->>'causationId' AS cause FROM outbox WHERE payload->>'causationId' = ANY($1::text[])`,
      [ids],
    );
    return rows.map((r) => r.cause).sort();
  }

  async function applications(ids: string[]) {
    const { rows } = await sqlPool(db).query<{ event_id: string; txid: string }>(
      `SELECT event_id::text, txid::text FROM applied WHERE event_id = ANY($1::uuid[])`,
      [ids],
    );
    return rows;
  }

  async function start(handler: EventHandler<never>, options: { batchSize: number; maxDeliver?: number }) {
    const published: EventEnvelope[] = [];
    const consumer: EventConsumer = createEventConsumer({
      bus: b,
      db,
      log,
      service: 'test',
      handler,
      retryScale: 0.01,
      afterCommit: (events) => published.push(...events),
      ...options,
    });
    await consumer.init();
    consumer.start();
    stops.push(() => consumer.stop());
    return { consumer, published };
  }

  it('applies the events that wait together in one transaction, each once, and publishes what they wrote', async () => {
    const events = Array.from({ length: 10 }, () => cancelled());
    // Published before the consumer starts: its first pull brings them all at once.
    for (const e of events) await publish(b, e);
    const { consumer, published } = await start(recordingHandler('together') as EventHandler<never>, {
      batchSize: 32,
    });
    const ids = events.map((e) => e.id);
    await eventually(async () => (await applications(ids)).length === ids.length);
    await eventually(async () => (await consumer.info()).num_ack_pending === 0);
    const rows = await applications(ids);
    const transactions = new Set(rows.map((r) => r.txid)).size;
    console.log(`10 waiting events applied in ${transactions} transaction(s)`);
    // One per event before batches; a pull that arrives in two reads may make two batches.
    expect(transactions).toBeLessThanOrEqual(3);
    expect(rows.map((r) => r.event_id).sort()).toEqual([...ids].sort());
    expect(published.map((e) => e.causationId).sort()).toEqual([...ids].sort());
    expect(await outboxCauses(ids)).toEqual([...ids].sort());
    const info = await consumer.info();
    expect({ redelivered: info.num_redelivered, pending: info.num_pending }).toEqual({ redelivered: 0, pending: 0 });
  });

  it('commits the rest of a batch at once when one event says "not yet", and applies that one later, once', async () => {
    const good = Array.from({ length: 9 }, () => cancelled());
    const later = cancelled('later');
    const events = [...good.slice(0, 5), later, ...good.slice(5)];
    for (const e of events) await publish(b, e);
    const { consumer } = await start(recordingHandler('later') as EventHandler<never>, { batchSize: 32 });
    const ids = events.map((e) => e.id);
    await eventually(async () => (await applications(ids)).length === ids.length);
    await eventually(async () => (await consumer.info()).num_ack_pending === 0);
    const rows = await applications(ids);
    expect(rows.map((r) => r.event_id).sort()).toEqual([...ids].sort());
    const goodTransactions = new Set(rows.filter((r) => r.event_id !== later.id).map((r) => r.txid));
    console.log(`9 good events beside a "not yet" applied in ${goodTransactions.size} transaction(s)`);
    // Not handled again one by one (9 transactions) because of their neighbour.
    expect(goodTransactions.size).toBeLessThanOrEqual(3);
    expect(await outboxCauses(ids)).toEqual([...ids].sort());
    expect((await listDeadLetters(b)).length).toBe(0);
  });

  it('isolates a poison event: the rest of its batch is applied once and never redelivered, the poison is dead-lettered', async () => {
    const good = Array.from({ length: 9 }, () => cancelled());
    const poison = cancelled('poison');
    const events = [...good.slice(0, 4), poison, ...good.slice(4)];
    for (const e of events) await publish(b, e);
    const maxDeliver = 3;
    const { consumer, published } = await start(recordingHandler('isolates') as EventHandler<never>, {
      batchSize: 32,
      maxDeliver,
    });

    const dead = await eventually(
      async () => {
        const letters = (await listDeadLetters(b)).filter((l) => l.consumer === 'test-isolates');
        return letters.length ? letters : null;
      },
      { timeoutMs: 30_000 },
    );
    expect(dead).toHaveLength(1);
    expect(JSON.parse(dead[0].original).id).toBe(poison.id);
    expect(dead[0].error).toContain('this event can never be applied');

    await eventually(async () => (await consumer.info()).num_ack_pending === 0);
    // Give a wrongful redelivery of a good event time to show (the consumer's retries here take milliseconds).
    await new Promise((r) => setTimeout(r, 1_000));
    const rows = await applications(events.map((e) => e.id));
    // Every good event exactly once; nothing of the poison survived (its writes rolled back with it).
    expect(rows.map((r) => r.event_id).sort()).toEqual(good.map((e) => e.id).sort());
    // Their outbox events went out once each, the poison's never.
    expect(published.map((e) => e.causationId).sort()).toEqual(good.map((e) => e.id).sort());
    expect(await outboxCauses(events.map((e) => e.id))).toEqual(good.map((e) => e.id).sort());
    const info = await consumer.info();
    // The only redeliveries are the poison's own attempts: ten first deliveries, then maxDeliver - 1 more.
    expect({
      deliveries: info.delivered.consumer_seq,
      pending: info.num_pending,
      unacked: info.num_ack_pending,
    }).toEqual({ deliveries: events.length + maxDeliver - 1, pending: 0, unacked: 0 });
  });
});

describe('two replicas consuming one durable', () => {
  const stops: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  });

  it('apply the shipment steps of each order in order (SHIPPED, IN_TRANSIT, DELIVERED), never out of order', async () => {
    const { url, db } = await ordersDatabase();
    stops.push(() => db.$disconnect());
    const prefix = `cr${randomBytes(4).toString('hex')}`;
    const publisher = await bus(prefix, 'shipments-test');
    stops.push(() => publisher.close());

    const orders = Array.from({ length: 30 }, () => randomUUID());
    for (const id of orders)
      await sqlPool(db).query(
        `INSERT INTO orders (id, customer_id, status, total_cents, ship_name, ship_line1, ship_city, ship_postal_code, ship_country, payment_token, idempotency_key, request_hash)
         VALUES ($1::uuid, 'customer', 'PENDING_SHIPMENT', 1000, 'Ada', '1 Main St', 'Town', '12345', 'US', 'tok_visa', $1, 'hash')`,
        [id],
      );

    // Each order's three steps one after another in the stream, as a fast delivery partner would send them, all
    // waiting before the replicas start: each replica's pulls take a few in turn, so the steps of one order are
    // split between the two.
    const steps = [
      ['PROCESSING', 'SHIPPED'],
      ['SHIPPED', 'IN_TRANSIT'],
      ['IN_TRANSIT', 'DELIVERED'],
    ] as const;
    for (const orderId of orders) {
      const shipmentId = randomUUID();
      for (const [previousStatus, status] of steps)
        await publish(
          publisher,
          createEvent({
            type: 'shipments.status_updated',
            source: 'shipments',
            correlationId: orderId,
            data: { shipmentId, orderId, previousStatus, status, location: null },
          }),
        );
    }

    // Two replicas of the orders service's consumer: each its own NATS connection and database pool, one durable.
    // Batches of 2 (pulls of 4): the replicas take turns every few messages.
    const replicas: EventConsumer[] = [];
    const applied: Record<string, number> = {};
    for (const name of ['orders-a', 'orders-b']) {
      applied[name] = 0;
      const replicaBus = await bus(prefix, name);
      const replicaDb = createDb(url, { poolSize: 4 });
      const consumer = createEventConsumer({
        bus: replicaBus,
        db: replicaDb,
        log,
        service: 'orders',
        handler: {
          ...onShipmentStatusUpdated,
          handle: (event, ctx) => {
            applied[name]++;
            return onShipmentStatusUpdated.handle(event, ctx);
          },
        },
        maxDeliver: 30,
        batchSize: 2,
        retryScale: 0.05,
      });
      await consumer.init();
      replicas.push(consumer);
      stops.push(
        () => replicaDb.$disconnect(),
        () => replicaBus.close(),
        () => consumer.stop(),
      );
    }

    for (const consumer of replicas) consumer.start();

    const history = async () =>
      (
        await sqlPool(db).query<{ order_id: string; statuses: string[] }>(
          `SELECT order_id::text, array_agg(status::text ORDER BY id) AS statuses FROM order_status_history GROUP BY order_id`,
        )
      ).rows;
    await eventually(async () => (await history()).filter((h) => h.statuses.length >= 3).length === orders.length, {
      timeoutMs: 60_000,
    });
    await eventually(async () => (await replicas[0].info()).num_ack_pending === 0, { timeoutMs: 30_000 });
    console.log(
      `90 shipment steps over two replicas: handler runs ${JSON.stringify(applied)} (beyond 90: a step that came before its predecessor waited and ran again)`,
    );
    // Both replicas took part, or this would be a test of one.
    expect(applied['orders-a']).toBeGreaterThan(0);
    expect(applied['orders-b']).toBeGreaterThan(0);
    for (const h of await history()) expect(h.statuses, h.order_id).toEqual(['SHIPPED', 'IN_TRANSIT', 'DELIVERED']);
    const { rows } = await sqlPool(db).query<{ status: string; n: number }>(
      `SELECT status::text, count(*)::int AS n FROM orders GROUP BY status`,
    );
    expect(rows).toEqual([{ status: 'DELIVERED', n: orders.length }]);
    expect((await listDeadLetters(publisher)).length).toBe(0);
  });
});
