import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePorts, startNats, startPostgres } from '@orderflow/devstack';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresPort: number;
    natsUrl: string;
  }
}

/**
 * One real PostgreSQL server and one real nats-server for the whole run.
 * Every test file gets its own databases and its own NATS subject prefix
 * (test/support/system.ts), so files never see each other's data.
 */
export default async function setup(project: TestProject) {
  const root = mkdtempSync(join(tmpdir(), 'orderflow-test-'));
  chmodSync(root, 0o755);
  const [pgPort, natsPort] = await freePorts(2);
  const [postgres, nats] = await Promise.all([
    startPostgres({ dataDir: join(root, 'pg'), port: pgPort, ephemeral: true }),
    startNats({ storeDir: join(root, 'nats'), port: natsPort }),
  ]);
  project.provide('postgresPort', postgres.port);
  project.provide('natsUrl', nats.url);
  return async () => {
    await Promise.all([postgres.stop(), nats.stop()]);
    rmSync(root, { recursive: true, force: true });
  };
}
