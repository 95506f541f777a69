import { randomBytes, randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { inject } from 'vitest';
import { freePorts, provisionServiceDatabase, startMailSink } from '@orderflow/devstack';
import { loadConfig as authConfig } from '../../subgraphs/auth/src/config.ts';
import { startAuth } from '../../subgraphs/auth/src/app.ts';
import { loadConfig as ordersConfig } from '../../subgraphs/orders/src/config.ts';
import { startOrders } from '../../subgraphs/orders/src/app.ts';
import { loadConfig as productsConfig } from '../../subgraphs/products/src/config.ts';
import { startProducts } from '../../subgraphs/products/src/app.ts';
import { loadConfig as shipmentsConfig } from '../../subgraphs/shipments/src/config.ts';
import { startShipments } from '../../subgraphs/shipments/src/app.ts';
import { loadConfig as gatewayConfig } from '../../gateway/src/config.ts';
import { startGateway } from '../../gateway/src/server.ts';
import { createLogger } from '@orderflow/common/observability';
import type { DestinationStream } from 'pino';
import { SUBGRAPHS, type SubgraphName } from '@orderflow/contracts';
import type { NatsPasswords } from '@orderflow/contracts/nats-access';
import { claimNatsPrefix, natsAdminOptions, natsServiceEnv, runNatsPasswords } from './nats-auth.ts';
import { startBalancer } from './balancer.ts';
import { startReplicaProcess } from './replica-process.ts';

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

export type Headers = Record<string, string>;

/** The development clients of the contract (seeded outside production). */
export const DEV_CLIENTS = {
  storefront: 'storefront-dev-secret',
  'ops-console': 'ops-console-dev-secret',
  'delivery-partner': 'delivery-partner-dev-secret',
} as const;
export type DevClient = keyof typeof DEV_CLIENTS;

/** A customer signed up through the gateway, with the headers of their access token. */
export interface Customer {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  /** `Authorization: Bearer <accessToken>`. */
  headers: Headers;
}

export const bearer = (accessToken: string): Headers => ({ authorization: `Bearer ${accessToken}` });

/** A JSON body and the status of an HTTP response. */
export interface HttpResult<T = any> {
  status: number;
  headers: globalThis.Headers;
  body: T;
}

const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) { accessToken refreshToken tokenType expiresIn scope } }`;

const SUBGRAPH_NAMES = SUBGRAPHS.map((s) => s.name);

/**
 * The whole system for one test file: the four subgraphs and the gateway on
 * real HTTP ports, against the run's real PostgreSQL (fresh databases) and
 * nats-server (a fresh subject prefix).
 *
 * With `replicas` ≥ 2, every subgraph runs that many times on the same
 * database and NATS user: replica 0 in this process as with one (`system.orders`
 * and the others are its handles), each further one as its own process
 * (test/support/replica-process.ts), and every caller (the gateway, orders'
 * reservation calls) reaches a subgraph through a round-robin balancer over
 * its replicas (test/support/balancer.ts says why a balancer). With one
 * replica nothing of this is started.
 */
export async function startSystem({
  productQueries,
  env: extra = {},
  natsUrl,
  natsAuth,
  logStream,
  databasePorts = {},
  replicas = 1,
}: {
  productQueries?: (sql: string) => void;
  env?: Record<string, string>;
  /** Another nats-server (a test's own); default the run's, with its users. */
  natsUrl?: string;
  /** That server's users and the prefix they are granted (`NatsAuth` of devstack); none: it has no authorization. */
  natsAuth?: { passwords: NatsPasswords; prefix: string };
  /** Every service's JSON log lines go here (at LOG_LEVEL from env, default info) instead of being silenced. */
  logStream?: DestinationStream;
  /** Services whose database lives on another PostgreSQL server on 127.0.0.1 (its port): a test can stop that one. Default: the run's server. */
  databasePorts?: Partial<Record<'auth' | 'products' | 'orders' | 'shipments', number>>;
  /** Replicas of every subgraph (default 1); see above. */
  replicas?: number;
} = {}) {
  const suffix = randomBytes(4).toString('hex');
  // Each service logs in to NATS as its own user, allowed only its own subjects under this prefix.
  const nats = natsUrl
    ? { url: natsUrl, passwords: natsAuth?.passwords ?? null, prefix: natsAuth?.prefix ?? `t${suffix}` }
    : { url: inject('natsUrl'), passwords: runNatsPasswords(), prefix: claimNatsPrefix() };
  const natsUser = (user: 'auth' | 'products' | 'orders' | 'shipments' | 'gateway') =>
    nats.passwords ? natsServiceEnv(nats.passwords, user) : {};
  const mail = await startMailSink();
  const pgPort = inject('postgresPort');
  // The four subgraph URLs (a balancer's with replicas), the gateway's, then each replica's own (with replicas).
  const [auth, products, orders, shipments, gateway, ...replicaPorts] = await freePorts(
    5 + (replicas > 1 ? 4 * replicas : 0),
  );
  // Replica 0's own port: the URL's when it is the only one, else one of its own behind the balancer.
  const inProcessPort = Object.fromEntries(
    SUBGRAPH_NAMES.map((name, i) => [
      name,
      replicas > 1 ? replicaPorts.pop()! : [auth, products, orders, shipments][i],
    ]),
  ) as Record<SubgraphName, number>;
  const urls = {
    AUTH_URL: `http://127.0.0.1:${auth}`,
    PRODUCTS_URL: `http://127.0.0.1:${products}`,
    ORDERS_URL: `http://127.0.0.1:${orders}`,
    SHIPMENTS_URL: `http://127.0.0.1:${shipments}`,
  };
  const common = {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? (logStream ? 'info' : 'silent'),
    NATS_URL: nats.url,
    NATS_PREFIX: nats.prefix,
    SMTP_URL: mail.url,
    // Tokens name the gateway's origin as their issuer, as in production.
    OAUTH_ISSUER: `http://127.0.0.1:${gateway}`,
    // Every test talks from 127.0.0.1: only the rate-limit tests want the per-IP limit to bite.
    ANONYMOUS_RATE_LIMIT_PER_MINUTE: '100000',
    // Likewise for sign-ups (tests sign hundreds of customers up); the log-in throttle keeps its defaults.
    SIGNUPS_PER_ADDRESS: '100000',
    // And for open connections (200 concurrent buyers from one address): test/hostile/http sets the cap it attacks.
    MAX_CONNECTIONS_PER_ADDRESS: '0',
    PASSWORD_CHECKS_PER_ADDRESS: '1000',
    // Hundreds of sign-ups per file at the production cost (17: 0.7 s of CPU each) would be most of a run's time;
    // 15 is the cost they ran with before. Tests of the cost itself set their own.
    PASSWORD_HASH_COST: '15',
    // Each gateway's metrics listener on a free port (test files run in parallel).
    METRICS_PORT: '0',
    // A loaded 2-core CI machine can take seconds for one password hash: only the deadline tests want 5 s to bite.
    SUBGRAPH_TIMEOUT_MS: '30000',
    ...urls,
    ...extra,
  };
  // Least privilege, as npm start does it: each service logs in as its own role (trust auth on the test
  // server: no password), which owns the service's database; the superuser only creates them.
  const dbPort = (name: keyof typeof databasePorts) => databasePorts[name] ?? pgPort;
  const db = (name: keyof typeof databasePorts) =>
    `postgresql://${name}_${suffix}@127.0.0.1:${dbPort(name)}/${name}_${suffix}`;
  await Promise.all(
    (['auth', 'products', 'orders', 'shipments'] as const).map((name) =>
      provisionServiceDatabase(
        (database = 'postgres') => ({ host: '127.0.0.1', port: dbPort(name), user: 'postgres', database }),
        { role: `${name}_${suffix}`, database: `${name}_${suffix}` },
      ),
    ),
  );
  const log = (name: string) => createLogger(name, common.LOG_LEVEL, logStream);

  const serviceEnv = (name: SubgraphName) => ({ ...common, ...natsUser(name), DATABASE_URL: db(name) });
  const port = (name: SubgraphName) => String(inProcessPort[name]);

  const services = await Promise.all([
    startAuth(authConfig({ ...serviceEnv('auth'), PORT: port('auth') }), { log: log('auth') }),
    startProducts(productsConfig({ ...serviceEnv('products'), PORT: port('products') }), {
      log: log('products'),
      onQuery: productQueries,
    }),
    startOrders(ordersConfig({ ...serviceEnv('orders'), PORT: port('orders') }), { log: log('orders') }),
    startShipments(shipmentsConfig({ ...serviceEnv('shipments'), PORT: port('shipments') }), {
      log: log('shipments'),
    }),
  ]);
  const [authSvc, productsSvc, ordersSvc, shipmentsSvc] = services;
  // Further replicas (after replica 0 has migrated the databases and created the streams), then their balancers.
  const started = await Promise.allSettled(
    SUBGRAPH_NAMES.flatMap((name) =>
      Array.from({ length: replicas - 1 }, () =>
        startReplicaProcess({ name, port: replicaPorts.pop()!, env: serviceEnv(name) }),
      ),
    ),
  );
  const others = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all([...services.map((s) => s.stop()), ...others.map((o) => o.stop()), mail.stop()]);
    throw failed.reason;
  }
  const balancers =
    replicas > 1
      ? await Promise.all(
          SUBGRAPH_NAMES.map((name, i) =>
            startBalancer({
              port: [auth, products, orders, shipments][i],
              targets: [services[i].url, ...others.filter((o) => o.name === name).map((o) => o.url)],
            }),
          ),
        )
      : [];
  const gw = await startGateway(gatewayConfig({ ...common, ...natsUser('gateway'), PORT: String(gateway) }), {
    log: log('gateway'),
  });

  async function graphql<T = any>(
    query: string,
    variables: Record<string, unknown> = {},
    headers: Headers = {},
  ): Promise<GraphQLResponse<T>> {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as GraphQLResponse<T>;
    return { ...body, status: res.status };
  }

  /** POSTs a form to the gateway's OAuth endpoints (`/oauth/token`, `/oauth/revoke`). */
  async function oauth<T = any>(
    path: string,
    params: Record<string, string>,
    { basic, headers = {} }: { basic?: [string, string]; headers?: Headers } = {},
  ): Promise<HttpResult<T>> {
    const auth: Headers = basic
      ? {
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(basic[0])}:${encodeURIComponent(basic[1])}`).toString('base64')}`,
        }
      : {};
    const res = await fetch(`${gw.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth, ...headers },
      body: new URLSearchParams(params).toString(),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as T };
  }

  /** A client-credentials access token of a development client (optionally narrowed to `scope`). */
  async function clientToken(clientId: DevClient, scope?: string): Promise<string> {
    const res = await oauth(
      '/oauth/token',
      { grant_type: 'client_credentials', ...(scope ? { scope } : {}) },
      { basic: [clientId, DEV_CLIENTS[clientId]] },
    );
    if (res.status !== 200)
      throw new Error(`client_credentials for ${clientId} failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.access_token as string;
  }

  let operator: Promise<Headers> | null = null;

  /**
   * Signs a customer up through the gateway (real signUp, real tokens).
   * `name` makes the email readable in failures and mail: `<name>-<random>@example.test`.
   */
  async function signUpCustomer(name = 'customer'): Promise<Customer> {
    const email = `${name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .slice(0, 40)}-${randomBytes(4).toString('hex')}@example.test`;
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const res = await graphql(SIGN_UP, { input: { email, password, name } });
    if (res.errors || !res.data) throw new Error(`signUp failed: ${JSON.stringify(res.errors)}`);
    const { accessToken, refreshToken } = res.data.signUp as { accessToken: string; refreshToken: string };
    return {
      id: decodeJwt(accessToken).sub!,
      email,
      password,
      accessToken,
      refreshToken,
      headers: bearer(accessToken),
    };
  }

  return {
    gatewayUrl: gw.url,
    /** The gateway's GET /metrics, on its own loopback listener (not on gatewayUrl). */
    gatewayMetricsUrl: gw.metricsUrl,
    urls,
    /** Each service's DATABASE_URL: its own role (no password on the test server) and database. */
    databaseUrls: { auth: db('auth'), products: db('products'), orders: db('orders'), shipments: db('shipments') },
    oauth,
    clientToken,
    signUpCustomer,
    /** `n` customers signed up concurrently (a few at a time: each costs a scrypt hash). */
    async signUpCustomers(n: number, name = 'customer'): Promise<Customer[]> {
      const out: Customer[] = new Array(n);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(4, n) }, async () => {
          while (next < n) {
            const i = next++;
            out[i] = await signUpCustomer(`${name}-${i}`);
          }
        }),
      );
      return out;
    },
    /** Headers of the ops-console client (every scope), from /oauth/token; one token per system. */
    operatorHeaders(): Promise<Headers> {
      operator ??= clientToken('ops-console').then(bearer);
      return operator;
    },
    natsUrl: common.NATS_URL,
    natsPrefix: common.NATS_PREFIX,
    /** `connect()` options for the test's own look at NATS: the operator's user (every subject) when the server has users. */
    natsAdmin: nats.passwords
      ? natsAdminOptions(nats.url, nats.passwords)
      : { servers: nats.url.split(','), user: undefined, pass: undefined },
    /** The NATS passwords of this system's server (null: it has no authorization). */
    natsPasswords: nats.passwords,
    /** The settings every service of this system shares, with the gateway's NATS user: to start another gateway instance. */
    env: { ...common, ...natsUser('gateway') },
    graphql,
    auth: authSvc,
    products: productsSvc,
    orders: ordersSvc,
    shipments: shipmentsSvc,
    mail,
    /** With replicas: the requests each replica of a subgraph answered through its balancer (replica 0 first). */
    served(): Partial<Record<SubgraphName, number[]>> {
      return Object.fromEntries(balancers.map((b, i) => [SUBGRAPH_NAMES[i], [...b.served]]));
    },
    /** With replicas: the process id of each further replica, by subgraph (replica 0 is this process). */
    replicaPids: Object.fromEntries(
      SUBGRAPH_NAMES.map((name) => [name, others.filter((o) => o.name === name).map((o) => o.pid)]),
    ) as Record<SubgraphName, (number | undefined)[]>,
    async stop() {
      await gw.stop();
      await Promise.all([...services.map((s) => s.stop()), ...others.map((o) => o.stop())]);
      await Promise.all(balancers.map((b) => b.stop()));
      await mail.stop();
    },
  };
}
export type System = Awaited<ReturnType<typeof startSystem>>;

const PRODUCT_FIELDS =
  'id sku name price { amount currencyCode } availableQuantity reservedQuantity isActive lowStockThreshold';

/** Creates a product through the gateway as an operator; overrides win. */
export async function createProduct(
  system: System,
  overrides: Partial<{
    sku: string;
    name: string;
    price: string;
    initialStock: number;
    lowStockThreshold: number;
    description: string;
  }> = {},
) {
  const input = {
    sku: `SKU-${randomBytes(5).toString('hex')}`,
    name: 'Test product',
    price: '19.99',
    initialStock: 100,
    ...overrides,
  };
  const res = await system.graphql(
    `mutation($input: CreateProductInput!) { createProduct(input: $input) { ${PRODUCT_FIELDS} } }`,
    { input },
    await system.operatorHeaders(),
  );
  if (res.errors) throw new Error(`createProduct failed: ${JSON.stringify(res.errors)}`);
  return res.data.createProduct as {
    id: string;
    sku: string;
    availableQuantity: number;
    reservedQuantity: number;
    price: { amount: string };
  };
}

/** A valid placeOrder input; overrides win. */
export function buildOrderInput(
  overrides: Partial<{
    idempotencyKey: string;
    items: { productId: string; quantity: number }[];
    shippingAddress: Record<string, unknown>;
    paymentToken: string;
  }> = {},
) {
  return {
    idempotencyKey: `key-${randomUUID()}`,
    items: [],
    shippingAddress: {
      name: 'Ada Lovelace',
      line1: '12 St James Sq',
      city: 'London',
      postalCode: 'SW1Y 4JH',
      country: 'GB',
    },
    paymentToken: 'tok_visa',
    ...overrides,
  };
}

export const PLACE_ORDER = `mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    __typename
    ... on OrderPlaced { order { id status customerId totalAmount { amount currencyCode } items { productId quantity unitPrice { amount } lineTotal { amount } } statusHistory { previousStatus status } } }
    ... on ProductsUnavailable { message unavailableItems { productId requested available isAvailable } }
    ... on InvalidOrder { message field }
  }
}`;

/** Raw inventory columns of a product, read from the products database. */
export async function stockOf(system: System, productId: string) {
  const rows = await system.products.db.$queryRawUnsafe<
    { available: number; reserved: number; sold: number; stocked: number }[]
  >('SELECT available, reserved, sold, stocked FROM products WHERE id = $1::uuid', productId);
  return rows[0];
}

/** The contract's invariant, checked over every product: available + reserved + sold = stocked, none negative. */
export async function inventoryViolations(system: System) {
  return system.products.db.$queryRawUnsafe<unknown[]>(
    'SELECT id FROM products WHERE available + reserved + sold <> stocked OR available < 0 OR reserved < 0 OR sold < 0',
  );
}

export const PRODUCT_STOCK = `query($id: ID!) { product(id: $id) { id availableQuantity reservedQuantity } }`;

/** Polls `check` until it returns a truthy value (or throws its last error after `timeoutMs`). */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  { timeoutMs = 20_000, intervalMs = 100 } = {},
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw last instanceof Error ? last : new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
