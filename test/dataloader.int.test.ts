import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLACE_ORDER, buildOrderInput, createProduct, startSystem, type System } from './support/system.ts';

/** SQL statements the products subgraph ran that read the products table. */
const productReads = (log: string[]) => log.filter((sql) => /^SELECT .* FROM "public"\."products"/s.test(sql));

describe('Order.items.product through DataLoader', () => {
  let system: System;
  const queries: string[] = [];
  beforeAll(async () => {
    system = await startSystem({ productQueries: (sql) => queries.push(sql) });
  });
  afterAll(async () => system?.stop());

  it('resolves every product of every order in one batched SQL query per request', async () => {
    const products = await Promise.all(
      Array.from({ length: 6 }, (_, i) => createProduct(system, { name: `Loader ${i}`, initialStock: 100 })),
    );
    const customer = await system.signUpCustomer('loader');
    for (let o = 0; o < 4; o++) {
      const items = products.slice(o, o + 3).map((p) => ({ productId: p.id, quantity: 1 }));
      const res = await system.graphql(PLACE_ORDER, { input: buildOrderInput({ items }) }, customer.headers);
      expect(res.data.placeOrder.__typename).toBe('OrderPlaced');
    }

    queries.length = 0;
    const res = await system.graphql(
      `{ myOrders(first: 10) { totalCount edges { node { id items { quantity product { id name price { amount } availableQuantity } } } } } }`,
      {},
      customer.headers,
    );
    expect(res.errors).toBeUndefined();
    const orders = res.data.myOrders.edges.map((e: any) => e.node);
    expect(orders).toHaveLength(4);
    const names = orders.flatMap((o: any) => o.items.map((i: any) => i.product.name));
    expect(names).toHaveLength(12);
    expect(new Set(names).size).toBe(6);
    expect(productReads(queries)).toHaveLength(1);
  });

  it('needs one query for a single order too', async () => {
    const p = await Promise.all([createProduct(system, { name: 'One' }), createProduct(system, { name: 'Two' })]);
    const single = await system.signUpCustomer('single');
    const placed = await system.graphql(
      PLACE_ORDER,
      { input: buildOrderInput({ items: p.map((x) => ({ productId: x.id, quantity: 1 })) }) },
      single.headers,
    );
    queries.length = 0;
    const res = await system.graphql(
      `query($id: ID!) { order(id: $id) { items { product { name } } } }`,
      { id: placed.data.placeOrder.order.id },
      single.headers,
    );
    expect(res.data.order.items.map((i: any) => i.product.name)).toEqual(['One', 'Two']);
    expect(productReads(queries)).toHaveLength(1);
  });
});
