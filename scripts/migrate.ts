// `npm run migrate`: every service's committed migrations, applied the way
// each service applies them at start-up (packages/common/src/migrate.ts, under
// an advisory lock, recorded in _prisma_migrations). scripts/start.ts
// --migrate calls it with the databases of DATABASE_URL's server, or of the
// local PostgreSQL that `npm start` runs (started for the occasion).
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyMigrations } from '@orderflow/common/db';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The services that own a database: every subgraph with a prisma/migrations folder. */
export function servicesWithMigrations(root = ROOT): { name: string; migrationsDir: string }[] {
  return readdirSync(join(root, 'subgraphs'))
    .map((name) => ({ name, migrationsDir: join(root, 'subgraphs', name, 'prisma', 'migrations') }))
    .filter((s) => existsSync(s.migrationsDir))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Applies every service's pending migrations, one service after the other.
 * @param databaseUrl The connection URL of a service's own database (as its owner).
 * @param print One line per service: what was applied, or that it was up to date.
 */
export async function migrateServices(databaseUrl: (service: string) => string, print: (line: string) => void) {
  for (const { name, migrationsDir } of servicesWithMigrations()) {
    const applied = await applyMigrations({ databaseUrl: databaseUrl(name), migrationsDir });
    print(applied.length ? `${name}: applied ${applied.join(', ')}` : `${name}: up to date`);
  }
}
