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

// Issue 15: the operator console's backend through the gateway — staff search, the federated
// timeline, business figures and the operator's actions, on the real system.

const SEARCH = `query($filter: OrderFilter, $first: Int, $after: String) {
  orders(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id status customerEmail createdAt } }
  }
}`;
const TIMELINE = `query($id: ID!) { order(id: $id) { id status timeline { at kind summary actor source } } }`;
const METRICS = `query($w: Int) { businessMetrics(windowMinutes: $w) {
  windowMinutes ordersPerMinute { at value } successRate averageOrderValue { amount currencyCode } p95ToPendingShipmentMs backlog { consumer pending }
} }`;

interface Entry {
  at: string;
  kind: string;
  summary: string;
  actor: string | null;
  source: string;
}

describe('the operator console', () => {
  let system: System;
  let operator: Headers;
  let alice: Customer;
  let bob: Customer;
  let lamp: { id: string };
  let chair: { id: string };

  async function place(
    customer: Customer,
    items: { productId: string; quantity: number }[],
    paymentToken = 'tok_visa',
  ) {
    const res = await system.graphql(
      PLACE_ORDER,
      { input: buildOrderInput({ items, paymentToken }) },
      customer.headers,
    );
    expect(res.data?.placeOrder.__typename).toBe('OrderPlaced');
    return res.data.placeOrder.order.id as string;
  }

  async function statusOf(orderId: string): Promise<string> {
    const res = await system.graphql(`query($id: ID!) { order(id: $id) { status } }`, { id: orderId }, operator);
    return res.data.order.status;
  }

  async function searchAll(filter: Record<string, unknown>, first = 2): Promise<string[]> {
    const ids: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 50; page++) {
      const res: any = await system.graphql(SEARCH, { filter, first, after }, operator);
      expect(res.errors).toBeUndefined();
      ids.push(...res.data.orders.edges.map((e: any) => e.node.id));
      if (!res.data.orders.pageInfo.hasNextPage) break;
      after = res.data.orders.pageInfo.endCursor;
    }
    return ids;
  }

  async function timeline(orderId: string, headers: Headers): Promise<Entry[]> {
    const res = await system.graphql(TIMELINE, { id: orderId }, headers);
    expect(res.errors).toBeUndefined();
    return res.data.order.timeline;
  }

  beforeAll(async () => {
    // Short retries: the dead-letter case below fails an email 30 times before it is dead-lettered.
    system = await startSystem({ env: { SAGA_RETRY_SCALE: '0.01' } });
    operator = await system.operatorHeaders();
    [alice, bob] = await system.signUpCustomers(2, 'console');
    lamp = await createProduct(system, { name: 'Console lamp', price: '10.00', initialStock: 100 });
    chair = await createProduct(system, { name: 'Console chair', price: '25.00', initialStock: 100 });
  }, 120_000);
  afterAll(async () => system?.stop());

  it('refuses the staff queries to a customer (FORBIDDEN)', async () => {
    for (const query of [SEARCH, METRICS]) {
      const res = await system.graphql(query, {}, alice.headers);
      expect(res.data ?? null).toBeNull();
      expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
    const cancel = await system.graphql(
      `mutation($id: ID!) { cancelOrderAsOperator(orderId: $id) { __typename } }`,
      { id: '00000000-0000-4000-8000-000000000000' },
      alice.headers,
    );
    expect(cancel.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const replay = await system.graphql(`mutation { replayDeadLetter(sequence: 1) }`, {}, alice.headers);
    expect(replay.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('finds orders by email, status, date and product, newest first, pages stable while orders are placed', async () => {
    const before = new Date().toISOString();
    const a1 = await place(alice, [{ productId: lamp.id, quantity: 1 }]);
    const b1 = await place(bob, [{ productId: chair.id, quantity: 1 }]);
    const a2 = await place(alice, [{ productId: chair.id, quantity: 2 }]);
    const a3 = await place(alice, [{ productId: lamp.id, quantity: 1 }], 'tok_chargeDeclined');
    const after3 = new Date().toISOString();
    await eventually(async () => (await statusOf(a3)) === 'PAYMENT_FAILED');

    // By email (case-insensitive), newest first, two per page; an order placed between pages does not
    // shift the pages already read: it comes before the first one.
    const first: any = await system.graphql(
      SEARCH,
      { filter: { customerEmail: alice.email.toUpperCase() }, first: 2 },
      operator,
    );
    expect(first.data.orders.totalCount).toBe(3);
    expect(first.data.orders.edges.map((e: any) => e.node.id)).toEqual([a3, a2]);
    expect(first.data.orders.edges[0].node.customerEmail).toBe(alice.email);
    const a4 = await place(alice, [{ productId: lamp.id, quantity: 1 }]);
    const second: any = await system.graphql(
      SEARCH,
      { filter: { customerEmail: alice.email }, first: 2, after: first.data.orders.pageInfo.endCursor },
      operator,
    );
    expect(second.data.orders.edges.map((e: any) => e.node.id)).toEqual([a1]);
    expect(second.data.orders.pageInfo.hasNextPage).toBe(false);
    expect(await searchAll({ customerEmail: alice.email })).toEqual([a4, a3, a2, a1]);

    expect(await searchAll({ customerEmail: alice.email, status: ['PAYMENT_FAILED'] })).toEqual([a3]);
    expect(await searchAll({ productId: chair.id })).toEqual([a2, b1]);
    expect(await searchAll({ createdAfter: before, createdBefore: after3 }, 3)).toEqual([a3, a2, b1, a1]);
    expect(await searchAll({ createdAfter: after3 })).toEqual([a4]);

    const bad = await system.graphql(SEARCH, { filter: { productId: 'nope' } }, operator);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.productId' });
    const badCursor = await system.graphql(SEARCH, { after: 'garbage' }, operator);
    expect(badCursor.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it("shows a paid and shipped order's timeline in time order: payment, stock, shipment, emails", async () => {
    const orderId = await place(bob, [{ productId: lamp.id, quantity: 2 }]);
    await eventually(async () => (await statusOf(orderId)) === 'PENDING_SHIPMENT');
    const shipmentId = await eventually(async () => {
      const res = await system.graphql(
        `query($id: ID!) { order(id: $id) { shipment { id } } }`,
        { id: orderId },
        operator,
      );
      return res.data.order.shipment?.id as string | undefined;
    });
    const moved = await system.graphql(
      `mutation($i: UpdateShipmentStatusInput!) { updateShipmentStatus(input: $i) { status } }`,
      { i: { shipmentId, status: 'SHIPPED', location: 'Leeds hub' } },
      operator,
    );
    expect(moved.errors).toBeUndefined();
    await eventually(async () => (await statusOf(orderId)) === 'SHIPPED');
    // The shipped email is sent after the status change: wait for it in the timeline.
    const staff = await eventually(async () => {
      const t = await timeline(orderId, operator);
      return t.filter((e) => e.kind === 'EMAIL' && / sent$/.test(e.summary)).length >= 2 ? t : null;
    });
    console.log(
      staff.map((e) => `${e.at} ${e.kind.padEnd(8)} ${e.source.padEnd(9)} ${e.actor ?? '-'} ${e.summary}`).join('\n'),
    );

    expect(staff.map((e) => e.at)).toEqual([...staff.map((e) => e.at)].sort());
    const kinds = (kind: string) => staff.filter((e) => e.kind === kind);
    expect(kinds('PAYMENT').map((e) => e.summary)).toEqual(['Payment of 20.00 USD succeeded']);
    expect(kinds('STOCK').map((e) => e.summary)).toEqual([
      expect.stringMatching(/^Reserved 2 × Console lamp/),
      expect.stringMatching(/^Committed \(sold\) 2 × Console lamp/),
    ]);
    const shipment = kinds('SHIPMENT');
    expect(shipment.map((e) => e.summary)).toEqual([
      expect.stringMatching(/ PROCESSING/),
      expect.stringMatching(/ SHIPPED at Leeds hub$/),
    ]);
    expect(shipment[1].actor).toBe('ops-console');
    expect(kinds('EMAIL').map((e) => e.summary)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/order-received.* sent$/),
        expect.stringMatching(/shipped.* sent$/),
      ]),
    );
    expect(kinds('STATUS').map((e) => e.summary)).toEqual([
      'Order placed (PENDING_PAYMENT)',
      'PENDING_PAYMENT → PENDING_SHIPMENT: payment succeeded',
      expect.stringMatching(/^PENDING_SHIPMENT → SHIPPED/),
    ]);
    // Causes before effects: reserved before placed, paid before committed, committed before shipped.
    const index = (re: RegExp) => staff.findIndex((e) => re.test(e.summary));
    expect(index(/^Reserved/)).toBeLessThan(index(/^Order placed/));
    expect(index(/^Payment of/)).toBeLessThan(index(/^Committed/));
    expect(index(/^Committed/)).toBeLessThan(index(/ SHIPPED at/));

    // The owner sees the same story without who did what.
    const own = await timeline(orderId, bob.headers);
    expect(own.map((e) => e.summary)).toEqual(staff.map((e) => e.summary));
    expect(own.every((e) => e.actor === null)).toBe(true);
    // Someone else sees no order at all.
    const other = await system.graphql(TIMELINE, { id: orderId }, alice.headers);
    expect(other.data.order).toBeNull();
  });

  it('cancels a paid order as an operator: stock returned, the cancel in the timeline with the operator', async () => {
    const before = await stockOf(system, chair.id);
    const orderId = await place(alice, [{ productId: chair.id, quantity: 3 }]);
    await eventually(async () => (await statusOf(orderId)) === 'PENDING_SHIPMENT');
    const res = await system.graphql(
      `mutation($id: ID!) { cancelOrderAsOperator(orderId: $id, reason: "customer phoned") { __typename } }`,
      { id: orderId },
      operator,
    );
    expect(res.errors).toBeUndefined();
    expect(['OrderCancelled', 'CancellationPending']).toContain(res.data.cancelOrderAsOperator.__typename);
    await eventually(async () => (await statusOf(orderId)) === 'CANCELLED');
    await eventually(async () => {
      const now = await stockOf(system, chair.id);
      return now.available === before.available && now.sold === before.sold && now.reserved === before.reserved;
    });

    const staff = await eventually(async () => {
      const t = await timeline(orderId, operator);
      return t.some((e) => e.kind === 'STOCK' && /^Returned/.test(e.summary)) ? t : null;
    });
    const cancel = staff.find((e) => e.kind === 'OPERATOR')!;
    expect(cancel).toMatchObject({ actor: 'ops-console', summary: 'Cancel requested by an operator: customer phoned' });
    expect(staff.some((e) => e.kind === 'PAYMENT' && /^Refunded 75.00 USD/.test(e.summary))).toBe(true);
    const own = await timeline(orderId, alice.headers);
    expect(own.find((e) => e.kind === 'OPERATOR')).toMatchObject({ actor: null });

    // Same rules as the customer's cancel: a cancelled order cannot be cancelled again.
    const again = await system.graphql(
      `mutation($id: ID!) { cancelOrderAsOperator(orderId: $id) { __typename ... on CannotCancel { status } } }`,
      { id: orderId },
      operator,
    );
    expect(again.data.cancelOrderAsOperator).toEqual({ __typename: 'CannotCancel', status: 'CANCELLED' });
  });

  it('reports the business figures from the rollups, and the backlog per consumer', async () => {
    const res = await system.graphql(METRICS, { w: 5 }, operator);
    expect(res.errors).toBeUndefined();
    const m = res.data.businessMetrics;
    console.log(JSON.stringify(m));
    expect(m.windowMinutes).toBe(5);
    expect(m.ordersPerMinute).toHaveLength(5);
    // Every order of this file so far was placed within the last few minutes.
    const placed = m.ordersPerMinute.reduce((a: number, p: { value: number }) => a + p.value, 0);
    expect(placed).toBeGreaterThanOrEqual(7);
    // One declined payment among the others.
    expect(m.successRate).toBeGreaterThan(0.5);
    expect(m.successRate).toBeLessThan(1);
    expect(Number(m.averageOrderValue.amount)).toBeGreaterThan(10);
    expect(m.p95ToPendingShipmentMs).toBeGreaterThan(0);
    expect(m.backlog.map((b: { consumer: string }) => b.consumer)).toEqual(
      expect.arrayContaining(['orders-payments', 'products-commit-reservation', 'shipments-create-shipment']),
    );

    const next = await place(bob, [{ productId: lamp.id, quantity: 1 }]);
    expect(next).toBeTruthy();
    const after = await system.graphql(METRICS, { w: 5 }, operator);
    const placedAfter = after.data.businessMetrics.ordersPerMinute.reduce(
      (a: number, p: { value: number }) => a + p.value,
      0,
    );
    expect(placedAfter).toBe(placed + 1);

    const bad = await system.graphql(METRICS, { w: 0 }, operator);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'windowMinutes' });
  });

  it("replays a dead-lettered event of an order: the email goes out, both are in the staff's timeline only", async () => {
    // An SMTP outage long enough for the order-received email to fail every attempt and be dead-lettered.
    system.mail.setRefusing(true);
    let orderId: string;
    try {
      orderId = await place(alice, [{ productId: lamp.id, quantity: 1 }]);
      await eventually(
        async () =>
          (await timeline(orderId, operator)).some(
            (e) => e.kind === 'DEAD_LETTER' && /orders-email-order-received/.test(e.summary),
          ),
        { timeoutMs: 60_000, intervalMs: 500 },
      );
    } finally {
      system.mail.setRefusing(false);
    }
    const staff = await timeline(orderId, operator);
    const letter = staff.find((e) => e.kind === 'DEAD_LETTER' && /orders-email-order-received/.test(e.summary))!;
    expect(letter.summary).toMatch(
      /^orders\.created dead-lettered by orders-email-order-received after \d+ deliveries/,
    );
    const sequence = Number(/sequence (\d+)/.exec(letter.summary)![1]);
    // The owner never sees the dead letter.
    expect((await timeline(orderId, alice.headers)).some((e) => e.kind === 'DEAD_LETTER')).toBe(false);

    const replay = await system.graphql(
      `mutation($s: Int!) { replayDeadLetter(sequence: $s) }`,
      { s: sequence },
      operator,
    );
    expect(replay.errors).toBeUndefined();
    expect(replay.data.replayDeadLetter).toBe(true);
    await eventually(() =>
      Promise.resolve(
        system.mail.messages.some((m) => m.to.includes(alice.email) && /received/i.test(m.header('subject') ?? '')),
      ),
    );

    const after = await eventually(async () => {
      const t = await timeline(orderId, operator);
      return t.some((e) => e.kind === 'EMAIL' && /order-received.* sent$/.test(e.summary)) ? t : null;
    });
    expect(after.some((e) => e.kind === 'DEAD_LETTER')).toBe(false);
    expect(after.find((e) => e.kind === 'OPERATOR')).toMatchObject({
      actor: 'ops-console',
      summary: `Replayed dead letter ${sequence} (orders.created, failed in orders-email-order-received)`,
    });
    const own = await timeline(orderId, alice.headers);
    expect(own.some((e) => e.kind === 'OPERATOR' || e.kind === 'DEAD_LETTER')).toBe(false);
    expect(own.some((e) => e.kind === 'EMAIL' && /sent$/.test(e.summary))).toBe(true);

    const gone = await system.graphql(
      `mutation($s: Int!) { replayDeadLetter(sequence: $s) }`,
      { s: sequence },
      operator,
    );
    expect(gone.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  }, 90_000);
});
