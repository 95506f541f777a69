import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { provisionServiceDatabase } from '@orderflow/devstack';
import { startSystem, type System } from './support/system.ts';

/** Runs `sql` on a fresh connection to `url` and returns its rows (or the error pg raised). */
async function query(url: string | pg.ClientConfig, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client(typeof url === 'string' ? { connectionString: url } : url);
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/** The same connection as the role of `url`, to another database. */
function toDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

describe('least privilege in PostgreSQL', () => {
  let system: System;
  beforeAll(async () => {
    system = await startSystem();
  });
  afterAll(async () => system?.stop());

  it('every service connects as its own role, which owns its tables and is no superuser', async () => {
    for (const [service, url] of Object.entries(system.databaseUrls)) {
      const role = new URL(url).username;
      expect(role).toMatch(new RegExp(`^${service}_`));
      const [me] = await query(
        url,
        `SELECT current_user AS "user", rolsuper AS super, rolcreatedb AS createdb, rolcreaterole AS createrole
           FROM pg_roles WHERE rolname = current_user`,
      );
      expect(me).toEqual({ user: role, super: false, createdb: false, createrole: false });
      // Its migrations ran as that role: every table is its own.
      const owners = await query(url, `SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'`);
      expect(owners).toEqual([{ tableowner: role }]);
    }
  });

  it('the orders role cannot connect to the auth database (permission denied), nor create roles or databases', async () => {
    const orders = system.databaseUrls.orders;
    const authDb = new URL(system.databaseUrls.auth).pathname.slice(1);
    const denied = await query(toDatabase(orders, authDb), 'SELECT count(*) FROM accounts').catch((err) => err);
    expect(denied).toBeInstanceOf(Error);
    expect(denied.code).toBe('42501');
    expect(denied.message).toMatch(/permission denied for database/);
    for (const sql of [
      `CREATE ROLE intruder_${randomBytes(3).toString('hex')} LOGIN SUPERUSER`,
      'CREATE DATABASE intruder',
    ]) {
      const err = await query(orders, sql).catch((e) => e);
      expect(err.code).toBe('42501');
    }
  });

  it('a database made by the superuser before roles existed is handed over to its role with everything in it', async () => {
    const port = inject('postgresPort');
    const admin = (database = 'postgres'): pg.ClientConfig => ({ host: '127.0.0.1', port, user: 'postgres', database });
    const name = `legacy_${randomBytes(4).toString('hex')}`;
    await query(admin(), `CREATE DATABASE ${name}`);
    await query(
      admin(name),
      `CREATE TYPE mood AS ENUM ('ok', 'bad');
       CREATE TABLE things (id serial PRIMARY KEY, mood mood NOT NULL);
       CREATE SEQUENCE loose_counter;
       CREATE FUNCTION next_thing() RETURNS int LANGUAGE sql AS 'SELECT 1';
       INSERT INTO things (mood) VALUES ('ok');`,
    );
    await provisionServiceDatabase(admin, { role: name, database: name });
    const asRole = `postgresql://${name}@127.0.0.1:${port}/${name}`;
    await query(asRole, `INSERT INTO things (mood) VALUES ('bad')`);
    const [row] = await query(
      asRole,
      `SELECT (SELECT count(*)::int FROM things) AS things, nextval('loose_counter')::int AS counter, next_thing() AS fn`,
    );
    expect(row).toEqual({ things: 2, counter: 1, fn: 1 });
    const [owner] = await query(
      admin(),
      `SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = '${name}'`,
    );
    expect(owner).toEqual({ owner: name });
    // And other roles are shut out of it.
    const other = new URL(system.databaseUrls.products).username;
    const err = await query(`postgresql://${other}@127.0.0.1:${port}/${name}`, 'SELECT 1').catch((e) => e);
    expect(err.code).toBe('42501');
  });
});
