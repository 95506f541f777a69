import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyMigrations } from '@orderflow/common/db';
import { publishingTransaction } from '@orderflow/common/messaging';
import { createLogger } from '@orderflow/common/observability';
import { createDb, type Db } from '../src/db.ts';
import { createInventoryService, type InventoryService } from '../src/service/inventory-service.ts';

// Found by the fault suite (test/chaos): under load, a reservation that fitted
// failed with a CHECK violation (HTTP 500 to the orders service) whenever a
// release had committed after the reservation statement's snapshot.
describe('reservations racing releases and commits', () => {
  let db: Db;
  let inventory: InventoryService;
  beforeAll(async () => {
    const url = `postgresql://postgres@127.0.0.1:${inject('postgresPort')}/products_races_${randomBytes(4).toString('hex')}`;
    await applyMigrations({
      databaseUrl: url,
      migrationsDir: fileURLToPath(new URL('../prisma/migrations', import.meta.url)),
    });
    db = createDb(url, { poolSize: 20 });
    inventory = createInventoryService({ db, log: createLogger('products', 'silent') });
  });
  afterAll(async () => db?.$disconnect());

  it('answers every reservation with reserved or short, never an error, on low stock', async () => {
    const failures: string[] = [];
    const outcomes = { reserved: 0, short: 0, settled: 0 };
    for (let round = 0; round < 12; round++) {
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      await db.product.createMany({
        data: ids.map((id) => ({ id, sku: id, name: 'scarce', priceCents: 100, available: 12, stocked: 12 })),
      });
      const held: string[] = [];
      await Promise.all(
        Array.from({ length: 60 }, async (_, i) => {
          await new Promise((r) => setTimeout(r, Math.random() * 40));
          try {
            if (i % 3 === 0 && held.length) {
              // Returns units to available stock (a failed payment or a cancel), or sells them (a payment).
              const orderId = held[Math.floor(Math.random() * held.length)];
              await publishingTransaction(
                db,
                (tx) => inventory.settle(tx, orderId, i % 2 ? 'release' : 'commit', 'race'),
                () => {},
              );
              outcomes.settled++;
              return;
            }
            const lines = [...new Set(Array.from({ length: 1 + (i % 3) }, () => ids[Math.floor(Math.random() * 3)]))];
            const orderId = randomUUID();
            const result = await inventory.reserve(
              orderId,
              lines.map((productId) => ({ productId, quantity: 1 + Math.floor(Math.random() * 3) })),
            );
            if (result.status === 'reserved') held.push(orderId);
            outcomes[result.status === 'reserved' ? 'reserved' : 'short']++;
          } catch (err) {
            failures.push((err as Error).message.trim().split('\n').at(-1)!);
          }
        }),
      );
    }
    expect(failures).toEqual([]);
    expect(outcomes.reserved).toBeGreaterThan(0);
    expect(outcomes.short).toBeGreaterThan(0);
    // Every held unit is an ACTIVE reservation's, every sold one a COMMITTED one's.
    const drift = await db.$queryRawUnsafe<unknown[]>(`
      SELECT p.id FROM products p LEFT JOIN (
        SELECT product_id, sum(quantity) FILTER (WHERE status = 'ACTIVE') AS held, sum(quantity) FILTER (WHERE status = 'COMMITTED') AS sold
          FROM reservations GROUP BY product_id) r ON r.product_id = p.id
       WHERE p.reserved <> coalesce(r.held, 0) OR p.sold <> coalesce(r.sold, 0) OR p.available + p.reserved + p.sold <> p.stocked`);
    expect(drift).toEqual([]);
  });
});
