import { inject } from 'vitest';
import { createLogger } from '@orderflow/common/observability';
import { freePort } from '@orderflow/devstack';
import { loadConfig } from '../src/config.ts';
import { startGateway } from '../src/server.ts';
import { claimNatsPrefix, natsServiceEnv, runNatsPasswords } from '../../test/support/nats-auth.ts';

/**
 * One real gateway on a free port, on the run's real nats-server (a fresh
 * subject prefix), with no subgraph behind it: every subgraph URL is a closed
 * port. Enough for what the gateway answers itself (landing pages, static
 * files, introspection, masking of a failed subgraph call). `env` wins.
 */
export async function startStandaloneGateway(env: Record<string, string> = {}) {
  const [port, closed] = await Promise.all([freePort(), freePort()]);
  const nowhere = `http://127.0.0.1:${closed}`;
  const config = loadConfig({
    NODE_ENV: 'development',
    LOG_LEVEL: 'silent',
    NATS_URL: inject('natsUrl'),
    NATS_PREFIX: claimNatsPrefix(),
    ...natsServiceEnv(runNatsPasswords(), 'gateway'),
    AUTH_URL: nowhere,
    PRODUCTS_URL: nowhere,
    ORDERS_URL: nowhere,
    SHIPMENTS_URL: nowhere,
    PORT: String(port),
    METRICS_PORT: '0',
    ...env,
  });
  const gateway = await startGateway(config, { log: createLogger('gateway', config.LOG_LEVEL) });
  /** `nowhere`: the closed port every subgraph URL names. */
  return { ...gateway, nowhere };
}
export type StandaloneGateway = Awaited<ReturnType<typeof startStandaloneGateway>>;
