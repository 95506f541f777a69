// Faults under load (issue 7, part 2). The whole system runs as real
// processes on its own durable PostgreSQL and nats-server; while customers
// place, cancel and read orders at a steady rate, every subgraph and the
// gateway is killed with SIGKILL and restarted, nats-server is stopped and
// started, and PostgreSQL is stopped for 5 s. Once the load has ended and the saga
// has settled, the invariants a customer or an accountant would notice must
// hold: no accepted order lost or duplicated, every order in a state the saga
// leaves it in, one payment outcome per order, stock that adds up, nothing
// held back, no email twice, no request left hanging.
//
//   npm run test:chaos          (CHAOS_KEEP=1 keeps the working folder: logs, data, requests.json)
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { label } from './client.ts';
import { SUBGRAPHS, startCluster, type Cluster, type ServiceName } from './cluster.ts';
import { machineCpu, sampleSessions } from './diagnostics.ts';
import { runLoad, setUpShop, warmUp, type FaultSpec, type LoadRun } from './load.ts';

// ── The scenario ────────────────────────────────────────────────────────────

const LOAD = {
  /** Orders started per second. */
  rate: 4,
  /** At least this long, and until 6 s after the last fault was repaired. */
  minDurationMs: 70_000,
  tailMs: 6_000,
  /** Deadline of every client request. */
  timeoutMs: 10_000,
  /** A client tries a placeOrder (same key, same input) or a cancelOrder up to 4 times on errors. */
  attempts: 4,
  cancelShare: 0.15,
  firstFaultMs: 5_000,
  faultSpacingMs: 8_000,
};
const SHOP = { products: 10, customers: 20, initialStock: 150 };
const RESTART_AFTER_KILL_MS = 2_000;
const NATS_DOWN_MS = 3_000;
const PG_DOWN_MS = 5_000;
/** How long every process gets to answer ready again after a fault. */
const READY_TIMEOUT_MS = 90_000;
/** How long the saga gets to settle after the load. */
const SETTLE_TIMEOUT_MS = 90_000;

const SERVICE_ENV = {
  // Shorter saga retries, so the suite settles in seconds rather than minutes.
  SAGA_RETRY_SCALE: '0.2',
  // The sweeper releases stock reserved for orders that were never written (orders or products killed
  // mid-placeOrder) once RESERVATION_DEADLINE_MS (default 60 s) has passed; it looks every 3 s instead of 15 s.
  // The deadline keeps its default: it must stay above the longest a placeOrder can take between its
  // reservation and its order write (three 5 s reservation attempts, then pool wait and transaction, ~40 s),
  // or the sweeper would release stock under a slow but successful order.
  SWEEP_INTERVAL_MS: '3000',
  // The shop's customers all sign up from 127.0.0.1 (the per-address sign-up limit is 10 per 5 minutes).
  SIGNUPS_PER_ADDRESS: '1000',
};

const FINAL_STATES = ['PENDING_SHIPMENT', 'PAYMENT_FAILED', 'CANCELLED'];

// ── The run (all in beforeAll; each `it` checks one invariant on what it left) ──

describe('faults under load', () => {
  let dir: string;
  let cluster: Cluster;
  let nc: NatsConnection | undefined;
  const pools = new Map<string, pg.Pool>();
  let run: LoadRun;
  let left: Awaited<ReturnType<typeof leftovers>>;
  let facts: Awaited<ReturnType<typeof readFacts>>;
  /** How busy the machine was during the load, and how much of that was our services (for reading a failure). */
  let cpuNote = '';
  const say = (line: string) => console.log(`[chaos] ${line}`);

  /** SQL on one service's database (pools are made after the faults: a PostgreSQL restart would break them). */
  async function sql<T = any>(
    service: 'orders' | 'products' | 'shipments',
    text: string,
    params: unknown[] = [],
  ): Promise<T[]> {
    let pool = pools.get(service);
    if (!pool) {
      pool = new pg.Pool({ connectionString: cluster.databaseUrl(service), max: 2 });
      pool.on('error', () => {}); // an idle connection cut by the server is replaced on the next query
      pools.set(service, pool);
    }
    return (await pool.query(text, params)).rows as T[];
  }

  /** Every process ready again, or an error naming those that are not. */
  async function whenRepaired() {
    const names: ServiceName[] = [...SUBGRAPHS, 'gateway'];
    let unready = names;
    for (
      const until = Date.now() + READY_TIMEOUT_MS;
      Date.now() < until;
      await new Promise((r) => setTimeout(r, 250))
    ) {
      const ready = await Promise.all(names.map((n) => cluster.isReady(n)));
      unready = names.filter((_, i) => !ready[i]);
      if (unready.length === 0) return;
    }
    throw new Error(`not ready again within ${READY_TIMEOUT_MS / 1000} s: ${unready.join(', ')}`);
  }

  const faults = (): FaultSpec[] => [
    ...([...SUBGRAPHS, 'gateway'] as const).map((name) => ({
      name: `kill -9 ${name}`,
      async inject() {
        await cluster.kill9(name);
        await new Promise((r) => setTimeout(r, RESTART_AFTER_KILL_MS));
        await cluster.restart(name);
      },
    })),
    {
      name: 'nats-server stop/start',
      async inject() {
        await cluster.stopNats();
        await new Promise((r) => setTimeout(r, NATS_DOWN_MS));
        await cluster.startNats();
      },
    },
    // Down long enough that, at SAGA_RETRY_SCALE 0.2, every saga event in flight runs out of its 8 deliveries.
    {
      name: `PostgreSQL down ${PG_DOWN_MS / 1000} s`,
      inject: async () => void (await cluster.restartPostgres({ downMs: PG_DOWN_MS })),
    },
  ];

  /** What is still under way: all zero once the saga has settled. */
  async function leftovers() {
    const count = async (service: 'orders' | 'products' | 'shipments', text: string) =>
      (await sql<{ n: number }>(service, `SELECT count(*)::int AS n FROM ${text}`))[0].n;
    const jsm = await nc!.jetstreamManager();
    let backlog = 0;
    for (const stream of ['ORDERS', 'INVENTORY', 'SHIPMENTS'])
      for await (const c of jsm.consumers.list(stream)) backlog += c.num_pending + c.num_ack_pending;
    return {
      pendingPayment: await count('orders', `orders WHERE status = 'PENDING_PAYMENT'`),
      activeReservations: await count('products', `reservations WHERE status = 'ACTIVE'`),
      emailsToRetry: await count('orders', `notifications WHERE status = 'FAILED'`),
      unpublished:
        (await count('orders', 'outbox WHERE published_at IS NULL')) +
        (await count('products', 'outbox WHERE published_at IS NULL')) +
        (await count('shipments', 'outbox WHERE published_at IS NULL')),
      paidWithoutShipment: await (async () => {
        const shipped = new Set(
          (await sql<{ order_id: string }>('shipments', 'SELECT order_id::text FROM shipments')).map((r) => r.order_id),
        );
        return (
          await sql<{ id: string }>('orders', `SELECT id::text FROM orders WHERE status = 'PENDING_SHIPMENT'`)
        ).filter((r) => !shipped.has(r.id)).length;
      })(),
      backlog,
    };
  }

  /** Everything the invariants are checked on, read once the saga has settled. */
  async function readFacts() {
    const jsm = await nc!.jetstreamManager();
    return {
      orders: await sql<{ id: string; key: string; status: string }>(
        'orders',
        'SELECT id::text, idempotency_key AS key, status::text FROM orders',
      ),
      payments: await sql<{ order_id: string; status: string }>(
        'orders',
        'SELECT order_id::text, status::text FROM payments',
      ),
      notifications: await sql<{ event_id: string; order_id: string; kind: string; status: string }>(
        'orders',
        'SELECT event_id::text, order_id::text, kind, status::text FROM notifications',
      ),
      paidUnits: new Map(
        (
          await sql<{ product_id: string; n: number }>(
            'orders',
            `SELECT i.product_id::text, sum(i.quantity)::int AS n FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.status = 'PENDING_SHIPMENT' GROUP BY 1`,
          )
        ).map((r) => [r.product_id, r.n]),
      ),
      shipments: await sql<{ order_id: string; status: string }>(
        'shipments',
        'SELECT order_id::text, status::text FROM shipments',
      ),
      reservations: await sql<{ order_id: string; status: string }>(
        'products',
        'SELECT order_id::text, status::text FROM reservations',
      ),
      stock: await sql<{ id: string; available: number; reserved: number; sold: number; stocked: number }>(
        'products',
        'SELECT id::text, available, reserved, sold, stocked FROM products',
      ),
      events: await eventCounts(nc!, ['orders.created', 'payments.succeeded', 'payments.failed']),
      deadLetters: (await jsm.streams.info('DLQ')).state.messages,
      emails: cluster.mail.messages.map((m) => m.header('message-id') ?? ''),
    };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'orderflow-chaos-'));
    chmodSync(dir, 0o755); // PostgreSQL runs as the postgres user when we are root
    cluster = await startCluster({ dir, env: SERVICE_ENV, log: (line) => console.log(`[cluster] ${line}`) });
    const shop = await setUpShop({ gatewayUrl: cluster.gatewayUrl, ...SHOP });
    const warm = await warmUp(cluster.gatewayUrl, shop);

    const machineBefore = machineCpu();
    const cpuBefore = cluster.cpuSeconds();
    const sessions = sampleSessions(cluster.postgresUrl);
    run = await runLoad({ ...LOAD, gatewayUrl: cluster.gatewayUrl, shop, faults: faults(), whenRepaired, say });
    await sessions.stop();
    const machine = machineCpu().since(machineBefore);
    const cpuAfter = cluster.cpuSeconds();
    // The warm-up's orders are accepted orders like the others.
    for (const w of warm) {
      run.accepted.push(w);
      run.answersByKey.set(w.key, new Set([w.orderId]));
    }

    say('waiting for the saga to settle');
    nc = await connect(cluster.natsAdmin);
    const settleStart = Date.now();
    left = await leftovers();
    while (Object.values(left).some((n) => n > 0) && Date.now() - settleStart < SETTLE_TIMEOUT_MS) {
      await new Promise((r) => setTimeout(r, 1_000));
      left = await leftovers();
    }
    const settleMs = Date.now() - settleStart;
    facts = await readFacts();

    const seconds = run.loadMs / 1000;
    const serviceCores = ([...SUBGRAPHS, 'gateway'] as const).map(
      (n) => [n, (cpuAfter[n] - cpuBefore[n]) / seconds] as const,
    );
    cpuNote = `machine ${machine.busyCores.toFixed(2)} of ${machine.cores} cores busy during the load, our services ${serviceCores.reduce((n, [, c]) => n + c, 0).toFixed(2)}`;
    const ghosts = facts.orders.filter((o) => !run.answersByKey.get(o.key)?.size);
    const phaseOf = (startedAt: number) =>
      run.faults.find((f) => startedAt >= f.at && startedAt < f.at + f.recoveredMs)?.name ?? 'steady';
    const KIND: Record<string, string> = {
      ok: 'ok',
      'graphql-error': 'error',
      'http-error': 'http',
      network: 'refused/reset',
      timeout: 'timeout',
      hung: 'hung',
    };
    const byPhase = tally(
      run.records,
      (r) => phaseOf(r.startedAt),
      (r) => KIND[r.outcome.kind],
    );
    const byOp = tally(
      run.records,
      (r) => r.op,
      (r) => label(r.outcome),
    );
    console.log(
      [
        '',
        '── chaos summary ─────────────────────────────────────────────',
        `load ${seconds.toFixed(0)} s at ${LOAD.rate} orders/s; last answer at ${(run.drainedMs / 1000).toFixed(0)} s; ${run.records.length} requests`,
        `orders: ${run.answersByKey.size} attempted, ${run.accepted.length} accepted (OrderPlaced), ${facts.orders.length} in the database (${ghosts.length} placed but never acknowledged to the client)`,
        `order states: ${fmt(countBy(facts.orders.map((o) => o.status)))}; cancels: ${fmt(run.cancels)}`,
        `CPU: ${cpuNote} (${serviceCores.map(([n, c]) => `${n} ${c.toFixed(2)}`).join(', ')}); the rest is PostgreSQL, NATS, this test and anything else on the machine`,
        'faults (at, until every process was ready again):',
        ...run.faults.map(
          (f) =>
            `  ${(f.at / 1000).toFixed(1).padStart(5)} s  ${f.name.padEnd(24)} ${(f.recoveredMs / 1000).toFixed(1)} s`,
        ),
        `services that died on their own: ${cluster.unexpectedExits.map((e) => `${e.name} (${e.how})`).join(', ') || 'none'}`,
        `settled in ${(settleMs / 1000).toFixed(1)} s; left over: ${fmt(new Map(Object.entries(left)))}`,
        `emails: ${facts.emails.length} received by the SMTP sink; notification rows ${fmt(countBy(facts.notifications.map((n) => n.status)))}; dead letters ${facts.deadLetters}`,
        'requests by operation and outcome:',
        ...[...byOp].map(([op, row]) => `  ${op.padEnd(24)} ${fmt(row)}`),
        'requests by the fault they started under:',
        ...['steady', ...run.faults.map((f) => f.name)]
          .filter((p) => byPhase.has(p))
          .map((p) => `  ${p.padEnd(24)} ${fmt(byPhase.get(p)!)}`),
        `slowest request: ${Math.max(0, ...run.records.map((r) => r.ms))} ms (deadline ${LOAD.timeoutMs} ms)`,
        `PostgreSQL sessions, most at once: ${fmt(new Map([...sessions.peaks].sort()))}`,
        'transactions idle for over 1 s, by the statement they last ran (samples):',
        ...[...sessions.idleInTransaction]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 5)
          .map(([q, n]) => `  ${String(n).padStart(4)}  ${q}`),
        'what the services logged at warn/error level (top 4 each):',
        ...([...SUBGRAPHS, 'gateway'] as const).flatMap((name) =>
          cluster
            .problems(name)
            .slice(0, 4)
            .map(([what, n]) => `  ${name.padEnd(10)} ${String(n).padStart(5)}  ${what}`),
        ),
        `logs: ${cluster.logDir}${process.env.CHAOS_KEEP ? '' : ' (removed at the end; CHAOS_KEEP=1 keeps them)'}`,
        '──────────────────────────────────────────────────────────────',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'requests.json'), JSON.stringify({ faults: run.faults, records: run.records }, null, 1));
  }, 600_000);

  afterAll(async () => {
    await nc?.close().catch(() => {});
    await Promise.all([...pools.values()].map((p) => p.end().catch(() => {})));
    await cluster?.stop();
    if (process.env.CHAOS_KEEP) console.log(`[chaos] working folder kept: ${dir}`);
    else if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  // ── The invariants ──────────────────────────────────────────────────────

  it('injects every fault, and every process is ready again after each', () => {
    if (run.faultError) throw new Error(`${(run.faultError as Error).message} (${cpuNote})`, { cause: run.faultError });
    expect(run.faults.map((f) => f.name)).toEqual(faults().map((f) => f.name));
    expect(cluster.unexpectedExits, 'services that died without being killed').toEqual([]);
    expect(run.accepted.length, 'orders accepted at all').toBeGreaterThan(
      LOAD.rate * (LOAD.minDurationMs / 1000) * 0.5,
    );
  });

  it('answers every request with a result or a clean error before its deadline', () => {
    expect(
      run.records.filter((r) => r.outcome.kind === 'timeout' || r.outcome.kind === 'hung'),
      cpuNote,
    ).toEqual([]);
  });

  it('settles: nothing pending, held, unpublished or unconsumed', () => {
    expect(left).toEqual({
      pendingPayment: 0,
      activeReservations: 0,
      emailsToRetry: 0,
      unpublished: 0,
      paidWithoutShipment: 0,
      backlog: 0,
    });
  });

  it('loses no accepted order and makes none twice', () => {
    const byId = new Map(facts.orders.map((o) => [o.id, o]));
    const lost = run.accepted.filter((a) => !byId.has(a.orderId));
    const mismatched = run.accepted.filter((a) => byId.has(a.orderId) && byId.get(a.orderId)!.key !== a.key);
    const answeredTwoOrders = [...run.answersByKey].filter(([, ids]) => ids.size > 1);
    const duplicatedKeys = [...countBy(facts.orders.map((o) => o.key))].filter(([, n]) => n > 1);
    const unknown = facts.orders.filter((o) => !run.answersByKey.has(o.key));
    expect({ lost, mismatched, answeredTwoOrders, duplicatedKeys, unknown }).toEqual({
      lost: [],
      mismatched: [],
      answeredTwoOrders: [],
      duplicatedKeys: [],
      unknown: [],
    });
    expect(run.invalid, 'a retried placeOrder (same key, same input) refused as invalid').toEqual([]);
  });

  it('leaves every order in a state the saga ends in, each paid one with a live shipment', () => {
    expect(facts.orders.filter((o) => !FINAL_STATES.includes(o.status))).toEqual([]);
    const shipmentOf = new Map(facts.shipments.map((s) => [s.order_id, s.status]));
    const wrong = facts.orders
      .map((o) => ({ order: o.id, status: o.status, shipment: shipmentOf.get(o.id) ?? null }))
      .filter((o) =>
        o.status === 'PENDING_SHIPMENT'
          ? o.shipment !== 'PROCESSING'
          : o.shipment !== null && o.shipment !== 'CANCELLED',
      );
    expect(wrong).toEqual([]);
    const orderIds = new Set(facts.orders.map((o) => o.id));
    expect(
      facts.shipments.filter((s) => !orderIds.has(s.order_id)),
      'shipments of unknown orders',
    ).toEqual([]);
  });

  it('records exactly one payment outcome per order, agreeing with its state', () => {
    const EXPECTED: Record<string, string[]> = {
      PENDING_SHIPMENT: ['SUCCEEDED'],
      PAYMENT_FAILED: ['FAILED'],
      CANCELLED: ['FAILED', 'REFUNDED'],
    };
    const paymentsOf = groupBy(facts.payments, (p) => p.order_id);
    const wrongRows = facts.orders
      .map((o) => ({ order: o.id, status: o.status, payments: (paymentsOf.get(o.id) ?? []).map((p) => p.status) }))
      .filter((o) => o.payments.length !== 1 || !EXPECTED[o.status]?.includes(o.payments[0]));
    expect(wrongRows, 'payments rows').toEqual([]);
    const n = (type: string, id: string) => facts.events.get(`${type} ${id}`) ?? 0;
    const wrongEvents = facts.orders
      .map((o) => ({
        order: o.id,
        created: n('orders.created', o.id),
        outcomes: n('payments.succeeded', o.id) + n('payments.failed', o.id),
      }))
      .filter((e) => e.created !== 1 || e.outcomes !== 1);
    expect(wrongEvents, 'orders.created and payment outcome events in JetStream').toEqual([]);
    expect(facts.deadLetters, 'dead-lettered events').toBe(0);
  });

  it('keeps available + reserved + sold = stocked, holds nothing back, and sells exactly the paid units', () => {
    expect(
      facts.stock.filter(
        (p) => p.available + p.reserved + p.sold !== p.stocked || p.available < 0 || p.reserved !== 0 || p.sold < 0,
      ),
    ).toEqual([]);
    expect(
      facts.stock
        .map((p) => ({ product: p.id, sold: p.sold, paidUnits: facts.paidUnits.get(p.id) ?? 0 }))
        .filter((p) => p.sold !== p.paidUnits),
    ).toEqual([]);
    const EXPECTED: Record<string, string[]> = {
      PENDING_SHIPMENT: ['COMMITTED'],
      PAYMENT_FAILED: ['RELEASED'],
      CANCELLED: ['RELEASED', 'RETURNED'],
    };
    const statusOf = new Map(facts.orders.map((o) => [o.id, o.status]));
    // A reservation without an order (placeOrder cut short by a kill) must have been released by the sweeper.
    expect(
      facts.reservations.filter((r) => !(EXPECTED[statusOf.get(r.order_id)!] ?? ['RELEASED']).includes(r.status)),
    ).toEqual([]);
    const reserved = new Set(facts.reservations.map((r) => r.order_id));
    expect(
      facts.orders.filter((o) => !reserved.has(o.id)),
      'orders without a reservation',
    ).toEqual([]);
  });

  it('sends no email twice, and every email the saga owes was attempted', () => {
    const messageId = (eventId: string) => `<${eventId}@orderflow.local>`;
    expect(
      facts.emails.filter((id, i) => facts.emails.indexOf(id) !== i),
      'Message-IDs the SMTP sink saw twice',
    ).toEqual([]);
    const rowOf = new Map(facts.notifications.map((n) => [messageId(n.event_id), n]));
    expect(
      facts.emails.filter((id) => !rowOf.has(id)),
      'emails without a notification row',
    ).toEqual([]);
    const received = new Set(facts.emails);
    expect(
      facts.notifications.filter((n) => n.status === 'SENT' && !received.has(messageId(n.event_id))),
      'recorded SENT, never received',
    ).toEqual([]);
    // A row left PENDING (or UNKNOWN) is a send cut short by a kill or a PostgreSQL restart, after the claim and
    // before the row was marked; such a send is never retried (at most once). Only a few, at most one batch of the
    // two email consumers (4 + 4) per such fault.
    const unsettled = facts.notifications.filter((n) => n.status !== 'SENT');
    expect(unsettled.filter((n) => n.status !== 'PENDING' && n.status !== 'UNKNOWN')).toEqual([]);
    expect(unsettled.length).toBeLessThanOrEqual(16);
    const kinds = new Set(facts.notifications.map((n) => `${n.order_id} ${n.kind}`));
    const FINAL_EMAIL: Record<string, string> = { PAYMENT_FAILED: 'payment-failed', CANCELLED: 'cancelled' };
    const owed = facts.orders.flatMap((o) => [
      `${o.id} order-received`,
      ...(FINAL_EMAIL[o.status] ? [`${o.id} ${FINAL_EMAIL[o.status]}`] : []),
    ]);
    expect(
      owed.filter((k) => !kinds.has(k)),
      'emails never attempted',
    ).toEqual([]);
  });
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

/** Counts of `column(x)` per `row(x)`. */
function tally<T>(xs: T[], row: (x: T) => string, column: (x: T) => string): Map<string, Map<string, number>> {
  const m = new Map<string, Map<string, number>>();
  for (const x of xs) {
    const r = m.get(row(x)) ?? new Map<string, number>();
    r.set(column(x), (r.get(column(x)) ?? 0) + 1);
    m.set(row(x), r);
  }
  return m;
}

const fmt = (m: Map<string, number>) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';

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
        if (!m || !types.includes(m.subject)) continue;
        const e = m.json<{ type: string; correlationId: string }>();
        counts.set(`${e.type} ${e.correlationId}`, (counts.get(`${e.type} ${e.correlationId}`) ?? 0) + 1);
      }
    }),
  );
  return counts;
}
