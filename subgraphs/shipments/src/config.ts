import { loadSubgraphConfig, subgraphEnvSchema } from '@orderflow/common/server';

const schema = subgraphEnvSchema('shipments', 4004);

export type ShipmentsConfig = ReturnType<typeof loadConfig>;
/** Every variable this service reads (test/compose.test.ts checks docker-compose.yml against it). */
export const envSchema = schema;
export const loadConfig = (env: NodeJS.ProcessEnv) => loadSubgraphConfig(schema, env);
