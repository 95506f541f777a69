import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/generated/**'],
    globalSetup: ['test/support/global-setup.ts'],
    // The JSON report gives .ci/run the plain "N passed, N failed" line CI reads.
    reporters: ['default', ['json', { outputFile: '.vitest-tmp/results.json' }]],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
