import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { TRANSACTION_LIMITS } from '@orderflow/contracts';

/** The pg pool under each Prisma client built here (see `sqlPool`). */
const pools = new WeakMap<object, pg.Pool>();

/**
 * Limits of every interactive transaction (Prisma's and, through the connection settings below, the
 * plain-SQL ones): defined with the reservation's timing in the contracts, which they are part of.
 */
export { TRANSACTION_LIMITS };

/**
 * Builds a service's Prisma client on the pg driver adapter (no native engine).
 * `onQuery` sees every SQL statement Prisma sends (tests count them).
 */
export function createPrismaClient<T extends object>(
  PrismaClient: new (options: {
    adapter: PrismaPg;
    errorFormat?: 'minimal';
    transactionOptions?: { maxWait: number; timeout: number };
    log?: { emit: 'event'; level: 'query' }[];
  }) => T,
  { url, poolSize = 10, onQuery }: { url: string; poolSize?: number; onQuery?: (sql: string) => void },
): T {
  const pool = new pg.Pool({
    Client: PreparingClient,
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 5_000,
    // The bounds Prisma puts on its own transactions (TRANSACTION_LIMITS.timeout), for the plain-SQL ones too:
    // a statement (a lock wait included) is cancelled after that long, and a transaction left idle (its process
    // stalled between statements) is ended with its locks. Set once per connection, no statement per transaction.
    options: `-c statement_timeout=${TRANSACTION_LIMITS.timeout} -c idle_in_transaction_session_timeout=${TRANSACTION_LIMITS.timeout}`,
  });
  // Every client listens for 'error' all its life, or a dropped connection kills the process:
  // docs/decisions/005-pooled-connections-listen-for-errors.md.
  pool.on('connect', (client) => client.on('error', () => {}));
  pool.on('error', () => {});
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  // errorFormat 'minimal': Prisma otherwise captures a stack (new Error) on every query to point at the caller.
  // A busy pool makes a transaction wait for a connection; Prisma's 2 s default turns a burst into errors.
  const client = new PrismaClient({
    adapter,
    errorFormat: 'minimal',
    transactionOptions: { ...TRANSACTION_LIMITS },
    ...(onQuery ? { log: [{ emit: 'event', level: 'query' }] } : {}),
  });
  if (onQuery)
    (client as unknown as { $on(e: 'query', cb: (ev: { query: string }) => void): void }).$on('query', (ev) =>
      onQuery(ev.query),
    );
  pools.set(client, pool);
  return client;
}

/** Distinct statement texts prepared by name at most; texts beyond it (none today) run unnamed. */
const MAX_PREPARED_TEXTS = 500;
const statementNames = new Map<string, string>();

/** A name for a parameterised statement's text, the same in every connection of the process. */
function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_PREPARED_TEXTS)
    statementNames.set(text, (name = `orderflow_${statementNames.size}`));
  return name;
}

/**
 * pg's client, with every parameterised plain-SQL statement (a string and its values: the store functions,
 * the inbox, the outbox, the relays) run as a named prepared statement. Each connection then parses and
 * analyses the text once instead of at every call, and PostgreSQL may keep its plan: the saga's statements
 * are CTEs of five or six parts whose parse and plan cost more than their execution. Prisma's queries (config
 * objects) and unparameterised ones (BEGIN, COMMIT) are left as they are.
 */
class PreparingClient extends pg.Client {
  // pg's query has several overloads; this one only rewrites (text, values[, callback]).
  query(...args: unknown[]): never {
    const [text, values, callback] = args;
    if (typeof text === 'string' && Array.isArray(values) && values.length > 0) {
      const name = statementName(text);
      if (name) return (super.query as (...a: unknown[]) => never)({ name, text, values }, callback);
    }
    return (super.query as (...a: unknown[]) => never)(...args);
  }
}

/**
 * The connection pool under a Prisma client from `createPrismaClient`, for the
 * statements that run for every order or event (the outbox relay, the inbox,
 * `publishingTransaction`): plain SQL on pg costs a fifth of the CPU of the same
 * statement through Prisma (bench/prisma-overhead.ts). Reads and rare writes use Prisma.
 */
export function sqlPool(client: object): pg.Pool {
  const pool = pools.get(client);
  if (!pool) throw new Error('not a client from createPrismaClient');
  return pool;
}

/**
 * What runs SQL inside a transaction from `publishingTransaction` (or on a pool):
 * pg's `query` with numbered parameters. Values come back as pg maps them:
 * uuid and bigint as strings, timestamptz as Date, enums as their labels.
 */
export interface Sql {
  query<R extends object = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}

/**
 * Runs `fn` in a transaction on one pooled connection; a connection that failed is discarded, not reused.
 * The mechanism under `publishingTransaction` (events.ts), the one way service code opens a plain-SQL
 * transaction, and under the outbox relay's claim of its rows; not exported by `@orderflow/common/db`.
 */
export async function withTransaction<R>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<R>): Promise<R> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A connection that dies while checked out (the server stopping) fails its query and also emits 'error' on
  // the client, which pg-pool listens to only while the client is idle: unheard, it is an uncaught exception.
  const onError = (err: Error) => (broken ??= err);
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackErr: Error) => (broken = rollbackErr));
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

/**
 * A row from `SELECT *` / `RETURNING *` with its columns renamed to the Prisma
 * model's fields (snake_case → camelCase, as every schema maps them), so SQL
 * on the hot paths returns the same objects as the model calls elsewhere.
 * Columns pg returns as strings where the model has another type (bigint ids)
 * must be converted by the caller.
 */
export function modelRow<T>(row: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const column in row) out[fieldOf(column)] = row[column];
  return out as T;
}

/** Column name → model field name, computed once per column (this runs for every row of the hot paths). */
const fields = new Map<string, string>();
function fieldOf(column: string): string {
  let field = fields.get(column);
  if (field === undefined)
    fields.set(column, (field = column.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())));
  return field;
}
