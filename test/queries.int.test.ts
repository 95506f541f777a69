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

describe('the contract through the gateway', () => {
  let system: System;
  let operator: Headers;
  let nosy: Customer;
  beforeAll(async () => {
    system = await startSystem();
    operator = await system.operatorHeaders();
    nosy = await system.signUpCustomer('nosy');
  });
  afterAll(async () => system?.stop());

  describe('catalog', () => {
    it('pages through products with cursors and searches by name or SKU', async () => {
      const tag = randomUUID().slice(0, 8);
      for (let i = 0; i < 5; i++) await createProduct(system, { name: `Lamp ${tag} ${i}`, sku: `LAMP-${tag}-${i}` });
      await createProduct(system, { name: 'Unrelated chair' });
      const Q = `query($after: String, $search: String) { products(first: 2, after: $after, search: $search) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { name } } } }`;
      const seen: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 5; page++) {
        const res: any = await system.graphql(Q, { after, search: `lamp ${tag}` });
        expect(res.data.products.totalCount).toBe(5);
        seen.push(...res.data.products.edges.map((e: any) => e.node.name));
        if (!res.data.products.pageInfo.hasNextPage) break;
        after = res.data.products.pageInfo.endCursor;
      }
      expect(seen).toEqual([4, 3, 2, 1, 0].map((i) => `Lamp ${tag} ${i}`));
      const bySku = await system.graphql(Q, { search: `lamp-${tag}-3` });
      expect(bySku.data.products.edges.map((e: any) => e.node.name)).toEqual([`Lamp ${tag} 3`]);
      const wildcard = await system.graphql(Q, { search: '%' });
      expect(wildcard.data.products.totalCount).toBe(0);
    });

    it('answers product(id), null for an unknown id', async () => {
      const p = await createProduct(system, { name: 'Kettle', price: '39.90', initialStock: 7 });
      const res = await system.graphql(
        `query($id: ID!, $none: ID!) { product(id: $id) { name price { amount currencyCode } availableQuantity reservedQuantity isActive lowStockThreshold } none: product(id: $none) { id } }`,
        { id: p.id, none: randomUUID() },
      );
      expect(res.data).toEqual({
        product: {
          name: 'Kettle',
          price: { amount: '39.90', currencyCode: 'USD' },
          availableQuantity: 7,
          reservedQuantity: 0,
          isActive: true,
          lowStockThreshold: 10,
        },
        none: null,
      });
    });

    it('checks availability line by line', async () => {
      const a = await createProduct(system, { initialStock: 3 });
      const b = await createProduct(system, { initialStock: 10 });
      const res = await system.graphql(
        `query($items: [AvailabilityItemInput!]!) { checkAvailability(items: $items) { allAvailable items { productId requested available isAvailable } } }`,
        {
          items: [
            { productId: a.id, quantity: 5 },
            { productId: b.id, quantity: 10 },
          ],
        },
      );
      expect(res.data.checkAvailability).toEqual({
        allAvailable: false,
        items: [
          { productId: a.id, requested: 5, available: 3, isAvailable: false },
          { productId: b.id, requested: 10, available: 10, isAvailable: true },
        ],
      });
    });

    it('restocks with an audit trail that needs inventory:read', async () => {
      const p = await createProduct(system, { initialStock: 1 });
      const res = await system.graphql(
        `mutation($id: ID!) { restockProduct(productId: $id, quantity: 40, reason: "delivery 42") { availableQuantity } }`,
        { id: p.id },
        operator,
      );
      expect(res.data.restockProduct.availableQuantity).toBe(41);
      expect(await stockOf(system, p.id)).toEqual({ available: 41, reserved: 0, sold: 0, stocked: 41 });
      const M = `query($id: ID!) { product(id: $id) { stockMovements { type quantity reason orderId occurredAt } } }`;
      const audit = await system.graphql(M, { id: p.id }, operator);
      expect(audit.data.product.stockMovements).toMatchObject([
        { type: 'RESTOCK', quantity: 40, reason: 'delivery 42', orderId: null },
      ]);
      const anonymous = await system.graphql(M, { id: p.id });
      expect(anonymous.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      const customer = await system.graphql(M, { id: p.id }, nosy.headers);
      expect(customer.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    });

    it('needs products:write to create and inventory:write to restock', async () => {
      const p = await createProduct(system);
      const create = await system.graphql(
        `mutation { createProduct(input: { sku: "NOPE-1", name: "x", price: "1.00", initialStock: 1 }) { id } }`,
        {},
        nosy.headers,
      );
      expect(create.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      const restock = await system.graphql(
        `mutation($id: ID!) { restockProduct(productId: $id, quantity: 1) { id } }`,
        { id: p.id },
        nosy.headers,
      );
      expect(restock.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(await stockOf(system, p.id)).toMatchObject({ stocked: 100 });
    });
  });

  describe('orders', () => {
    it('shows a customer their own orders, newest first, filtered by status', async () => {
      const p = await createProduct(system, { initialStock: 100 });
      const [mine, someoneElse] = await system.signUpCustomers(2, 'mine');
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await system.graphql(
          PLACE_ORDER,
          { input: buildOrderInput({ items: [{ productId: p.id, quantity: i + 1 }] }) },
          mine.headers,
        );
        ids.push(r.data.placeOrder.order.id);
      }
      await system.graphql(
        PLACE_ORDER,
        { input: buildOrderInput({ items: [{ productId: p.id, quantity: 1 }] }) },
        someoneElse.headers,
      );
      const Q = `query($after: String, $status: OrderStatus) { myOrders(first: 2, after: $after, status: $status) { totalCount pageInfo { hasNextPage endCursor } edges { node { id customerId shippingAddress { city country line2 } createdAt } } } }`;
      const page1 = await system.graphql(Q, {}, mine.headers);
      expect(page1.data.myOrders.totalCount).toBe(3);
      expect(page1.data.myOrders.edges.map((e: any) => e.node.id)).toEqual([ids[2], ids[1]]);
      expect(page1.data.myOrders.edges[0].node).toMatchObject({
        customerId: mine.id,
        shippingAddress: { city: 'London', country: 'GB', line2: null },
      });
      const page2 = await system.graphql(Q, { after: page1.data.myOrders.pageInfo.endCursor }, mine.headers);
      expect(page2.data.myOrders.edges.map((e: any) => e.node.id)).toEqual([ids[0]]);
      expect(page2.data.myOrders.pageInfo.hasNextPage).toBe(false);
      const delivered = await system.graphql(Q, { status: 'DELIVERED' }, mine.headers);
      expect(delivered.data.myOrders.totalCount).toBe(0);
    });

    it("returns null for someone else's order, exactly as for a missing one", async () => {
      const p = await createProduct(system);
      const [owner, intruder] = await system.signUpCustomers(2, 'owner');
      // tok_processingError holds the order in PENDING_PAYMENT for a while (the saga retries the payment).
      const r = await system.graphql(
        PLACE_ORDER,
        { input: buildOrderInput({ items: [{ productId: p.id, quantity: 1 }], paymentToken: 'tok_processingError' }) },
        owner.headers,
      );
      const id = r.data.placeOrder.order.id;
      const Q = `query($id: ID!) { order(id: $id) { id status } }`;
      expect((await system.graphql(Q, { id }, owner.headers)).data.order).toEqual({ id, status: 'PENDING_PAYMENT' });
      const other = await system.graphql(Q, { id }, intruder.headers);
      const missing = await system.graphql(Q, { id: randomUUID() }, intruder.headers);
      expect(other).toEqual(missing);
      expect(other.data.order).toBeNull();
      const anonymous = await system.graphql(Q, { id });
      expect(anonymous.data.order).toBeNull();
      expect(anonymous.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      expect((await system.graphql(Q, { id }, operator)).data.order.id).toBe(id);
    });

    it('cancels a pending order and returns its stock', async () => {
      const p = await createProduct(system, { initialStock: 10 });
      const [canceller, intruder] = await system.signUpCustomers(2, 'canceller');
      // tok_processingError keeps the payment waiting on its backoff: the order is still PENDING_PAYMENT when cancelled.
      const r = await system.graphql(
        PLACE_ORDER,
        { input: buildOrderInput({ items: [{ productId: p.id, quantity: 4 }], paymentToken: 'tok_processingError' }) },
        canceller.headers,
      );
      const id = r.data.placeOrder.order.id;
      const C = `mutation($id: ID!) { cancelOrder(orderId: $id, reason: "changed my mind") { __typename ... on OrderCancelled { order { status statusHistory { previousStatus status reason } } } ... on CannotCancel { status message } } }`;
      expect((await system.graphql(C, { id }, intruder.headers)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
      const res = await system.graphql(C, { id }, canceller.headers);
      expect(res.data.cancelOrder).toEqual({
        __typename: 'OrderCancelled',
        order: {
          status: 'CANCELLED',
          statusHistory: [
            { previousStatus: null, status: 'PENDING_PAYMENT', reason: 'order placed' },
            { previousStatus: 'PENDING_PAYMENT', status: 'CANCELLED', reason: 'changed my mind' },
          ],
        },
      });
      expect(await stockOf(system, p.id)).toEqual({ available: 10, reserved: 0, sold: 0, stocked: 10 });
      const again = await system.graphql(C, { id }, canceller.headers);
      expect(again.data.cancelOrder).toMatchObject({ __typename: 'CannotCancel', status: 'CANCELLED' });
    });

    it('resolves the shipment as null until one exists', async () => {
      const p = await createProduct(system);
      const shipless = await system.signUpCustomer('shipless');
      const r = await system.graphql(
        PLACE_ORDER,
        // Declined: the order never gets a shipment, so the answer cannot race the saga.
        { input: buildOrderInput({ items: [{ productId: p.id, quantity: 1 }], paymentToken: 'tok_chargeDeclined' }) },
        shipless.headers,
      );
      const res = await system.graphql(
        `query($id: ID!) { order(id: $id) { id shipment { trackingNumber } } }`,
        { id: r.data.placeOrder.order.id },
        shipless.headers,
      );
      expect(res.data.order.shipment).toBeNull();
    });
  });

  describe('shipments and viewer', () => {
    it('answers me from the caller identity, null when anonymous', async () => {
      expect((await system.graphql('{ me { id } }')).data.me).toBeNull();
      const alice = await system.signUpCustomer('alice');
      const me = await system.graphql('{ me { id email clientId scopes } }', {}, alice.headers);
      expect(me.data.me).toEqual({
        id: alice.id,
        email: alice.email,
        clientId: 'storefront',
        scopes: ['orders:cancel', 'orders:create', 'orders:read', 'shipments:read'],
      });
    });

    it('refuses updateShipmentStatus without shipments:write, NOT_FOUND for an unknown shipment', async () => {
      const M = `mutation($id: ID!) { updateShipmentStatus(input: { shipmentId: $id, status: SHIPPED }) { id } }`;
      expect((await system.graphql(M, { id: randomUUID() }, nosy.headers)).errors?.[0].extensions?.code).toBe(
        'FORBIDDEN',
      );
      expect((await system.graphql(M, { id: randomUUID() }, operator)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
      expect(
        (await system.graphql(`{ shipment(id: "${randomUUID()}") { id } }`, {}, operator)).data.shipment,
      ).toBeNull();
    });
  });
});
