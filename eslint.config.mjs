// Flat ESLint config. Layer rules come from the same place as the architecture check:
// the `layer:Ln` tag each package declares once in its project.json, ordered by tools/sage-dev/layers.json.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import globals from 'globals';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { layerDepConstraints } = require('./tools/sage-dev/src/layer-map.js');
const { boundariesConfig } = require('./tools/sage-dev/src/eslint-boundaries.js');
const workspaceRoot = path.dirname(fileURLToPath(import.meta.url));
const layerBoundaries = boundariesConfig(workspaceRoot);

export default [
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.nx/**', '**/coverage/**', 'tools/sage-dev/tests/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.js', '**/*.cjs', '**/*.mjs'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          // workspace tooling has no layer (see tools/sage-dev): any package's tests may use its library entry
          allow: ['@sage/dev-tools'],
          depConstraints: layerDepConstraints(),
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The same layer law, per package, through eslint-plugin-boundaries (elements and policies generated from the tags).
    files: ['packages/**/*.ts', 'packages/**/*.js'],
    plugins: { boundaries },
    settings: layerBoundaries.settings,
    rules: { 'boundaries/dependencies': ['error', layerBoundaries.dependenciesOptions] },
  },
  {
    // Browser code served as is (the dashboard's script): a classic script with the browser's globals, no newer
    // syntax than the page promises. tsconfig.dashboard.json type-checks it.
    files: ['packages/llm-core/src/server/dashboard/assets/**/*.js'],
    languageOptions: { sourceType: 'script', ecmaVersion: 2020, globals: globals.browser },
  },
  {
    files: ['**/*.cjs', 'tools/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
];
