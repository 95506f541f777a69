import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { launchChromium } from '../../test/browser/chromium.ts';
import { startStandaloneGateway, type StandaloneGateway } from './standalone-gateway.ts';

/** A page on an origin of its own (another port is another origin), to call the gateway from. */
async function startPageServer(): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>another origin</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What a browser's preflight for a JSON POST with a bearer token sends. */
function preflight(url: string, origin: string) {
  return fetch(`${url}/graphql`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type',
    },
  });
}

const TYPENAME = JSON.stringify({ query: '{ __typename }' });

describe('CORS_ORIGINS on the gateway', () => {
  let allowedPage: Awaited<ReturnType<typeof startPageServer>>;
  let otherPage: Awaited<ReturnType<typeof startPageServer>>;
  let withCors: StandaloneGateway;
  let withoutCors: StandaloneGateway;
  let browser: Browser;

  beforeAll(async () => {
    [allowedPage, otherPage] = await Promise.all([startPageServer(), startPageServer()]);
    [withCors, withoutCors, browser] = await Promise.all([
      startStandaloneGateway({ CORS_ORIGINS: `https://shop.example.com, ${allowedPage.origin}/` }),
      startStandaloneGateway(),
      launchChromium(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([withCors?.stop(), withoutCors?.stop(), allowedPage?.close(), otherPage?.close()]);
  });

  it('answers an allowed origin’s preflight with its origin, credentials, methods and headers', async () => {
    const res = await preflight(withCors.url, allowedPage.origin);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(allowedPage.origin);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect(res.headers.get('vary')?.toLowerCase()).toContain('origin');
  });

  it('gives any other origin no CORS header, on the preflight and on the request', async () => {
    for (const origin of [otherPage.origin, 'https://evil.example.com', 'null']) {
      const pre = await preflight(withCors.url, origin);
      expect(pre.headers.get('access-control-allow-origin'), origin).toBeNull();
      expect(pre.headers.get('access-control-allow-credentials'), origin).toBeNull();
      const res = await fetch(`${withCors.url}/graphql`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json' },
        body: TYPENAME,
      });
      expect(res.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
  });

  it('sends no CORS header at all by default', async () => {
    const res = await preflight(withoutCors.url, allowedPage.origin);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('lets a browser page on an allowed origin call the API with credentials, and blocks another origin', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const call = (gatewayUrl: string) =>
        page.evaluate(async (url) => {
          try {
            const res = await fetch(`${url}/graphql`, {
              method: 'POST',
              credentials: 'include',
              headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true' },
              body: JSON.stringify({ query: '{ __typename }' }),
            });
            return { status: res.status, body: await res.json() };
          } catch (err) {
            return { error: String(err) };
          }
        }, gatewayUrl);

      await page.goto(`${allowedPage.origin}/`);
      expect(await call(withCors.url)).toEqual({ status: 200, body: { data: { __typename: 'Query' } } });
      // The same page against a gateway without CORS_ORIGINS: the browser refuses to hand over the answer.
      expect(await call(withoutCors.url)).toEqual({ error: expect.stringMatching(/Failed to fetch/) });

      await page.goto(`${otherPage.origin}/`);
      expect(await call(withCors.url)).toEqual({ error: expect.stringMatching(/Failed to fetch/) });
    } finally {
      await context.close();
    }
  });

  it('refuses a value that is not a list of origins, naming the variable', () => {
    for (const bad of ['*', 'shop.example.com', 'https://shop.example.com/app', 'ftp://files.example.com'])
      expect(() => loadConfig({ CORS_ORIGINS: bad }), bad).toThrow(/CORS_ORIGINS: .* is not an origin/);
    expect(loadConfig({ CORS_ORIGINS: ' https://a.example.com/ ,http://localhost:5173' }).CORS_ORIGINS).toEqual([
      'https://a.example.com',
      'http://localhost:5173',
    ]);
    expect(loadConfig({}).CORS_ORIGINS).toEqual([]);
  });
});
