// ESLint flat config. The architecture (which part may import which, value or type, and which packages) is declared
// in architecture.config.js; this file only turns that declaration into eslint-plugin-boundaries policies.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import boundaries from 'eslint-plugin-boundaries';
import { ownedPackages, parts } from './architecture.config.js';

const partNames = Object.keys(parts);

/** Deepest folder first, so a file of src/temporal/common belongs to temporal-common rather than to temporal. */
const elements = Object.entries(parts)
  .sort(([, a], [, b]) => b.folder.split('/').length - a.folder.split('/').length)
  .map(([type, part]) => ({ type, pattern: part.folder, partialMatch: false }));

/** What one part may import, as allow policies; anything no policy allows is refused. */
function allowPolicies(name, part) {
  const from = { element: { type: name } };
  const policies = [];
  if (part.imports.length > 0) policies.push({ from, allow: { to: { element: { type: part.imports } } } });
  if (part.typeImports?.length) {
    policies.push({ from, allow: { to: { element: { type: part.typeImports } }, dependency: { kind: 'type' } } });
  }
  const external = part.packages === '*' ? { origin: 'external' } : { origin: 'external', source: part.packages };
  if (part.packages === '*' || part.packages.length > 0) policies.push({ from, allow: { to: { module: external } } });
  if (part.builtins) policies.push({ from, allow: { to: { module: { origin: 'core' } } } });
  return policies;
}

/** An owned package is refused to every other part, even one that may import any package. */
const ownedPolicies = Object.entries(ownedPackages).map(([source, owner]) => ({
  from: { element: { type: `!${owner}` } },
  disallow: { to: { module: { origin: 'external', source } } },
  message: `${source} belongs to ${owner} (architecture.config.js).`,
}));

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
    // Every part's files, and anything else under src/: a file there that no part owns is itself an error.
    files: [...new Set(['src', ...partNames.map((name) => parts[name].folder)])].map((f) => `${f}/**/*.{ts,js,mjs}`),
    plugins: { boundaries },
    settings: {
      'boundaries/elements': elements,
      'boundaries/root-path': import.meta.dirname,
      'boundaries/dependency-nodes': ['import', 'export', 'dynamic-import'],
      'boundaries/legacy-templates': false,
      // TypeScript sources import each other with a `.js` suffix; this resolver maps those to the `.ts` files.
      'import/resolver': { typescript: { project: `${import.meta.dirname}/tsconfig.json` } },
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          checkAllOrigins: true,
          checkUnknownLocals: true,
          policies: [...Object.entries(parts).flatMap(([name, part]) => allowPolicies(name, part)), ...ownedPolicies],
        },
      ],
      'boundaries/no-unknown-files': 'error',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    languageOptions: { globals: {} },
  },
  {
    files: ['test/**/*.ts', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
);
