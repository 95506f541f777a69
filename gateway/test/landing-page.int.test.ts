import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandaloneGateway, type StandaloneGateway } from './standalone-gateway.ts';

const INTROSPECTION = '{ __schema { types { name } } }';
// The products subgraph is a closed port here: the gateway's call fails with a
// connection error that names the host and port.
const NEEDS_PRODUCTS = '{ products(first: 1) { totalCount } }';

async function post(gw: StandaloneGateway, query: string) {
  const res = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    body: JSON.parse(text) as { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] },
  };
}

/** What a browser gets when it opens /graphql. */
async function browse(gw: StandaloneGateway) {
  const res = await fetch(`${gw.url}/graphql`, {
    headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
  });
  return { status: res.status, type: res.headers.get('content-type'), html: await res.text() };
}

describe('the gateway in a browser, development and production', () => {
  let dev: StandaloneGateway;
  let prod: StandaloneGateway;

  beforeAll(async () => {
    [dev, prod] = await Promise.all([
      startStandaloneGateway({ NODE_ENV: 'development' }),
      startStandaloneGateway({ NODE_ENV: 'production', INTERNAL_AUTH_SECRET: randomBytes(24).toString('hex') }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([dev?.stop(), prod?.stop()]);
  });

  it('development: Apollo Sandbox on this gateway, subscriptions on ws://<host>/graphql, and how to paste a token', async () => {
    const page = await browse(dev);
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.html).toContain('new window.EmbeddedSandbox(');

    // The page derives the subscription endpoint from its own URL in the browser: run that expression.
    const expression = /initialSubscriptionEndpoint: (.+),\n/.exec(page.html)?.[1];
    expect(expression).toBeDefined();
    const endpointFor = new Function('initialEndpoint', `return ${expression};`) as (url: string) => string;
    expect(endpointFor(`${dev.url}/graphql`)).toBe(`${dev.url.replace('http://', 'ws://')}/graphql`);
    expect(endpointFor('https://shop.example/graphql')).toBe('wss://shop.example/graphql');

    const config = JSON.parse(/var embeddedSandboxConfig = (.+);\n/.exec(page.html)![1]) as {
      endpointIsEditable: boolean;
      initialState: { document: string };
    };
    expect(config.endpointIsEditable).toBe(false);
    const doc = config.initialState.document;
    expect(doc).toContain('Authorization: Bearer <token>');
    expect(doc).toMatch(/logIn/);
    expect(doc).toContain('/oauth/token');
    expect(doc).toContain('ws://<this host>/graphql');
  });

  it('development: introspection is on (Sandbox needs it)', async () => {
    const r = await post(dev, INTROSPECTION);
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.__schema.types.map((t: { name: string }) => t.name)).toEqual(
      expect.arrayContaining(['Product', 'Order', 'Shipment']),
    );
  });

  it('production: the production landing page, no Sandbox', async () => {
    const page = await browse(prod);
    expect(page.status).toBe(200);
    expect(page.html).not.toContain('EmbeddedSandbox');
    const encoded = /window\.landingPage = (".*?");/.exec(page.html)?.[1];
    expect(encoded).toBeDefined();
    const landing = JSON.parse(decodeURIComponent(JSON.parse(encoded!))) as { isProd: boolean; document?: string };
    expect(landing.isProd).toBe(true);
    expect(landing.document).toBeUndefined();
  });

  it('production: introspection is refused', async () => {
    const r = await post(prod, INTROSPECTION);
    expect(r.body.data).toBeUndefined();
    expect(r.body.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(r.text).not.toContain('"Product"');
  });

  it.each([
    ['production', () => prod],
    ['development', () => dev],
  ])('%s: a subgraph it cannot reach is a bare SERVICE_UNAVAILABLE, no host or cause', async (_mode, gw) => {
    const closedPort = new URL(gw().nowhere).port;
    const r = await post(gw(), NEEDS_PRODUCTS);
    expect(r.body.errors).toHaveLength(1);
    expect(r.body.errors![0]).toMatchObject({
      message: 'Part of the service is temporarily unavailable; please retry',
      extensions: { code: 'SERVICE_UNAVAILABLE' },
    });
    expect(Object.keys(r.body.errors![0].extensions!)).toEqual(['code']);
    for (const leak of [
      '127.0.0.1',
      'ECONNREFUSED',
      'fetch failed',
      'subgraph',
      'serviceName',
      'stacktrace',
      `:${closedPort}`,
    ])
      expect(r.text).not.toContain(leak);
  });
});
