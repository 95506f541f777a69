/**
 * The gateway's own cost: the order page (a federated read) through the
 * gateway, against the same plan executed by hand from the bench, straight
 * at the subgraphs with an internal token — the orders subgraph's
 * `order(id)`, then products' and shipments' `_entities` in parallel — and
 * the pieces put together into the same JSON. And `measureDedup`: the same
 * page through gateways with in-flight deduplication on and off (issue 14).
 */
import { spawn } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import {
  INTERNAL_TOKEN_HEADER,
  createInternalAuth,
  resolveInternalSecret,
  type Viewer,
} from '@orderflow/common/server';
import { CUSTOMER_SCOPES } from '@orderflow/contracts';
import { ORDER_DETAIL } from './graphql.ts';
import { loadAverage, type ResourceSampler } from './proc.ts';
import { summarize, type Summary } from './stats.ts';

const ORDERS_PART = `query($id: ID!) { order(id: $id) { id status createdAt totalAmount { amount currencyCode } items { quantity unitPrice { amount } product { __typename id } } __typename } }`;
const PRODUCTS_PART = `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { id name price { amount } availableQuantity } } }`;
const SHIPMENTS_PART = `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Order { shipment { id carrier trackingNumber status } } } }`;

export interface ReadTarget {
  orderId: string;
  customerId: string;
  accessToken: string;
}

async function post(url: string, body: unknown, headers: Record<string, string>) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const json = (await res.json()) as { data?: any; errors?: { message: string }[] };
  if (!res.ok || json.errors?.length)
    throw new Error(`${url}: HTTP ${res.status} ${JSON.stringify(json.errors ?? json).slice(0, 300)}`);
  return json.data;
}

export function createDirectReader(urls: Record<string, string>) {
  const internal = createInternalAuth({ secret: resolveInternalSecret('development', undefined), issuer: 'gateway' });
  return async (t: ReadTarget) => {
    const viewer: Viewer = {
      id: t.customerId,
      clientId: 'storefront',
      kind: 'customer',
      scopes: new Set(CUSTOMER_SCOPES),
    };
    const headers = { [INTERNAL_TOKEN_HEADER]: await internal.sign(viewer) };
    const { order } = await post(
      `${urls.ORDERS_URL}/graphql`,
      { query: ORDERS_PART, variables: { id: t.orderId } },
      headers,
    );
    if (!order) return { order: null };
    const productIds = [...new Set<string>(order.items.map((i: { product: { id: string } }) => i.product.id))];
    const [products, shipments] = await Promise.all([
      post(
        `${urls.PRODUCTS_URL}/graphql`,
        {
          query: PRODUCTS_PART,
          variables: { representations: productIds.map((id) => ({ __typename: 'Product', id })) },
        },
        headers,
      ),
      post(
        `${urls.SHIPMENTS_URL}/graphql`,
        { query: SHIPMENTS_PART, variables: { representations: [{ __typename: 'Order', id: order.id }] } },
        headers,
      ),
    ]);
    const byId = new Map<string, unknown>(products._entities.map((p: { id: string }) => [p.id, p]));
    return {
      order: {
        id: order.id,
        status: order.status,
        createdAt: order.createdAt,
        totalAmount: order.totalAmount,
        items: order.items.map((i: { quantity: number; unitPrice: unknown; product: { id: string } }) => ({
          quantity: i.quantity,
          unitPrice: i.unitPrice,
          product: byId.get(i.product.id),
        })),
        shipment: shipments._entities[0]?.shipment ?? null,
      },
    };
  };
}

export function createGatewayReader(gatewayUrl: string) {
  return async (t: ReadTarget) =>
    post(
      `${gatewayUrl}/graphql`,
      { query: ORDER_DETAIL, variables: { id: t.orderId } },
      { authorization: `Bearer ${t.accessToken}` },
    );
}

export interface ReadRun {
  path: 'gateway' | 'direct';
  concurrency: number;
  requests: number;
  errors: number;
  perSec: number;
  latencyMs: Summary;
  /** CPU ms per read, per process (ours) */
  cpuMsPerRead: Record<string, number | null>;
  cpuMsPerReadTotal: number;
}

/** Closed loop: `concurrency` readers back to back for `seconds`. */
async function closedLoop(
  read: (t: ReadTarget) => Promise<unknown>,
  targets: ReadTarget[],
  concurrency: number,
  seconds: number,
) {
  const latencies: number[] = [];
  let errors = 0;
  let i = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const t = targets[i++ % targets.length];
        const start = performance.now();
        try {
          await read(t);
          latencies.push(performance.now() - start);
        } catch {
          errors++;
        }
      }
    }),
  );
  return { latencies, errors };
}

/**
 * Gateway vs direct, alternating (G D G D) so that a change in the machine's
 * load hits both alike; per concurrency level.
 */
export async function measureGatewayCost({
  gatewayUrl,
  urls,
  targets,
  sampler,
  seconds,
  concurrencies = [1, 8],
}: {
  gatewayUrl: string;
  urls: Record<string, string>;
  targets: ReadTarget[];
  sampler: ResourceSampler;
  seconds: number;
  concurrencies?: number[];
}) {
  const direct = createDirectReader(urls);
  const gateway = createGatewayReader(gatewayUrl);
  // Same answer both ways (the plan is the gateway's), checked on a few orders.
  let sameAnswer = true;
  for (const t of targets.slice(0, 5)) {
    const [a, b] = await Promise.all([gateway(t), direct(t)]);
    if (!isDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)))) sameAnswer = false;
  }
  // Warm both paths.
  await closedLoop(gateway, targets, 2, 1);
  await closedLoop(direct, targets, 2, 1);

  const runs: ReadRun[] = [];
  for (const c of concurrencies) {
    for (const round of [0, 1]) {
      for (const [path, read] of [
        ['gateway', gateway],
        ['direct', direct],
      ] as const) {
        sampler.sample();
        const from = performance.now();
        const r = await closedLoop(read, targets, c, seconds / 2);
        sampler.sample();
        const to = performance.now();
        const w = sampler.window(from, to);
        const n = Math.max(1, r.latencies.length);
        const perRead = Object.fromEntries(
          Object.entries(w.perProcess).map(([k, v]) => [
            k,
            v.cpuSeconds === null ? null : Math.round(((v.cpuSeconds * 1000) / n) * 100) / 100,
          ]),
        );
        runs.push({
          path,
          concurrency: c,
          requests: r.latencies.length,
          errors: r.errors,
          perSec: Math.round((r.latencies.length / ((to - from) / 1000)) * 10) / 10,
          latencyMs: summarize(r.latencies),
          cpuMsPerRead: perRead,
          cpuMsPerReadTotal: Math.round(Object.values(perRead).reduce((a: number, x) => a + (x ?? 0), 0) * 100) / 100,
        });
        void round;
      }
    }
  }
  // Merge the two rounds of each (path, concurrency).
  const merged = concurrencies.flatMap((c) =>
    (['gateway', 'direct'] as const).map((path) => {
      const rs = runs.filter((r) => r.path === path && r.concurrency === c);
      const mean = (f: (r: ReadRun) => number | null) => {
        const xs = rs.map(f).filter((x): x is number => x !== null);
        return xs.length ? Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 100) / 100 : null;
      };
      return {
        path,
        concurrency: c,
        requests: rs.reduce((a, r) => a + r.requests, 0),
        errors: rs.reduce((a, r) => a + r.errors, 0),
        perSec: mean((r) => r.perSec),
        latencyP50Ms: mean((r) => r.latencyMs.p50),
        latencyP95Ms: mean((r) => r.latencyMs.p95),
        cpuMsPerReadTotal: mean((r) => r.cpuMsPerReadTotal),
        cpuMsPerRead: Object.fromEntries(
          Object.keys(rs[0].cpuMsPerRead).map((k) => [k, mean((r) => r.cpuMsPerRead[k])]),
        ),
      };
    }),
  );
  const ratio = (c: number, f: (m: (typeof merged)[number]) => number | null) => {
    const g = merged.find((m) => m.path === 'gateway' && m.concurrency === c);
    const d = merged.find((m) => m.path === 'direct' && m.concurrency === c);
    const a = g ? f(g) : null;
    const b = d ? f(d) : null;
    return a !== null && b !== null && b > 0 ? Math.round((a / b) * 100) / 100 : null;
  };
  return {
    query:
      'order page: order(id) { status totalAmount items { quantity unitPrice product { name price availableQuantity } } shipment { carrier trackingNumber status } }',
    plan: 'orders: order(id) → parallel(products: _entities(Product), shipments: _entities(Order))',
    sameAnswer,
    runs: merged,
    ratios: Object.fromEntries(
      concurrencies.map((c) => [
        `concurrency${c}`,
        {
          latencyP50: ratio(c, (m) => m.latencyP50Ms),
          latencyP95: ratio(c, (m) => m.latencyP95Ms),
          throughput: ratio(c, (m) => m.perSec),
          cpuPerRead: ratio(c, (m) => m.cpuMsPerReadTotal),
        },
      ]),
    ),
  };
}

// ---------------------------------------------------------------- in-flight deduplication (issue 14)

/** An extra gateway process of the bench's system, with settings of its own (GATEWAY_DEDUP). */
export interface ExtraGateway {
  name: string;
  url: string;
  pid: number | null;
  stop(): Promise<void>;
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Starts `node --import tsx gateway/src/index.ts` as `npm start` and the
 * bench's process stack do, with the stack's shared settings plus `env`, on
 * a free port; resolves once /health/ready answers 200.
 */
export async function startExtraGateway(
  name: string,
  stackEnv: Record<string, string>,
  env: Record<string, string>,
  port: number,
): Promise<ExtraGateway> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/src/index.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TMPDIR: process.env.TMPDIR,
      LANG: process.env.LANG,
      ...stackEnv,
      PORT: String(port),
      METRICS_PORT: '0',
      ...env,
    },
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const tail: string[] = [];
  child.stderr!.on('data', (c: Buffer) => void tail.push(c.toString('utf8')));
  const url = `http://127.0.0.1:${port}`;
  const kill = () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
  process.on('exit', kill);
  const stop = () =>
    new Promise<void>((done) => {
      process.off('exit', kill);
      if (child.exitCode !== null || child.signalCode !== null) return done();
      const t = setTimeout(kill, 10_000);
      child.once('exit', () => (clearTimeout(t), done()));
      child.kill('SIGINT');
    });
  for (const until = Date.now() + 90_000; ;) {
    if (child.exitCode !== null) throw new Error(`${name} exited before it was ready: ${tail.join('').slice(-2000)}`);
    const ok = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > until) {
      await stop();
      throw new Error(`${name} was not ready within 90 s`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { name, url, pid: child.pid ?? null, stop };
}

/** The order page through a gateway over node:http keep-alive connections (cheaper for the bench than fetch). */
function createKeepAliveReader(gatewayUrl: string, connections: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const { hostname, port } = new URL(gatewayUrl);
  const read = (t: ReadTarget) =>
    new Promise<unknown>((resolveRead, reject) => {
      const body = JSON.stringify({ query: ORDER_DETAIL, variables: { id: t.orderId } });
      const req = httpRequest(
        {
          host: hostname,
          port,
          path: '/graphql',
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: `Bearer ${t.accessToken}`,
          },
          timeout: 10_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data?: any; errors?: unknown[] };
              if (res.statusCode !== 200 || json.errors?.length || !json.data?.order)
                return reject(new Error(`HTTP ${res.statusCode} ${JSON.stringify(json.errors ?? json).slice(0, 200)}`));
              resolveRead(json.data);
            } catch (err) {
              reject(err as Error);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(body);
    });
  return Object.assign(read, { close: () => agent.destroy() });
}

/** Root fields the subgraphs resolved so far (their own /metrics: graphql_resolver_duration_seconds_count, Query). */
async function subgraphCalls(urls: Record<string, string>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [key, base] of Object.entries(urls)) {
    const name = key.replace(/_URL$/, '').toLowerCase();
    const text = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5_000) }).then(
      (r) => r.text(),
      () => '',
    );
    out[name] = text
      .split('\n')
      .filter((l) => l.startsWith('graphql_resolver_duration_seconds_count{') && l.includes('type="Query"'))
      .reduce((a, l) => a + Number(l.split(' ').pop()), 0);
  }
  return out;
}

const SUBGRAPH_PROCESSES = ['auth', 'products', 'orders', 'shipments'];
/** The subgraphs the order page's plan calls (auth is not one of them: its CPU is its background work). */
const PAGE_SUBGRAPHS = ['products', 'orders', 'shipments'];
const r2 = (x: number) => Math.round(x * 100) / 100;

export interface DedupRun {
  scenario: 'same page' | 'different pages';
  path: 'dedup on' | 'dedup off' | 'direct';
  connections: number;
  requests: number;
  errors: number;
  perSec: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  /** CPU ms per request of the gateway that served the path (null for direct). */
  gatewayCpuMs: number | null;
  /** CPU ms per request of the subgraphs the page calls (products, orders, shipments) together; of each (and auth). */
  subgraphCpuMs: number | null;
  subgraphCpuMsBy: Record<string, number | null>;
  /**
   * The same less each process's idle CPU over the window (relay polls, consumers' pulls, timers; measured
   * just before the runs): what the requests themselves cost, which a loaded machine's low throughput would
   * otherwise inflate.
   */
  subgraphCpuMsMarginal: number | null;
  gatewayCpuMsMarginal: number | null;
  /** Calls the subgraphs received per request (their Query root fields resolved). */
  subgraphCallsPerRequest: number | null;
  /** The bench process's CPU per request (the load generator). */
  benchCpuMs: number | null;
  loadAverage: string | null;
}

/**
 * Issue 14's gateway section: `connections` closed-loop clients reading the
 * order page (1) all the same page (one customer's order), and (2) 48
 * different customers' pages in turn (no two requests in flight alike),
 * through a gateway with GATEWAY_DEDUP=on, one with it off (both started
 * here, fresh, against the same subgraphs), and straight at the subgraphs
 * (the same plan by hand). Paths are alternated (on, off, direct, twice) so a
 * change in the machine's load hits all alike; CPU per request per process
 * from /proc, and the subgraph calls per request from their own metrics.
 */
export async function measureDedup({
  stackEnv,
  urls,
  samePage,
  differentPages,
  sampler,
  seconds,
  connections = 32,
  port,
  log,
}: {
  stackEnv: Record<string, string>;
  urls: Record<string, string>;
  samePage: ReadTarget;
  differentPages: ReadTarget[];
  sampler: ResourceSampler;
  seconds: number;
  connections?: number;
  port: () => Promise<number>;
  log: (line: string) => void;
}) {
  const on = await startExtraGateway('gateway-dedup-on', stackEnv, { GATEWAY_DEDUP: 'on' }, await port());
  const off = await startExtraGateway('gateway-dedup-off', stackEnv, { GATEWAY_DEDUP: 'off' }, await port());
  for (const g of [on, off]) sampler.track({ name: g.name, pid: g.pid });
  const readers = {
    'dedup on': createKeepAliveReader(on.url, connections),
    'dedup off': createKeepAliveReader(off.url, connections),
  };
  const direct = createDirectReader(urls);
  const runs: DedupRun[] = [];
  let idleCoresBy: Record<string, number | null> = {};
  try {
    const scenarios = [
      ['same page', [samePage]],
      ['different pages', differentPages],
    ] as const;
    // Warm every path (JIT, connection pools, token caches) on both kinds of load.
    for (const [, targets] of scenarios) {
      await closedLoop(readers['dedup on'], [...targets], connections, 1.5);
      await closedLoop(readers['dedup off'], [...targets], connections, 1.5);
      await closedLoop(direct, [...targets], connections, 1);
    }
    // Each process's idle CPU, per second, to take out of the runs' windows.
    await new Promise((r) => setTimeout(r, 1_000));
    sampler.sample();
    const idleFrom = performance.now();
    await new Promise((r) => setTimeout(r, 4_000));
    sampler.sample();
    const idleWindow = sampler.window(idleFrom, performance.now());
    idleCoresBy = Object.fromEntries(
      Object.entries(idleWindow.perProcess).map(([k, v]) => [
        k,
        v.cpuSeconds === null ? null : v.cpuSeconds / idleWindow.seconds,
      ]),
    );
    log(
      `  idle CPU (cores): ${JSON.stringify(Object.fromEntries(Object.entries(idleCoresBy).map(([k, v]) => [k, v === null ? null : Math.round(v * 1000) / 1000])))}`,
    );
    for (const [scenario, targets] of scenarios) {
      for (const round of [0, 1]) {
        for (const path of ['dedup on', 'dedup off', 'direct'] as const) {
          const read = path === 'direct' ? direct : readers[path];
          const calls0 = await subgraphCalls(urls);
          sampler.sample();
          const from = performance.now();
          const load = loadAverage();
          const r = await closedLoop(read, [...targets], connections, seconds / 2);
          sampler.sample();
          const to = performance.now();
          const calls1 = await subgraphCalls(urls);
          const w = sampler.window(from, to);
          const n = Math.max(1, r.latencies.length);
          const per = (name: string) => {
            const s = w.perProcess[name]?.cpuSeconds;
            return s === null || s === undefined ? null : r2((s * 1000) / n);
          };
          const marginal = (name: string) => {
            const s = w.perProcess[name]?.cpuSeconds;
            const idle = idleCoresBy[name];
            return s == null || idle == null ? null : r2((Math.max(0, s - idle * w.seconds) * 1000) / n);
          };
          const by = Object.fromEntries(SUBGRAPH_PROCESSES.map((s) => [s, per(s)]));
          const known = PAGE_SUBGRAPHS.map((s) => by[s]).filter((x): x is number => x !== null);
          const knownMarginal = PAGE_SUBGRAPHS.map(marginal).filter((x): x is number => x !== null);
          const gatewayName = path === 'dedup on' ? on.name : off.name;
          const calls = Object.keys(calls1).reduce((a, k) => a + (calls1[k] - (calls0[k] ?? 0)), 0);
          const latency = summarize(r.latencies);
          runs.push({
            scenario,
            path,
            connections,
            requests: r.latencies.length,
            errors: r.errors,
            perSec: Math.round((r.latencies.length / ((to - from) / 1000)) * 10) / 10,
            latencyP50Ms: latency.p50,
            latencyP95Ms: latency.p95,
            gatewayCpuMs: path === 'direct' ? null : per(gatewayName),
            gatewayCpuMsMarginal: path === 'direct' ? null : marginal(gatewayName),
            subgraphCpuMs: known.length ? r2(known.reduce((a, b) => a + b, 0)) : null,
            subgraphCpuMsBy: by,
            subgraphCpuMsMarginal: knownMarginal.length ? r2(knownMarginal.reduce((a, b) => a + b, 0)) : null,
            subgraphCallsPerRequest: r2(calls / n),
            benchCpuMs: per('bench'),
            loadAverage: String(load.one),
          });
          log(
            `  ${scenario}, ${path}, round ${round + 1}: ${runs.at(-1)!.perSec} req/s, gateway ${runs.at(-1)!.gatewayCpuMs} ms, subgraphs ${runs.at(-1)!.subgraphCpuMs} ms (less idle ${runs.at(-1)!.subgraphCpuMsMarginal}) CPU per request, ${runs.at(-1)!.subgraphCallsPerRequest} subgraph calls per request, errors ${r.errors}`,
          );
        }
      }
    }
  } finally {
    readers['dedup on'].close();
    readers['dedup off'].close();
    await Promise.all([on.stop(), off.stop()]);
  }
  // The two rounds of each (scenario, path), averaged.
  const mean = (xs: (number | null)[]) => {
    const ok = xs.filter((x): x is number => x !== null);
    return ok.length ? r2(ok.reduce((a, b) => a + b, 0) / ok.length) : null;
  };
  const merged = runs.reduce<DedupRun[]>((acc, x) => {
    if (acc.some((m) => m.scenario === x.scenario && m.path === x.path)) return acc;
    const rs = runs.filter((m) => m.scenario === x.scenario && m.path === x.path);
    acc.push({
      ...x,
      requests: rs.reduce((a, m) => a + m.requests, 0),
      errors: rs.reduce((a, m) => a + m.errors, 0),
      perSec: mean(rs.map((m) => m.perSec))!,
      latencyP50Ms: mean(rs.map((m) => m.latencyP50Ms)),
      latencyP95Ms: mean(rs.map((m) => m.latencyP95Ms)),
      gatewayCpuMs: mean(rs.map((m) => m.gatewayCpuMs)),
      gatewayCpuMsMarginal: mean(rs.map((m) => m.gatewayCpuMsMarginal)),
      subgraphCpuMs: mean(rs.map((m) => m.subgraphCpuMs)),
      subgraphCpuMsMarginal: mean(rs.map((m) => m.subgraphCpuMsMarginal)),
      subgraphCpuMsBy: Object.fromEntries(
        SUBGRAPH_PROCESSES.map((s) => [s, mean(rs.map((m) => m.subgraphCpuMsBy[s]))]),
      ),
      subgraphCallsPerRequest: mean(rs.map((m) => m.subgraphCallsPerRequest)),
      benchCpuMs: mean(rs.map((m) => m.benchCpuMs)),
      loadAverage: rs.map((m) => m.loadAverage).join(' / '),
    });
    return acc;
  }, []);
  const get = (scenario: DedupRun['scenario'], path: DedupRun['path']) =>
    merged.find((m) => m.scenario === scenario && m.path === path);
  const ratio = (a: number | null | undefined, b: number | null | undefined) =>
    a != null && b != null && b > 0 ? r2(a / b) : null;
  const summary = Object.fromEntries(
    (['same page', 'different pages'] as const).map((scenario) => {
      const a = get(scenario, 'dedup on');
      const b = get(scenario, 'dedup off');
      const d = get(scenario, 'direct');
      return [
        scenario,
        {
          throughputOnOverOff: ratio(a?.perSec, b?.perSec),
          subgraphCpuOnOverOff: ratio(a?.subgraphCpuMs, b?.subgraphCpuMs),
          throughputOverDirect: { on: ratio(a?.perSec, d?.perSec), off: ratio(b?.perSec, d?.perSec) },
          latencyP50OverDirect: {
            on: ratio(a?.latencyP50Ms, d?.latencyP50Ms),
            off: ratio(b?.latencyP50Ms, d?.latencyP50Ms),
          },
        },
      ];
    }),
  );
  const same = get('same page', 'dedup on');
  return {
    connections,
    query:
      'the order page (bench/support/graphql.ts ORDER_DETAIL): orders order(id) → products _entities, shipments _entities',
    samePage: { orderId: samePage.orderId },
    differentPages: { orders: differentPages.length, customers: new Set(differentPages.map((t) => t.customerId)).size },
    runs: merged,
    rounds: runs,
    idleCores: Object.fromEntries(
      Object.entries(idleCoresBy).map(([k, v]) => [k, v === null ? null : Math.round(v * 1000) / 1000]),
    ),
    summary,
    targets: {
      samePageSubgraphCpuMsAtMost: 0.5,
      samePageSubgraphCpuMs: same?.subgraphCpuMs ?? null,
      samePageSubgraphCpuMsLessIdle: same?.subgraphCpuMsMarginal ?? null,
      samePageThroughputOnOverOffAtLeast: 3,
      samePageThroughputOnOverOff: summary['same page'].throughputOnOverOff,
      differentPagesThroughputOnOverOff: summary['different pages'].throughputOnOverOff,
    },
  };
}
