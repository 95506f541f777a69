import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { natsAuthorization } from '@orderflow/contracts/nats-access';
import { ensureNatsServer, type NatsAuth } from './nats.ts';
import { freePorts, portAnswers, spawnKept, stopChild, waitFor } from './process.ts';

/** One nats-server of a local cluster. */
export interface NatsClusterNode {
  /** `server_name`, also the name of its store directory: n1, n2, … */
  name: string;
  /** Client port on 127.0.0.1. */
  port: number;
  url: string;
  /** Route port (the cluster's own traffic). */
  clusterPort: number;
  /** HTTP monitoring port (/healthz, /jsz, /routez). */
  monitorPort: number;
  configFile: string;
  /** Whether the process is up (not killed or stopped). */
  running(): boolean;
  /** `kill -9`: no shutdown, no flush; what a crashed machine looks like to its peers. */
  kill(): Promise<void>;
  /** Starts it again with the same configuration and store (after kill or stop). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface NatsClusterOptions {
  /** Where the config files and each node's JetStream store go. */
  dir: string;
  /** Client ports, one per node (the cluster has as many nodes). Default: three free ports. */
  ports?: number[];
  /** `cluster.name`. Default "orderflow". */
  name?: string;
  /** Users and their permissions (every node has the same); none: anyone may do anything. */
  auth?: NatsAuth;
  log?: (line: string) => void;
}

function config({
  name,
  port,
  clusterPort,
  monitorPort,
  storeDir,
  clusterName,
  routes,
  syncAlways,
  authorization,
}: {
  name: string;
  port: number;
  clusterPort: number;
  monitorPort: number;
  storeDir: string;
  clusterName: string;
  routes: number[];
  syncAlways: boolean;
  /** An `authorization { … }` block, or '' for none. */
  authorization: string;
}) {
  return [
    `server_name: ${name}`,
    `listen: 127.0.0.1:${port}`,
    `http: 127.0.0.1:${monitorPort}`,
    'jetstream {',
    `  store_dir: ${JSON.stringify(storeDir)}`,
    // fsync every write before the PubAck (Jepsen, NATS 2.12.1: acknowledged writes lost to OS crashes
    // with the default interval); servers before sync_interval existed (Debian's 2.9) refuse the field.
    ...(syncAlways ? ['  sync_interval: always'] : []),
    '}',
    'cluster {',
    `  name: ${clusterName}`,
    `  listen: 127.0.0.1:${clusterPort}`,
    `  routes: [${routes.map((p) => `nats-route://127.0.0.1:${p}`).join(', ')}]`,
    '}',
    authorization,
    '',
  ].join('\n');
}

/** Whether this nats-server accepts `jetstream { sync_interval }` (asks it with `-t`, its config test). */
function acceptsSyncInterval(bin: string, dir: string): boolean {
  const probe = join(dir, 'sync-interval-probe.conf');
  writeFileSync(probe, `jetstream {\n  store_dir: ${JSON.stringify(join(dir, 'probe'))}\n  sync_interval: always\n}\n`);
  try {
    execFileSync(bin, ['-t', '-c', probe], { stdio: 'pipe', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * A nats-server cluster with JetStream on loopback (three nodes by default),
 * for tests and local experiments with replicated (R3) streams: each node
 * has its own store directory and a config file in `dir`, routes to every
 * node, and a monitoring port. Resolves once every node answers /healthz,
 * i.e. JetStream has a meta leader that each node follows.
 *
 * Services connect with `NATS_URL` set to `url` (the client URLs joined by
 * commas) and `NATS_REPLICAS=3`.
 */
export async function startNatsCluster({ dir, ports, name: clusterName = 'orderflow', log, auth }: NatsClusterOptions) {
  const bin = ensureNatsServer(log);
  mkdirSync(dir, { recursive: true });
  const count = ports?.length ?? 3;
  if (count < 1) throw new Error('startNatsCluster: at least one port');
  // All at once, so that no two of them are the same port.
  const free = await freePorts(3 * count);
  const clientPorts = ports ?? free.slice(0, count);
  const clusterPorts = free.slice(count, 2 * count);
  const monitorPorts = free.slice(2 * count);
  const syncAlways = acceptsSyncInterval(bin, dir);
  const authorization = auth ? natsAuthorization(auth.passwords, auth.prefixes) : '';

  const nodes: NatsClusterNode[] = clientPorts.map((port, i) => {
    const name = `n${i + 1}`;
    const storeDir = join(dir, name);
    mkdirSync(storeDir, { recursive: true });
    const configFile = join(dir, `${name}.conf`);
    writeFileSync(
      configFile,
      config({
        name,
        port,
        clusterPort: clusterPorts[i],
        monitorPort: monitorPorts[i],
        storeDir,
        clusterName,
        routes: clusterPorts,
        syncAlways,
        authorization,
      }),
      { mode: 0o600 },
    );
    let child: ChildProcess | null = null;
    const node: NatsClusterNode = {
      name,
      port,
      url: `nats://127.0.0.1:${port}`,
      clusterPort: clusterPorts[i],
      monitorPort: monitorPorts[i],
      configFile,
      running: () => child !== null && child.exitCode === null && child.signalCode === null,
      async start() {
        if (node.running()) return;
        const spawned = spawnKept(bin, ['-c', configFile], { echo: log && ((line) => log(`[${name}] ${line}`)) });
        child = spawned.child;
        try {
          await waitFor(`nats-server ${name}`, () => portAnswers(port), { child });
        } catch (err) {
          await stopChild(spawned.child);
          throw new Error(`${(err as Error).message}\n${spawned.tail.join('\n')}`, { cause: err });
        }
      },
      async kill() {
        if (!child || !node.running()) return;
        const c = child;
        await new Promise<void>((resolve) => {
          c.once('exit', () => resolve());
          c.kill('SIGKILL');
        });
      },
      async stop() {
        if (child) await stopChild(child, 'SIGTERM');
      },
    };
    return node;
  });

  /** Resolves when every running node reports JetStream healthy (GET /healthz). */
  async function waitHealthy(timeoutMs = 30_000) {
    await waitFor(
      'NATS cluster',
      async () => {
        const up = nodes.filter((n) => n.running());
        const ok = await Promise.all(
          up.map((n) =>
            fetch(`http://127.0.0.1:${n.monitorPort}/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
              (r) => r.ok,
              () => false,
            ),
          ),
        );
        return up.length > 0 && ok.every(Boolean);
      },
      { timeoutMs },
    );
  }

  try {
    await Promise.all(nodes.map((n) => n.start()));
    await waitHealthy();
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw err;
  }

  return {
    nodes,
    /** Every node's client URL, joined by commas: the value of NATS_URL. */
    url: nodes.map((n) => n.url).join(','),
    /** Whether the nodes fsync every write (`sync_interval: always`); false on servers that lack the setting. */
    syncAlways,
    waitHealthy,
    /** Routes each running node has to the others (GET /routez). */
    async routes(): Promise<Record<string, number>> {
      const out: Record<string, number> = {};
      for (const n of nodes.filter((x) => x.running())) {
        const body = (await fetch(`http://127.0.0.1:${n.monitorPort}/routez`).then((r) => r.json())) as {
          num_routes?: number;
        };
        out[n.name] = body.num_routes ?? 0;
      }
      return out;
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}
export type RunningNatsCluster = Awaited<ReturnType<typeof startNatsCluster>>;
