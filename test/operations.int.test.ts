import { randomBytes } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createLogger } from '@orderflow/common/observability';
import { freePort } from '@orderflow/devstack';
import { loadConfig as gatewayConfig } from '../gateway/src/config.ts';
import { startGateway } from '../gateway/src/server.ts';
import {
  PLACE_ORDER,
  buildOrderInput,
  createProduct,
  eventually,
  startSystem,
  type Customer,
  type System,
} from './support/system.ts';

/** placeOrder under an operation name, as a client that wants readable metrics sends it. */
const PLACE_ORDER_NAMED = PLACE_ORDER.replace('mutation(', 'mutation placeOrder(');
const LOG_IN = `mutation logIn($input: LogInInput!) { logIn(input: $input) { accessToken refreshToken } }`;
const ORDER_STATE = `query orderState($id: ID!) { order(id: $id) { id status shipment { id } } }`;

/** One sample of a Prometheus text exposition: the sum of the series of `name` whose labels include `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let found: number | undefined;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) found = (found ?? 0) + Number(m[3]);
  }
  return found;
}

describe('operations: metrics, health, trace ids, logs', () => {
  let system: System;
  let nc: NatsConnection;
  /** Every service's log lines, parsed. */
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const logStream = {
    write(line: string) {
      raw.push(line);
      lines.push(JSON.parse(line));
    },
  };
  const clients: Client[] = [];

  beforeAll(async () => {
    system = await startSystem({ logStream, env: { SAGA_RETRY_SCALE: '0.05' } });
    nc = await connect(system.natsAdmin);
  });
  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await nc?.close();
    await system?.stop();
  });

  const url = (service: 'gateway' | 'auth' | 'products' | 'orders' | 'shipments') =>
    service === 'gateway' ? system.gatewayUrl : system.urls[`${service.toUpperCase()}_URL` as keyof System['urls']];
  async function metrics(service: Parameters<typeof url>[0]): Promise<string> {
    const res = await fetch(service === 'gateway' ? system.gatewayMetricsUrl : `${url(service)}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  }

  let customer: Customer;
  let productId: string;
  const placeOrder = async (headers: Record<string, string>, overrides: Parameters<typeof buildOrderInput>[0] = {}) => {
    const res = await fetch(`${system.gatewayUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...customer.headers, ...headers },
      body: JSON.stringify({
        query: PLACE_ORDER_NAMED,
        variables: { input: buildOrderInput({ items: [{ productId, quantity: 1 }], ...overrides }) },
      }),
    });
    return ((await res.json()) as { data: { placeOrder: any } }).data.placeOrder;
  };
  const settled = (id: string) =>
    eventually(async () => {
      const order = (await system.graphql(ORDER_STATE, { id }, customer.headers)).data?.order;
      return order?.status === 'PENDING_SHIPMENT' && order.shipment ? order : null;
    });

  it('every process serves Prometheus text with its metrics', async () => {
    customer = await system.signUpCustomer('metrics');
    productId = (await createProduct(system, { initialStock: 50 })).id;

    const gateway = await metrics('gateway');
    for (const name of [
      'graphql_requests_total',
      'graphql_request_duration_seconds',
      'graphql_request_errors_total',
      'gateway_subgraph_request_duration_seconds',
      'gateway_active_subscriptions',
      'gateway_rate_limited_requests_total',
    ])
      expect(gateway).toContain(`# TYPE ${name} `);
    expect(sample(gateway, 'process_cpu_user_seconds_total', { service: 'gateway' })).toBeGreaterThan(0);
    expect(
      sample(gateway, 'graphql_requests_total', { operation: 'anonymous', type: 'mutation' }),
    ).toBeGreaterThanOrEqual(2); // signUp, createProduct

    for (const service of ['auth', 'products', 'orders', 'shipments'] as const) {
      const text = await metrics(service);
      expect(text).toContain('# TYPE graphql_resolver_duration_seconds histogram');
      expect(sample(text, 'nodejs_heap_size_used_bytes', { service })).toBeGreaterThan(0);
      if (service === 'auth') continue;
      expect(sample(text, 'outbox_backlog', { service })).toBeGreaterThanOrEqual(0);
      expect(sample(text, 'dlq_messages', { service })).toBe(0);
    }
    const orders = await metrics('orders');
    expect(
      sample(orders, 'jetstream_consumer_pending_messages', { consumer: 'orders-payments' }),
    ).toBeGreaterThanOrEqual(0);
    expect(sample(orders, 'jetstream_consumer_redelivered_messages', { consumer: 'orders-payments' })).toBe(0);
    // Every status is there before its first order.
    expect(sample(orders, 'orders_by_status', { status: 'DELIVERED' })).toBe(0);
    const products = await metrics('products');
    expect(products).toContain('# TYPE reservation_failures_total counter');
    expect(
      sample(products, 'jetstream_consumer_pending_messages', { consumer: 'products-commit-reservation' }),
    ).toBeGreaterThanOrEqual(0);
    expect(
      sample(products, 'graphql_resolver_duration_seconds_count', {
        type: 'Mutation',
        field: 'createProduct',
        outcome: 'ok',
      }),
    ).toBe(1);
  });

  it('placing an order moves the request counter, orders by status, and drains the outbox', async () => {
    const before = await metrics('gateway');
    const placed = sample(before, 'graphql_requests_total', { operation: 'placeOrder', type: 'mutation' }) ?? 0;
    const fetches =
      sample(before, 'gateway_subgraph_request_duration_seconds_count', { subgraph: 'orders', outcome: 'ok' }) ?? 0;

    const result = await placeOrder({});
    expect(result.__typename).toBe('OrderPlaced');
    await settled(result.order.id);

    const after = await metrics('gateway');
    expect(sample(after, 'graphql_requests_total', { operation: 'placeOrder', type: 'mutation' })).toBe(placed + 1);
    expect(sample(after, 'graphql_request_duration_seconds_count', { operation: 'placeOrder', type: 'mutation' })).toBe(
      placed + 1,
    );
    expect(
      sample(after, 'gateway_subgraph_request_duration_seconds_count', { subgraph: 'orders', outcome: 'ok' }),
    ).toBeGreaterThan(fetches);

    const orders = await metrics('orders');
    expect(
      sample(orders, 'graphql_resolver_duration_seconds_count', {
        type: 'Mutation',
        field: 'placeOrder',
        outcome: 'ok',
      }),
    ).toBeGreaterThanOrEqual(1);
    await eventually(
      async () => (sample(await metrics('orders'), 'orders_by_status', { status: 'PENDING_SHIPMENT' }) ?? 0) >= 1,
    );
    for (const service of ['orders', 'products', 'shipments'] as const)
      await eventually(async () => sample(await metrics(service), 'outbox_backlog') === 0);
    await eventually(
      async () =>
        sample(await metrics('orders'), 'jetstream_consumer_pending_messages', { consumer: 'orders-payments' }) === 0,
    );
  });

  it('counts refused reservations, GraphQL errors by code, and open subscriptions', async () => {
    const failures = sample(await metrics('products'), 'reservation_failures_total', { reason: 'unavailable' }) ?? 0;
    const refused = await placeOrder({}, { items: [{ productId, quantity: 1_000 }] });
    expect(refused.__typename).toBe('ProductsUnavailable');
    expect(sample(await metrics('products'), 'reservation_failures_total', { reason: 'unavailable' })).toBe(
      failures + 1,
    );

    const anonymous = await system.graphql(`query orderById { order(id: "${productId}") { id } }`);
    expect(anonymous.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(
      sample(await metrics('gateway'), 'graphql_request_errors_total', {
        operation: 'orderById',
        type: 'query',
        code: 'UNAUTHENTICATED',
      }),
    ).toBe(1);

    const ws = createClient({
      url: system.gatewayUrl.replace('http', 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      connectionParams: customer.headers,
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => {},
    });
    clients.push(ws);
    const stop = ws.subscribe(
      { query: 'subscription { myOrderUpdates { orderId status } }' },
      { next: () => {}, error: () => {}, complete: () => {} },
    );
    await eventually(async () => sample(await metrics('gateway'), 'gateway_active_subscriptions') === 1);
    stop();
    await eventually(async () => sample(await metrics('gateway'), 'gateway_active_subscriptions') === 0);
  });

  it('reports dead letters in the DLQ size', async () => {
    const js = nc.jetstream();
    await js.publish(`${system.natsPrefix}.orders.created`, 'not json at all');
    // Each consumer of orders.created (orders' payment worker and its email) dead-letters it once.
    await eventually(async () => (sample(await metrics('orders'), 'dlq_messages') ?? 0) >= 2);
    // Samples are at most a second old.
    await eventually(async () => (sample(await metrics('products'), 'dlq_messages') ?? 0) >= 2);
  });

  it("follows one order's saga by the trace id it was placed with: every service's logs and every event", async () => {
    const traceId = randomBytes(16).toString('hex');
    const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
    const result = await placeOrder({ traceparent });
    expect(result.__typename).toBe('OrderPlaced');
    const orderId: string = result.order.id;
    await settled(orderId);

    const traced = () => lines.filter((l) => l.traceId === traceId);
    await eventually(async () => {
      const services = new Set(traced().map((l) => l.service));
      return ['gateway', 'orders', 'products'].every((s) => services.has(s));
    });
    expect(traced().map((l) => `${l.service}: ${l.msg}`)).toEqual(
      expect.arrayContaining([
        'gateway: graphql request',
        'orders: order placed',
        'orders: payment succeeded',
        'products: reservation settled',
      ]),
    );
    expect(traced().find((l) => l.service === 'gateway' && l.msg === 'graphql request')).toMatchObject({
      operation: 'placeOrder',
      type: 'mutation',
    });

    // Every event of the saga, in every stream, carries the trace in its envelope and its NATS header.
    const jsm = await nc.jetstreamManager();
    const expected = [
      'orders.created',
      'payments.succeeded',
      'inventory.reserved',
      'inventory.committed',
      'shipments.created',
    ];
    const events = await eventually(async () => {
      const found: { type: string; header: string | undefined; envelope: string | null }[] = [];
      for (const name of ['ORDERS', 'INVENTORY', 'SHIPMENTS']) {
        const stream = `${system.natsPrefix.toUpperCase()}_${name}`;
        const { state } = await jsm.streams.info(stream);
        for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
          const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
          let envelope: { type: string; correlationId: string; traceparent: string | null } | null = null;
          try {
            envelope = m?.json() ?? null;
          } catch {
            // the poison message of the DLQ test
          }
          if (m && envelope?.correlationId === orderId)
            found.push({ type: envelope.type, header: m.header?.get('traceparent'), envelope: envelope.traceparent });
        }
      }
      return expected.every((t) => found.some((e) => e.type === t)) && found;
    });
    for (const e of events) {
      expect(e.envelope, e.type).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      expect(e.header, e.type).toBe(e.envelope);
    }
  });

  it('writes no access token, refresh token, password or card number to the logs', async () => {
    const someone = await system.signUpCustomer('secretive');
    const login = await system.graphql(LOG_IN, { input: { email: someone.email, password: someone.password } });
    const { accessToken, refreshToken } = login.data.logIn;
    const operator = (await system.operatorHeaders()).authorization.slice('Bearer '.length);
    const card = '4111111111111111';
    const previous = customer;
    customer = { ...someone, headers: { authorization: `Bearer ${accessToken}` } };
    const declined = await placeOrder({}, { paymentToken: card });
    customer = previous;
    expect(declined.__typename).toBe('OrderPlaced');
    await eventually(async () => lines.some((l) => l.msg === 'payment failed' && l.orderId === declined.order.id));

    const all = raw.join('');
    for (const secret of [
      someone.accessToken,
      someone.refreshToken,
      someone.password,
      accessToken,
      refreshToken,
      operator,
      card,
    ])
      expect(all).not.toContain(secret);
    // Nor any other JWT (internal tokens included).
    expect(all).not.toMatch(/eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{10,}/);
  });

  it('health: ready with everything up, 503 at the gateway when a subgraph is down', async () => {
    for (const service of ['gateway', 'auth', 'products', 'orders', 'shipments'] as const) {
      expect((await fetch(`${url(service)}/health/live`)).status).toBe(200);
      // Eventually: on a loaded machine one probe may outlast the gateway's 2 s check of a subgraph.
      await eventually(async () => (await fetch(`${url(service)}/health/ready`)).status === 200);
    }
    const ready = await eventually(async () => {
      const res = await fetch(`${system.gatewayUrl}/health/ready`);
      return res.status === 200 && res.json();
    });
    expect(ready).toMatchObject({
      status: 'ok',
      subgraphs: { auth: 'ok', products: 'ok', orders: 'ok', shipments: 'ok' },
      nats: 'ok',
    });

    // A second gateway instance whose shipments subgraph is not there (nothing listens on its port).
    const gw = await startGateway(
      gatewayConfig({
        ...system.env,
        PORT: String(await freePort()),
        SHIPMENTS_URL: `http://127.0.0.1:${await freePort()}`,
      }),
      { log: createLogger('gateway-2', 'silent') },
    );
    try {
      const ready = await fetch(`${gw.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({
        status: 'unavailable',
        subgraphs: { shipments: 'unavailable', orders: 'ok' },
      });
      expect((await fetch(`${gw.url}/health/live`)).status).toBe(200);

      // A field of the missing subgraph: SERVICE_UNAVAILABLE (retry later), not an internal error, and no address.
      const customer = await system.signUpCustomer('unreachable');
      const res = await fetch(`${gw.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...customer.headers },
        body: JSON.stringify({
          query: `query { shipment(id: "${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}") { id status } }`,
        }),
      });
      const text = await res.text();
      expect(JSON.parse(text)).toMatchObject({
        data: { shipment: null },
        errors: [
          {
            message: 'Part of the service is temporarily unavailable; please retry',
            extensions: { code: 'SERVICE_UNAVAILABLE' },
          },
        ],
      });
      expect(text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|shipments|:\d{4,5}/);
    } finally {
      await gw.stop();
    }
  });
});
