/**
 * Boots the system a benchmark measures (or attaches to a running one) and
 * tears it down once, on success, failure or Ctrl-C.
 */
import { startProcessStack } from './processes.ts';
import { ResourceSampler, type Tracked } from './proc.ts';
import { closeSampleClients } from './saga.ts';
import { externalStack, startInfra, startStack, type Infra, type Stack } from './stack.ts';

export interface BootOptions {
  inProcess: boolean;
  gateway: string | null;
  ephemeral: boolean;
  env: Record<string, string>;
  hashCost: number;
  logLevel: string;
  /** Extra node flags of the service processes. */
  nodeArgs?: string[];
}

/** How long the services get to finish their work when stopping. */
const STOP_GRACE_MS = 25_000;

export const log = (line: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

export async function boot(o: BootOptions) {
  let infra: Infra | null = null;
  let stack: Stack | null = null;
  let stopping: Promise<void> | null = null;

  const cleanup = () =>
    (stopping ??= (async () => {
      await closeSampleClients();
      if (stack) {
        log('stopping gateway and services…');
        const s = stack;
        stack = null;
        // After an overload the services still work through requests the client abandoned: wait a bounded time.
        const stopped = s
          .stop((name, ms) => log(`  ${name} stopped after ${Math.round(ms)} ms`))
          .then(
            () => true,
            (err: Error) => (log(`stopping services failed: ${err.message}`), true),
          );
        let grace: NodeJS.Timeout | undefined;
        const inTime = await Promise.race([
          stopped,
          new Promise<false>((r) => (grace = setTimeout(() => r(false), STOP_GRACE_MS))),
        ]);
        clearTimeout(grace);
        if (!inTime)
          log(`services still busy after ${STOP_GRACE_MS / 1000} s: stopping PostgreSQL and NATS under them`);
      }
      if (infra) {
        log('stopping PostgreSQL, nats-server and the SMTP sink…');
        const i = infra;
        infra = null;
        await i.stop().catch((err: Error) => log(`stopping infrastructure failed: ${err.message}`));
      }
    })());

  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log('interrupted: cleaning up (Ctrl-C again to force)');
    void cleanup().finally(() => process.exit(130));
  });

  if (o.gateway) {
    stack = externalStack(o.gateway.replace(/\/+$/, '').replace(/\/graphql$/, ''));
    log(`target: running gateway ${stack.gatewayUrl}`);
  } else {
    const t = performance.now();
    infra = await startInfra({ ephemeral: o.ephemeral });
    log(
      `PostgreSQL :${infra.pgPort} (${o.ephemeral ? 'ephemeral: fsync off' : 'durable'}, pg_stat_statements, commit timestamps), nats-server ${infra.natsUrl}, SMTP sink ${infra.smtpUrl}`,
    );
    const env = { ...o.env, ...(o.hashCost ? { PASSWORD_HASH_COST: String(o.hashCost) } : {}) };
    const options = { pgPort: infra.pgPort, natsUrl: infra.natsUrl, smtpUrl: infra.smtpUrl, logLevel: o.logLevel, env };
    stack = o.inProcess
      ? await startStack(options)
      : await startProcessStack({
          ...options,
          nodeArgs: o.nodeArgs,
          onLine: (name, line) => process.stderr.write(`  ${name.padEnd(9)} | ${line}\n`),
        });
    log(`${stack.mode} stack up at ${stack.gatewayUrl} in ${Math.round(performance.now() - t)} ms`);
  }

  const tracked: Tracked[] = [
    { name: 'bench', pid: process.pid },
    ...stack.processes.map((p) => ({ name: p.name, pid: p.pid })),
    ...(infra
      ? [
          { name: 'postgres', pid: infra.pids.postgres, tree: true },
          { name: 'nats', pid: infra.pids.nats },
        ]
      : []),
  ];
  const sampler = new ResourceSampler(tracked);
  /** How the report names the database: our own (durable or not) or someone's. */
  const postgres = infra ? (infra.ephemeral ? 'ephemeral (fsync off)' : 'durable') : 'external';
  return { infra, stack: stack as Stack, sampler, cleanup, postgres };
}
export type Booted = Awaited<ReturnType<typeof boot>>;
