import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, headers as natsHeaders, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, createEvent, listDeadLetters, replayDeadLetter } from '@orderflow/common/messaging';
import { createLogger } from '@orderflow/common/observability';
import { freePort, startNats } from '@orderflow/devstack';
import {
  PLACE_ORDER,
  buildOrderInput,
  createProduct,
  eventually,
  inventoryViolations,
  startSystem,
  stockOf,
  type System,
} from './support/system.ts';

const ORDER = `query($id: ID!) { order(id: $id) { id status statusHistory { previousStatus status reason } shipment { id status carrier trackingNumber events { status location } } } }`;
const SHIP = `mutation($id: ID!, $s: ShipmentStatus!, $loc: String) { updateShipmentStatus(input: { shipmentId: $id, status: $s, location: $loc }) { id status deliveredAt events { status location } } }`;

describe('the order saga', () => {
  /** The operator's user: a test's own look at the dead letters, as `npm run dlq` does. */
  const adminBus = () =>
    connectBus({
      url: system.natsUrl,
      prefix: system.natsPrefix,
      user: system.natsAdmin.user,
      password: system.natsAdmin.pass,
      name: 'test-dlq',
      log: createLogger('test', 'silent'),
    });
  let system: System;
  /** Customers by test name: signed up once each, with real tokens. */
  const customers = new Map<string, ReturnType<System['signUpCustomer']>>();
  const who = (name: string) => {
    if (!customers.has(name)) customers.set(name, system.signUpCustomer(name));
    return customers.get(name)!;
  };
  beforeAll(async () => {
    system = await startSystem({ env: { SAGA_RETRY_SCALE: '0.05' } });
    nc = await connect(system.natsAdmin);
  });
  afterAll(async () => {
    await nc?.close();
    await system?.stop();
  });
  let nc: NatsConnection;

  /** Every event of one saga, from every stream, in stream order. */
  async function eventsOf(orderId: string) {
    const jsm = await nc.jetstreamManager();
    const out: { subject: string; data: string; envelope: any }[] = [];
    for (const name of ['ORDERS', 'INVENTORY', 'SHIPMENTS']) {
      const stream = `${system.natsPrefix.toUpperCase()}_${name}`;
      const { state } = await jsm.streams.info(stream);
      for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
        if (!m) continue;
        const envelope = m.json<any>();
        if (envelope.correlationId === orderId) out.push({ subject: m.subject, data: m.string(), envelope });
      }
    }
    return out;
  }

  /** Every inventory.low_stock event of one product. */
  async function lowStockEvents(productId: string) {
    const jsm = await nc.jetstreamManager();
    const stream = `${system.natsPrefix.toUpperCase()}_INVENTORY`;
    const { state } = await jsm.streams.info(stream);
    const out: any[] = [];
    for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
      const e = m?.json<any>();
      if (e?.type === 'inventory.low_stock' && e.data.productId === productId) out.push(e.data);
    }
    return out;
  }

  /** Everything the saga wrote about one order, in every service. */
  async function footprint(orderId: string, productId: string) {
    return {
      order: await system.orders.db.order.findUnique({ where: { id: orderId }, select: { status: true } }),
      history: await system.orders.db.orderStatusChange.count({ where: { orderId } }),
      payments: await system.orders.db.payment.findMany({
        where: { orderId },
        select: { status: true, attempts: true },
      }),
      notifications: await system.orders.db.notification.findMany({
        where: { orderId },
        select: { kind: true, status: true },
      }),
      movements: await system.products.db.stockMovement.findMany({
        where: { orderId },
        select: { type: true, quantity: true },
        orderBy: { id: 'asc' },
      }),
      reservations: await system.products.db.reservation.findMany({
        where: { orderId },
        select: { status: true, quantity: true },
      }),
      shipments: await system.shipments.db.shipment.findMany({
        where: { orderId },
        select: { status: true, trackingNumber: true },
      }),
      stock: await stockOf(system, productId),
      mails: system.mail.messages.filter(
        (m) => (m.header('message-id') ?? '').length > 0 && m.raw.includes(orderId.slice(0, 8).toUpperCase()),
      ).length,
    };
  }

  const place = async (customer: string, productId: string, quantity: number, paymentToken = 'tok_visa') => {
    const res = await system.graphql(
      PLACE_ORDER,
      { input: buildOrderInput({ items: [{ productId, quantity }], paymentToken }) },
      (await who(customer)).headers,
    );
    expect(res.data?.placeOrder.__typename).toBe('OrderPlaced');
    return res.data.placeOrder.order.id as string;
  };
  const order = async (customer: string, id: string) =>
    (await system.graphql(ORDER, { id }, (await who(customer)).headers)).data.order;
  const untilStatus = (customer: string, id: string, status: string) =>
    eventually(async () => {
      const o = await order(customer, id);
      return o.status === status && o;
    });

  it('takes a paid order to DELIVERED, mirroring every shipment step', async () => {
    const p = await createProduct(system, { initialStock: 10, price: '5.00', name: 'Brass compass' });
    const id = await place('happy', p.id, 3);
    const paid = await eventually(async () => {
      const o = await order('happy', id);
      return o.status === 'PENDING_SHIPMENT' && o.shipment && o;
    });
    expect(paid.shipment).toMatchObject({ status: 'PROCESSING', events: [{ status: 'PROCESSING' }] });
    expect(paid.shipment.trackingNumber).toMatch(/^[0-9A-Z]{18}$/);
    expect(await eventually(async () => (await stockOf(system, p.id)).sold === 3 && stockOf(system, p.id))).toEqual({
      available: 7,
      reserved: 0,
      sold: 3,
      stocked: 10,
    });

    for (const [status, loc] of [
      ['SHIPPED', 'Warehouse'],
      ['IN_TRANSIT', 'Lyon hub'],
      ['DELIVERED', 'Front door'],
    ]) {
      const res = await system.graphql(SHIP, { id: paid.shipment.id, s: status, loc }, await system.operatorHeaders());
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
    const back = await system.graphql(SHIP, { id: paid.shipment.id, s: 'IN_TRANSIT' }, await system.operatorHeaders());
    expect(back.errors?.[0].extensions?.code).toBe('INVALID_TRANSITION');

    const happyEmail = (await who('happy')).email;
    const subjects = await eventually(async () => {
      const mine = system.mail.messages.filter((m) => m.to.includes(happyEmail)).map((m) => m.header('subject'));
      return mine.length === 3 && mine;
    });
    expect(subjects).toEqual([
      expect.stringMatching(/received your order/),
      expect.stringMatching(/on its way/),
      expect.stringMatching(/was delivered/),
    ]);
    // The email shows the order as placed: its lines and total.
    const received = system.mail.messages.find(
      (m) => m.to.includes(happyEmail) && /received your order/.test(m.header('subject') ?? ''),
    )!;
    // The body is quoted-printable: soft line breaks out, =XX bytes back.
    const body = Buffer.from(
      received.raw
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    ).toString('utf8');
    expect(body).toMatch(/Hello Ada Lovelace/);
    expect(body).toMatch(/3 × Brass compass +15\.00 USD/);
    expect(body).toMatch(/Total: 15\.00 USD/);
    expect(await inventoryViolations(system)).toEqual([]);
  });

  it('publishes inventory.low_stock once per downward crossing of the threshold', async () => {
    const p = await createProduct(system, { initialStock: 12, lowStockThreshold: 10 });
    await place('low', p.id, 1); // 11: above
    await place('low', p.id, 2); // 9: crossed
    await place('low', p.id, 1); // 8: still below, no new alert
    await eventually(async () => (await lowStockEvents(p.id)).length === 1);
    await system.graphql(
      `mutation($id: ID!) { restockProduct(productId: $id, quantity: 10) { id } }`,
      { id: p.id },
      await system.operatorHeaders(),
    ); // 18: back above
    await place('low', p.id, 8); // 10: crossed again (at the threshold counts)
    const alerts = await eventually(async () => {
      const a = await lowStockEvents(p.id);
      return a.length === 2 && a;
    });
    expect(alerts).toEqual([
      { productId: p.id, availableQuantity: 9, threshold: 10 },
      { productId: p.id, availableQuantity: 10, threshold: 10 },
    ]);
    await new Promise((r) => setTimeout(r, 300));
    expect(await lowStockEvents(p.id)).toHaveLength(2);
  });

  it('marks a declined payment PAYMENT_FAILED and releases the stock at once', async () => {
    const p = await createProduct(system, { initialStock: 5 });
    const id = await place('declined', p.id, 2, 'tok_chargeDeclined');
    const failed = await untilStatus('declined', id, 'PAYMENT_FAILED');
    expect(failed.statusHistory.at(-1)).toMatchObject({ previousStatus: 'PENDING_PAYMENT', reason: 'card declined' });
    expect(await eventually(async () => (await stockOf(system, p.id)).reserved === 0 && stockOf(system, p.id))).toEqual(
      { available: 5, reserved: 0, sold: 0, stocked: 5 },
    );
    expect(failed.shipment).toBeNull();
    const declinedEmail = (await who('declined')).email;
    const mails = await eventually(async () => {
      const m = system.mail.messages.filter((x) => x.to.includes(declinedEmail));
      return m.length === 2 && m;
    });
    expect(mails[1].header('subject')).toMatch(/Payment for order .* failed/);
    expect(mails[1].raw).toMatch(/card declined/);
  });

  it('retries a transient payment error with backoff, then succeeds', async () => {
    const p = await createProduct(system, { initialStock: 5 });
    const id = await place('flaky', p.id, 1, 'tok_processingError');
    await untilStatus('flaky', id, 'PENDING_SHIPMENT');
    const payment = await system.orders.db.payment.findUnique({ where: { orderId: id } });
    expect(payment).toMatchObject({ status: 'SUCCEEDED', attempts: 3 });
  });

  it('declines unknown payment tokens', async () => {
    const p = await createProduct(system, { initialStock: 5 });
    const id = await place('unknown-token', p.id, 1, 'tok_madeUp');
    const o = await untilStatus('unknown-token', id, 'PAYMENT_FAILED');
    expect(o.statusHistory.at(-1).reason).toBe('unknown payment token');
  });

  it('cancels before payment: stock released, never charged, no shipment', async () => {
    const p = await createProduct(system, { initialStock: 5 });
    // tok_processingError keeps the payment waiting on its backoff while the customer cancels.
    const id = await place('early-cancel', p.id, 2, 'tok_processingError');
    const res = await system.graphql(
      `mutation($id: ID!) { cancelOrder(orderId: $id) { __typename } }`,
      { id },
      (await who('early-cancel')).headers,
    );
    expect(res.data.cancelOrder.__typename).toBe('OrderCancelled');
    expect(await stockOf(system, p.id)).toEqual({ available: 5, reserved: 0, sold: 0, stocked: 5 });
    const payment = await eventually(() => system.orders.db.payment.findUnique({ where: { orderId: id } }));
    expect(payment).toMatchObject({ status: 'FAILED', reason: 'order cancelled before payment' });
    await new Promise((r) => setTimeout(r, 500));
    expect((await order('early-cancel', id)).status).toBe('CANCELLED');
    expect(await system.shipments.db.shipment.count({ where: { orderId: id } })).toBe(0);
  });

  it('pays and moves the order on in one transaction: no paid order is ever left PENDING_PAYMENT', async () => {
    const p = await createProduct(system, { initialStock: 5 });
    const paid = await place('one-step-payment', p.id, 1);
    const declined = await place('one-step-payment', p.id, 1, 'tok_chargeDeclined');
    await untilStatus('one-step-payment', paid, 'PENDING_SHIPMENT');
    await untilStatus('one-step-payment', declined, 'PAYMENT_FAILED');
    // The payment row and the status it caused were written by the same transaction (same xmin), so a
    // crash can never leave a charged order waiting for a second step: there is none.
    for (const [id, status] of [
      [paid, 'PENDING_SHIPMENT'],
      [declined, 'PAYMENT_FAILED'],
    ] as const) {
      const [row] = await system.orders.db.$queryRawUnsafe<{ same: boolean }[]>(
        `SELECT p.xmin::text = h.xmin::text AS same FROM payments p JOIN order_status_history h ON h.order_id = p.order_id
          WHERE p.order_id = $1::uuid AND h.status = $2::order_status`,
        id,
        status,
      );
      expect(row, `${status} history row of ${id}`).toBeDefined();
      expect(row.same).toBe(true);
    }
  });

  it('cancels after payment: shipment cancelled, payment refunded, units returned', async () => {
    const p = await createProduct(system, { initialStock: 5 });
    const id = await place('late-cancel', p.id, 2);
    await eventually(async () => {
      const o = await order('late-cancel', id);
      return o.status === 'PENDING_SHIPMENT' && o.shipment && (await stockOf(system, p.id)).sold === 2;
    });
    const res = await system.graphql(
      `mutation($id: ID!) { cancelOrder(orderId: $id, reason: "found it cheaper") { __typename ... on OrderCancelled { order { status shipment { status } } } } }`,
      { id },
      (await who('late-cancel')).headers,
    );
    expect(res.data.cancelOrder).toEqual({
      __typename: 'OrderCancelled',
      order: { status: 'CANCELLED', shipment: { status: 'CANCELLED' } },
    });
    expect(await eventually(async () => (await stockOf(system, p.id)).sold === 0 && stockOf(system, p.id))).toEqual({
      available: 5,
      reserved: 0,
      sold: 0,
      stocked: 5,
    });
    const moves = await system.products.db.stockMovement.findMany({
      where: { orderId: id },
      orderBy: { id: 'asc' },
      select: { type: true, quantity: true },
    });
    expect(moves).toEqual([
      { type: 'RESERVE', quantity: -2 },
      { type: 'COMMIT', quantity: -2 },
      { type: 'RETURN', quantity: 2 },
    ]);
    expect((await system.orders.db.payment.findUnique({ where: { orderId: id } }))?.status).toBe('REFUNDED');
    const shipped = await system.graphql(
      `mutation($id: ID!) { cancelOrder(orderId: $id) { __typename ... on CannotCancel { status } } }`,
      { id },
      (await who('late-cancel')).headers,
    );
    expect(shipped.data.cancelOrder).toEqual({ __typename: 'CannotCancel', status: 'CANCELLED' });
  });

  it('lets exactly one of a cancel and a dispatch win, every time', async () => {
    const p = await createProduct(system, { initialStock: 100 });
    const ids = await Promise.all(Array.from({ length: 8 }, () => place('racer', p.id, 1)));
    const ready = await Promise.all(
      ids.map((id) =>
        eventually(async () => {
          const o = await order('racer', id);
          return o.status === 'PENDING_SHIPMENT' && o.shipment && o;
        }),
      ),
    );
    const outcomes = await Promise.all(
      ready.map(async (o) => {
        const [cancel, ship] = await Promise.all([
          system.graphql(
            `mutation($id: ID!) { cancelOrder(orderId: $id) { __typename } }`,
            { id: o.id },
            (await who('racer')).headers,
          ),
          system.graphql(SHIP, { id: o.shipment.id, s: 'SHIPPED' }, await system.operatorHeaders()),
        ]);
        return { id: o.id, answer: cancel.data?.cancelOrder.__typename, shipped: !ship.errors };
      }),
    );
    let cancelled = 0;
    for (const o of outcomes) {
      // A cancel answered CancellationPending (its verdict was late) is decided by now or soon: the order tells.
      const final = await untilStatus('racer', o.id, o.shipped ? 'SHIPPED' : 'CANCELLED');
      expect(final.shipment.status).toBe(o.shipped ? 'SHIPPED' : 'CANCELLED');
      expect(o.answer).toMatch(
        o.shipped ? /^(CannotCancel|CancellationPending)$/ : /^(OrderCancelled|CancellationPending)$/,
      );
      if (!o.shipped) cancelled++;
    }
    expect(
      await eventually(async () => (await stockOf(system, p.id)).sold === 8 - cancelled && stockOf(system, p.id)),
    ).toMatchObject({ sold: 8 - cancelled, reserved: 0 });
  });

  it('changes nothing when every event of a saga is delivered again', async () => {
    const p = await createProduct(system, { initialStock: 10 });
    const id = await place('dupes', p.id, 2);
    const shipment = (
      await eventually(async () => {
        const o = await order('dupes', id);
        return o.shipment && o;
      })
    ).shipment;
    await system.graphql(SHIP, { id: shipment.id, s: 'SHIPPED' }, await system.operatorHeaders());
    await untilStatus('dupes', id, 'SHIPPED');
    const events = await eventually(async () => {
      const e = await eventsOf(id);
      const types = new Set(e.map((x) => x.envelope.type));
      return (
        [
          'orders.created',
          'payments.succeeded',
          'inventory.committed',
          'shipments.created',
          'shipments.status_updated',
        ].every((t) => types.has(t)) && e
      );
    });
    await new Promise((r) => setTimeout(r, 500));
    const before = await footprint(id, p.id);
    const js = nc.jetstream();
    for (const e of events) {
      // A new Nats-Msg-Id gets past the stream's de-duplication, as a redelivery would.
      const h = natsHeaders();
      h.set('Nats-Msg-Id', `${e.envelope.id}:dup`);
      await js.publish(e.subject, e.data, { msgID: `${e.envelope.id}:dup`, headers: h });
    }
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await footprint(id, p.id)).toEqual(before);
    expect(new Set(events.map((e) => e.envelope.type)).size).toBeGreaterThanOrEqual(7);
  });

  it('dead-letters poison messages with the reason, goes on, and replays them on demand', async () => {
    const js = nc.jetstream();
    const subject = `${system.natsPrefix}.payments.succeeded`;
    await js.publish(subject, 'this is not json', { msgID: randomUUID() });
    await js.publish(subject, JSON.stringify({ hello: 'world' }), { msgID: randomUUID() });
    const wrongData = createEvent({
      type: 'payments.succeeded',
      source: 'test',
      correlationId: randomUUID(),
      data: { orderId: 'nope' } as never,
    });
    await js.publish(subject, JSON.stringify(wrongData), { msgID: wrongData.id });

    const bus = await adminBus();
    try {
      // products-commit-reservation reads payments.succeeded: it dead-letters each message.
      const letters = await eventually(async () => {
        const l = await listDeadLetters(bus);
        return l.length >= 3 && l;
      });
      const reasons = letters.map((l) => `${l.consumer}: ${l.error}`);
      expect(reasons).toEqual(
        expect.arrayContaining([
          'products-commit-reservation: invalid JSON',
          expect.stringMatching(/^products-commit-reservation: not an event envelope/),
          expect.stringMatching(/^products-commit-reservation: data does not match payments.succeeded v1: orderId/),
        ]),
      );
      expect(letters.every((l) => l.originalSubject === subject)).toBe(true);

      // The consumers went on.
      const p = await createProduct(system, { initialStock: 5 });
      const id = await place('after-poison', p.id, 1);
      await untilStatus('after-poison', id, 'PENDING_SHIPMENT');

      // Replay puts the original back on its subject and takes it off the DLQ; poison stays poison.
      const first = letters[0];
      await replayDeadLetter(bus, first.seq);
      const after = await eventually(async () => {
        const l = await listDeadLetters(bus);
        return l.length > letters.length - 1 && !l.some((x) => x.seq === first.seq) && l;
      });
      expect(after.some((l) => l.error === first.error && l.seq > first.seq)).toBe(true);
    } finally {
      await bus.close();
    }
  });

  it('dead-letters an event that keeps failing after max deliveries', async () => {
    // orders.created for an order that does not exist: the payment worker waits for it, then gives up.
    const ghost = createEvent({
      type: 'orders.created',
      source: 'test',
      correlationId: randomUUID(),
      data: {
        orderId: randomUUID(),
        customerId: 'ghost',
        items: [{ productId: randomUUID(), quantity: 1, unitPrice: '1.00' }],
        totalAmount: { amount: '1.00', currencyCode: 'USD' },
        paymentToken: 'tok_visa',
      },
    });
    await nc.jetstream().publish(`${system.natsPrefix}.orders.created`, JSON.stringify(ghost), { msgID: ghost.id });
    const bus = await adminBus();
    try {
      const letter = await eventually(
        async () =>
          (await listDeadLetters(bus)).find((l) => l.original.includes(ghost.id) && l.consumer === 'orders-payments'),
        { timeoutMs: 30_000 },
      );
      expect(letter.error).toMatch(/^failed 8 times: order not visible yet/);
      expect(letter.deliveries).toBe(8);
    } finally {
      await bus.close();
    }
  });

  it('keeps the invariant after 300 mixed orders with random tokens and cancels; every email exactly once', async () => {
    const products = await Promise.all(Array.from({ length: 10 }, () => createProduct(system, { initialStock: 80 })));
    const tokens = ['tok_visa', 'tok_visa', 'tok_visa', 'tok_chargeDeclined', 'tok_processingError', 'tok_whatever'];
    const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];
    // Signed up beforehand: each sign-up is a deliberately slow password hash.
    (await system.signUpCustomers(40, 'mixed')).forEach((c, i) => customers.set(`mixed-${i}`, Promise.resolve(c)));
    const placed: { id: string; customer: string }[] = [];
    for (let batch = 0; batch < 15; batch++) {
      const results = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const customer = `mixed-${(batch * 20 + i) % 40}`;
          const lines = [...new Set([pick(products), pick(products)])].map((p) => ({
            productId: p.id,
            quantity: 1 + Math.floor(Math.random() * 3),
          }));
          const r = await system.graphql(
            PLACE_ORDER,
            { input: buildOrderInput({ items: lines, paymentToken: pick(tokens) }) },
            (await who(customer)).headers,
          );
          return r.data?.placeOrder.__typename === 'OrderPlaced'
            ? { id: r.data.placeOrder.order.id as string, customer }
            : null;
        }),
      );
      for (const r of results) if (r) placed.push(r);
      await Promise.all(
        placed
          .slice(-20)
          .filter(() => Math.random() < 0.25)
          .map(async (o) =>
            system.graphql(
              `mutation($id: ID!) { cancelOrder(orderId: $id) { __typename } }`,
              { id: o.id },
              (await who(o.customer)).headers,
            ),
          ),
      );
    }
    expect(placed.length).toBeGreaterThan(100);
    const ids = placed.map((o) => o.id);
    // Settled: every order in a state the saga leaves it in, with its stock settled too.
    await eventually(
      async () => {
        const pending = await system.orders.db.order.count({ where: { id: { in: ids }, status: 'PENDING_PAYMENT' } });
        const active = await system.products.db.reservation.count({
          where: { orderId: { in: ids }, status: 'ACTIVE' },
        });
        const waitingCancels = await system.orders.db.cancelRequest.count({
          where: { orderId: { in: ids }, verdict: null },
        });
        return pending === 0 && active === 0 && waitingCancels === 0;
      },
      { timeoutMs: 60_000 },
    );
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await inventoryViolations(system)).toEqual([]);
    const byStatus = await system.orders.db.order.groupBy({ by: ['status'], where: { id: { in: ids } }, _count: true });
    expect(byStatus.map((s) => s.status).sort()).toEqual(
      expect.arrayContaining(['CANCELLED', 'PAYMENT_FAILED', 'PENDING_SHIPMENT']),
    );
    // Sold units are exactly those of the paid, uncancelled orders.
    const paidItems = await system.orders.db.orderItem.findMany({
      where: { order: { id: { in: ids }, status: 'PENDING_SHIPMENT' } },
    });
    const soldNow = await system.products.db.product.aggregate({
      where: { id: { in: products.map((p) => p.id) } },
      _sum: { sold: true, reserved: true },
    });
    expect(soldNow._sum).toEqual({ sold: paidItems.reduce((n, i) => n + i.quantity, 0), reserved: 0 });
    // One payment outcome per order.
    expect(await system.orders.db.payment.count({ where: { orderId: { in: ids } } })).toBe(ids.length);
    // Every email once: one per order received, one per cancelled or failed order; all sent, none twice.
    const expected =
      ids.length + byStatus.filter((s) => s.status !== 'PENDING_SHIPMENT').reduce((n, s) => n + s._count, 0);
    await eventually(
      async () =>
        (await system.orders.db.notification.count({ where: { orderId: { in: ids }, status: 'SENT' } })) === expected,
      { timeoutMs: 60_000 },
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(await system.orders.db.notification.count({ where: { orderId: { in: ids } } })).toBe(expected);
    const messageIds = system.mail.messages.map((m) => m.header('message-id'));
    expect(new Set(messageIds).size).toBe(messageIds.length);
  }, 120_000);

  it('retries emails while the SMTP server refuses them, and sends each once when it is back', async () => {
    system.mail.setRefusing(true);
    const p = await createProduct(system, { initialStock: 5 });
    let id: string;
    try {
      id = await place('smtp-down', p.id, 1, 'tok_chargeDeclined');
      await eventually(
        async () => (await system.orders.db.notification.count({ where: { orderId: id, status: 'FAILED' } })) > 0,
      );
    } finally {
      system.mail.setRefusing(false);
    }
    await eventually(
      async () => (await system.orders.db.notification.count({ where: { orderId: id!, status: 'SENT' } })) === 2,
      { timeoutMs: 30_000 },
    );
    const smtpDownEmail = (await who('smtp-down')).email;
    const mails = system.mail.messages.filter((m) => m.to.includes(smtpDownEmail));
    expect(mails).toHaveLength(2);
  });
});

describe('the saga across a NATS restart', () => {
  it('keeps events in the outbox while NATS is down and completes the saga when it is back', async () => {
    const store = mkdtempSync(join(tmpdir(), 'orderflow-nats-'));
    const port = await freePort();
    let nats = await startNats({ storeDir: store, port });
    const system = await startSystem({ natsUrl: nats.url, env: { SAGA_RETRY_SCALE: '0.05' } });
    const who = async (_name: string) => outage;
    const outage = await system.signUpCustomer('outage');
    try {
      const p = await createProduct(system, { initialStock: 20 });
      await nats.stop();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await system.graphql(
          PLACE_ORDER,
          { input: buildOrderInput({ items: [{ productId: p.id, quantity: 1 }] }) },
          (await who('outage')).headers,
        );
        expect(r.data.placeOrder.__typename).toBe('OrderPlaced');
        ids.push(r.data.placeOrder.order.id);
      }
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await system.orders.db.outboxEvent.count({ where: { publishedAt: null } })).toBeGreaterThanOrEqual(5);
      nats = await startNats({ storeDir: store, port });
      await eventually(
        async () =>
          (await system.orders.db.order.count({ where: { id: { in: ids }, status: 'PENDING_SHIPMENT' } })) === 5,
        { timeoutMs: 60_000 },
      );
      await eventually(
        async () => (await system.shipments.db.shipment.count({ where: { orderId: { in: ids } } })) === 5,
      );
      expect(await eventually(async () => (await stockOf(system, p.id)).sold === 5 && stockOf(system, p.id))).toEqual({
        available: 15,
        reserved: 0,
        sold: 5,
        stocked: 20,
      });
      expect(await system.orders.db.payment.count({ where: { orderId: { in: ids } } })).toBe(5);
    } finally {
      await system.stop();
      await nats.stop();
      rmSync(store, { recursive: true, force: true });
    }
  }, 120_000);
});
