// The Docker image runs what `npm run build` emits with plain `node`: no tsx,
// no TypeScript. No Docker engine runs here, so this builds the programs the
// way the Dockerfile does and runs the bundles.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { buildPrograms, programs } from '../scripts/build.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** Runs a bundle with node alone until it exits or prints `until`; returns its output. */
function runBundle(
  file: string,
  env: Record<string, string>,
  until?: RegExp,
): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--enable-source-maps', file], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (until?.test(output)) child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', fail);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

describe('npm run build (what the Docker image runs)', () => {
  beforeAll(async () => {
    await buildPrograms(ROOT, () => {});
  }, 120_000);

  it.each(programs(ROOT).map((p) => [p.entry, p] as const))(
    '%s: compiled to JavaScript that imports no TypeScript and no tsx',
    (_entry, program) => {
      const dir = join(ROOT, program.outdir);
      const files = readdirSync(dir).filter((f) => f.endsWith('.js'));
      expect(files).toContain(program.entry.split('/').pop()!.replace(/\.ts$/, '.js'));
      for (const file of files) {
        const code = readFileSync(join(dir, file), 'utf8');
        const specifiers = [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*)["']([^"']+)["']/g)].map((m) => m[1]);
        expect(
          specifiers.filter(
            (s) => s.endsWith('.ts') || s === 'tsx' || s.startsWith('tsx/') || s.startsWith('@orderflow/'),
          ),
          file,
        ).toEqual([]);
      }
      for (const asset of program.assets) expect(readdirSync(dir)).toContain(asset.split('/').pop());
    },
  );

  it('imports only packages that the image installs (npm ci --omit=dev): no dev tool at run time', () => {
    const installed = new Set(
      // npm ls exits 1 over problems elsewhere in the tree (an extraneous package): its list is still right.
      spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8' })
        .stdout.split('\n')
        .map((path) => path.split('/node_modules/').pop()!)
        .filter(Boolean),
    );
    const missing = new Set<string>();
    for (const program of programs(ROOT)) {
      const dir = join(ROOT, program.outdir);
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
        const code = readFileSync(join(dir, file), 'utf8');
        for (const [, specifier] of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*)["']([^"'.][^"']*)["']/g)) {
          if (specifier.startsWith('node:')) continue;
          const name = specifier
            .split('/')
            .slice(0, specifier.startsWith('@') ? 2 : 1)
            .join('/');
          if (!installed.has(name)) missing.add(`${name} (${program.outdir}/${file})`);
        }
      }
    }
    expect([...missing]).toEqual([]);
    expect(installed.has('tsx'), 'tsx is a development tool').toBe(false);
  });

  it('the gateway bundle loads its configuration and refuses production without its secret, naming it', async () => {
    const { code, output } = await runBundle('gateway/dist/index.js', { NODE_ENV: 'production' });
    expect(code).not.toBe(0);
    expect(output).toContain('INTERNAL_AUTH_SECRET: required in production');
  });

  it('the auth bundle refuses a published signing secret in production, without printing it', async () => {
    const published = 'change-me-to-another-long-random-secret-of-32-chars';
    const { code, output } = await runBundle('subgraphs/auth/dist/index.js', {
      NODE_ENV: 'production',
      INTERNAL_AUTH_SECRET: randomBytes(32).toString('hex'),
      SIGNING_KEY_SECRET: published,
    });
    expect(code).not.toBe(0);
    expect(output).toContain('SIGNING_KEY_SECRET: is a development value');
    expect(output).not.toContain(published);
  });

  it('a subgraph bundle finds its SDL and its migrations and applies them to a real database', async () => {
    const database = `build_${randomBytes(4).toString('hex')}`;
    const { output } = await runBundle(
      'subgraphs/shipments/dist/index.js',
      {
        NODE_ENV: 'test',
        PORT: '0',
        DATABASE_URL: `postgresql://postgres@127.0.0.1:${inject('postgresPort')}/${database}`,
        // Nothing listens there: the service stops (or retries) after its migrations, which is all this checks.
        NATS_URL: 'nats://127.0.0.1:9',
      },
      /migration applied|"level":[56]0/,
    );
    expect(output).toMatch(/"msg":"migration applied"/);
    expect(output).not.toMatch(/ENOENT|Cannot find/);
  });

  it('the SMTP sink bundle starts and listens', async () => {
    const { output } = await runBundle(
      'scripts/dist/mail-sink.js',
      { SMTP_PORT: '0', MAIL_DIR: '.vitest-tmp/mail-build' },
      /listening/,
    );
    expect(output).toContain('mail sink listening');
  });
});
