import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { spawnKept, stopChild, waitFor } from './process.ts';

/**
 * Finds PostgreSQL server binaries: $PG_BIN, then the newest
 * /usr/lib/postgresql/<v>/bin (Debian/Ubuntu), then `pg_config --bindir`.
 */
export function findPostgresBin(env = process.env): string | null {
  const candidates: string[] = [];
  if (env.PG_BIN) candidates.push(env.PG_BIN);
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    for (const v of readdirSync(debian).sort((a, b) => Number(b) - Number(a))) candidates.push(join(debian, v, 'bin'));
  }
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim());
  } catch {
    /* not installed */
  }
  return candidates.find((dir) => existsSync(join(dir, 'postgres')) && existsSync(join(dir, 'initdb'))) ?? null;
}

function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  // PostgreSQL refuses to run as root: use the system's postgres account.
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    return { uid, gid };
  } catch {
    throw new Error(
      'Running as root, PostgreSQL needs an unprivileged "postgres" user (useradd -r postgres), or run as a normal user',
    );
  }
}

function chownTree(path: string, owner: { uid: number; gid: number }) {
  execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, path]);
}

export interface PostgresOptions {
  dataDir: string;
  port: number;
  /** Throw away durability for speed (tests): fsync and synchronous_commit off. */
  ephemeral?: boolean;
  /** More server settings (`name=value`, passed as `-c`), e.g. the benchmarks' pg_stat_statements. */
  settings?: string[];
  log?: (line: string) => void;
}

/**
 * Runs a PostgreSQL server of our own on loopback with its data under
 * `dataDir` (initialised on first use, reused after). Trust auth on
 * 127.0.0.1 only, for the local development user `postgres`.
 */
export async function startPostgres({ dataDir, port, ephemeral = false, settings: extra = [], log }: PostgresOptions) {
  const bin = findPostgresBin();
  if (!bin)
    throw new Error(
      'PostgreSQL server binaries not found. Install them (Debian/Ubuntu: apt-get install -y postgresql) or set DATABASE_URL to a server of yours.',
    );
  const owner = postgresUser();
  mkdirSync(dataDir, { recursive: true });
  chmodSync(dataDir, 0o700);
  const socketDir = join(dataDir, 'run');
  if (owner) chownTree(dataDir, owner);
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    execFileSync(
      join(bin, 'initdb'),
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-instructions'],
      {
        stdio: 'pipe',
        ...(owner ?? {}),
      },
    );
  }
  mkdirSync(socketDir, { recursive: true });
  if (owner) chownSync(socketDir, owner.uid, owner.gid);
  const settings = [
    'listen_addresses=127.0.0.1',
    `port=${port}`,
    `unix_socket_directories=${socketDir}`,
    'max_connections=400',
    'shared_buffers=256MB',
    ...(ephemeral ? ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'] : []),
    ...extra,
  ];
  const { child, tail } = spawnKept(join(bin, 'postgres'), ['-D', dataDir, ...settings.flatMap((s) => ['-c', s])], {
    ...(owner ?? {}),
    echo: log,
  });
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  try {
    await waitFor(
      'PostgreSQL',
      async () => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        await c.end();
        return true;
      },
      { child },
    );
  } catch (err) {
    await stopChild(child);
    throw new Error(`${(err as Error).message}\n${tail.join('\n')}`, { cause: err });
  }
  return {
    /** URL of the server's maintenance database; swap the path for a service's own. */
    url,
    port,
    child,
    databaseUrl: (name: string) => `postgresql://postgres@127.0.0.1:${port}/${name}`,
    stop: () => stopChild(child, 'SIGINT', 15_000),
  };
}
export type RunningPostgres = Awaited<ReturnType<typeof startPostgres>>;
