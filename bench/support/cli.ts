/** Command-line flags of the benchmarks: `--name value`, `--name=value`, `--flag`. */

type Spec =
  | { type: 'number'; default: number; min?: number; help: string }
  | { type: 'string'; default: string | null; help: string }
  | { type: 'boolean'; default: boolean; help: string }
  | { type: 'env'; help: string };

type Value<S extends Spec> = S extends { type: 'number' }
  ? number
  : S extends { type: 'boolean' }
    ? boolean
    : S extends { type: 'env' }
      ? Record<string, string>
      : S extends { type: 'string'; default: null }
        ? string | null
        : string;

export type Flags<T extends Record<string, Spec>> = { [K in keyof T]: Value<T[K]> };

/** Parses argv against `spec`; `--help` prints the flags and exits. */
export function parseFlags<T extends Record<string, Spec>>(argv: string[], spec: T, usage: string): Flags<T> {
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(spec)) out[k] = s.type === 'env' ? {} : s.default;
  const fail = (message: string): never => {
    process.stderr.write(`${message}\n\n${help(spec, usage)}\n`);
    process.exit(2);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${help(spec, usage)}\n`);
      process.exit(0);
    }
    if (!arg.startsWith('--')) fail(`Unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    const name = (eq > 0 ? arg.slice(2, eq) : arg.slice(2)).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const s = spec[name];
    if (!s) fail(`Unknown option ${arg}`);
    if (s.type === 'boolean') {
      out[name] = eq > 0 ? arg.slice(eq + 1) !== 'false' : true;
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) fail(`${arg} needs a value`);
    if (s.type === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n) || (s.min !== undefined && n < s.min))
        fail(`${arg} needs a number${s.min !== undefined ? ` >= ${s.min}` : ''}`);
      out[name] = n;
    } else if (s.type === 'env') {
      const m = value.match(/^([A-Z_][A-Z0-9_]*)=(.*)$/s);
      if (!m) fail(`${arg} needs KEY=VALUE`);
      (out[name] as Record<string, string>)[m![1]] = m![2];
    } else out[name] = value;
  }
  return out as Flags<T>;
}

function help(spec: Record<string, Spec>, usage: string): string {
  const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const lines = Object.entries(spec).map(([k, s]) => {
    const arg = s.type === 'boolean' ? '' : s.type === 'env' ? ' K=V' : s.type === 'number' ? ' N' : ' S';
    const def =
      s.type === 'env'
        ? ''
        : s.default === null || s.default === false || s.default === ''
          ? ''
          : ` (default ${s.default})`;
    return `  ${(flag(k) + arg).padEnd(28)}${s.help}${def}`;
  });
  return `${usage}\n\nOptions:\n${lines.join('\n')}`;
}

/** The flags every benchmark that boots a system shares. */
export const SYSTEM_FLAGS = {
  inProcess: {
    type: 'boolean',
    default: false,
    help: 'run the gateway and the subgraphs inside the bench process (one event loop) instead of one process each',
  },
  gateway: { type: 'string', default: null, help: 'target a running system at this URL instead of booting one' },
  ephemeral: {
    type: 'boolean',
    default: false,
    help: 'own PostgreSQL without fsync/synchronous_commit (default: durable)',
  },
  env: { type: 'env', help: 'extra environment for the services (repeatable), e.g. --env DB_POOL_SIZE=20' },
  hashCost: {
    type: 'number',
    default: 0,
    min: 0,
    help: 'PASSWORD_HASH_COST of our own auth service, to sign up big customer pools faster (0: the service default, 17)',
  },
  logLevel: { type: 'string', default: 'warn', help: 'LOG_LEVEL of the services' },
  opsSecret: {
    type: 'string',
    default: 'ops-console-dev-secret',
    help: "the ops-console client's secret (to create products)",
  },
  seed: { type: 'number', default: 1, min: 0, help: 'seed of the load generator' },
} as const;
