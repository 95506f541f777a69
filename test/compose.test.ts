// docker-compose.yml cannot be run here (no Docker engine), so its structure is
// checked against the repository instead: what it builds, runs and configures
// must exist, and every variable must be one the service actually reads.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { programs } from '../scripts/build.ts';
import { LIBRARY_VARIABLES, PROGRAMS } from './support/env-schemas.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

const CONDITIONS = ['service_started', 'service_healthy', 'service_completed_successfully'];

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | { published?: string | number; host_ip?: string })[];
  volumes?: (string | { type?: string; source?: string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  profiles?: string[];
  container_name?: string;
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const services = Object.entries(compose.services);
const built = services.filter(([, s]) => s.build !== undefined);

function environmentOf(s: Service): Record<string, string> {
  if (Array.isArray(s.environment))
    return Object.fromEntries(s.environment.map((kv) => [kv.split('=')[0], kv.slice(kv.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, v == null ? '' : String(v)]));
}

/** A value of the kind an operator sets for a required secret (`${X:?message}`). */
const OPERATOR_SECRET = randomBytes(32).toString('hex');

/**
 * What compose would pass with only the required variables set in the shell or .env:
 * `${X:-default}` → default, `${X}` → empty, `${X:?message}` → an operator's random value.
 */
function interpolateDefaults(value: string): string {
  return value.replace(/\$\{[A-Z0-9_]+(?:(:?-)([^}]*)|(:?\?)[^}]*)?\}/g, (_m, _dash, fallback, required) =>
    required ? OPERATOR_SECRET : (fallback ?? ''),
  );
}

/** `${X:?message}` (or `${X?message}`): compose refuses to start without X. */
const isRequired = (raw: string) => /^\$\{[A-Z0-9_]+:?\?[^}]*\}$/.test(raw);

const commandOf = (s: Service) => (typeof s.command === 'string' ? s.command.split(/\s+/) : (s.command ?? []));
/** The file the command runs: a bundle of `npm run build` (dist/…js) in the image. */
const runsFile = (s: Service) => commandOf(s).find((arg) => /\.(ts|mjs|js)$/.test(arg) && !arg.startsWith('-'));
/** What `npm run build` compiles, by the bundle it writes (scripts/build.ts). */
const SOURCE_OF_BUNDLE = Object.fromEntries(
  programs(ROOT).map((p) => [`${p.outdir}/${p.entry.split('/').pop()!.replace(/\.ts$/, '.js')}`, p.entry]),
);
/** The TypeScript program a service runs (the source of its bundle). */
const programOf = (s: Service) => {
  const file = runsFile(s);
  return file && (SOURCE_OF_BUNDLE[file] ?? file);
};
const dependsOn = (s: Service): Record<string, { condition?: string }> =>
  Array.isArray(s.depends_on) ? Object.fromEntries(s.depends_on.map((d) => [d, {}])) : (s.depends_on ?? {});
const isOptIn = (s: Service) => (s.profiles?.length ?? 0) > 0;

describe('docker-compose.yml', () => {
  it('has the whole system: PostgreSQL, NATS, the SMTP sink, four subgraphs and the gateway (which serves the web app)', () => {
    const programs = built.map(([, s]) => programOf(s));
    expect(programs).toEqual(expect.arrayContaining(Object.keys(PROGRAMS)));
    expect(services.some(([, s]) => s.image?.startsWith('postgres'))).toBe(true);
    const nats = services.find(([, s]) => s.image?.startsWith('nats'))?.[1];
    expect(commandOf(nats ?? {})).toContain('-js');
  });

  it.each(built)('%s: its build context and Dockerfile exist', (_name, s) => {
    const build = typeof s.build === 'string' ? { context: s.build } : s.build!;
    const context = resolve(ROOT, build.context ?? '.');
    expect(existsSync(context)).toBe(true);
    expect(existsSync(join(context, build.dockerfile ?? 'Dockerfile'))).toBe(true);
  });

  it.each(built)('%s: runs the compiled JavaScript of a program of this repository, with node alone', (_name, s) => {
    const file = runsFile(s)!;
    expect(SOURCE_OF_BUNDLE[file], `${file} is not a bundle of npm run build (scripts/build.ts)`).toBeDefined();
    const program = programOf(s);
    expect(program && PROGRAMS[program], `no known program in ${JSON.stringify(s.command)}`).toBeTruthy();
    expect(existsSync(join(ROOT, program!)), program).toBe(true);
    // tsx is a development tool: the image does not even install it.
    expect(commandOf(s)[0]).toBe('node');
    expect(commandOf(s).join(' ')).not.toMatch(/tsx|\.ts\b/);
  });

  it.each(built)('%s: sets only variables its config knows, with values it accepts', (_name, s) => {
    const schema = PROGRAMS[programOf(s)!];
    const env = environmentOf(s);
    const unknown = Object.keys(env).filter((k) => !(k in schema.shape) && !LIBRARY_VARIABLES.test(k));
    expect(unknown, 'variables no config.ts reads (a typo, or a setting that does nothing)').toEqual([]);
    const parsed = schema.safeParse(
      Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolateDefaults(v)])),
    );
    expect(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([]);
  });

  it('requires the signing secrets (${VAR:?…}) and ships no default for any secret of ours', () => {
    const required = new Set<string>();
    for (const [name, s] of built) {
      for (const [key, raw] of Object.entries(environmentOf(s))) {
        if (!/SECRET|PASSWORD/.test(key)) continue;
        if (isRequired(raw)) required.add(key);
        // Optional secrets (an OAuth client registered only when its secret is set) default to empty.
        else expect(interpolateDefaults(raw), `${name}.${key} has a default value: ${raw}`).toBe('');
      }
    }
    expect([...required]).toEqual(expect.arrayContaining(['INTERNAL_AUTH_SECRET', 'SIGNING_KEY_SECRET']));
    expect(environmentOf(compose.services.auth).NODE_ENV).toBe('production');
  });

  it('points every service URL at a service of the file, on the port that service listens on', () => {
    for (const [name, s] of services) {
      for (const [key, raw] of Object.entries(environmentOf(s))) {
        const m = /^[a-z]+:\/\/(?:[^@/]*@)?([a-z0-9_-]+)(?::(\d+))?/i.exec(interpolateDefaults(raw));
        if (!m || m[1] === 'localhost' || m[1].includes('.')) continue;
        const [, host, port] = m;
        expect(compose.services[host], `${name}.${key} names "${host}"`).toBeDefined();
        const listens = ['PORT', 'SMTP_PORT'].map((k) => environmentOf(compose.services[host])[k]).filter(Boolean);
        if (port && listens.length) expect(listens, `${name}.${key}`).toContain(port);
      }
    }
  });

  it('publishes only the gateway (opt-in tools at most on loopback), and names no container, so services scale', () => {
    for (const [name, s] of services) {
      expect(s.container_name, name).toBeUndefined();
      if (!s.ports?.length || programOf(s) === 'gateway/src/index.ts') continue;
      expect(isOptIn(s), `${name} publishes ${JSON.stringify(s.ports)}`).toBe(true);
      for (const p of s.ports)
        expect(
          typeof p === 'string' ? p.startsWith('127.0.0.1:') : p.host_ip === '127.0.0.1',
          `${name}: ${JSON.stringify(p)}`,
        ).toBe(true);
    }
    const gateway = built.find(([, s]) => programOf(s) === 'gateway/src/index.ts')![1];
    expect(gateway.ports?.length).toBeGreaterThan(0);
  });

  it('has a health check on every service', () => {
    const missing = services.filter(([, s]) => !s.healthcheck?.test?.length || s.healthcheck.disable).map(([n]) => n);
    expect(missing).toEqual([]);
  });

  it('has valid depends_on: known services, known conditions, healthy means a health check, no cycle', () => {
    for (const [name, s] of services) {
      for (const [target, { condition = 'service_started' }] of Object.entries(dependsOn(s))) {
        expect(compose.services[target], `${name} depends on "${target}"`).toBeDefined();
        expect(CONDITIONS, `${name} → ${target}`).toContain(condition);
        if (condition === 'service_healthy')
          expect(compose.services[target].healthcheck?.test, `${target} has no health check`).toBeTruthy();
        // A default service may not wait on one that only runs with a profile.
        if (!isOptIn(s)) expect(isOptIn(compose.services[target]), `${name} → ${target}`).toBe(false);
      }
    }
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (name: string, path: string[]) => {
      if (done.has(name)) return;
      expect(visiting.has(name), `cycle: ${[...path, name].join(' → ')}`).toBe(false);
      visiting.add(name);
      for (const target of Object.keys(dependsOn(compose.services[name]))) visit(target, [...path, name]);
      visiting.delete(name);
      done.add(name);
    };
    for (const [name] of services) visit(name, []);
  });

  it('keeps data in named volumes declared in the file, and mounts only files that exist', () => {
    for (const [name, s] of services) {
      for (const v of s.volumes ?? []) {
        const source = typeof v === 'string' ? v.split(':')[0] : v.source;
        if (!source) continue;
        if (/^[./~]/.test(source)) expect(existsSync(resolve(ROOT, source)), `${name} mounts ${source}`).toBe(true);
        else expect(compose.volumes ?? {}, `${name} uses volume "${source}"`).toHaveProperty(source);
      }
    }
    for (const image of ['postgres', 'nats']) {
      const s = services.find(([, x]) => x.image?.startsWith(image))![1];
      expect(s.volumes?.length, `${image} keeps its data in a volume`).toBeGreaterThan(0);
    }
  });

  it('builds from a Dockerfile that copies every workspace manifest before npm ci, and builds the web app', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const workspaces = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }
    ).workspaces.flatMap((w) =>
      w.endsWith('/*') ? readdirSync(join(ROOT, w.slice(0, -2))).map((d) => `${w.slice(0, -2)}/${d}`) : [w],
    );
    const firstCi = dockerfile.search(/^RUN .*\bnpm ci\b/m);
    expect(firstCi).toBeGreaterThan(-1);
    for (const ws of workspaces.filter((w) => existsSync(join(ROOT, w, 'package.json')))) {
      const copy = dockerfile.indexOf(`COPY ${ws}/package.json`);
      expect(copy, `Dockerfile never copies ${ws}/package.json (npm ci fails without it)`).toBeGreaterThan(-1);
      expect(copy, `${ws}/package.json is copied after npm ci`).toBeLessThan(firstCi);
    }
    expect(dockerfile).toMatch(/npm run build -w web/);
    expect(dockerfile).toMatch(/COPY --from=\w+ \/app\/web\/dist web\/dist/);
  });

  it('builds the programs to JavaScript in a build stage, and the image runs them without tsx or dev dependencies', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const stages = dockerfile.split(/^FROM /m).slice(1);
    const runtime = stages.at(-1)!;
    const build = stages.find((stage) => /^RUN npm run build$/m.test(stage));
    expect(build, 'a stage runs npm run build').toBeDefined();
    expect(build).toMatch(/^RUN npm ci\b(?!.*--omit=dev)/m);
    // The image: production dependencies only (no tsx, esbuild or prisma generator), every bundle and what it reads.
    expect(runtime).toMatch(/^RUN npm ci --omit=dev --ignore-scripts/m);
    for (const p of programs(ROOT)) {
      expect(runtime, p.outdir).toContain(`COPY --from=build /app/${p.outdir} ${p.outdir}`);
      expect(runtime, p.entry).not.toContain(p.entry);
    }
    for (const name of readdirSync(join(ROOT, 'subgraphs')).filter((n) =>
      existsSync(join(ROOT, 'subgraphs', n, 'prisma')),
    ))
      expect(runtime).toContain(`subgraphs/${name}/prisma/migrations`);
    expect(runtime).toContain('schema/supergraph.graphql');
    expect(runtime).not.toMatch(/^COPY \. \.$/m);
    expect(runtime).toMatch(/^CMD \["node", "--enable-source-maps", "gateway\/dist\/index\.js"\]$/m);
    expect(dockerfile).not.toMatch(/--import",? "?tsx/);
  });

  it('keeps .env and the local state out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['.env', '.data', '**/node_modules']) expect(ignored, entry).toContain(entry);
  });
});
