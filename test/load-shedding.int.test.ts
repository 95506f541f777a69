import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type System } from './support/system.ts';

/**
 * The gateway's admission control with a tiny limit (2 requests at once):
 * a burst beyond it is refused at once with 503 + Retry-After and a GraphQL
 * SERVICE_UNAVAILABLE error, nothing hangs, and capacity comes back after
 * the burst — also for requests whose clients gave up mid-way.
 */
describe('load shedding at the gateway', () => {
  let system: System;
  const QUERY = '{ products(first: 20) { totalCount edges { node { id name price { amount } } } } }';
  const post = (signal?: AbortSignal) =>
    fetch(`${system.gatewayUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: QUERY }),
      signal,
    });

  beforeAll(async () => {
    system = await startSystem({ env: { MAX_IN_FLIGHT_REQUESTS: '2' } });
  });
  afterAll(async () => system?.stop());

  it('refuses what exceeds the limit at once, with 503, Retry-After and SERVICE_UNAVAILABLE', async () => {
    const responses = await Promise.all(Array.from({ length: 30 }, () => post()));
    const bodies = await Promise.all(
      responses.map(async (r) => ({
        status: r.status,
        retryAfter: r.headers.get('retry-after'),
        body: await r.json(),
      })),
    );
    const served = bodies.filter((b) => b.status === 200);
    const shed = bodies.filter((b) => b.status === 503);
    expect(served.length + shed.length).toBe(30);
    expect(served.length).toBeGreaterThanOrEqual(2);
    expect(shed.length).toBeGreaterThanOrEqual(1);
    for (const s of served) expect(s.body.errors).toBeUndefined();
    expect(shed[0]).toEqual({
      status: 503,
      retryAfter: '1',
      body: {
        errors: [
          {
            message: 'The service is overloaded; retry in 1 s',
            extensions: { code: 'SERVICE_UNAVAILABLE', retryAfter: 1 },
          },
        ],
      },
    });
  });

  it('gives the capacity back, after answered and abandoned requests alike', async () => {
    // Two clients give up before their answers: their slots must not stay taken.
    const aborted = Array.from({ length: 2 }, () => new AbortController());
    const pending = aborted.map((c) => post(c.signal).catch(() => null));
    aborted.forEach((c) => c.abort());
    await Promise.all(pending);
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 5; i++) {
      const r = await post();
      expect(r.status).toBe(200);
      expect((await r.json()).errors).toBeUndefined();
    }
  });
});
