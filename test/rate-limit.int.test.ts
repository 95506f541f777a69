import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startSystem, type System } from './support/system.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The gateway's token buckets with small limits: per client (the token's
 * rate_limit claim, from the client's registration) and per IP for calls
 * without a valid token, GraphQL and /oauth alike.
 */
describe('rate limits', () => {
  let system: System;
  const ME = '{ me { id } }';

  beforeAll(async () => {
    system = await startSystem({
      env: { ANONYMOUS_RATE_LIMIT_PER_MINUTE: '20', OAUTH_CLIENT_RATE_LIMITS: 'delivery-partner=30' },
    });
  });
  afterAll(async () => system?.stop());

  it('limits anonymous calls per IP with RATE_LIMITED and retryAfter, /oauth with 429, and recovers', async () => {
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 30 }, () => system.graphql('{ products(first: 1) { totalCount } }')),
    );
    const limited = results.filter((r) => r.errors?.[0]?.extensions?.code === 'RATE_LIMITED');
    // 20 at once, plus one per 3 s that the burst took to get through (a busy machine).
    expect(results.length - limited.length).toBeGreaterThanOrEqual(20);
    expect(results.length - limited.length).toBeLessThanOrEqual(20 + Math.ceil((Date.now() - started) / 3000));
    expect(limited.length).toBeGreaterThanOrEqual(1);
    // 20 a minute: one every 3 s.
    expect(limited[0]).toMatchObject({
      status: 200,
      errors: [
        {
          message: expect.stringMatching(/Rate limit exceeded/),
          extensions: { code: 'RATE_LIMITED', retryAfter: expect.any(Number) },
        },
      ],
    });
    const retryAfter = limited[0].errors![0].extensions!.retryAfter as number;
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3);

    // The OAuth endpoints share the IP's budget, with HTTP 429 and Retry-After.
    const token = await system.oauth(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { basic: ['delivery-partner', 'delivery-partner-dev-secret'] },
    );
    expect(token.status).toBe(429);
    expect(token.body).toEqual({ error: 'rate_limited', error_description: expect.any(String) });
    expect(Number(token.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    // A refused token costs the IP's budget too (guessing tokens is not free).
    expect((await system.graphql(ME, {}, { authorization: 'Bearer guess' })).errors?.[0].extensions?.code).toBe(
      'RATE_LIMITED',
    );

    await sleep(3_100);
    const again = await system.graphql('{ products(first: 1) { totalCount } }');
    expect(again.errors).toBeUndefined();
  });

  it('limits a client at its registered rate (the token’s rate_limit claim), and recovers', async () => {
    await sleep(6_100); // two IP tokens: one for /oauth/token, one for the anonymous call below
    const token = await system.clientToken('delivery-partner');
    expect(decodeJwt(token).rate_limit).toBe(30);
    const headers = bearer(token);
    // The whole minute's budget at once is allowed, then one every 2 s.
    const started = Date.now();
    const burst = await Promise.all(Array.from({ length: 40 }, () => system.graphql(ME, {}, headers)));
    const passed = burst.filter((r) => !r.errors);
    expect(passed.length).toBeGreaterThanOrEqual(30);
    expect(passed.length).toBeLessThanOrEqual(30 + Math.ceil((Date.now() - started) / 2000));
    const limited = burst.find((r) => r.errors)!;
    expect(limited.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: expect.any(Number) });
    const retryAfter = limited.errors![0].extensions!.retryAfter as number;
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);
    // Token holders are not counted against the IP: anonymous calls still pass.
    expect((await system.graphql('{ products(first: 1) { totalCount } }')).errors).toBeUndefined();

    // Recovers: within a few refills after Retry-After (late requests of the burst may take the first ones).
    await sleep(retryAfter * 1000 + 100);
    let recovered = await system.graphql(ME, {}, headers);
    for (let i = 0; i < 5 && recovered.errors; i++) {
      expect(recovered.errors[0].extensions?.code).toBe('RATE_LIMITED');
      await sleep(2_100);
      recovered = await system.graphql(ME, {}, headers);
    }
    expect(recovered.data.me.id).toBe('delivery-partner');
  });
});
