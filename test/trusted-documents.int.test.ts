import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@orderflow/common/observability';
import { freePort } from '@orderflow/devstack';
import { WEB_MANIFEST } from '../codegen.ts';
import { loadConfig as gatewayConfig } from '../gateway/src/config.ts';
import { startGateway } from '../gateway/src/server.ts';
import { CatalogProductsDocument, MyOrdersDocument } from '../web/src/gql/graphql.ts';
import { createTrustedDocumentLink } from '../web/src/lib/persisted-documents.ts';
import { bearer, createProduct, startSystem, type Customer, type System } from './support/system.ts';

const MANIFEST = JSON.parse(readFileSync(WEB_MANIFEST, 'utf8')) as Record<string, string>;
/** The id and text of one of the web app's operations, as the manifest has them. */
const listed = (name: string) => {
  const [id, text] = Object.entries(MANIFEST).find(([, t]) => new RegExp(`\\b(query|mutation) ${name}\\b`).test(t))!;
  return { id, hash: id.replace(/^sha256:/, ''), text };
};
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

type Body = { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as Body };
}

/**
 * Trusted documents (gateway/src/trusted-documents.ts): a production gateway
 * accepts from the storefront client (every customer token) only the web
 * app's operations, by id; everyone else keeps full GraphQL and automatic
 * persisted queries; outside production nothing changes.
 */
describe('trusted documents', () => {
  let system: System;
  let production: Awaited<ReturnType<typeof startGateway>>;
  let customer: Customer;
  let partner: Record<string, string>;

  beforeAll(async () => {
    // A production gateway must share a real internal secret with the subgraphs.
    system = await startSystem({ env: { INTERNAL_AUTH_SECRET: randomBytes(32).toString('hex') } });
    production = await startGateway(
      gatewayConfig({ ...system.env, NODE_ENV: 'production', PORT: String(await freePort()) }),
      { log: createLogger('gateway-production', 'silent') },
    );
    await createProduct(system, { name: 'Trusted mug' });
    customer = await system.signUpCustomer('trusted');
    partner = bearer(await system.clientToken('delivery-partner'));
  });
  afterAll(async () => {
    await production?.stop();
    await system?.stop();
  });

  const myOrders = listed('MyOrders');

  it('production: the storefront client runs a listed operation by id, with no document', async () => {
    for (const body of [
      { extensions: { persistedQuery: { version: 1, sha256Hash: myOrders.hash } }, variables: { first: 5 } },
      { documentId: myOrders.id, variables: { first: 5 } },
    ]) {
      const res = await post(production.url, body, customer.headers);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.myOrders).toMatchObject({ __typename: 'OrderConnection', edges: [] });
    }
  });

  it('production: the same over GET (a listed id runs, a document is refused)', async () => {
    const get = async (params: Record<string, string>) => {
      const res = await fetch(`${production.url}/graphql?${new URLSearchParams(params)}`, {
        // Apollo's CSRF prevention wants a header a simple request cannot send.
        headers: { ...customer.headers, 'apollo-require-preflight': 'true' },
      });
      return { status: res.status, body: (await res.json()) as Body };
    };
    const byId = await get({
      extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: myOrders.hash } }),
      variables: JSON.stringify({ first: 5 }),
    });
    expect(byId.body.data.myOrders.edges).toEqual([]);
    const refused = await get({ query: '{ me { id } }' });
    expect(refused.status).toBe(400);
    expect(refused.body.errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_NOT_LISTED');
  });

  it('production: the storefront client is refused any document it sends, listed or not, and any unknown id', async () => {
    const unlisted = '{ me { id email } }';
    const refusals = [
      await post(production.url, { query: unlisted }, customer.headers),
      // The app's own text, sent as text: still a document the client chose to send.
      await post(production.url, { query: myOrders.text, variables: { first: 5 } }, customer.headers),
      // An automatic persisted query registering an unlisted document.
      await post(
        production.url,
        { query: unlisted, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(unlisted) } } },
        customer.headers,
      ),
      await post(
        production.url,
        { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(unlisted) } } },
        customer.headers,
      ),
      await post(production.url, { documentId: 'sha256:not-a-hash' }, customer.headers),
    ];
    for (const res of refusals) {
      expect(res.status).toBe(400);
      expect(res.body.data).toBeUndefined();
      expect(res.body.errors).toHaveLength(1);
      expect(res.body.errors![0].extensions).toEqual({ code: 'PERSISTED_QUERY_NOT_LISTED' });
      expect(res.body.errors![0].message).toMatch(/operations of its published app|Unknown operation id/);
      // Nothing of the manifest, the schema or the server in the answer.
      expect(res.text).not.toMatch(/sha256:[0-9a-f]{64}|myOrders|OrderConnection|stack|127\.0\.0\.1/);
    }
  });

  it('production: the web app’s operations, as its Apollo Client sends them, pass (by id, no text)', async () => {
    const sent: string[] = [];
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: ApolloLink.from([
        new SetContextLink(() => ({ headers: customer.headers })),
        createTrustedDocumentLink(),
        new HttpLink({
          uri: `${production.url}/graphql`,
          fetch: (input, init) => (sent.push(String(init?.body)), fetch(input, init)),
        }),
      ]),
    });
    const orders = await client.query({ query: MyOrdersDocument, variables: { first: 5 } });
    expect(orders.error).toBeUndefined();
    expect(orders.data?.myOrders.edges).toEqual([]);
    const catalog = await client.query({ query: CatalogProductsDocument, variables: { first: 50 } });
    expect(catalog.data?.products.edges.map((e) => e.node.name)).toContain('Trusted mug');
    expect(sent).toHaveLength(2);
    for (const body of sent) {
      expect(JSON.parse(body)).not.toHaveProperty('query');
      expect(JSON.parse(body).extensions.persistedQuery.sha256Hash).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('production: a third-party client keeps full GraphQL and automatic persisted queries', async () => {
    const query = '{ me { id } }';
    expect((await post(production.url, { query }, partner)).body.data).toEqual({ me: { id: 'delivery-partner' } });
    // APQ as Apollo Server answers it: unknown hash, then hash and text register it, then the hash alone runs.
    const apq = { persistedQuery: { version: 1, sha256Hash: sha256(query) } };
    const unknown = await post(production.url, { extensions: apq }, partner);
    expect(unknown.body.errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await post(production.url, { query, extensions: apq }, partner)).body.data.me.id).toBe('delivery-partner');
    expect((await post(production.url, { extensions: apq }, partner)).body.data.me.id).toBe('delivery-partner');
    // And the app's ids work for it (and for anonymous callers) too.
    const catalog = listed('CatalogProducts');
    for (const headers of [partner, {}]) {
      const res = await post(production.url, { documentId: catalog.id, variables: { first: 1 } }, headers);
      expect(res.body.data.products.edges).toHaveLength(1);
    }
    // Anonymous callers are no client of ours: full documents, as before.
    expect(
      (await post(production.url, { query: '{ products(first: 1) { totalCount } }' })).body.errors,
    ).toBeUndefined();
  });

  it('outside production the storefront client sends any document (Apollo Sandbox, development)', async () => {
    const res = await post(system.gatewayUrl, { query: '{ me { id email } }' }, customer.headers);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.me.email).toBe(customer.email);
    const byId = await post(system.gatewayUrl, { documentId: myOrders.id, variables: { first: 5 } }, customer.headers);
    expect(byId.body.data.myOrders.edges).toEqual([]);
  });
});
