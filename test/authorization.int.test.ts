import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PLACE_ORDER,
  bearer,
  buildOrderInput,
  createProduct,
  eventually,
  startSystem,
  stockOf,
  type Customer,
  type Headers,
  type System,
} from './support/system.ts';

/**
 * Every scope of the contract, positive and negative, through the gateway
 * with real tokens; and ownership: a customer sees and cancels only their
 * own orders and shipments, and someone else's look exactly like missing ones.
 */
describe('authorization: scopes and ownership', () => {
  let system: System;
  let ops: Headers; // ops-console: every scope
  let delivery: Headers; // delivery-partner: shipments:read shipments:write
  let alice: Customer;
  let bob: Customer;
  let productId: string;
  let aliceOrder: string; // paid, with a shipment
  let aliceShipment: string;
  /** ops-console narrowed to some scopes (RFC 6749 §3.3). */
  const opsWith = async (scope: string) => bearer(await system.clientToken('ops-console', scope));
  const code = (res: { errors?: { extensions?: Record<string, any> }[] }) => res.errors?.[0]?.extensions?.code;

  const ORDER = `query($id: ID!) { order(id: $id) { id customerId status } }`;
  const SHIPMENT = `query($id: ID!) { shipment(id: $id) { id orderId status } }`;
  const CANCEL = `mutation($id: ID!) { cancelOrder(orderId: $id) { __typename ... on CannotCancel { status } } }`;
  const SHIP = `mutation($id: ID!, $s: ShipmentStatus!) { updateShipmentStatus(input: { shipmentId: $id, status: $s }) { id status } }`;
  const CREATE = `mutation($sku: String!) { createProduct(input: { sku: $sku, name: "Scoped", price: "2.00", initialStock: 3 }) { id } }`;
  const RESTOCK = `mutation($id: ID!) { restockProduct(productId: $id, quantity: 1) { availableQuantity } }`;
  const MOVEMENTS = `query($id: ID!) { product(id: $id) { stockMovements { type quantity } } }`;
  const MY_ORDERS = `{ myOrders { totalCount edges { node { id customerId } } } }`;
  const place = (headers: Headers, paymentToken = 'tok_visa') =>
    system.graphql(
      PLACE_ORDER,
      { input: buildOrderInput({ items: [{ productId, quantity: 1 }], paymentToken }) },
      headers,
    );

  beforeAll(async () => {
    system = await startSystem();
    [ops, delivery, [alice, bob]] = await Promise.all([
      system.operatorHeaders(),
      system.clientToken('delivery-partner').then(bearer),
      system.signUpCustomers(2, 'owner'),
    ]);
    productId = (await createProduct(system, { initialStock: 100 })).id;
    aliceOrder = (await place(alice.headers)).data.placeOrder.order.id;
    aliceShipment = await eventually(
      async () =>
        (
          await system.graphql(
            `query($id: ID!) { order(id: $id) { shipment { id } } }`,
            { id: aliceOrder },
            alice.headers,
          )
        ).data.order.shipment?.id as string,
    );
  });
  afterAll(async () => system?.stop());

  describe('every scope of the contract', () => {
    it('products:write — createProduct', async () => {
      expect(
        (await system.graphql(CREATE, { sku: `S-${randomUUID().slice(0, 8)}` }, await opsWith('products:write'))).data
          .createProduct.id,
      ).toBeTruthy();
      for (const who of [alice.headers, delivery, await opsWith('inventory:write')]) {
        const sku = `S-${randomUUID().slice(0, 8)}`;
        const res = await system.graphql(CREATE, { sku }, who);
        expect(res.errors?.[0]).toMatchObject({
          message: 'Missing scope products:write',
          extensions: { code: 'FORBIDDEN' },
        });
        expect(await system.products.db.product.count({ where: { sku } })).toBe(0);
      }
      expect(code(await system.graphql(CREATE, { sku: 'S-ANON' }))).toBe('UNAUTHENTICATED');
    });

    it('inventory:write — restockProduct', async () => {
      const before = (await stockOf(system, productId)).stocked;
      expect(
        (await system.graphql(RESTOCK, { id: productId }, await opsWith('inventory:write'))).errors,
      ).toBeUndefined();
      expect(
        code(await system.graphql(RESTOCK, { id: productId }, await opsWith('products:write inventory:read'))),
      ).toBe('FORBIDDEN');
      expect(code(await system.graphql(RESTOCK, { id: productId }, alice.headers))).toBe('FORBIDDEN');
      expect(code(await system.graphql(RESTOCK, { id: productId }))).toBe('UNAUTHENTICATED');
      expect((await stockOf(system, productId)).stocked).toBe(before + 1);
    });

    it('inventory:read — Product.stockMovements (the rest of the product stays public)', async () => {
      expect(
        (await system.graphql(MOVEMENTS, { id: productId }, await opsWith('inventory:read'))).data.product
          .stockMovements.length,
      ).toBeGreaterThan(0);
      const refused = await system.graphql(
        `query($id: ID!) { product(id: $id) { id stockMovements { type } } }`,
        { id: productId },
        delivery,
      );
      expect(code(refused)).toBe('FORBIDDEN');
      expect(refused.errors?.[0].path).toEqual(['product', 'stockMovements']);
      expect(code(await system.graphql(MOVEMENTS, { id: productId }, alice.headers))).toBe('FORBIDDEN');
      expect(code(await system.graphql(MOVEMENTS, { id: productId }))).toBe('UNAUTHENTICATED');
    });

    it('orders:create — placeOrder', async () => {
      expect((await place(bob.headers)).data.placeOrder.__typename).toBe('OrderPlaced');
      for (const who of [delivery, await opsWith('orders:read orders:cancel')])
        expect(code(await place(who))).toBe('FORBIDDEN');
      expect(code(await place({}))).toBe('UNAUTHENTICATED');
    });

    it('orders:read — myOrders, only the viewer’s own', async () => {
      const mine = await system.graphql(MY_ORDERS, {}, alice.headers);
      expect(mine.data.myOrders.edges.map((e: any) => e.node.customerId)).toEqual(
        Array(mine.data.myOrders.totalCount).fill(alice.id),
      );
      expect(mine.data.myOrders.edges.map((e: any) => e.node.id)).toContain(aliceOrder);
      expect(code(await system.graphql(MY_ORDERS, {}, delivery))).toBe('FORBIDDEN');
      expect(code(await system.graphql(MY_ORDERS, {}, await opsWith('orders:read:all')))).toBe('FORBIDDEN');
      expect(code(await system.graphql(MY_ORDERS, {}))).toBe('UNAUTHENTICATED');
    });

    it('orders:read:all — order(id) of anyone; without it someone else’s order is null', async () => {
      expect(
        (await system.graphql(ORDER, { id: aliceOrder }, await opsWith('orders:read:all'))).data.order,
      ).toMatchObject({ id: aliceOrder, customerId: alice.id });
      expect((await system.graphql(ORDER, { id: aliceOrder }, await opsWith('orders:read'))).data.order).toBeNull();
      expect((await system.graphql(ORDER, { id: aliceOrder }, delivery)).data.order).toBeNull();
      expect(code(await system.graphql(ORDER, { id: aliceOrder }))).toBe('UNAUTHENTICATED');
    });

    it('orders:cancel — cancelOrder, the owner’s own orders only', async () => {
      const id = (await place(alice.headers, 'tok_processingError')).data.placeOrder.order.id;
      expect(code(await system.graphql(CANCEL, { id }, await opsWith('orders:read orders:create')))).toBe('FORBIDDEN');
      // Even every scope does not make someone the owner.
      expect(code(await system.graphql(CANCEL, { id }, ops))).toBe('NOT_FOUND');
      expect(code(await system.graphql(CANCEL, { id }))).toBe('UNAUTHENTICATED');
      expect((await system.graphql(CANCEL, { id }, alice.headers)).data.cancelOrder.__typename).toBe('OrderCancelled');
    });

    it('shipments:read with orders:read:all — shipment(id) of anyone', async () => {
      expect(
        (await system.graphql(SHIPMENT, { id: aliceShipment }, await opsWith('shipments:read orders:read:all'))).data
          .shipment,
      ).toMatchObject({ id: aliceShipment, orderId: aliceOrder });
      // One of the two is not enough.
      expect((await system.graphql(SHIPMENT, { id: aliceShipment }, delivery)).data.shipment).toBeNull();
      expect(
        (await system.graphql(SHIPMENT, { id: aliceShipment }, await opsWith('orders:read:all'))).data.shipment,
      ).toBeNull();
      expect(code(await system.graphql(SHIPMENT, { id: aliceShipment }))).toBe('UNAUTHENTICATED');
    });

    it('shipments:write — updateShipmentStatus', async () => {
      expect(code(await system.graphql(SHIP, { id: aliceShipment, s: 'SHIPPED' }, alice.headers))).toBe('FORBIDDEN');
      expect(
        code(await system.graphql(SHIP, { id: aliceShipment, s: 'SHIPPED' }, await opsWith('shipments:read'))),
      ).toBe('FORBIDDEN');
      expect(code(await system.graphql(SHIP, { id: aliceShipment, s: 'SHIPPED' }))).toBe('UNAUTHENTICATED');
      expect(
        (await system.graphql(SHIP, { id: aliceShipment, s: 'SHIPPED' }, delivery)).data.updateShipmentStatus,
      ).toEqual({ id: aliceShipment, status: 'SHIPPED' });
    });

    it('public fields need no token', async () => {
      const res = await system.graphql(
        `query($id: ID!) { product(id: $id) { id } products(first: 1) { totalCount } checkAvailability(items: [{ productId: $id, quantity: 1 }]) { allAvailable } me { id } }`,
        { id: productId },
      );
      expect(res.errors).toBeUndefined();
      expect(res.data.me).toBeNull();
    });
  });

  describe('ownership', () => {
    it('shows a customer their own order and shipment', async () => {
      expect((await system.graphql(ORDER, { id: aliceOrder }, alice.headers)).data.order.id).toBe(aliceOrder);
      expect((await system.graphql(SHIPMENT, { id: aliceShipment }, alice.headers)).data.shipment.id).toBe(
        aliceShipment,
      );
    });

    it('answers someone else’s order exactly as a missing one', async () => {
      const other = await system.graphql(ORDER, { id: aliceOrder }, bob.headers);
      const missing = await system.graphql(ORDER, { id: randomUUID() }, bob.headers);
      expect(other).toEqual(missing);
      expect(other.data.order).toBeNull();
    });

    it('answers someone else’s shipment exactly as a missing one, also through a nested order', async () => {
      const other = await system.graphql(SHIPMENT, { id: aliceShipment }, bob.headers);
      expect(other).toEqual(await system.graphql(SHIPMENT, { id: randomUUID() }, bob.headers));
      expect(other.data.shipment).toBeNull();
      const nested = await system.graphql(
        `query($id: ID!) { shipment(id: $id) { order { id customerId } } }`,
        { id: aliceShipment },
        bob.headers,
      );
      expect(nested.data.shipment).toBeNull();
    });

    it('refuses to cancel someone else’s order exactly as a missing one, and changes nothing', async () => {
      const id = (await place(alice.headers, 'tok_processingError')).data.placeOrder.order.id;
      const other = await system.graphql(CANCEL, { id }, bob.headers);
      const missing = await system.graphql(CANCEL, { id: randomUUID() }, bob.headers);
      expect(code(other)).toBe('NOT_FOUND');
      expect(other.errors?.[0].message).toBe(missing.errors?.[0].message);
      expect((await system.graphql(ORDER, { id }, alice.headers)).data.order.status).not.toBe('CANCELLED');
    });

    it('keeps other customers’ orders out of myOrders', async () => {
      const bobs = await system.graphql(MY_ORDERS, {}, bob.headers);
      expect(bobs.data.myOrders.edges.map((e: any) => e.node.id)).not.toContain(aliceOrder);
    });
  });
});
