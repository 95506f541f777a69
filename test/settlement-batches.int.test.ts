import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyMigrations, sqlPool } from '@orderflow/common/db';
import { connectBus, createEvent, createEventConsumer, type Bus, type EventHandler } from '@orderflow/common/messaging';
import { createLogger } from '@orderflow/common/observability';
import type { EventEnvelope } from '@orderflow/contracts';
import { createDb } from '../subgraphs/products/src/db.ts';
import { inventoryHandlers } from '../subgraphs/products/src/events/saga-handlers.ts';
import { createInventoryService } from '../subgraphs/products/src/service/inventory-service.ts';
import { natsAdminOptions } from './support/nats-auth.ts';
import { eventually } from './support/system.ts';

// Batched settlement consumers (packages/common/src/consumer.ts, docs/decisions/004-batched-consumers.md) on a
// real PostgreSQL products database and the run's real nats-server: two replicas of the commit consumer and
// the release consumer apply batches of settlements of multi-line orders over the same four products while
// reservations of those products keep arriving. Settled one after another in a batch, the orders' products
// were locked in the batch's event order, not in product id order: batches deadlocked each other and the
// reservations (PostgreSQL "deadlock detected", a batch redone event by event, a placeOrder failed).

const silent = createLogger('settlement-batches-test', 'silent');

async function bus(prefix: string, name: string): Promise<Bus> {
  const admin = natsAdminOptions(inject('natsUrl'));
  return connectBus({ url: inject('natsUrl'), user: admin.user, password: admin.pass, prefix, name, log: silent });
}

describe('batched settlements', () => {
  const stops: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  });

  let url: string;
  beforeAll(async () => {
    url = `postgresql://postgres@127.0.0.1:${inject('postgresPort')}/products_batches_${randomBytes(4).toString('hex')}`;
    await applyMigrations({
      databaseUrl: url,
      migrationsDir: fileURLToPath(new URL('../subgraphs/products/prisma/migrations', import.meta.url)),
    });
  });

  it('commits and releases batches of crossing multi-line orders, beside new reservations, without a deadlock', async () => {
    const prefix = `sb${randomBytes(4).toString('hex')}`;
    /** The consumers' debug lines: a batch that failed, and why. */
    const batchFailures: string[] = [];
    const capture = createLogger('settlement-batches-test', 'debug', {
      write(line: string) {
        const entry = JSON.parse(line) as { msg?: string; err?: string };
        if (entry.msg === 'batch failed; handling its events alone') batchFailures.push(entry.err ?? '');
      },
    });
    // Each replica its own pool and NATS connection, as two processes.
    const replica = async (n: number) => {
      const db = createDb(url, { poolSize: 6 });
      stops.push(() => db.$disconnect());
      const b = await bus(prefix, `settlement-batches-${n}`);
      stops.push(() => b.close());
      return { db, b, inventory: createInventoryService({ db, log: silent }) };
    };
    const [one, two] = [await replica(1), await replica(2)];
    const sql = sqlPool(one.db);

    const products: string[] = [];
    for (let i = 0; i < 4; i++) {
      const id = randomUUID();
      await sql.query(
        `INSERT INTO products (id, sku, name, price_cents, available, stocked) VALUES ($1::uuid, $2, 'Widget', 250, 1000000, 1000000)`,
        [id, `sku-${id}`],
      );
      products.push(id);
    }
    // Two or three lines over the four products, in every combination and line order: orders of one batch
    // lock crossing sets of products.
    const linesOf = (i: number) => {
      const shift = i % 4;
      const picked = [0, 1, 2, 3].map((k) => products[(k + shift) % 4]).slice(0, 2 + (i % 2));
      if (i % 3 === 0) picked.reverse();
      return picked.map((productId, n) => ({ productId, quantity: 1 + ((i + n) % 3) }));
    };
    const orders = Array.from({ length: 480 }, (_, i) => ({ id: randomUUID(), lines: linesOf(i), paid: i % 3 !== 0 }));
    for (const o of orders) expect((await one.inventory.reserve(o.id, o.lines)).status).toBe('reserved');

    const { rows: before } = await sql.query<{ deadlocks: string }>(
      `SELECT deadlocks::text FROM pg_stat_database WHERE datname = current_database()`,
    );

    // Their payments' outcomes wait in the streams, in an order unrelated to the orders' ids.
    const events: EventEnvelope[] = orders.map((o) =>
      o.paid
        ? createEvent({
            type: 'payments.succeeded',
            source: 'test',
            correlationId: o.id,
            data: { orderId: o.id, paymentId: randomUUID(), amount: { amount: '1.00', currencyCode: 'USD' } },
          })
        : createEvent({
            type: 'payments.failed',
            source: 'test',
            correlationId: o.id,
            data: { orderId: o.id, reason: 'declined', retryable: false },
          }),
    );
    for (const e of events) await one.b.js.publish(one.b.subject(e.type), JSON.stringify(e), { msgID: e.id });

    // Two replicas of the products service: each runs the commit and the release consumer (one durable each).
    for (const r of [one, two]) {
      const handlers = inventoryHandlers(r.inventory).filter((h) =>
        ['payments.succeeded', 'payments.failed'].includes(h.type),
      );
      for (const handler of handlers) {
        const consumer = createEventConsumer({
          bus: r.b,
          db: r.db,
          log: capture,
          service: 'products',
          handler: handler as EventHandler<unknown>,
          batchSize: 32,
          retryScale: 0.01,
        });
        await consumer.init();
        consumer.start();
        stops.push(() => consumer.stop());
      }
    }

    // Meanwhile customers keep reserving the same products, two and three lines at a time.
    let settling = true;
    const reserved: { id: string; lines: { productId: string; quantity: number }[] }[] = [];
    const reserveFailures: string[] = [];
    const customers = Array.from({ length: 4 }, async (_, c) => {
      for (let i = c; settling; i += 4) {
        const order = { id: randomUUID(), lines: linesOf(i) };
        try {
          expect((await two.inventory.reserve(order.id, order.lines)).status).toBe('reserved');
          reserved.push(order);
        } catch (err) {
          reserveFailures.push((err as Error).message);
        }
      }
    });

    const orderIds = orders.map((o) => o.id);
    await eventually(
      async () => {
        const { rows } = await sql.query<{ n: number }>(
          `SELECT count(DISTINCT order_id)::int AS n FROM reservations WHERE order_id = ANY($1::uuid[]) AND status <> 'ACTIVE'`,
          [orderIds],
        );
        return rows[0].n === orders.length;
      },
      { timeoutMs: 120_000 },
    );
    settling = false;
    await Promise.all(customers);

    // The statistics reach pg_stat_database within a second or so of a backend's transaction end.
    await new Promise((r) => setTimeout(r, 1_500));
    await sql.query(`SELECT pg_stat_clear_snapshot()`);
    const { rows: after } = await sql.query<{ deadlocks: string }>(
      `SELECT deadlocks::text FROM pg_stat_database WHERE datname = current_database()`,
    );
    const deadlocks = Number(after[0].deadlocks) - Number(before[0].deadlocks);
    console.log(
      `${orders.length} settlements beside ${reserved.length} reservations: ${deadlocks} deadlock(s), ` +
        `${batchFailures.length} batch(es) redone event by event, ${reserveFailures.length} reservation(s) failed`,
    );
    expect(deadlocks).toBe(0);
    expect(batchFailures.filter((e) => /deadlock/i.test(e))).toEqual([]);
    expect(reserveFailures).toEqual([]);

    // Every order settled once, as its payment said; every unit is where one statement put it.
    const { rows: statuses } = await sql.query<{ order_id: string; status: string }>(
      `SELECT DISTINCT order_id::text, status::text FROM reservations WHERE order_id = ANY($1::uuid[])`,
      [orderIds],
    );
    const statusOf = new Map(statuses.map((s) => [s.order_id, s.status]));
    expect(statuses).toHaveLength(orders.length);
    for (const o of orders) expect(statusOf.get(o.id), o.id).toBe(o.paid ? 'COMMITTED' : 'RELEASED');
    const units = (list: { lines: { productId: string; quantity: number }[] }[], p: string) =>
      list.reduce((sum, o) => sum + o.lines.filter((l) => l.productId === p).reduce((s, l) => s + l.quantity, 0), 0);
    const { rows: stock } = await sql.query<{
      id: string;
      available: number;
      reserved: number;
      sold: number;
      stocked: number;
    }>(`SELECT id::text, available, reserved, sold, stocked FROM products WHERE id = ANY($1::uuid[])`, [products]);
    for (const p of stock) {
      const sold = units(
        orders.filter((o) => o.paid),
        p.id,
      );
      const held = units(reserved, p.id);
      expect(p, `product ${p.id}`).toEqual({
        id: p.id,
        available: 1_000_000 - sold - held,
        reserved: held,
        sold,
        stocked: 1_000_000,
      });
    }
    const { rows: movements } = await sql.query<{ type: string; n: number }>(
      `SELECT type::text, count(*)::int AS n FROM stock_movements WHERE order_id = ANY($1::uuid[]) AND type <> 'RESERVE' GROUP BY 1 ORDER BY 1`,
      [orderIds],
    );
    const lines = (paid: boolean) => orders.filter((o) => o.paid === paid).reduce((n, o) => n + o.lines.length, 0);
    expect(movements).toEqual([
      { type: 'COMMIT', n: lines(true) },
      { type: 'RELEASE', n: lines(false) },
    ]);
  }, 180_000);
});
