import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyMigrations, sqlPool } from '@orderflow/common/db';
import {
  RetryLater,
  connectBus,
  createEvent,
  createEventConsumer,
  type Bus,
  type EventHandler,
} from '@orderflow/common/messaging';
import { createLogger } from '@orderflow/common/observability';
import type { EventEnvelope } from '@orderflow/contracts';
import { startMailSink, type MailSink } from '@orderflow/devstack';
import { createDb, type Db } from '../subgraphs/orders/src/db.ts';
import { createMailer, notificationHandlers, type Mailer } from '../subgraphs/orders/src/events/notifications.ts';
import { createHistoryIds, insertPlacedOrder } from '../subgraphs/orders/src/store/orders-store.ts';
import { eventually } from './support/system.ts';
import { natsAdminOptions } from './support/nats-auth.ts';

// The customer emails (subgraphs/orders/src/events/notifications.ts, store/notifications-store.ts,
// docs/decisions/008-emails-once-in-stage-order.md) on a real PostgreSQL (an orders database of their own),
// the real SMTP sink and, for the consumers, the run's real nats-server. A "replica" is what a second
// process of the orders service has: its own pool, SMTP transport and SENT marks.
const log = createLogger('emails-test', 'silent');

let url: string;
let sink: MailSink;
const stops: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  url = `postgresql://postgres@127.0.0.1:${inject('postgresPort')}/orders_emails_${randomBytes(4).toString('hex')}`;
  await applyMigrations({
    databaseUrl: url,
    migrationsDir: fileURLToPath(new URL('../subgraphs/orders/prisma/migrations', import.meta.url)),
  });
  sink = await startMailSink();
  stops.push(() => sink.stop());
});
afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => {});
});

interface Replica {
  db: Db;
  handlers: ReturnType<typeof notificationHandlers>;
  /** Every statement this replica sent to PostgreSQL. */
  statements: string[];
}

/** Counts the statements sent through the pool the email code uses (sqlPool). */
function countStatements(db: Db): string[] {
  const pool = sqlPool(db);
  const statements: string[] = [];
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    statements.push(typeof args[0] === 'string' ? args[0] : (args[0] as { text: string }).text);
    return query(...args);
  };
  return statements;
}

function replica({ markDelayMs, mailer }: { markDelayMs?: number; mailer?: (real: Mailer) => Mailer } = {}): Replica {
  const db = createDb(url, { poolSize: 4 });
  const statements = countStatements(db);
  const real = createMailer({ smtpUrl: sink.url, from: 'shop@example.test' });
  stops.push(async () => {
    real.close();
    await db.$disconnect();
  });
  return {
    db,
    statements,
    handlers: notificationHandlers({ db, mailer: mailer ? mailer(real) : real, log, markDelayMs }),
  };
}

let historyIds: () => Promise<bigint>;
/** A placed order of a customer of its own (`<name>-<random>@example.test`). */
async function placeOrder(db: Db, name: string) {
  historyIds ??= createHistoryIds(sqlPool(db));
  const id = randomUUID();
  const email = `${name}-${randomBytes(3).toString('hex')}@example.test`;
  await insertPlacedOrder(sqlPool(db), {
    order: {
      id,
      customerId: randomUUID(),
      customerEmail: email,
      totalCents: 2_500,
      currencyCode: 'EUR',
      shippingAddress: { name: 'Ada', line1: '1 Main St', city: 'Springfield', postalCode: '12345', country: 'DE' },
      paymentToken: 'tok_visa',
      idempotencyKey: randomUUID(),
      requestHash: 'h',
    },
    lines: [{ productId: randomUUID(), productName: 'Kettle', quantity: 1, unitPriceCents: 2_500 }],
    changeId: await historyIds(),
    placedAt: new Date(),
    events: [],
  });
  return { id, email };
}

const created = (orderId: string, email: string) =>
  createEvent({
    type: 'orders.created',
    source: 'test',
    correlationId: orderId,
    data: {
      orderId,
      customerId: 'c',
      customerEmail: email,
      items: [{ productId: randomUUID(), quantity: 1, unitPrice: '25.00' }],
      totalAmount: { amount: '25.00', currencyCode: 'EUR' },
      paymentToken: 'tok_visa',
    },
  });

const statusChanged = (
  orderId: string,
  previousStatus: 'PENDING_SHIPMENT' | 'SHIPPED' | 'IN_TRANSIT',
  status: 'SHIPPED' | 'DELIVERED' | 'IN_TRANSIT',
) =>
  createEvent({
    type: 'orders.status_changed',
    source: 'test',
    correlationId: orderId,
    data: { orderId, customerId: 'c', previousStatus, status, reason: null },
  });

/** One delivery of `event` to a replica's handler, as its consumer would make it (`attempt` = delivery count). */
function deliver(r: Replica, event: EventEnvelope, attempt = 1): Promise<void> {
  const handler = (event.type === 'orders.created' ? r.handlers.received : r.handlers.statusChanged) as EventHandler<
    unknown,
    Db
  >;
  return handler.handle(event, { tx: r.db, attempt, log });
}

const mailsTo = (email: string) => sink.messages.filter((m) => m.to.includes(email));
const subjectsTo = (email: string) => mailsTo(email).map((m) => m.header('subject') ?? '');
const messageId = (event: EventEnvelope) => `<${event.id}@orderflow.local>`;

async function row(db: Db, eventId: string) {
  const {
    rows: [r],
  } = await sqlPool(db).query<{ status: string; attempts: number }>(
    `SELECT status::text, attempts FROM notifications WHERE event_id = $1::uuid`,
    [eventId],
  );
  return r;
}

describe('customer emails', () => {
  it('send each email with one statement: its claim, which also carries the SENT marks of the emails sent before', async () => {
    const r = replica({ markDelayMs: 100 });
    const orders = await Promise.all(Array.from({ length: 20 }, (_, i) => placeOrder(r.db, `one-statement-${i}`)));
    const events = orders.map((o) => created(o.id, o.email));
    r.statements.length = 0;
    // A steady flow of 50 emails a second: each event is handled when it arrives, as the consumer does (it
    // handles up to `concurrency` at once and acknowledges each after its SENT mark).
    const handled: Promise<void>[] = [];
    for (const e of events) {
      handled.push(deliver(r, e));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await Promise.all(handled);
    const statements = [...r.statements];
    for (const o of orders)
      expect(subjectsTo(o.email)).toEqual([`We received your order ${o.id.slice(0, 8).toUpperCase()}`]);
    for (const e of events) expect(await row(r.db, e.id)).toEqual({ status: 'SENT', attempts: 1 });
    const perEmail = statements.length / events.length;
    console.log(
      `emails: ${statements.length} statements (${statements.filter((s) => /^\s*UPDATE/.test(s)).length} of them SENT marks alone) for ${events.length} emails = ${perEmail} per email, each its own transaction (before: 3 and 3)`,
    );
    expect(statements.some((s) => /^\s*BEGIN/i.test(s))).toBe(false);
    // One claim each; the marks ride on the next claim, except where none followed within 100 ms (the last one,
    // and any a busy machine delays). Before: a read, a claim and a mark, three statements and transactions.
    expect(perEmail).toBeLessThan(1.6);
  });

  it('sends one email when two replicas handle the same event at once', async () => {
    const [a, b] = [replica(), replica()];
    const orders = await Promise.all(Array.from({ length: 10 }, (_, i) => placeOrder(a.db, `race-${i}`)));
    const events = orders.map((o) => created(o.id, o.email));
    await Promise.all(events.flatMap((e) => [deliver(a, e), deliver(b, e), deliver(a, e, 2)]));
    for (const [i, o] of orders.entries()) {
      expect(mailsTo(o.email).map((m) => m.header('message-id'))).toEqual([messageId(events[i])]);
      expect(await row(a.db, events[i].id)).toEqual({ status: 'SENT', attempts: 1 });
    }
  });

  it('never sends an email again once it may have gone out: a crash between the send and its SENT mark', async () => {
    // Replica A sends, and dies before its mark is written (here: the mark would wait a minute; A is abandoned).
    let sentByA = 0;
    const a = replica({
      markDelayMs: 60_000,
      mailer: (real) => ({ ...real, send: async (m) => (await real.send(m), void sentByA++) }),
    });
    const order = await placeOrder(a.db, 'crash-after-send');
    const event = created(order.id, order.email);
    void deliver(a, event).catch(() => {});
    await eventually(async () => sentByA === 1);
    expect(await row(a.db, event.id)).toEqual({ status: 'PENDING', attempts: 1 });
    // JetStream redelivers the unacknowledged event to replica B.
    const b = replica();
    await deliver(b, event, 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(mailsTo(order.email)).toHaveLength(1);
    expect(await row(b.db, event.id)).toEqual({ status: 'PENDING', attempts: 1 });
    // A minute later a redelivery records that it may or may not have gone out; still never sent again.
    await sqlPool(b.db).query(
      `UPDATE notifications SET updated_at = now() - interval '2 minutes' WHERE event_id = $1::uuid`,
      [event.id],
    );
    await deliver(b, event, 3);
    expect(await row(b.db, event.id)).toEqual({ status: 'UNKNOWN', attempts: 1 });
    expect(mailsTo(order.email)).toHaveLength(1);
  });

  it('tries a SENT mark that fails again, and acknowledges the email once its row says SENT', async () => {
    const r = replica({ markDelayMs: 50 });
    const order = await placeOrder(r.db, 'mark-fails');
    const event = created(order.id, order.email);
    // The database refuses the SENT marks for a while (a restart, seen from the statement).
    const pool = sqlPool(r.db);
    await pool.query(`CREATE TABLE refuse_sent_marks (since timestamptz NOT NULL DEFAULT now())`);
    await pool.query(`CREATE FUNCTION refuse_sent_marks() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status = 'SENT' AND EXISTS (SELECT 1 FROM refuse_sent_marks) THEN RAISE EXCEPTION 'not now'; END IF;
        RETURN NEW;
      END $$`);
    await pool.query(
      `CREATE TRIGGER refuse_sent_marks BEFORE UPDATE ON notifications FOR EACH ROW EXECUTE FUNCTION refuse_sent_marks()`,
    );
    try {
      await pool.query(`INSERT INTO refuse_sent_marks DEFAULT VALUES`);
      let settled: string | null = null;
      const handled = deliver(r, event).then(
        () => (settled = 'acknowledged'),
        (err: Error) => (settled = `failed: ${err.message}`),
      );
      await eventually(async () => mailsTo(order.email).length === 1);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect({ settled, row: await row(r.db, event.id) }).toEqual({
        settled: null,
        row: { status: 'PENDING', attempts: 1 },
      });
      await pool.query(`DELETE FROM refuse_sent_marks`);
      await handled;
      expect(settled).toBe('acknowledged');
      expect(await row(r.db, event.id)).toEqual({ status: 'SENT', attempts: 1 });
      expect(mailsTo(order.email)).toHaveLength(1);
    } finally {
      await pool.query(`DROP TRIGGER refuse_sent_marks ON notifications`);
      await pool.query(`DROP FUNCTION refuse_sent_marks(); DROP TABLE refuse_sent_marks`);
    }
  });

  it('records a refused send at once, so the next delivery sends it, once', async () => {
    const r = replica({ markDelayMs: 50 });
    const order = await placeOrder(r.db, 'smtp-refuses');
    const event = created(order.id, order.email);
    sink.setRefusing(true);
    try {
      await expect(deliver(r, event)).rejects.toBeInstanceOf(RetryLater);
    } finally {
      sink.setRefusing(false);
    }
    expect(await row(r.db, event.id)).toEqual({ status: 'FAILED', attempts: 1 });
    // The nak's delay has passed: the second delivery (any replica) takes the email back and sends it.
    await deliver(replica(), event, 2);
    await deliver(r, event, 3);
    expect(mailsTo(order.email)).toHaveLength(1);
    expect(await row(r.db, event.id)).toEqual({ status: 'SENT', attempts: 2 });
  });

  it('records a refused send once the database takes it, so the email is still sent later', async () => {
    const r = replica();
    const order = await placeOrder(r.db, 'refused-during-restart');
    const event = created(order.id, order.email);
    const pool = sqlPool(r.db);
    await pool.query(`CREATE TABLE refuse_failed_marks (since timestamptz NOT NULL DEFAULT now())`);
    await pool.query(`CREATE FUNCTION refuse_failed_marks() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status = 'FAILED' AND EXISTS (SELECT 1 FROM refuse_failed_marks) THEN RAISE EXCEPTION 'not now'; END IF;
        RETURN NEW;
      END $$`);
    await pool.query(
      `CREATE TRIGGER refuse_failed_marks BEFORE UPDATE ON notifications FOR EACH ROW EXECUTE FUNCTION refuse_failed_marks()`,
    );
    try {
      // The SMTP server refuses while the database refuses to record it, for 1.5 s.
      await pool.query(`INSERT INTO refuse_failed_marks DEFAULT VALUES`);
      sink.setRefusing(true);
      const handled = deliver(r, event).catch((err: Error) => err);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      sink.setRefusing(false);
      await pool.query(`DELETE FROM refuse_failed_marks`);
      expect(await handled).toBeInstanceOf(RetryLater);
      expect(await row(r.db, event.id)).toEqual({ status: 'FAILED', attempts: 1 });
      await deliver(r, event, 2);
      expect(mailsTo(order.email)).toHaveLength(1);
      expect(await row(r.db, event.id)).toEqual({ status: 'SENT', attempts: 2 });
    } finally {
      sink.setRefusing(false);
      await pool.query(`DROP TRIGGER refuse_failed_marks ON notifications`);
      await pool.query(`DROP FUNCTION refuse_failed_marks(); DROP TABLE refuse_failed_marks`);
    }
  });

  it("sends an order's emails in stage order when a replica handles a later stage first", async () => {
    const [a, b] = [replica(), replica()];
    const order = await placeOrder(a.db, 'stage-order');
    const received = created(order.id, order.email);
    const shipped = statusChanged(order.id, 'PENDING_SHIPMENT', 'SHIPPED');
    const delivered = statusChanged(order.id, 'IN_TRANSIT', 'DELIVERED');
    // B gets SHIPPED and DELIVERED before A has handled orders.created: both wait (nak with a delay).
    await expect(deliver(b, shipped)).rejects.toThrow(/waiting for the order-received email/);
    await expect(deliver(b, delivered)).rejects.toThrow(/waiting for the shipped email/);
    expect(mailsTo(order.email)).toHaveLength(0);
    await deliver(a, received);
    await expect(deliver(b, delivered, 2)).rejects.toThrow(/waiting for the shipped email/);
    await deliver(b, shipped, 2);
    await deliver(a, delivered, 3);
    expect(mailsTo(order.email).map((m) => m.header('message-id'))).toEqual(
      [received, shipped, delivered].map(messageId),
    );
  });

  it('does not hold the next email back behind one that died mid-send', async () => {
    const r = replica();
    const order = await placeOrder(r.db, 'after-unknown');
    // The order-received attempt died after its claim two minutes ago: it may or may not have gone out.
    await sqlPool(r.db).query(
      `INSERT INTO notifications (event_id, order_id, kind, recipient, status, updated_at) VALUES ($1::uuid, $2::uuid, 'order-received', $3, 'PENDING', now() - interval '2 minutes')`,
      [randomUUID(), order.id, order.email],
    );
    const shipped = statusChanged(order.id, 'PENDING_SHIPMENT', 'SHIPPED');
    await deliver(r, shipped);
    expect(mailsTo(order.email).map((m) => m.header('message-id'))).toEqual([messageId(shipped)]);
  });
});

describe('the email consumers on two replicas', () => {
  let prefix: string;
  const buses: Bus[] = [];
  beforeAll(() => {
    prefix = `em${randomBytes(4).toString('hex')}`;
  });
  afterAll(async () => {
    for (const b of buses) await b.close().catch(() => {});
  });

  async function startReplica() {
    const admin = natsAdminOptions(inject('natsUrl'));
    const bus = await connectBus({
      url: inject('natsUrl'),
      user: admin.user,
      password: admin.pass,
      prefix,
      name: 'emails-test',
      log,
    });
    buses.push(bus);
    const r = replica();
    for (const handler of [r.handlers.received, r.handlers.statusChanged]) {
      const consumer = createEventConsumer({
        bus,
        db: r.db,
        log,
        service: 'orders',
        handler: handler as EventHandler<unknown, Db>,
        maxDeliver: 30,
        concurrency: 4,
        retryScale: 0.2,
      });
      await consumer.init();
      consumer.start();
      stops.push(() => consumer.stop());
    }
    return { bus, r };
  }

  it("send every email once and each order's in stage order, with its three events published at once", async () => {
    const [a, b] = [await startReplica(), await startReplica()];
    const orders = await Promise.all(Array.from({ length: 20 }, (_, i) => placeOrder(a.r.db, `replicas-${i}`)));
    const stages = orders.map((o) => [
      created(o.id, o.email),
      statusChanged(o.id, 'PENDING_SHIPMENT', 'SHIPPED'),
      statusChanged(o.id, 'IN_TRANSIT', 'DELIVERED'),
    ]);
    // Each order's three events at once, in stage order on the stream; two consumers (orders.created and
    // orders.status_changed) on each of two replicas take them.
    await Promise.all(
      stages.flat().map((e) => a.bus.js.publish(a.bus.subject(e.type), JSON.stringify(e), { msgID: e.id })),
    );
    await eventually(async () => orders.every((o) => mailsTo(o.email).length >= 3), { timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 500));
    for (const [i, o] of orders.entries())
      expect(mailsTo(o.email).map((m) => m.header('message-id'))).toEqual(stages[i].map(messageId));
    const { rows } = await sqlPool(a.r.db).query<{ status: string; n: number }>(
      `SELECT status::text, count(*)::int AS n FROM notifications WHERE order_id = ANY($1::uuid[]) GROUP BY status`,
      [orders.map((o) => o.id)],
    );
    expect(rows).toEqual([{ status: 'SENT', n: 60 }]);
    const statements = a.r.statements.length + b.r.statements.length;
    console.log(
      `two replicas, 60 emails published in a burst: ${statements} statements (${(statements / 60).toFixed(2)} per email, waits for the previous stage included)`,
    );
  });
});
