/**
 * `npm run bench:prisma`: what one statement and one transaction cost the
 * Node process (CPU, not latency) through Prisma 7 (pg driver adapter) and
 * through pg directly, on the orders schema. The numbers behind sending the
 * outbox relay's and the inbox's fixed statements straight to the pool
 * (packages/common/src/db.ts sqlPool) while domain code stays on Prisma.
 *
 * Starts its own throw-away PostgreSQL (fsync off) under a temp directory.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyMigrations, sqlPool } from '@orderflow/common/db';
import { publishingTransaction } from '@orderflow/common/messaging';
import { freePort, startPostgres } from '@orderflow/devstack';
import { createDb } from '../subgraphs/orders/src/db.ts';

const N = Number(process.env.N ?? 2000);
const dir = mkdtempSync(join(tmpdir(), 'orderflow-prisma-bench-'));
chmodSync(dir, 0o755); // PostgreSQL runs as the postgres user when we are root
const postgres = await startPostgres({ dataDir: join(dir, 'pg'), port: await freePort(), ephemeral: true });
const url = postgres.databaseUrl('bench');
await applyMigrations({
  databaseUrl: url,
  migrationsDir: fileURLToPath(new URL('../subgraphs/orders/prisma/migrations', import.meta.url)),
});
const db = createDb(url);
const pool = sqlPool(db);
const id = randomUUID();
await db.order.create({
  data: {
    id,
    customerId: 'c',
    status: 'PENDING_PAYMENT',
    totalCents: 100,
    shipName: 'n',
    shipLine1: 'l',
    shipCity: 'c',
    shipPostalCode: 'p',
    shipCountry: 'US',
    paymentToken: 't',
    idempotencyKey: 'k',
    requestHash: 'h',
  },
});

const operations: [string, () => Promise<unknown>][] = [];
const measure = (operation: string, fn: () => Promise<unknown>) => operations.push([operation, fn]);
const rows: { operation: string; cpuMs: number; wallMs: number }[] = [];
async function run(operation: string, fn: () => Promise<unknown>) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await fn();
  const cpu = process.cpuUsage(cpu0);
  rows.push({ operation, cpuMs: (cpu.user + cpu.system) / 1000 / N, wallMs: (performance.now() - t0) / N });
}

const lockSql = 'SELECT * FROM orders WHERE id = $1::uuid FOR UPDATE';
const insertSql = `INSERT INTO order_status_history (order_id, previous_status, status, reason) VALUES ($1::uuid, NULL, 'PENDING_PAYMENT', 'bench')`;
measure('read one order: pg', () => pool.query('SELECT * FROM orders WHERE id = $1::uuid', [id]));
measure('read one order: Prisma $queryRawUnsafe', () =>
  db.$queryRawUnsafe('SELECT * FROM orders WHERE id = $1::uuid', id),
);
measure('read one order: Prisma findUnique', () => db.order.findUnique({ where: { id } }));
measure('insert one row: pg', () => pool.query(insertSql, [id]));
measure('insert one row: Prisma $executeRawUnsafe', () => db.$executeRawUnsafe(insertSql, id));
measure('insert one row: Prisma create', () =>
  db.orderStatusChange.create({
    data: { orderId: id, previousStatus: null, status: 'PENDING_PAYMENT', reason: 'bench' },
  }),
);
measure('transaction, lock one row: pg', () =>
  publishingTransaction(
    db,
    (tx) => tx.query(lockSql, [id]),
    () => {},
  ),
);
measure('transaction, lock one row: Prisma interactive', () =>
  db.$transaction((tx) => tx.$queryRawUnsafe(lockSql, id)),
);
measure('transaction, lock one row: Prisma batch', () => db.$transaction([db.$queryRawUnsafe(lockSql, id)]));

// Warm every path first (JIT, Prisma's plan cache, pooled connections), then measure each in turn.
for (const [, fn] of operations) for (let i = 0; i < 300; i++) await fn();
for (const [operation, fn] of operations) await run(operation, fn);

await db.$disconnect();
await postgres.stop();
rmSync(dir, { recursive: true, force: true });

console.log(`\nCPU of this Node process per operation (N = ${N}, one at a time; PostgreSQL's own CPU not included)\n`);
console.log('| operation | CPU ms | wall ms |\n| --- | --- | --- |');
for (const r of rows) console.log(`| ${r.operation} | ${r.cpuMs.toFixed(3)} | ${r.wallMs.toFixed(3)} |`);
