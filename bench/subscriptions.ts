/**
 * Subscriptions at scale on ONE gateway: N concurrent graphql-ws
 * subscribers (default N = 1,000 then 5,000), each a real WebSocket from
 * this process with a customer's bearer token, each following
 * `myOrderUpdates` of its customer.
 *
 * Reports, for each N:
 * - the gateway's memory per idle subscriber: heap used (after a forced
 *   full GC, read through the bench probe preloaded into the gateway
 *   process) and RSS (/proc/<pid>/status), minus the same before any
 *   subscriber connected, divided by N. A subscriber is one socket with one
 *   subscription (a customer's open order page).
 * - the delay from the status change's COMMIT to the client receiving it:
 *   orders are placed for subscribed customers at a fixed rate while all N
 *   are connected; every payload's arrival (wall clock) is set against
 *   pg_xact_commit_timestamp of its order_status_history row (our
 *   PostgreSQL runs with track_commit_timestamp=on), and against the row's
 *   occurredAt (when placeOrder or the transition recorded it) as a cross-check.
 * Then a fan-out probe: one customer with 200 subscriptions (the
 * per-viewer limit) and one status change: how long until the last of them
 * has it (each subscription resolves its own payload).
 *
 *   npm run bench:subscriptions
 *   npm run bench:subscriptions -- --sizes 1000,5000 --per-customer 5 --rate 4 --duration 20
 *
 * The gateway allows 200 subscriptions per viewer (server.ts, perViewer), so
 * N subscribers need at least N/200 customers; we sign up N/per-customer of
 * them (default 5 each: a phone, a laptop and a few tabs). Sign-ups are real
 * but, to make 1,000 of them affordable, our own auth service hashes with
 * PASSWORD_HASH_COST=10 unless --hash-cost says otherwise.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { log } from './support/boot.ts';
import { runBenchmark } from './support/run.ts';
import { SYSTEM_FLAGS, parseFlags } from './support/cli.ts';
import { PLACE_ORDER, call, createProducts, orderInput } from './support/graphql.ts';
import { runOpenModel, schedule } from './support/load.ts';
import { cpuSeconds, loadAverage, statusKb } from './support/proc.ts';
import { clientToken, signUpCustomers } from './support/stack.ts';
import { countBy, loopDelayMs, summarize } from './support/stats.ts';
import { MY_ORDER_UPDATES, subscriberPool, type Delivery } from './support/subscribers.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** What the N subscribers select (--selection): the suite's, or only what a status-change event carries. */
const SELECTIONS = {
  default: MY_ORDER_UPDATES,
  event: 'subscription MyOrderUpdates { myOrderUpdates { orderId previousStatus status reason } }',
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const flags = parseFlags(
  process.argv.slice(2),
  {
    sizes: { type: 'string', default: '1000,5000', help: 'numbers of concurrent subscribers, ascending' },
    perCustomer: {
      type: 'number',
      default: 5,
      min: 1,
      help: 'subscriptions per customer (at most 200, the per-viewer limit)',
    },
    rate: {
      type: 'number',
      default: 2,
      min: 0.1,
      help: 'orders per second while measuring delays (each gives 2 status changes to its customer)',
    },
    duration: { type: 'number', default: 20, min: 1, help: 'seconds of orders per size' },
    settle: { type: 'number', default: 20, min: 1, help: 'seconds to wait for the last deliveries' },
    fanout: {
      type: 'number',
      default: 200,
      min: 0,
      help: 'subscriptions of the one customer of the fan-out probe (0: skip)',
    },
    products: { type: 'number', default: 20, min: 5, help: 'products to create' },
    timeout: { type: 'number', default: 10, min: 0.1, help: 'placeOrder timeout, seconds' },
    out: {
      type: 'string',
      default: resolve(ROOT, 'docs/bench/subscriptions-latest.json'),
      help: 'where the JSON summary goes',
    },
    selection: {
      type: 'string',
      default: 'default',
      help: "the subscribers' selection: default (orderId previousStatus status occurredAt) or event (orderId previousStatus status reason); both are all from the event (no fetch) since orders.status_changed carries the row's occurredAt",
    },
    heapSnapshots: {
      type: 'string',
      default: null,
      help: "directory for V8 heap snapshots of the gateway: before any subscriber and with each size's subscribers idle",
    },
    ...SYSTEM_FLAGS,
    hashCost: {
      type: 'number',
      default: 10,
      min: 0,
      help: 'PASSWORD_HASH_COST of our own auth service (0: the service default, 17)',
    },
  },
  'npm run bench:subscriptions -- [options]',
);

interface Mem {
  heapUsedMb: number | null;
  rssMb: number | null;
}

runBenchmark(flags, async ({ booted, runId, random, machine, summaryOf }) => {
  const sizes = flags.sizes
    .split(',')
    .map(Number)
    .filter((n) => n > 0)
    .sort((a, b) => a - b);
  if (!sizes.length) throw new Error('--sizes needs numbers');
  if (flags.perCustomer > 200) throw new Error('--per-customer: the gateway allows 200 subscriptions per viewer');
  const { stack } = booted;
  const gatewayPid = stack.processes.find((p) => p.name === 'gateway')?.pid ?? null;
  if (!gatewayPid) log('the gateway is not a process of ours (--in-process or --gateway): no memory per subscription');

  const memory = async (): Promise<Mem> => {
    const m = await stack.probe('gateway', 'memory', { gc: true }).catch(() => null);
    const rss = statusKb(gatewayPid, 'VmRSS');
    return {
      heapUsedMb: m ? Math.round((m.heapUsed / 2 ** 20) * 10) / 10 : null,
      rssMb: rss === null ? null : Math.round((rss / 1024) * 10) / 10,
    };
  };
  /** Waits until the gateway has been nearly idle (< 5% of a core) for a second, or 30 s. */
  const quiet = async () => {
    const until = performance.now() + 30_000;
    let last = cpuSeconds(gatewayPid);
    while (performance.now() < until && last !== null) {
      await sleep(1_000);
      const now = cpuSeconds(gatewayPid);
      if (now === null || now - last < 0.05) return;
      last = now;
    }
    if (last === null) await sleep(3_000);
  };

  const gateway = stack.gatewayUrl;
  const wsUrl = `${gateway.replace(/^http/, 'ws')}/graphql`;
  const operator = {
    authorization: `Bearer ${await clientToken(gateway, 'ops-console', flags.opsSecret, 'products:write')}`,
  };
  const productIds = await createProducts(gateway, operator, flags.products, runId, random);
  const customerCount = Math.ceil(sizes[sizes.length - 1] / flags.perCustomer) + (flags.fanout ? 1 : 0);
  let t = performance.now();
  const customers = await signUpCustomers(gateway, customerCount, runId, {
    onProgress: (n) => log(`  signed up ${n}/${customerCount}`),
  });
  log(`signed up ${customers.length} customers in ${Math.round(performance.now() - t)} ms`);
  const hot = flags.fanout ? customers.pop()! : null;

  const orders = stack.databases ? new pg.Client({ connectionString: stack.databases.orders }) : null;
  await orders?.connect();

  // Warm-up: the whole path (orders, saga, payload queries, sockets) runs a few seconds before anything is measured.
  {
    const warmers = customers.slice(0, 10);
    const warm = subscriberPool({ wsUrl, customers: warmers, perCustomer: 1, onDelivery: () => {} });
    await warm.add(warmers.length);
    await runOpenModel(
      schedule('placeOrder', flags.rate, 0, 8, 0, 0, (i) => {
        const c = warmers[i % warmers.length];
        const body = JSON.stringify({
          query: PLACE_ORDER,
          variables: { input: orderInput(productIds, random, `warm-${runId}-${i}`) },
        });
        return () =>
          call(
            `${gateway}/graphql`,
            body,
            { authorization: `Bearer ${c.accessToken}` },
            flags.timeout * 1000,
            'placeOrder',
          );
      }),
    );
    await sleep(3_000);
    await warm.dispose();
    log('warm-up done');
  }
  /** placeOrder for random customers among the first `among`, at the bench's rate and for its duration. */
  const orderArrivals = (tag: string, among: number, placed: { orderId: string; customer: number }[]) =>
    schedule('placeOrder', flags.rate, 0, flags.duration, 0, 0, (i) => {
      const customer = Math.floor(random() * among);
      const body = JSON.stringify({
        query: PLACE_ORDER,
        variables: { input: orderInput(productIds, random, `${tag}-${i}`) },
      });
      return async () => {
        const r = await call(
          `${gateway}/graphql`,
          body,
          { authorization: `Bearer ${customers[customer].accessToken}` },
          flags.timeout * 1000,
          'placeOrder',
        );
        if (r.outcome === 'OrderPlaced') placed.push({ orderId: r.body!.data!.placeOrder.order.id, customer });
        return r;
      };
    });

  // Control: the same orders with nobody subscribed. The gateway's share of placeOrder (and its idle work)
  // per order, which the phases subtract to give the CPU of the deliveries alone.
  const controlPlaced: { orderId: string; customer: number }[] = [];
  const controlCpu0 = cpuSeconds(gatewayPid);
  await runOpenModel(orderArrivals(`control-${runId}`, customers.length, controlPlaced));
  await sleep(2_000); // the saga's second status change, which the hub reads and nobody wants
  const controlCpu1 = cpuSeconds(gatewayPid);
  const control = {
    orders: controlPlaced.length,
    gatewayCpuMsPerOrder:
      controlCpu0 !== null && controlCpu1 !== null && controlPlaced.length
        ? Math.round(((controlCpu1 - controlCpu0) * 1000 * 100) / controlPlaced.length) / 100
        : null,
  };
  log(
    `control: ${control.orders} orders with nobody subscribed, gateway ${control.gatewayCpuMsPerOrder} ms CPU per order`,
  );

  await quiet();
  const baseline = await memory();
  const snapshot = async (name: string) => {
    if (!flags.heapSnapshots) return;
    mkdirSync(flags.heapSnapshots, { recursive: true });
    const r = await stack.probe('gateway', 'heap-snapshot', {
      path: resolve(flags.heapSnapshots, `gateway-${name}.heapsnapshot`),
    });
    log(`heap snapshot: ${r?.path ?? 'none (the gateway is not a process of ours)'}`);
  };
  await snapshot('baseline');
  log(`gateway before any subscriber: heap ${baseline.heapUsedMb} MB, RSS ${baseline.rssMb} MB`);

  let deliveries: Delivery[] = [];
  if (!(flags.selection in SELECTIONS)) throw new Error('--selection: default or event');
  const pool = subscriberPool({
    wsUrl,
    customers,
    query: SELECTIONS[flags.selection as keyof typeof SELECTIONS],
    perCustomer: flags.perCustomer,
    onDelivery: (d) => deliveries.push(d),
  });
  const phases = [];
  for (const n of sizes) {
    t = performance.now();
    await pool.add(n - pool.open);
    const connectMs = Math.round(performance.now() - t);
    log(
      `${pool.open} subscribers connected in ${connectMs} ms${pool.errors.length ? ` (${pool.errors.length} errors: ${pool.errors.slice(0, 3).join(' | ')})` : ''}`,
    );
    await quiet();
    const idle = await memory();
    await snapshot(String(pool.open));
    const per = (a: number | null, b: number | null) =>
      a === null || b === null ? null : Math.round(((a - b) * 1024 * 1024) / pool.open);
    log(
      `N=${pool.open}: gateway heap ${idle.heapUsedMb} MB, RSS ${idle.rssMb} MB → ${per(idle.heapUsedMb, baseline.heapUsedMb)} B heap, ${per(idle.rssMb, baseline.rssMb)} B RSS per idle subscriber`,
    );

    // Status changes for subscribed customers, at a fixed rate.
    deliveries = [];
    const subscribedCustomers = Math.min(customers.length, Math.ceil(pool.open / flags.perCustomer));
    const placed: { orderId: string; customer: number }[] = [];
    const arrivals = orderArrivals(`subs-${runId}-${n}`, subscribedCustomers, placed);
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const cpu0 = { gateway: cpuSeconds(gatewayPid), bench: cpuSeconds(process.pid), at: performance.now() };
    const { results } = await runOpenModel(arrivals);
    // Every order gives its customer PENDING_PAYMENT and PENDING_SHIPMENT, on each of their subscriptions.
    // (An order whose placeOrder answer timed out may exist all the same: count the orders the subscribers saw too.)
    const orderIds = () => new Set([...placed.map((p) => p.orderId), ...deliveries.map((d) => d.orderId)]).size;
    const expectedNow = () => orderIds() * 2 * flags.perCustomer;
    const settleUntil = performance.now() + flags.settle * 1000;
    while (deliveries.length < expectedNow() && performance.now() < settleUntil) await sleep(250);
    const expected = expectedNow();
    loop.disable();
    const cpu1 = { gateway: cpuSeconds(gatewayPid), bench: cpuSeconds(process.pid), at: performance.now() };
    const delays = await commitDelays(orders, deliveries);
    const seconds = (cpu1.at - cpu0.at) / 1000;
    const phase = {
      subscribers: pool.open,
      customersSubscribed: subscribedCustomers,
      connectMs,
      idleMemory: idle,
      memoryPerIdleSubscriberBytes: {
        heap: per(idle.heapUsedMb, baseline.heapUsedMb),
        rss: per(idle.rssMb, baseline.rssMb),
      },
      ordersPlaced: placed.length,
      placeOrderOutcomes: countBy(results, (r) => r.outcome),
      placeOrderLatencyMs: summarize(results.map((r) => r.latency)),
      deliveriesExpected: expected,
      deliveries: deliveries.length,
      missing: Math.max(0, expected - deliveries.length),
      delayFromCommitMs: delays.fromCommit,
      delayFromOccurredAtMs: delays.fromOccurredAt,
      delayByStatusFromCommitMs: delays.byStatus,
      gatewayCpu:
        cpu0.gateway !== null && cpu1.gateway !== null
          ? {
              cores: Math.round(((cpu1.gateway - cpu0.gateway) / seconds) * 100) / 100,
              msPerDelivery: deliveries.length
                ? Math.round((((cpu1.gateway - cpu0.gateway) * 1000) / deliveries.length) * 100) / 100
                : null,
              // Less the control's CPU for as many orders: what the deliveries cost on their own.
              netMsPerDelivery:
                deliveries.length && control.gatewayCpuMsPerOrder !== null
                  ? Math.round(
                      (((cpu1.gateway - cpu0.gateway) * 1000 - control.gatewayCpuMsPerOrder * placed.length) /
                        deliveries.length) *
                        100,
                    ) / 100
                  : null,
            }
          : null,
      benchCpuCores:
        cpu0.bench !== null && cpu1.bench !== null
          ? Math.round(((cpu1.bench - cpu0.bench) / seconds) * 100) / 100
          : null,
      benchEventLoopDelayMs: loopDelayMs(loop),
      errors: pool.errors.length,
      closes: { ...pool.closes },
      loadAverage: loadAverage(),
    };
    phases.push(phase);
    const d = phase.delayFromCommitMs;
    log(
      `N=${pool.open}: ${deliveries.length}/${expected} payloads; commit → client p50 ${d.p50} p95 ${d.p95} p99 ${d.p99} max ${d.max} ms; gateway ${phase.gatewayCpu?.msPerDelivery ?? '?'} ms CPU per payload (${phase.gatewayCpu?.netMsPerDelivery ?? '?'} without placeOrder's share); load ${phase.loadAverage.raw}`,
    );
  }

  // Fan-out probe: one viewer, many subscriptions, one order.
  let fanout = null;
  if (hot) {
    const hotDeliveries: Delivery[] = [];
    const hotPool = subscriberPool({
      wsUrl,
      customers: [hot],
      perCustomer: flags.fanout,
      onDelivery: (d) => hotDeliveries.push(d),
    });
    await hotPool.add(flags.fanout);
    await quiet();
    const runs = [];
    for (let i = 0; i < 3; i++) {
      hotDeliveries.splice(0);
      const r = await call(
        `${gateway}/graphql`,
        JSON.stringify({
          query: PLACE_ORDER,
          variables: { input: orderInput(productIds, random, `fan-${runId}-${i}`, { maxLines: 1 }) },
        }),
        { authorization: `Bearer ${hot.accessToken}` },
        30_000,
        'placeOrder',
      );
      if (r.outcome !== 'OrderPlaced') continue;
      const until = performance.now() + 30_000;
      while (hotDeliveries.length < hotPool.open * 2 && performance.now() < until) await sleep(100);
      const d = await commitDelays(orders, hotDeliveries);
      runs.push({
        deliveries: hotDeliveries.length,
        expected: hotPool.open * 2,
        firstMs: d.fromCommit.count ? Math.round(Math.min(...d.raw) * 10) / 10 : null,
        delayFromCommitMs: d.fromCommit,
      });
      await sleep(1_000);
    }
    fanout = { subscriptionsOfOneViewer: hotPool.open, runs };
    log(
      `fan-out: ${hotPool.open} subscriptions of one customer; last payload after ${runs.map((x) => x.delayFromCommitMs.max).join(', ')} ms (first after ${runs.map((x) => x.firstMs).join(', ')} ms)`,
    );
    await hotPool.dispose();
  }

  await pool.dispose();
  await sleep(2_000);
  await quiet();
  const afterClose = await memory();
  log(`after every subscriber left: heap ${afterClose.heapUsedMb} MB, RSS ${afterClose.rssMb} MB`);
  await orders?.end();

  const summary = summaryOf(
    'subscriptions',
    {
      sizes,
      perCustomer: flags.perCustomer,
      customers: customers.length,
      rate: flags.rate,
      durationS: flags.duration,
      subscription: `${SELECTIONS[flags.selection as keyof typeof SELECTIONS]} (one per socket)`,
      hashCost: flags.hashCost || null,
    },
    { results: { baseline, control, phases, fanout, afterClose } },
  );
  const pad = (x: string) => x.padEnd(34);
  const lines = [
    '',
    'Subscriptions benchmark: N concurrent graphql-ws subscribers on one gateway',
    `${pad('machine')}${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB; load average ${machine.loadAtStart.raw} at start, ${summary.machine.loadAtEnd.raw} at end`,
    `${pad('target')}${stack.mode} ${gateway}; ${flags.perCustomer} subscriptions per customer; ${flags.rate} orders/s for ${flags.duration} s per size`,
    `${pad('gateway before subscribers')}heap ${baseline.heapUsedMb} MB, RSS ${baseline.rssMb} MB`,
    `${pad('control (nobody subscribed)')}${control.orders} orders, gateway ${control.gatewayCpuMsPerOrder ?? '?'} ms CPU per order`,
    ...phases.flatMap((p) => [
      `N = ${p.subscribers}`,
      `${pad('  memory per idle subscriber')}${p.memoryPerIdleSubscriberBytes.heap} B heap, ${p.memoryPerIdleSubscriberBytes.rss} B RSS (gateway heap ${p.idleMemory.heapUsedMb} MB, RSS ${p.idleMemory.rssMb} MB)`,
      `${pad('  commit → client ms')}p50 ${p.delayFromCommitMs.p50}  p95 ${p.delayFromCommitMs.p95}  p99 ${p.delayFromCommitMs.p99}  max ${p.delayFromCommitMs.max}  (n=${p.delayFromCommitMs.count}, ${p.missing} missing of ${p.deliveriesExpected})`,
      `${pad('  occurredAt → client ms')}p50 ${p.delayFromOccurredAtMs.p50}  p95 ${p.delayFromOccurredAtMs.p95}  p99 ${p.delayFromOccurredAtMs.p99}`,
      `${pad('  gateway CPU')}${p.gatewayCpu?.cores ?? '?'} cores, ${p.gatewayCpu?.msPerDelivery ?? '?'} ms per payload (${p.gatewayCpu?.netMsPerDelivery ?? '?'} ms without placeOrder's share); bench ${p.benchCpuCores} cores, event loop delay p99 ${p.benchEventLoopDelayMs.p99} ms; load ${p.loadAverage.raw}`,
    ]),
    ...(fanout
      ? [
          `${pad('fan-out: 1 viewer')}${fanout.subscriptionsOfOneViewer} subscriptions, one order each run: last payload after ${fanout.runs.map((r) => r.delayFromCommitMs.max).join(' / ')} ms, first after ${fanout.runs.map((r) => r.firstMs).join(' / ')} ms (from commit)`,
        ]
      : []),
    `${pad('after all left')}heap ${afterClose.heapUsedMb} MB, RSS ${afterClose.rssMb} MB`,
  ];
  return { summary, lines, pad };
});

/**
 * Delay of each delivery from its status change's commit (and from its
 * occurredAt), keyed by (order, status): an order passes each status once.
 */
async function commitDelays(orders: pg.Client | null, deliveries: Delivery[]) {
  const ids = [...new Set(deliveries.map((d) => d.orderId))];
  const committed = new Map<string, number>();
  if (ids.length && orders) {
    try {
      const { rows } = await orders.query<{ order_id: string; status: string; committed: Date | null }>(
        `SELECT order_id::text, status::text, pg_xact_commit_timestamp(xmin) AS committed FROM order_status_history WHERE order_id = ANY($1::uuid[])`,
        [ids],
      );
      for (const r of rows) if (r.committed) committed.set(`${r.order_id}|${r.status}`, r.committed.getTime());
    } catch (err) {
      log(`no commit timestamps (${(err as Error).message}): delays from occurredAt only`);
    }
  }
  const fromCommit: number[] = [];
  const byStatus: Record<string, number[]> = {};
  for (const d of deliveries) {
    const c = committed.get(`${d.orderId}|${d.status}`);
    if (c === undefined) continue;
    fromCommit.push(d.receivedWall - c);
    (byStatus[d.status] ??= []).push(d.receivedWall - c);
  }
  return {
    raw: fromCommit,
    fromCommit: summarize(fromCommit),
    // (NaN without occurredAt in the selection: left out.)
    fromOccurredAt: summarize(deliveries.map((d) => d.receivedWall - d.occurredAt).filter((x) => !Number.isNaN(x))),
    byStatus: Object.fromEntries(Object.entries(byStatus).map(([k, v]) => [k, summarize(v)])),
  };
}
