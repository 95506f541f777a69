import { randomUUID } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloClient, InMemoryCache, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import WebSocket from 'ws';
import { connectBus, createEvent } from '@orderflow/common/messaging';
import { createLogger } from '@orderflow/common/observability';
import { freePort } from '@orderflow/devstack';
import { loadConfig as gatewayConfig } from '../gateway/src/config.ts';
import { startGateway } from '../gateway/src/server.ts';
import { PLACE_ORDER, buildOrderInput, createProduct, eventually, startSystem, type System } from './support/system.ts';

/** A relay in front of a subgraph that forwards every call and keeps the query text of each GraphQL request. */
async function startQueryRelay(target: string) {
  const queries: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method === 'POST' && req.url === '/graphql')
        queries.push(String((JSON.parse(body.toString('utf8')) as { query?: string }).query ?? ''));
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
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    queries,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const SHIP = `mutation($id: ID!, $s: ShipmentStatus!) { updateShipmentStatus(input: { shipmentId: $id, status: $s }) { id } }`;

/** Collects the payloads of one subscription. */
function follow(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const payloads: any[] = [];
  const errors: any[] = [];
  let completed = false;
  const dispose = client.subscribe(
    { query, variables },
    {
      next: (r) => (r.errors ? errors.push(...r.errors) : payloads.push(r)),
      error: (e) => (Array.isArray(e) ? errors.push(...e) : errors.push(e)),
      complete: () => (completed = true),
    },
  );
  return {
    payloads,
    errors,
    dispose,
    get completed() {
      return completed;
    },
  };
}

describe('subscriptions at the gateway', () => {
  let system: System;
  /** Customers by test name: signed up once each, with real tokens. */
  const customers = new Map<string, ReturnType<System['signUpCustomer']>>();
  const who = (name: string) => {
    if (!customers.has(name)) customers.set(name, system.signUpCustomer(name));
    return customers.get(name)!;
  };
  const clients: Client[] = [];
  const wsUrl = () => system.gatewayUrl.replace('http', 'ws') + '/graphql';
  const connect = (headers: Record<string, string>, url = wsUrl()) => {
    const c = createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams: headers,
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => {},
    });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    system = await startSystem({ env: { SAGA_RETRY_SCALE: '0.05' } });
  });
  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await system?.stop();
  });

  const place = async (customer: string, productId: string, quantity = 1) => {
    const r = await system.graphql(
      PLACE_ORDER,
      { input: buildOrderInput({ items: [{ productId, quantity }] }) },
      (await who(customer)).headers,
    );
    return r.data.placeOrder.order.id as string;
  };
  const shipmentOf = (customer: string, id: string) =>
    eventually(
      async () =>
        (
          await system.graphql(
            `query($id: ID!) { order(id: $id) { shipment { id } } }`,
            { id },
            (await who(customer)).headers,
          )
        ).data.order.shipment?.id as string,
    );

  it('shows a customer their order move through the saga, with federated fields resolved as in a query', async () => {
    const p = await createProduct(system, { name: 'Teapot', initialStock: 10 });
    const id = await place('watcher', p.id, 2);
    const sub = follow(
      connect((await who('watcher')).headers),
      `subscription($id: ID!) {
      orderStatusChanged(orderId: $id, after: "0") {
        previousStatus status
        order { id status items { quantity product { name } } shipment { carrier trackingNumber events { status } } }
      }
    }`,
      { id },
    );
    const shipmentId = await shipmentOf('watcher', id);
    for (const s of ['SHIPPED', 'IN_TRANSIT', 'DELIVERED']) {
      await eventually(async () =>
        sub.payloads.some(
          (x) =>
            x.data.orderStatusChanged.status ===
            (s === 'SHIPPED' ? 'PENDING_SHIPMENT' : s === 'IN_TRANSIT' ? 'SHIPPED' : 'IN_TRANSIT'),
        ),
      );
      await system.graphql(SHIP, { id: shipmentId, s }, await system.operatorHeaders());
    }
    await eventually(async () => sub.payloads.length === 5);
    expect(sub.errors).toEqual([]);
    const changes = sub.payloads.map((x) => x.data.orderStatusChanged);
    expect(changes.map((c) => [c.previousStatus, c.status])).toEqual([
      [null, 'PENDING_PAYMENT'],
      ['PENDING_PAYMENT', 'PENDING_SHIPMENT'],
      ['PENDING_SHIPMENT', 'SHIPPED'],
      ['SHIPPED', 'IN_TRANSIT'],
      ['IN_TRANSIT', 'DELIVERED'],
    ]);
    expect(changes[0].order.items).toEqual([{ quantity: 2, product: { name: 'Teapot' } }]);
    const last = changes[4].order;
    expect(last.status).toBe('DELIVERED');
    expect(last.shipment.carrier).toBeTruthy();
    expect(last.shipment.events.map((e: any) => e.status)).toEqual([
      'PROCESSING',
      'SHIPPED',
      'IN_TRANSIT',
      'DELIVERED',
    ]);
    const cursors = sub.payloads.map((x) => Number(x.extensions.cursor));
    expect([...cursors].sort((a, b) => a - b)).toEqual(cursors);
    sub.dispose();
  });

  it("refuses to follow someone else's order", async () => {
    const p = await createProduct(system);
    const id = await place('owner-a', p.id);
    const sub = follow(
      connect((await who('intruder-b')).headers),
      `subscription($id: ID!) { orderStatusChanged(orderId: $id) { status } }`,
      { id },
    );
    await eventually(async () => sub.errors.length > 0);
    expect(sub.errors[0]).toMatchObject({ message: 'Order not found', extensions: { code: 'NOT_FOUND' } });
    expect(sub.payloads).toEqual([]);
  });

  it('misses nothing across a reconnect with the cursor', async () => {
    const p = await createProduct(system, { initialStock: 50 });
    const first = follow(connect((await who('roamer')).headers), `subscription { myOrderUpdates { orderId status } }`);
    await new Promise((r) => setTimeout(r, 200));
    const a = await place('roamer', p.id);
    await eventually(async () =>
      first.payloads.some(
        (x) => x.data.myOrderUpdates.orderId === a && x.data.myOrderUpdates.status === 'PENDING_SHIPMENT',
      ),
    );
    const cursor = first.payloads.at(-1).extensions.cursor;
    first.dispose();
    // While away: two more orders, each PENDING_PAYMENT then PENDING_SHIPMENT.
    const b = await place('roamer', p.id);
    const c = await place('roamer', p.id);
    await eventually(
      async () =>
        (await system.orders.db.order.count({ where: { id: { in: [b, c] }, status: 'PENDING_SHIPMENT' } })) === 2,
    );
    const back = follow(
      connect((await who('roamer')).headers),
      `subscription($after: String) { myOrderUpdates(after: $after) { orderId status } }`,
      { after: cursor },
    );
    await eventually(async () => back.payloads.length >= 4);
    const missed = back.payloads.map(
      (x) =>
        `${x.data.myOrderUpdates.orderId === b ? 'b' : x.data.myOrderUpdates.orderId === c ? 'c' : 'a'}:${x.data.myOrderUpdates.status}`,
    );
    expect(missed.filter((m) => m.startsWith('b'))).toEqual(['b:PENDING_PAYMENT', 'b:PENDING_SHIPMENT']);
    expect(missed.filter((m) => m.startsWith('c'))).toEqual(['c:PENDING_PAYMENT', 'c:PENDING_SHIPMENT']);
    expect(missed.some((m) => m.startsWith('a'))).toBe(false);
    // …and the live stream goes on after the replay.
    const d = await place('roamer', p.id);
    await eventually(async () => back.payloads.some((x) => x.data.myOrderUpdates.orderId === d));
    back.dispose();
  });

  it('delivers on every gateway instance', async () => {
    const port = await freePort();
    const second = await startGateway(gatewayConfig({ ...system.env, PORT: String(port) }), {
      log: createLogger('gw2', 'silent'),
    });
    try {
      const p = await createProduct(system);
      const one = follow(connect((await who('twice')).headers), `subscription { myOrderUpdates { orderId status } }`);
      const two = follow(
        connect((await who('twice')).headers, `ws://127.0.0.1:${port}/graphql`),
        `subscription { myOrderUpdates { orderId status } }`,
      );
      await new Promise((r) => setTimeout(r, 300));
      const id = await place('twice', p.id);
      for (const sub of [one, two])
        await eventually(async () =>
          sub.payloads.some(
            (x) => x.data.myOrderUpdates.orderId === id && x.data.myOrderUpdates.status === 'PENDING_SHIPMENT',
          ),
        );
      one.dispose();
      two.dispose();
    } finally {
      await second.stop();
    }
  });

  it('fires lowStockAlerts once per threshold crossing, for inventory:read only', async () => {
    const p = await createProduct(system, { initialStock: 12, lowStockThreshold: 10 });
    const ops = follow(
      connect(await system.operatorHeaders()),
      `subscription { lowStockAlerts { availableQuantity threshold product { id name } } }`,
    );
    const customer = follow(connect((await who('curious')).headers), `subscription { lowStockAlerts { threshold } }`);
    await new Promise((r) => setTimeout(r, 300));
    await place('stocker', p.id, 3); // 9: crossed
    await place('stocker', p.id, 1); // 8: no new crossing
    await eventually(async () => ops.payloads.some((x) => x.data.lowStockAlerts.product.id === p.id));
    await new Promise((r) => setTimeout(r, 500));
    const mine = ops.payloads
      .filter((x) => x.data.lowStockAlerts.product.id === p.id)
      .map((x) => x.data.lowStockAlerts);
    expect(mine).toEqual([{ availableQuantity: 9, threshold: 10, product: { id: p.id, name: 'Test product' } }]);
    expect(customer.errors[0]?.extensions?.code).toBe('FORBIDDEN');
    ops.dispose();
  });

  it('works with Apollo Client and GraphQLWsLink, as a web or mobile app uses it', async () => {
    const p = await createProduct(system, { name: 'Kettle' });
    const client = new ApolloClient({
      link: new GraphQLWsLink(connect((await who('apollo-app')).headers)),
      cache: new InMemoryCache(),
    });
    const seen: string[] = [];
    const sub = client
      .subscribe({
        query: gql`
          subscription {
            myOrderUpdates {
              orderId
              status
              order {
                id
                items {
                  product {
                    id
                    name
                  }
                }
              }
            }
          }
        `,
      })
      .subscribe({
        next: (r) => {
          const u = (r.data as any)?.myOrderUpdates;
          seen.push(`${u?.status}:${u?.order.items[0].product.name}`);
        },
      });
    await new Promise((r) => setTimeout(r, 300));
    await place('apollo-app', p.id);
    await eventually(async () => seen.length >= 2);
    expect(seen.slice(0, 2)).toEqual(['PENDING_PAYMENT:Kettle', 'PENDING_SHIPMENT:Kettle']);
    sub.unsubscribe();
  });

  it("resolves each event once for a viewer's identical subscriptions, and gives every one of them the payload", async () => {
    /** Calls the gateway made to the orders subgraph, from its own metrics. */
    const ordersCalls = async () => {
      const text = await (await fetch(system.gatewayMetricsUrl)).text();
      return [...text.matchAll(/^gateway_subgraph_request_duration_seconds_count\{([^}]*)\} (\S+)$/gm)]
        .filter((m) => m[1].includes('subgraph="orders"'))
        .reduce((sum, m) => sum + Number(m[2]), 0);
    };
    const p = await createProduct(system, { name: 'Tea cosy' });
    const socket = connect((await who('many-tabs')).headers);
    const tabs = Array.from({ length: 5 }, () =>
      follow(
        socket,
        `subscription { myOrderUpdates { orderId status order { items { quantity product { name } } } } }`,
      ),
    );
    await new Promise((r) => setTimeout(r, 300));
    const before = await ordersCalls();
    const id = await place('many-tabs', p.id, 3);
    const mine = (tab: (typeof tabs)[number]) =>
      tab.payloads.map((x) => x.data.myOrderUpdates).filter((u) => u.orderId === id);
    for (const tab of tabs) await eventually(async () => mine(tab).length === 2);
    const calls = (await ordersCalls()) - before;
    for (const tab of tabs) {
      expect(tab.errors).toEqual([]);
      expect(mine(tab).map((u) => `${u.status}:${u.order.items[0].quantity}:${u.order.items[0].product.name}`)).toEqual(
        ['PENDING_PAYMENT:3:Tea cosy', 'PENDING_SHIPMENT:3:Tea cosy'],
      );
    }
    // placeOrder's own call(s), then one payload query per status change; each subscription resolving its own would be 10.
    expect(calls).toBeLessThanOrEqual(5);
    for (const tab of tabs) tab.dispose();
  });

  it('delivers a payload with errors (a field the viewer may not see) and keeps the subscription going', async () => {
    const p = await createProduct(system, { name: 'Sugar bowl' });
    const sub = follow(
      connect((await who('nosy')).headers),
      `subscription { myOrderUpdates { orderId status order { items { product { name stockMovements(first: 1) { id } } } } } }`,
    );
    await new Promise((r) => setTimeout(r, 300));
    const id = await place('nosy', p.id);
    // Both status changes arrive, each with the error of the field that needs inventory:read.
    await eventually(async () => sub.errors.length >= 2);
    expect(sub.completed).toBe(false);
    expect(sub.errors.slice(0, 2).map((e) => e.extensions?.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    expect(JSON.stringify(sub.errors)).not.toMatch(/toJSON/);
    expect(sub.errors[0].path).toContain('stockMovements');
    // …and the next order's changes still come.
    await place('nosy', p.id);
    await eventually(async () => sub.errors.length >= 4);
    expect(sub.completed).toBe(false);
    expect(id).toBeTruthy();
    sub.dispose();
  });

  it('closes the socket with 4401 as soon as the token is revoked (logOut)', async () => {
    const c = await system.signUpCustomer('leaver');
    const ws = new WebSocket(wsUrl(), 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    const acked = new Promise((r) =>
      ws.on('message', (m) => JSON.parse(m.toString()).type === 'connection_ack' && r(true)),
    );
    await new Promise((r) => ws.on('open', r));
    ws.send(JSON.stringify({ type: 'connection_init', payload: c.headers }));
    await acked;
    ws.send(
      JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { myOrderUpdates { status } }' } }),
    );
    await new Promise((r) => setTimeout(r, 300));
    const out = await system.graphql(
      `mutation($t: String!) { logOut(refreshToken: $t) }`,
      { t: c.refreshToken },
      c.headers,
    );
    expect(out.data?.logOut).toBe(true);
    const started = Date.now();
    expect(await closed).toBe(4401);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  describe('payloads that cost little', () => {
    /** Sums a counter of the gateway's own metrics over the series whose labels contain `label`. */
    const metric = async (name: string, label = '') => {
      const text = await (await fetch(system.gatewayMetricsUrl)).text();
      return [...text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))]
        .filter((m) => (m[1] ?? '').includes(label))
        .reduce((sum, m) => sum + Number(m[2]), 0);
    };
    /** Every fetch the gateway made to any subgraph. */
    const subgraphCalls = () => metric('gateway_subgraph_request_duration_seconds_count');
    const computed = (source: 'event' | 'fetch') =>
      metric('gateway_subscription_payloads_computed_total', `source="${source}"`);
    /** Whole results (data and errors together) of one subscription. */
    const results = (client: Client, query: string, variables: Record<string, unknown> = {}) => {
      const out: any[] = [];
      const dispose = client.subscribe(
        { query, variables },
        { next: (r) => out.push(r), error: () => {}, complete: () => {} },
      );
      return { out, dispose };
    };
    const COVERED = `subscription { myOrderUpdates { orderId previousStatus status reason } }`;
    const historyOf = async (customer: string, id: string) =>
      (
        await system.graphql(
          `query($id: ID!) { order(id: $id) { statusHistory { previousStatus status reason occurredAt } items { product { name } } } }`,
          { id },
          (await who(customer)).headers,
        )
      ).data.order;

    it('computes a selection the event carries once per event for all its subscribers, and asks no subgraph for it', async () => {
      const p = await createProduct(system, { name: 'Milk jug', initialStock: 1000 });
      // What placing an order costs the subgraphs by itself, with nobody subscribed to it (signed up first: that calls auth).
      await who('covered-control');
      let before = await subgraphCalls();
      await place('covered-control', p.id);
      await new Promise((r) => setTimeout(r, 1_000));
      const placeOnly = (await subgraphCalls()) - before;

      const sockets = [connect((await who('covered')).headers), connect((await who('covered')).headers)];
      const tabs = Array.from({ length: 10 }, (_, i) => results(sockets[i % 2], COVERED));
      await new Promise((r) => setTimeout(r, 300));
      before = await subgraphCalls();
      const [event0, fetch0] = [await computed('event'), await computed('fetch')];
      const id = await place('covered', p.id);
      const mine = (tab: (typeof tabs)[number]) =>
        tab.out.map((r) => r.data.myOrderUpdates).filter((u: { orderId: string }) => u.orderId === id);
      for (const tab of tabs) await eventually(async () => mine(tab).length === 2);
      await new Promise((r) => setTimeout(r, 1_000));

      expect((await subgraphCalls()) - before).toBe(placeOnly);
      expect((await computed('event')) - event0).toBe(2);
      expect((await computed('fetch')) - fetch0).toBe(0);
      // …and the payloads are what a query of the order's history says.
      const history = (await historyOf('covered', id)).statusHistory.slice(0, 2);
      for (const tab of tabs) {
        expect(tab.out.every((r) => !r.errors)).toBe(true);
        expect(mine(tab)).toEqual(
          history.map((h: Record<string, unknown>) => ({
            orderId: id,
            previousStatus: h.previousStatus,
            status: h.status,
            reason: h.reason,
          })),
        );
      }
      for (const tab of tabs) tab.dispose();
    });

    it('resolves fetched fields as a query does, with aliases and fragments, and the status row’s own occurredAt', async () => {
      const p = await createProduct(system, { name: 'Butter dish', initialStock: 1000 });
      const id = await place('federated', p.id, 2);
      const sub = results(
        connect((await who('federated')).headers),
        `subscription($id: ID!) {
          live: orderStatusChanged(orderId: $id, after: "0") {
            s: status ...Change
            order { items { quantity product { name } } }
          }
        }
        fragment Change on OrderStatusChange { previousStatus reason occurredAt }`,
        { id },
      );
      await eventually(async () => sub.out.length >= 2);
      const order = await historyOf('federated', id);
      expect(sub.out.slice(0, 2)).toEqual(
        order.statusHistory.slice(0, 2).map((h: Record<string, unknown>) => ({
          data: {
            live: {
              s: h.status,
              previousStatus: h.previousStatus,
              reason: h.reason,
              occurredAt: h.occurredAt,
              order: { items: [{ quantity: 2, product: { name: 'Butter dish' } }] },
            },
          },
          extensions: { cursor: expect.stringMatching(/^\d+$/) },
        })),
      );
      sub.dispose();
    });

    it("never hands one viewer a payload computed for another's visibility", async () => {
      const p = await createProduct(system, { name: 'Egg cup', initialStock: 1000 });
      // From the event alone: the same selection for two customers, each sees only their own orders.
      const a = results(connect((await who('owner-a')).headers), COVERED);
      const b = results(connect((await who('owner-b')).headers), COVERED);
      await new Promise((r) => setTimeout(r, 300));
      const idA = await place('owner-a', p.id);
      await eventually(async () => a.out.filter((r) => r.data.myOrderUpdates.orderId === idA).length === 2);
      const idB = await place('owner-b', p.id);
      await eventually(async () => b.out.filter((r) => r.data.myOrderUpdates.orderId === idB).length === 2);
      await new Promise((r) => setTimeout(r, 500));
      expect(a.out.map((r) => r.data.myOrderUpdates.orderId)).toEqual([idA, idA]);
      expect(b.out.map((r) => r.data.myOrderUpdates.orderId)).toEqual([idB, idB]);
      a.dispose();
      b.dispose();

      // With a fetch: the owner and the operator follow the same order with the same text, at the same
      // events; one field needs inventory:read, which only the operator has.
      const text = `subscription($id: ID!) {
        orderStatusChanged(orderId: $id, after: "0") { status order { items { product { name stockMovements(first: 1) { id } } } } }
      }`;
      const owner = results(connect((await who('owner-a')).headers), text, { id: idA });
      const operator = results(connect(await system.operatorHeaders()), text, { id: idA });
      await eventually(async () => owner.out.length >= 2 && operator.out.length >= 2);
      for (const r of owner.out.slice(0, 2)) {
        expect(r.errors?.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['FORBIDDEN']);
        expect(JSON.stringify(r.data)).not.toContain('"stockMovements":[');
      }
      for (const r of operator.out.slice(0, 2)) {
        expect(r.errors).toBeUndefined();
        expect(r.data.orderStatusChanged.order.items[0].product.stockMovements).toEqual([{ id: expect.any(String) }]);
      }
      owner.dispose();
      operator.dispose();
    });

    describe('without reading the status row again', () => {
      // A second gateway of the same system whose orders subgraph sits behind a relay of the test's that keeps
      // the query of every call reaching it: what a delivery asks orders for is seen, not inferred.
      let relay: Awaited<ReturnType<typeof startQueryRelay>>;
      let gw: Awaited<ReturnType<typeof startGateway>>;
      let url: string;
      const ROW_FIELDS = `subscription { myOrderUpdates { orderId previousStatus status reason occurredAt } }`;
      /** The calls that reached orders since `from` and read a status change (Query.orderStatusChange). */
      const rowReads = (from: number) => relay.queries.slice(from).filter((q) => /\borderStatusChange\s*\(/.test(q));

      beforeAll(async () => {
        relay = await startQueryRelay(system.urls.ORDERS_URL);
        const port = await freePort();
        gw = await startGateway(gatewayConfig({ ...system.env, PORT: String(port), ORDERS_URL: relay.url }), {
          log: createLogger('gw-relayed', 'silent'),
        });
        url = `ws://127.0.0.1:${port}/graphql`;
      });
      afterAll(async () => {
        await gw?.stop();
        await relay?.close();
      });

      it('delivers every field the status row holds, occurredAt included, from the event, and fetches only the order', async () => {
        const p = await createProduct(system, { name: 'Gravy boat', initialStock: 1000 });
        const headers = (await who('stamped')).headers;
        const sockets = [connect(headers, url), connect(headers, url)];
        const tabs = Array.from({ length: 8 }, (_, i) => results(sockets[i % 2], ROW_FIELDS));
        await new Promise((r) => setTimeout(r, 300));
        const from = relay.queries.length;
        // Placed through the system's own gateway: nothing of placeOrder passes the relay.
        const id = await place('stamped', p.id, 2);
        // An order page's subscription (the web app's shape): the row's fields and the order with federated fields.
        const page = results(
          sockets[0],
          `subscription($orderId: ID!) {
            orderStatusChanged(orderId: $orderId, after: "0") {
              orderId status occurredAt order { status items { quantity product { name } } }
            }
          }`,
          { orderId: id },
        );
        const mine = (tab: (typeof tabs)[number]) =>
          tab.out.map((r) => r.data?.myOrderUpdates).filter((u) => u?.orderId === id);
        for (const tab of tabs) await eventually(async () => mine(tab).length === 2);
        await eventually(async () => page.out.length >= 2);
        await new Promise((r) => setTimeout(r, 500));

        expect(rowReads(from)).toEqual([]);
        // What reached orders: the page's check at subscribe and its two orders, by the event's order id.
        expect(relay.queries.length - from).toBeLessThanOrEqual(3);
        const history = (await historyOf('stamped', id)).statusHistory.slice(0, 2);
        for (const tab of tabs) {
          expect(tab.out.every((r) => !r.errors)).toBe(true);
          // …the same values, to the millisecond, as a later query of the order's history.
          expect(mine(tab)).toEqual(history.map((h: Record<string, unknown>) => ({ orderId: id, ...h })));
        }
        expect(page.out.slice(0, 2).map((r) => r.errors ?? r.data.orderStatusChanged)).toEqual(
          history.map((h: Record<string, unknown>) => ({
            orderId: id,
            status: h.status,
            occurredAt: h.occurredAt,
            order: { status: expect.any(String), items: [{ quantity: 2, product: { name: 'Gravy boat' } }] },
          })),
        );
        // The row's time is the order's creation time for the first change (decided once, in placeOrder).
        const created = await system.graphql(`query($id: ID!) { order(id: $id) { createdAt } }`, { id }, headers);
        expect(created.data.order.createdAt).toBe(history[0].occurredAt);
        for (const tab of [...tabs, page]) tab.dispose();
      });

      it('still delivers an older event without the row’s time (in flight during an upgrade), fetching the row', async () => {
        const p = await createProduct(system, { name: 'Sauce pan', initialStock: 1000 });
        const headers = (await who('upgrading')).headers;
        const tab = results(connect(headers, url), ROW_FIELDS);
        await new Promise((r) => setTimeout(r, 300));
        const id = await place('upgrading', p.id);
        await eventually(async () => tab.out.filter((r) => r.data?.myOrderUpdates.orderId === id).length === 2);
        const history = (await historyOf('upgrading', id)).statusHistory;
        // The first change again, as an orders service from before the field was added wrote it.
        const sql = new pg.Client({ connectionString: system.databaseUrls.orders });
        await sql.connect();
        const {
          rows: [first],
        } = await sql
          .query<{ id: string }>(
            'SELECT id::text AS id FROM order_status_history h WHERE order_id = $1::uuid ORDER BY h.id LIMIT 1',
            [id],
          )
          .finally(() => sql.end());
        const older = createEvent({
          type: 'orders.status_changed',
          source: 'orders',
          correlationId: id,
          data: {
            orderId: id,
            customerId: (await who('upgrading')).id,
            previousStatus: null,
            status: 'PENDING_PAYMENT',
            reason: 'order placed',
            changeId: first.id,
          },
        });
        const bus = await connectBus({
          url: system.natsUrl,
          prefix: system.natsPrefix,
          user: system.natsAdmin.user,
          password: system.natsAdmin.pass,
          name: 'test-older-event',
          log: createLogger('test', 'silent'),
        });
        const from = relay.queries.length;
        try {
          await bus.js.publish(bus.subject(older.type), JSON.stringify(older), { msgID: older.id });
          await eventually(async () => tab.out.filter((r) => r.data?.myOrderUpdates.orderId === id).length === 3);
        } finally {
          await bus.close();
        }
        expect(tab.out.every((r) => !r.errors)).toBe(true);
        expect(tab.out.filter((r) => r.data.myOrderUpdates.orderId === id).at(-1).data.myOrderUpdates).toEqual({
          orderId: id,
          ...history[0],
        });
        expect(rowReads(from)).toHaveLength(1);
        tab.dispose();
      });
    });
  });

  describe('protocol and limits', () => {
    /** A raw graphql-ws socket, to send what a well-behaved client never would. */
    async function raw(given?: Record<string, string>) {
      const headers = given ?? (await who('raw')).headers;
      const ws = new WebSocket(wsUrl(), 'graphql-transport-ws');
      const messages: any[] = [];
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
      );
      ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
      await new Promise((r) => ws.on('open', r));
      const init = async () => {
        ws.send(JSON.stringify({ type: 'connection_init', payload: headers }));
        await eventually(async () => messages.some((m) => m.type === 'connection_ack'));
      };
      return { ws, messages, closed, init };
    }

    it('refuses queries and mutations over the socket with an error, consistently', async () => {
      const c = await raw();
      await c.init();
      c.ws.send(
        JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ products(first: 1) { totalCount } }' } }),
      );
      c.ws.send(
        JSON.stringify({
          id: '2',
          type: 'subscribe',
          payload: {
            query: 'mutation { createProduct(input: {sku: "X", name: "x", price: "1", initialStock: 1}) { id } }',
          },
        }),
      );
      await eventually(async () => c.messages.filter((m) => m.type === 'error').length === 2);
      for (const m of c.messages.filter((x) => x.type === 'error'))
        expect(m.payload[0].message).toMatch(/Only subscriptions run over this socket/);
      c.ws.close();
    });

    it('answers bad input with errors or protocol close codes, and stays up', async () => {
      const noInit = await raw();
      noInit.ws.send(
        JSON.stringify({
          id: '1',
          type: 'subscribe',
          payload: { query: 'subscription { myOrderUpdates { status } }' },
        }),
      );
      expect((await noInit.closed).code).toBe(4401);

      const garbage = await raw();
      garbage.ws.send('{not json');
      expect((await garbage.closed).code).toBe(4400);

      const c = await raw();
      await c.init();
      c.ws.send(
        JSON.stringify({
          id: 'a',
          type: 'subscribe',
          payload: { query: 'subscription { myOrderUpdates(after: "yesterday") { status } }' },
        }),
      );
      c.ws.send(
        JSON.stringify({ id: 'b', type: 'subscribe', payload: { query: 'subscription { nothingHere { status } }' } }),
      );
      await eventually(async () => c.messages.filter((m) => m.type === 'error').length === 2);
      const byId = Object.fromEntries(c.messages.filter((m) => m.type === 'error').map((m) => [m.id, m.payload[0]]));
      expect(byId.a.extensions.code).toBe('BAD_USER_INPUT');
      expect(byId.b.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      c.ws.send(
        JSON.stringify({
          id: 'x',
          type: 'subscribe',
          payload: { query: 'subscription { myOrderUpdates { status } }' },
        }),
      );
      await new Promise((r) => setTimeout(r, 200));
      c.ws.send(
        JSON.stringify({
          id: 'x',
          type: 'subscribe',
          payload: { query: 'subscription { myOrderUpdates { status } }' },
        }),
      );
      expect((await c.closed).code).toBe(4409);

      const anonymous = await raw({});
      await anonymous.init();
      anonymous.ws.send(
        JSON.stringify({
          id: '1',
          type: 'subscribe',
          payload: { query: 'subscription { myOrderUpdates { status } }' },
        }),
      );
      await eventually(async () => anonymous.messages.some((m) => m.type === 'error'));
      expect(anonymous.messages.find((m) => m.type === 'error').payload[0].extensions.code).toBe('UNAUTHENTICATED');
      anonymous.ws.close();

      expect((await fetch(`${system.gatewayUrl}/health/live`)).status).toBe(200);
    });

    it('refuses a subscription past the cost limit at subscribe, as a query would be, with the variables counted', async () => {
      const c = await raw((await who('spender')).headers);
      await c.init();
      const pricey = `subscription($n: Int) { myOrderUpdates { order { items { product { stockMovements(first: $n) { id quantity } } } } } }`;
      c.ws.send(
        JSON.stringify({ id: 'big', type: 'subscribe', payload: { query: pricey, variables: { n: 100_000 } } }),
      );
      // Refused before the ownership check, which would call the orders subgraph (and answer NOT_FOUND).
      c.ws.send(
        JSON.stringify({
          id: 'literal',
          type: 'subscribe',
          payload: {
            query: `subscription { orderStatusChanged(orderId: "${randomUUID()}") { order { items { product { stockMovements(first: 100000) { id } } } } } }`,
          },
        }),
      );
      c.ws.send(JSON.stringify({ id: 'small', type: 'subscribe', payload: { query: pricey, variables: { n: 5 } } }));
      await eventually(async () => c.messages.filter((m) => m.type === 'error').length === 2);
      await new Promise((r) => setTimeout(r, 300));
      const errors: Record<string, any[]> = Object.fromEntries(
        c.messages.filter((m) => m.type === 'error').map((m) => [m.id, m.payload]),
      );
      expect(Object.keys(errors).sort()).toEqual(['big', 'literal']);
      for (const payload of Object.values(errors)) {
        expect(payload).toHaveLength(1);
        expect(payload[0].message).toMatch(
          /^The operation is too expensive: estimated cost \d+, at most 10000 allowed/,
        );
        expect(payload[0].extensions).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED', limit: 'cost' });
      }
      // The same selection as a query over HTTP gets the same answer.
      const query = await system.graphql(
        `query($n: Int) { myOrders { edges { node { items { product { stockMovements(first: $n) { id quantity } } } } } } }`,
        { n: 100_000 },
        (await who('spender')).headers,
      );
      expect(query.errors?.[0]).toMatchObject({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'cost' } });
      c.ws.close();
    });

    it('limits subscriptions per connection', async () => {
      const c = await raw((await who('greedy')).headers);
      await c.init();
      for (let i = 0; i < 51; i++)
        c.ws.send(
          JSON.stringify({
            id: `s${i}`,
            type: 'subscribe',
            payload: { query: 'subscription { myOrderUpdates { status } }' },
          }),
        );
      await eventually(async () => c.messages.some((m) => m.type === 'error'));
      const err = c.messages.find((m) => m.type === 'error');
      expect(err.id).toBe('s50');
      expect(err.payload[0].extensions.code).toBe('RATE_LIMITED');
      c.ws.close();
    });
  });
});

describe('subscriptions and token expiry', () => {
  it('closes the socket with 4401 when the access token expires', async () => {
    const system = await startSystem({ env: { ACCESS_TOKEN_TTL_SECONDS: '10' } });
    try {
      const c = await system.signUpCustomer('short-lived');
      const ws = new WebSocket(system.gatewayUrl.replace('http', 'ws') + '/graphql', 'graphql-transport-ws');
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
      );
      const acked = new Promise((r) =>
        ws.on('message', (m) => JSON.parse(m.toString()).type === 'connection_ack' && r(true)),
      );
      await new Promise((r) => ws.on('open', r));
      ws.send(JSON.stringify({ type: 'connection_init', payload: c.headers }));
      await acked;
      ws.send(
        JSON.stringify({
          id: '1',
          type: 'subscribe',
          payload: { query: 'subscription { myOrderUpdates { status } }' },
        }),
      );
      const { code, reason } = await closed;
      expect(code).toBe(4401);
      expect(reason).toBe('Token expired');
    } finally {
      await system.stop();
    }
  }, 60_000);
});
