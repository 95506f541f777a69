import { loadSubgraphConfig, subgraphEnvSchema } from '@orderflow/common';

const schema = subgraphEnvSchema('auth', 4001);

export type AuthConfig = ReturnType<typeof loadConfig>;
export const loadConfig = (env: NodeJS.ProcessEnv) => loadSubgraphConfig(schema, env);
