module.exports = { ...require('../../jest.preset.cjs'), displayName: 'llm-core' };
