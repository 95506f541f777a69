/**
 * `npx tsx bench/consumer-drain.ts`: what a batched consumer saves on a backlog. The orders service's payment
 * worker (the real handler) drains N waiting `orders.created` events on a real PostgreSQL (durable commits,
 * pg_stat_statements, statements sent by the consumer only: foreign-key checks left out) and nats-server, once per batch size: 1 is one transaction per event, as every consumer
 * ran before batches; the default is CONSUMER_BATCH_SIZE's. Counted per event: SQL statements and transactions
 * (load-insensitive), and the Node CPU of the consumer and PostgreSQL's execution time (both grow on a busy
 * machine). Writes docs/bench/saga-round-2/consumer-drain.json.
 *
 *   npx tsx bench/consumer-drain.ts --events 640 --batch-sizes 1,32
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { applyMigrations, sqlPool } from '@orderflow/common/db';
import { connectBus, createEvent, createEventConsumer, DEFAULT_CONSUMER_BATCH_SIZE } from '@orderflow/common/messaging';
import { createLogger } from '@orderflow/common/observability';
import { freePorts, startNats, startPostgres } from '@orderflow/devstack';
import { createDb } from '../subgraphs/orders/src/db.ts';
import { paymentWorker } from '../subgraphs/orders/src/events/saga-handlers.ts';
import { log } from './support/boot.ts';
import { loadAverage } from './support/proc.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Map(
  process.argv
    .slice(2)
    .join(' ')
    .split('--')
    .filter(Boolean)
    .map((a) => a.trim().split(/\s+/) as [string, string]),
);
const EVENTS = Number(args.get('events') ?? 640);
const BATCH_SIZES = (args.get('batch-sizes') ?? `1,${DEFAULT_CONSUMER_BATCH_SIZE}`).split(',').map(Number);

const root = mkdtempSync(join(tmpdir(), 'consumer-drain-'));
const [pgPort, natsPort] = await freePorts(2);
const postgres = await startPostgres({
  dataDir: join(root, 'pg'),
  port: pgPort,
  settings: ['shared_preload_libraries=pg_stat_statements', 'pg_stat_statements.track=all'],
});
const nats = await startNats({ storeDir: join(root, 'nats'), port: natsPort });
const quiet = createLogger('consumer-drain', 'silent');
const admin = new pg.Client({ connectionString: postgres.url });
await admin.connect();
await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');

const results = [];
try {
  for (const batchSize of BATCH_SIZES) {
    const name = `drain_${batchSize}_${randomBytes(3).toString('hex')}`;
    const url = `postgresql://postgres@127.0.0.1:${pgPort}/${name}`;
    await applyMigrations({
      databaseUrl: url,
      migrationsDir: join(ROOT, 'subgraphs/orders/prisma/migrations'),
      log: quiet,
    });
    const db = createDb(url, { poolSize: 10 });
    const bus = await connectBus({ url: nats.url, prefix: name, name, log: quiet });
    const ids = Array.from({ length: EVENTS }, () => randomUUID());
    await sqlPool(db).query(
      `INSERT INTO orders (id, customer_id, status, total_cents, ship_name, ship_line1, ship_city, ship_postal_code, ship_country, payment_token, idempotency_key, request_hash)
       SELECT id, 'customer', 'PENDING_PAYMENT', 1000, 'Ada', '1 Main St', 'Town', '12345', 'US', 'tok_visa', id::text, 'hash' FROM unnest($1::uuid[]) AS id`,
      [ids],
    );
    await Promise.all(
      ids.map((orderId) => {
        const e = createEvent({
          type: 'orders.created',
          source: 'orders',
          correlationId: orderId,
          data: {
            orderId,
            customerId: 'customer',
            items: [{ productId: randomUUID(), quantity: 1, unitPrice: '10.00' }],
            totalAmount: { amount: '10.00', currencyCode: 'USD' },
            paymentToken: 'tok_visa',
          },
        });
        return bus.js.publish(bus.subject(e.type), JSON.stringify(e), { msgID: e.id });
      }),
    );
    const consumer = createEventConsumer({
      bus,
      db,
      log: quiet,
      service: 'orders',
      handler: paymentWorker({ failureRate: 0 }),
      batchSize,
    });
    await consumer.init();
    const { rows: dbRows } = await admin.query<{ oid: number }>('SELECT oid FROM pg_database WHERE datname = $1', [
      name,
    ]);
    const dbid = dbRows[0].oid;
    const xacts = async () =>
      Number(
        (await admin.query('SELECT xact_commit FROM pg_stat_database WHERE datid = $1', [dbid])).rows[0].xact_commit,
      );
    await admin.query('SELECT pg_stat_statements_reset()');
    await admin.query('SELECT pg_stat_clear_snapshot()');
    const x0 = await xacts();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    consumer.start();
    for (;;) {
      const paid = Number(
        (await sqlPool(db).query<{ n: number }>(`SELECT count(*)::int AS n FROM payments`)).rows[0].n,
      );
      if (paid >= EVENTS && (await consumer.info()).num_ack_pending === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const elapsedMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    await consumer.stop();
    await bus.close();
    await db.$disconnect();
    // Statistics reach pg_stat_database when a backend reports them (at the latest when it exits).
    await new Promise((r) => setTimeout(r, 1_500));
    const { rows: stmt } = await admin.query<{ calls: string; ms: number }>(
      `SELECT sum(calls)::bigint AS calls, sum(total_exec_time)::float8 AS ms FROM pg_stat_statements
        WHERE dbid = $1 AND toplevel AND query NOT LIKE '%count(*)::int AS n FROM payments%'`,
      [dbid],
    );
    // The progress polls above are single statements: one transaction each, left out of the count.
    const { rows: polls } = await admin.query<{ calls: string }>(
      `SELECT coalesce(sum(calls), 0)::bigint AS calls FROM pg_stat_statements WHERE dbid = $1 AND toplevel AND query LIKE '%count(*)::int AS n FROM payments%'`,
      [dbid],
    );
    const transactions = (await xacts()) - x0 - Number(polls[0].calls);
    const r = {
      batchSize,
      events: EVENTS,
      drainSeconds: +(elapsedMs / 1000).toFixed(2),
      eventsPerSecond: +(EVENTS / (elapsedMs / 1000)).toFixed(1),
      statementsPerEvent: +(Number(stmt[0].calls) / EVENTS).toFixed(2),
      transactionsPerEvent: +(transactions / EVENTS).toFixed(2),
      nodeCpuMsPerEvent: +((cpu.user + cpu.system) / 1000 / EVENTS).toFixed(2),
      postgresExecMsPerEvent: +(stmt[0].ms / EVENTS).toFixed(3),
      loadAverage: loadAverage(),
    };
    log(JSON.stringify(r));
    results.push(r);
  }
} finally {
  await admin.end();
  await nats.stop();
  await postgres.stop();
  rmSync(root, { recursive: true, force: true });
}
const out = join(ROOT, 'docs/bench/saga-round-2/consumer-drain.json');
writeFileSync(out, JSON.stringify({ when: new Date().toISOString(), results }, null, 2) + '\n');
log(`written ${out}`);
