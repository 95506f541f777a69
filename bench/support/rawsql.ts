/**
 * The physical limit beside the system: what PostgreSQL alone does on this
 * machine with the same writes per order, issued as raw SQL by a Node loop
 * (`pg`, N concurrent clients). Tables, indexes, constraints and enum types
 * are the real ones: the products and orders migrations are applied into
 * two schemas of one scratch database, so one transaction can do what the
 * system does in two services:
 *
 *   BEGIN
 *   reserve 1–5 products (rows locked in id order, conditional update
 *     available >= q), insert the reservation rows, the RESERVE stock
 *     movements and the inventory.reserved outbox row          (1 statement)
 *   insert the order, its items, its first status-history row and the
 *     orders.created outbox row                                 (1 statement)
 *   COMMIT
 *
 * Commits are as durable as the system's (same server, same settings).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { summarize, type Summary } from './stats.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function migrations(service: string): string[] {
  const dir = join(ROOT, 'subgraphs', service, 'prisma', 'migrations');
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => readFileSync(join(dir, name, 'migration.sql'), 'utf8'));
}

const RESERVE = `
WITH req AS (SELECT * FROM unnest($1::uuid[], $2::int[]) AS r(id, q)),
locked AS (SELECT p.id, p.available, p.price_cents, p.name FROM p.products p WHERE p.id IN (SELECT id FROM req) ORDER BY p.id FOR UPDATE),
ok AS (SELECT (SELECT count(*) FROM locked l JOIN req r USING (id) WHERE l.available >= r.q) = (SELECT count(*) FROM req) AS ok),
moved AS (UPDATE p.products p SET available = p.available - r.q, reserved = p.reserved + r.q, updated_at = now()
            FROM req r, ok WHERE ok.ok AND p.id = r.id RETURNING p.id),
held AS (INSERT INTO p.reservations (order_id, product_id, quantity, unit_cents)
           SELECT $3::uuid, r.id, r.q, l.price_cents FROM req r JOIN locked l USING (id), ok WHERE ok.ok),
audit AS (INSERT INTO p.stock_movements (product_id, type, quantity, order_id) SELECT r.id, 'RESERVE', -r.q, $3::uuid FROM req r, ok WHERE ok.ok),
ev AS (INSERT INTO p.outbox (id, subject, payload) SELECT gen_random_uuid(), 'inventory.reserved', $4::jsonb FROM ok WHERE ok.ok)
SELECT l.id::text, l.price_cents, l.name, ok.ok FROM locked l, ok`;

const WRITE_ORDER = `
WITH o AS (
  INSERT INTO o.orders (id, customer_id, customer_email, status, total_cents, currency_code, ship_name, ship_line1, ship_city, ship_postal_code, ship_country, payment_token, idempotency_key, request_hash)
  VALUES ($1::uuid, $2, $3, 'PENDING_PAYMENT', $4, 'USD', 'Ada Lovelace', '12 St James Sq', 'London', 'SW1Y 4JH', 'GB', 'tok_visa', $5, $6) RETURNING id),
i AS (INSERT INTO o.order_items (order_id, position, product_id, product_name, quantity, unit_price_cents)
        SELECT $1::uuid, x.pos, x.pid, x.name, x.q, x.cents FROM unnest($7::int[], $8::uuid[], $9::text[], $10::int[], $11::int[]) AS x(pos, pid, name, q, cents)),
h AS (INSERT INTO o.order_status_history (order_id, previous_status, status, reason) SELECT id, NULL, 'PENDING_PAYMENT', 'order placed' FROM o),
e AS (INSERT INTO o.outbox (id, subject, payload) VALUES (gen_random_uuid(), 'orders.created', $12::jsonb))
SELECT 1`;

export interface PhysicalLimitResult {
  clients: number;
  durationS: number;
  orders: number;
  ordersPerSec: number;
  retries: number;
  refused: number;
  transactionMs: Summary;
  statementsPerOrder: number;
  roundTripsPerOrder: number;
}

/**
 * Runs the raw-SQL loop for `durationS` seconds with `clients` connections;
 * `orderShape` draws an order's lines as (product index, quantity).
 */
export async function physicalLimit({
  pgUrl,
  clients,
  durationS,
  products = 200,
  random,
}: {
  pgUrl: string;
  clients: number;
  durationS: number;
  products?: number;
  random: () => number;
}): Promise<PhysicalLimitResult> {
  const dbName = `physical_limit_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const url = new URL(pgUrl);
  url.pathname = `/${dbName}`;
  const setup = new pg.Client({ connectionString: url.toString() });
  await setup.connect();
  await setup.query('CREATE SCHEMA p; CREATE SCHEMA o;');
  await setup.query('SET search_path = p');
  for (const sql of migrations('products')) await setup.query(sql);
  await setup.query('SET search_path = o');
  for (const sql of migrations('orders')) await setup.query(sql);
  const { rows } = await setup.query<{ id: string }>(
    `INSERT INTO p.products (id, sku, name, price_cents, available, stocked)
     SELECT gen_random_uuid(), 'RAW-' || g, 'Raw product ' || g, 100 + (g * 37) % 9900, 100000000, 100000000 FROM generate_series(1, $1::int) g RETURNING id::text`,
    [products],
  );
  await setup.query('ANALYZE');
  await setup.end();
  const ids = rows.map((r) => r.id);

  const conns = await Promise.all(
    Array.from({ length: clients }, async () => {
      // The orders schema's triggers (the business-metrics rollups) call its functions unqualified.
      const c = new pg.Client({ connectionString: url.toString(), options: '-c search_path=o,p' });
      await c.connect();
      return c;
    }),
  );
  const latencies: number[] = [];
  let retries = 0;
  let refused = 0;
  const until = performance.now() + durationS * 1000;
  const started = performance.now();
  const worker = async (c: pg.Client, w: number) => {
    let n = 0;
    while (performance.now() < until) {
      const lines = 1 + Math.floor(random() * 5);
      const picked = new Set<string>();
      while (picked.size < lines) picked.add(ids[Math.floor(random() * ids.length)]);
      const items = [...picked].map((id) => ({ id, q: 1 + Math.floor(random() * 3) }));
      const orderId = randomUUID();
      const t = performance.now();
      try {
        await c.query('BEGIN');
        const reserved = await c.query<{ id: string; price_cents: number; name: string; ok: boolean }>(RESERVE, [
          items.map((i) => i.id),
          items.map((i) => i.q),
          orderId,
          JSON.stringify({ type: 'inventory.reserved', data: { orderId, items } }),
        ]);
        if (!reserved.rows[0]?.ok) {
          await c.query('ROLLBACK');
          refused++;
          continue;
        }
        const byId = new Map(reserved.rows.map((r) => [r.id, r]));
        const total = items.reduce((s, i) => s + byId.get(i.id)!.price_cents * i.q, 0);
        await c.query(WRITE_ORDER, [
          orderId,
          `raw-customer-${w}`,
          `raw-${w}@example.test`,
          total,
          `raw-${w}-${n++}`,
          'hash',
          items.map((_, k) => k),
          items.map((i) => i.id),
          items.map((i) => byId.get(i.id)!.name),
          items.map((i) => i.q),
          items.map((i) => byId.get(i.id)!.price_cents),
          JSON.stringify({ type: 'orders.created', data: { orderId, items, total } }),
        ]);
        await c.query('COMMIT');
        latencies.push(performance.now() - t);
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        if ((err as { code?: string }).code === '40P01' || (err as { code?: string }).code === '40001') retries++;
        else throw err;
      }
    }
  };
  try {
    await Promise.all(conns.map((c, w) => worker(c, w)));
  } finally {
    await Promise.all(conns.map((c) => c.end().catch(() => {})));
    const drop = new pg.Client({ connectionString: pgUrl });
    await drop.connect();
    await drop.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
    await drop.end();
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    clients,
    durationS: Math.round(seconds * 10) / 10,
    orders: latencies.length,
    ordersPerSec: Math.round((latencies.length / seconds) * 10) / 10,
    retries,
    refused,
    transactionMs: summarize(latencies),
    statementsPerOrder: 4,
    roundTripsPerOrder: 4,
  };
}
