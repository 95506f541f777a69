// Faults under load (issue 7, part 2). The whole system runs as real
// processes on its own durable PostgreSQL and nats-server; while customers
// place, cancel and read orders at a steady rate, every subgraph and the
// gateway is killed with SIGKILL and restarted, nats-server is stopped and
// started, and PostgreSQL is restarted. Once the load has ended and the saga
// has settled, the invariants a customer or an accountant would notice must
// hold: no accepted order lost or duplicated, every order in a state the saga
// leaves it in, one payment outcome per order, stock that adds up, nothing
// held back, no email twice, no request left hanging.
//
//   npm run test:chaos          (CHAOS_KEEP=1 keeps the working folder and its logs)
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster, type ServiceName } from './cluster.ts';
import { createRecorder, label, type GraphQLBody, type Recorder } from './client.ts';

// ── The scenario ────────────────────────────────────────────────────────────

/** Orders started per second (open model: on schedule, whether or not earlier ones have answered). */
const ORDER_RATE = 4;
/** Shortest load; it also lasts until the last fault has been repaired plus LOAD_TAIL_MS. */
const LOAD_MS = 70_000;
const LOAD_TAIL_MS = 6_000;
/** Deadline of every client request. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Attempts of one placeOrder (same idempotency key) or cancelOrder, as a client retrying errors would. */
const ATTEMPTS = 4;
const CUSTOMERS = 20;
const PRODUCTS = 10;
const INITIAL_STOCK = 150;
const CANCEL_SHARE = 0.15;
/** How long the saga gets to settle after the load. */
const SETTLE_TIMEOUT_MS = 90_000;
/** How long every process gets to answer ready again after a fault. */
const READY_TIMEOUT_MS = 90_000;

/** What each fault does, in order, from FIRST_FAULT_MS, one every FAULT_SPACING_MS (later if a repair took longer). */
const FIRST_FAULT_MS = 5_000;
const FAULT_SPACING_MS = 8_000;
const KILLED: ServiceName[] = ['auth', 'products', 'orders', 'shipments', 'gateway'];
const RESTART_AFTER_KILL_MS = 2_000;
const NATS_DOWN_MS = 3_000;

const SERVICE_ENV = {
  // Shorter saga retries, so the suite settles in seconds rather than minutes.
  SAGA_RETRY_SCALE: '0.2',
  // The sweeper releases stock reserved for orders that were never written (orders or products killed
  // mid-placeOrder) once RESERVATION_DEADLINE_MS (default 60 s) has passed; it looks every 3 s instead of 15 s.
  // The deadline keeps its default: it must stay above the longest a placeOrder can take between its
  // reservation and its order write (three 5 s reservation attempts, then pool wait and transaction, ~40 s),
  // or the sweeper would release stock under a slow but successful order.
  SWEEP_INTERVAL_MS: '3000',
};

const PLACE_ORDER = `mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    __typename
    ... on OrderPlaced { order { id status } }
    ... on ProductsUnavailable { unavailableItems { productId requested available } }
    ... on InvalidOrder { field message }
  }
}`;
const CANCEL_ORDER = `mutation($id: ID!) { cancelOrder(orderId: $id, reason: "chaos") { __typename ... on CannotCancel { status } } }`;
const ORDER_DETAIL = `query($id: ID!) { order(id: $id) { __typename id status items { quantity product { name } } shipment { status } } }`;
const ME = `{ me { __typename id } }`;
const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) { accessToken } }`;
const CREATE_PRODUCT = `mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`;
const TOKENS: [string, number][] = [
  ['tok_visa', 0.6],
  ['tok_chargeDeclined', 0.2],
  ['tok_processingError', 0.2],
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T,>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)];
function weighted(choices: [string, number][]): string {
  let r = Math.random();
  for (const [value, weight] of choices) if ((r -= weight) < 0) return value;
  return choices[0][0];
}

interface Customer {
  email: string;
  headers: Record<string, string>;
}
/** An order the client was told was placed (an OrderPlaced answer). */
interface Accepted {
  key: string;
  orderId: string;
  customer: Customer;
}
interface Fault {
  name: string;
  at: number;
  /** From the fault until every process answered ready again. */
  recoveredMs: number;
}

describe('faults under load', () => {
  let dir: string;
  let cluster: Cluster;
  const pools = new Map<string, pg.Pool>();
  let nc: NatsConnection | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'orderflow-chaos-'));
    chmodSync(dir, 0o755); // PostgreSQL runs as the postgres user when we are root
    cluster = await startCluster({ dir, env: SERVICE_ENV, log: (line) => console.log(`[cluster] ${line}`) });
  }, 180_000);

  afterAll(async () => {
    await nc?.close().catch(() => {});
    await Promise.all([...pools.values()].map((p) => p.end().catch(() => {})));
    await cluster?.stop();
    if (process.env.CHAOS_KEEP) console.log(`[chaos] working folder kept: ${dir}`);
    else if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** SQL on one service's database (pools are made after the faults: a PostgreSQL restart would break them). */
  async function sql<T = any>(service: 'orders' | 'products' | 'shipments', text: string, params: unknown[] = []): Promise<T[]> {
    let pool = pools.get(service);
    if (!pool) {
      pool = new pg.Pool({ connectionString: cluster.databaseUrl(service), max: 2 });
      pool.on('error', () => {}); // an idle connection cut by the server is replaced on the next query
      pools.set(service, pool);
    }
    return (await pool.query(text, params)).rows as T[];
  }

  it('keeps every invariant while processes, NATS and PostgreSQL fail', async () => {
    const gql = async (query: string, variables: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(`${cluster.gatewayUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const body = (await res.json()) as GraphQLBody;
      if (body.errors?.length || !body.data) throw new Error(`setup request failed: ${JSON.stringify(body.errors ?? body)}`);
      return body.data;
    };

    // ── Set-up: products and customers, through the gateway ──
    const tokenRes = await fetch(`${cluster.gatewayUrl}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('ops-console:ops-console-dev-secret').toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    });
    expect(tokenRes.status).toBe(200);
    const operator = { authorization: `Bearer ${((await tokenRes.json()) as { access_token: string }).access_token}` };
    const products: string[] = [];
    for (let i = 0; i < PRODUCTS; i++) {
      const input = { sku: `CHAOS-${randomBytes(4).toString('hex')}`, name: `Chaos product ${i}`, price: `${5 + i}.50`, initialStock: INITIAL_STOCK };
      products.push((await gql(CREATE_PRODUCT, { input }, operator)).createProduct.id);
    }
    const customers: Customer[] = [];
    for (let i = 0; i < CUSTOMERS; i++) {
      const email = `chaos-${i}-${randomBytes(3).toString('hex')}@example.test`;
      const data = await gql(SIGN_UP, { input: { email, password: `pw-${randomBytes(8).toString('hex')}`, name: `Chaos ${i}` } });
      customers.push({ email, headers: { authorization: `Bearer ${data.signUp.accessToken}` } });
    }

    const accepted: Accepted[] = [];
    /** Every idempotency key sent, with every order id an OrderPlaced answer named for it. */
    const answersByKey = new Map<string, Set<string>>();

    // ── Warm-up: every path of the saga once before any fault (cold code is not what this measures) ──
    const warm: string[] = [];
    for (const [i, paymentToken] of ['tok_visa', 'tok_chargeDeclined', 'tok_processingError', 'tok_visa'].entries()) {
      const input = {
        idempotencyKey: `warm-${randomUUID()}`,
        items: [{ productId: products[i], quantity: 1 }],
        shippingAddress: { name: 'Warm Up', line1: '1 Main St', city: 'Oakland', postalCode: '94601', country: 'US' },
        paymentToken,
      };
      const orderId = (await gql(PLACE_ORDER, { input }, customers[i].headers)).placeOrder.order.id as string;
      warm.push(orderId);
      answersByKey.set(input.idempotencyKey, new Set([orderId]));
      accepted.push({ key: input.idempotencyKey, orderId, customer: customers[i] });
    }
    await gql(CANCEL_ORDER, { id: warm[3] }, customers[3].headers);
    for (const [i, id] of warm.entries()) {
      for (let until = Date.now() + 60_000; ; await sleep(250)) {
        const o = (await gql(ORDER_DETAIL, { id }, customers[i].headers)).order;
        if (o.status !== 'PENDING_PAYMENT' && (o.status !== 'PENDING_SHIPMENT' || o.shipment)) break;
        if (Date.now() > until) throw new Error(`warm-up order ${id} still ${o.status} after a minute: the system does not work even without faults`);
      }
    }

    // ── The load ──
    const say = (line: string) => console.log(`[chaos] ${((Date.now() - t0) / 1000).toFixed(1)} s ${line}`);
    const t0 = Date.now();
    const machineAtStart = machineCpu();
    const servicesAtStart = cluster.cpuSeconds();
    say(`load started: ${ORDER_RATE} orders/s from ${CUSTOMERS} customers on ${PRODUCTS} products`);
    const client: Recorder = createRecorder({ gatewayUrl: cluster.gatewayUrl, timeoutMs: REQUEST_TIMEOUT_MS, origin: t0 });
    const invalid: unknown[] = [];
    const cancels = new Map<string, number>();
    const inFlight = new Set<Promise<void>>();
    const track = (p: Promise<void>) => {
      const t = p.finally(() => inFlight.delete(t));
      inFlight.add(t);
    };

    /** Retries a request on anything but an answer, as a client would; returns the last outcome's body. */
    async function withRetries(op: string, query: string, variables: unknown, headers: Record<string, string>) {
      for (let attempt = 1; ; attempt++) {
        const r = await client.request(op, query, variables, headers);
        if (r.outcome.kind === 'ok' || attempt === ATTEMPTS) return r;
        await sleep(500 * attempt + Math.random() * 500);
      }
    }

    async function cancelLater(order: Accepted) {
      await sleep(Math.random() * 3_000);
      const r = await withRetries('cancelOrder', CANCEL_ORDER, { id: order.orderId }, order.customer.headers);
      const verdict = r.outcome.kind === 'ok' ? (r.outcome.typename ?? '?') : 'failed';
      cancels.set(verdict, (cancels.get(verdict) ?? 0) + 1);
    }

    async function placeOne() {
      const customer = pick(customers);
      const lines = [...new Set(Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => pick(products)))];
      const input = {
        idempotencyKey: `chaos-${randomUUID()}`,
        items: lines.map((productId) => ({ productId, quantity: 1 + Math.floor(Math.random() * 3) })),
        shippingAddress: { name: 'Chaos Monkey', line1: '1 Fault Line', city: 'Oakland', postalCode: '94601', country: 'US' },
        paymentToken: weighted(TOKENS),
      };
      const ids = new Set<string>();
      answersByKey.set(input.idempotencyKey, ids);
      const r = await withRetries('placeOrder', PLACE_ORDER, { input }, customer.headers);
      const result = r.body?.data?.placeOrder;
      if (result?.__typename === 'InvalidOrder') invalid.push({ key: input.idempotencyKey, result });
      if (result?.__typename !== 'OrderPlaced') return;
      ids.add(result.order.id);
      const order = { key: input.idempotencyKey, orderId: result.order.id as string, customer };
      accepted.push(order);
      if (Math.random() < CANCEL_SHARE) await cancelLater(order);
    }

    async function readOne() {
      const order = accepted.length ? pick(accepted.slice(-50)) : null;
      if (order && Math.random() < 0.7) await client.request('order', ORDER_DETAIL, { id: order.orderId }, order.customer.headers);
      else await client.request('me', ME, {}, pick(customers).headers);
    }

    // ── The faults, one after another, while the load runs ──
    const faults: Fault[] = [];
    const everythingReady = async () => {
      const until = Date.now() + READY_TIMEOUT_MS;
      const names: ServiceName[] = ['auth', 'products', 'orders', 'shipments', 'gateway'];
      let unready: ServiceName[] = [];
      while (Date.now() < until) {
        const ready = await Promise.all(names.map((n) => cluster.isReady(n)));
        unready = names.filter((_, i) => !ready[i]);
        if (unready.length === 0) return;
        await sleep(250);
      }
      throw new Error(`not ready again within ${READY_TIMEOUT_MS / 1000} s: ${unready.join(', ')}`);
    };
    const injections: [string, () => Promise<void>][] = [
      ...KILLED.map((name): [string, () => Promise<void>] => [
        `kill -9 ${name}`,
        async () => {
          await cluster.kill9(name);
          await sleep(RESTART_AFTER_KILL_MS);
          await cluster.restart(name);
        },
      ]),
      [
        'nats-server stop/start',
        async () => {
          await cluster.stopNats();
          await sleep(NATS_DOWN_MS);
          await cluster.startNats();
        },
      ],
      ['PostgreSQL restart', async () => void (await cluster.restartPostgres())],
    ];
    let faultsDone = false;
    let faultError: unknown = null;
    const faultRunner = (async () => {
      try {
        for (const [i, [name, inject]] of injections.entries()) {
          const due = t0 + FIRST_FAULT_MS + i * FAULT_SPACING_MS;
          if (Date.now() < due) await sleep(due - Date.now());
          const at = Date.now();
          say(`fault: ${name}`);
          try {
            await inject();
            await everythingReady();
          } finally {
            faults.push({ name, at: at - t0, recoveredMs: Date.now() - at });
          }
        }
      } catch (err) {
        faultError = err; // reported once the clients are done, with the summary
      } finally {
        faultsDone = true;
      }
    })();

    // What the services' connections are doing, every 2 s (evidence when a pool runs dry):
    // the most sessions per database and state, and what long-open transactions last ran.
    const peaks = new Map<string, number>();
    const longTransactions = new Map<string, number>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const c = new pg.Client({ connectionString: cluster.postgresUrl, connectionTimeoutMillis: 1_000 });
        c.on('error', () => {});
        try {
          await c.connect();
          const { rows } = await c.query<{ db: string; state: string; age: number; query: string }>(
            `SELECT replace(datname, 'orderflow_', '') AS db, coalesce(state, '?') AS state,
                    coalesce(extract(epoch FROM now() - xact_start) * 1000, 0)::int AS age, left(query, 60) AS query
               FROM pg_stat_activity WHERE datname LIKE 'orderflow_%' AND pid <> pg_backend_pid()`,
          );
          for (const [k, n] of countBy(rows.map((r) => `${r.db} ${r.state}`))) peaks.set(k, Math.max(peaks.get(k) ?? 0, n));
          for (const r of rows.filter((r) => r.state.startsWith('idle in transaction') && r.age > 1_000)) {
            const k = `${r.db}: ${r.query.replace(/\s+/g, ' ')}`;
            longTransactions.set(k, (longTransactions.get(k) ?? 0) + 1);
          }
        } catch {
          /* PostgreSQL is being restarted */
        } finally {
          await c.end().catch(() => {});
        }
        await sleep(2_000);
      }
    })();

    // Open model: one order every 1000/ORDER_RATE ms on the clock, reads in between.
    const interval = 1_000 / ORDER_RATE;
    let tick = 0;
    let faultsOverAt = Infinity;
    for (;;) {
      const elapsed = Date.now() - t0;
      if (faultsDone && faultsOverAt === Infinity) faultsOverAt = elapsed;
      if (elapsed >= LOAD_MS && elapsed >= faultsOverAt + LOAD_TAIL_MS) break;
      if (elapsed > 3 * LOAD_MS) break; // a stuck repair fails below, not here
      track(placeOne());
      if (tick % 2 === 0) track(readOne());
      tick++;
      const next = t0 + tick * interval;
      if (next > Date.now()) await sleep(next - Date.now());
    }
    const loadMs = Date.now() - t0;
    const machine = machineCpu().since(machineAtStart);
    const servicesCpu = Object.entries(cluster.cpuSeconds()).map(([name, sec]) => [name, sec - servicesAtStart[name as ServiceName]] as const);
    say(`load over; waiting for ${inFlight.size} client flows in flight`);
    await faultRunner;
    while (inFlight.size) await Promise.race(inFlight);
    const drainedMs = Date.now() - t0;
    sampling = false;
    await sampler;
    say('every client flow answered; waiting for the saga to settle');

    // ── Settle: nothing waiting anywhere ──
    nc = await connect({ servers: cluster.natsUrl });
    const jsm = await nc.jetstreamManager();
    async function backlog() {
      let pending = 0;
      for (const stream of ['ORDERS', 'INVENTORY', 'SHIPMENTS']) {
        for await (const c of jsm.consumers.list(stream)) pending += c.num_pending + c.num_ack_pending;
      }
      return pending;
    }
    async function leftovers() {
      const [[{ n: pendingPayment }], [{ n: activeReservations }], [{ n: failedEmails }]] = await Promise.all([
        sql<{ n: number }>('orders', `SELECT count(*)::int AS n FROM orders WHERE status = 'PENDING_PAYMENT'`),
        sql<{ n: number }>('products', `SELECT count(*)::int AS n FROM reservations WHERE status = 'ACTIVE'`),
        sql<{ n: number }>('orders', `SELECT count(*)::int AS n FROM notifications WHERE status = 'FAILED'`),
      ]);
      let unpublished = 0;
      for (const s of ['orders', 'products', 'shipments'] as const)
        unpublished += (await sql<{ n: number }>(s, 'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL'))[0].n;
      const paid = (await sql<{ id: string }>('orders', `SELECT id::text FROM orders WHERE status = 'PENDING_SHIPMENT'`)).map((r) => r.id);
      const shipped = new Set((await sql<{ order_id: string }>('shipments', 'SELECT order_id::text FROM shipments')).map((r) => r.order_id));
      return { pendingPayment, activeReservations, failedEmails, unpublished, paidWithoutShipment: paid.filter((id) => !shipped.has(id)).length, backlog: await backlog() };
    }
    const settleStart = Date.now();
    let left = await leftovers();
    while (Object.values(left).some((n) => n > 0) && Date.now() - settleStart < SETTLE_TIMEOUT_MS) {
      await sleep(1_000);
      left = await leftovers();
    }
    const settleMs = Date.now() - settleStart;
    say(`settle wait over after ${(settleMs / 1000).toFixed(1)} s; checking`);

    // ── The facts ──
    const orders = await sql<{ id: string; key: string; status: string }>('orders', 'SELECT id::text, idempotency_key AS key, status::text FROM orders');
    const orderById = new Map(orders.map((o) => [o.id, o]));
    const byStatus = countBy(orders.map((o) => o.status));
    const payments = await sql<{ order_id: string; status: string }>('orders', 'SELECT order_id::text, status::text FROM payments');
    const shipments = await sql<{ order_id: string; status: string }>('shipments', 'SELECT order_id::text, status::text FROM shipments');
    const reservations = await sql<{ order_id: string; status: string }>('products', 'SELECT order_id::text, status::text FROM reservations');
    const stock = await sql<{ id: string; available: number; reserved: number; sold: number; stocked: number }>('products', 'SELECT id::text, available, reserved, sold, stocked FROM products');
    const soldByProduct = await sql<{ product_id: string; n: number }>(
      'orders',
      `SELECT i.product_id::text, sum(i.quantity)::int AS n FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.status = 'PENDING_SHIPMENT' GROUP BY 1`,
    );
    const notifications = await sql<{ event_id: string; order_id: string; kind: string; status: string }>('orders', 'SELECT event_id::text, order_id::text, kind, status::text FROM notifications');
    const events = await eventCounts(nc, ['orders.created', 'payments.succeeded', 'payments.failed']);
    const dlq = (await jsm.streams.info('DLQ')).state.messages;

    // ── The summary ──
    const records = client.records;
    const table = new Map<string, Map<string, number>>();
    for (const r of records) {
      const row = table.get(r.op) ?? new Map<string, number>();
      row.set(label(r.outcome), (row.get(label(r.outcome)) ?? 0) + 1);
      table.set(r.op, row);
    }
    const ghosts = orders.filter((o) => !(answersByKey.get(o.key)?.size));
    /** Which fault a request started under (from the fault until every process was ready again), else steady. */
    const phaseOf = (startedAt: number) => faults.find((f) => startedAt >= f.at && startedAt < f.at + f.recoveredMs)?.name ?? 'steady';
    const KIND: Record<string, string> = { ok: 'ok', 'graphql-error': 'error', 'http-error': 'http', network: 'refused/reset', timeout: 'timeout', hung: 'hung' };
    const byPhase = new Map<string, Map<string, number>>();
    for (const r of records) {
      const row = byPhase.get(phaseOf(r.startedAt)) ?? new Map<string, number>();
      row.set(KIND[r.outcome.kind], (row.get(KIND[r.outcome.kind]) ?? 0) + 1);
      byPhase.set(phaseOf(r.startedAt), row);
    }
    console.log(
      [
        '',
        '── chaos summary ─────────────────────────────────────────────',
        `load ${(loadMs / 1000).toFixed(0)} s at ${ORDER_RATE} orders/s, in-flight requests done at ${(drainedMs / 1000).toFixed(0)} s; ${records.length} requests`,
        `orders: ${answersByKey.size} attempted, ${accepted.length} accepted (OrderPlaced), ${orders.length} in the database (${ghosts.length} never acknowledged to the client)`,
        `order states: ${fmt(byStatus)}`,
        `cancels: ${fmt(cancels)}`,
        `CPU during the load: machine ${(machine.busyCores).toFixed(2)} of ${machine.cores} cores busy; our services ${(servicesCpu.reduce((n, [, sec]) => n + sec, 0) / (loadMs / 1000)).toFixed(2)} cores (${servicesCpu.map(([n, sec]) => `${n} ${(sec / (loadMs / 1000)).toFixed(2)}`).join(', ')}); the rest is PostgreSQL, NATS, this test and whatever else runs here`,
        'faults (at, recovered — every process ready again):',
        ...faults.map((f) => `  ${(f.at / 1000).toFixed(1).padStart(5)} s  ${f.name.padEnd(24)} ${(f.recoveredMs / 1000).toFixed(1)} s`),
        `services that died on their own: ${cluster.unexpectedExits.length ? cluster.unexpectedExits.map((e) => `${e.name} (${e.how})`).join(', ') : 'none'}`,
        `settled in ${(settleMs / 1000).toFixed(1)} s; left over: ${fmt(new Map(Object.entries(left)))}`,
        `PostgreSQL sessions, most seen at once: ${fmt(new Map([...peaks].sort()))}`,
        'transactions idle for over 1 s, by the statement they last ran (samples):',
        ...[...longTransactions].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([q, n]) => `  ${String(n).padStart(4)}  ${q}`),
        `emails: ${cluster.mail.messages.length} received by the SMTP sink; notification rows ${fmt(countBy(notifications.map((n) => n.status)))}; DLQ ${dlq}`,
        'requests by outcome:',
        ...[...table].map(([op, row]) => `  ${op.padEnd(12)} ${[...row].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`),
        'requests by the fault they started under:',
        ...['steady', ...faults.map((f) => f.name)].filter((p) => byPhase.has(p)).map((p) => `  ${p.padEnd(24)} ${fmt(byPhase.get(p)!)}`),
        `slowest request: ${Math.max(0, ...records.map((r) => r.ms))} ms (deadline ${REQUEST_TIMEOUT_MS} ms)`,
        'what the services logged at warn/error level (top 4 each):',
        ...(['gateway', 'auth', 'products', 'orders', 'shipments'] as const).flatMap((name) =>
          cluster.problems(name).slice(0, 4).map(([what, n]) => `  ${name.padEnd(10)} ${String(n).padStart(5)}  ${what}`),
        ),
        `logs: ${cluster.logDir}${process.env.CHAOS_KEEP ? '' : ' (removed at the end; CHAOS_KEEP=1 keeps them)'}`,
        '──────────────────────────────────────────────────────────────',
      ].join('\n'),
    );

    writeFileSync(join(dir, 'requests.json'), JSON.stringify({ faults, records }, null, 1));

    // ── The invariants ──
    if (faultError) throw faultError;
    expect(faults.map((f) => f.name), 'every fault was injected and repaired').toEqual(injections.map(([name]) => name));
    expect(accepted.length, 'the load placed orders at all').toBeGreaterThan(ORDER_RATE * (LOAD_MS / 1000) * 0.5);
    expect(left, `the saga settled within ${SETTLE_TIMEOUT_MS / 1000} s`).toEqual({ pendingPayment: 0, activeReservations: 0, failedEmails: 0, unpublished: 0, paidWithoutShipment: 0, backlog: 0 });

    // Every client request got an answer (a result or a clean error) before its deadline.
    const unanswered = records.filter((r) => r.outcome.kind === 'timeout' || r.outcome.kind === 'hung');
    expect(unanswered, 'requests without an answer within their deadline').toEqual([]);
    expect(invalid, 'placeOrder retried with the same key and input is never refused as invalid').toEqual([]);

    // No accepted order lost, none duplicated: one order per key, the one every OrderPlaced answer named.
    const idsByKey = new Map<string, string[]>();
    for (const o of orders) idsByKey.set(o.key, [...(idsByKey.get(o.key) ?? []), o.id]);
    const lost = accepted.filter((a) => !orderById.has(a.orderId));
    const split = [...answersByKey].filter(([, ids]) => ids.size > 1);
    const duplicated = [...idsByKey].filter(([, ids]) => ids.length > 1);
    const mismatched = accepted.filter((a) => orderById.get(a.orderId)?.key !== a.key);
    expect({ lost, split, duplicated, mismatched }).toEqual({ lost: [], split: [], duplicated: [], mismatched: [] });
    expect(orders.every((o) => answersByKey.has(o.key)), 'every order in the database is one the load asked for').toBe(true);

    // Every order in a state the saga leaves it in; paid ones have their shipment.
    expect([...byStatus.keys()].filter((s) => !['PENDING_SHIPMENT', 'PAYMENT_FAILED', 'CANCELLED'].includes(s))).toEqual([]);
    const shipmentOf = new Map(shipments.map((s) => [s.order_id, s.status]));
    const badShipments = orders.flatMap((o) => {
      const s = shipmentOf.get(o.id);
      if (o.status === 'PENDING_SHIPMENT' && s !== 'PROCESSING') return [{ order: o.id, status: o.status, shipment: s ?? null }];
      if (o.status !== 'PENDING_SHIPMENT' && s !== undefined && s !== 'CANCELLED') return [{ order: o.id, status: o.status, shipment: s }];
      return [];
    });
    expect(badShipments, 'a PROCESSING shipment for each paid order, none live for the others').toEqual([]);
    expect(shipments.filter((s) => !orderById.has(s.order_id)), 'shipments of unknown orders').toEqual([]);

    // Exactly one payment outcome per order: one payments row that agrees with the order, one outcome event.
    const paymentsOf = groupBy(payments, (p) => p.order_id);
    const EXPECTED_PAYMENT: Record<string, string[]> = { PENDING_SHIPMENT: ['SUCCEEDED'], PAYMENT_FAILED: ['FAILED'], CANCELLED: ['FAILED', 'REFUNDED'] };
    const badPayments = orders
      .filter((o) => (paymentsOf.get(o.id)?.length ?? 0) !== 1 || !EXPECTED_PAYMENT[o.status]?.includes(paymentsOf.get(o.id)![0].status))
      .map((o) => ({ order: o.id, status: o.status, payments: paymentsOf.get(o.id)?.map((p) => p.status) ?? [] }));
    expect(badPayments, 'one payment row per order, agreeing with its status').toEqual([]);
    const badEvents = orders
      .map((o) => ({ order: o.id, created: events.get(`orders.created ${o.id}`) ?? 0, outcomes: (events.get(`payments.succeeded ${o.id}`) ?? 0) + (events.get(`payments.failed ${o.id}`) ?? 0) }))
      .filter((e) => e.created !== 1 || e.outcomes !== 1);
    expect(badEvents, 'one orders.created and one payment outcome event per order in JetStream').toEqual([]);
    expect(dlq, 'no event dead-lettered').toBe(0);

    // Stock adds up: the contract's invariant, nothing held, sold = the paid orders' units.
    expect(stock.filter((p) => p.available + p.reserved + p.sold !== p.stocked || p.available < 0 || p.reserved !== 0 || p.sold < 0)).toEqual([]);
    const soldExpected = new Map(soldByProduct.map((r) => [r.product_id, r.n]));
    expect(stock.filter((p) => p.sold !== (soldExpected.get(p.id) ?? 0)).map((p) => ({ product: p.id, sold: p.sold, paidUnits: soldExpected.get(p.id) ?? 0 }))).toEqual([]);
    const EXPECTED_RESERVATION: Record<string, string[]> = { PENDING_SHIPMENT: ['COMMITTED'], PAYMENT_FAILED: ['RELEASED'], CANCELLED: ['RELEASED', 'RETURNED'] };
    const badReservations = reservations.filter((r) => {
      const order = orderById.get(r.order_id);
      return order ? !EXPECTED_RESERVATION[order.status]?.includes(r.status) : r.status !== 'RELEASED';
    });
    expect(badReservations, 'reservations settled as their orders').toEqual([]);
    expect(orders.filter((o) => !reservations.some((r) => r.order_id === o.id)), 'orders without a reservation').toEqual([]);

    // No email twice: every Message-ID once; each is a notification's (<event id@orderflow.local>);
    // every notification recorded SENT went out exactly once.
    const messageIds = cluster.mail.messages.map((m) => m.header('message-id') ?? '');
    expect(messageIds.filter((id, i) => messageIds.indexOf(id) !== i), 'Message-IDs the sink saw twice').toEqual([]);
    const notificationOf = new Map(notifications.map((n) => [`<${n.event_id}@orderflow.local>`, n]));
    expect(messageIds.filter((id) => !notificationOf.has(id)), 'emails without a notification row').toEqual([]);
    const received = new Set(messageIds);
    expect(notifications.filter((n) => n.status === 'SENT' && !received.has(`<${n.event_id}@orderflow.local>`)), 'SENT but never received').toEqual([]);
    // A message whose row is not SENT: the send went out, then a kill or a PostgreSQL restart came before it was recorded.
    expect(messageIds.map((id) => notificationOf.get(id)!).filter((n) => n.status !== 'SENT' && n.status !== 'PENDING' && n.status !== 'UNKNOWN')).toEqual([]);
    // Each order's received email, and the email of its final status, exist (sent, or claimed by a send that a kill cut short).
    const kinds = new Set(notifications.map((n) => `${n.order_id} ${n.kind}`));
    const FINAL_EMAIL: Record<string, string | undefined> = { PAYMENT_FAILED: 'payment-failed', CANCELLED: 'cancelled' };
    const missingEmails = orders.flatMap((o) => [
      ...(kinds.has(`${o.id} order-received`) ? [] : [`${o.id} order-received`]),
      ...(FINAL_EMAIL[o.status] && !kinds.has(`${o.id} ${FINAL_EMAIL[o.status]}`) ? [`${o.id} ${FINAL_EMAIL[o.status]}`] : []),
    ]);
    expect(missingEmails, 'emails never attempted').toEqual([]);
    // A send cut short (kill -9 of orders, PostgreSQL restart) is never retried, on purpose (at most once):
    // only a few, at most one batch of the two email consumers (4 + 4) per such fault.
    const unsent = notifications.filter((n) => n.status !== 'SENT');
    expect(unsent.length, `emails not recorded as sent: ${JSON.stringify(unsent)}`).toBeLessThanOrEqual(16);

    expect(cluster.unexpectedExits, 'services that died without being killed').toEqual([]);
  }, 420_000);
});

function countBy(values: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
  return m;
}

/** The machine's CPU counters (/proc/stat), to tell a slow system from a busy machine. */
function machineCpu() {
  const read = () => {
    try {
      const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
      const idle = values[3] + (values[4] ?? 0);
      return { total: values.reduce((a, b) => a + b, 0), idle };
    } catch {
      return { total: 0, idle: 0 };
    }
  };
  const at = read();
  return {
    ...at,
    /** Busy cores on average since `earlier`. */
    since(earlier: { total: number; idle: number }) {
      const cores = cpus().length;
      const total = at.total - earlier.total;
      return { cores, busyCores: total > 0 ? (cores * (total - (at.idle - earlier.idle))) / total : 0 };
    },
  };
}

const fmt = (m: Map<string, number>) => [...m].map(([k, n]) => `${k} ${n}`).join(', ') || 'none';

/**
 * How many events of each `<type> <orderId>` the ORDERS stream holds, read
 * message by message (nats-server 2.9, Debian's, has no multi-subject filters).
 */
async function eventCounts(nc: NatsConnection, types: string[]): Promise<Map<string, number>> {
  const jsm = await nc.jetstreamManager();
  const { first_seq: first, last_seq: last } = (await jsm.streams.info('ORDERS')).state;
  const counts = new Map<string, number>();
  let next = first;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next <= last) {
        const seq = next++;
        const m = await jsm.streams.getMessage('ORDERS', { seq }).catch(() => null);
        if (!m || !types.some((t) => m.subject === t)) continue;
        const e = m.json<{ type: string; correlationId: string }>();
        const k = `${e.type} ${e.correlationId}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
    }),
  );
  return counts;
}
