import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { NATS_ADMIN_USER, NATS_USERS, natsAuthorization, type NatsPasswords } from '@orderflow/contracts/nats-access';
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

/**
 * NATS users for one server: a fresh random password for each service and the operator, and the
 * NATS_PREFIXes their permissions cover ('' for `npm start`; tests list the prefixes their systems use).
 */
export interface NatsAuth {
  passwords: NatsPasswords;
  prefixes: readonly string[];
}

/** Random passwords for every service's NATS user and the operator's (never logged, never stored but in the server's config). */
export function createNatsPasswords(): NatsPasswords {
  const users = [...NATS_USERS, NATS_ADMIN_USER] as const;
  return Object.fromEntries(users.map((u) => [u, randomBytes(24).toString('base64url')])) as unknown as NatsPasswords;
}

/** Writes the server's `authorization` block (readable by its owner only) and returns its path. */
export function writeNatsAuthConfig(file: string, auth: NatsAuth): string {
  writeFileSync(file, natsAuthorization(auth.passwords, auth.prefixes), { mode: 0o600 });
  return file;
}

/**
 * Starts nats-server with JetStream on 127.0.0.1. With `auth`, clients must log in as one of the
 * services (each allowed only its own subjects) or the operator; without, anyone may do anything.
 */
export async function startNats({
  storeDir,
  port,
  log,
  auth,
}: {
  storeDir: string;
  port: number;
  log?: (line: string) => void;
  auth?: NatsAuth;
}) {
  const bin = ensureNatsServer(log);
  mkdirSync(storeDir, { recursive: true });
  // Command-line flags win over the file, which holds only the users.
  const configArgs = auth ? ['-c', writeNatsAuthConfig(join(storeDir, 'users.conf'), auth)] : [];
  const { child, tail } = spawnKept(
    bin,
    [...configArgs, '-js', '-sd', storeDir, '-a', '127.0.0.1', '-p', String(port)],
    { echo: log },
  );
  try {
    await waitFor('nats-server', () => portAnswers(port), { child });
  } catch (err) {
    await stopChild(child);
    throw new Error(`${(err as Error).message}\n${tail.join('\n')}`, { cause: err });
  }
  return { url: `nats://127.0.0.1:${port}`, port, child, stop: () => stopChild(child, 'SIGTERM') };
}
export type RunningNats = Awaited<ReturnType<typeof startNats>>;
