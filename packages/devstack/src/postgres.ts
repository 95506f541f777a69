import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import {
  findPostgresBinaries,
  reachableBinaries,
  reachableBy,
  serverAccount,
  SHARED_STATE_DIR,
  type PostgresBinaries,
  type ServerAccount,
} from './postgres-binaries.ts';
import { spawnKept, stopChild, waitFor } from './process.ts';

export * from './postgres-binaries.ts';

/** Finds PostgreSQL server binaries (see findPostgresBinaries); null when there are none. */
export function findPostgresBin(env = process.env): string | null {
  try {
    return findPostgresBinaries({ env }).bin;
  } catch {
    return null;
  }
}

function chownTree(path: string, owner: ServerAccount) {
  execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, path]);
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * The real folder the cluster lives in. As ourselves (not root) that is
 * `dataDir`. As root, the server runs as another account, which must be
 * able to enter every folder on the way: when `dataDir` is inside a private
 * folder (a clone in root's home, mode 0700), the cluster goes to a new
 * folder under /var/lib/orderflow (owned by that account, mode 0700) and
 * `dataDir` becomes a link to it, so the next start finds it again and
 * deleting the link starts afresh.
 */
function placeDataDir(dataDir: string, account: ServerAccount | undefined, log?: (line: string) => void): string {
  if (isLink(dataDir) && !existsSync(dataDir)) rmSync(dataDir); // its cluster was deleted
  if (existsSync(dataDir)) {
    const real = realpathSync(dataDir);
    if (reachableBy(dirname(real), account)) return real;
    throw new Error(
      `The PostgreSQL data in ${dataDir} is in a folder the ${account!.name} account cannot enter. ` +
        `Move it into ${SHARED_STATE_DIR} and link it back (ln -s <new place> ${dataDir}), or delete it to start afresh.`,
    );
  }
  mkdirSync(dirname(dataDir), { recursive: true });
  if (reachableBy(dirname(dataDir), account)) return dataDir;
  mkdirSync(SHARED_STATE_DIR, { recursive: true, mode: 0o755 });
  const real = mkdtempSync(join(SHARED_STATE_DIR, 'postgres-'));
  symlinkSync(real, dataDir);
  log?.(
    `${dirname(dataDir)} is private to root: the ${account!.name} account keeps the data in ${real} (linked from ${dataDir})`,
  );
  return real;
}

export interface PostgresOptions {
  dataDir: string;
  port: number;
  /** Throw away durability for speed (tests): fsync and synchronous_commit off. */
  ephemeral?: boolean;
  /**
   * Who may connect. `trust` (default: tests, benchmarks): anyone on
   * 127.0.0.1 as any role, no password. `private` (npm start): the superuser
   * only through the Unix socket in the data folder (private to the server's
   * account and root), every role over TCP only with its password (SCRAM).
   */
  access?: 'trust' | 'private';
  /** More server settings (`name=value`, passed as `-c`), e.g. the benchmarks' pg_stat_statements. */
  settings?: string[];
  log?: (line: string) => void;
}

const HBA = {
  trust: ['local all all trust', 'host all all 127.0.0.1/32 trust', 'host all all ::1/128 trust'],
  private: ['local all all trust', 'host all all 127.0.0.1/32 scram-sha-256', 'host all all ::1/128 scram-sha-256'],
};

/**
 * Runs a PostgreSQL server of our own on loopback with its data under
 * `dataDir` (initialised on first use, reused after), with the binaries
 * findPostgresBinaries chooses. As root, it runs as an unprivileged account
 * (serverAccount) in a folder that account can reach (placeDataDir).
 */
export async function startPostgres({
  dataDir,
  port,
  ephemeral = false,
  access = 'trust',
  settings: extra = [],
  log,
}: PostgresOptions) {
  const account = serverAccount(log);
  const clusterDir = placeDataDir(dataDir, account, log);
  const binaries: PostgresBinaries = reachableBinaries(findPostgresBinaries({ dataDir: clusterDir }), account);
  const bin = binaries.bin;
  mkdirSync(clusterDir, { recursive: true });
  chmodSync(clusterDir, 0o700);
  // A socket's path must fit in 104-108 bytes (sun_path): a deep clone gets a private folder in the temp folder instead.
  const inCluster = join(clusterDir, 'run');
  const socketDir =
    Buffer.byteLength(join(inCluster, `.s.PGSQL.${port}`)) <= 100
      ? inCluster
      : mkdtempSync(join(tmpdir(), 'orderflow-pg-'));
  if (account) chownTree(clusterDir, account);
  const asAccount = account ? { uid: account.uid, gid: account.gid } : {};
  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    log?.(`initialising a PostgreSQL ${binaries.major} cluster (${binaries.source} binaries, ${bin}) in ${clusterDir}`);
    execFileSync(
      join(bin, 'initdb'),
      [
        '-D',
        clusterDir,
        '-U',
        'postgres',
        '--auth=trust',
        '--encoding=UTF8',
        // macOS has no C.UTF-8 locale.
        `--locale=${process.platform === 'darwin' ? 'C' : 'C.UTF-8'}`,
        '--no-instructions',
      ],
      { stdio: 'pipe', ...asAccount },
    );
  }
  // Ours, rewritten on every start, so the access mode holds for clusters made before it existed.
  const hbaFile = join(clusterDir, 'pg_hba.conf');
  writeFileSync(
    hbaFile,
    `# Written by @orderflow/devstack on every start (access: ${access}).\n${HBA[access].join('\n')}\n`,
    {
      mode: 0o600,
    },
  );
  mkdirSync(socketDir, { recursive: true });
  if (account) {
    chownSync(socketDir, account.uid, account.gid);
    chownSync(hbaFile, account.uid, account.gid);
  }
  const settings = [
    'listen_addresses=127.0.0.1',
    `port=${port}`,
    `unix_socket_directories=${socketDir}`,
    'max_connections=400',
    'shared_buffers=256MB',
    ...(ephemeral ? ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'] : []),
    ...extra,
  ];
  const { child, tail } = spawnKept(join(bin, 'postgres'), ['-D', clusterDir, ...settings.flatMap((s) => ['-c', s])], {
    ...asAccount,
    echo: log,
  });
  /** The superuser's connection to a database: over the private socket (or TCP when everything is trusted). */
  const admin = (database = 'postgres'): pg.ClientConfig =>
    access === 'private'
      ? { host: socketDir, port, user: 'postgres', database }
      : { host: '127.0.0.1', port, user: 'postgres', database };
  try {
    await waitFor(
      'PostgreSQL',
      async () => {
        const c = new pg.Client(admin());
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
    /** URL of the server's maintenance database as the superuser (TCP: works with `access: 'trust'` only). */
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    child,
    binaries,
    /** The folder the cluster really is in (dataDir, or where its link points). */
    clusterDir,
    socketDir,
    access,
    admin,
    /** A database as the superuser over TCP (with `access: 'trust'`). */
    databaseUrl: (name: string) => `postgresql://postgres@127.0.0.1:${port}/${name}`,
    stop: async () => {
      await stopChild(child, 'SIGINT', 15_000);
      if (socketDir !== inCluster) rmSync(socketDir, { recursive: true, force: true });
    },
  };
}
export type RunningPostgres = Awaited<ReturnType<typeof startPostgres>>;
