/**
 * Following each order through the saga, from outside the system:
 *
 * - a subscriber (graphql-ws `myOrderUpdates` of the order's customer)
 *   sees PENDING_PAYMENT and then PENDING_SHIPMENT;
 * - the bench's own NATS subscription sees `shipments.created`, the event
 *   the shipments service publishes after committing the shipment;
 * - after the run, the databases say when each step committed
 *   (`pg_xact_commit_timestamp` of the insert-only status-history and
 *   delivery-event rows; our PostgreSQL runs with track_commit_timestamp).
 *
 * "Saga complete" for an order = the subscriber has PENDING_SHIPMENT AND
 * shipments.created is on NATS; end-to-end latency = that moment − the
 * placeOrder call's scheduled start.
 */
import pg from 'pg';
import type { Delivery } from './subscribers.ts';
import type { NatsObserver } from './jetstream.ts';
import { summarize, type Summary } from './stats.ts';

export interface OrderTrace {
  orderId: string;
  customer: number;
  /** performance.now() of placeOrder's scheduled start and of its response */
  scheduled: number;
  responded: number;
  measured: boolean;
  /** performance.now() when the subscriber received each status */
  seen: Record<string, number>;
  /** performance.now() when shipments.created reached the bench over NATS */
  shipmentSeen?: number;
  shipmentId?: string;
}

export class SagaTracker {
  readonly orders = new Map<string, OrderTrace>();
  /** Deliveries and shipment events that came before placeOrder's response. */
  private early = new Map<string, { seen: Record<string, number>; shipmentSeen?: number; shipmentId?: string }>();
  /** Shipments in creation order, for updateShipmentStatus. */
  readonly shipments: { shipmentId: string; orderId: string }[] = [];
  /** shipments.created seen again on the core subscription (published twice, stored once by the stream). */
  duplicatePublishes = 0;
  deliveries = 0;
  duplicateDeliveries = 0;

  placed(orderId: string, customer: number, scheduled: number, responded: number, measured: boolean) {
    const e = this.early.get(orderId);
    this.early.delete(orderId);
    this.orders.set(orderId, {
      orderId,
      customer,
      scheduled,
      responded,
      measured,
      seen: e?.seen ?? {},
      shipmentSeen: e?.shipmentSeen,
      shipmentId: e?.shipmentId,
    });
  }

  private slot(orderId: string) {
    const o = this.orders.get(orderId);
    if (o) return o;
    let e = this.early.get(orderId);
    if (!e) this.early.set(orderId, (e = { seen: {} }));
    return e;
  }

  onDelivery = (d: Delivery) => {
    this.deliveries++;
    const s = this.slot(d.orderId);
    if (s.seen[d.status] !== undefined) this.duplicateDeliveries++;
    else s.seen[d.status] = d.receivedAt;
  };

  onShipmentCreated = (event: { data: Record<string, any> }, at: number) => {
    const s = this.slot(String(event.data.orderId));
    // A core subscription sees every publish: an event the relay and the committing service both published
    // (the stream stores it once, by Nats-Msg-Id) arrives twice here.
    if (s.shipmentSeen !== undefined) return void this.duplicatePublishes++;
    s.shipmentSeen = at;
    s.shipmentId = String(event.data.shipmentId);
    this.shipments.push({ shipmentId: s.shipmentId, orderId: String(event.data.orderId) });
  };

  /** Done: PENDING_SHIPMENT seen by the subscriber and the shipment announced. performance.now() or undefined. */
  static completedAt(o: OrderTrace): number | undefined {
    const a = o.seen.PENDING_SHIPMENT;
    const b = o.shipmentSeen;
    return a !== undefined && b !== undefined ? Math.max(a, b) : undefined;
  }

  /** Orders placed but not complete yet. */
  incomplete(): number {
    let n = 0;
    for (const o of this.orders.values()) if (SagaTracker.completedAt(o) === undefined) n++;
    return n;
  }

  /** Completions per order placed in [from, to] (performance.now()), with end-to-end latencies. */
  summary(filter: (o: OrderTrace) => boolean = (o) => o.measured, deadlineMs = 5_000) {
    const orders = [...this.orders.values()].filter(filter);
    const e2e: number[] = [];
    const toSubscriberShipment: number[] = [];
    const toShipmentEvent: number[] = [];
    const toSubscriberPlaced: number[] = [];
    let withinDeadline = 0;
    for (const o of orders) {
      const done = SagaTracker.completedAt(o);
      if (done !== undefined) {
        e2e.push(done - o.scheduled);
        if (done - o.scheduled <= deadlineMs) withinDeadline++;
      }
      if (o.seen.PENDING_SHIPMENT !== undefined) toSubscriberShipment.push(o.seen.PENDING_SHIPMENT - o.scheduled);
      if (o.shipmentSeen !== undefined) toShipmentEvent.push(o.shipmentSeen - o.scheduled);
      if (o.seen.PENDING_PAYMENT !== undefined) toSubscriberPlaced.push(o.seen.PENDING_PAYMENT - o.scheduled);
    }
    return {
      placed: orders.length,
      completed: e2e.length,
      completionRate: orders.length ? Math.round((e2e.length / orders.length) * 10_000) / 10_000 : null,
      withinDeadline,
      withinDeadlineRate: orders.length ? Math.round((withinDeadline / orders.length) * 10_000) / 10_000 : null,
      deadlineMs,
      /** scheduled placeOrder start → PENDING_SHIPMENT at the subscriber and shipments.created on NATS */
      endToEndMs: summarize(e2e),
      /** scheduled start → subscriber has PENDING_SHIPMENT */
      toSubscriberPendingShipmentMs: summarize(toSubscriberShipment),
      /** scheduled start → shipments.created reached NATS */
      toShipmentCreatedMs: summarize(toShipmentEvent),
      /** scheduled start → subscriber has PENDING_PAYMENT (the order itself) */
      toSubscriberPendingPaymentMs: summarize(toSubscriberPlaced),
    };
  }
}

export interface StageBreakdown {
  orders: number;
  /** placeOrder's commit → the payment step's commit (PENDING_SHIPMENT row): relay, NATS, payment worker, relay, status consumer */
  placedCommitToPaidCommitMs: Summary;
  /** PENDING_SHIPMENT commit → shipment commit (relay, NATS, shipments consumer) */
  paidCommitToShipmentCommitMs: Summary;
  /** PENDING_SHIPMENT commit → the subscriber has it (relay, NATS, gateway hub, payload query, WebSocket) */
  paidCommitToSubscriberMs: Summary;
  /** PENDING_PAYMENT commit → the subscriber has it */
  placedCommitToSubscriberMs: Summary;
  /** shipment commit → shipments.created at the bench (relay, NATS) */
  shipmentCommitToEventMs: Summary;
  /** placeOrder scheduled start → its commit (includes the reservation call) */
  scheduledToPlacedCommitMs: Summary;
}

/**
 * When each saga step committed, from the databases' commit timestamps, set
 * against what the bench saw: where the end-to-end time goes.
 */
export async function stageBreakdown(
  databases: { orders: string; shipments: string },
  traces: OrderTrace[],
): Promise<StageBreakdown | null> {
  if (traces.length === 0) return null;
  const ids = traces.map((t) => t.orderId);
  const orders = new pg.Client({ connectionString: databases.orders });
  const shipments = new pg.Client({ connectionString: databases.shipments });
  await Promise.all([orders.connect(), shipments.connect()]);
  try {
    const h = await orders.query<{ order_id: string; status: string; committed: Date | null }>(
      `SELECT order_id::text, status::text, pg_xact_commit_timestamp(xmin) AS committed FROM order_status_history
        WHERE order_id = ANY($1::uuid[]) AND status IN ('PENDING_PAYMENT', 'PENDING_SHIPMENT')`,
      [ids],
    );
    const s = await shipments.query<{ order_id: string; committed: Date | null }>(
      `SELECT s.order_id::text, pg_xact_commit_timestamp(e.xmin) AS committed FROM shipments s JOIN delivery_events e ON e.shipment_id = s.id AND e.status = 'PROCESSING'
        WHERE s.order_id = ANY($1::uuid[])`,
      [ids],
    );
    // Commit timestamps are wall-clock; the bench's marks are performance.now(): same clock, another origin.
    const perf = (d: Date | null | undefined) => (d ? d.getTime() - performance.timeOrigin : undefined);
    const placedAt = new Map<string, number>();
    const paidAt = new Map<string, number>();
    for (const r of h.rows) (r.status === 'PENDING_PAYMENT' ? placedAt : paidAt).set(r.order_id, perf(r.committed)!);
    const shippedAt = new Map(s.rows.map((r) => [r.order_id, perf(r.committed)!]));
    const d = {
      a: [] as number[],
      b: [] as number[],
      c: [] as number[],
      e: [] as number[],
      f: [] as number[],
      g: [] as number[],
    };
    for (const t of traces) {
      const placed = placedAt.get(t.orderId);
      const paid = paidAt.get(t.orderId);
      const ship = shippedAt.get(t.orderId);
      if (placed !== undefined && paid !== undefined) d.a.push(paid - placed);
      if (paid !== undefined && ship !== undefined) d.b.push(ship - paid);
      if (paid !== undefined && t.seen.PENDING_SHIPMENT !== undefined) d.c.push(t.seen.PENDING_SHIPMENT - paid);
      if (placed !== undefined && t.seen.PENDING_PAYMENT !== undefined) d.e.push(t.seen.PENDING_PAYMENT - placed);
      if (ship !== undefined && t.shipmentSeen !== undefined) d.f.push(t.shipmentSeen - ship);
      if (placed !== undefined) d.g.push(placed - t.scheduled);
    }
    return {
      orders: traces.length,
      placedCommitToPaidCommitMs: summarize(d.a),
      paidCommitToShipmentCommitMs: summarize(d.b),
      paidCommitToSubscriberMs: summarize(d.c),
      placedCommitToSubscriberMs: summarize(d.e),
      shipmentCommitToEventMs: summarize(d.f),
      scheduledToPlacedCommitMs: summarize(d.g),
    };
  } catch (err) {
    // Without track_commit_timestamp (someone else's PostgreSQL) there is no breakdown.
    if (/track_commit_timestamp/.test((err as Error).message)) return null;
    throw err;
  } finally {
    await Promise.all([orders.end(), shipments.end()]);
  }
}

/** One connection per database for the samplers, kept open (a new connection is a new PostgreSQL backend: a fork). */
const sampleClients = new Map<string, Promise<pg.Client>>();
function sampleClient(url: string): Promise<pg.Client> {
  let c = sampleClients.get(url);
  if (!c) {
    c = (async () => {
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => sampleClients.delete(url));
      await client.connect();
      return client;
    })();
    c.catch(() => sampleClients.delete(url));
    sampleClients.set(url, c);
  }
  return c;
}

/** Closes the samplers' connections. */
export async function closeSampleClients() {
  const all = [...sampleClients.values()];
  sampleClients.clear();
  await Promise.all(all.map((c) => c.then((x) => x.end()).catch(() => {})));
}

/** Unpublished outbox rows per service database (events committed but not yet on NATS). */
export async function outboxBacklog(databases: Record<string, string> | null): Promise<Record<string, number> | null> {
  if (!databases) return null;
  const out: Record<string, number> = {};
  await Promise.all(
    ['orders', 'products', 'shipments'].map(async (name) => {
      const c = await sampleClient(databases[name]);
      out[name] = Number(
        (await c.query('/* bench */ SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL')).rows[0].n,
      );
    }),
  );
  return out;
}

/** Backlog samples over time: NATS consumers and outbox rows. */
export class BacklogSampler {
  readonly samples: { at: number; pending: number; ackPending: number; outbox: number | null }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  constructor(
    private nats: NatsObserver,
    private databases: Record<string, string> | null,
    private intervalMs = 2_000,
  ) {}
  async sample() {
    if (this.busy) return;
    this.busy = true;
    try {
      const [b, o] = await Promise.all([this.nats.backlog(), outboxBacklog(this.databases).catch(() => null)]);
      this.samples.push({
        at: b.at,
        pending: b.totalPending,
        ackPending: b.totalAckPending,
        outbox: o ? Object.values(o).reduce((a, x) => a + x, 0) : null,
      });
    } catch {
      /* a sample lost under load is not worth failing the run */
    } finally {
      this.busy = false;
    }
  }
  start() {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    return this;
  }
  stop() {
    if (this.timer) clearInterval(this.timer);
  }
  /** Total backlog (pending + ack pending + unpublished outbox) of the sample nearest to `at`. */
  totalNear(at: number): number | null {
    if (!this.samples.length) return null;
    const s = this.samples.reduce((best, x) => (Math.abs(x.at - at) < Math.abs(best.at - at) ? x : best));
    return s.pending + s.ackPending + (s.outbox ?? 0);
  }
}

/** pg_stat_statements: statements, calls and execution time per service database since the last reset. */
export async function statementStats(pgUrl: string, databases: Record<string, string> | null) {
  if (!databases) return null;
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  try {
    const names = Object.fromEntries(
      Object.entries(databases).map(([svc, url]) => [new URL(url).pathname.slice(1), svc]),
    );
    // toplevel: statements the services sent; the others ran inside them (foreign-key checks of triggers).
    const { rows } = await c.query<{
      datname: string;
      query: string;
      calls: string;
      total_exec_time: number;
      rows: string;
      toplevel: boolean;
    }>(
      `SELECT d.datname, s.query, s.calls, s.total_exec_time, s.rows, s.toplevel FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid`,
    );
    const xacts = await c.query<{ datname: string; xact_commit: string; xact_rollback: string }>(
      `SELECT datname, xact_commit, xact_rollback FROM pg_stat_database`,
    );
    const perService: Record<
      string,
      {
        calls: number;
        nestedCalls: number;
        execMs: number;
        commits: number;
        top: { query: string; calls: number; execMs: number; meanMs: number }[];
      }
    > = {};
    for (const r of rows) {
      const svc = names[r.datname];
      if (!svc || r.query.includes('/* bench */')) continue; // the bench's own sampling queries
      const p = (perService[svc] ??= { calls: 0, nestedCalls: 0, execMs: 0, commits: 0, top: [] });
      if (!r.toplevel) {
        p.nestedCalls += Number(r.calls);
        continue;
      }
      p.calls += Number(r.calls);
      p.execMs += r.total_exec_time;
      p.top.push({
        query: r.query.replace(/\s+/g, ' ').slice(0, 160),
        calls: Number(r.calls),
        execMs: Math.round(r.total_exec_time),
        meanMs: Math.round((r.total_exec_time / Math.max(1, Number(r.calls))) * 1000) / 1000,
      });
    }
    for (const x of xacts.rows)
      if (names[x.datname] && perService[names[x.datname]])
        perService[names[x.datname]].commits = Number(x.xact_commit);
    for (const p of Object.values(perService)) {
      p.top.sort((a, b) => b.calls - a.calls);
      p.top = p.top.slice(0, 12);
      p.execMs = Math.round(p.execMs);
    }
    return perService;
  } finally {
    await c.end();
  }
}

/** Resets pg_stat_statements (statement counts of the measured window only; commits are taken as deltas). */
export async function resetStatementStats(pgUrl: string) {
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  try {
    await c.query('SELECT pg_stat_statements_reset()');
  } finally {
    await c.end();
  }
}

/** Commits per service database (pg_stat_database), to take deltas. */
export async function commitCounts(
  pgUrl: string,
  databases: Record<string, string> | null,
): Promise<Record<string, number> | null> {
  if (!databases) return null;
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  try {
    const names = Object.fromEntries(
      Object.entries(databases).map(([svc, url]) => [new URL(url).pathname.slice(1), svc]),
    );
    const { rows } = await c.query<{ datname: string; xact_commit: string }>(
      `SELECT datname, xact_commit FROM pg_stat_database`,
    );
    const out: Record<string, number> = {};
    for (const r of rows) if (names[r.datname]) out[names[r.datname]] = Number(r.xact_commit);
    return out;
  } finally {
    await c.end();
  }
}

/**
 * Orders committed between two wall-clock times (ms), from the orders
 * database: the denominator of "per order" figures, which also counts orders
 * whose placeOrder answer came too late for the client (timeouts).
 */
export async function ordersCreatedBetween(
  databases: Record<string, string> | null,
  fromWall: number,
  toWall: number,
): Promise<number | null> {
  if (!databases) return null;
  const c = await sampleClient(databases.orders);
  const { rows } = await c.query<{ n: number }>(
    '/* bench */ SELECT count(*)::int AS n FROM orders WHERE created_at >= $1 AND created_at < $2',
    [new Date(fromWall), new Date(toWall)],
  );
  return rows[0].n;
}
