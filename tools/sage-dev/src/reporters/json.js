// @ts-check
'use strict';
// Machine-readable report: the Report object as is.

/** @param {import('../check').Report} r @returns {string} */
const renderJson = (r) => JSON.stringify(r, null, 2) + '\n';

module.exports = { renderJson };
