import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyMigrations, sqlPool } from '@orderflow/common/db';
import { publishingTransaction } from '@orderflow/common/messaging';
import { createLogger } from '@orderflow/common/observability';
import { createDb, type Db } from '../subgraphs/products/src/db.ts';
import { createInventoryService, type InventoryService } from '../subgraphs/products/src/service/inventory-service.ts';

// A reservation's settlement (store/inventory-store.ts settleReservation: lock, move, audit in one statement) on
// a real PostgreSQL products database: the saga's commit (payments.succeeded) and release (payments.failed, a
// cancel before payment) of one order can run at once in two consumers, or two replicas.
const log = createLogger('settlements-test', 'silent');

describe('reservation settlements', () => {
  let db: Db;
  let inventory: InventoryService;
  beforeAll(async () => {
    const url = `postgresql://postgres@127.0.0.1:${inject('postgresPort')}/products_settle_${randomBytes(4).toString('hex')}`;
    await applyMigrations({
      databaseUrl: url,
      migrationsDir: fileURLToPath(new URL('../subgraphs/products/prisma/migrations', import.meta.url)),
    });
    db = createDb(url, { poolSize: 20 });
    inventory = createInventoryService({ db, log });
  });
  afterAll(async () => db?.$disconnect());

  async function product(stock: number): Promise<string> {
    const id = randomUUID();
    await sqlPool(db).query(
      `INSERT INTO products (id, sku, name, price_cents, available, stocked) VALUES ($1::uuid, $2, 'Widget', 250, $3, $3)`,
      [id, `sku-${id}`, stock],
    );
    return id;
  }

  it('moves each reservation once when its commit and its release race, multi-line orders locking the same products', async () => {
    const [a, b, c] = [await product(1_000), await product(1_000), await product(1_000)];
    const orders = Array.from({ length: 40 }, (_, i) => ({
      id: randomUUID(),
      // Lines in every order of the same products: settlements of different orders lock them too.
      lines: [
        [a, b, c],
        [c, b, a],
        [b, a],
        [c, a],
      ][i % 4].map((productId, n) => ({ productId, quantity: 1 + ((i + n) % 3) })),
    }));
    for (const o of orders) expect((await inventory.reserve(o.id, o.lines)).status).toBe('reserved');

    // Each order's commit and release at once, every order at once, each in its own transaction.
    const moved = await Promise.all(
      orders.map((o) =>
        Promise.all([
          publishingTransaction(
            db,
            (tx) => inventory.settle(tx, o.id, 'commit', 'paid'),
            () => {},
          ),
          publishingTransaction(
            db,
            (tx) => inventory.settle(tx, o.id, 'release', 'payment failed'),
            () => {},
          ),
        ]),
      ),
    );
    for (const [i, [committed, released]] of moved.entries())
      expect([committed, released].sort(), `order ${i}: lines moved by the commit and the release`).toEqual([
        0,
        orders[i].lines.length,
      ]);

    // Every unit is where exactly one settlement put it.
    const { rows: stock } = await sqlPool(db).query<{ id: string; available: number; reserved: number; sold: number }>(
      `SELECT id::text, available, reserved, sold FROM products WHERE id = ANY($1::uuid[])`,
      [[a, b, c]],
    );
    for (const p of stock) {
      const sold = moved.reduce(
        (sum, [committed], i) =>
          sum +
          (committed ? orders[i].lines.filter((l) => l.productId === p.id).reduce((s, l) => s + l.quantity, 0) : 0),
        0,
      );
      expect(p, `product ${p.id}`).toEqual({ id: p.id, available: 1_000 - sold, reserved: 0, sold });
    }
    // One movement per line and settlement, and one event per order.
    const { rows: movements } = await sqlPool(db).query<{ order_id: string; type: string; lines: number }>(
      `SELECT order_id::text, type::text, count(*)::int AS lines FROM stock_movements GROUP BY 1, 2`,
    );
    for (const [i, o] of orders.entries()) {
      const settledAs = moved[i][0] ? 'COMMIT' : 'RELEASE';
      expect(movements.filter((m) => m.order_id === o.id).sort((x, y) => x.type.localeCompare(y.type))).toEqual(
        [
          { order_id: o.id, type: settledAs, lines: o.lines.length },
          { order_id: o.id, type: 'RESERVE', lines: o.lines.length },
        ].sort((x, y) => x.type.localeCompare(y.type)),
      );
    }
    const { rows: events } = await sqlPool(db).query<{ subject: string; n: number }>(
      `SELECT subject, count(*)::int AS n FROM outbox WHERE subject <> 'inventory.reserved' GROUP BY 1 ORDER BY 1`,
    );
    const commits = moved.filter(([committed]) => committed > 0).length;
    expect(events).toEqual(
      [
        { subject: 'inventory.committed', n: commits },
        { subject: 'inventory.released', n: orders.length - commits },
      ].filter((e) => e.n > 0),
    );
  }, 60_000);

  it('returns committed units once, and a repeated settlement changes nothing', async () => {
    const p = await product(10);
    const orderId = randomUUID();
    await inventory.reserve(orderId, [{ productId: p, quantity: 4 }]);
    expect(
      await publishingTransaction(
        db,
        (tx) => inventory.settle(tx, orderId, 'commit', 'paid'),
        () => {},
      ),
    ).toBe(1);
    expect(
      await publishingTransaction(
        db,
        (tx) => inventory.settle(tx, orderId, 'commit', 'paid'),
        () => {},
      ),
    ).toBe(0);
    const returns = await Promise.all(
      [1, 2, 3].map(() =>
        publishingTransaction(
          db,
          (tx) => inventory.settle(tx, orderId, 'return', 'order cancelled'),
          () => {},
        ),
      ),
    );
    expect(returns.sort()).toEqual([0, 0, 1]);
    const {
      rows: [row],
    } = await sqlPool(db).query(`SELECT available, reserved, sold, stocked FROM products WHERE id = $1::uuid`, [p]);
    expect(row).toEqual({ available: 10, reserved: 0, sold: 0, stocked: 10 });
  });
});
