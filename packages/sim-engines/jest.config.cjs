module.exports = { ...require('../../jest.preset.cjs'), displayName: 'sim-engines' };
