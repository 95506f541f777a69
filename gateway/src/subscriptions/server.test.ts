import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createLogger } from '@orderflow/common/observability';
import { createRateLimiter } from '../rate-limit.ts';
import type { EventHub } from './event-hub.ts';
import { createSubscriptionServer, type SubscriptionServerOptions } from './server.ts';

// What happens at the upgrade, before any subscription: the hub is never reached.
const schema = buildSchema('type Query { ok: Boolean } type Subscription { myOrderUpdates(after: String): Boolean }');

type Outcome =
  | { kind: 'open'; ws: WebSocket }
  | { kind: 'closed'; code: number; reason: string }
  | { kind: 'http'; status: number; retryAfter?: string; body: string };

/** A socket from `address`: acknowledged after connection_init, closed by the server, or refused at the upgrade. */
function connect(port: number, address: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/graphql`, 'graphql-transport-ws', { localAddress: address });
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init' })));
    ws.on('message', (m) => JSON.parse(m.toString()).type === 'connection_ack' && resolve({ kind: 'open', ws }));
    ws.on('close', (code, reason) => resolve({ kind: 'closed', code, reason: reason.toString() }));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () =>
        resolve({ kind: 'http', status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body }),
      );
    });
    ws.on('error', () => {});
  });
}

describe('the subscription server at the upgrade', () => {
  let server: Server;
  let subscriptions: ReturnType<typeof createSubscriptionServer>;
  const open: WebSocket[] = [];

  async function start(extra: Partial<SubscriptionServerOptions>) {
    server = createServer((_req, res) => res.writeHead(404).end());
    subscriptions = createSubscriptionServer({
      httpServer: server,
      path: '/graphql',
      hub: {} as EventHub,
      log: createLogger('test', 'silent'),
      schema: () => schema,
      execute: async () => ({ data: null }),
      authenticate: async () => ({ viewer: null }),
      ...extra,
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  }
  const keep = (o: Outcome) => {
    if (o.kind === 'open') open.push(o.ws);
    return o;
  };

  afterEach(async () => {
    for (const ws of open.splice(0)) ws.terminate();
    await subscriptions?.close();
    await new Promise((r) => server.close(r));
  });

  it('closes a socket past the per-address cap with 4029 and a reason; other addresses and freed slots are admitted', async () => {
    const port = await start({ limits: { perAddress: 2 } });
    expect(keep(await connect(port, '127.0.0.3')).kind).toBe('open');
    expect(keep(await connect(port, '127.0.0.3')).kind).toBe('open');
    expect(await connect(port, '127.0.0.3')).toEqual({
      kind: 'closed',
      code: 4029,
      reason: 'Too many connections from your address (at most 2); close one or retry later',
    });
    expect(keep(await connect(port, '127.0.0.2')).kind).toBe('open');
    open[0].close();
    await new Promise((r) => open[0].once('close', r));
    await new Promise((r) => setTimeout(r, 50));
    expect(keep(await connect(port, '127.0.0.3')).kind).toBe('open');
  });

  it('takes a token of the per-address bucket for each upgrade, and refuses an empty bucket with HTTP 429 before any socket', async () => {
    const port = await start({ upgradeLimit: { limiter: createRateLimiter(), perMinute: 2 } });
    expect(keep(await connect(port, '127.0.0.3')).kind).toBe('open');
    expect(keep(await connect(port, '127.0.0.3')).kind).toBe('open');
    const refused = await connect(port, '127.0.0.3');
    expect(refused).toMatchObject({ kind: 'http', status: 429, retryAfter: '30' });
    expect(JSON.parse((refused as { body: string }).body)).toEqual({
      errors: [{ message: 'Rate limit exceeded; retry in 30 s', extensions: { code: 'RATE_LIMITED', retryAfter: 30 } }],
    });
    expect(keep(await connect(port, '127.0.0.2')).kind).toBe('open');
  });

  it('counts the address the gateway says is the client’s (TRUST_PROXY), IPv6 per /64', async () => {
    const port = await start({
      limits: { perAddress: 1 },
      clientAddress: (req) => String(req.headers['x-test-client'] ?? req.socket.remoteAddress),
    });
    const from = (client: string) =>
      new Promise<Outcome>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/graphql`, 'graphql-transport-ws', {
          headers: { 'x-test-client': client },
        });
        ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init' })));
        ws.on('message', () => resolve(keep({ kind: 'open', ws })));
        ws.on('close', (code, reason) => resolve({ kind: 'closed', code, reason: reason.toString() }));
      });
    expect((await from('203.0.113.7')).kind).toBe('open');
    expect((await from('203.0.113.8')).kind).toBe('open');
    expect(await from('203.0.113.7')).toMatchObject({ kind: 'closed', code: 4029 });
    // IPv6: one /64 is one client, as for the HTTP connection cap.
    expect((await from('2001:db8:1:2::1')).kind).toBe('open');
    expect(await from('2001:db8:1:2::ffff')).toMatchObject({ kind: 'closed', code: 4029 });
    expect((await from('2001:db8:1:3::1')).kind).toBe('open');
  });

  it('closes a socket that sends no connection_init within 5 s with 4408', { timeout: 15_000 }, async () => {
    const port = await start({});
    const ws = new WebSocket(`ws://127.0.0.1:${port}/graphql`, 'graphql-transport-ws');
    const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    expect(closed).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
  });

  it('answers an upgrade on another path with 404 and no socket', async () => {
    const port = await start({});
    const outcome = await new Promise<Outcome>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/elsewhere`);
      ws.on('unexpected-response', (_req, res) => resolve({ kind: 'http', status: res.statusCode ?? 0, body: '' }));
      ws.on('error', () => {});
    });
    expect(outcome).toMatchObject({ kind: 'http', status: 404 });
  });
});
