import { randomUUID } from 'node:crypto';
import { connect, type JsMsg } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInternalAuth, createInternalClient, resolveInternalSecret } from '@orderflow/common/server';
import {
  PLACE_ORDER,
  buildOrderInput,
  createProduct,
  eventually,
  inventoryViolations,
  startSystem,
  stockOf,
  type Customer,
  type System,
} from './support/system.ts';

describe('placeOrder', () => {
  let system: System;
  beforeAll(async () => {
    // Cheap password hashes: this file signs up 200 buyers, and hashing is not what it tests.
    // The sweeper runs only when a test calls it: its deadline keeps the default, and the sweep test ages its reservations instead.
    system = await startSystem({ env: { SWEEP_INTERVAL_MS: '3600000', PASSWORD_HASH_COST: '10' } });
  });
  afterAll(async () => system?.stop());

  const place = (customer: Customer, input: ReturnType<typeof buildOrderInput>) =>
    system.graphql(PLACE_ORDER, { input }, customer.headers);
  const customer = (name: string) => system.signUpCustomer(name);
  /** Units held by orders: the saga may already have committed a paid order's units (reserved → sold). */
  const held = async (productId: string) => {
    const s = await stockOf(system, productId);
    return { available: s.available, held: s.reserved + s.sold, stocked: s.stocked };
  };
  /** The orders whose reservation of `productId` still holds units (active or committed). */
  const holders = async (productId: string) =>
    (
      await system.products.db.reservation.findMany({
        where: { productId, status: { not: 'RELEASED' } },
        select: { orderId: true },
      })
    ).map((r) => r.orderId);

  it('sells each unit once: 200 concurrent buyers of 50 units through the gateway', async () => {
    const product = await createProduct(system, { initialStock: 50 });
    const buyers = await system.signUpCustomers(200, 'buyer');
    const results = await Promise.all(
      buyers.map((buyer) => place(buyer, buildOrderInput({ items: [{ productId: product.id, quantity: 1 }] }))),
    );
    const kinds = results.map((r) => r.data?.placeOrder.__typename ?? `error:${r.errors?.[0]?.extensions?.code}`);
    expect(kinds.filter((k) => k === 'OrderPlaced')).toHaveLength(50);
    expect(kinds.filter((k) => k === 'ProductsUnavailable')).toHaveLength(150);
    expect(await held(product.id)).toEqual({ available: 0, held: 50, stocked: 50 });
    expect(await inventoryViolations(system)).toEqual([]);
    const refused = results.find((r) => r.data?.placeOrder.__typename === 'ProductsUnavailable')!;
    expect(refused.data.placeOrder.unavailableItems).toEqual([
      { productId: product.id, requested: 1, available: 0, isAvailable: false },
    ]);
    const movements = await system.products.db.stockMovement.count({
      where: { productId: product.id, type: 'RESERVE' },
    });
    expect(movements).toBe(50);
  }, 180_000);

  it('reserves all lines or none', async () => {
    const plenty = await createProduct(system, { initialStock: 10 });
    const scarce = await createProduct(system, { initialStock: 2 });
    const res = await place(
      await customer('all-or-nothing'),
      buildOrderInput({
        items: [
          { productId: plenty.id, quantity: 3 },
          { productId: scarce.id, quantity: 5 },
        ],
      }),
    );
    expect(res.data.placeOrder).toMatchObject({
      __typename: 'ProductsUnavailable',
      unavailableItems: [{ productId: scarce.id, requested: 5, available: 2, isAvailable: false }],
    });
    expect(await stockOf(system, plenty.id)).toMatchObject({ available: 10, reserved: 0 });
    expect(await stockOf(system, scarce.id)).toMatchObject({ available: 2, reserved: 0 });
  });

  it('charges catalog prices, whatever the client believes', async () => {
    const a = await createProduct(system, { price: '12.34', initialStock: 10 });
    const b = await createProduct(system, { price: '0.99', initialStock: 10 });
    const res = await place(
      await customer('pricing'),
      buildOrderInput({
        items: [
          { productId: a.id, quantity: 3 },
          { productId: b.id, quantity: 1 },
        ],
      }),
    );
    const order = res.data.placeOrder.order;
    expect(order.status).toBe('PENDING_PAYMENT');
    expect(order.totalAmount).toEqual({ amount: '38.01', currencyCode: 'USD' });
    expect(order.items).toEqual([
      { productId: a.id, quantity: 3, unitPrice: { amount: '12.34' }, lineTotal: { amount: '37.02' } },
      { productId: b.id, quantity: 1, unitPrice: { amount: '0.99' }, lineTotal: { amount: '0.99' } },
    ]);
    expect(order.statusHistory).toEqual([{ previousStatus: null, status: 'PENDING_PAYMENT' }]);
    expect(await held(a.id)).toEqual({ available: 7, held: 3, stocked: 10 });
  });

  describe('idempotency', () => {
    it('returns the first result for a retry and holds nothing again', async () => {
      const p = await createProduct(system, { initialStock: 10 });
      const input = buildOrderInput({ items: [{ productId: p.id, quantity: 4 }] });
      const buyer = await customer('idem');
      const first = await place(buyer, input);
      const second = await place(buyer, input);
      expect(second.data.placeOrder.order.id).toBe(first.data.placeOrder.order.id);
      // The retry is found by the order's insert: what it reserved on the way is released before it answers.
      expect(await held(p.id)).toMatchObject({ available: 6, held: 4 });
      expect(await holders(p.id)).toEqual([first.data.placeOrder.order.id]);
    });

    it('answers a retry with its order after that order took the last units, and a different order under the key with InvalidOrder', async () => {
      const p = await createProduct(system, { initialStock: 3 });
      const input = buildOrderInput({ items: [{ productId: p.id, quantity: 3 }] });
      const buyer = await customer('idem-sold-out');
      const first = await place(buyer, input);
      expect(first.data.placeOrder.__typename).toBe('OrderPlaced');
      // The retry's reservation is refused (nothing left): its answer is still the order, not ProductsUnavailable.
      const retry = await place(buyer, input);
      expect(retry.data.placeOrder).toMatchObject({
        __typename: 'OrderPlaced',
        order: { id: first.data.placeOrder.order.id },
      });
      const other = await place(buyer, { ...input, items: [{ productId: p.id, quantity: 1 }] });
      expect(other.data.placeOrder).toMatchObject({ __typename: 'InvalidOrder', field: 'idempotencyKey' });
      expect(await held(p.id)).toEqual({ available: 0, held: 3, stocked: 3 });
      expect(await holders(p.id)).toEqual([first.data.placeOrder.order.id]);
    });

    it('refuses a different order under the same key', async () => {
      const p = await createProduct(system, { initialStock: 10 });
      const input = buildOrderInput({ items: [{ productId: p.id, quantity: 1 }] });
      const buyer = await customer('idem-2');
      await place(buyer, input);
      const res = await place(buyer, { ...input, items: [{ productId: p.id, quantity: 2 }] });
      expect(res.data.placeOrder).toMatchObject({ __typename: 'InvalidOrder', field: 'idempotencyKey' });
      expect(await held(p.id)).toMatchObject({ available: 9, held: 1 });
    });

    it('keeps keys per customer', async () => {
      const p = await createProduct(system, { initialStock: 10 });
      const input = buildOrderInput({ items: [{ productId: p.id, quantity: 1 }] });
      const a = await place(await customer('idem-a'), input);
      const b = await place(await customer('idem-b'), input);
      expect(a.data.placeOrder.order.id).not.toBe(b.data.placeOrder.order.id);
    });

    it('makes one order of ten concurrent retries', async () => {
      const p = await createProduct(system, { initialStock: 100 });
      const input = buildOrderInput({ items: [{ productId: p.id, quantity: 2 }] });
      const racer = await customer('idem-race');
      const results = await Promise.all(Array.from({ length: 10 }, () => place(racer, input)));
      const ids = new Set(results.map((r) => r.data?.placeOrder.order?.id));
      expect(ids.size).toBe(1);
      expect(await held(p.id)).toMatchObject({ available: 98, held: 2 });
      expect(await system.orders.db.order.count({ where: { customerId: racer.id } })).toBe(1);
      // Each request reserved before its insert met the key: all but the order's are released by their answers.
      expect(await holders(p.id)).toEqual([...ids]);
    });
  });

  it('releases the reservation when the order cannot be written', async () => {
    // A real failure inside the orders database, after the reservation succeeded.
    await system.orders.db.$executeRawUnsafe(`CREATE OR REPLACE FUNCTION fail_tagged_order() RETURNS trigger AS $$
      BEGIN IF NEW.idempotency_key LIKE 'fail-%' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
    await system.orders.db.$executeRawUnsafe(
      `CREATE TRIGGER fail_tagged_order BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION fail_tagged_order()`,
    );
    const p = await createProduct(system, { initialStock: 5 });
    const res = await place(
      await customer('unlucky'),
      buildOrderInput({ idempotencyKey: `fail-${randomUUID()}`, items: [{ productId: p.id, quantity: 3 }] }),
    );
    expect(res.errors?.[0]).toMatchObject({
      message: 'Internal server error',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(JSON.stringify(res)).not.toMatch(/injected|orders|INSERT|127\.0\.0\.1|\bat /);
    expect(await stockOf(system, p.id)).toEqual({ available: 5, reserved: 0, sold: 0, stocked: 5 });
    const types = await system.products.db.stockMovement.findMany({
      where: { productId: p.id },
      orderBy: { id: 'asc' },
      select: { type: true, quantity: true },
    });
    expect(types).toEqual([
      { type: 'RESERVE', quantity: -3 },
      { type: 'RELEASE', quantity: 3 },
    ]);
  });

  it('sweeps reservations whose order never appeared, and keeps those of real orders', async () => {
    const p = await createProduct(system, { initialStock: 10 });
    const placed = await place(await customer('sweep'), buildOrderInput({ items: [{ productId: p.id, quantity: 2 }] }));
    expect(placed.data.placeOrder.__typename).toBe('OrderPlaced');
    // An orphan: reserved through the internal API as the orders service would, never recorded.
    const internalAuth = createInternalAuth({ secret: resolveInternalSecret('test', undefined), issuer: 'orders' });
    const orders = createInternalClient({
      baseUrl: system.urls.PRODUCTS_URL,
      internalAuth,
      service: 'orders',
      scopes: ['internal:inventory'],
    });
    const orphanId = randomUUID();
    const orphan = await orders.post<{ status: string }>('/reservations', {
      orderId: orphanId,
      items: [{ productId: p.id, quantity: 3 }],
    });
    expect(orphan.body.status).toBe('reserved');
    expect(await held(p.id)).toMatchObject({ available: 5, held: 5 });

    // Both reservations past the deadline (RESERVATION_DEADLINE_MS cannot be shorter than an in-flight placeOrder).
    await system.products.db.$executeRawUnsafe(
      `UPDATE reservations SET created_at = created_at - interval '1 hour' WHERE order_id IN ($1::uuid, $2::uuid)`,
      orphanId,
      placed.data.placeOrder.order.id,
    );
    // Earlier tests of this file may leave orphans of their own (a call that timed out): count ours only.
    // The sweep asks the orders service by event; its answer releases the orphan and keeps the real order's.
    expect((await system.products.sweeper.sweep()).requested).toBeGreaterThanOrEqual(1);
    await eventually(async () => (await held(p.id)).held === 2);
    expect(await held(p.id)).toEqual({ available: 8, held: 2, stocked: 10 });
    expect(
      await system.products.db.reservation.findMany({ where: { orderId: orphanId }, select: { status: true } }),
    ).toEqual([{ status: 'RELEASED' }]);
    // Asked once: the next sweep leaves both alone (one was released, the other is confirmed or settled).
    const ours = await system.products.db.reservation.findMany({
      where: { orderId: { in: [orphanId, placed.data.placeOrder.order.id] } },
      select: { status: true, confirmedAt: true },
    });
    expect(ours.every((r) => r.status !== 'ACTIVE' || r.confirmedAt !== null)).toBe(true);
  });

  it('reserves once for concurrent retries of the same order id', async () => {
    const p = await createProduct(system, { initialStock: 10 });
    const internalAuth = createInternalAuth({ secret: resolveInternalSecret('test', undefined), issuer: 'orders' });
    const orders = createInternalClient({
      baseUrl: system.urls.PRODUCTS_URL,
      internalAuth,
      service: 'orders',
      scopes: ['internal:inventory'],
    });
    const orderId = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        orders.post<{ status: string; lines: unknown[] }>('/reservations', {
          orderId,
          items: [{ productId: p.id, quantity: 3 }],
        }),
      ),
    );
    expect(answers.map((a) => [a.status, a.body.status])).toEqual(Array(8).fill([200, 'reserved']));
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    expect(await stockOf(system, p.id)).toMatchObject({ available: 7, reserved: 3 });
    await orders.post('/reservations/release', { orderId, reason: 'test cleanup' });
    expect(await stockOf(system, p.id)).toMatchObject({ available: 10, reserved: 0 });
  });

  it('publishes orders.created to JetStream from the outbox, once, with the event id as Nats-Msg-Id', async () => {
    const p = await createProduct(system, { initialStock: 10 });
    const buyer = await customer('events');
    const res = await place(
      buyer,
      buildOrderInput({ items: [{ productId: p.id, quantity: 1 }], paymentToken: 'tok_visa' }),
    );
    const orderId = res.data.placeOrder.order.id;
    const nc = await connect(system.natsAdmin);
    try {
      const js = nc.jetstream();
      const subject = `${system.natsPrefix}.orders.created`;
      const stream = `${system.natsPrefix.toUpperCase()}_ORDERS`;
      let found: JsMsg | undefined;
      for (let attempt = 0; attempt < 50 && !found; attempt++) {
        const consumer = await js.consumers.get(stream, { filterSubjects: subject });
        const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 });
        for await (const m of batch) {
          if (m.json<{ data: { orderId: string } }>().data.orderId === orderId) found = m;
          if (m.info.pending === 0) break;
        }
        if (!found) await new Promise((r) => setTimeout(r, 100));
      }
      expect(found).toBeDefined();
      const envelope = found!.json<Record<string, any>>();
      expect(envelope).toMatchObject({
        type: 'orders.created',
        version: 1,
        source: 'orders',
        correlationId: orderId,
        causationId: null,
      });
      expect(envelope.data).toMatchObject({
        orderId,
        customerId: buyer.id,
        items: [{ productId: p.id, quantity: 1, unitPrice: '19.99' }],
        totalAmount: { amount: '19.99', currencyCode: 'USD' },
      });
      expect(found!.headers?.get('Nats-Msg-Id')).toBe(envelope.id);
      // Marked published shortly after (the relay's marks of a moment share one UPDATE).
      await eventually(
        async () => (await system.orders.db.outboxEvent.findUnique({ where: { id: envelope.id } }))?.publishedAt,
      );
    } finally {
      await nc.close();
    }
  });
});
