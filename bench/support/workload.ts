/**
 * The shop's workload, shared by bench/orders.ts, bench/saga.ts and
 * bench/suite.ts: a pool of signed-up customers (each following their orders
 * over graphql-ws, when asked), products with ample stock, and arrivals of
 * placeOrder (1–5 lines), reads (product page, my orders, a federated order
 * page) and shipment updates at fixed rates.
 */
import type { Booted } from './boot.ts';
import { log } from './boot.ts';
import {
  ORDER_DETAIL,
  MY_ORDERS,
  PLACE_ORDER,
  PRODUCT_PAGE,
  UPDATE_SHIPMENT,
  call,
  createProducts,
  orderInput,
} from './graphql.ts';
import { connectNats, type NatsObserver } from './jetstream.ts';
import { schedule, type Arrival } from './load.ts';
import { SagaTracker } from './saga.ts';
import { DEV_CLIENT_SECRETS, clientToken, signUpCustomers, type BenchCustomer } from './stack.ts';
import { subscriberPool, type SubscriberPool } from './subscribers.ts';

export interface Workload {
  gateway: string;
  productIds: string[];
  customers: BenchCustomer[];
  operator: Record<string, string>;
  courier: Record<string, string>;
  tracker: SagaTracker;
  subscribers: SubscriberPool | null;
  nats: NatsObserver | null;
  /** Shipments already moved to SHIPPED (index into tracker.shipments), across phases. */
  shipped: number;
  close(): Promise<void>;
}

export interface WorkloadOptions {
  products: number;
  customers: number;
  runId: string;
  random: () => number;
  opsSecret: string;
  /** One myOrderUpdates subscriber per customer, feeding the saga tracker. */
  subscribe: boolean;
  /**
   * Watch shipments.created on NATS, feeding the saga tracker. Default true;
   * bench/orders.ts measures placeOrder alone and turns it off so the bench
   * process does no work the measurement does not need.
   */
  watchShipments?: boolean;
  natsUrl?: string | null;
  natsPrefix?: string | null;
}

export async function prepareWorkload(booted: Booted, o: WorkloadOptions): Promise<Workload> {
  const gateway = booted.stack.gatewayUrl;
  let t = performance.now();
  const operator = {
    authorization: `Bearer ${await clientToken(gateway, 'ops-console', o.opsSecret, 'products:write')}`,
  };
  // Shipment updates come from the delivery partner (shipments:write), as in production.
  const courier = {
    authorization: `Bearer ${await clientToken(gateway, 'delivery-partner', DEV_CLIENT_SECRETS['delivery-partner'], 'shipments:write')}`,
  };
  const productIds = await createProducts(gateway, operator, o.products, o.runId, o.random);
  log(`created ${productIds.length} products in ${Math.round(performance.now() - t)} ms`);
  t = performance.now();
  const customers = await signUpCustomers(gateway, o.customers, o.runId, {
    onProgress: (n) => log(`  signed up ${n}/${o.customers}`),
  });
  log(
    `signed up ${customers.length} customers in ${Math.round(performance.now() - t)} ms (${Math.round((performance.now() - t) / customers.length)} ms each, 4 at a time)`,
  );

  const tracker = new SagaTracker();
  const watch = o.watchShipments ?? true;
  const natsUrl = watch ? (o.natsUrl ?? booted.infra?.natsUrl ?? null) : null;
  const nats = natsUrl ? await connectNats(natsUrl, o.natsPrefix || booted.stack.natsPrefix) : null;
  const unwatch = nats?.watch('shipments.created', tracker.onShipmentCreated);
  if (watch && !nats)
    log('no NATS to watch (--nats-url): shipment creation is not observed, so the saga is never "complete"');

  let subscribers: SubscriberPool | null = null;
  if (o.subscribe) {
    t = performance.now();
    subscribers = subscriberPool({
      wsUrl: `${gateway.replace(/^http/, 'ws')}/graphql`,
      customers,
      perCustomer: 1,
      onDelivery: tracker.onDelivery,
    });
    await subscribers.add(customers.length);
    log(
      `${subscribers.open} subscribers (myOrderUpdates, one socket per customer) in ${Math.round(performance.now() - t)} ms${subscribers.errors.length ? `; errors: ${subscribers.errors.slice(0, 3).join(' | ')}` : ''}`,
    );
  }
  return {
    gateway,
    productIds,
    customers,
    operator,
    courier,
    tracker,
    subscribers,
    nats,
    shipped: 0,
    async close() {
      unwatch?.();
      await subscribers?.dispose();
      await nats?.close();
    },
  };
}

export interface Mix {
  /** Per placeOrder: product page views, my-orders lists, order pages, shipment updates. */
  productPage: number;
  myOrders: number;
  orderDetail: number;
  shipmentUpdate: number;
}

export const DEFAULT_MIX: Mix = { productPage: 2, myOrders: 0.5, orderDetail: 1, shipmentUpdate: 0.5 };
export const NO_READS: Mix = { productPage: 0, myOrders: 0, orderDetail: 0, shipmentUpdate: 0 };

/**
 * Arrivals of one phase: placeOrder at `rate` per second from 0 to
 * warmup + duration seconds (measured after the warm-up), and the mix of
 * reads and shipment updates at rates proportional to it.
 */
export function phaseArrivals(
  w: Workload,
  o: {
    rate: number;
    warmupS: number;
    durationS: number;
    timeoutMs: number;
    mix: Mix;
    random: () => number;
    keyPrefix: string;
  },
): Arrival[] {
  const url = `${w.gateway}/graphql`;
  const end = o.warmupS + o.durationS;
  const pick = <T>(xs: T[]) => xs[Math.floor(o.random() * xs.length)];
  const auth = (c: BenchCustomer) => ({ authorization: `Bearer ${c.accessToken}` });
  /** Placed orders, for the order page. */
  const placed: { orderId: string; customer: number }[] = [];

  const orders = schedule('placeOrder', o.rate, 0, end, o.warmupS, 0, (i) => {
    const customer = Math.floor(o.random() * w.customers.length);
    const body = JSON.stringify({
      query: PLACE_ORDER,
      variables: { input: orderInput(w.productIds, o.random, `${o.keyPrefix}-${i}`) },
    });
    return async ({ scheduledAt, measured }) => {
      const r = await call(url, body, auth(w.customers[customer]), o.timeoutMs, 'placeOrder');
      if (r.outcome === 'OrderPlaced') {
        const orderId = r.body!.data!.placeOrder.order.id as string;
        w.tracker.placed(orderId, customer, scheduledAt, performance.now(), measured);
        placed.push({ orderId, customer });
      }
      return r;
    };
  });
  const productPage = schedule('productPage', o.rate * o.mix.productPage, 0, end, o.warmupS, 0.37, () => {
    const body = JSON.stringify({ query: PRODUCT_PAGE, variables: { id: pick(w.productIds) } });
    const c = pick(w.customers);
    return () => call(url, body, auth(c), o.timeoutMs);
  });
  const myOrders = schedule('myOrders', o.rate * o.mix.myOrders, 0, end, o.warmupS, 0.61, () => {
    const c = pick(w.customers);
    const body = JSON.stringify({ query: MY_ORDERS });
    return () => call(url, body, auth(c), o.timeoutMs);
  });
  const detail = schedule('orderDetail', o.rate * o.mix.orderDetail, 0, end, o.warmupS, 0.83, () => async () => {
    if (placed.length === 0) return { outcome: 'skipped', status: null };
    const p = placed[Math.floor(o.random() * placed.length)];
    return call(
      url,
      JSON.stringify({ query: ORDER_DETAIL, variables: { id: p.orderId } }),
      auth(w.customers[p.customer]),
      o.timeoutMs,
    );
  });
  const ship = schedule(
    'updateShipmentStatus',
    o.rate * o.mix.shipmentUpdate,
    0,
    end,
    o.warmupS,
    0.19,
    () => async () => {
      const s = w.tracker.shipments[w.shipped];
      if (!s) return { outcome: 'skipped', status: null };
      w.shipped++;
      const body = JSON.stringify({
        query: UPDATE_SHIPMENT,
        variables: { input: { shipmentId: s.shipmentId, status: 'SHIPPED', location: 'Bench depot' } },
      });
      return call(url, body, w.courier, o.timeoutMs);
    },
  );
  return [...orders, ...productPage, ...myOrders, ...detail, ...ship];
}
