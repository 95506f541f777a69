import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PLACE_ORDER,
  buildOrderInput,
  createProduct,
  eventually,
  startSystem,
  stockOf,
  type Customer,
  type Headers,
  type System,
} from './support/system.ts';

const CREATE_PRODUCT = `mutation($input: CreateProductInput!) { createProduct(input: $input) { id price { amount } } }`;

/**
 * Money columns are integers of cents (at most 21474836.47). Prices and order
 * totals are bounded (MAX_PRICE_CENTS, MAX_ORDER_TOTAL_CENTS, both 999999.99 by default)
 * so that nothing stored can overflow: too much is the caller's mistake, never
 * a 500.
 */
describe('money bounds', () => {
  let system: System;
  let operator: Headers;
  let customer: Customer;

  beforeAll(async () => {
    system = await startSystem();
    operator = await system.operatorHeaders();
    customer = await system.signUpCustomer('money');
  });
  afterAll(async () => system?.stop());

  it.each(['99999999.99', '21474836.48', '1000000.00'])(
    'createProduct with price %s is BAD_USER_INPUT and creates nothing',
    async (price) => {
      const sku = `HUGE-${randomBytes(4).toString('hex')}`;
      const res = await system.graphql(
        CREATE_PRODUCT,
        { input: { sku, name: 'Yacht', price, initialStock: 1 } },
        operator,
      );
      expect(res.data?.createProduct ?? null).toBeNull();
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors![0].message).toBe('Price must be at most 999999.99');
      expect(await system.products.db.product.count({ where: { sku } })).toBe(0);
    },
  );

  it('an order of the most lines, each of the most units, totals exactly', async () => {
    // 50 lines × 1000 units × 19.99 = 999500.00: the largest order shape, just under the total's bound.
    const products = [];
    for (let i = 0; i < 50; i++) products.push(await createProduct(system, { price: '19.99', initialStock: 1000 }));
    const res = await system.graphql(
      PLACE_ORDER,
      { input: buildOrderInput({ items: products.map((p) => ({ productId: p.id, quantity: 1000 })) }) },
      customer.headers,
    );
    expect(res.errors).toBeUndefined();
    const order = res.data.placeOrder.order;
    expect(res.data.placeOrder.__typename).toBe('OrderPlaced');
    expect(order.totalAmount).toEqual({ amount: '999500.00', currencyCode: 'USD' });
    expect(order.items).toHaveLength(50);
    for (const item of order.items) expect(item.lineTotal.amount).toBe('19990.00');
  });

  it('an order at the maximum price totals exactly and is paid that amount; one unit more is InvalidOrder and holds nothing', async () => {
    const max = await createProduct(system, { price: '999999.99', initialStock: 5 });
    expect(max.price.amount).toBe('999999.99');

    const over = await system.graphql(
      PLACE_ORDER,
      { input: buildOrderInput({ items: [{ productId: max.id, quantity: 2 }] }) },
      customer.headers,
    );
    expect(over.errors).toBeUndefined();
    expect(over.data.placeOrder).toEqual({
      __typename: 'InvalidOrder',
      field: 'items',
      message: 'The order total 1999999.98 USD is over the maximum of 999999.99 USD per order',
    });
    // The reservation taken to learn the prices is released before the answer.
    expect(await stockOf(system, max.id)).toEqual({ available: 5, reserved: 0, sold: 0, stocked: 5 });

    const placed = await system.graphql(
      PLACE_ORDER,
      { input: buildOrderInput({ items: [{ productId: max.id, quantity: 1 }] }) },
      customer.headers,
    );
    expect(placed.errors).toBeUndefined();
    const order = placed.data.placeOrder.order;
    expect(order.totalAmount.amount).toBe('999999.99');
    const payment = await eventually(async () => {
      const p = await system.orders.db.payment.findFirst({ where: { orderId: order.id } });
      return p?.status === 'SUCCEEDED' ? p : null;
    });
    expect(payment.amountCents).toBe(99_999_999);
    expect(await system.orders.db.order.count({ where: { customerId: customer.id } })).toBe(2);
  });
});
