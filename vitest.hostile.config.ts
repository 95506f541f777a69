import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/**
 * `npm run test:hostile`: the hostile-client suite (test/hostile). Each file runs one kind of attack from
 * 127.0.0.3 against a whole system while an honest client at 127.0.0.2 (support/bystander.ts) reads the
 * catalog and its order page and holds a live subscription. One file at a time: an attack wants the machine.
 */
export default defineConfig({
  resolve: {
    // Same as vitest.config.ts: one graphql realm.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/hostile/**/*.hostile.test.ts'],
    exclude: ['**/node_modules/**', '**/generated/**'],
    globalSetup: ['test/support/global-setup.ts'],
    reporters: ['default', ['json', { outputFile: '.vitest-tmp/hostile-results.json' }]],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
