// A paid order's cancel is decided by events (docs/decisions/003-cancel-by-event.md): cancelOrder records
// a request with orders.cancel_requested, shipments arbitrates it against a dispatch and answers
// shipments.cancelled or shipments.cancel_refused, orders completes the cancel from the answer. Each test
// here attacks one guarantee of that path: exactly once, no cancel lost (a failing database, restarts),
// no shipment for a cancelled order (a cancel before the shipment exists, a cancel racing a dispatch).
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@orderflow/common/observability';
import { loadConfig as ordersConfig } from '../subgraphs/orders/src/config.ts';
import { startOrders } from '../subgraphs/orders/src/app.ts';
import { loadConfig as shipmentsConfig } from '../subgraphs/shipments/src/config.ts';
import { startShipments } from '../subgraphs/shipments/src/app.ts';
import { natsServiceEnv } from './support/nats-auth.ts';
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

const ORDER = `query($id: ID!) { order(id: $id) { id status statusHistory { previousStatus status reason } shipment { id status } } }`;
const CANCEL = `mutation($id: ID!, $reason: String) { cancelOrder(orderId: $id, reason: $reason) { __typename ... on OrderCancelled { order { status } } ... on CannotCancel { status } ... on CancellationPending { message order { status } } } }`;
const SHIP = `mutation($id: ID!) { updateShipmentStatus(input: { shipmentId: $id, status: SHIPPED }) { status } }`;

describe('cancelling a paid order by event', () => {
  let system: System;
  let nc: NatsConnection;
  // The services' databases through whichever instance runs now (the restart test replaces them).
  let ordersDb: System['orders']['db'];
  let shipmentsDb: System['shipments']['db'];
  const restarted: { stop(): Promise<void> }[] = [];

  beforeAll(async () => {
    // A verdict wait well above the default 3 s: on a loaded 2-core test machine two dozen concurrent
    // cancels can take longer, and these tests want the verdict (the fault tests wait it out once each).
    system = await startSystem({ env: { SAGA_RETRY_SCALE: '0.05', CANCEL_VERDICT_TIMEOUT_MS: '8000' } });
    ordersDb = system.orders.db;
    shipmentsDb = system.shipments.db;
    nc = await connect(system.natsAdmin);
    // Two faults, each switched on per order by a row in its table. In orders: any transaction that
    // cancels the order loses its connection (a restart, failover or kill -9 of the session), so it never
    // commits. In shipments (per customer): any transaction that creates a PROCESSING shipment does, so
    // the shipment does not exist yet while the order is paid.
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
      await ordersDb.$executeRawUnsafe(sql);
    for (const sql of [
      `CREATE TABLE fault_create (customer_id text PRIMARY KEY)`,
      `CREATE FUNCTION fault_create() RETURNS trigger AS $$
         BEGIN
           IF NEW.status = 'PROCESSING' AND EXISTS (SELECT 1 FROM fault_create WHERE customer_id = NEW.customer_id) THEN
             PERFORM pg_terminate_backend(pg_backend_pid());
           END IF;
           RETURN NEW;
         END $$ LANGUAGE plpgsql`,
      `CREATE TRIGGER fault_create BEFORE INSERT ON shipments FOR EACH ROW EXECUTE FUNCTION fault_create()`,
    ])
      await shipmentsDb.$executeRawUnsafe(sql);
  });
  afterAll(async () => {
    await nc?.close();
    for (const s of restarted) await s.stop();
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
  /** How many times each effect of a cancel was published for one order. */
  async function cancelEffects(orderId: string) {
    const types = await eventTypesOf(orderId);
    const count = (type: string) => types.filter((t) => t === type).length;
    return {
      requested: count('orders.cancel_requested'),
      shipmentCancelled: count('shipments.cancelled'),
      orderCancelled: count('orders.cancelled'),
      refunded: count('payments.refunded'),
      returned: count('inventory.returned'),
      shipmentCreated: count('shipments.created'),
    };
  }
  const ONCE = { requested: 1, shipmentCancelled: 1, orderCancelled: 1, refunded: 1, returned: 1 };

  /** Everything the cancel touches, in every service. */
  async function state(orderId: string, productId: string) {
    return {
      order: (await ordersDb.order.findUniqueOrThrow({ where: { id: orderId } })).status,
      cancelledEntries: await ordersDb.orderStatusChange.count({ where: { orderId, status: 'CANCELLED' } }),
      payments: (await ordersDb.payment.findMany({ where: { orderId } })).map((p) => p.status),
      requests: (await ordersDb.cancelRequest.findMany({ where: { orderId } })).map((r) => r.verdict),
      shipments: (await shipmentsDb.shipment.findMany({ where: { orderId } })).map((s) => s.status),
      stock: await stockOf(system, productId),
      movements: (
        await system.products.db.stockMovement.findMany({
          where: { orderId },
          orderBy: { id: 'asc' },
          select: { type: true, quantity: true },
        })
      ).map((m) => `${m.type} ${m.quantity}`),
      cancelEmails: await ordersDb.notification.count({ where: { orderId, kind: 'cancelled' } }),
    };
  }
  const CANCELLED_ONCE = (quantity: number, stocked: number) => ({
    order: 'CANCELLED',
    cancelledEntries: 1,
    payments: ['REFUNDED'],
    requests: ['CANCELLED'],
    shipments: ['CANCELLED'],
    stock: { available: stocked, reserved: 0, sold: 0, stocked },
    movements: [`RESERVE -${quantity}`, `COMMIT -${quantity}`, `RETURN ${quantity}`],
    cancelEmails: 1,
  });

  async function placed(customer: Customer, productId: string, quantity: number) {
    const res = await system.graphql(
      PLACE_ORDER,
      { input: buildOrderInput({ items: [{ productId, quantity }] }) },
      customer.headers,
    );
    if (!res.data) throw new Error(`placeOrder failed: ${JSON.stringify(res.errors)}`);
    return res.data.placeOrder.order.id as string;
  }
  /** A paid order with its PROCESSING shipment and its units sold (read from the databases: no request budget spent). */
  async function paidOrder(customer: Customer, productId: string, quantity: number) {
    const id = await placed(customer, productId, quantity);
    const shipment = await eventually(async () => {
      const o = await ordersDb.order.findUnique({ where: { id } });
      const s = await shipmentsDb.shipment.findUnique({ where: { orderId: id } });
      return o?.status === 'PENDING_SHIPMENT' && s?.status === 'PROCESSING' && s;
    });
    await eventually(
      async () => (await system.products.db.stockMovement.count({ where: { orderId: id, type: 'COMMIT' } })) > 0,
    );
    return { id, shipment: { id: shipment.id } };
  }

  it('answers OrderCancelled: shipment cancelled, refunded once, units returned once, however often it is asked', async () => {
    const customer = await system.signUpCustomer('clean-cancel');
    const p = await createProduct(system, { initialStock: 5 });
    const { id } = await paidOrder(customer, p.id, 2);
    // Three cancels at once (a double click, a retry): one request, one cancel.
    const answers = await Promise.all(
      [1, 2, 3].map(() => system.graphql(CANCEL, { id, reason: 'found it cheaper' }, customer.headers)),
    );
    // Each is OrderCancelled, or, for one that read the order after the first had cancelled it, CannotCancel.
    const cancelled = { __typename: 'OrderCancelled', order: { status: 'CANCELLED' } };
    const already = { __typename: 'CannotCancel', status: 'CANCELLED' };
    for (const res of answers) expect([cancelled, already]).toContainEqual(res.data.cancelOrder);
    expect(answers.map((a) => a.data.cancelOrder)).toContainEqual(cancelled);
    const done = await eventually(async () => {
      const s = await state(id, p.id);
      return s.order === 'CANCELLED' && s.stock.sold === 0 && s.cancelEmails === 1 && s;
    });
    expect(done).toEqual(CANCELLED_ONCE(2, 5));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await state(id, p.id)).toEqual(done);
    expect(await cancelEffects(id)).toEqual({ ...ONCE, shipmentCreated: 1 });
    const history = (await system.graphql(ORDER, { id }, customer.headers)).data.order.statusHistory;
    expect(history.at(-1)).toEqual({
      previousStatus: 'PENDING_SHIPMENT',
      status: 'CANCELLED',
      reason: 'found it cheaper',
    });
    expect((await system.graphql(CANCEL, { id }, customer.headers)).data.cancelOrder).toEqual({
      __typename: 'CannotCancel',
      status: 'CANCELLED',
    });
  });

  it('loses no cancel when the orders database fails to complete it: CancellationPending, then CANCELLED exactly once', async () => {
    const customer = await system.signUpCustomer('half-cancel');
    const p = await createProduct(system, { initialStock: 5 });
    const { id } = await paidOrder(customer, p.id, 2);

    await ordersDb.$executeRawUnsafe(`INSERT INTO fault_cancel (order_id) VALUES ($1::uuid)`, id);
    const res = await system.graphql(CANCEL, { id, reason: 'found it cheaper' }, customer.headers);
    // Shipments has cancelled; orders cannot record it yet: the customer is told the cancel is under way.
    expect(res.data.cancelOrder).toMatchObject({
      __typename: 'CancellationPending',
      order: { status: 'PENDING_SHIPMENT' },
    });
    expect(res.data.cancelOrder.message).toMatch(/cancellation has been requested/);
    expect(await state(id, p.id)).toMatchObject({
      order: 'PENDING_SHIPMENT',
      payments: ['SUCCEEDED'],
      requests: [null],
      shipments: ['CANCELLED'],
      stock: { available: 3, reserved: 0, sold: 2, stocked: 5 },
    });

    // The database is healthy again; nobody retries the cancel.
    await ordersDb.$executeRawUnsafe(`DELETE FROM fault_cancel WHERE order_id = $1::uuid`, id);
    const done = await eventually(
      async () => {
        const s = await state(id, p.id);
        return s.order === 'CANCELLED' && s.stock.sold === 0 && s.cancelEmails === 1 && s;
      },
      { timeoutMs: 30_000 },
    );
    expect(done).toEqual(CANCELLED_ONCE(2, 5));
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await state(id, p.id)).toEqual(done);
    expect(await cancelEffects(id)).toEqual({ ...ONCE, shipmentCreated: 1 });
    expect(await inventoryViolations(system)).toEqual([]);
  });

  it('cancelled before its shipment exists: the shipment is never created, and nothing can dispatch it', async () => {
    const customer = await system.signUpCustomer('early-paid-cancel');
    const p = await createProduct(system, { initialStock: 5 });
    // The shipment the payment will ask for cannot be created while the fault is on.
    await shipmentsDb.$executeRawUnsafe(`INSERT INTO fault_create (customer_id) VALUES ($1)`, customer.id);
    const id = await placed(customer, p.id, 1);
    await eventually(async () => (await ordersDb.order.findUnique({ where: { id } }))?.status === 'PENDING_SHIPMENT');
    expect(await shipmentsDb.shipment.count({ where: { orderId: id } })).toBe(0);

    const res = await system.graphql(CANCEL, { id }, customer.headers);
    expect(res.data.cancelOrder).toEqual({ __typename: 'OrderCancelled', order: { status: 'CANCELLED' } });
    // The creation comes through once the fault is gone, and loses to the cancel.
    await shipmentsDb.$executeRawUnsafe(`DELETE FROM fault_create WHERE customer_id = $1`, customer.id);
    const done = await eventually(async () => {
      const s = await state(id, p.id);
      return s.order === 'CANCELLED' && s.stock.sold === 0 && s.cancelEmails === 1 && s;
    });
    await eventually(async () => {
      const jsm = await nc.jetstreamManager();
      const c = await jsm.consumers.info(`${system.natsPrefix.toUpperCase()}_ORDERS`, 'shipments-create-shipment');
      return c.num_pending + c.num_ack_pending === 0;
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(await state(id, p.id)).toEqual(done);
    expect(done.shipments).toEqual(['CANCELLED']);
    expect(done.order).toBe('CANCELLED');
    const effects = await cancelEffects(id);
    expect(effects).toEqual({ ...ONCE, shipmentCreated: 0 });
    // The delivery partner sees a cancelled shipment and cannot dispatch it.
    const shipment = await shipmentsDb.shipment.findUniqueOrThrow({ where: { orderId: id } });
    const ship = await system.graphql(SHIP, { id: shipment.id }, await system.operatorHeaders());
    expect(ship.errors?.[0]?.extensions?.code).toBe('INVALID_TRANSITION');
  });

  it('of a cancel and a dispatch exactly one wins, in every one of many races', async () => {
    const RACES = 24;
    const customer = await system.signUpCustomer('racer');
    const p = await createProduct(system, { initialStock: RACES });
    const orders = await Promise.all(Array.from({ length: RACES }, () => paidOrder(customer, p.id, 1)));
    const operator = await system.operatorHeaders();
    // Each dispatch starts once its order's cancel request is recorded (and so on its way to shipments as an
    // event), after a random pause of up to 0, 100 or 300 ms: the two meet at the shipment, both sides win some.
    const outcomes = await Promise.all(
      orders.map(async (o, i) => {
        const dispatch = async () => {
          await eventually(() => ordersDb.cancelRequest.findFirst({ where: { orderId: o.id } }), { intervalMs: 5 });
          await new Promise((r) => setTimeout(r, [0, 100, 300][i % 3] * Math.random()));
          return system.graphql(SHIP, { id: o.shipment.id }, operator);
        };
        const [cancel, ship] = await Promise.all([system.graphql(CANCEL, { id: o.id }, customer.headers), dispatch()]);
        return { id: o.id, answer: cancel.data?.cancelOrder, shipped: !ship.errors };
      }),
    );
    const finals = await Promise.all(
      outcomes.map((o) =>
        eventually(async () => {
          const order = await ordersDb.order.findUniqueOrThrow({ where: { id: o.id } });
          const shipment = await shipmentsDb.shipment.findUniqueOrThrow({ where: { orderId: o.id } });
          return ['CANCELLED', 'SHIPPED'].includes(order.status) && { status: order.status, shipment };
        }),
      ),
    );
    let cancelled = 0;
    outcomes.forEach((o, i) => {
      const final = finals[i];
      const won = final.status === 'CANCELLED';
      cancelled += won ? 1 : 0;
      // Exactly one side won, and the shipment agrees with the order.
      expect(won, `race ${i}`).toBe(!o.shipped);
      expect(final.shipment.status).toBe(won ? 'CANCELLED' : 'SHIPPED');
      // The customer was told the truth: cancelled, refused with the dispatch, or still under way.
      if (o.answer.__typename === 'OrderCancelled') expect(won).toBe(true);
      else if (o.answer.__typename === 'CannotCancel') expect([won, o.answer.status]).toEqual([false, 'SHIPPED']);
      else expect(o.answer.__typename).toBe('CancellationPending');
    });
    console.log(
      `cancel vs dispatch: ${cancelled} cancels won, ${RACES - cancelled} dispatches won; answers: ${JSON.stringify(
        outcomes.reduce<Record<string, number>>(
          (m, o) => ({ ...m, [o.answer.__typename]: (m[o.answer.__typename] ?? 0) + 1 }),
          {},
        ),
      )}`,
    );
    // No cancelled order anywhere has a dispatched shipment; refunds and stock follow the winners.
    const ids = orders.map((o) => o.id);
    const cancelledIds = (await ordersDb.order.findMany({ where: { id: { in: ids }, status: 'CANCELLED' } })).map(
      (o) => o.id,
    );
    expect(
      await shipmentsDb.shipment.count({ where: { orderId: { in: cancelledIds }, status: { not: 'CANCELLED' } } }),
    ).toBe(0);
    expect(
      await eventually(async () => {
        const refunded = await ordersDb.payment.count({ where: { orderId: { in: ids }, status: 'REFUNDED' } });
        const stock = await stockOf(system, p.id);
        return refunded === cancelled && stock.sold === RACES - cancelled && { refunded, stock };
      }),
    ).toEqual({
      refunded: cancelled,
      stock: { available: cancelled, reserved: 0, sold: RACES - cancelled, stocked: RACES },
    });
  });

  it('loses no cancel when both services restart mid-way', async () => {
    const customer = await system.signUpCustomer('restart-cancel');
    const p = await createProduct(system, { initialStock: 5 });
    const { id } = await paidOrder(customer, p.id, 2);
    const env = (name: 'orders' | 'shipments') => ({
      ...system.env,
      ...(system.natsPasswords ? natsServiceEnv(system.natsPasswords, name) : {}),
      DATABASE_URL: system.databaseUrls[name],
      PORT: new URL(system.urls[name === 'orders' ? 'ORDERS_URL' : 'SHIPMENTS_URL']).port,
    });
    const silent = (name: string) => ({ log: createLogger(name, 'silent') });
    const stopped = (svc: { stop(): Promise<void> }) => {
      // Stopped here; the system's own stop() must not stop it twice.
      svc.stop = async () => {};
    };

    // Shipments is down: the request waits on NATS, and the customer is told the cancel is under way.
    await system.shipments.stop();
    stopped(system.shipments);
    const res = await system.graphql(CANCEL, { id, reason: 'restart' }, customer.headers);
    expect(res.data.cancelOrder).toMatchObject({ __typename: 'CancellationPending' });
    // Orders goes down too, before any verdict.
    await system.orders.stop();
    stopped(system.orders);
    // Shipments comes back and decides; orders is still down, so the verdict waits on NATS in turn.
    const shipments = await startShipments(shipmentsConfig(env('shipments')), silent('shipments-restarted'));
    restarted.push(shipments);
    shipmentsDb = shipments.db;
    await eventually(
      async () => (await shipmentsDb.shipment.findUnique({ where: { orderId: id } }))?.status === 'CANCELLED',
    );
    const orders = await startOrders(ordersConfig(env('orders')), silent('orders-restarted'));
    restarted.push(orders);
    ordersDb = orders.db;

    const done = await eventually(
      async () => {
        const s = await state(id, p.id);
        return s.order === 'CANCELLED' && s.stock.sold === 0 && s.cancelEmails === 1 && s;
      },
      { timeoutMs: 30_000 },
    );
    expect(done).toEqual(CANCELLED_ONCE(2, 5));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await state(id, p.id)).toEqual(done);
    expect(await cancelEffects(id)).toEqual({ ...ONCE, shipmentCreated: 1 });
    // The restarted orders service answers through the gateway as before.
    await eventually(
      async () => (await system.graphql(ORDER, { id }, customer.headers)).data?.order.status === 'CANCELLED',
    );
  });
});
