// In-flight deduplication of subgraph fetches (gateway/src/subgraph-dedup.ts), through real gateways over
// real HTTP: the orders subgraph sits behind a relay of the test's that counts the calls reaching it and can
// hold their answers, so that "while in flight" is certain rather than a matter of timing.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@orderflow/common/observability';
import { loadConfig } from '../gateway/src/config.ts';
import { startGateway } from '../gateway/src/server.ts';
import {
  PLACE_ORDER,
  bearer,
  buildOrderInput,
  createProduct,
  eventually,
  startSystem,
  type Customer,
  type System,
} from './support/system.ts';

const ORDER_PAGE = `query OrderPage($id: ID!) {
  order(id: $id) { id status customerId totalAmount { amount } items { quantity product { id name price { amount } } } shipment { id status } }
}`;

/** The orders subgraph behind a counting relay: each call that reaches it, and answers held on demand. */
async function startOrdersRelay(target: string) {
  const calls: { operation: string; token: string }[] = [];
  let holding = false;
  const held: { req: IncomingMessage; res: ServerResponse; body: Buffer }[] = [];
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const upstream = request(
      `${target}${req.url}`,
      { method: req.method, headers: { ...req.headers, host: new URL(target).host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    upstream.end(body);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method === 'POST' && req.url === '/graphql') {
        const query = String((JSON.parse(body.toString('utf8')) as { query?: string }).query ?? '');
        calls.push({
          operation: /^\s*mutation\b/.test(query) ? 'mutation' : 'query',
          token: String(req.headers['x-internal-token']),
        });
      }
      if (holding) held.push({ req, res, body });
      else forward(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    hold() {
      holding = true;
    },
    /** Lets every held call through, or drops their connections (the subgraph "crashed"); later calls go through. */
    release(how: 'forward' | 'drop' = 'forward') {
      holding = false;
      for (const h of held.splice(0)) {
        if (how === 'drop') h.req.socket.destroy();
        else forward(h.req, h.res, h.body);
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A counter's value in a Prometheus text page, summed over the series whose labels include all of `labels`. */
function counter(page: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of page.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.split(' ').pop());
  }
  return sum;
}
const page = async (url: string) => (await fetch(url)).text();

describe('in-flight deduplication of subgraph fetches', () => {
  let system: System;
  let relay: Awaited<ReturnType<typeof startOrdersRelay>>;
  const gateways: Awaited<ReturnType<typeof startGateway>>[] = [];
  let on: Awaited<ReturnType<typeof startGateway>>;
  let off: Awaited<ReturnType<typeof startGateway>>;
  let alice: Customer;
  let bob: Customer;
  let aliceOrderId: string;
  let productId: string;

  beforeAll(async () => {
    system = await startSystem();
    relay = await startOrdersRelay(system.urls.ORDERS_URL);
    // Two more gateways of the same system whose orders subgraph is behind the relay: dedup on (the default) and off.
    const start = async (env: Record<string, string>) => {
      const gw = await startGateway(loadConfig({ ...system.env, PORT: '0', ORDERS_URL: relay.url, ...env }), {
        log: createLogger('gateway', system.env.LOG_LEVEL),
      });
      gateways.push(gw);
      return gw;
    };
    on = await start({});
    off = await start({ GATEWAY_DEDUP: 'off' });
    const product = await createProduct(system, { name: 'Shared read', price: '12.50', initialStock: 1000 });
    productId = product.id;
    [alice, bob] = await system.signUpCustomers(2, 'dedup');
    const placed = await system.graphql(
      PLACE_ORDER,
      { input: buildOrderInput({ items: [{ productId, quantity: 2 }] }) },
      alice.headers,
    );
    expect(placed.data.placeOrder.__typename).toBe('OrderPlaced');
    aliceOrderId = placed.data.placeOrder.order.id;
    // Each viewer's internal token is signed once and reused (common/internal-auth.ts); the first requests of a
    // viewer, signing at once, may straddle a second and carry two tokens (two keys). Sign them before measuring.
    for (const gw of [on, off]) for (const h of [alice.headers, bob.headers, {}]) await orderPage(gw.url, h);
  });
  afterAll(async () => {
    for (const gw of gateways) await gw.stop();
    await relay?.close();
    await system?.stop();
  });

  const orderPage = async (gatewayUrl: string, headers: Record<string, string>, id = aliceOrderId) => {
    const res = await fetch(`${gatewayUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: ORDER_PAGE, variables: { id } }),
    });
    return (await res.json()) as { data?: { order: Record<string, any> | null }; errors?: any[] };
  };
  const shared = async (subgraph: string) =>
    counter(await page(on.metricsUrl), 'gateway_subgraph_fetches_shared_total', { subgraph });
  const ordersResolved = async () =>
    counter(await page(`${system.urls.ORDERS_URL}/metrics`), 'graphql_resolver_duration_seconds_count', {
      type: 'Query',
      field: 'order',
    });

  /**
   * Sends `requests` at once through `gw` while the orders subgraph holds its answers, waits until each of them
   * has reached its orders fetch (a call through the relay, or a fetch shared with one: the gateway's counter),
   * then lets the answers go; returns the calls that reached orders and what each client got.
   */
  async function whileHeld(
    gw: { url: string },
    requests: Record<string, string>[],
    how: 'forward' | 'drop' = 'forward',
  ) {
    const calls0 = relay.calls.length;
    const shared0 = await shared('orders');
    relay.hold();
    const answers = Promise.all(requests.map((headers) => orderPage(gw.url, headers)));
    try {
      await eventually(
        async () => relay.calls.length - calls0 + ((await shared('orders')) - shared0) >= requests.length,
        { timeoutMs: 30_000, intervalMs: 20 },
      );
    } finally {
      relay.release(how);
    }
    const got = await answers;
    return { calls: relay.calls.slice(calls0), shared: (await shared('orders')) - shared0, answers: got };
  }

  it('N concurrent identical order pages make one call to the orders subgraph', async () => {
    const n = 12;
    const resolved0 = await ordersResolved();
    const products0 = await shared('products');
    const { calls, shared: sharedFetches, answers } = await whileHeld(on, Array(n).fill(alice.headers));
    expect(calls).toHaveLength(1);
    expect(sharedFetches).toBe(n - 1);
    // The subgraph itself resolved Query.order once (its own metrics).
    expect((await ordersResolved()) - resolved0).toBe(1);
    for (const a of answers) {
      expect(a.errors).toBeUndefined();
      expect(a.data?.order?.id).toBe(aliceOrderId);
      expect(a.data?.order?.items[0].product.name).toBe('Shared read');
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    // The fetches that follow (products, shipments) start together once orders answers, and share too (printed: not timed).
    console.log(`products fetches shared: ${(await shared('products')) - products0} of ${n}`);
  });

  it("another customer asking for the same order while the owner's identical fetch is in flight gets null", async () => {
    const { calls, answers } = await whileHeld(on, [
      ...Array(5).fill(alice.headers),
      ...Array(5).fill(bob.headers),
      // Anonymous: refused by the subgraph, not by someone else's answer.
      {},
    ]);
    // One call per viewer: Alice's five share one, Bob's five another, the anonymous one its own.
    expect(calls).toHaveLength(3);
    for (const a of answers.slice(0, 5)) expect(a.data?.order?.id).toBe(aliceOrderId);
    for (const a of answers.slice(5)) {
      expect(a.data?.order ?? null).toBeNull();
      expect(JSON.stringify(a)).not.toContain(aliceOrderId);
      expect(JSON.stringify(a)).not.toContain('Shared read');
    }
  });

  it('a failing call fails every waiter, and the next request makes a new call', async () => {
    const { calls, answers } = await whileHeld(on, Array(6).fill(alice.headers), 'drop');
    expect(calls).toHaveLength(1);
    for (const a of answers) {
      expect(a.data?.order ?? null).toBeNull();
      expect(a.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    }
    // Nothing of the failure is kept: the next request is a call of its own and is answered.
    const before = relay.calls.length;
    const again = await orderPage(on.url, alice.headers);
    expect(relay.calls.length - before).toBe(1);
    expect(again.data?.order?.id).toBe(aliceOrderId);
  });

  it('identical mutations are never shared', async () => {
    const input = buildOrderInput({ items: [{ productId, quantity: 1 }] });
    const calls0 = relay.calls.length;
    relay.hold();
    const placing = Promise.all(
      [0, 1].map(() =>
        fetch(`${on.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...bearer(alice.accessToken) },
          body: JSON.stringify({ query: PLACE_ORDER, variables: { input } }),
        }).then((r) => r.json() as Promise<{ data?: { placeOrder: { __typename: string; order?: { id: string } } } }>),
      ),
    );
    try {
      await eventually(async () => relay.calls.length - calls0 >= 2, { timeoutMs: 30_000, intervalMs: 20 });
    } finally {
      relay.release();
    }
    const placed = await placing;
    expect(relay.calls.slice(calls0).filter((c) => c.operation === 'mutation')).toHaveLength(2);
    // The same idempotency key: both answers name the one order the subgraph created.
    expect(placed.map((p) => p.data?.placeOrder.__typename)).toEqual(['OrderPlaced', 'OrderPlaced']);
    expect(placed[0].data?.placeOrder.order?.id).toBe(placed[1].data?.placeOrder.order?.id);
  });

  it('with GATEWAY_DEDUP=off identical fetches each make their own call', async () => {
    const n = 6;
    const calls0 = relay.calls.length;
    relay.hold();
    const answers = Promise.all(Array.from({ length: n }, () => orderPage(off.url, alice.headers)));
    try {
      await eventually(async () => relay.calls.length - calls0 >= n, { timeoutMs: 30_000, intervalMs: 20 });
    } finally {
      relay.release();
    }
    for (const a of await answers) expect(a.data?.order?.id).toBe(aliceOrderId);
    expect(relay.calls.length - calls0).toBe(n);
    expect(counter(await page(off.metricsUrl), 'gateway_subgraph_fetches_shared_total', {})).toBe(0);
  });
});
