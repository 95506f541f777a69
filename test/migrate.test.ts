// `npm run migrate` (scripts/start.ts --migrate) on a real PostgreSQL server
// named by DATABASE_URL: every service's migrations, once, then nothing to do.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { servicesWithMigrations } from '../scripts/migrate.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const run = promisify(execFile);

/** npm run migrate's command, JSON lines out (not a terminal), against the test server. */
async function migrate(): Promise<string[]> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--migrate'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      LOG_FORMAT: 'json',
      // Each service uses its own database on that server (orderflow_<service>), as with npm start.
      DATABASE_URL: `postgresql://postgres@127.0.0.1:${inject('postgresPort')}/postgres`,
    },
    timeout: 120_000,
  });
  return stdout
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { msg: string }).msg);
}

async function appliedIn(database: string): Promise<string[]> {
  const client = new pg.Client({ host: '127.0.0.1', port: inject('postgresPort'), user: 'postgres', database });
  await client.connect();
  try {
    const { rows } = await client.query<{ migration_name: string }>(
      'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL ORDER BY migration_name',
    );
    return rows.map((r) => r.migration_name);
  } finally {
    await client.end();
  }
}

describe('npm run migrate', () => {
  const services = servicesWithMigrations();

  it('applies every service’s migrations to its own database on DATABASE_URL’s server, then finds nothing to do', async () => {
    expect(services.map((s) => s.name)).toEqual(['auth', 'orders', 'products', 'shipments']);
    const first = await migrate();
    for (const { name, migrationsDir } of services) {
      const committed = readdirSync(migrationsDir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort();
      expect(await appliedIn(`orderflow_${name}`), name).toEqual(committed);
      expect(first.some((msg) => msg.startsWith(`${name}: applied`) || msg === `${name}: up to date`)).toBe(true);
    }
    expect(first).toContain('migrations applied');

    const again = await migrate();
    for (const { name } of services) expect(again, name).toContain(`${name}: up to date`);
  });

  it('lists the services whose folders hold migrations', () => {
    for (const { name, migrationsDir } of services)
      expect(migrationsDir).toBe(join(ROOT, 'subgraphs', name, 'prisma', 'migrations'));
  });
});
