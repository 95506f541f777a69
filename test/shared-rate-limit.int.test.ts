import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@orderflow/common/observability';
import { freePort } from '@orderflow/devstack';
import { loadConfig as gatewayConfig } from '../gateway/src/config.ts';
import { startGateway } from '../gateway/src/server.ts';
import { bearer, startSystem, type System } from './support/system.ts';

type Gateway = Awaited<ReturnType<typeof startGateway>>;

/**
 * Two gateway instances over the same subgraphs and NATS, as behind a load
 * balancer: a client's token bucket is in the shared NATS KV bucket, so
 * spreading its requests over both gateways does not double its limit.
 */
describe('rate limits with two gateways', () => {
  let system: System;
  let second: Gateway;
  const ME = '{ me { id } }';

  beforeAll(async () => {
    system = await startSystem({ env: { OAUTH_CLIENT_RATE_LIMITS: 'delivery-partner=40' } });
    second = await startGateway(gatewayConfig({ ...system.env, PORT: String(await freePort()) }), {
      log: createLogger('gateway-2', 'silent'),
    });
  });
  afterAll(async () => {
    await second?.stop();
    await system?.stop();
  });

  const post = async (url: string, headers: Record<string, string>) => {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: ME }),
    });
    return (await res.json()) as { data?: { me: { id: string } }; errors?: { extensions?: Record<string, unknown> }[] };
  };

  it('holds one client to its limit across both gateways', async () => {
    const headers = bearer(await system.clientToken('delivery-partner'));
    const gateways = [system.gatewayUrl, second.url];
    const started = Date.now();
    // 80 requests, alternating between the gateways, 8 at a time.
    const results: { gateway: number; ok: boolean; code?: unknown }[] = [];
    for (let i = 0; i < 80; i += 8) {
      const batch = await Promise.all(
        Array.from({ length: 8 }, async (_, j) => {
          const gateway = (i + j) % 2;
          const r = await post(gateways[gateway], headers);
          return { gateway, ok: r.data?.me.id === 'delivery-partner', code: r.errors?.[0]?.extensions?.code };
        }),
      );
      results.push(...batch);
    }
    const elapsedS = (Date.now() - started) / 1000;
    const passed = results.filter((r) => r.ok);
    const perGateway = [0, 1].map((g) => passed.filter((r) => r.gateway === g).length);
    console.log(
      `delivery-partner at 40/min over two gateways: ${passed.length} of 80 passed in ${elapsedS.toFixed(1)} s ` +
        `(gateway 1: ${perGateway[0]}, gateway 2: ${perGateway[1]})`,
    );
    // Per-instance buckets would let 80 through (40 on each); shared, 40 plus the refill (one per 1.5 s)
    // and at most one unspent lease per gateway (1 token at 40/min).
    expect(passed.length).toBeGreaterThanOrEqual(39);
    expect(passed.length).toBeLessThanOrEqual(40 + Math.ceil(elapsedS / 1.5) + 2);
    expect(perGateway.every((n) => n > 0)).toBe(true);
    expect(results.filter((r) => !r.ok).every((r) => r.code === 'RATE_LIMITED')).toBe(true);
  });
});
