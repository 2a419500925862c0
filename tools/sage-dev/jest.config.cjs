// Fixture workspaces hold package.json files named like the real packages: keep jest's module map out of them.
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'sage-dev',
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/tests/fixtures/'],
  modulePathIgnorePatterns: ['<rootDir>/tests/fixtures/'],
};
