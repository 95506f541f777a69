import { loadSubgraphConfig, subgraphEnvSchema } from '@orderflow/common';

const schema = subgraphEnvSchema('shipments', 4004);

export type ShipmentsConfig = ReturnType<typeof loadConfig>;
export const loadConfig = (env: NodeJS.ProcessEnv) => loadSubgraphConfig(schema, env);
