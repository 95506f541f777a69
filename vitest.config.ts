import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // Node loads graphql's CommonJS build (Apollo's packages require it); Vite would pick its
    // ESM build for our imports, and graphql refuses a schema from "another realm".
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['**/*.test.ts'],
    // test/hostile/** runs attacks one file at a time: `npm run test:hostile` (vitest.hostile.config.ts).
    // test/chaos/** kills and restarts its own servers for minutes: `npm run test:chaos` (vitest.chaos.config.ts).
    exclude: ['**/node_modules/**', '**/generated/**', 'test/chaos/**', 'test/hostile/**'],
    globalSetup: ['test/support/global-setup.ts'],
    // The JSON report gives .ci/run the plain "N passed, N failed" line CI reads.
    reporters: ['default', ['json', { outputFile: '.vitest-tmp/results.json' }]],
    pool: 'forks',
    // In CI one file at a time: the integration files each run a whole system, and two of them
    // on 2 cores turn the concurrency tests into tests of the machine's load.
    maxWorkers: process.env.CI ? 1 : 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
