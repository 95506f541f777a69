import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { addressKey, createConnectionLimit } from './connection-limit.ts';

describe('addressKey', () => {
  it('counts IPv4 addresses one by one, IPv4-mapped ones as IPv4, and IPv6 by /64', () => {
    expect(addressKey('127.0.0.3')).toBe('127.0.0.3');
    expect(addressKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(addressKey('2001:db8:0:1:aaaa::1')).toBe('2001:db8:0:1::/64');
    expect(addressKey('2001:db8:0:1:ffff:ffff:ffff:ffff')).toBe('2001:db8:0:1::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey(undefined)).toBe('unknown');
  });
});

describe('connection limit', () => {
  let server: Server;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  async function start(maxPerAddress: number) {
    const limit = createConnectionLimit({ maxPerAddress, retryAfterSeconds: 2 });
    let served = 0;
    server = createServer((req, res) => {
      if (limit.isRefused(req)) return;
      served++;
      res.end('ok');
    });
    limit.attach(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { limit, port: (server.address() as AddressInfo).port, served: () => served };
  }

  const open = (port: number, localAddress: string) =>
    new Promise<Socket>((resolve) => {
      const s = connect({ host: '127.0.0.1', port, localAddress }, () => resolve(s));
      sockets.push(s);
    });
  const get = (port: number, localAddress: string) =>
    new Promise<{ status: number; retryAfter?: string; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, localAddress, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string, body }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  const until = async (check: () => boolean) => {
    for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(check()).toBe(true);
  };

  it('refuses connections past the cap of one address with 429, and serves other addresses', async () => {
    const { limit, port, served } = await start(3);
    for (let i = 0; i < 3; i++) await open(port, '127.0.0.3');
    await until(() => limit.openFrom('127.0.0.3') === 3);

    const refused = await get(port, '127.0.0.3');
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe('2');
    expect(JSON.parse(refused.body)).toEqual({
      errors: [
        {
          message: 'Too many connections from your address; at most 3 at once',
          extensions: { code: 'RATE_LIMITED', retryAfter: 2 },
        },
      ],
    });
    expect(served()).toBe(0);
    expect(await get(port, '127.0.0.2')).toMatchObject({ status: 200, body: 'ok' });

    // A closed connection gives its place back.
    sockets[0].destroy();
    await until(() => limit.openFrom('127.0.0.3') === 2);
    expect(await get(port, '127.0.0.3')).toMatchObject({ status: 200, body: 'ok' });
  });

  it('does nothing with a cap of 0', async () => {
    const { limit, port } = await start(0);
    for (let i = 0; i < 5; i++) await open(port, '127.0.0.3');
    expect(await get(port, '127.0.0.3')).toMatchObject({ status: 200 });
    expect(limit.openFrom('127.0.0.3')).toBe(0);
  });
});
