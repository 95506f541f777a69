// What must hold once the order saga has settled, whatever happened on the way
// (faults, replicas, races): no accepted order lost or made twice, every order
// at rest in a state the saga ends in with the shipment, payment and
// reservation that state implies, stock that adds up, no email twice. Read
// from the services' databases, JetStream and the SMTP sink; shared by the
// chaos suite (test/chaos) and the replica test (test/replicas.int.test.ts).
// Each check returns what it found wrong, by kind: all empty when it holds.
import type { NatsConnection } from 'nats';

export type SagaDatabase = 'orders' | 'products' | 'shipments';
/** SQL on one service's database. */
export type Sql = <T = any>(service: SagaDatabase, text: string, params?: unknown[]) => Promise<T[]>;

export interface SagaSources {
  sql: Sql;
  /** A NATS connection that may read every stream (the operator's). */
  nc: NatsConnection;
  /** A logical stream name (`ORDERS`) as it is on the wire (with the NATS_PREFIX of a test system). */
  stream: (name: string) => string;
  /** An event type (`orders.created`) as its subject on the wire. */
  subject: (type: string) => string;
}

/** What an order at rest in each state implies about the other services, and the status emails it is owed. */
const AT_REST: Record<
  string,
  { shipment: (string | null)[]; payment: string[]; reservation: string[]; emails: string[] }
> = {
  PENDING_SHIPMENT: { shipment: ['PROCESSING'], payment: ['SUCCEEDED'], reservation: ['COMMITTED'], emails: [] },
  SHIPPED: { shipment: ['SHIPPED'], payment: ['SUCCEEDED'], reservation: ['COMMITTED'], emails: ['shipped'] },
  IN_TRANSIT: { shipment: ['IN_TRANSIT'], payment: ['SUCCEEDED'], reservation: ['COMMITTED'], emails: ['shipped'] },
  DELIVERED: {
    shipment: ['DELIVERED'],
    payment: ['SUCCEEDED'],
    reservation: ['COMMITTED'],
    emails: ['shipped', 'delivered'],
  },
  PAYMENT_FAILED: {
    shipment: [null, 'CANCELLED'],
    payment: ['FAILED'],
    reservation: ['RELEASED'],
    emails: ['payment-failed'],
  },
  // Cancelled before payment: the payment step records FAILED and charges nothing; after: REFUNDED.
  CANCELLED: {
    shipment: [null, 'CANCELLED'],
    payment: ['FAILED', 'REFUNDED'],
    reservation: ['RELEASED', 'RETURNED'],
    emails: ['cancelled'],
  },
};
/** Every state the saga leaves an order in once nobody acts on it any more. */
export const AT_REST_STATES = Object.keys(AT_REST);
const PAID_STATES = AT_REST_STATES.filter((s) => AT_REST[s].payment.includes('SUCCEEDED'));

/** What is still under way: all zero once the saga has settled. */
export async function sagaLeftovers({ sql, nc, stream }: SagaSources) {
  const count = async (service: SagaDatabase, text: string) =>
    (await sql<{ n: number }>(service, `SELECT count(*)::int AS n FROM ${text}`))[0].n;
  const jsm = await nc.jetstreamManager();
  let backlog = 0;
  for (const name of ['ORDERS', 'INVENTORY', 'SHIPMENTS'])
    for await (const c of jsm.consumers.list(stream(name))) backlog += c.num_pending + c.num_ack_pending;
  return {
    pendingPayment: await count('orders', `orders WHERE status = 'PENDING_PAYMENT'`),
    activeReservations: await count('products', `reservations WHERE status = 'ACTIVE'`),
    emailsToRetry: await count('orders', `notifications WHERE status = 'FAILED'`),
    unpublished:
      (await count('orders', 'outbox WHERE published_at IS NULL')) +
      (await count('products', 'outbox WHERE published_at IS NULL')) +
      (await count('shipments', 'outbox WHERE published_at IS NULL')),
    paidWithoutShipment: await (async () => {
      const shipped = new Set(
        (await sql<{ order_id: string }>('shipments', 'SELECT order_id::text FROM shipments')).map((r) => r.order_id),
      );
      return (
        await sql<{ id: string }>('orders', `SELECT id::text FROM orders WHERE status = 'PENDING_SHIPMENT'`)
      ).filter((r) => !shipped.has(r.id)).length;
    })(),
    backlog,
  };
}
export type SagaLeftovers = Awaited<ReturnType<typeof sagaLeftovers>>;
export const SETTLED: SagaLeftovers = {
  pendingPayment: 0,
  activeReservations: 0,
  emailsToRetry: 0,
  unpublished: 0,
  paidWithoutShipment: 0,
  backlog: 0,
};
export const isSettled = (left: SagaLeftovers) => Object.values(left).every((n) => n === 0);

/** Waits until nothing is left under way, or `timeoutMs` has passed; resolves with what was left and how long it took. */
export async function waitForSettled(sources: SagaSources, timeoutMs: number) {
  const t0 = Date.now();
  let left = await sagaLeftovers(sources);
  while (!isSettled(left) && Date.now() - t0 < timeoutMs) {
    await new Promise((r) => setTimeout(r, 1_000));
    left = await sagaLeftovers(sources);
  }
  return { left, settleMs: Date.now() - t0 };
}

/** Everything the invariants are checked on, read once the saga has settled. */
export async function readSagaFacts(sources: SagaSources, emails: string[]) {
  const { sql, nc, stream } = sources;
  const jsm = await nc.jetstreamManager();
  return {
    orders: await sql<{ id: string; key: string; status: string }>(
      'orders',
      'SELECT id::text, idempotency_key AS key, status::text FROM orders',
    ),
    payments: await sql<{ order_id: string; status: string }>(
      'orders',
      'SELECT order_id::text, status::text FROM payments',
    ),
    notifications: await sql<{ event_id: string; order_id: string; kind: string; status: string }>(
      'orders',
      'SELECT event_id::text, order_id::text, kind, status::text FROM notifications',
    ),
    paidUnits: new Map(
      (
        await sql<{ product_id: string; n: number }>(
          'orders',
          `SELECT i.product_id::text, sum(i.quantity)::int AS n FROM order_items i JOIN orders o ON o.id = i.order_id
            WHERE o.status::text = ANY($1) GROUP BY 1`,
          [PAID_STATES],
        )
      ).map((r) => [r.product_id, r.n]),
    ),
    shipments: await sql<{ order_id: string; status: string }>(
      'shipments',
      'SELECT order_id::text, status::text FROM shipments',
    ),
    reservations: await sql<{ order_id: string; status: string }>(
      'products',
      'SELECT order_id::text, status::text FROM reservations',
    ),
    stock: await sql<{ id: string; available: number; reserved: number; sold: number; stocked: number }>(
      'products',
      'SELECT id::text, available, reserved, sold, stocked FROM products',
    ),
    events: await eventCounts(sources, ['orders.created', 'payments.succeeded', 'payments.failed']),
    deadLetters: (await jsm.streams.info(stream('DLQ'))).state.messages,
    /** The Message-ID of every email the SMTP sink received. */
    emails,
  };
}
export type SagaFacts = Awaited<ReturnType<typeof readSagaFacts>>;

/** What the clients were told: every idempotency key sent with the order ids OrderPlaced answers named for it. */
export interface ClientView {
  accepted: { key: string; orderId: string }[];
  answersByKey: Map<string, Set<string>>;
}

/** No accepted order lost, none made twice, none the clients never asked for. */
export function lostOrDoubledOrders(facts: SagaFacts, client: ClientView) {
  const byId = new Map(facts.orders.map((o) => [o.id, o]));
  return {
    lost: client.accepted.filter((a) => !byId.has(a.orderId)),
    mismatched: client.accepted.filter((a) => byId.has(a.orderId) && byId.get(a.orderId)!.key !== a.key),
    answeredTwoOrders: [...client.answersByKey].filter(([, ids]) => ids.size > 1),
    duplicatedKeys: [...countBy(facts.orders.map((o) => o.key))].filter(([, n]) => n > 1),
    unknown: facts.orders.filter((o) => !client.answersByKey.has(o.key)),
  };
}

/**
 * Every order at rest in one of `states` (default: every state the saga ends in), with the shipment that state
 * implies: a live one for a paid order, one that moved with the order once dispatched, none (or a cancelled one)
 * for a cancelled order, so nothing is dispatched for it.
 */
export function ordersNotAtRest(facts: SagaFacts, states: readonly string[] = AT_REST_STATES) {
  const shipmentOf = new Map(facts.shipments.map((s) => [s.order_id, s.status]));
  const orderIds = new Set(facts.orders.map((o) => o.id));
  return {
    notAtRest: facts.orders.filter((o) => !states.includes(o.status) || !AT_REST[o.status]),
    wrongShipment: facts.orders
      .map((o) => ({ order: o.id, status: o.status, shipment: shipmentOf.get(o.id) ?? null }))
      .filter((o) => AT_REST[o.status] && !AT_REST[o.status].shipment.includes(o.shipment)),
    shipmentsOfUnknownOrders: facts.shipments.filter((s) => !orderIds.has(s.order_id)),
  };
}

/** Exactly one payment outcome per order, agreeing with its state, in the database and in JetStream; no dead letter. */
export function paymentMismatches(facts: SagaFacts) {
  const paymentsOf = groupBy(facts.payments, (p) => p.order_id);
  const n = (type: string, id: string) => facts.events.get(`${type} ${id}`) ?? 0;
  return {
    wrongPaymentRows: facts.orders
      .map((o) => ({ order: o.id, status: o.status, payments: (paymentsOf.get(o.id) ?? []).map((p) => p.status) }))
      .filter((o) => o.payments.length !== 1 || !AT_REST[o.status]?.payment.includes(o.payments[0])),
    wrongEvents: facts.orders
      .map((o) => ({
        order: o.id,
        created: n('orders.created', o.id),
        outcomes: n('payments.succeeded', o.id) + n('payments.failed', o.id),
      }))
      .filter((e) => e.created !== 1 || e.outcomes !== 1),
    deadLetters: facts.deadLetters,
  };
}
export const NO_PAYMENT_MISMATCH = { wrongPaymentRows: [], wrongEvents: [], deadLetters: 0 };

/**
 * available + reserved + sold = stocked for every product, nothing held back, exactly the paid units sold, and
 * every order's reservation settled the way its state says (one without an order released by the sweeper).
 */
export function stockMismatches(facts: SagaFacts) {
  const statusOf = new Map(facts.orders.map((o) => [o.id, o.status]));
  const reserved = new Set(facts.reservations.map((r) => r.order_id));
  return {
    unbalanced: facts.stock.filter(
      (p) => p.available + p.reserved + p.sold !== p.stocked || p.available < 0 || p.reserved !== 0 || p.sold < 0,
    ),
    soldNotPaid: facts.stock
      .map((p) => ({ product: p.id, sold: p.sold, paidUnits: facts.paidUnits.get(p.id) ?? 0 }))
      .filter((p) => p.sold !== p.paidUnits),
    wrongReservations: facts.reservations.filter(
      (r) => !(AT_REST[statusOf.get(r.order_id)!]?.reservation ?? ['RELEASED']).includes(r.status),
    ),
    ordersWithoutReservation: facts.orders.filter((o) => !reserved.has(o.id)),
  };
}

/**
 * No email twice, each with its notification row, and every email the saga owes an order attempted. A row left
 * PENDING (or UNKNOWN) is a send cut short after its claim (a kill, a database restart) and never retried (at
 * most once): `unsettled` counts them, for the caller to bound.
 */
export function emailMismatches(facts: SagaFacts) {
  const messageId = (eventId: string) => `<${eventId}@orderflow.local>`;
  const rowOf = new Map(facts.notifications.map((n) => [messageId(n.event_id), n]));
  const received = new Set(facts.emails);
  const kinds = new Set(facts.notifications.map((n) => `${n.order_id} ${n.kind}`));
  const unsettled = facts.notifications.filter((n) => n.status !== 'SENT');
  return {
    sentTwice: facts.emails.filter((id, i) => facts.emails.indexOf(id) !== i),
    withoutRow: facts.emails.filter((id) => !rowOf.has(id)),
    recordedSentNeverReceived: facts.notifications.filter(
      (n) => n.status === 'SENT' && !received.has(messageId(n.event_id)),
    ),
    wrongRowStatus: unsettled.filter((n) => n.status !== 'PENDING' && n.status !== 'UNKNOWN'),
    neverAttempted: facts.orders
      .flatMap((o) => ['order-received', ...(AT_REST[o.status]?.emails ?? [])].map((kind) => `${o.id} ${kind}`))
      .filter((k) => !kinds.has(k)),
    unsettled: unsettled.length,
  };
}

export function countBy(values: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
  return m;
}

/**
 * How many events of each `<type> <orderId>` the ORDERS stream holds, read
 * message by message (nats-server 2.9, Debian's, has no multi-subject filters).
 */
async function eventCounts({ nc, stream, subject }: SagaSources, types: string[]): Promise<Map<string, number>> {
  const jsm = await nc.jetstreamManager();
  const name = stream('ORDERS');
  const subjects = new Set(types.map(subject));
  const { first_seq: first, last_seq: last } = (await jsm.streams.info(name)).state;
  const counts = new Map<string, number>();
  let next = first;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next <= last) {
        const seq = next++;
        const m = await jsm.streams.getMessage(name, { seq }).catch(() => null);
        if (!m || !subjects.has(m.subject)) continue;
        const e = m.json<{ type: string; correlationId: string }>();
        counts.set(`${e.type} ${e.correlationId}`, (counts.get(`${e.type} ${e.correlationId}`) ?? 0) + 1);
      }
    }),
  );
  return counts;
}
