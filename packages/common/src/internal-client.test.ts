import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { INTERNAL_TOKEN_HEADER, createInternalAuth } from './internal-auth.ts';
import { createInternalClient } from './subgraph-server.ts';

const internalAuth = createInternalAuth({ secret: 'x'.repeat(32), issuer: 'test' });
let server: Server | undefined;

async function serve(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<string> {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => handler(req, body, res));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(null));
  server = undefined;
});

describe('internal client', () => {
  it('posts JSON with the service credential and returns the status and JSON answer, on one kept-alive connection', async () => {
    const seen: { path?: string; token?: string; body: unknown; socketPort: number }[] = [];
    const baseUrl = await serve((req, body, res) => {
      seen.push({
        path: req.url,
        token: req.headers[INTERNAL_TOKEN_HEADER] as string,
        body: JSON.parse(body),
        socketPort: req.socket.remotePort!,
      });
      res.writeHead(409, { 'content-type': 'application/json' }).end(JSON.stringify({ reason: 'taken' }));
    });
    const client = createInternalClient({ baseUrl, internalAuth, service: 'orders', scopes: ['internal:inventory'] });
    expect(await client.post('/reservations', { orderId: 'a' })).toEqual({ status: 409, body: { reason: 'taken' } });
    expect(await client.post('/reservations', { orderId: 'b' })).toEqual({ status: 409, body: { reason: 'taken' } });
    expect(seen.map((s) => [s.path, s.body])).toEqual([
      ['/internal/reservations', { orderId: 'a' }],
      ['/internal/reservations', { orderId: 'b' }],
    ]);
    expect((await internalAuth.verify(seen[0].token))?.clientId).toBe('orders');
    expect(seen[1].socketPort).toBe(seen[0].socketPort);
    client.close();
  });

  it('gives up after its timeout when the sibling never answers', async () => {
    const baseUrl = await serve(() => {}); // reads the request, never answers
    const client = createInternalClient({ baseUrl, internalAuth, service: 'orders', scopes: [], timeoutMs: 300 });
    const started = Date.now();
    await expect(client.post('/reservations', {})).rejects.toThrow(
      /no answer from \/internal\/reservations within 300 ms/,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    client.close();
  });

  it('answers a body that is not JSON with a null body and its status', async () => {
    const baseUrl = await serve((_req, _body, res) => res.writeHead(502).end('<html>bad gateway</html>'));
    const client = createInternalClient({ baseUrl, internalAuth, service: 'orders', scopes: [] });
    expect(await client.post('/x', {})).toEqual({ status: 502, body: null });
    client.close();
  });

  it('rejects when nothing listens', async () => {
    const baseUrl = await serve(() => {});
    await new Promise((r) => server!.close(r));
    server = undefined;
    const client = createInternalClient({ baseUrl, internalAuth, service: 'orders', scopes: [] });
    await expect(client.post('/x', {})).rejects.toThrow(/ECONNREFUSED/);
  });
});
