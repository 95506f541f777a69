import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyMigrations, sqlPool } from '@orderflow/common/db';
import { createEvent } from '@orderflow/common/messaging';
import { createLogger, createTraceparent, withTraceparent } from '@orderflow/common/observability';
import type { EventEnvelope } from '@orderflow/contracts';
import { createDb, type Db } from '../src/db.ts';
import { createInventoryService, type InventoryService } from '../src/service/inventory-service.ts';
import { reserveStock } from '../src/store/inventory-store.ts';

/**
 * inventory.low_stock: decided in TypeScript from the rows the reservation statement locked, written by a
 * second statement only when a line crosses its product's threshold, and never lost or doubled when the
 * reservation call dies between the two.
 */
describe('low-stock alerts', () => {
  let db: Db;
  let inventory: InventoryService;
  const handed: EventEnvelope[] = [];
  beforeAll(async () => {
    const url = `postgresql://postgres@127.0.0.1:${inject('postgresPort')}/products_low_stock_${randomBytes(4).toString('hex')}`;
    await applyMigrations({
      databaseUrl: url,
      migrationsDir: fileURLToPath(new URL('../prisma/migrations', import.meta.url)),
    });
    db = createDb(url, { poolSize: 20 });
    inventory = createInventoryService({
      db,
      log: createLogger('products', 'silent'),
      afterCommit: (events) => handed.push(...events),
    });
  });
  afterAll(async () => db?.$disconnect());

  async function product(available: number, lowStockThreshold = 10) {
    const id = randomUUID();
    await db.product.create({
      data: { id, sku: id, name: 'gauge', priceCents: 100, available, stocked: available, lowStockThreshold },
    });
    return id;
  }

  /** The low-stock alerts in the outbox (what the relay publishes) for one product. */
  async function alertsOf(productId: string) {
    const { rows } = await sqlPool(db).query<{ payload: EventEnvelope<Record<string, unknown>> }>(
      `SELECT payload FROM outbox WHERE subject = 'inventory.low_stock' AND payload->'data'->>'productId' = $1`,
      [productId],
    );
    return rows.map((r) => r.payload);
  }

  it('raises one alert, with the stock left and the threshold, for the order that crosses it', async () => {
    const a = await product(12);
    const b = await product(30);
    const traceparent = createTraceparent();
    const orderId = randomUUID();
    // a: 12 → 9 crosses 10; b: 30 → 28 stays above.
    const result = await withTraceparent(traceparent, () =>
      inventory.reserve(orderId, [
        { productId: a, quantity: 3 },
        { productId: b, quantity: 2 },
      ]),
    );
    expect(result.status).toBe('reserved');
    const [alert] = await alertsOf(a);
    expect(await alertsOf(a)).toHaveLength(1);
    expect(alert).toMatchObject({
      type: 'inventory.low_stock',
      version: 1,
      source: 'products',
      correlationId: orderId,
      causationId: null,
      traceparent,
      data: { productId: a, availableQuantity: 9, threshold: 10 },
    });
    expect(await alertsOf(b)).toEqual([]);
    // Handed to the relay at once with inventory.reserved, as before.
    expect(handed.filter((e) => e.correlationId === orderId).map((e) => e.type)).toEqual([
      'inventory.reserved',
      'inventory.low_stock',
    ]);
    // Below already: the next order raises none; the alert's order retried raises no second one.
    expect((await inventory.reserve(randomUUID(), [{ productId: a, quantity: 1 }])).status).toBe('reserved');
    expect((await inventory.reserve(orderId, [{ productId: a, quantity: 3 }])).status).toBe('reserved');
    expect(await alertsOf(a)).toHaveLength(1);
  });

  it('raises one alert when concurrent orders cross the same threshold', async () => {
    const id = await product(20);
    // Twenty orders of one unit at once: available goes 20 → 0, exactly one of them takes it 11 → 10.
    const results = await Promise.all(
      Array.from({ length: 20 }, () => inventory.reserve(randomUUID(), [{ productId: id, quantity: 1 }])),
    );
    expect(results.every((r) => r.status === 'reserved')).toBe(true);
    const alerts = await alertsOf(id);
    expect(alerts.map((e) => e.data)).toEqual([{ productId: id, availableQuantity: 10, threshold: 10 }]);
  });

  /** The reservation statement alone, as a reservation call that died before writing its alerts left it. */
  async function reserveThenDie(orderId: string, productId: string, quantity: number) {
    const reserved = createEvent({
      type: 'inventory.reserved',
      source: 'products',
      correlationId: orderId,
      data: { orderId, items: [{ productId, quantity }] },
    });
    expect((await reserveStock(sqlPool(db), { orderId, lines: [{ productId, quantity }], reserved })).ok).toBe(true);
  }

  it("writes a dead call's alert when the orders service retries the reservation, once", async () => {
    const id = await product(11);
    const orderId = randomUUID();
    await reserveThenDie(orderId, id, 2);
    expect(await alertsOf(id)).toEqual([]);
    // The retries (RESERVE_CALL_POLICY), possibly at once on two replicas.
    await Promise.all([1, 2].map(() => inventory.reserve(orderId, [{ productId: id, quantity: 2 }])));
    await inventory.reserve(orderId, [{ productId: id, quantity: 2 }]);
    const alerts = await alertsOf(id);
    expect(alerts.map((e) => [e.correlationId, e.data])).toEqual([
      [orderId, { productId: id, availableQuantity: 9, threshold: 10 }],
    ]);
    expect(handed.filter((e) => e.type === 'inventory.low_stock' && e.correlationId === orderId)).toHaveLength(1);
  });

  it("writes a dead call's alert when its reservation is released unanswered, once", async () => {
    const id = await product(11);
    const orderId = randomUUID();
    await reserveThenDie(orderId, id, 3);
    // placeOrder got no answer and releases (or the sweeper does): the alert is still raised, once.
    expect(await inventory.release(orderId, 'reservation failed')).toBe(1);
    expect(await inventory.release(orderId, 'reservation failed')).toBe(0);
    expect((await alertsOf(id)).map((e) => e.data)).toEqual([{ productId: id, availableQuantity: 8, threshold: 10 }]);
  });
});
