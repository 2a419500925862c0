// @ts-check
'use strict';
// The report formats selectable with --format.
const { renderText } = require('./text');
const { renderJson } = require('./json');
const { renderMarkdown } = require('./markdown');

/** @type {Record<'text' | 'json' | 'markdown', (r: import('../check').Report) => string>} */
const reporters = { text: renderText, json: renderJson, markdown: renderMarkdown };

module.exports = { reporters };
