import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTERNAL_TOKEN_HEADER, createInternalAuth, resolveInternalSecret } from '@orderflow/common/server';
import { startStandaloneGateway } from '../gateway/test/standalone-gateway.ts';
import { startSystem, type System } from './support/system.ts';

describe('subgraphs are closed to everyone but the gateway and siblings', () => {
  let system: System;
  beforeAll(async () => {
    system = await startSystem();
  });
  afterAll(async () => system?.stop());

  const query = JSON.stringify({ query: '{ products(first: 1) { totalCount } }' });
  const call = (url: string, headers: Record<string, string> = {}, body = query) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it('answers 401 and no data to a direct call without the internal token', async () => {
    for (const base of Object.values(system.urls)) {
      const res = await call(`${base}/graphql`);
      expect(res.status).toBe(401);
      expect(JSON.stringify(await res.json())).not.toContain('data');
    }
  });

  it('answers 401 to a token signed with another secret, or expired', async () => {
    const forged = await createInternalAuth({ secret: 'x'.repeat(40), issuer: 'gateway' }).sign(null);
    expect((await call(`${system.urls.PRODUCTS_URL}/graphql`, { [INTERNAL_TOKEN_HEADER]: forged })).status).toBe(401);
    const key = new TextEncoder().encode(resolveInternalSecret('test', undefined));
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setAudience('orderflow-internal')
      .setIssuedAt(1_000)
      .setExpirationTime(2_000)
      .sign(key);
    expect((await call(`${system.urls.PRODUCTS_URL}/graphql`, { [INTERNAL_TOKEN_HEADER]: expired })).status).toBe(401);
  });

  it('takes no user access token as a credential, and keeps the OAuth routes behind the gateway', async () => {
    const customer = await system.signUpCustomer('direct');
    for (const base of Object.values(system.urls)) {
      const res = await call(`${base}/graphql`, { authorization: `Bearer ${customer.accessToken}` });
      expect(res.status).toBe(401);
    }
    const token = await fetch(`${system.urls.AUTH_URL}/internal/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('ops-console:ops-console-dev-secret').toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    });
    expect(token.status).toBe(401);
    expect(JSON.stringify(await token.json())).not.toContain('access_token');
    // A sibling service's credential is not the gateway's either.
    const sibling = await createInternalAuth({
      secret: resolveInternalSecret('test', undefined),
      issuer: 'orders',
    }).sign({ id: 'service:orders', clientId: 'orders', kind: 'service', scopes: new Set(['internal:inventory']) });
    expect(
      (await fetch(`${system.urls.AUTH_URL}/internal/oauth/jwks`, { headers: { [INTERNAL_TOKEN_HEADER]: sibling } }))
        .status,
    ).toBe(403);
  });

  it('keeps internal routes for services: a customer identity gets 403', async () => {
    const auth = createInternalAuth({ secret: resolveInternalSecret('test', undefined), issuer: 'gateway' });
    const customer = await auth.sign({
      id: 'c',
      clientId: 'web',
      kind: 'customer',
      scopes: new Set(['orders:create']),
    });
    const body = JSON.stringify({
      orderId: '00000000-0000-4000-8000-000000000000',
      items: [{ productId: '00000000-0000-4000-8000-000000000001', quantity: 1 }],
    });
    const res = await call(
      `${system.urls.PRODUCTS_URL}/internal/reservations`,
      { [INTERNAL_TOKEN_HEADER]: customer },
      body,
    );
    expect(res.status).toBe(403);
    const wrongScope = await auth.sign({
      id: 'service:x',
      clientId: 'x',
      kind: 'service',
      scopes: new Set(['internal:shipments']),
    });
    expect(
      (await call(`${system.urls.PRODUCTS_URL}/internal/reservations`, { [INTERNAL_TOKEN_HEADER]: wrongScope }, body))
        .status,
    ).toBe(403);
  });

  it('serves health without a token', async () => {
    for (const base of Object.values(system.urls)) {
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
      expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    }
    const ready = await (await fetch(`${system.gatewayUrl}/health/ready`)).json();
    expect(ready).toEqual({
      status: 'ok',
      subgraphs: { auth: 'ok', products: 'ok', orders: 'ok', shipments: 'ok' },
      nats: 'ok',
    });
  });

  it('a gateway whose internal secret differs gets 401s, and tells its clients only INTERNAL_SERVER_ERROR', async () => {
    // A real products subgraph behind a misconfigured gateway: the subgraph refuses every call.
    const gw = await startStandaloneGateway({
      PRODUCTS_URL: system.urls.PRODUCTS_URL,
      INTERNAL_AUTH_SECRET: 'y'.repeat(40),
    });
    try {
      const res = await fetch(`${gw.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: query,
      });
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({
        data: null,
        errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
      });
      // Not the caller's credentials (UNAUTHENTICATED), and nothing of the subgraph: no URL, port or body.
      expect(text).not.toContain(new URL(system.urls.PRODUCTS_URL).port);
      expect(text).not.toMatch(/127\.0\.0\.1|UNAUTHENTICATED|Unauthorized|response/);
    } finally {
      await gw.stop();
    }
  });
});
