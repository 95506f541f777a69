import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startPostgres, type RunningPostgres } from '@orderflow/devstack';
import { PLACE_ORDER, buildOrderInput, createProduct, eventually, startSystem, type System } from './support/system.ts';

const CATALOG = `{ products(first: 3) { edges { node { id name } } } }`;
const ORDER = `query($id: ID!) { order(id: $id) { id status items { quantity product { id name } } } }`;
const CREATE = `mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`;
const UNAVAILABLE = 'The service is temporarily unavailable (its database cannot be reached); please retry';
/** What must never reach a client: the database's address, SQL, driver or ORM internals. */
const LEAKS =
  /127\.0\.0\.1|localhost|:\d{4,5}\b|SELECT|INSERT|products_[0-9a-f]{8}|postgres|prisma|ECONNREFUSED|connect|\bat /i;

describe('a subgraph whose database is down', () => {
  let system: System;
  let dir: string;
  let port: number;
  /** The products and auth services' own PostgreSQL server, stopped and started by the test (the others stay on the run's server). */
  let productsDb: RunningPostgres | null = null;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'orderflow-outage-'));
    chmodSync(dir, 0o755);
    port = await freePort();
    productsDb = await startPostgres({ dataDir: join(dir, 'pg'), port, ephemeral: true });
    system = await startSystem({ databasePorts: { products: port, auth: port } });
  });
  afterAll(async () => {
    await system?.stop();
    await productsDb?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers SERVICE_UNAVAILABLE with a clear message and nothing of the database, then serves again when it is back', async () => {
    const product = await createProduct(system, { name: 'Outage lamp', initialStock: 5 });
    const customer = await system.signUpCustomer('outage');
    const placed = await system.graphql(
      PLACE_ORDER,
      { input: buildOrderInput({ items: [{ productId: product.id, quantity: 1 }] }) },
      customer.headers,
    );
    const orderId = placed.data.placeOrder.order.id as string;
    const operator = await system.operatorHeaders(); // issued while auth's database is up

    await productsDb!.stop();
    productsDb = null;

    // A public query answered by the products subgraph alone.
    const catalog = await system.graphql(CATALOG);
    expect(catalog.errors).toEqual([
      expect.objectContaining({
        message: UNAVAILABLE,
        path: ['products'],
        extensions: { code: 'SERVICE_UNAVAILABLE' },
      }),
    ]);
    // A mutation.
    const created = await system.graphql(
      CREATE,
      { input: { sku: 'SKU-OUTAGE', name: 'x', price: '1.00', initialStock: 1 } },
      operator,
    );
    expect(created.errors?.map((e) => [e.message, e.extensions?.code])).toEqual([[UNAVAILABLE, 'SERVICE_UNAVAILABLE']]);
    // Across the federation: the order comes from orders (up), its products from products (down).
    const order = await system.graphql(ORDER, { id: orderId }, customer.headers);
    // (Item.product is non-null, so the order itself comes back null.)
    expect(order.errors?.map((e) => [e.message, e.extensions?.code, e.path?.slice(0, 2)])).toEqual([
      [UNAVAILABLE, 'SERVICE_UNAVAILABLE', ['order', 'items']],
    ]);
    for (const res of [catalog, created, order]) expect(JSON.stringify(res.errors)).not.toMatch(LEAKS);
    // OAuth (not GraphQL) on the auth service, whose database is down too: RFC 6749's temporarily_unavailable, 503, retry later.
    const token = await system.oauth(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { basic: ['delivery-partner', 'delivery-partner-dev-secret'] },
    );
    expect(token.status).toBe(503);
    expect(token.headers.get('retry-after')).toBe('5');
    expect(token.body).toEqual({ error: 'temporarily_unavailable', error_description: UNAVAILABLE });
    expect(JSON.stringify(token.body)).not.toMatch(LEAKS);

    productsDb = await startPostgres({ dataDir: join(dir, 'pg'), port, ephemeral: true });
    const back = await eventually(async () => {
      const res = await system.graphql(CATALOG);
      return !res.errors && res;
    });
    expect(back.data.products.edges.map((e: { node: { name: string } }) => e.node.name)).toContain('Outage lamp');
    expect(
      await eventually(
        async () =>
          (
            await system.oauth(
              '/oauth/token',
              { grant_type: 'client_credentials' },
              { basic: ['delivery-partner', 'delivery-partner-dev-secret'] },
            )
          ).status === 200,
      ),
    ).toBe(true);
  });
});
