import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PLACE_ORDER,
  buildOrderInput,
  createProduct,
  startSystem,
  stockOf,
  type Customer,
  type Headers,
  type System,
} from './support/system.ts';

/** Nothing in a response may reveal internals. */
function expectNoLeak(body: unknown) {
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/stacktrace|\s+at\s+\S+\s+\(|SELECT|INSERT|prisma|127\.0\.0\.1|localhost|:400[0-9]/i);
}

describe('bad input gets a clear error and changes nothing', () => {
  let system: System;
  let product: { id: string };
  let inactive: { id: string };
  let customer: Customer;
  let operator: Headers;

  beforeAll(async () => {
    system = await startSystem();
    customer = await system.signUpCustomer('bad-input');
    operator = await system.operatorHeaders();
    product = await createProduct(system, { initialStock: 20 });
    inactive = await createProduct(system, { initialStock: 20 });
    await system.products.db.product.update({ where: { id: inactive.id }, data: { isActive: false } });
  });
  afterAll(async () => system?.stop());

  async function expectNothingWritten() {
    expect(await stockOf(system, product.id)).toEqual({ available: 20, reserved: 0, sold: 0, stocked: 20 });
    expect(await system.orders.db.order.count({ where: { customerId: customer.id } })).toBe(0);
    expect(await system.products.db.stockMovement.count()).toBe(0);
    expect(await system.products.db.reservation.count()).toBe(0);
  }

  const line = (quantity: number) => [{ productId: product.id, quantity }];
  const address = buildOrderInput().shippingAddress;

  const invalidOrders: [string, () => ReturnType<typeof buildOrderInput>, string][] = [
    ['quantity 0', () => buildOrderInput({ items: line(0) }), 'items[0].quantity'],
    ['negative quantity', () => buildOrderInput({ items: line(-4) }), 'items[0].quantity'],
    ['quantity over 1000', () => buildOrderInput({ items: line(1001) }), 'items[0].quantity'],
    ['no lines', () => buildOrderInput({ items: [] }), 'items'],
    [
      '51 lines',
      () => buildOrderInput({ items: Array.from({ length: 51 }, () => ({ productId: randomUUID(), quantity: 1 })) }),
      'items',
    ],
    ['the same product twice', () => buildOrderInput({ items: [...line(1), ...line(2)] }), 'items[1].productId'],
    [
      'an unknown product',
      () => buildOrderInput({ items: [...line(1), { productId: randomUUID(), quantity: 1 }] }),
      'items[1].productId',
    ],
    [
      'an inactive product',
      () => buildOrderInput({ items: [{ productId: inactive.id, quantity: 1 }] }),
      'items[0].productId',
    ],
    [
      'a malformed product id',
      () => buildOrderInput({ items: [{ productId: 'abc', quantity: 1 }] }),
      'items[0].productId',
    ],
    ['a 7-character key', () => buildOrderInput({ idempotencyKey: 'k'.repeat(7), items: line(1) }), 'idempotencyKey'],
    [
      'a 129-character key',
      () => buildOrderInput({ idempotencyKey: 'k'.repeat(129), items: line(1) }),
      'idempotencyKey',
    ],
    [
      'an empty address name',
      () => buildOrderInput({ items: line(1), shippingAddress: { ...address, name: ' ' } }),
      'shippingAddress.name',
    ],
    [
      'an empty city',
      () => buildOrderInput({ items: line(1), shippingAddress: { ...address, city: '' } }),
      'shippingAddress.city',
    ],
    [
      'a country that is not ISO alpha-2',
      () => buildOrderInput({ items: line(1), shippingAddress: { ...address, country: 'UK' } }),
      'shippingAddress.country',
    ],
    [
      'a three-letter country',
      () => buildOrderInput({ items: line(1), shippingAddress: { ...address, country: 'GBR' } }),
      'shippingAddress.country',
    ],
    [
      'a 10,000-character street',
      () => buildOrderInput({ items: line(1), shippingAddress: { ...address, line1: 'x'.repeat(10_000) } }),
      'shippingAddress.line1',
    ],
    [
      'a huge payment token',
      () => buildOrderInput({ items: line(1), paymentToken: 't'.repeat(5_000) }),
      'paymentToken',
    ],
  ];

  it.each(invalidOrders)('placeOrder with %s is InvalidOrder', async (_name, build, field) => {
    const input = build();
    const res = await system.graphql(PLACE_ORDER, { input }, customer.headers);
    expect(res.errors).toBeUndefined();
    expect(res.data.placeOrder).toMatchObject({ __typename: 'InvalidOrder', field });
    expect(res.data.placeOrder.message.length).toBeGreaterThan(5);
    await expectNothingWritten();
  });

  it.each([
    [
      'a fractional quantity',
      () => ({ ...buildOrderInput({ items: line(1) }), items: [{ productId: randomUUID(), quantity: 1.5 }] }),
    ],
    [
      'a missing address field',
      () => ({
        ...buildOrderInput({ items: line(1) }),
        shippingAddress: { name: 'A', line1: 'B', city: 'C', country: 'FR' },
      }),
    ],
    ['a missing payment token', () => (({ paymentToken: _, ...rest }) => rest)(buildOrderInput({ items: line(1) }))],
  ] as [string, () => unknown][])('placeOrder with %s is BAD_USER_INPUT', async (_name, build) => {
    const input = build();
    const res = await system.graphql(PLACE_ORDER, { input }, customer.headers);
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expectNoLeak(res);
    await expectNothingWritten();
  });

  it('placeOrder without a customer is UNAUTHENTICATED', async () => {
    const res = await system.graphql(PLACE_ORDER, { input: buildOrderInput({ items: line(1) }) });
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    await expectNothingWritten();
  });

  const CREATE = `mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`;
  it.each([
    ['price 0', { price: '0' }, 'price'],
    ['a negative price', { price: '-5.00' }, 'price'],
    ['a float-looking price', { price: '1.999' }, 'price'],
    ['a price that is not a number', { price: 'free' }, 'price'],
    ['negative stock', { initialStock: -1 }, 'initialStock'],
    ['a 300-character name', { name: 'n'.repeat(300) }, 'name'],
    ['a SKU with spaces', { sku: 'A B' }, 'sku'],
  ])('createProduct with %s is BAD_USER_INPUT on its field', async (_name, patch, field) => {
    const input = { sku: `BAD-${randomUUID().slice(0, 8)}`, name: 'Bad', price: '1.00', initialStock: 1, ...patch };
    const res = await system.graphql(CREATE, { input }, operator);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await system.products.db.product.count({ where: { sku: input.sku } })).toBe(0);
  });

  it('createProduct refuses a duplicate SKU', async () => {
    const sku = `DUP-${randomUUID().slice(0, 8)}`;
    await createProduct(system, { sku });
    const res = await system.graphql(
      CREATE,
      { input: { sku, name: 'Again', price: '2.00', initialStock: 1 } },
      operator,
    );
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sku' });
  });

  it.each([[-5], [0]])('restockProduct with quantity %i is BAD_USER_INPUT and changes nothing', async (quantity) => {
    const res = await system.graphql(
      `mutation($id: ID!, $q: Int!) { restockProduct(productId: $id, quantity: $q) { availableQuantity } }`,
      { id: product.id, q: quantity },
      operator,
    );
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'quantity' });
    await expectNothingWritten();
  });

  it('restockProduct of an unknown product is NOT_FOUND', async () => {
    const res = await system.graphql(
      `mutation($id: ID!) { restockProduct(productId: $id, quantity: 5) { id } }`,
      { id: randomUUID() },
      operator,
    );
    expect(res.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('checkAvailability with a malformed id or quantity is BAD_USER_INPUT', async () => {
    const q = `query($items: [AvailabilityItemInput!]!) { checkAvailability(items: $items) { allAvailable } }`;
    expect(
      (await system.graphql(q, { items: [{ productId: 'nope', quantity: 1 }] })).errors?.[0].extensions,
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'items[0].productId' });
    expect(
      (await system.graphql(q, { items: [{ productId: product.id, quantity: 0 }] })).errors?.[0].extensions,
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'items[0].quantity' });
  });

  it('order(id) with a malformed id is BAD_USER_INPUT; an invalid cursor too', async () => {
    expect(
      (await system.graphql(`{ order(id: "1; DROP TABLE orders") { id } }`, {}, customer.headers)).errors?.[0]
        .extensions?.code,
    ).toBe('BAD_USER_INPUT');
    expect((await system.graphql(`{ products(after: "garbage") { totalCount } }`)).errors?.[0].extensions?.code).toBe(
      'BAD_USER_INPUT',
    );
    expect((await system.graphql(`{ products(first: 5000) { totalCount } }`)).errors?.[0].extensions?.code).toBe(
      'BAD_USER_INPUT',
    );
  });

  describe('at the gateway', () => {
    const post = (body: string, contentType = 'application/json') =>
      fetch(`${system.gatewayUrl}/graphql`, { method: 'POST', headers: { 'content-type': contentType }, body });

    it('rejects malformed JSON with 400 and a standard error', async () => {
      const res = await post('{"query": "{ products { totalCount } }"');
      expect(res.status).toBe(400);
      const body = await res.json();
      expect(body.errors[0].message).toBeTruthy();
      expectNoLeak(body);
    });

    it('rejects invalid GraphQL with GRAPHQL_PARSE_FAILED', async () => {
      const res = await post(JSON.stringify({ query: '{ products { ' }));
      const body = await res.json();
      expect(body.errors[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
      expectNoLeak(body);
    });

    it('rejects unknown fields with GRAPHQL_VALIDATION_FAILED', async () => {
      const res = await post(JSON.stringify({ query: '{ products { totalCount secretField } }' }));
      const body = await res.json();
      expect(body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expectNoLeak(body);
    });

    it('refuses a body over the limit with 413', async () => {
      const res = await post(
        JSON.stringify({ query: '{ products { totalCount } }', variables: { pad: 'x'.repeat(1_100_000) } }),
      );
      expect(res.status).toBe(413);
      expectNoLeak(await res.json());
    });
  });
});
