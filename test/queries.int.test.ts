import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLACE_ORDER, asCustomer, asOperator, buildOrderInput, createProduct, startSystem, stockOf, type System } from './support/system.ts';

describe('the contract through the gateway', () => {
  let system: System;
  beforeAll(async () => {
    system = await startSystem();
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
      const res = await system.graphql(`query($id: ID!, $none: ID!) { product(id: $id) { name price { amount currencyCode } availableQuantity reservedQuantity isActive lowStockThreshold } none: product(id: $none) { id } }`, { id: p.id, none: randomUUID() });
      expect(res.data).toEqual({
        product: { name: 'Kettle', price: { amount: '39.90', currencyCode: 'USD' }, availableQuantity: 7, reservedQuantity: 0, isActive: true, lowStockThreshold: 10 },
        none: null,
      });
    });

    it('checks availability line by line', async () => {
      const a = await createProduct(system, { initialStock: 3 });
      const b = await createProduct(system, { initialStock: 10 });
      const res = await system.graphql(`query($items: [AvailabilityItemInput!]!) { checkAvailability(items: $items) { allAvailable items { productId requested available isAvailable } } }`, {
        items: [{ productId: a.id, quantity: 5 }, { productId: b.id, quantity: 10 }],
      });
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
      const res = await system.graphql(`mutation($id: ID!) { restockProduct(productId: $id, quantity: 40, reason: "delivery 42") { availableQuantity } }`, { id: p.id }, asOperator());
      expect(res.data.restockProduct.availableQuantity).toBe(41);
      expect(await stockOf(system, p.id)).toEqual({ available: 41, reserved: 0, sold: 0, stocked: 41 });
      const M = `query($id: ID!) { product(id: $id) { stockMovements { type quantity reason orderId occurredAt } } }`;
      const audit = await system.graphql(M, { id: p.id }, asOperator());
      expect(audit.data.product.stockMovements).toMatchObject([{ type: 'RESTOCK', quantity: 40, reason: 'delivery 42', orderId: null }]);
      const anonymous = await system.graphql(M, { id: p.id });
      expect(anonymous.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      const customer = await system.graphql(M, { id: p.id }, asCustomer('nosy'));
      expect(customer.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    });

    it('needs products:write to create and inventory:write to restock', async () => {
      const p = await createProduct(system);
      const create = await system.graphql(`mutation { createProduct(input: { sku: "NOPE-1", name: "x", price: "1.00", initialStock: 1 }) { id } }`, {}, asCustomer('c'));
      expect(create.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      const restock = await system.graphql(`mutation($id: ID!) { restockProduct(productId: $id, quantity: 1) { id } }`, { id: p.id }, asCustomer('c'));
      expect(restock.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(await stockOf(system, p.id)).toMatchObject({ stocked: 100 });
    });
  });

  describe('orders', () => {
    it('shows a customer their own orders, newest first, filtered by status', async () => {
      const p = await createProduct(system, { initialStock: 100 });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await system.graphql(PLACE_ORDER, { input: buildOrderInput({ items: [{ productId: p.id, quantity: i + 1 }] }) }, asCustomer('mine'));
        ids.push(r.data.placeOrder.order.id);
      }
      await system.graphql(PLACE_ORDER, { input: buildOrderInput({ items: [{ productId: p.id, quantity: 1 }] }) }, asCustomer('someone-else'));
      const Q = `query($after: String, $status: OrderStatus) { myOrders(first: 2, after: $after, status: $status) { totalCount pageInfo { hasNextPage endCursor } edges { node { id customerId shippingAddress { city country line2 } createdAt } } } }`;
      const page1 = await system.graphql(Q, {}, asCustomer('mine'));
      expect(page1.data.myOrders.totalCount).toBe(3);
      expect(page1.data.myOrders.edges.map((e: any) => e.node.id)).toEqual([ids[2], ids[1]]);
      expect(page1.data.myOrders.edges[0].node).toMatchObject({ customerId: 'mine', shippingAddress: { city: 'London', country: 'GB', line2: null } });
      const page2 = await system.graphql(Q, { after: page1.data.myOrders.pageInfo.endCursor }, asCustomer('mine'));
      expect(page2.data.myOrders.edges.map((e: any) => e.node.id)).toEqual([ids[0]]);
      expect(page2.data.myOrders.pageInfo.hasNextPage).toBe(false);
      const delivered = await system.graphql(Q, { status: 'DELIVERED' }, asCustomer('mine'));
      expect(delivered.data.myOrders.totalCount).toBe(0);
    });

    it("returns null for someone else's order, exactly as for a missing one", async () => {
      const p = await createProduct(system);
      const r = await system.graphql(PLACE_ORDER, { input: buildOrderInput({ items: [{ productId: p.id, quantity: 1 }] }) }, asCustomer('owner'));
      const id = r.data.placeOrder.order.id;
      const Q = `query($id: ID!) { order(id: $id) { id status } }`;
      expect((await system.graphql(Q, { id }, asCustomer('owner'))).data.order).toEqual({ id, status: 'PENDING_PAYMENT' });
      const other = await system.graphql(Q, { id }, asCustomer('intruder'));
      const missing = await system.graphql(Q, { id: randomUUID() }, asCustomer('intruder'));
      expect(other).toEqual(missing);
      expect(other.data.order).toBeNull();
      expect((await system.graphql(Q, { id })).data.order).toBeNull();
      expect((await system.graphql(Q, { id }, asOperator())).data.order.id).toBe(id);
    });

    it('cancels a pending order and returns its stock', async () => {
      const p = await createProduct(system, { initialStock: 10 });
      const r = await system.graphql(PLACE_ORDER, { input: buildOrderInput({ items: [{ productId: p.id, quantity: 4 }] }) }, asCustomer('canceller'));
      const id = r.data.placeOrder.order.id;
      const C = `mutation($id: ID!) { cancelOrder(orderId: $id, reason: "changed my mind") { __typename ... on OrderCancelled { order { status statusHistory { previousStatus status reason } } } ... on CannotCancel { status message } } }`;
      expect((await system.graphql(C, { id }, asCustomer('intruder'))).errors?.[0].extensions?.code).toBe('NOT_FOUND');
      const res = await system.graphql(C, { id }, asCustomer('canceller'));
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
      const again = await system.graphql(C, { id }, asCustomer('canceller'));
      expect(again.data.cancelOrder).toMatchObject({ __typename: 'CannotCancel', status: 'CANCELLED' });
    });

    it('resolves the shipment as null until one exists', async () => {
      const p = await createProduct(system);
      const r = await system.graphql(PLACE_ORDER, { input: buildOrderInput({ items: [{ productId: p.id, quantity: 1 }] }) }, asCustomer('shipless'));
      const res = await system.graphql(`query($id: ID!) { order(id: $id) { id shipment { trackingNumber } } }`, { id: r.data.placeOrder.order.id }, asCustomer('shipless'));
      expect(res.data.order.shipment).toBeNull();
    });
  });

  describe('shipments and viewer', () => {
    it('answers me from the caller identity, null when anonymous', async () => {
      expect((await system.graphql('{ me { id } }')).data.me).toBeNull();
      const me = await system.graphql('{ me { id clientId scopes } }', {}, asCustomer('alice'));
      expect(me.data.me).toEqual({ id: 'alice', clientId: 'development', scopes: ['orders:cancel', 'orders:create', 'orders:read', 'shipments:read'] });
    });

    it('refuses updateShipmentStatus without shipments:write, NOT_FOUND for an unknown shipment', async () => {
      const M = `mutation($id: ID!) { updateShipmentStatus(input: { shipmentId: $id, status: SHIPPED }) { id } }`;
      expect((await system.graphql(M, { id: randomUUID() }, asCustomer('c'))).errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect((await system.graphql(M, { id: randomUUID() }, asOperator())).errors?.[0].extensions?.code).toBe('NOT_FOUND');
      expect((await system.graphql(`{ shipment(id: "${randomUUID()}") { id } }`, {}, asOperator())).data.shipment).toBeNull();
    });
  });
});
