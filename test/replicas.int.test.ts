// Two replicas of every subgraph (issue 11, part 5): each a process of its
// own on the same database and NATS durables, behind a round-robin balancer
// (test/support/system.ts `replicas`). Customers place orders (paid, declined,
// and failing transiently before they pay), double-submit some, cancel some
// at once (racing the payment), race a cancel against the dispatch of others,
// and the delivery partner moves shipments through SHIPPED, IN_TRANSIT and
// DELIVERED, all at the same time, so that events of one order are handled
// by whichever replica pulls them. Once the saga has settled, the chaos
// suite's invariants must hold (test/support/saga-invariants.ts), each
// order's status history must be one forward chain (its events applied in
// order, none twice), and every answer a client got must be what happened.
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsStreamName, natsSubject } from '@orderflow/contracts/nats-access';
import { canCancel, canTransition } from '../subgraphs/orders/src/domain/order-status.ts';
import type { OrderStatus } from '../subgraphs/orders/src/db.ts';
import { processCpuSeconds } from './chaos/cluster.ts';
import {
  NO_PAYMENT_MISMATCH,
  SETTLED,
  countBy,
  emailMismatches,
  lostOrDoubledOrders,
  ordersNotAtRest,
  paymentMismatches,
  readSagaFacts,
  stockMismatches,
  waitForSettled,
  type ClientView,
  type SagaDatabase,
  type SagaFacts,
  type SagaLeftovers,
  type SagaSources,
} from './support/saga-invariants.ts';
import {
  PLACE_ORDER,
  bearer,
  buildOrderInput,
  createProduct,
  type Customer,
  type GraphQLResponse,
  type System,
  startSystem,
} from './support/system.ts';

const REPLICAS = 2;
/** Each fate with each payment token twice. */
const ORDERS = 56;
/** Customer flows under way at once. */
const CONCURRENCY = 12;
const SETTLE_TIMEOUT_MS = 120_000;

const CANCEL = `mutation($id: ID!) { cancelOrder(orderId: $id, reason: "replicas") { __typename ... on CannotCancel { status } } }`;
const ORDER = `query($id: ID!) { order(id: $id) { id status shipment { id status } } }`;
const SHIP = `mutation($id: ID!, $s: ShipmentStatus!) { updateShipmentStatus(input: { shipmentId: $id, status: $s }) { id status } }`;

/** What the customer and the delivery partner do with an order once it is placed. */
type Fate =
  | 'cancel at once'
  | 'cancel once paid'
  | 'cancel racing the dispatch'
  | 'deliver'
  | 'ship'
  | 'ship, then transit'
  | 'nothing';
const FATES: Fate[] = [
  'cancel at once',
  'cancel once paid',
  'cancel racing the dispatch',
  'deliver',
  'ship',
  'ship, then transit',
  'nothing',
];
/** Paid, declined, and paid on the third try (two transient errors, retried by whichever replica pulls the event). */
const TOKENS = ['tok_visa', 'tok_chargeDeclined', 'tok_visa', 'tok_processingError'];

interface Flow {
  key: string;
  fate: Fate;
  token: string;
  orderId: string | null;
  /** The order ids of the OrderPlaced answers (two when double-submitted), and any other answer. */
  placed: string[];
  notPlaced: string[];
  cancel: string | null;
  /** The shipment statuses the delivery partner set successfully, and the errors of those refused. */
  shipped: string[];
  shipRefused: string[];
  /** The order's status when the flow began acting on it after placing (waiting for its shipment). */
  seen: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`${REPLICAS} replicas of every subgraph, placing, paying, shipping and cancelling at once`, () => {
  let system: System;
  let nc: NatsConnection;
  const pools = new Map<SagaDatabase, pg.Pool>();
  let flows: Flow[];
  let left: SagaLeftovers;
  let facts: SagaFacts;
  let history: Map<string, { previous: string | null; status: string }[]>;

  const sql: SagaSources['sql'] = async (service, text, params = []) => {
    let pool = pools.get(service);
    if (!pool) {
      pool = new pg.Pool({ connectionString: system.databaseUrls[service], max: 2 });
      pools.set(service, pool);
    }
    return (await pool.query(text, params)).rows;
  };
  const sources = (): SagaSources => ({
    sql,
    nc,
    stream: (name) => natsStreamName(system.natsPrefix, name),
    subject: (type) => natsSubject(system.natsPrefix, type),
  });

  beforeAll(async () => {
    const started = Date.now();
    system = await startSystem({ replicas: REPLICAS, env: { SAGA_RETRY_SCALE: '0.2' } });
    nc = await connect(system.natsAdmin);
    const products = await Promise.all(
      Array.from({ length: 6 }, (_, i) => createProduct(system, { name: `Replicated ${i}`, initialStock: 40 })),
    );
    const customers = await system.signUpCustomers(8, 'replicas');
    const partner = bearer(await system.clientToken('delivery-partner'));
    const cpuBefore = replicaCpu();
    const t0 = Date.now();
    const setUpMs = t0 - started;

    flows = Array.from({ length: ORDERS }, (_, i) => ({
      key: `replicas-${randomUUID()}`,
      fate: FATES[i % FATES.length],
      token: TOKENS[Math.floor(i / FATES.length) % TOKENS.length],
      orderId: null,
      placed: [],
      notPlaced: [],
      cancel: null,
      shipped: [],
      shipRefused: [],
      seen: null,
    }));
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < flows.length) {
          const i = next++;
          await runFlow(flows[i], i, customers[i % customers.length], [
            products[i % products.length].id,
            products[(i * 7 + 1) % products.length].id,
          ]);
        }
      }),
    );
    const loadMs = Date.now() - t0;

    const settled = await waitForSettled(sources(), SETTLE_TIMEOUT_MS);
    left = settled.left;
    facts = await readSagaFacts(
      sources(),
      system.mail.messages.map((m) => m.header('message-id') ?? ''),
    );
    history = new Map();
    for (const r of await sql<{ order_id: string; previous: string | null; status: string }>(
      'orders',
      'SELECT order_id::text, previous_status::text AS previous, status::text FROM order_status_history',
    ))
      history.set(r.order_id, [...(history.get(r.order_id) ?? []), { previous: r.previous, status: r.status }]);

    const cpuAfter = replicaCpu();
    console.log(
      [
        '── replicas summary ──',
        `set up in ${(setUpMs / 1000).toFixed(1)} s (system, products, customers); ${flows.length} customer flows in ${(loadMs / 1000).toFixed(1)} s; settled ${(settled.settleMs / 1000).toFixed(1)} s later`,
        `order states: ${fmt(countBy(facts.orders.map((o) => o.status)))}`,
        `by fate: ${FATES.map((f) => `${f} → ${fmt(countBy(flows.filter((x) => x.fate === f).map((x) => statusOf(x) ?? 'not placed')))}`).join('; ')}`,
        `cancel answers: ${fmt(countBy(flows.flatMap((f) => (f.cancel ? [f.cancel] : []))))}; requests retried: ${retried}`,
        `requests each replica answered (balancer): ${JSON.stringify(system.served())}`,
        `CPU seconds of each subgraph's second replica during the run: ${Object.entries(cpuAfter)
          .map(([name, s]) => `${name} ${(s - cpuBefore[name]).toFixed(1)}`)
          .join(', ')}`,
        `emails received: ${facts.emails.length}; dead letters: ${facts.deadLetters}`,
      ].join('\n'),
    );

    async function runFlow(flow: Flow, i: number, customer: Customer, productIds: string[]) {
      const input = buildOrderInput({
        idempotencyKey: flow.key,
        paymentToken: flow.token,
        items: [...new Set(productIds)].map((productId, k) => ({ productId, quantity: 1 + k })),
      });
      // A double click on every third order: the same key twice at once, most likely on different replicas.
      const tries = i % 3 === 0 ? 2 : 1;
      const answers = await Promise.all(
        Array.from({ length: tries }, () => asClient(() => system.graphql(PLACE_ORDER, { input }, customer.headers))),
      );
      for (const a of answers) {
        const r = a.data?.placeOrder;
        if (r?.__typename === 'OrderPlaced') flow.placed.push(r.order.id);
        else flow.notPlaced.push(describeAnswer(a));
      }
      flow.orderId = flow.placed[0] ?? null;
      if (!flow.orderId) return;
      const id = flow.orderId;
      const cancel = async () => {
        const res = await asClient(() => system.graphql(CANCEL, { id }, customer.headers));
        const answer = res.data?.cancelOrder;
        flow.cancel = answer ? [answer.__typename, answer.status].filter(Boolean).join(' ') : describeAnswer(res);
      };
      const ship = async (shipmentId: string, statuses: string[]) => {
        for (const s of statuses) {
          const res = await asClient(() => system.graphql(SHIP, { id: shipmentId, s }, partner));
          if (res.errors || !res.data) return void flow.shipRefused.push(`${s}: ${describeAnswer(res)}`);
          flow.shipped.push(s);
        }
      };
      if (flow.fate === 'cancel at once') return cancel();
      if (flow.fate === 'nothing') return;
      // The shipment exists once the payment has gone through (or never: a declined card).
      let shipmentId: string | null = null;
      for (const until = Date.now() + 60_000; Date.now() < until; await sleep(150)) {
        const o = (await system.graphql(ORDER, { id }, customer.headers)).data?.order;
        flow.seen = o?.status ?? null;
        if (o?.shipment && o.status === 'PENDING_SHIPMENT') shipmentId = o.shipment.id;
        if (shipmentId || (o && o.status !== 'PENDING_PAYMENT' && o.status !== 'PENDING_SHIPMENT')) break;
      }
      if (!shipmentId) return;
      if (flow.fate === 'cancel once paid') await cancel();
      // Every other race gives the cancel a head start, so that both sides win some.
      const headStart = Math.floor(i / FATES.length) % 2 === 0 ? 100 : 0;
      if (flow.fate === 'cancel racing the dispatch')
        await Promise.all([cancel(), sleep(headStart).then(() => ship(shipmentId, ['SHIPPED']))]);
      if (flow.fate === 'ship') await ship(shipmentId, ['SHIPPED']);
      if (flow.fate === 'ship, then transit') await ship(shipmentId, ['SHIPPED', 'IN_TRANSIT']);
      if (flow.fate === 'deliver') await ship(shipmentId, ['SHIPPED', 'IN_TRANSIT', 'DELIVERED']);
    }
  }, 600_000);

  afterAll(async () => {
    await nc?.close();
    await Promise.all([...pools.values()].map((p) => p.end()));
    await system?.stop();
  });

  /** The settled status of a flow's order (null: none was placed). */
  const statusOf = (flow: Flow) => facts.orders.find((o) => o.id === flow.orderId)?.status ?? null;

  /** CPU seconds used so far by the further replica of each subgraph (its own process). */
  function replicaCpu(): Record<string, number> {
    return Object.fromEntries(
      Object.entries(system.replicaPids).map(([name, pids]) => [
        name,
        pids.reduce<number>((n, pid) => n + processCpuSeconds(pid), 0),
      ]),
    );
  }

  it('spreads the requests over both replicas of every subgraph', () => {
    const served = system.served();
    expect(Object.keys(served).sort()).toEqual(['auth', 'orders', 'products', 'shipments']);
    for (const [name, counts] of Object.entries(served))
      expect(
        counts!.every((n) => n > 0),
        `${name}: ${counts!.join(' / ')}`,
      ).toBe(true);
  });

  it('places every order once, double-submitted or not, and settles', () => {
    // Every submission answered OrderPlaced (stock is ample), a double one with the same order both times.
    expect(flows.filter((f) => f.notPlaced.length || !f.orderId).map((f) => f.notPlaced)).toEqual([]);
    const client: ClientView = {
      accepted: flows.map((f) => ({ key: f.key, orderId: f.orderId! })),
      answersByKey: new Map(flows.map((f) => [f.key, new Set(f.placed)])),
    };
    expect(lostOrDoubledOrders(facts, client)).toEqual({
      lost: [],
      mismatched: [],
      answeredTwoOrders: [],
      duplicatedKeys: [],
      unknown: [],
    });
    expect(left).toEqual(SETTLED);
  });

  it('leaves every order at rest with the shipment, payment and reservation its state implies', () => {
    expect(ordersNotAtRest(facts)).toEqual({ notAtRest: [], wrongShipment: [], shipmentsOfUnknownOrders: [] });
    expect(paymentMismatches(facts)).toEqual(NO_PAYMENT_MISMATCH);
    expect(stockMismatches(facts)).toEqual({
      unbalanced: [],
      soldNotPaid: [],
      wrongReservations: [],
      ordersWithoutReservation: [],
    });
  });

  it("applies each order's events in order and once: its status history is one forward chain to its status", () => {
    const broken = facts.orders
      .map((o) => ({ order: o.id, status: o.status, history: history.get(o.id) ?? [] }))
      .filter(({ status, history: rows }) => {
        // Follow the chain from the first status; every row is used once, each step allowed, ending at the status.
        let at: string | null = null;
        const left = [...rows];
        for (;;) {
          const i = left.findIndex((r) => r.previous === at);
          if (i < 0) break;
          const [row] = left.splice(i, 1);
          if (at !== null && !canTransition(at as OrderStatus, row.status as OrderStatus)) return true;
          at = row.status;
        }
        return left.length > 0 || at !== status;
      });
    expect(broken).toEqual([]);
  });

  it('sends no email twice, and sends every email the saga owes', () => {
    expect(emailMismatches(facts)).toEqual({
      sentTwice: [],
      withoutRow: [],
      recordedSentNeverReceived: [],
      wrongRowStatus: [],
      neverAttempted: [],
      unsettled: 0,
    });
  });

  it('ends every order as its customer and the delivery partner were told', () => {
    const wrong = flows
      .map((f) => ({ ...f, final: statusOf(f) }))
      .filter((f) => {
        const paid = f.token !== 'tok_chargeDeclined';
        // An order the customer was told is cancelled is cancelled.
        if (f.cancel === 'OrderCancelled' && f.final !== 'CANCELLED') return true;
        // CannotCancel names the status that stopped it, one that cannot be cancelled (never a paid order still
        // waiting for its dispatch): CANCELLED (already: a retried cancel whose first try got through) stays
        // cancelled, any other (dispatched, failed) is never cancelled.
        const refusedAt = f.cancel?.startsWith('CannotCancel ') ? f.cancel.slice('CannotCancel '.length) : null;
        if (refusedAt && canCancel(refusedAt as OrderStatus)) return true;
        if (
          f.cancel?.startsWith('CannotCancel') &&
          (f.cancel === 'CannotCancel CANCELLED') !== (f.final === 'CANCELLED')
        )
          return true;
        // Every step the delivery partner was told happened did, and nothing after it: the last one is the status.
        if (f.shipped.length && f.final !== f.shipped.at(-1)) return true;
        // A dispatch refused only because the racing cancel won: cancelled.
        if (f.fate === 'cancel racing the dispatch' && f.seen === 'PENDING_SHIPMENT')
          return f.shipped.length ? f.cancel === 'OrderCancelled' : f.final !== 'CANCELLED';
        // Paid orders nobody touched rest paid; shipped ones were never refused without a cancel.
        if (f.fate === 'nothing') return f.final !== (paid ? 'PENDING_SHIPMENT' : 'PAYMENT_FAILED');
        if (f.fate !== 'cancel at once' && f.shipRefused.length) return true;
        if (!paid && f.fate !== 'cancel at once') return f.final !== 'PAYMENT_FAILED';
        // A paid order cancelled before anyone dispatched it is cancelled (and refunded: paymentMismatches).
        if (f.fate === 'cancel once paid') return f.final !== 'CANCELLED';
        return false;
      })
      .map((f) => ({
        fate: f.fate,
        token: f.token,
        final: f.final,
        seen: f.seen,
        cancel: f.cancel,
        shipped: f.shipped,
        refused: f.shipRefused,
      }));
    expect(wrong).toEqual([]);
    // The scenario did what it says: each path was taken at least once.
    const finals = new Set(flows.map(statusOf));
    for (const s of ['CANCELLED', 'PAYMENT_FAILED', 'PENDING_SHIPMENT', 'SHIPPED', 'IN_TRANSIT', 'DELIVERED'])
      expect(finals, `no order ended ${s}`).toContain(s);
  });
});

/**
 * A request as a well-behaved client makes it: tried again (the same request: placeOrder's idempotency key
 * makes that safe) while the answer says to retry (SERVICE_UNAVAILABLE, HTTP 502/503), at most 4 times.
 */
async function asClient(request: () => Promise<GraphQLResponse>): Promise<GraphQLResponse> {
  for (let attempt = 1; ; attempt++) {
    const res = await request();
    if (attempt > 1) retried++;
    const retry =
      res.status === 502 || res.status === 503 || res.errors?.[0]?.extensions?.code === 'SERVICE_UNAVAILABLE';
    if (!retry || attempt === 4) return res;
    await sleep(500 * 2 ** attempt);
  }
}

/** Requests sent again after an answer that said to retry (printed: many mean a machine too busy). */
let retried = 0;

function describeAnswer(res: GraphQLResponse): string {
  if (res.errors?.length) return `error ${res.errors[0].extensions?.code ?? '?'}: ${res.errors[0].message}`;
  return `HTTP ${res.status} ${JSON.stringify(res.data)}`;
}

const fmt = (m: Map<string, number>) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';
