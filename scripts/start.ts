// `npm start`: the whole system on one machine, without Docker. PostgreSQL and
// nats-server of our own keep their data under .data/ (or DATA_DIR), unless
// DATABASE_URL / NATS_URL name servers of yours; the four subgraphs and the
// gateway run as supervised child processes; an empty catalog gets demo
// products. Ctrl-C stops everything in order.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  createNatsPasswords,
  portAnswers,
  provisionServiceDatabase,
  startMailSink,
  startNats,
  startPostgres,
  stopChild,
} from '@orderflow/devstack';
import { GATEWAY_DEFAULT_PORT, defaultPortOf } from '@orderflow/contracts';
import { createStartPrinter } from './log-format.ts';
import { migrateServices } from './migrate.ts';
import { seedCatalog } from './seed.ts';
import { buildWebIfStale, type WebBuild } from './web-build.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NAME_WIDTH = 'shipments'.length;
/** `npm run dev` (start.ts --watch): Node restarts a service when a file it loaded changes. */
const WATCH = process.argv.includes('--watch');
/** `npm run migrate` (start.ts --migrate): only PostgreSQL and every service's migrations. */
const MIGRATE_ONLY = process.argv.includes('--migrate');
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
const RESTART_DELAY_MS = 1_000;
const MAX_RESTARTS_PER_MINUTE = 5;
const TAIL_LINES = 30;

/** The subgraphs, with the variables that move each (`<NAME>_PORT` here, `<NAME>_URL` for its callers); default ports from the contracts. */
const SUBGRAPHS = (
  [
    { name: 'auth', portVar: 'AUTH_PORT', urlVar: 'AUTH_URL' },
    { name: 'products', portVar: 'PRODUCTS_PORT', urlVar: 'PRODUCTS_URL' },
    { name: 'orders', portVar: 'ORDERS_PORT', urlVar: 'ORDERS_URL' },
    { name: 'shipments', portVar: 'SHIPMENTS_PORT', urlVar: 'SHIPMENTS_URL' },
  ] as const
).map((s) => ({ ...s, defaultPort: defaultPortOf(s.name) }));

/** PostgreSQL or NATS: ours (stopped with us) or an external server (left alone). */
interface Infra {
  external: boolean;
  stop(): Promise<void>;
}

/** A service child process, restarted by us when it dies unexpectedly. */
interface Service {
  name: string;
  script: string;
  port: number;
  url: string;
  env: NodeJS.ProcessEnv;
  child: ChildProcess | null;
  /** Last output lines, shown when it fails to start. */
  tail: string[];
  /** Set once it has been ready: from then on a crash means restart, not a failed start. */
  supervised: boolean;
  /** When it was restarted, to stop a crash loop. */
  restarts: number[];
}

// What is running, for the one shutdown. Infrastructure is kept as promises so
// a Ctrl-C during its start still stops it once it is up.
const running: {
  postgres?: Promise<Infra>;
  nats?: Promise<Infra>;
  mail?: Promise<Infra>;
  subgraphs: Service[];
  gateway?: Service;
} = { subgraphs: [] };
const restartTimers = new Set<NodeJS.Timeout>();
let stopping: Promise<void> | null = null;

/** Prints one line of a component's output behind its padded name. */
// One short line per event at a terminal (coloured), JSON lines when piped or with LOG_FORMAT=json (log-format.ts).
const printer = createStartPrinter(NAME_WIDTH);
function print(name: string, line: string): void {
  printer.line(name, line);
}
const say = (line: string) => print('start', line);

function envPort(variable: string, fallback: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`${variable} must be a port number from 1 to 65535, got "${raw}"`);
  return port;
}

/** The server of a database URL, for display: no password, database or options. */
function serverOf(url: string): string {
  const u = new URL(url);
  const user = u.username ? `${u.username}${u.password ? ':***' : ''}@` : '';
  return `${u.protocol}//${user}${u.host}`;
}

// ── Infrastructure ──────────────────────────────────────────────────────────

async function refuseBusyPort(port: number, what: string, hint: string): Promise<void> {
  if (await portAnswers(port))
    throw new Error(
      `A server is already running on 127.0.0.1:${port}, the port our ${what} would use (an earlier npm start still running?). ${hint}`,
    );
}

/** NATS_USER and NATS_PASSWORD of one service (empty for a NATS of yours: set them yourself). */
type NatsLogin = (user: 'auth' | 'products' | 'orders' | 'shipments' | 'gateway') => NodeJS.ProcessEnv;

async function provideNats(dataDir: string): Promise<Infra & { url: string; login: NatsLogin }> {
  const external = process.env.NATS_URL;
  if (external) return { url: external, external: true, stop: async () => {}, login: () => ({}) };
  const port = envPort('NATS_PORT', 4222);
  await refuseBusyPort(
    port,
    'nats-server',
    `Stop it, use it with NATS_URL=nats://127.0.0.1:${port}, or pick another port with NATS_PORT.`,
  );
  // Each service logs in as its own user, allowed only its own subjects; fresh passwords every start,
  // kept only in the server's config (.data/nats/users.conf, readable by you alone: `admin` is for npm run dlq).
  const passwords = createNatsPasswords();
  const nats = await startNats({
    storeDir: join(dataDir, 'nats'),
    port,
    log: (line) => print('nats', line),
    auth: { passwords, prefixes: [process.env.NATS_PREFIX ?? ''] },
  });
  const login: NatsLogin = (user) => ({ NATS_USER: user, NATS_PASSWORD: passwords[user] });
  return { url: nats.url, external: false, stop: nats.stop, login };
}

/**
 * Customer emails: to SMTP_URL when given, otherwise into a local SMTP sink
 * that keeps every message as an .eml file under the data folder.
 */
async function provideMail(dataDir: string): Promise<Infra & { url: string; dir?: string }> {
  const external = process.env.SMTP_URL;
  if (external) return { url: external, external: true, stop: async () => {} };
  const port = envPort('SMTP_PORT', 2525);
  await refuseBusyPort(
    port,
    'SMTP sink',
    `Stop it, send mail there with SMTP_URL=smtp://127.0.0.1:${port}, or pick another port with SMTP_PORT.`,
  );
  const sink = await startMailSink({ port, dir: join(dataDir, 'mail') });
  return { url: sink.url, dir: sink.dir, external: false, stop: sink.stop };
}

interface Postgres extends Infra {
  /** The server, for the banner. */
  url: string;
  databaseUrl(service: string): string;
  /** Our own server's private Unix socket folder, where the superuser connects. */
  socketDir?: string;
}

async function providePostgres(dataDir: string): Promise<Postgres> {
  const external = process.env.DATABASE_URL;
  if (external) {
    // Same server and credentials, but every service gets its own database.
    const databaseUrl = (service: string) => {
      const u = new URL(external);
      u.pathname = `/orderflow_${service}`;
      return u.toString();
    };
    return { url: serverOf(external), external: true, databaseUrl, stop: async () => {} };
  }
  const port = envPort('PG_PORT', 54329);
  await refuseBusyPort(port, 'PostgreSQL', 'Stop it, use it with DATABASE_URL, or pick another port with PG_PORT.');
  const pg = await startPostgres({
    dataDir: join(dataDir, 'postgres'),
    port,
    access: 'private',
    log: (line) => print('postgres', line),
  });
  try {
    // Least privilege: each service logs in as its own role, which owns its database and can reach no other.
    // Passwords are new on every start; the superuser is reachable only through the cluster's private socket.
    const passwords = new Map<string, string>();
    for (const { name } of SUBGRAPHS) {
      const password = randomBytes(24).toString('base64url');
      passwords.set(name, password);
      await provisionServiceDatabase(pg.admin, { role: `orderflow_${name}`, database: `orderflow_${name}`, password });
    }
    say(
      `PostgreSQL ${pg.binaries.major} (${pg.binaries.source} binaries${pg.binaries.source === 'embedded' ? '' : `, ${pg.binaries.bin}`}), data in ${pg.clusterDir}`,
    );
    return {
      url: `postgresql://127.0.0.1:${port}`,
      external: false,
      databaseUrl: (service) =>
        `postgresql://orderflow_${service}:${passwords.get(service)}@127.0.0.1:${port}/orderflow_${service}`,
      socketDir: pg.socketDir,
      stop: pg.stop,
    };
  } catch (err) {
    await pg.stop();
    throw err;
  }
}

// ── Services ────────────────────────────────────────────────────────────────

/** Starts (or restarts) a service's process and relays its output. */
function spawnService(svc: Service): void {
  // Its own process group: a terminal's Ctrl-C reaches only us, so we stop
  // the services in order (gateway first) instead of all at once.
  const child = spawn(process.execPath, [...(WATCH ? ['--watch'] : []), '--import', 'tsx', svc.script], {
    cwd: ROOT,
    env: svc.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  svc.child = child;
  svc.tail = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream!, crlfDelay: Infinity }).on('line', (line) => {
      svc.tail.push(line);
      if (svc.tail.length > TAIL_LINES) svc.tail.shift();
      print(svc.name, line);
    });
  }
  child.on('error', (err) => print(svc.name, `could not start: ${err.message}`));
  child.on('exit', (code, signal) => onServiceExit(svc, child, code, signal));
}

function onServiceExit(svc: Service, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
  const how = signal ? `signal ${signal}` : `code ${code}`;
  if (stopping) return print(svc.name, `stopped (${how})`);
  // Before it was ready, waitReady reports the failure.
  if (!svc.supervised || svc.child !== child) return;
  const now = Date.now();
  svc.restarts = svc.restarts.filter((t) => now - t < 60_000);
  if (svc.restarts.length >= MAX_RESTARTS_PER_MINUTE) {
    print(
      svc.name,
      `exited (${how}) after ${MAX_RESTARTS_PER_MINUTE} restarts within a minute: giving up, stopping everything`,
    );
    void shutdown(1);
    return;
  }
  svc.restarts.push(now);
  print(svc.name, `exited unexpectedly (${how}); restarting in ${RESTART_DELAY_MS / 1000} s`);
  const timer = setTimeout(() => {
    restartTimers.delete(timer);
    if (!stopping) spawnService(svc);
  }, RESTART_DELAY_MS);
  restartTimers.add(timer);
}

function exited(child: ChildProcess | null): boolean {
  return !child || child.exitCode !== null || child.signalCode !== null;
}

/** Waits for `GET /health/ready` to answer 200; fails with the service's last output if it exits or times out. */
async function waitReady(svc: Service): Promise<void> {
  const until = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < until) {
    if (exited(svc.child))
      throw new Error(`${svc.name} exited before it was ready. Its last output:\n${svc.tail.join('\n')}`);
    const ok = await fetch(`${svc.url}/health/ready`, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) {
      svc.supervised = true;
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `${svc.name} was not ready within ${READY_TIMEOUT_MS / 1000} s. Its last output:\n${svc.tail.join('\n')}`,
  );
}

function newService(name: string, script: string, port: number, env: NodeJS.ProcessEnv): Service {
  return {
    name,
    script,
    port,
    url: `http://127.0.0.1:${port}`,
    env: { ...env, PORT: String(port) },
    child: null,
    tail: [],
    supervised: false,
    restarts: [],
  };
}

async function startServices(
  postgres: Postgres,
  { url: natsUrl, login }: { url: string; login: NatsLogin },
  smtpUrl: string,
): Promise<void> {
  const ports = SUBGRAPHS.map((s) => envPort(s.portVar, s.defaultPort));
  const siblingUrls = Object.fromEntries(SUBGRAPHS.map((s, i) => [s.urlVar, `http://127.0.0.1:${ports[i]}`]));
  // Access tokens name the gateway's public origin as their issuer (RFC 8414 metadata is served there).
  const issuer = process.env.OAUTH_ISSUER || `http://localhost:${envPort('GATEWAY_PORT', GATEWAY_DEFAULT_PORT)}`;
  const shared = { ...process.env, NATS_URL: natsUrl, SMTP_URL: smtpUrl, OAUTH_ISSUER: issuer, ...siblingUrls };

  running.subgraphs = SUBGRAPHS.map((s, i) =>
    newService(s.name, `subgraphs/${s.name}/src/index.ts`, ports[i], {
      ...shared,
      ...login(s.name),
      DATABASE_URL: postgres.databaseUrl(s.name),
    }),
  );
  running.subgraphs.forEach(spawnService);
  await Promise.all(running.subgraphs.map(waitReady));

  // The gateway has no database; it must not inherit one meant for something else.
  const gatewayEnv: NodeJS.ProcessEnv = { ...shared, ...login('gateway') };
  delete gatewayEnv.DATABASE_URL;
  running.gateway = newService(
    'gateway',
    'gateway/src/index.ts',
    envPort('GATEWAY_PORT', GATEWAY_DEFAULT_PORT),
    gatewayEnv,
  );
  spawnService(running.gateway);
  await waitReady(running.gateway);
}

// ── Shutdown ────────────────────────────────────────────────────────────────

async function stopService(svc: Service | undefined): Promise<void> {
  if (svc?.child && !exited(svc.child)) await stopChild(svc.child, 'SIGINT', STOP_TIMEOUT_MS);
}

async function stopInfra(name: string, pending: Promise<Infra> | undefined): Promise<void> {
  const infra = await pending?.catch(() => null);
  if (!infra || infra.external) return;
  say(`stopping ${name}…`);
  await infra.stop().catch((err: Error) => say(`stopping ${name} failed: ${err.message}`));
}

/**
 * Stops everything once, in dependency order (gateway, subgraphs, then
 * NATS and PostgreSQL), and exits with `code`.
 */
function shutdown(code: number): Promise<void> {
  stopping ??= (async () => {
    for (const timer of restartTimers) clearTimeout(timer);
    if (running.gateway) say('stopping the gateway…');
    await stopService(running.gateway);
    if (running.subgraphs.length) say('stopping the subgraphs…');
    await Promise.all(running.subgraphs.map(stopService));
    await Promise.all([
      stopInfra('NATS', running.nats),
      stopInfra('PostgreSQL', running.postgres),
      stopInfra('the SMTP sink', running.mail),
    ]);
    say('stopped');
    process.exit(code);
  })();
  return stopping;
}

function onSignal(signal: NodeJS.Signals): void {
  if (stopping) return;
  say(`${signal} received`);
  void shutdown(0);
}

// ── Main ────────────────────────────────────────────────────────────────────

async function seed(gatewayUrl: string): Promise<void> {
  // Production has no development client secret to seed with (and wants no demo catalog).
  if (process.env.NODE_ENV === 'production') return say('NODE_ENV=production: demo catalog not seeded');
  try {
    const { created, existing } = await seedCatalog(gatewayUrl, {
      clientSecret: process.env.OPS_CONSOLE_CLIENT_SECRET || undefined,
    });
    say(created ? `demo catalog seeded: ${created} products` : `catalog has ${existing} products: not seeding`);
  } catch (err) {
    // The system is up and usable; a catalog can still be made by hand.
    say(`demo catalog not seeded: ${(err as Error).message}`);
  }
}

/**
 * The clients the auth service registers (contract), for the banner: their
 * development secrets, or only the variable's name when a secret of yours is
 * set (a banner is no place for a real secret).
 */
function clientLines(): string[] {
  if (process.env.NODE_ENV === 'production')
    return ['  OAuth2 clients: only those whose secrets you set (NODE_ENV=production has no development clients).'];
  const clients = [
    ['storefront', 'STOREFRONT_CLIENT_SECRET', 'customer-facing app (customer tokens)'],
    ['ops-console', 'OPS_CONSOLE_CLIENT_SECRET', 'every scope'],
    ['delivery-partner', 'DELIVERY_PARTNER_CLIENT_SECRET', 'shipments:read shipments:write'],
  ];
  const secret = (id: string, variable: string) => (process.env[variable] ? `(from ${variable})` : `${id}-dev-secret`);
  return [
    '  OAuth2 clients (client id, secret, scopes):',
    ...clients.map(([id, variable, what]) => `    ${id.padEnd(18)}${secret(id, variable).padEnd(34)}${what}`),
  ];
}

/** The banner's line for the web app the gateway serves at `/`. */
function webLines(web: WebBuild, port: number): string[] {
  if (web.state === 'fresh' || web.state === 'built')
    return [`  Web app           http://localhost:${port}/   (storefront; operator console at #/operator)`];
  if (web.state === 'failed')
    return [
      `  Web app           not served: its build failed (${web.reason}); retry with npm run build:web, then restart`,
    ];
  return [];
}

function banner({
  dataDir,
  postgres,
  nats,
  mail,
  web,
}: {
  dataDir: string;
  postgres: Postgres;
  nats: Infra & { url: string };
  mail: Infra & { url: string; dir?: string };
  web: WebBuild;
}): string {
  const gw = running.gateway!;
  const graphqlUrl = `http://localhost:${gw.port}/graphql`;
  const query = JSON.stringify({
    query: '{ products(first: 3) { totalCount edges { node { name availableQuantity } } } }',
  });
  const rule = '─'.repeat(78);
  return [
    '',
    rule,
    '  orderflow is running',
    '',
    ...webLines(web, gw.port),
    `  GraphQL gateway   ${graphqlUrl}   (open it in a browser: Apollo Sandbox)`,
    `  Gateway metrics   http://${process.env.METRICS_HOST || '127.0.0.1'}:${process.env.METRICS_PORT || 9464}/metrics   (not on the public port)`,
    "  Subgraphs (internal: they accept only calls carrying the gateway's internal token)",
    ...running.subgraphs.map((s) => `    ${s.name.padEnd(NAME_WIDTH)}       ${s.url}`),
    `  PostgreSQL        ${postgres.url}  (databases ${SUBGRAPHS.map((s) => `orderflow_${s.name}`).join(', ')})${postgres.external ? ', yours, from DATABASE_URL' : ''}`,
    ...(postgres.socketDir
      ? [
          "    each owned by its service's role (orderflow_<service>); as the superuser:",
          `    psql -h ${postgres.socketDir} -p ${new URL(postgres.url).port} -U postgres orderflow_orders`,
        ]
      : []),
    `  NATS              ${nats.url}${nats.external ? '  (yours, from NATS_URL)' : ''}`,
    `  Customer emails   ${mail.external ? `${serverOf(mail.url)}  (yours, from SMTP_URL)` : `${mail.url}, kept as .eml files in ${mail.dir}`}`,
    '  Dead letters      npm run dlq -- list',
    `  Data folder       ${postgres.external && nats.external ? 'none: PostgreSQL and NATS are yours' : dataDir}`,
    '',
    '  Try it:',
    `    curl -s ${graphqlUrl} -H 'content-type: application/json' \\`,
    `      -d '${query}'`,
    '',
    ...clientLines(),
    '  A service client gets a token (then: -H "authorization: Bearer <access_token>"):',
    `    curl -s -u ops-console:ops-console-dev-secret -d grant_type=client_credentials http://localhost:${gw.port}/oauth/token`,
    '  Customers sign up / log in with the signUp and logIn mutations (README: "Logging in").',
    '',
    '  Press Ctrl-C to stop.',
    rule,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  // startPostgres and startNats create their folders under it when they need them.
  const dataDir = resolve(ROOT, process.env.DATA_DIR ?? '.data');
  if (MIGRATE_ONLY) {
    // The same PostgreSQL as a start (DATABASE_URL's server, or ours), its migrations applied, then stopped.
    const postgres = providePostgres(dataDir);
    running.postgres = postgres;
    await migrateServices((await postgres).databaseUrl, say);
    say('migrations applied');
    return void (await shutdown(0));
  }

  const starting = { postgres: providePostgres(dataDir), nats: provideNats(dataDir), mail: provideMail(dataDir) };
  running.postgres = starting.postgres;
  running.nats = starting.nats;
  running.mail = starting.mail;
  // Built while PostgreSQL and NATS start: the gateway looks for web/dist when it starts.
  const webBuild: Promise<WebBuild> = process.env.WEB_DIST_DIR
    ? Promise.resolve({ state: 'fresh', dist: process.env.WEB_DIST_DIR })
    : buildWebIfStale({ root: ROOT, print: (line) => print('web', line) });
  const [postgres, nats, mail] = await Promise.all([starting.postgres, starting.nats, starting.mail]);
  const web = await webBuild;
  if (web.state === 'failed') say(`the web app's build failed (${web.reason}): starting the API without it`);

  await startServices(postgres, nats, mail.url);
  await seed(running.gateway!.url);
  printer.banner(banner({ dataDir, postgres, nats, mail, web }));
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
// Services run in their own process groups, so nothing else would stop them
// if this script died without a shutdown (an uncaught error, process.exit).
process.on('exit', () => {
  for (const svc of [running.gateway, ...running.subgraphs])
    if (svc?.child && !exited(svc.child)) svc.child.kill('SIGKILL');
});

main().catch((err: Error) => {
  // A failure caused by our own shutdown (Ctrl-C during start) is not news.
  if (stopping) return;
  say(`failed to start: ${err.message}`);
  void shutdown(1);
});
