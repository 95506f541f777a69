import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@orderflow/common/observability';
import { freePort } from '@orderflow/devstack';
import { loadConfig as gatewayConfig } from '../../gateway/src/config.ts';
import { startGateway } from '../../gateway/src/server.ts';
import { startSystem, type System } from '../support/system.ts';
import { ATTACKER, expectServed, requestFrom, startBystander } from './support/bystander.ts';

const PER_MINUTE = 120;

/**
 * A flood of anonymous requests from one address spread over two gateway
 * instances (as a balancer would): the per-address bucket is shared in NATS
 * KV, so the attacker gets one limit, not one per gateway, while a client at
 * another address is served throughout.
 */
describe('rate-limit abuse across gateway instances', () => {
  let system: System;
  let second: Awaited<ReturnType<typeof startGateway>>;

  beforeAll(async () => {
    system = await startSystem({ env: { ANONYMOUS_RATE_LIMIT_PER_MINUTE: String(PER_MINUTE) } });
    second = await startGateway(gatewayConfig({ ...system.env, PORT: String(await freePort()) }), {
      log: createLogger('gateway-2', 'silent'),
    });
  });
  afterAll(async () => {
    await second?.stop();
    await system?.stop();
  });

  it('holds one address to its limit across both gateways; another address is still served', async () => {
    // The bystander reads the catalog anonymously about once a second: well under its own address's limit.
    const bystander = await startBystander(system, { intervalMs: 500 });
    const gateways = [system.gatewayUrl, second.url];
    const started = Date.now();
    const statuses: { gateway: number; code: string }[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < 600) {
          const gateway = next++ % 2;
          const res = await requestFrom(ATTACKER, `${gateways[gateway]}/graphql`, {
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query: '{ products(first: 1) { totalCount } }' }),
          });
          statuses.push({
            gateway,
            code: res.json?.errors?.[0]?.extensions?.code ?? (res.json?.data ? 'ok' : 'other'),
          });
        }
      }),
    );
    const elapsedS = (Date.now() - started) / 1000;
    const served = statuses.filter((s) => s.code === 'ok');
    const perGateway = [0, 1].map((g) => served.filter((s) => s.gateway === g).length);
    console.log(
      `attacker at ${PER_MINUTE}/min over two gateways: ${served.length} of 600 served in ${elapsedS.toFixed(1)} s ` +
        `(gateway 1: ${perGateway[0]}, gateway 2: ${perGateway[1]})`,
    );
    expect(statuses.filter((s) => s.code !== 'ok' && s.code !== 'RATE_LIMITED')).toEqual([]);
    // One limit, not two: the burst, the refill during the attack (2/s), one unspent lease (2) per gateway.
    expect(served.length).toBeGreaterThanOrEqual(PER_MINUTE - 2);
    expect(served.length).toBeLessThanOrEqual(PER_MINUTE + Math.ceil(elapsedS * 2) + 4);
    expect(perGateway.every((n) => n > 0)).toBe(true);
    expectServed(await bystander.stop(), 'anonymous flood over two gateways');
  });
});
