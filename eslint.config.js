// `npm run lint`: typescript-eslint's recommended rules over every TypeScript file.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/generated/**',
      '**/*.generated.ts',
      // codegen's client preset output (codegen.ts)
      'web/src/gql/**',
      '**/dist/**',
      '.data/**',
      '.vitest-tmp/**',
      'docs/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.node, ...globals.browser },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // Domain rules are pure: they import the contracts, never a mechanism (database, bus, server).
    files: ['subgraphs/*/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@orderflow/common',
                '@orderflow/common/*',
                'pg',
                '@prisma/*',
                'nats',
                'express',
                '@apollo/*',
                'node:net',
                'node:http',
              ],
              message: 'domain/ is pure: import @orderflow/contracts, and do I/O in service/ or store/.',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests and benchmarks read untyped JSON answers from real servers.
    files: ['**/*.test.ts', 'test/**', 'bench/**', '**/test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
