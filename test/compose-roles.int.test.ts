// ops/postgres/init-roles.sh, which compose's postgres container runs on its first start, run here
// against a real PostgreSQL: each service's role owns its database only, with the password it was given.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startPostgres, type RunningPostgres } from '@orderflow/devstack';

const SCRIPT = resolve(fileURLToPath(new URL('..', import.meta.url)), 'ops/postgres/init-roles.sh');
const SERVICES = ['auth', 'products', 'orders', 'shipments'];
const hasPsql = spawnSync('psql', ['--version']).status === 0;

describe.skipIf(!hasPsql)('compose: ops/postgres/init-roles.sh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orderflow-initroles-'));
  chmodSync(dir, 0o755); // as root, PostgreSQL runs as another account, which must reach its data
  let server: RunningPostgres;
  const passwords = Object.fromEntries(
    SERVICES.map((s) => [`PG_${s.toUpperCase()}_PASSWORD`, randomBytes(12).toString('hex')]),
  );
  const run = (env: Record<string, string>) =>
    spawnSync('sh', [SCRIPT], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        POSTGRES_USER: 'postgres',
        PGHOST: '127.0.0.1',
        PGPORT: String(server.port),
        ...env,
      },
    });
  const query = async (config: pg.ClientConfig, sql: string) => {
    const c = new pg.Client({ host: '127.0.0.1', port: server.port, ...config });
    await c.connect();
    try {
      return (await c.query(sql)).rows;
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    server = await startPostgres({ dataDir: join(dir, 'pg'), port: await freePort(), ephemeral: true });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to run without every password, and creates nothing', async () => {
    const res = run({ ...passwords, PG_SHIPMENTS_PASSWORD: '' });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/set PG_SHIPMENTS_PASSWORD/);
    expect(
      await query({ user: 'postgres', database: 'postgres' }, "SELECT 1 FROM pg_roles WHERE rolname LIKE 'orderflow%'"),
    ).toEqual([]);
  });

  it('gives each service a role with its password that owns its database, and shuts the others out', async () => {
    const res = run(passwords);
    expect(res.status, res.stderr).toBe(0);
    const rows = await query(
      { user: 'postgres', database: 'postgres' },
      `SELECT d.datname, pg_get_userbyid(d.datdba) AS owner, a.rolsuper, a.rolcreatedb, a.rolcreaterole,
              a.rolpassword LIKE 'SCRAM-SHA-256$%' AS scram
         FROM pg_database d JOIN pg_authid a ON a.rolname = d.datname
        WHERE d.datname LIKE 'orderflow\\_%' ORDER BY d.datname`,
    );
    expect(rows).toEqual(
      [...SERVICES].sort().map((s) => ({
        datname: `orderflow_${s}`,
        owner: `orderflow_${s}`,
        rolsuper: false,
        rolcreatedb: false,
        rolcreaterole: false,
        scram: true,
      })),
    );
    const denied = await query({ user: 'orderflow_orders', database: 'orderflow_auth' }, 'SELECT 1').catch((e) => e);
    expect(denied.code).toBe('42501');
  });
});
