// One more replica of a subgraph as its own process, started the way `npm start`
// starts a service (node --import tsx subgraphs/<name>/src/index.ts), for
// startSystem({ replicas }).
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopChild } from '@orderflow/devstack';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** How long a replica gets to answer 200 on /health/ready (a cold tsx start on a busy 2-core machine). */
const READY_TIMEOUT_MS = 180_000;

export interface ReplicaProcess {
  name: string;
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

export async function startReplicaProcess({
  name,
  port,
  env,
}: {
  name: 'auth' | 'products' | 'orders' | 'shipments';
  port: number;
  /** Its whole environment but PATH, HOME and PORT (the settings the in-process replica was given). */
  env: Record<string, string>;
}): Promise<ReplicaProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', `subgraphs/${name}/src/index.ts`], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The last lines it wrote, for the error when it does not come up or dies (its log level is the system's).
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').trimEnd().split('\n'));
    lines.splice(0, Math.max(0, lines.length - 30));
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) await stopChild(child, 'SIGTERM', 10_000);
  };

  for (const until = Date.now() + READY_TIMEOUT_MS; ; await new Promise((r) => setTimeout(r, 200))) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${name} replica exited (${child.exitCode ?? child.signalCode}):\n${lines.join('\n')}`);
    const ready = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(5_000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > until) {
      await stop();
      throw new Error(`${name} replica not ready within ${READY_TIMEOUT_MS / 1000} s:\n${lines.join('\n')}`);
    }
  }
  return { name, url, pid: child.pid, stop };
}
