import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'graphql';
import { createLogger, startSubgraph, type Logger } from '@orderflow/common';
import type { AuthConfig } from './config.ts';
import type { AuthContext } from './context.ts';
import { createDb } from './db.ts';
import { resolvers } from './resolvers/index.ts';

export const typeDefs = parse(readFileSync(fileURLToPath(new URL('./schema.graphql', import.meta.url)), 'utf8'));

export async function startAuth(config: AuthConfig, opts: { log?: Logger; onQuery?: (sql: string) => void } = {}) {
  const log = opts.log ?? createLogger('auth', config.LOG_LEVEL);
  return startSubgraph<ReturnType<typeof createDb>, AuthContext>({
    name: 'auth',
    config,
    log,
    migrationsDir: fileURLToPath(new URL('../prisma/migrations', import.meta.url)),
    db: () => createDb(config.DATABASE_URL, { poolSize: config.DB_POOL_SIZE, onQuery: opts.onQuery }),
    publishesEvents: false,
    setup: () => ({ typeDefs, resolvers, context: (viewer) => ({ viewer }) }),
  });
}
