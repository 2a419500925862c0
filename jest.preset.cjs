// Shared jest settings. @swc/jest transpiles only (no type checking: that is the typecheck target),
// and the `sage-source` export condition makes `@sage/*` resolve to each package's src/index.ts,
// so a test sees the same public API as a consumer without needing a build of its dependencies.
const path = require('node:path');
const swcrc = JSON.parse(require('node:fs').readFileSync(path.join(__dirname, '.swcrc'), 'utf8'));
delete swcrc.$schema;

module.exports = {
  testEnvironment: 'node',
  testEnvironmentOptions: { customExportConditions: ['sage-source', 'node', 'require', 'default'] },
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', { ...swcrc, swcrc: false }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
  testTimeout: 30000,
  reporters: ['default', path.join(__dirname, 'tools', 'jest-results-reporter.cjs')],
};
