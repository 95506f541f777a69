import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@orderflow/common';
import { freePort, startNats, startPostgres } from '@orderflow/devstack';
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

/**
 * PostgreSQL and nats-server of our own, under a fresh temp dir. `ephemeral`
 * turns off fsync/synchronous_commit (fast, not durable); by default commits
 * are durable like production.
 */
export async function startInfra({ ephemeral = false }: { ephemeral?: boolean } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'orderflow-bench-'));
  chmodSync(root, 0o755); // PostgreSQL runs as the postgres user when we are root
  const [pgPort, natsPort] = [await freePort(), await freePort()];
  const started = await Promise.allSettled([
    startPostgres({ dataDir: join(root, 'pg'), port: pgPort, ephemeral }),
    startNats({ storeDir: join(root, 'nats'), port: natsPort }),
  ]);
  const [pgResult, natsResult] = started;
  const stopAll = async () => {
    await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    rmSync(root, { recursive: true, force: true });
  };
  if (pgResult.status === 'rejected' || natsResult.status === 'rejected') {
    await stopAll();
    throw (pgResult.status === 'rejected' ? pgResult.reason : (natsResult as PromiseRejectedResult).reason) as Error;
  }
  return {
    root,
    pgPort: pgResult.value.port,
    natsUrl: natsResult.value.url,
    ephemeral,
    pids: { postgres: pgResult.value.child.pid ?? null, nats: natsResult.value.child.pid ?? null },
    stop: stopAll,
  };
}
export type Infra = Awaited<ReturnType<typeof startInfra>>;

/**
 * The four subgraphs and the gateway in this process on free loopback ports
 * (as test/support/system.ts does), against fresh databases on the given
 * PostgreSQL and a fresh subject prefix on the given NATS.
 */
export async function startStack({
  pgPort,
  natsUrl,
  logLevel = 'warn',
  env: extra = {},
}: {
  pgPort: number;
  natsUrl: string;
  logLevel?: string;
  env?: Record<string, string>;
}) {
  const suffix = randomBytes(4).toString('hex');
  const [auth, products, orders, shipments, gateway] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const urls = {
    AUTH_URL: `http://127.0.0.1:${auth}`,
    PRODUCTS_URL: `http://127.0.0.1:${products}`,
    ORDERS_URL: `http://127.0.0.1:${orders}`,
    SHIPMENTS_URL: `http://127.0.0.1:${shipments}`,
  };
  const common = {
    NODE_ENV: 'development',
    LOG_LEVEL: logLevel,
    NATS_URL: natsUrl,
    NATS_PREFIX: `bench${suffix}`,
    // Tokens name the gateway's origin as their issuer, as in production.
    OAUTH_ISSUER: `http://127.0.0.1:${gateway}`,
    // The load generator is one IP that signs up a pool of customers: not what the per-IP limit is for.
    ANONYMOUS_RATE_LIMIT_PER_MINUTE: '1000000',
    ...urls,
    ...extra,
  };
  const db = (name: string) => `postgresql://postgres@127.0.0.1:${pgPort}/${name}_bench_${suffix}`;
  const log = (name: string) => createLogger(name, logLevel);

  const services = await Promise.all([
    startAuth(authConfig({ ...common, PORT: String(auth), DATABASE_URL: db('auth') }), { log: log('auth') }),
    startProducts(productsConfig({ ...common, PORT: String(products), DATABASE_URL: db('products') }), { log: log('products') }),
    startOrders(ordersConfig({ ...common, PORT: String(orders), DATABASE_URL: db('orders') }), { log: log('orders') }),
    startShipments(shipmentsConfig({ ...common, PORT: String(shipments), DATABASE_URL: db('shipments') }), { log: log('shipments') }),
  ]);
  const gw = await startGateway(gatewayConfig({ ...common, PORT: String(gateway) }), { log: log('gateway') });
  const names = ['auth', 'products', 'orders', 'shipments'];
  return {
    gatewayUrl: gw.url,
    urls,
    /** Stops the gateway, then the subgraphs; `onStopped` hears how long each took. */
    async stop(onStopped: (name: string, ms: number) => void = () => {}) {
      let t = performance.now();
      await gw.stop();
      onStopped('gateway', performance.now() - t);
      t = performance.now();
      await Promise.all(services.map((s, i) => s.stop().then(() => onStopped(names[i], performance.now() - t))));
    },
  };
}
export type Stack = Awaited<ReturnType<typeof startStack>>;

// ---------------------------------------------------------------- credentials

/** The development secrets of the contract's clients (what `npm start` and the in-process stack register). */
export const DEV_CLIENT_SECRETS = {
  'ops-console': 'ops-console-dev-secret',
  'delivery-partner': 'delivery-partner-dev-secret',
  storefront: 'storefront-dev-secret',
} as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client-credentials access token from the gateway's /oauth/token (RFC 6749 §4.4). */
export async function clientToken(gateway: string, clientId: string, secret: string, scope?: string): Promise<string> {
  const res = await fetch(`${gateway}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) }).toString(),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; error?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new Error(`/oauth/token for ${clientId}: HTTP ${res.status} ${body.error ?? ''} ${body.error_description ?? ''}`.trim());
  return body.access_token;
}

/**
 * Signs up `count` customers through the gateway (real accounts, real
 * password hashing) and returns their access tokens. A few at a time: each
 * sign-up costs a scrypt hash. Waits out RATE_LIMITED answers from a gateway
 * whose per-IP limit is lower than the pool.
 */
export async function signUpCustomers(gateway: string, count: number, runId: string, { concurrency = 4 } = {}): Promise<string[]> {
  const tokens: string[] = new Array(count);
  let next = 0;
  const query = 'mutation($input: SignUpInput!) { signUp(input: $input) { accessToken } }';
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const input = { email: `bench-${runId}-${i}@example.test`, password: `bench-${runId}-password`, name: `Bench customer ${i}` };
      for (;;) {
        const res = await fetch(`${gateway}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query, variables: { input } }),
          signal: AbortSignal.timeout(30_000),
        });
        const body = (await res.json()) as { data?: { signUp: { accessToken: string } } | null; errors?: { message: string; extensions?: { code?: string; retryAfter?: number } }[] };
        const error = body.errors?.[0];
        if (error?.extensions?.code === 'RATE_LIMITED') {
          await sleep((error.extensions.retryAfter ?? 1) * 1000);
          continue;
        }
        if (!body.data) throw new Error(`signUp failed: HTTP ${res.status} ${JSON.stringify(body.errors)}`);
        tokens[i] = body.data.signUp.accessToken;
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return tokens;
}

let clockTicks: number | null = null;

/**
 * CPU seconds used so far by a process and all its descendants, live or
 * reaped (Linux /proc only; null elsewhere or when the process is gone).
 * PostgreSQL's backends are children of the postmaster, so this covers them.
 */
export function processTreeCpuSeconds(rootPid: number | null): number | null {
  if (rootPid == null || process.platform !== 'linux') return null;
  try {
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const stats = new Map<number, { ppid: number; ticks: number }>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      let raw: string;
      try {
        raw = readFileSync(`/proc/${name}/stat`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      // Fields after "(comm)": state ppid … utime(14) stime(15) cutime(16) cstime(17), numbered from 1.
      const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(name), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
    }
    if (!stats.has(rootPid)) return null;
    const children = new Map<number, number[]>();
    for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
    let ticks = 0;
    const todo = [rootPid];
    while (todo.length) {
      const pid = todo.pop()!;
      ticks += stats.get(pid)?.ticks ?? 0;
      todo.push(...(children.get(pid) ?? []));
    }
    return ticks / clockTicks;
  } catch {
    return null;
  }
}
