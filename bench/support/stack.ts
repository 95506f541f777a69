/**
 * The system under test for the benchmarks: PostgreSQL, nats-server and an
 * SMTP sink of our own, and the four subgraphs plus the gateway either as
 * separate child processes (default: one event loop each, as in
 * production and `npm start`) or all in this process (`--in-process`).
 *
 * Ports come from the kernel, never the defaults of `npm start`
 * (4000-4004, 54329, 4222, 2525), so a bench never meets another
 * engineer's running system.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createLogger } from '@orderflow/common/observability';
import { freePort, startMailSink, startNats, startPostgres } from '@orderflow/devstack';
import { cpuSeconds } from './proc.ts';

/** Ports of `npm start` and the usual dev servers: never ours. */
const RESERVED_PORTS = new Set([4000, 4001, 4002, 4003, 4004, 54329, 4222, 2525]);

/** A free loopback port that is not one of the reserved ones. */
export async function benchPort(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (!RESERVED_PORTS.has(p)) return p;
  }
}

// ---------------------------------------------------------------- infrastructure

export interface InfraOptions {
  /** fsync / synchronous_commit off (fast, not durable). Default: durable, like production. */
  ephemeral?: boolean;
  /**
   * Load pg_stat_statements (statements per order, time per statement) and
   * track commit timestamps (exact commit → client delays). Default true.
   */
  instrumentPostgres?: boolean;
}

/**
 * PostgreSQL of our own (@orderflow/devstack's), with the instrumentation
 * settings and extension when asked.
 */
async function startBenchPostgres({
  dataDir,
  port,
  ephemeral,
  instrument,
}: {
  dataDir: string;
  port: number;
  ephemeral: boolean;
  instrument: boolean;
}) {
  const settings = instrument
    ? [
        'shared_preload_libraries=pg_stat_statements',
        'pg_stat_statements.track=all',
        'pg_stat_statements.max=10000',
        'track_commit_timestamp=on',
      ]
    : [];
  const postgres = await startPostgres({ dataDir, port, ephemeral, settings });
  if (instrument) {
    const c = new pg.Client({ connectionString: postgres.url });
    await c.connect();
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await c.end();
  }
  return postgres;
}

/**
 * PostgreSQL, nats-server and an SMTP sink of our own, under a fresh temp
 * dir. By default commits are durable like production (`ephemeral` turns
 * fsync off).
 */
export async function startInfra({ ephemeral = false, instrumentPostgres = true }: InfraOptions = {}) {
  const root = mkdtempSync(join(tmpdir(), 'orderflow-bench-'));
  chmodSync(root, 0o755); // PostgreSQL runs as the postgres user when we are root
  const [pgPort, natsPort] = [await benchPort(), await benchPort()];
  const started = await Promise.allSettled([
    startBenchPostgres({ dataDir: join(root, 'pg'), port: pgPort, ephemeral, instrument: instrumentPostgres }),
    startNats({ storeDir: join(root, 'nats'), port: natsPort }),
    startMailSink(),
  ] as const);
  const [pgResult, natsResult, mailResult] = started;
  const stopAll = async () => {
    await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    rmSync(root, { recursive: true, force: true });
  };
  const failed = started.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
  if (
    failed ||
    pgResult.status !== 'fulfilled' ||
    natsResult.status !== 'fulfilled' ||
    mailResult.status !== 'fulfilled'
  ) {
    await stopAll();
    throw failed?.reason as Error;
  }
  const mail = mailResult.value;
  return {
    root,
    pgPort: pgResult.value.port,
    pgUrl: pgResult.value.url,
    natsUrl: natsResult.value.url,
    smtpUrl: mail.url,
    /** Messages the SMTP sink received (customer emails). */
    mailCount: () => mail.messages.length,
    /** The sink keeps messages in memory: drop them between runs. */
    clearMail: () => void mail.messages.splice(0),
    ephemeral,
    instrumented: instrumentPostgres,
    pids: { postgres: pgResult.value.child.pid ?? null, nats: natsResult.value.child.pid ?? null },
    stop: stopAll,
  };
}
export type Infra = Awaited<ReturnType<typeof startInfra>>;

// ---------------------------------------------------------------- the services

export const SERVICES = ['auth', 'products', 'orders', 'shipments'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface StackOptions {
  pgPort: number;
  natsUrl: string;
  smtpUrl: string;
  logLevel?: string;
  /** Extra environment for every service (e.g. DB_POOL_SIZE=20). */
  env?: Record<string, string>;
}

/** Environment shared by every service of one bench system. */
export function stackEnvironment(o: StackOptions, ports: Record<ServiceName | 'gateway', number>) {
  const suffix = randomBytes(4).toString('hex');
  const urls = {
    AUTH_URL: `http://127.0.0.1:${ports.auth}`,
    PRODUCTS_URL: `http://127.0.0.1:${ports.products}`,
    ORDERS_URL: `http://127.0.0.1:${ports.orders}`,
    SHIPMENTS_URL: `http://127.0.0.1:${ports.shipments}`,
  };
  const common: Record<string, string> = {
    NODE_ENV: 'development',
    LOG_LEVEL: o.logLevel ?? 'warn',
    NATS_URL: o.natsUrl,
    NATS_PREFIX: `bench${suffix}`,
    SMTP_URL: o.smtpUrl,
    // Tokens name the gateway's origin as their issuer, as in production.
    OAUTH_ISSUER: `http://127.0.0.1:${ports.gateway}`,
    // The load generator is one IP that signs up a pool of customers, and one
    // operator and one delivery partner standing in for many: not what the
    // per-IP and per-client limits are for. Customer tokens too: the gateway phase sends one customer's order
    // page from 32 connections (at 10/s, storefront's 600/min, the limit and not the gateway would be measured).
    ANONYMOUS_RATE_LIMIT_PER_MINUTE: '1000000',
    OAUTH_CLIENT_RATE_LIMITS: 'storefront=1000000,ops-console=1000000,delivery-partner=1000000',
    // Likewise its sign-ups, several at once (the log-in throttle is not what we measure).
    SIGNUPS_PER_ADDRESS: '1000000',
    PASSWORD_CHECKS_PER_ADDRESS: '10000',
    // Thousands of subscribers from one address (127.0.0.1): the per-address WebSocket limits are not what we measure.
    WS_MAX_CONNECTIONS_PER_ADDRESS: '1000000',
    WS_SUBSCRIBE_RATE_PER_MINUTE: '1000000',
    // Likewise its HTTP connections (thousands of WebSocket handshakes at once), and the gateway's
    // metrics listener on a free port, beside an `npm start` that may hold the default one.
    MAX_CONNECTIONS_PER_ADDRESS: '0',
    METRICS_PORT: '0',
    ...urls,
    ...(o.env ?? {}),
  };
  const databases = Object.fromEntries(
    SERVICES.map((s) => [s, `postgresql://postgres@127.0.0.1:${o.pgPort}/${s}_bench_${suffix}`]),
  ) as Record<ServiceName, string>;
  return { suffix, urls, common, databases };
}

/** What both kinds of stack offer the benchmarks. */
export interface Stack {
  mode: 'processes' | 'in-process' | 'external';
  gatewayUrl: string;
  /** Subgraph base URLs (AUTH_URL, …). */
  urls: Record<string, string>;
  /** Each service's database URL. */
  databases: Record<ServiceName, string> | null;
  natsPrefix: string;
  /** The settings every service shares. */
  env: Record<string, string>;
  /** Service processes to measure (pid null: inside the bench process). */
  processes: { name: string; pid: number | null }[];
  /** Memory, event-loop utilization or a CPU profile of a service process; null in-process. */
  probe(
    name: string,
    cmd: 'memory' | 'elu' | 'profile-start' | 'profile-stop' | 'heap-snapshot',
    args?: Record<string, unknown>,
  ): Promise<any>;
  /** Stops the gateway, then the subgraphs; `onStopped` hears how long each took. */
  stop(onStopped?: (name: string, ms: number) => void): Promise<void>;
}

/**
 * The four subgraphs and the gateway in this process on free loopback ports
 * (as test/support/system.ts does), against fresh databases on the given
 * PostgreSQL and a fresh subject prefix on the given NATS. All five share
 * this process's event loop and CPU: handy, but not what production runs.
 */
export async function startStack(o: StackOptions): Promise<Stack> {
  const [
    authConfig,
    startAuth,
    ordersConfig,
    startOrders,
    productsConfig,
    startProducts,
    shipmentsConfig,
    startShipments,
    gatewayConfig,
    startGateway,
  ] = await Promise.all([
    import('../../subgraphs/auth/src/config.ts').then((m) => m.loadConfig),
    import('../../subgraphs/auth/src/app.ts').then((m) => m.startAuth),
    import('../../subgraphs/orders/src/config.ts').then((m) => m.loadConfig),
    import('../../subgraphs/orders/src/app.ts').then((m) => m.startOrders),
    import('../../subgraphs/products/src/config.ts').then((m) => m.loadConfig),
    import('../../subgraphs/products/src/app.ts').then((m) => m.startProducts),
    import('../../subgraphs/shipments/src/config.ts').then((m) => m.loadConfig),
    import('../../subgraphs/shipments/src/app.ts').then((m) => m.startShipments),
    import('../../gateway/src/config.ts').then((m) => m.loadConfig),
    import('../../gateway/src/server.ts').then((m) => m.startGateway),
  ]);
  const ports = {
    auth: await benchPort(),
    products: await benchPort(),
    orders: await benchPort(),
    shipments: await benchPort(),
    gateway: await benchPort(),
  };
  const { urls, common, databases } = stackEnvironment(o, ports);
  const logLevel = common.LOG_LEVEL;
  const log = (name: string) => createLogger(name, logLevel);
  const services = await Promise.all([
    startAuth(authConfig({ ...common, PORT: String(ports.auth), DATABASE_URL: databases.auth }), { log: log('auth') }),
    startProducts(productsConfig({ ...common, PORT: String(ports.products), DATABASE_URL: databases.products }), {
      log: log('products'),
    }),
    startOrders(ordersConfig({ ...common, PORT: String(ports.orders), DATABASE_URL: databases.orders }), {
      log: log('orders'),
    }),
    startShipments(shipmentsConfig({ ...common, PORT: String(ports.shipments), DATABASE_URL: databases.shipments }), {
      log: log('shipments'),
    }),
  ]);
  const gw = await startGateway(gatewayConfig({ ...common, PORT: String(ports.gateway) }), { log: log('gateway') });
  return {
    mode: 'in-process',
    gatewayUrl: gw.url,
    urls,
    databases,
    natsPrefix: common.NATS_PREFIX,
    env: common,
    processes: [],
    async probe() {
      return null;
    },
    async stop(onStopped = () => {}) {
      let t = performance.now();
      await gw.stop();
      onStopped('gateway', performance.now() - t);
      t = performance.now();
      await Promise.all(services.map((s, i) => s.stop().then(() => onStopped(SERVICES[i], performance.now() - t))));
    },
  };
}

/** A running system started elsewhere (`--gateway URL`): nothing to measure but its answers. */
export function externalStack(gatewayUrl: string, natsPrefix = ''): Stack {
  return {
    mode: 'external',
    gatewayUrl,
    urls: {},
    databases: null,
    natsPrefix,
    env: {},
    processes: [],
    async probe() {
      return null;
    },
    async stop() {},
  };
}

// ---------------------------------------------------------------- credentials

/** The development secrets of the contract's clients (what `npm start` and the bench stacks register). */
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
  const body = (await res.json().catch(() => ({}))) as {
    access_token?: string;
    error?: string;
    error_description?: string;
  };
  if (!res.ok || !body.access_token)
    throw new Error(
      `/oauth/token for ${clientId}: HTTP ${res.status} ${body.error ?? ''} ${body.error_description ?? ''}`.trim(),
    );
  return body.access_token;
}

/** A customer signed up by the bench: its id (token subject) and access token. */
export interface BenchCustomer {
  id: string;
  accessToken: string;
}

/**
 * Signs up `count` customers through the gateway (real accounts, real
 * password hashing) and returns their ids and access tokens. A few at a
 * time: each sign-up costs a scrypt hash. Waits out RATE_LIMITED answers
 * from a gateway whose per-IP limit is lower than the pool.
 */
export async function signUpCustomers(
  gateway: string,
  count: number,
  runId: string,
  { concurrency = 4, onProgress }: { concurrency?: number; onProgress?: (done: number) => void } = {},
): Promise<BenchCustomer[]> {
  const out: BenchCustomer[] = new Array(count);
  let next = 0;
  let done = 0;
  const query = 'mutation($input: SignUpInput!) { signUp(input: $input) { accessToken } }';
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const input = {
        email: `bench-${runId}-${i}@example.test`,
        password: `bench-${runId}-password`,
        name: `Bench customer ${i}`,
      };
      for (let attempt = 1; ; attempt++) {
        const res = await fetch(`${gateway}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query, variables: { input } }),
          signal: AbortSignal.timeout(60_000),
        }).catch((err: Error) => err);
        if (res instanceof Error) {
          if (attempt < 5) continue;
          throw res;
        }
        const body = (await res.json()) as {
          data?: { signUp: { accessToken: string } } | null;
          errors?: { message: string; extensions?: { code?: string; retryAfter?: number } }[];
        };
        const error = body.errors?.[0];
        if (error?.extensions?.code === 'RATE_LIMITED') {
          await sleep((error.extensions.retryAfter ?? 1) * 1000);
          continue;
        }
        if (!body.data) throw new Error(`signUp failed: HTTP ${res.status} ${JSON.stringify(body.errors)}`);
        const accessToken = body.data.signUp.accessToken;
        const sub = JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString('utf8')).sub as string;
        out[i] = { id: sub, accessToken };
        break;
      }
      if (++done % 100 === 0) onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return out;
}

/**
 * CPU seconds used so far by a process and all its descendants, live or
 * reaped (Linux /proc only; null elsewhere or when the process is gone).
 */
export function processTreeCpuSeconds(rootPid: number | null): number | null {
  return cpuSeconds(rootPid, { tree: true });
}
