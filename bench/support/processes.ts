/**
 * The four subgraphs and the gateway as separate Node processes, the way
 * `npm start` (scripts/start.ts) runs them: `node --import tsx
 * subgraphs/<name>/src/index.ts` with PORT, DATABASE_URL, NATS_URL, the
 * sibling *_URL, SMTP_URL and OAUTH_ISSUER in the environment. Each gets
 * the bench probe preloaded (bench/support/probe.ts: memory after GC,
 * event-loop utilization, CPU profiles on demand over IPC).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SERVICES, benchPort, stackEnvironment, type Stack, type StackOptions } from './stack.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PROBE = resolve(dirname(fileURLToPath(import.meta.url)), 'probe.ts');
const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 20_000;

interface Child {
  name: string;
  child: ChildProcess;
  url: string;
  tail: string[];
}

let probeIds = 0;

export interface ProcessStackOptions extends StackOptions {
  /** Extra node flags for every service process (e.g. --max-old-space-size=512). */
  nodeArgs?: string[];
  /** Output lines of the services (warnings and errors at the default log level). */
  onLine?: (name: string, line: string) => void;
}

/** Starts the services as child processes; resolves once the gateway is ready. */
export async function startProcessStack(o: ProcessStackOptions): Promise<Stack> {
  const ports = {
    auth: await benchPort(),
    products: await benchPort(),
    orders: await benchPort(),
    shipments: await benchPort(),
    gateway: await benchPort(),
  };
  const { urls, common, databases } = stackEnvironment(o, ports);
  // The services must not inherit settings meant for something else (a DATABASE_URL, a PORT…).
  const base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    LANG: process.env.LANG,
  };
  const children: Child[] = [];
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  const spawnService = (name: string, script: string, env: Record<string, string>) => {
    const child = spawn(
      process.execPath,
      [...(o.nodeArgs ?? []), '--expose-gc', '--import', 'tsx', '--import', PROBE, script],
      {
        cwd: ROOT,
        env: { ...base, ...env },
        // Own process group: a Ctrl-C at the terminal reaches only the bench, which stops the services in order.
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    const c: Child = { name, child, url: `http://127.0.0.1:${env.PORT}`, tail: [] };
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        c.tail.push(line);
        if (c.tail.length > 40) c.tail.shift();
        o.onLine?.(name, line);
      });
    }
    child.on('message', (m: { probe?: number; id?: number; result?: unknown; error?: string }) => {
      if (m?.probe !== 1 || m.id === undefined) return;
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.error) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
    children.push(c);
    return c;
  };

  const waitReady = async (c: Child) => {
    const until = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < until) {
      if (c.child.exitCode !== null || c.child.signalCode !== null)
        throw new Error(`${c.name} exited before it was ready:\n${c.tail.join('\n')}`);
      const ok = await fetch(`${c.url}/health/ready`, { signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${c.name} was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${c.tail.join('\n')}`);
  };

  // Last resort if the bench dies without stopping them (they run in their own process groups).
  const killAll = () => {
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  };
  process.on('exit', killAll);

  const stopOne = (c: Child) =>
    new Promise<void>((done) => {
      if (c.child.exitCode !== null || c.child.signalCode !== null) return done();
      const t = setTimeout(() => c.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      c.child.once('exit', () => {
        clearTimeout(t);
        done();
      });
      c.child.kill('SIGINT');
    });

  try {
    const subgraphs = SERVICES.map((s) =>
      spawnService(s, `subgraphs/${s}/src/index.ts`, { ...common, PORT: String(ports[s]), DATABASE_URL: databases[s] }),
    );
    await Promise.all(subgraphs.map(waitReady));
    const gateway = spawnService('gateway', 'gateway/src/index.ts', { ...common, PORT: String(ports.gateway) });
    await waitReady(gateway);
  } catch (err) {
    await Promise.all(children.map(stopOne));
    throw err;
  }

  const byName = new Map(children.map((c) => [c.name, c]));
  return {
    mode: 'processes',
    gatewayUrl: `http://127.0.0.1:${ports.gateway}`,
    urls,
    databases,
    natsPrefix: common.NATS_PREFIX,
    env: common,
    processes: children.map((c) => ({ name: c.name, pid: c.child.pid ?? null })),
    probe(name, cmd, args = {}) {
      const c = byName.get(name);
      if (!c || !c.child.connected) return Promise.resolve(null);
      const id = ++probeIds;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`probe ${cmd} of ${name} timed out`));
        }, 60_000);
        pending.set(id, {
          resolve: (v) => (clearTimeout(timer), resolve(v)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        c.child.send({ probe: 1, id, cmd, ...args });
      });
    },
    async stop(onStopped = () => {}) {
      const gw = byName.get('gateway')!;
      let t = performance.now();
      await stopOne(gw);
      onStopped('gateway', performance.now() - t);
      t = performance.now();
      await Promise.all(
        children.filter((c) => c !== gw).map((c) => stopOne(c).then(() => onStopped(c.name, performance.now() - t))),
      );
      process.off('exit', killAll);
    },
  };
}
