/**
 * The gateway's own cost: the order page (a federated read) through the
 * gateway, against the same plan executed by hand from the bench, straight
 * at the subgraphs with an internal token — the orders subgraph's
 * `order(id)`, then products' and shipments' `_entities` in parallel — and
 * the pieces put together into the same JSON.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  INTERNAL_TOKEN_HEADER,
  createInternalAuth,
  resolveInternalSecret,
  type Viewer,
} from '@orderflow/common/server';
import { CUSTOMER_SCOPES } from '@orderflow/contracts';
import { ORDER_DETAIL } from './graphql.ts';
import type { ResourceSampler } from './proc.ts';
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
