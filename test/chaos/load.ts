// The customers of the fault run: a shop set up through the gateway, a
// warm-up through every path of the saga, then a steady open-model load
// (orders on the clock whether or not earlier ones have answered, some
// cancels, some reads) while a list of faults is injected one after another.
import { randomBytes, randomUUID } from 'node:crypto';
import { createRecorder, type GraphQLBody, type RequestRecord } from './client.ts';

export const PLACE_ORDER = `mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    __typename
    ... on OrderPlaced { order { id status } }
    ... on ProductsUnavailable { unavailableItems { productId requested available } }
    ... on InvalidOrder { field message }
  }
}`;
const CANCEL_ORDER = `mutation($id: ID!) { cancelOrder(orderId: $id, reason: "chaos") { __typename ... on CannotCancel { status } } }`;
const ORDER_DETAIL = `query($id: ID!) { order(id: $id) { __typename id status items { quantity product { name } } shipment { status } } }`;
const ME = `{ me { __typename id } }`;
const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) { accessToken } }`;
const CREATE_PRODUCT = `mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`;
/** Payment tokens and their share of orders: declines and transient errors are part of the saga under test. */
const TOKENS: [string, number][] = [
  ['tok_visa', 0.6],
  ['tok_chargeDeclined', 0.2],
  ['tok_processingError', 0.2],
];
const ADDRESS = { name: 'Chaos Monkey', line1: '1 Fault Line', city: 'Oakland', postalCode: '94601', country: 'US' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)];
function weighted(choices: [string, number][]): string {
  let r = Math.random();
  for (const [value, weight] of choices) if ((r -= weight) < 0) return value;
  return choices[0][0];
}

export interface Customer {
  email: string;
  headers: Record<string, string>;
}
export interface Shop {
  products: string[];
  customers: Customer[];
}
/** An order the client was told was placed (an OrderPlaced answer). */
export interface Accepted {
  key: string;
  orderId: string;
  customer: Customer;
}
/** A fault to inject: break something, repair it, and resolve once it is repaired. */
export interface FaultSpec {
  name: string;
  inject(): Promise<void>;
}
export interface InjectedFault {
  name: string;
  /** ms after the start of the load */
  at: number;
  /** From the fault until `whenRepaired` resolved (or failed). */
  recoveredMs: number;
}

/** A GraphQL call that must succeed (set-up and warm-up, before any fault). */
function strictClient(gatewayUrl: string, timeoutMs: number) {
  return async (query: string, variables: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${gatewayUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.json()) as GraphQLBody;
    if (body.errors?.length || !body.data) throw new Error(`request failed: ${JSON.stringify(body.errors ?? body)}`);
    return body.data;
  };
}

/** Products (as the ops-console client) and signed-up customers, through the gateway. */
export async function setUpShop({
  gatewayUrl,
  products,
  customers,
  initialStock,
}: {
  gatewayUrl: string;
  products: number;
  customers: number;
  initialStock: number;
}): Promise<Shop> {
  const gql = strictClient(gatewayUrl, 10_000);
  const token = await fetch(`${gatewayUrl}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from('ops-console:ops-console-dev-secret').toString('base64')}`,
    },
    body: 'grant_type=client_credentials',
  });
  if (token.status !== 200) throw new Error(`ops-console token: HTTP ${token.status}`);
  const operator = { authorization: `Bearer ${((await token.json()) as { access_token: string }).access_token}` };
  const shop: Shop = { products: [], customers: [] };
  for (let i = 0; i < products; i++) {
    const input = {
      sku: `CHAOS-${randomBytes(4).toString('hex')}`,
      name: `Chaos product ${i}`,
      price: `${5 + i}.50`,
      initialStock,
    };
    shop.products.push((await gql(CREATE_PRODUCT, { input }, operator)).createProduct.id);
  }
  for (let i = 0; i < customers; i++) {
    const email = `chaos-${i}-${randomBytes(3).toString('hex')}@example.test`;
    const data = await gql(SIGN_UP, {
      input: { email, password: `pw-${randomBytes(8).toString('hex')}`, name: `Chaos ${i}` },
    });
    shop.customers.push({ email, headers: { authorization: `Bearer ${data.signUp.accessToken}` } });
  }
  return shop;
}

/**
 * Every path of the saga once, before any fault (cold code is not what the
 * run measures): a paid, a declined, a retried and a cancelled order, each
 * waited for until it has settled. Throws when the system does not work
 * even without faults.
 */
export async function warmUp(gatewayUrl: string, shop: Shop): Promise<Accepted[]> {
  const gql = strictClient(gatewayUrl, 10_000);
  const placed: Accepted[] = [];
  for (const [i, paymentToken] of ['tok_visa', 'tok_chargeDeclined', 'tok_processingError', 'tok_visa'].entries()) {
    const input = {
      idempotencyKey: `warm-${randomUUID()}`,
      items: [{ productId: shop.products[i % shop.products.length], quantity: 1 }],
      shippingAddress: ADDRESS,
      paymentToken,
    };
    const customer = shop.customers[i % shop.customers.length];
    placed.push({
      key: input.idempotencyKey,
      orderId: (await gql(PLACE_ORDER, { input }, customer.headers)).placeOrder.order.id,
      customer,
    });
  }
  await gql(CANCEL_ORDER, { id: placed[3].orderId }, placed[3].customer.headers);
  for (const { orderId, customer } of placed) {
    for (const until = Date.now() + 60_000; ; await sleep(250)) {
      const o = (await gql(ORDER_DETAIL, { id: orderId }, customer.headers)).order;
      if (o.status !== 'PENDING_PAYMENT' && (o.status !== 'PENDING_SHIPMENT' || o.shipment)) break;
      if (Date.now() > until)
        throw new Error(
          `warm-up order ${orderId} is still ${o.status} after a minute: the system does not work even without faults`,
        );
    }
  }
  return placed;
}

export interface LoadOptions {
  gatewayUrl: string;
  shop: Shop;
  /** Orders started per second. */
  rate: number;
  /** Shortest load; it also goes on until `tailMs` after the last fault was repaired. */
  minDurationMs: number;
  tailMs: number;
  /** Deadline of every request. */
  timeoutMs: number;
  /** Tries of one placeOrder (same idempotency key and input) or cancelOrder, as a client retrying errors would. */
  attempts: number;
  /** Share of placed orders the customer cancels, 0–3 s later. */
  cancelShare: number;
  faults: FaultSpec[];
  /** When the first fault comes, and how long after the previous one each next one (later if a repair took longer). */
  firstFaultMs: number;
  faultSpacingMs: number;
  /** Resolves when every process is ready again after a fault; throws when it is not in time. */
  whenRepaired(): Promise<void>;
  say(line: string): void;
}

/**
 * Runs the load and the faults; resolves once the load is over and every
 * request it started has been answered (or has passed its deadline).
 */
export async function runLoad(o: LoadOptions) {
  const t0 = Date.now();
  const say = (line: string) => o.say(`${((Date.now() - t0) / 1000).toFixed(1)} s ${line}`);
  const client = createRecorder({ gatewayUrl: o.gatewayUrl, timeoutMs: o.timeoutMs, origin: t0 });
  const accepted: Accepted[] = [];
  /** Every idempotency key sent, with every order id an OrderPlaced answer named for it. */
  const answersByKey = new Map<string, Set<string>>();
  const invalid: unknown[] = [];
  const cancels = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    const t = p.finally(() => inFlight.delete(t));
    inFlight.add(t);
  };

  /** Retries on anything but an answer, as a well-behaved client would (exponential backoff, jittered); returns the last outcome and body. */
  async function withRetries(op: string, query: string, variables: unknown, headers: Record<string, string>) {
    for (let attempt = 1; ; attempt++) {
      const r = await client.request(op, query, variables, headers);
      if (r.outcome.kind === 'ok' || attempt === o.attempts) return r;
      const backoff = 1_000 * 2 ** (attempt - 1);
      await sleep(backoff / 2 + Math.random() * (backoff / 2));
    }
  }

  async function cancelLater(order: Accepted) {
    await sleep(Math.random() * 3_000);
    const r = await withRetries('cancelOrder', CANCEL_ORDER, { id: order.orderId }, order.customer.headers);
    const verdict = r.outcome.kind === 'ok' ? (r.outcome.typename ?? '?') : 'failed';
    cancels.set(verdict, (cancels.get(verdict) ?? 0) + 1);
  }

  async function placeOne() {
    const customer = pick(o.shop.customers);
    const lines = [...new Set(Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => pick(o.shop.products)))];
    const input = {
      idempotencyKey: `chaos-${randomUUID()}`,
      items: lines.map((productId) => ({ productId, quantity: 1 + Math.floor(Math.random() * 3) })),
      shippingAddress: ADDRESS,
      paymentToken: weighted(TOKENS),
    };
    const ids = new Set<string>();
    answersByKey.set(input.idempotencyKey, ids);
    const r = await withRetries('placeOrder', PLACE_ORDER, { input }, customer.headers);
    const result = r.body?.data?.placeOrder;
    if (result?.__typename === 'InvalidOrder') invalid.push({ key: input.idempotencyKey, result });
    if (result?.__typename !== 'OrderPlaced') return;
    ids.add(result.order.id);
    const order = { key: input.idempotencyKey, orderId: result.order.id as string, customer };
    accepted.push(order);
    if (Math.random() < o.cancelShare) await cancelLater(order);
  }

  async function readOne() {
    const order = accepted.length ? pick(accepted.slice(-50)) : null;
    if (order && Math.random() < 0.7)
      await client.request('order', ORDER_DETAIL, { id: order.orderId }, order.customer.headers);
    else await client.request('me', ME, {}, pick(o.shop.customers).headers);
  }

  // The faults, one after another, while the load runs.
  const faults: InjectedFault[] = [];
  let faultError: unknown = null;
  let faultsOverAt = Infinity;
  const faultRunner = (async () => {
    try {
      for (const [i, fault] of o.faults.entries()) {
        const due = t0 + o.firstFaultMs + i * o.faultSpacingMs;
        if (Date.now() < due) await sleep(due - Date.now());
        const at = Date.now();
        say(`fault: ${fault.name}`);
        try {
          await fault.inject();
          await o.whenRepaired();
        } finally {
          faults.push({ name: fault.name, at: at - t0, recoveredMs: Date.now() - at });
        }
      }
    } catch (err) {
      faultError = err; // the caller reports it, after the clients are done
    } finally {
      faultsOverAt = Date.now() - t0;
    }
  })();

  // Open model: one order every 1000/rate ms on the clock, a read every other order.
  say(
    `load started: ${o.rate} orders/s from ${o.shop.customers.length} customers on ${o.shop.products.length} products`,
  );
  const interval = 1_000 / o.rate;
  for (let tick = 0; ; tick++) {
    const elapsed = Date.now() - t0;
    if (elapsed >= o.minDurationMs && elapsed >= faultsOverAt + o.tailMs) break;
    if (elapsed > 3 * o.minDurationMs) break; // a repair that never ends is reported as a fault error, not waited for here
    track(placeOne());
    if (tick % 2 === 0) track(readOne());
    const next = t0 + (tick + 1) * interval;
    if (next > Date.now()) await sleep(next - Date.now());
  }
  const loadMs = Date.now() - t0;
  say(`load over; waiting for ${inFlight.size} client flows in flight`);
  await faultRunner;
  while (inFlight.size) await Promise.race(inFlight);
  say('every client flow answered');
  return {
    t0,
    loadMs,
    drainedMs: Date.now() - t0,
    records: client.records as RequestRecord[],
    accepted,
    answersByKey,
    invalid,
    cancels,
    faults,
    faultError,
  };
}
export type LoadRun = Awaited<ReturnType<typeof runLoad>>;
