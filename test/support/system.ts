import { randomBytes, randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { freePort, startMailSink } from '@orderflow/devstack';
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
import { createLogger } from '@orderflow/common';

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

export type Headers = Record<string, string>;

/** Headers of a customer (development identity until OAuth lands). */
export const asCustomer = (id: string): Headers => ({ 'x-dev-customer-id': id, 'x-dev-customer-email': `${id}@example.test` });
/** Headers of an operator with every scope. */
export const asOperator = (): Headers => ({
  'x-dev-customer-id': 'ops',
  'x-dev-scopes': 'orders:read orders:read:all products:write inventory:read inventory:write shipments:read shipments:write',
});

/**
 * The whole system for one test file: the four subgraphs and the gateway on
 * real HTTP ports, against the run's real PostgreSQL (fresh databases) and
 * nats-server (a fresh subject prefix).
 */
export async function startSystem({
  productQueries,
  env: extra = {},
  natsUrl = inject('natsUrl'),
}: { productQueries?: (sql: string) => void; env?: Record<string, string>; natsUrl?: string } = {}) {
  const suffix = randomBytes(4).toString('hex');
  const mail = await startMailSink();
  const pgPort = inject('postgresPort');
  const [auth, products, orders, shipments, gateway] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const urls = {
    AUTH_URL: `http://127.0.0.1:${auth}`,
    PRODUCTS_URL: `http://127.0.0.1:${products}`,
    ORDERS_URL: `http://127.0.0.1:${orders}`,
    SHIPMENTS_URL: `http://127.0.0.1:${shipments}`,
  };
  const common = { NODE_ENV: 'test', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', NATS_URL: natsUrl, NATS_PREFIX: `t${suffix}`, SMTP_URL: mail.url, ...urls, ...extra };
  const db = (name: string) => `postgresql://postgres@127.0.0.1:${pgPort}/${name}_${suffix}`;
  const log = (name: string) => createLogger(name, common.LOG_LEVEL);

  const services = await Promise.all([
    startAuth(authConfig({ ...common, PORT: String(auth), DATABASE_URL: db('auth') }), { log: log('auth') }),
    startProducts(productsConfig({ ...common, PORT: String(products), DATABASE_URL: db('products') }), { log: log('products'), onQuery: productQueries }),
    startOrders(ordersConfig({ ...common, PORT: String(orders), DATABASE_URL: db('orders') }), { log: log('orders') }),
    startShipments(shipmentsConfig({ ...common, PORT: String(shipments), DATABASE_URL: db('shipments') }), { log: log('shipments') }),
  ]);
  const [authSvc, productsSvc, ordersSvc, shipmentsSvc] = services;
  const gw = await startGateway(gatewayConfig({ ...common, PORT: String(gateway) }), { log: log('gateway') });

  async function graphql<T = any>(query: string, variables: Record<string, unknown> = {}, headers: Headers = {}): Promise<GraphQLResponse<T>> {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as GraphQLResponse<T>;
    return { ...body, status: res.status };
  }

  return {
    gatewayUrl: gw.url,
    urls,
    natsUrl: common.NATS_URL,
    natsPrefix: common.NATS_PREFIX,
    graphql,
    auth: authSvc,
    products: productsSvc,
    orders: ordersSvc,
    shipments: shipmentsSvc,
    mail,
    async stop() {
      await gw.stop();
      await Promise.all(services.map((s) => s.stop()));
      await mail.stop();
    },
  };
}
export type System = Awaited<ReturnType<typeof startSystem>>;

const PRODUCT_FIELDS = 'id sku name price { amount currencyCode } availableQuantity reservedQuantity isActive lowStockThreshold';

/** Creates a product through the gateway as an operator; overrides win. */
export async function createProduct(system: System, overrides: Partial<{ sku: string; name: string; price: string; initialStock: number; lowStockThreshold: number; description: string }> = {}) {
  const input = { sku: `SKU-${randomBytes(5).toString('hex')}`, name: 'Test product', price: '19.99', initialStock: 100, ...overrides };
  const res = await system.graphql(`mutation($input: CreateProductInput!) { createProduct(input: $input) { ${PRODUCT_FIELDS} } }`, { input }, asOperator());
  if (res.errors) throw new Error(`createProduct failed: ${JSON.stringify(res.errors)}`);
  return res.data.createProduct as { id: string; sku: string; availableQuantity: number; reservedQuantity: number; price: { amount: string } };
}

/** A valid placeOrder input; overrides win. */
export function buildOrderInput(overrides: Partial<{ idempotencyKey: string; items: { productId: string; quantity: number }[]; shippingAddress: Record<string, unknown>; paymentToken: string }> = {}) {
  return {
    idempotencyKey: `key-${randomUUID()}`,
    items: [],
    shippingAddress: { name: 'Ada Lovelace', line1: '12 St James Sq', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
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
  const rows = await system.products.db.$queryRawUnsafe<{ available: number; reserved: number; sold: number; stocked: number }[]>(
    'SELECT available, reserved, sold, stocked FROM products WHERE id = $1::uuid',
    productId,
  );
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
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, { timeoutMs = 20_000, intervalMs = 100 } = {}): Promise<T> {
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
