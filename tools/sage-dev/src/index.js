// @ts-check
'use strict';
// Library entry of @sage/dev-tools, for the workspace packages' tests (the command is bin/sage-dev.js).
const { checkApiReport } = require('./api-report');

module.exports = { checkApiReport };
