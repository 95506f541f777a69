import pg from 'pg';

/** A service's database and the role that owns it (and nothing else). */
export interface ServiceDatabase {
  /** Login role the service connects (and migrates) as, e.g. `orderflow_orders`. */
  role: string;
  /** Its database, e.g. `orderflow_orders`. */
  database: string;
  /** Set (or reset) as the role's password; none keeps what the role has. */
  password?: string;
}

/** The superuser's connection to one database of the server. */
export type AdminConnection = (database?: string) => pg.ClientConfig;

const isCode = (err: unknown, ...codes: string[]) => codes.includes((err as { code?: string }).code ?? '');

async function withClient<T>(config: pg.ClientConfig, run: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/**
 * Least privilege for one service, done as the superuser (the only thing the
 * superuser is used for): a login role that is no superuser and cannot create
 * roles or databases, and a database owned by that role that no other
 * ordinary role may connect to (CONNECT revoked from PUBLIC). The service
 * connects, and runs its migrations, as that role. Idempotent: a database
 * that already exists under another owner (made before roles existed) is
 * handed over to the role, with everything in it.
 */
export async function provisionServiceDatabase(admin: AdminConnection, db: ServiceDatabase): Promise<void> {
  const adopt = await withClient(admin(), async (c) => {
    const role = c.escapeIdentifier(db.role);
    const database = c.escapeIdentifier(db.database);
    const attributes = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS${
      db.password === undefined ? '' : ` PASSWORD ${c.escapeLiteral(db.password)}`
    }`;
    await c.query(`CREATE ROLE ${role} ${attributes}`).catch(async (err) => {
      // Already there (or created this instant by a sibling): make it what it must be.
      if (!isCode(err, '42710', '23505')) throw err;
      await c.query(`ALTER ROLE ${role} ${attributes}`);
    });
    const ownerOf = async () =>
      (
        await c.query<{ owner: string }>(
          'SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1',
          [db.database],
        )
      ).rows[0]?.owner;
    let owner = await ownerOf();
    if (owner === undefined) {
      await c.query(`CREATE DATABASE ${database} OWNER ${role}`).catch((err) => {
        if (!isCode(err, '42P04')) throw err;
      });
      owner = await ownerOf();
    }
    await c.query(`REVOKE ALL ON DATABASE ${database} FROM PUBLIC`);
    return owner !== db.role;
  });
  if (adopt) await handOver(admin, db);
}

/** Makes `db.role` the owner of its database and of every schema, table, sequence, type and routine in it. */
async function handOver(admin: AdminConnection, db: ServiceDatabase): Promise<void> {
  await withClient(admin(db.database), async (c) => {
    const role = c.escapeIdentifier(db.role);
    await c.query(`ALTER DATABASE ${c.escapeIdentifier(db.database)} OWNER TO ${role}`);
    const userSchemas = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`;
    const notOwned = `<> (SELECT oid FROM pg_roles WHERE rolname = $1)`;
    // Tables first: their sequences (serial, identity) move with them and refuse to move alone.
    const rounds = [
      `SELECT format('ALTER SCHEMA %I OWNER TO %I', n.nspname, $1::text) AS sql FROM pg_namespace n
        WHERE ${userSchemas} AND n.nspname <> 'public' AND n.nspowner ${notOwned}`,
      `SELECT format('ALTER TABLE %s OWNER TO %I', c.oid::regclass, $1::text) AS sql
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE ${userSchemas} AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relowner ${notOwned}`,
      `SELECT format('ALTER SEQUENCE %s OWNER TO %I', c.oid::regclass, $1::text) AS sql
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE ${userSchemas} AND c.relkind = 'S' AND c.relowner ${notOwned}`,
      `SELECT format('ALTER TYPE %s OWNER TO %I', t.oid::regtype, $1::text) AS sql
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE ${userSchemas} AND t.typtype IN ('e', 'd', 'r') AND t.typowner ${notOwned}`,
      `SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, $1::text) AS sql
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE ${userSchemas} AND p.proowner ${notOwned}`,
    ];
    for (const round of rounds) {
      const { rows } = await c.query<{ sql: string }>(round, [db.role]);
      for (const { sql } of rows) await c.query(sql);
    }
  });
}
