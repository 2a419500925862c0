// The packaging check: packs every workspace package and installs the tarballs offline (see packaging.test.ts).
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'packaging',
  testMatch: ['<rootDir>/*.test.ts'],
  testTimeout: 120000,
};
