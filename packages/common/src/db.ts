import { PrismaPg } from '@prisma/adapter-pg';

/**
 * Builds a service's Prisma client on the pg driver adapter (no native engine).
 * `onQuery` sees every SQL statement (tests count them).
 */
export function createPrismaClient<T>(
  PrismaClient: new (options: { adapter: PrismaPg; errorFormat?: 'minimal'; transactionOptions?: { maxWait: number; timeout: number }; log?: { emit: 'event'; level: 'query' }[] }) => T,
  { url, poolSize = 10, onQuery }: { url: string; poolSize?: number; onQuery?: (sql: string) => void },
): T {
  const adapter = new PrismaPg({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5_000 });
  // errorFormat 'minimal': Prisma otherwise captures a stack (new Error) on every query to point at the caller.
  // A busy pool makes a transaction wait for a connection; Prisma's 2 s default turns a burst into errors.
  const client = new PrismaClient({ adapter, errorFormat: 'minimal', transactionOptions: { maxWait: 10_000, timeout: 15_000 }, ...(onQuery ? { log: [{ emit: 'event', level: 'query' }] } : {}) });
  if (onQuery) (client as unknown as { $on(e: 'query', cb: (ev: { query: string }) => void): void }).$on('query', (ev) => onQuery(ev.query));
  return client;
}
