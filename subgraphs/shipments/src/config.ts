import { loadSubgraphConfig, subgraphEnvSchema } from '@orderflow/common/server';
import { defaultPortOf } from '@orderflow/contracts';

const schema = subgraphEnvSchema('shipments', defaultPortOf('shipments'));

export type ShipmentsConfig = ReturnType<typeof loadConfig>;
/** Every variable this service reads (test/compose.test.ts checks docker-compose.yml against it). */
export const envSchema = schema;
export const loadConfig = (env: NodeJS.ProcessEnv) => loadSubgraphConfig(schema, env);
