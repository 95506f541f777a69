import { PrismaPg } from '@prisma/adapter-pg';

/**
 * Builds a service's Prisma client on the pg driver adapter (no native engine).
 * `onQuery` sees every SQL statement (tests count them).
 */
export function createPrismaClient<T>(
  PrismaClient: new (options: { adapter: PrismaPg; log?: { emit: 'event'; level: 'query' }[] }) => T,
  { url, poolSize = 10, onQuery }: { url: string; poolSize?: number; onQuery?: (sql: string) => void },
): T {
  const adapter = new PrismaPg({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5_000 });
  const client = new PrismaClient({ adapter, ...(onQuery ? { log: [{ emit: 'event', level: 'query' }] } : {}) });
  if (onQuery) (client as unknown as { $on(e: 'query', cb: (ev: { query: string }) => void): void }).$on('query', (ev) => onQuery(ev.query));
  return client;
}
