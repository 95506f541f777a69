import { createServer, type Socket } from 'node:net';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@orderflow/common/observability';
import { freePort } from '@orderflow/devstack';
import { loadConfig as gatewayConfig } from '../../gateway/src/config.ts';
import { startGateway } from '../../gateway/src/server.ts';
import { PLACE_ORDER, buildOrderInput, createProduct, startSystem, type System } from '../support/system.ts';
import { ATTACKER, BYSTANDER, expectServed, graphqlFrom, requestFrom, startBystander } from './support/bystander.ts';

/** What one attacking connection saw. */
interface SlowConnection {
  kind: SlowKind;
  /** Everything the server sent before closing. */
  answer: string;
  /** From connecting to the server closing the connection; null when it was still open when the attack ended. */
  closedAfterMs: number | null;
}

/**
 * body: headers complete, a 1,000-byte body of which a few bytes come at once and one more every second;
 * headers: the request line, then one more header line every second, never the blank line;
 * silent: connects and sends nothing.
 */
type SlowKind = 'body' | 'headers' | 'silent';

const OPENERS: Record<SlowKind, string> = {
  body: 'POST /graphql HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"query":',
  headers: 'POST /graphql HTTP/1.1\r\nHost: shop\r\n',
  silent: '',
};
const TRICKLE: Record<SlowKind, string> = { body: ' ', headers: 'X-Slow: 1\r\n', silent: '' };

/** One slow client from `address`: it keeps trickling until the server closes the connection or `attackMs` pass. */
function slowConnection(port: number, address: string, kind: SlowKind, attackMs: number): Promise<SlowConnection> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host: '127.0.0.1', port, localAddress: address });
    let answer = '';
    let closedByServer = false;
    const trickle = setInterval(() => TRICKLE[kind] && socket.write(TRICKLE[kind]), 1_000);
    const giveUp = setTimeout(() => socket.destroy(), attackMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => OPENERS[kind] && socket.write(OPENERS[kind]));
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => (closedByServer = true));
    socket.on('error', () => (closedByServer = true));
    socket.on('close', () => {
      clearInterval(trickle);
      clearTimeout(giveUp);
      resolve({ kind, answer, closedAfterMs: closedByServer ? Math.round(performance.now() - started) : null });
    });
  });
}

const statusOf = (c: SlowConnection) => /^HTTP\/1\.1 (\d{3})/.exec(c.answer)?.[1] ?? 'none';
const tally = (cs: SlowConnection[]) =>
  cs.reduce<Record<string, number>>((t, c) => ((t[statusOf(c)] = (t[statusOf(c)] ?? 0) + 1), t), {});

describe('HTTP abuse at the gateway', () => {
  let system: System;
  let port: number;

  beforeAll(async () => {
    // Fewer in-flight slots (100) than the connections one address may hold (128 by default): if a trickled
    // body held a slot, the attacker's admitted connections alone would fill every slot.
    system = await startSystem({ env: { MAX_IN_FLIGHT_REQUESTS: '100', MAX_CONNECTIONS_PER_ADDRESS: '128' } });
    port = Number(new URL(system.gatewayUrl).port);
  });
  afterAll(async () => system?.stop());

  it('trickled bodies and headers from one address never turn another away, and are cut at the deadline', async () => {
    const bystander = await startBystander(system);
    const attackMs = 25_000;
    // The report's attack: hundreds of connections that send headers and a few bytes of the body, then
    // trickle; every tenth trickles its headers instead, every tenth sends nothing.
    const kinds = Array.from({ length: 560 }, (_, i): SlowKind => (['headers', 'silent'] as const)[i % 10] ?? 'body');
    const attack = Promise.all(kinds.map((kind) => slowConnection(port, ATTACKER, kind, attackMs)));
    // While the attack runs, plain requests from the bystander's address are answered too (beside its own reads).
    const probes: number[] = [];
    const probing = (async () => {
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 500));
        probes.push((await graphqlFrom(BYSTANDER, system, '{ products(first: 1) { edges { node { id } } } }')).status);
      }
    })();
    const [connections] = await Promise.all([attack, probing]);
    const report = await bystander.stop();

    const refused = connections.filter((c) => statusOf(c) === '429');
    const admitted = connections.filter((c) => statusOf(c) !== '429');
    const closed = (kind: SlowKind) => {
      const ms = admitted.filter((c) => c.kind === kind).map((c) => c.closedAfterMs ?? Infinity);
      return `${ms.length} ${kind} ${Math.min(...ms)}–${Math.max(...ms)} ms`;
    };
    console.log(
      `[hostile] slow bodies: ${connections.length} connections from ${ATTACKER}: answers ${JSON.stringify(tally(connections))}; ` +
        `admitted ones closed by the gateway after: ${(['body', 'headers', 'silent'] as const).map(closed).join(', ')}`,
    );
    expectServed(report, 'slow bodies');
    expect(probes.filter((s) => s !== 200)).toEqual([]);

    // Past the per-address cap, a connection is refused at once with a clear answer.
    expect(refused.length).toBeGreaterThanOrEqual(connections.length - 128);
    expect(refused[0].answer).toMatch(/retry-after: \d+/i);
    expect(refused[0].answer).toMatch(/Too many connections from your address; at most 128 at once/);
    expect(refused[0].answer).toContain('"code":"RATE_LIMITED"');
    // Every admitted one is closed by the gateway at its deadline (10 s by default), however it trickles:
    // only a connection still open when the attacker gave up (25 s) fails this.
    expect(admitted.filter((c) => c.closedAfterMs === null).map((c) => c.kind)).toEqual([]);
    for (const c of admitted) expect(statusOf(c), c.answer).toBe('408');
    expect(new Set(admitted.map((c) => c.kind))).toEqual(new Set(['body', 'headers', 'silent']));

    // Once the attack is over, the attacker's address is an ordinary client again.
    expect((await graphqlFrom(ATTACKER, system, '{ products(first: 1) { edges { node { id } } } }')).status).toBe(200);
  });

  it('subgraphs, reached only from inside, cut slow requests too (headers after 10 s, a whole request after 30 s)', async () => {
    const products = Number(new URL(system.urls.PRODUCTS_URL).port);
    const slow = await Promise.all(
      (['headers', 'silent'] as const).map((kind) => slowConnection(products, ATTACKER, kind, 25_000)),
    );
    console.log(`[hostile] slow requests to a subgraph closed after ${slow.map((c) => c.closedAfterMs).join(', ')} ms`);
    for (const c of slow) {
      expect(c.closedAfterMs, c.kind).not.toBeNull();
      expect(statusOf(c), c.answer).toBe('408');
    }
  });

  it('a hung subgraph answers SERVICE_UNAVAILABLE for its fields after SUBGRAPH_TIMEOUT_MS and releases the request', async () => {
    // A real server in place of the shipments subgraph: it accepts connections, reads, and never answers.
    const hung = new Set<Socket>();
    const server = createServer((socket) => {
      hung.add(socket);
      socket.on('close', () => hung.delete(socket));
      socket.resume();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const hungUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // A second gateway of the same system with that shipments URL, a 1 s deadline and two in-flight slots.
    const gw = await startGateway(
      gatewayConfig({
        ...system.env,
        PORT: String(await freePort()),
        SHIPMENTS_URL: hungUrl,
        SUBGRAPH_TIMEOUT_MS: '1000',
        MAX_IN_FLIGHT_REQUESTS: '2',
      }),
      { log: createLogger('gateway-hung-shipments', 'silent') },
    );
    try {
      const customer = await system.signUpCustomer('hung-subgraph');
      const product = await createProduct(system, { initialStock: 10 });
      const placed = await system.graphql(
        PLACE_ORDER,
        { input: buildOrderInput({ items: [{ productId: product.id, quantity: 1 }] }) },
        customer.headers,
      );
      const orderId = placed.data.placeOrder.order.id as string;
      const orderPage = () =>
        requestFrom(BYSTANDER, `${gw.url}/graphql`, {
          headers: { 'content-type': 'application/json', ...customer.headers },
          body: JSON.stringify({
            query: `query($id: ID!) { order(id: $id) { id status shipment { id status } } }`,
            variables: { id: orderId },
          }),
          timeoutMs: 20_000,
        });

      // Both slots taken by requests waiting on the hung subgraph: each is answered once its call is given up.
      const started = performance.now();
      const answers = await Promise.all([orderPage(), orderPage()]);
      console.log(
        `[hostile] hung subgraph: answered after ${Math.round(performance.now() - started)} ms (deadline 1000 ms)`,
      );
      for (const res of answers) {
        expect(res.status, res.text).toBe(200);
        // The fields of the other subgraphs are there; the shipments subgraph's is null, with the error beside it.
        expect(res.json.data.order).toMatchObject({ id: orderId, shipment: null });
        expect(res.json.errors).toEqual([
          {
            message: 'Part of the service is temporarily unavailable; please retry',
            extensions: { code: 'SERVICE_UNAVAILABLE' },
          },
        ]);
        // Neither the subgraph's address nor the cause.
        expect(res.text).not.toMatch(/127\.0\.0\.1|:\d{4,5}\b|within|timeout|ECONN|socket/i);
      }
      // The gateway destroyed its sockets to the hung server instead of keeping them alive.
      for (let i = 0; i < 100 && hung.size > 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(hung.size).toBe(0);
      // And its two in-flight slots are free again: nothing is shed.
      for (let i = 0; i < 3; i++) {
        const res = await graphqlFrom(
          BYSTANDER,
          { ...system, gatewayUrl: gw.url },
          '{ products(first: 1) { edges { node { id } } } }',
        );
        expect(res.status, res.text).toBe(200);
      }
    } finally {
      await gw.stop();
      for (const socket of hung) socket.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('does not serve /metrics on the public port; its own listener is on 127.0.0.1 only', async () => {
    for (const accept of ['*/*', 'text/html']) {
      const res = await requestFrom(ATTACKER, `${system.gatewayUrl}/metrics`, { headers: { accept } });
      expect(res.status, accept).toBe(404);
      expect(res.text).not.toMatch(/graphql_requests_total|process_cpu/);
    }
    // The operator's scrape, from this machine.
    const scrape = await fetch(system.gatewayMetricsUrl);
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toMatch(/^graphql_requests_total\{/m);
    // Bound to 127.0.0.1, not every interface: the same port on another address of the machine is closed.
    const { port } = new URL(system.gatewayMetricsUrl);
    const elsewhere = await requestFrom(ATTACKER, `http://127.0.0.2:${port}/metrics`).then(
      (r) => `HTTP ${r.status}`,
      (err: Error & { code?: string }) => err.code,
    );
    expect(elsewhere).toBe('ECONNREFUSED');
  });
});
