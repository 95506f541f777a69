import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createNatsPasswords, freePorts, startNats, startPostgres } from '@orderflow/devstack';
import type { NatsPasswords } from '@orderflow/contracts/nats-access';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresPort: number;
    natsUrl: string;
    /** The run's NATS users (test/support/nats-auth.ts hands them out). */
    natsAuth: { passwords: NatsPasswords; prefixes: string[]; claimDir: string };
  }
}

/**
 * NATS_PREFIXes the run's nats-server grants each service's user (permissions name exact subjects and
 * streams, so they are fixed when the server starts): one per system a run starts, with room to spare.
 */
const NATS_PREFIX_POOL = 160;

/**
 * One real PostgreSQL server and one real nats-server for the whole run.
 * Every test file gets its own databases and its own NATS subject prefix
 * (test/support/system.ts), so files never see each other's data.
 */
export default async function setup(project: TestProject) {
  const root = mkdtempSync(join(tmpdir(), 'orderflow-test-'));
  chmodSync(root, 0o755);
  const [pgPort, natsPort] = await freePorts(2);
  const run = randomBytes(3).toString('hex');
  const natsAuth = {
    passwords: createNatsPasswords(),
    prefixes: Array.from({ length: NATS_PREFIX_POOL }, (_, i) => `t${run}${i.toString(36).padStart(2, '0')}`),
    claimDir: join(root, 'nats-prefixes'),
  };
  mkdirSync(natsAuth.claimDir);
  const [postgres, nats] = await Promise.all([
    startPostgres({ dataDir: join(root, 'pg'), port: pgPort, ephemeral: true }),
    startNats({ storeDir: join(root, 'nats'), port: natsPort, auth: natsAuth }),
  ]);
  project.provide('postgresPort', postgres.port);
  project.provide('natsUrl', nats.url);
  project.provide('natsAuth', natsAuth);
  return async () => {
    await Promise.all([postgres.stop(), nats.stop()]);
    rmSync(root, { recursive: true, force: true });
  };
}
