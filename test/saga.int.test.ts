import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLACE_ORDER, asCustomer, asOperator, buildOrderInput, createProduct, eventually, inventoryViolations, startSystem, stockOf, type System } from './support/system.ts';

const ORDER = `query($id: ID!) { order(id: $id) { id status statusHistory { previousStatus status reason } shipment { id status carrier trackingNumber events { status location } } } }`;
const SHIP = `mutation($id: ID!, $s: ShipmentStatus!, $loc: String) { updateShipmentStatus(input: { shipmentId: $id, status: $s, location: $loc }) { id status deliveredAt events { status location } } }`;

describe('the order saga', () => {
  let system: System;
  beforeAll(async () => {
    system = await startSystem();
  });
  afterAll(async () => system?.stop());

  const place = async (customer: string, productId: string, quantity: number, paymentToken = 'tok_visa') => {
    const res = await system.graphql(PLACE_ORDER, { input: buildOrderInput({ items: [{ productId, quantity }], paymentToken }) }, asCustomer(customer));
    expect(res.data?.placeOrder.__typename).toBe('OrderPlaced');
    return res.data.placeOrder.order.id as string;
  };
  const order = async (customer: string, id: string) => (await system.graphql(ORDER, { id }, asCustomer(customer))).data.order;
  const untilStatus = (customer: string, id: string, status: string) =>
    eventually(async () => {
      const o = await order(customer, id);
      return o.status === status && o;
    });

  it('takes a paid order to DELIVERED, mirroring every shipment step', async () => {
    const p = await createProduct(system, { initialStock: 10, price: '5.00' });
    const id = await place('happy', p.id, 3);
    const paid = await eventually(async () => {
      const o = await order('happy', id);
      return o.status === 'PENDING_SHIPMENT' && o.shipment && o;
    });
    expect(paid.shipment).toMatchObject({ status: 'PROCESSING', events: [{ status: 'PROCESSING' }] });
    expect(paid.shipment.trackingNumber).toMatch(/^[0-9A-Z]{18}$/);
    expect(await eventually(async () => (await stockOf(system, p.id)).sold === 3 && stockOf(system, p.id))).toEqual({ available: 7, reserved: 0, sold: 3, stocked: 10 });

    for (const [status, loc] of [['SHIPPED', 'Warehouse'], ['IN_TRANSIT', 'Lyon hub'], ['DELIVERED', 'Front door']]) {
      const res = await system.graphql(SHIP, { id: paid.shipment.id, s: status, loc }, asOperator());
      expect(res.errors).toBeUndefined();
      await untilStatus('happy', id, status);
    }
    const done = await order('happy', id);
    expect(done.statusHistory.map((h: any) => [h.previousStatus, h.status])).toEqual([
      [null, 'PENDING_PAYMENT'],
      ['PENDING_PAYMENT', 'PENDING_SHIPMENT'],
      ['PENDING_SHIPMENT', 'SHIPPED'],
      ['SHIPPED', 'IN_TRANSIT'],
      ['IN_TRANSIT', 'DELIVERED'],
    ]);
    expect(done.shipment.events).toEqual([
      { status: 'PROCESSING', location: null },
      { status: 'SHIPPED', location: 'Warehouse' },
      { status: 'IN_TRANSIT', location: 'Lyon hub' },
      { status: 'DELIVERED', location: 'Front door' },
    ]);
    const back = await system.graphql(SHIP, { id: paid.shipment.id, s: 'IN_TRANSIT' }, asOperator());
    expect(back.errors?.[0].extensions?.code).toBe('INVALID_TRANSITION');

    const subjects = await eventually(async () => {
      const mine = system.mail.messages.filter((m) => m.to.includes('happy@example.test')).map((m) => m.header('subject'));
      return mine.length === 3 && mine;
    });
    expect(subjects).toEqual([expect.stringMatching(/received your order/), expect.stringMatching(/on its way/), expect.stringMatching(/was delivered/)]);
    expect(await inventoryViolations(system)).toEqual([]);
  });
});
