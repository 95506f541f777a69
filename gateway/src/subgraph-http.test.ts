import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSubgraphFetcher } from './subgraph-http.ts';

/** A real HTTP server that misbehaves as told, and the sockets it holds open. */
async function startSubgraph(behaviour: 'hang' | 'half' | 'answer') {
  const open = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    req.resume();
    if (behaviour === 'answer') return void res.setHeader('content-type', 'application/json').end('{"data":{}}');
    // 'half': the status and the first bytes of the body, then nothing.
    if (behaviour === 'half') res.writeHead(200, { 'content-type': 'application/json' }).write('{"data":');
  });
  server.on('connection', (s: Socket) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, open, server };
}

describe('subgraph fetcher', () => {
  const servers: Server[] = [];
  const fetcher = createSubgraphFetcher({ timeoutMs: 300 });
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  const post = (url: string) =>
    fetcher(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{a}"}' });

  for (const behaviour of ['hang', 'half'] as const) {
    it(`gives up on a subgraph that ${behaviour === 'hang' ? 'never answers' : 'stops mid-body'} and destroys the socket`, async () => {
      const subgraph = await startSubgraph(behaviour);
      servers.push(subgraph.server);
      const started = performance.now();
      const failure = await post(subgraph.url).then(
        () => null,
        (err: Error) => err,
      );
      const ms = performance.now() - started;
      expect(failure?.message).toMatch(/no answer from \/graphql within 300 ms|aborted|socket hang up/);
      // Generous: only a call that waited for ever (or for the client's deadline) fails this.
      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThan(5_000);
      // The connection is closed, not parked in the keep-alive pool.
      for (let i = 0; i < 100 && subgraph.open.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(subgraph.open.size).toBe(0);
    });
  }

  it('answers normally within the deadline, keeping the connection for the next call', async () => {
    const subgraph = await startSubgraph('answer');
    servers.push(subgraph.server);
    const res = await post(subgraph.url);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: {} });
    // Past the deadline of the first call: an answered call leaves no timer behind that would cut the socket.
    await new Promise((r) => setTimeout(r, 400));
    expect(subgraph.open.size).toBe(1);
    expect((await post(subgraph.url)).status).toBe(200);
  });
});
