// ESLint flat config. The rules that carry architecture:
//  - workflows/ stays deterministic: no Node built-ins, no vendor clients, no Temporal client/worker/activity
//    packages, no value imports of activities (types only) and nothing from the sandbox;
//  - workflows/ and activities/ never import the sandbox world: they must not know they run against it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.filter((m) => !m.startsWith('_')).flatMap((m) => [m, `node:${m}`]);
const sandboxPatterns = [
  {
    group: ['**/src/sandbox', '**/src/sandbox/**'],
    message: 'workflows and activities must not know about the sandbox world.',
  },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.shepherd/**', 'workflow-bundle-*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'no-console': 'error',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({
              name,
              message: 'workflow code runs in the deterministic sandbox: no Node built-ins.',
            })),
            ...[
              '@temporalio/client',
              '@temporalio/worker',
              '@temporalio/activity',
              '@temporalio/testing',
              '@gitbeaker/rest',
              'jenkins',
              '@kubernetes/client-node',
              'yaml',
            ].map((name) => ({
              name,
              message: 'workflow code may import only @temporalio/workflow, @temporalio/common, zod and src/domain.',
            })),
          ],
          patterns: [
            ...sandboxPatterns,
            {
              group: ['**/activities', '**/activities/**'],
              allowTypeImports: true,
              message: 'import activities as `import type` and call them through proxyActivities.',
            },
            {
              group: [
                '**/src/clients/**',
                '**/src/config/**',
                '**/src/worker/**',
                '**/src/cli/**',
                '**/src/temporal/*.js',
              ],
              message: 'workflow code may import only src/domain and src/temporal/common from src/.',
            },
            {
              group: ['@gitbeaker/*', '@kubernetes/*'],
              message: 'vendor clients belong in src/clients, called from activities.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: sandboxPatterns }] },
  },
  {
    files: ['test/**/*.ts', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
);
