import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyMigrations } from '@orderflow/common/db';
import {
  searchCountStatement,
  searchPageStatement,
  type OrderSearchFilter,
  type Statement,
} from '../subgraphs/orders/src/store/order-search.ts';

// Query.orders must stay an index read as the orders table grows (issue 15). The statements the
// service runs (store/order-search.ts builds them for both) are EXPLAINed here on an orders database
// with a year of realistic data, ANALYZEd: 200,000 orders from 20,000 customers over 365 days, most
// of them DELIVERED and a few in each other status, one to three lines each from 2,000 products with
// a skewed popularity. The planner is left free (no enable_seqscan=off): it must find no plan with a
// sequential scan of orders cheaper than the indexes.

const ORDERS = 200_000;
const MIGRATIONS = fileURLToPath(new URL('../subgraphs/orders/prisma/migrations', import.meta.url));

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Total Time'?: number;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

const describePlan = (plan: PlanNode) =>
  nodes(plan)
    .map(
      (n) =>
        `${n['Node Type']}${n['Index Name'] ? ` ${n['Index Name']}` : n['Relation Name'] ? ` ${n['Relation Name']}` : ''}`,
    )
    .join(' > ');

describe('the staff search on a year of orders', () => {
  const database = `plans_${randomBytes(4).toString('hex')}`;
  const admin = { host: '127.0.0.1', port: inject('postgresPort'), user: 'postgres' };
  let client: pg.Client;
  const sample: { email: string; productCommon: string; productRare: string; cursor: { createdAt: Date; id: string } } =
    {} as never;

  beforeAll(async () => {
    await applyMigrations({
      databaseUrl: `postgresql://postgres@127.0.0.1:${admin.port}/${database}`,
      migrationsDir: MIGRATIONS,
    });
    client = new pg.Client({ ...admin, database });
    await client.connect();
    // Loading only: no rollup trigger per row (it is not what is measured here).
    await client.query(`SET session_replication_role = replica`);
    await client.query(
      `INSERT INTO orders (id, customer_id, customer_email, status, total_cents, ship_name, ship_line1, ship_city,
                           ship_postal_code, ship_country, payment_token, idempotency_key, request_hash, created_at, updated_at)
       SELECT gen_random_uuid(), 'c' || c, 'Customer' || c || '@example.test',
              (CASE WHEN r < 0.80 THEN 'DELIVERED' WHEN r < 0.88 THEN 'IN_TRANSIT' WHEN r < 0.92 THEN 'SHIPPED'
                    WHEN r < 0.95 THEN 'CANCELLED' WHEN r < 0.98 THEN 'PAYMENT_FAILED' WHEN r < 0.995 THEN 'PENDING_SHIPMENT'
                    ELSE 'PENDING_PAYMENT' END)::order_status,
              (1000 + random() * 20000)::int, 'Name', 'Line 1', 'City', '12345', 'GB', 'tok_visa', 'key-' || g, 'h',
              t, t
         FROM (SELECT g, (random() * 19999)::int AS c, random() AS r,
                      now() - (($1::int - g) * interval '365 days' / $1::int) AS t
                 FROM generate_series(1, $1::int) g) s`,
      [ORDERS],
    );
    // Product popularity: the square of a uniform draw favours low numbers (a few best sellers, a long tail).
    await client.query(
      `INSERT INTO order_items (order_id, position, product_id, product_name, quantity, unit_price_cents, created_at)
       SELECT DISTINCT ON (order_id, product_id) order_id, n - 1, product_id, 'Product', 1, 1000, created_at
         FROM (SELECT o.id AS order_id, n, o.created_at,
                      ('00000000-0000-4000-8000-' || lpad(floor(power(random(), 2) * 2000)::int::text, 12, '0'))::uuid AS product_id
                 FROM orders o CROSS JOIN LATERAL generate_series(1, 1 + abs(hashtext(o.id::text)) % 3) n) x`,
    );
    await client.query(`SET session_replication_role = DEFAULT`);
    await client.query('ANALYZE');
    const { rows } = await client.query<{ customer_email: string; created_at: Date; id: string }>(
      `SELECT customer_email, created_at, id FROM orders ORDER BY created_at DESC, id DESC OFFSET 5000 LIMIT 1`,
    );
    sample.email = rows[0].customer_email.toLowerCase();
    sample.cursor = { createdAt: rows[0].created_at, id: rows[0].id };
    const { rows: popular } = await client.query<{ product_id: string; n: number }>(
      `SELECT product_id, count(*)::int AS n FROM order_items GROUP BY 1 ORDER BY 2 DESC`,
    );
    sample.productCommon = popular[0].product_id;
    sample.productRare = popular.at(-1)!.product_id;
    console.log(
      `orders ${ORDERS}, lines ${popular.reduce((a, p) => a + p.n, 0)}, products ${popular.length} (most popular in ${popular[0].n} orders, least in ${popular.at(-1)!.n})`,
    );
  }, 300_000);

  afterAll(async () => {
    await client?.end();
    const c = new pg.Client({ ...admin, database: 'postgres' });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await c.end();
  });

  async function explain({ text, values }: Statement): Promise<PlanNode> {
    const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${text}`,
      values,
    );
    return rows[0]['QUERY PLAN'][0].Plan;
  }

  const day = 86_400_000;
  const cases: [string, () => OrderSearchFilter, boolean][] = [
    ['no filter', () => ({}), false],
    ['no filter, a later page', () => ({}), true],
    ['status DELIVERED (most orders)', () => ({ statuses: ['DELIVERED'] }), false],
    ['status PENDING_PAYMENT (rare)', () => ({ statuses: ['PENDING_PAYMENT'] }), true],
    ['statuses SHIPPED + IN_TRANSIT', () => ({ statuses: ['SHIPPED', 'IN_TRANSIT'] }), false],
    ['customer email', () => ({ customerEmail: sample.email.toUpperCase() }), false],
    ['customer email + status', () => ({ customerEmail: sample.email, statuses: ['DELIVERED'] }), false],
    ['created in the last week', () => ({ createdAfter: new Date(Date.now() - 7 * day) }), false],
    [
      'created in one month last year',
      () => ({ createdAfter: new Date(Date.now() - 300 * day), createdBefore: new Date(Date.now() - 270 * day) }),
      true,
    ],
    ['product, a best seller', () => ({ productId: sample.productCommon }), false],
    ['product, rarely ordered', () => ({ productId: sample.productRare }), false],
    ['product + status', () => ({ productId: sample.productCommon, statuses: ['CANCELLED'] }), false],
    ['product + a common status', () => ({ productId: sample.productCommon, statuses: ['DELIVERED'] }), true],
    ['product + a rare status', () => ({ productId: sample.productCommon, statuses: ['PENDING_PAYMENT'] }), false],
    [
      'product + created in one month last year',
      () => ({
        productId: sample.productCommon,
        createdAfter: new Date(Date.now() - 300 * day),
        createdBefore: new Date(Date.now() - 270 * day),
      }),
      false,
    ],
  ];

  it.each(cases)('%s: no sequential scan of orders, for the page and for the count', async (_, filter, paged) => {
    const f = filter();
    const page = await explain(searchPageStatement(f, paged ? sample.cursor : null, 21));
    const count = await explain(searchCountStatement(f));
    console.log(
      `page  ${page['Actual Total Time']?.toFixed(2)} ms  ${describePlan(page)}\ncount ${count['Actual Total Time']?.toFixed(2)} ms  ${describePlan(count)}`,
    );
    for (const plan of [page, count])
      expect(
        nodes(plan).filter((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'orders'),
        describePlan(plan),
      ).toEqual([]);
  });
});
