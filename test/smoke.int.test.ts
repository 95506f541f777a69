import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLACE_ORDER, buildOrderInput, createProduct, startSystem, type System } from './support/system.ts';

describe('smoke', () => {
  let system: System;
  beforeAll(async () => {
    system = await startSystem();
  });
  afterAll(async () => system?.stop());

  it('places an order', async () => {
    const p = await createProduct(system, { initialStock: 5 });
    const customer = await system.signUpCustomer('smoke');
    const res = await system.graphql(
      PLACE_ORDER,
      { input: buildOrderInput({ items: [{ productId: p.id, quantity: 2 }] }) },
      customer.headers,
    );
    console.log(JSON.stringify(res, null, 1));
    expect(res.data.placeOrder.__typename).toBe('OrderPlaced');
  });
});
