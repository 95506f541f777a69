import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/**
 * `npm run test:chaos`: the fault-injection suite (test/chaos). It starts and
 * breaks its own PostgreSQL, nats-server and service processes, so it has no
 * global setup, runs one file at a time, and is kept out of `npm test`
 * (vitest.config.ts excludes test/chaos): it takes minutes and all the CPU.
 */
export default defineConfig({
  resolve: {
    // Same as vitest.config.ts: one graphql realm.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/chaos/**/*.chaos.test.ts'],
    exclude: ['**/node_modules/**', '**/generated/**'],
    reporters: ['default', ['json', { outputFile: '.vitest-tmp/chaos-results.json' }]],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 420_000,
    hookTimeout: 180_000,
  },
});
