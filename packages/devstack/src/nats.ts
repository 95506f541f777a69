import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { portAnswers, spawnKept, stopChild, waitFor } from './process.ts';

export function findNatsServer(env = process.env): string | null {
  if (env.NATS_SERVER_BIN && existsSync(env.NATS_SERVER_BIN)) return env.NATS_SERVER_BIN;
  // Debian installs it in /usr/sbin, which is not on a normal user's PATH.
  for (const dir of [...(env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin']) {
    const p = join(dir, 'nats-server');
    if (dir && existsSync(p)) return p;
  }
  return null;
}

/**
 * On Debian/Ubuntu as root, installs Debian's nats-server package when it is
 * missing; anywhere else explains how to get it.
 */
export function ensureNatsServer(log: (line: string) => void = console.log): string {
  const found = findNatsServer();
  if (found) return found;
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    log('nats-server not found: installing Debian package nats-server (apt-get)…');
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', 'nats-server'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    const installed = findNatsServer();
    if (installed) return installed;
  }
  throw new Error(
    'nats-server not found on PATH. Install it (Debian/Ubuntu: sudo apt-get install nats-server; macOS: brew install nats-server; ' +
      'or a release binary from the NATS project), or set NATS_URL to a server with JetStream enabled.',
  );
}

export async function startNats({
  storeDir,
  port,
  log,
}: {
  storeDir: string;
  port: number;
  log?: (line: string) => void;
}) {
  const bin = ensureNatsServer(log);
  mkdirSync(storeDir, { recursive: true });
  const { child, tail } = spawnKept(bin, ['-js', '-sd', storeDir, '-a', '127.0.0.1', '-p', String(port)], {
    echo: log,
  });
  try {
    await waitFor('nats-server', () => portAnswers(port), { child });
  } catch (err) {
    await stopChild(child);
    throw new Error(`${(err as Error).message}\n${tail.join('\n')}`, { cause: err });
  }
  return { url: `nats://127.0.0.1:${port}`, port, child, stop: () => stopChild(child, 'SIGTERM') };
}
export type RunningNats = Awaited<ReturnType<typeof startNats>>;
