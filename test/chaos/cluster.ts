// The whole system as real processes that a test can break: its own durable
// PostgreSQL and nats-server (stopped and started again on the same port and
// data), the four subgraphs and the gateway as child processes started the
// way scripts/start.ts starts them, and an SMTP sink. Every process writes its
// output to <dir>/logs/<name>.log (appended across restarts) for the
// post-mortem of a failed run.
//
// With `replicas` ≥ 2 every subgraph runs that many times on the same database
// and NATS user (processes `orders`, `orders-2`, ...), and every caller reaches
// a subgraph through a round-robin balancer over its replicas
// (test/support/balancer.ts says why a balancer).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SUBGRAPHS as CONTRACT_SUBGRAPHS, type SubgraphName } from '@orderflow/contracts';
import { NATS_ADMIN_USER } from '@orderflow/contracts/nats-access';
import {
  createNatsPasswords,
  freePorts,
  startMailSink,
  startNats,
  startPostgres,
  stopChild,
  type RunningNats,
  type RunningPostgres,
} from '@orderflow/devstack';
import { startBalancer, type Balancer } from '../support/balancer.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The subgraphs, in the contracts' order (auth, products, orders, shipments). */
export const SUBGRAPHS = CONTRACT_SUBGRAPHS.map((s) => s.name);
export type Subgraph = SubgraphName;
export type ServiceName = Subgraph | 'gateway';
/** A process of the cluster: the gateway, a subgraph's first replica (`orders`) or a further one (`orders-2`). */
export type ProcessName = ServiceName | `${Subgraph}-${number}`;
const URL_VARS = {
  auth: 'AUTH_URL',
  products: 'PRODUCTS_URL',
  orders: 'ORDERS_URL',
  shipments: 'SHIPMENTS_URL',
} as const;

/** How long a (re)started service gets to answer 200 on /health/ready. */
const READY_TIMEOUT_MS = 90_000;
/** How long each process gets at the first start (cold: every module compiled by tsx, 9 processes with replicas). */
const FIRST_START_TIMEOUT_MS = 180_000;
/** How long a service gets to stop on SIGTERM before SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;
/** Delay before the supervisor restarts a service that died on its own. */
const CRASH_RESTART_DELAY_MS = 1_000;

export interface ClusterOptions {
  /** Working folder: pg/, nats/ and logs/ go under it. */
  dir: string;
  /** Extra environment for every service (e.g. SAGA_RETRY_SCALE). */
  env?: Record<string, string>;
  /** Progress lines (faults, restarts, crashes). Default: none. */
  log?: (line: string) => void;
  /** Processes of every subgraph, behind a round-robin balancer each when more than one. Default 1. */
  replicas?: number;
}

/** A service process that died without being told to (not by kill9 or stop). */
export interface UnexpectedExit {
  name: ProcessName;
  at: number;
  how: string;
}

interface Service {
  name: ProcessName;
  port: number;
  url: string;
  script: string;
  env: NodeJS.ProcessEnv;
  child: ChildProcess | null;
  /** Set while we kill or stop it on purpose, so its exit is not reported as a crash. */
  expectingExit: boolean;
  /** CPU seconds of its earlier (killed or stopped) processes. */
  cpuBefore: number;
}

/** CPU seconds (user + system) a live process has used so far, from /proc; 0 where there is no /proc. */
export function processCpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    // Fields after the command name, which is in parentheses and may contain spaces: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

function exited(child: ChildProcess | null): boolean {
  return !child || child.exitCode !== null || child.signalCode !== null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts PostgreSQL, nats-server, an SMTP sink, the four subgraphs and the
 * gateway on free ports; returns handles to break and repair each of them.
 * A service that dies on its own is recorded in `unexpectedExits` and
 * restarted after a second, as a process supervisor would.
 */
export async function startCluster({ dir, env: extra = {}, log = () => {}, replicas = 1 }: ClusterOptions) {
  const logDir = join(dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  // PostgreSQL, NATS, the four subgraph URLs (a balancer's with replicas), the gateway, then each replica's own.
  const [pgPort, natsPort, ...servicePorts] = await freePorts(7 + (replicas > 1 ? SUBGRAPHS.length * replicas : 0));
  const infraLog = (name: string) => {
    const fd = openSync(join(logDir, `${name}.log`), 'a');
    return { fd, line: (l: string) => appendLine(fd, l) };
  };
  const pgOut = infraLog('postgres');
  const natsOut = infraLog('nats');
  const startPg = () => startPostgres({ dataDir: join(dir, 'pg'), port: pgPort, log: pgOut.line });
  // Each service logs in as its own NATS user, as in production (no NATS_PREFIX here).
  const natsAuth = { passwords: createNatsPasswords(), prefixes: [''] };
  const startBus = () => startNats({ storeDir: join(dir, 'nats'), port: natsPort, log: natsOut.line, auth: natsAuth });
  const natsUser = (user: ServiceName) => ({ NATS_USER: user, NATS_PASSWORD: natsAuth.passwords[user] });
  const [firstPostgres, firstNats, mail] = await Promise.all([startPg(), startBus(), startMailSink()]);
  let postgres: RunningPostgres = firstPostgres;
  let nats: RunningNats | null = firstNats;

  const gatewayPort = servicePorts[4];
  const urls = Object.fromEntries(
    SUBGRAPHS.map((s, i) => [URL_VARS[s], `http://127.0.0.1:${servicePorts[i]}`]),
  ) as Record<(typeof URL_VARS)[keyof typeof URL_VARS], string>;
  const shared: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    NATS_URL: nats.url,
    SMTP_URL: mail.url,
    OAUTH_ISSUER: `http://127.0.0.1:${gatewayPort}`,
    // Every client of the test talks from 127.0.0.1.
    ANONYMOUS_RATE_LIMIT_PER_MINUTE: '100000',
    // The gateway's metrics listener on a free port: another process on the machine may hold the default 9464
    // (a restarted gateway then failed to start with EADDRINUSE).
    METRICS_PORT: '0',
    ...urls,
    ...extra,
  };
  const databaseUrl = (service: string) => postgres.databaseUrl(`orderflow_${service}`);
  const services = new Map<ProcessName, Service>();
  const replicaPorts = servicePorts.slice(5);
  for (const [i, name] of SUBGRAPHS.entries()) {
    for (let r = 0; r < replicas; r++) {
      const processName: ProcessName = r === 0 ? name : `${name}-${r + 1}`;
      // One replica listens on the subgraph's URL; with more, the balancer does and each has its own port.
      const port = replicas === 1 ? servicePorts[i] : replicaPorts.pop()!;
      services.set(
        processName,
        newService(processName, port, `subgraphs/${name}/src/index.ts`, {
          ...shared,
          ...natsUser(name),
          DATABASE_URL: databaseUrl(name),
        }),
      );
    }
  }
  const replicasOf = (name: Subgraph) =>
    [...services.values()].filter((s) => s.name === name || s.name.startsWith(`${name}-`));
  services.set(
    'gateway',
    newService('gateway', gatewayPort, 'gateway/src/index.ts', { ...shared, ...natsUser('gateway') }),
  );

  const unexpectedExits: UnexpectedExit[] = [];
  let stopping = false;

  function newService(name: ProcessName, port: number, script: string, env: NodeJS.ProcessEnv): Service {
    return {
      name,
      port,
      url: `http://127.0.0.1:${port}`,
      script,
      env: { ...env, PORT: String(port) },
      child: null,
      expectingExit: false,
      cpuBefore: 0,
    };
  }

  function spawnService(svc: Service): void {
    const out = openSync(join(logDir, `${svc.name}.log`), 'a');
    appendLine(out, `----- ${new Date().toISOString()} starting ${svc.name}`);
    // The child writes straight to the file: no pipe to drain, nothing lost if we are slow.
    const child = spawn(process.execPath, ['--import', 'tsx', svc.script], {
      cwd: ROOT,
      env: svc.env,
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    svc.child = child;
    svc.expectingExit = false;
    child.on('exit', (code, signal) => {
      if (stopping || svc.expectingExit || svc.child !== child) return;
      const how = signal ? `signal ${signal}` : `code ${code}`;
      unexpectedExits.push({ name: svc.name, at: Date.now(), how });
      // The end of its log says why (an uncaught exception's stack goes to stderr, the same file).
      const tail = readFileSync(join(logDir, `${svc.name}.log`), 'utf8')
        .trimEnd()
        .split('\n')
        .slice(-25)
        .join('\n');
      log(
        `${svc.name} exited on its own (${how}); restarting in ${CRASH_RESTART_DELAY_MS / 1000} s; its log ends:\n${tail}`,
      );
      setTimeout(() => {
        if (!stopping && svc.child === child) spawnService(svc);
      }, CRASH_RESTART_DELAY_MS);
    });
  }

  async function waitReady(svc: Service, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const ok = await fetch(`${svc.url}/health/ready`, { signal: AbortSignal.timeout(5_000) }).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return;
      await sleep(200);
    }
    throw new Error(
      `${svc.name} was not ready within ${timeoutMs / 1000} s; see ${join(logDir, `${svc.name}.log`)}:\n${tail(svc.name, 20)}`,
    );
  }

  function tail(name: string, lines = 30): string {
    try {
      return readFileSync(join(logDir, `${name}.log`), 'utf8')
        .trimEnd()
        .split('\n')
        .slice(-lines)
        .join('\n');
    } catch {
      return '';
    }
  }

  const service = (name: ProcessName) => {
    const svc = services.get(name);
    if (!svc) throw new Error(`no service ${name}`);
    return svc;
  };

  async function stopService(svc: Service, signal: NodeJS.Signals, timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
    svc.expectingExit = true;
    if (svc.child && !exited(svc.child)) {
      svc.cpuBefore += processCpuSeconds(svc.child.pid);
      await stopChild(svc.child, signal, timeoutMs);
    }
  }

  // Subgraphs first (the gateway serves a static supergraph, but verifies tokens with auth's keys): the first
  // replica of each (it migrates the database and creates the streams), then the others and their balancers.
  const subgraphs = [...services.values()].filter((s) => s.name !== 'gateway');
  const firsts = SUBGRAPHS.map(service);
  const balancers: Balancer[] = [];
  try {
    firsts.forEach(spawnService);
    await Promise.all(firsts.map((s) => waitReady(s, FIRST_START_TIMEOUT_MS)));
    const rest = subgraphs.filter((s) => !firsts.includes(s));
    rest.forEach(spawnService);
    await Promise.all(rest.map((s) => waitReady(s, FIRST_START_TIMEOUT_MS)));
    if (replicas > 1)
      for (const [i, name] of SUBGRAPHS.entries())
        balancers.push(await startBalancer({ port: servicePorts[i], targets: replicasOf(name).map((s) => s.url) }));
    spawnService(service('gateway'));
    await waitReady(service('gateway'), FIRST_START_TIMEOUT_MS);
  } catch (err) {
    stopping = true;
    await Promise.all([...services.values()].map((s) => stopService(s, 'SIGKILL', 1_000)));
    await Promise.all([...balancers.map((b) => b.stop()), postgres.stop(), nats.stop(), mail.stop()]);
    throw err;
  }

  // If the test process dies without stop(), nothing it started may outlive it (signals only: 'exit' cannot wait).
  const killAll = () => {
    for (const s of services.values()) if (!exited(s.child)) s.child!.kill('SIGKILL');
    postgres.child.kill('SIGINT'); // fast shutdown
    nats?.child.kill('SIGTERM');
  };
  process.once('exit', killAll);

  return {
    dir,
    logDir,
    gatewayUrl: service('gateway').url,
    urls,
    /** Every process, subgraph replicas first, the gateway last. */
    processes: [...services.keys()].sort((a, b) => Number(a === 'gateway') - Number(b === 'gateway')),
    /** With replicas: the requests each replica of a subgraph answered through its balancer. */
    served: () => Object.fromEntries(balancers.map((b, i) => [SUBGRAPHS[i], [...b.served]])),
    mail,
    get natsUrl() {
      return `nats://127.0.0.1:${natsPort}`;
    },
    /** `connect()` options of the operator's NATS user (every subject), for the test's own look. */
    get natsAdmin() {
      return {
        servers: [`nats://127.0.0.1:${natsPort}`],
        user: NATS_ADMIN_USER,
        pass: natsAuth.passwords[NATS_ADMIN_USER],
      };
    },
    /** A service's database on our PostgreSQL (orderflow_<service>). */
    databaseUrl,
    /** The server's maintenance database, for looking at the server itself (pg_stat_activity). */
    postgresUrl: `postgresql://postgres@127.0.0.1:${pgPort}/postgres`,
    unexpectedExits,
    /** The last lines a process wrote (services, `postgres`, `nats`). */
    tail,
    /**
     * What a service logged at warn level and above, by message (the first
     * line of its error, else the log message), most frequent first.
     */
    problems(name: ProcessName): [string, number][] {
      const counts = new Map<string, number>();
      let text: string;
      try {
        text = readFileSync(join(logDir, `${name}.log`), 'utf8');
      } catch {
        return [];
      }
      for (const line of text.split('\n')) {
        if (!line.startsWith('{')) continue;
        let entry: { level?: number; msg?: string; err?: string | { message?: string } };
        try {
          entry = JSON.parse(line);
        } catch {
          continue;
        }
        if ((entry.level ?? 0) < 40) continue;
        const err = typeof entry.err === 'string' ? entry.err : entry.err?.message;
        const key = `${entry.level! >= 50 ? 'error' : 'warn'}: ${entry.msg ?? ''}${err ? ` (${err.trim().split('\n').at(-1)!.slice(0, 120)})` : ''}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return [...counts].sort((a, b) => b[1] - a[1]);
    },

    /** `kill -9`: no shutdown hook runs, in-flight work and connections are cut. */
    async kill9(name: ProcessName): Promise<void> {
      const svc = service(name);
      log(`kill -9 ${name} (pid ${svc.child?.pid})`);
      await stopService(svc, 'SIGKILL');
    },
    /** Starts a stopped or killed service again and waits until it is ready; resolves with the milliseconds that took. */
    async restart(name: ProcessName): Promise<number> {
      const svc = service(name);
      if (!exited(svc.child)) await stopService(svc, 'SIGTERM');
      const t0 = Date.now();
      spawnService(svc);
      await waitReady(svc);
      log(`${name} ready again after ${Date.now() - t0} ms`);
      return Date.now() - t0;
    },
    /** CPU seconds each service has used, over all its processes (a process that crashed on its own is not counted). */
    cpuSeconds(): Record<ProcessName, number> {
      return Object.fromEntries(
        [...services.values()].map((s) => [
          s.name,
          s.cpuBefore + (exited(s.child) ? 0 : processCpuSeconds(s.child!.pid)),
        ]),
      ) as Record<ProcessName, number>;
    },
    /** Whether a service answers 200 on /health/ready now. */
    // 5 s: the gateway's own check asks every subgraph with a 2 s deadline.
    isReady: (name: ProcessName) =>
      fetch(`${service(name).url}/health/ready`, { signal: AbortSignal.timeout(5_000) }).then(
        (r) => r.status === 200,
        () => false,
      ),

    /** Stops nats-server (SIGTERM, as an operator or orchestrator would). */
    async stopNats(): Promise<void> {
      log('stopping nats-server');
      await nats?.stop();
      nats = null;
    },
    /** Starts nats-server again on the same port and store folder. */
    async startNats(): Promise<void> {
      nats = await startBus();
      log('nats-server started again');
    },
    /**
     * PostgreSQL fast shutdown (SIGINT: clients are disconnected, transactions in flight roll back), then start on
     * the same data, after `downMs` (default 0: at once). Resolves with the milliseconds it was away.
     */
    async restartPostgres({ downMs = 0 }: { downMs?: number } = {}): Promise<number> {
      log(`restarting PostgreSQL (fast shutdown${downMs ? `, ${downMs / 1000} s down` : ''})`);
      const t0 = Date.now();
      await postgres.stop();
      await sleep(downMs);
      postgres = await startPg();
      log(`PostgreSQL up again after ${Date.now() - t0} ms`);
      return Date.now() - t0;
    },

    /** Stops the services (gateway first), then the infrastructure. */
    async stop(): Promise<void> {
      stopping = true;
      process.removeListener('exit', killAll);
      await stopService(service('gateway'), 'SIGTERM');
      await Promise.all(subgraphs.map((s) => stopService(s, 'SIGTERM')));
      await Promise.all([...balancers.map((b) => b.stop()), postgres.stop(), nats?.stop(), mail.stop()]);
      closeSync(pgOut.fd);
      closeSync(natsOut.fd);
    },
  };
}
export type Cluster = Awaited<ReturnType<typeof startCluster>>;

function appendLine(fd: number, line: string): void {
  try {
    // Synchronous: lines from the infrastructure's pipes, few and short.
    writeSync(fd, `${line}\n`);
  } catch {
    /* a closed log is not worth failing a test for */
  }
}
