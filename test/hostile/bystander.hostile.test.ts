import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type System } from '../support/system.ts';
import { ATTACKER, BYSTANDER, graphqlFrom, startBystander, expectServed } from './support/bystander.ts';

/** The harness itself: with no attack the honest client is served, and both loopback aliases reach the gateway. */
describe('the hostile suite’s honest client', () => {
  let system: System;
  beforeAll(async () => {
    system = await startSystem();
  });
  afterAll(() => system?.stop());

  it('reaches the gateway from both loopback aliases', async () => {
    for (const address of [ATTACKER, BYSTANDER]) {
      const res = await graphqlFrom(address, system, '{ products(first: 1) { edges { node { id } } } }');
      expect(res.status).toBe(200);
      expect(res.json.data.products.edges).toBeInstanceOf(Array);
    }
  });

  it('reads, and gets its live order updates, when nobody attacks', async () => {
    const bystander = await startBystander(system);
    await new Promise((r) => setTimeout(r, 3_000));
    expectServed(await bystander.stop(), 'no attack');
  });
});
