import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandaloneGateway, type StandaloneGateway } from './standalone-gateway.ts';

const INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/app-1a2b3c.js"></script></head><body><div id="root">orderflow test build</div></body></html>';
const SCRIPT = 'console.log("orderflow");';
const NAVIGATE = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

describe('the web app on the gateway origin (WEB_DIST_DIR)', () => {
  let dist: string;
  let empty: string;
  let withApp: StandaloneGateway;
  let withoutApp: StandaloneGateway;

  beforeAll(async () => {
    dist = mkdtempSync(join(tmpdir(), 'orderflow-web-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), INDEX);
    writeFileSync(join(dist, 'assets', 'app-1a2b3c.js'), SCRIPT);
    empty = mkdtempSync(join(tmpdir(), 'orderflow-web-empty-'));
    [withApp, withoutApp] = await Promise.all([
      startStandaloneGateway({ WEB_DIST_DIR: dist }),
      startStandaloneGateway({ WEB_DIST_DIR: empty }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([withApp?.stop(), withoutApp?.stop()]);
    for (const dir of [dist, empty]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html at /, revalidated on every load', async () => {
    const res = await fetch(`${withApp.url}/`, { headers: NAVIGATE });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toBe(INDEX);
  });

  it('serves the hashed assets, cacheable for good', async () => {
    const res = await fetch(`${withApp.url}/assets/app-1a2b3c.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(res.headers.get('cache-control')).toContain('immutable');
    expect(await res.text()).toBe(SCRIPT);
  });

  it('answers a page the browser navigates to with index.html (single-page app)', async () => {
    const res = await fetch(`${withApp.url}/orders/123`, { headers: NAVIGATE });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(INDEX);
  });

  it('leaves the gateway routes and non-page requests alone', async () => {
    const sandbox = await fetch(`${withApp.url}/graphql`, { headers: NAVIGATE });
    expect(await sandbox.text()).toContain('EmbeddedSandbox');

    const live = await fetch(`${withApp.url}/health/live`, { headers: NAVIGATE });
    expect(await live.json()).toEqual({ status: 'ok' });

    for (const path of ['/oauth/nothing-here', '/.well-known/nothing-here', '/metrics/nothing-here']) {
      const res = await fetch(`${withApp.url}${path}`, { headers: NAVIGATE });
      expect(await res.text(), path).not.toBe(INDEX);
    }

    const missingAsset = await fetch(`${withApp.url}/assets/gone-000.js`, { headers: { accept: '*/*' } });
    expect(missingAsset.status).toBe(404);

    const post = await fetch(`${withApp.url}/orders/123`, { method: 'POST', headers: NAVIGATE });
    expect(post.status).toBe(404);
  });

  it('serves nothing at / when the folder has no index.html', async () => {
    const res = await fetch(`${withoutApp.url}/`, { headers: NAVIGATE });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not_found' });
    const sandbox = await fetch(`${withoutApp.url}/graphql`, { headers: NAVIGATE });
    expect(await sandbox.text()).toContain('EmbeddedSandbox');
  });
});
