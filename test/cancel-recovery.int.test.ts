import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const ORDER = `query($id: ID!) { order(id: $id) { id status statusHistory { previousStatus status reason } shipment { status } } }`;
const CANCEL = `mutation($id: ID!, $reason: String) { cancelOrder(orderId: $id, reason: $reason) { __typename ... on OrderCancelled { order { status } } ... on CannotCancel { status } } }`;

describe('cancelling a paid order when the orders database fails after shipments cancelled', () => {
  let system: System;
  let nc: NatsConnection;
  beforeAll(async () => {
    system = await startSystem({ env: { SAGA_RETRY_SCALE: '0.05' } });
    nc = await connect(system.natsAdmin);
    // The fault: while an order is listed in fault_cancel, the orders database drops the connection of any
    // transaction that tries to cancel it (as a restart, failover or kill -9 of the session would), so that
    // transaction never commits. Everything else goes through.
    for (const sql of [
      `CREATE TABLE fault_cancel (order_id uuid PRIMARY KEY)`,
      `CREATE FUNCTION fault_cancel() RETURNS trigger AS $$
         BEGIN
           IF NEW.status = 'CANCELLED' AND EXISTS (SELECT 1 FROM fault_cancel WHERE order_id = NEW.id) THEN
             PERFORM pg_terminate_backend(pg_backend_pid());
           END IF;
           RETURN NEW;
         END $$ LANGUAGE plpgsql`,
      `CREATE TRIGGER fault_cancel BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION fault_cancel()`,
    ])
      await system.orders.db.$executeRawUnsafe(sql);
  });
  afterAll(async () => {
    await nc?.close();
    await system?.stop();
  });

  /** The types of every event of one saga, from every stream. */
  async function eventTypesOf(orderId: string): Promise<string[]> {
    const jsm = await nc.jetstreamManager();
    const out: string[] = [];
    for (const name of ['ORDERS', 'INVENTORY', 'SHIPMENTS']) {
      const stream = `${system.natsPrefix.toUpperCase()}_${name}`;
      const { state } = await jsm.streams.info(stream);
      for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
        const e = m?.json<{ type: string; correlationId: string }>();
        if (e?.correlationId === orderId) out.push(e.type);
      }
    }
    return out.sort();
  }
  const count = (types: string[], type: string) => types.filter((t) => t === type).length;

  /** Everything the cancel touches, in every service. */
  async function state(orderId: string, productId: string) {
    return {
      order: (await system.orders.db.order.findUniqueOrThrow({ where: { id: orderId } })).status,
      cancelledEntries: await system.orders.db.orderStatusChange.count({ where: { orderId, status: 'CANCELLED' } }),
      payments: (await system.orders.db.payment.findMany({ where: { orderId } })).map((p) => p.status),
      shipments: (await system.shipments.db.shipment.findMany({ where: { orderId } })).map((s) => s.status),
      stock: await stockOf(system, productId),
      movements: await system.products.db.stockMovement.findMany({
        where: { orderId },
        orderBy: { id: 'asc' },
        select: { type: true, quantity: true },
      }),
      cancelEmails: await system.orders.db.notification.count({ where: { orderId, kind: 'cancelled' } }),
    };
  }

  async function paidOrder(customer: Customer, productId: string, quantity: number) {
    const placed = await system.graphql(
      PLACE_ORDER,
      { input: buildOrderInput({ items: [{ productId, quantity }] }) },
      customer.headers,
    );
    const id = placed.data.placeOrder.order.id as string;
    await eventually(async () => {
      const o = (await system.graphql(ORDER, { id }, customer.headers)).data.order;
      return (
        o.status === 'PENDING_SHIPMENT' &&
        o.shipment?.status === 'PROCESSING' &&
        (await stockOf(system, productId)).sold === quantity
      );
    });
    return id;
  }

  it("completes the cancel from the shipments service's event: CANCELLED, refunded, units returned, exactly once", async () => {
    const customer = await system.signUpCustomer('half-cancel');
    const p = await createProduct(system, { initialStock: 5 });
    const id = await paidOrder(customer, p.id, 2);

    await system.orders.db.$executeRawUnsafe(`INSERT INTO fault_cancel (order_id) VALUES ($1::uuid)`, id);
    const res = await system.graphql(CANCEL, { id, reason: 'found it cheaper' }, customer.headers);
    // The request failed after shipments had cancelled: the half-done state of the defect.
    expect(res.errors?.length).toBeGreaterThan(0);
    expect(res.data?.cancelOrder ?? null).toBeNull();
    const halfDone = await state(id, p.id);
    expect(halfDone).toMatchObject({
      order: 'PENDING_SHIPMENT',
      payments: ['SUCCEEDED'],
      shipments: ['CANCELLED'],
      stock: { available: 3, reserved: 0, sold: 2, stocked: 5 },
    });

    // The database is healthy again; nobody retries the cancel.
    await system.orders.db.$executeRawUnsafe(`DELETE FROM fault_cancel WHERE order_id = $1::uuid`, id);
    const done = await eventually(
      async () => {
        const s = await state(id, p.id);
        return (
          s.order === 'CANCELLED' && s.payments[0] === 'REFUNDED' && s.stock.sold === 0 && s.cancelEmails === 1 && s
        );
      },
      { timeoutMs: 30_000 },
    );
    expect(done).toMatchObject({
      order: 'CANCELLED',
      cancelledEntries: 1,
      payments: ['REFUNDED'],
      shipments: ['CANCELLED'],
      stock: { available: 5, reserved: 0, sold: 0, stocked: 5 },
      movements: [
        { type: 'RESERVE', quantity: -2 },
        { type: 'COMMIT', quantity: -2 },
        { type: 'RETURN', quantity: 2 },
      ],
      cancelEmails: 1,
    });
    const history = (await system.graphql(ORDER, { id }, customer.headers)).data.order.statusHistory;
    expect(history.at(-1)).toEqual({
      previousStatus: 'PENDING_SHIPMENT',
      status: 'CANCELLED',
      reason: 'found it cheaper',
    });

    // Exactly once: nothing more happens, and every effect was published once.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await state(id, p.id)).toEqual(done);
    const types = await eventTypesOf(id);
    expect([
      count(types, 'shipments.cancelled'),
      count(types, 'orders.cancelled'),
      count(types, 'payments.refunded'),
      count(types, 'inventory.returned'),
    ]).toEqual([1, 1, 1, 1]);
    expect(await inventoryViolations(system)).toEqual([]);
    // A retry by the customer now finds it cancelled.
    expect((await system.graphql(CANCEL, { id }, customer.headers)).data.cancelOrder).toEqual({
      __typename: 'CannotCancel',
      status: 'CANCELLED',
    });
  });

  it('still answers the cancelled order when nothing fails, and the event then changes nothing', async () => {
    const customer = await system.signUpCustomer('clean-cancel');
    const p = await createProduct(system, { initialStock: 5 });
    const id = await paidOrder(customer, p.id, 1);
    const res = await system.graphql(CANCEL, { id }, customer.headers);
    expect(res.data.cancelOrder).toEqual({ __typename: 'OrderCancelled', order: { status: 'CANCELLED' } });
    await eventually(async () => (await eventTypesOf(id)).includes('inventory.returned'));
    await new Promise((r) => setTimeout(r, 1_000));
    const s = await state(id, p.id);
    expect(s).toMatchObject({
      order: 'CANCELLED',
      cancelledEntries: 1,
      payments: ['REFUNDED'],
      shipments: ['CANCELLED'],
      stock: { available: 5, reserved: 0, sold: 0, stocked: 5 },
    });
    const types = await eventTypesOf(id);
    expect([
      count(types, 'shipments.cancelled'),
      count(types, 'orders.cancelled'),
      count(types, 'payments.refunded'),
    ]).toEqual([1, 1, 1]);
  });
});
