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
    // Domain rules and the saga's declaration are pure: besides each other (./ files of the same folder)
    // they import only the contracts and the pure libraries listed here, never a mechanism (database,
    // bus, server, @orderflow/common) nor the rest of their service. Add a library here only when it
    // does no I/O.
    files: ['subgraphs/*/src/domain/**/*.ts', 'subgraphs/*/src/saga/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!(?:@orderflow/contracts(?:/[\\w-]+)?|\\./(?!.*\\.\\.)[\\w./-]+|node:crypto|zod|vitest)$)',
              message:
                'domain/ and saga/ are pure: import @orderflow/contracts, ./ files of the same folder, node:crypto or zod; do I/O in service/, store/ or events/.',
            },
          ],
        },
      ],
    },
  },
  {
    // The contracts package does no I/O: zod and its own files only.
    files: ['packages/contracts/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!(?:\\./(?!.*\\.\\.)[\\w./-]+|zod|vitest)$)',
              message: '@orderflow/contracts has no I/O dependencies: zod and its own files only.',
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
