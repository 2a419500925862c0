// @ts-check
'use strict';
// Finds the line of a culprit inside a file: the import specifier in source, a key in a JSON file.
const fs = require('node:fs');
const path = require('node:path');

/** @type {Map<string, string[]>} */
const cache = new Map();

/** @param {string} root @param {string} file @returns {string[]} */
function linesOf(root, file) {
  const abs = path.resolve(root, file);
  let lines = cache.get(abs);
  if (!lines) {
    try {
      lines = fs.readFileSync(abs, 'utf8').split(/\r?\n/);
    } catch {
      lines = [];
    }
    cache.set(abs, lines);
  }
  return lines;
}

/**
 * 1-based line of the first quoted occurrence of `specifier` ('x', "x" or `x`), 1 when not found.
 * @param {string} root @param {string} file @param {string} specifier
 */
function lineOfSpecifier(root, file, specifier) {
  const quoted = ["'", '"', '`'].map((q) => `${q}${specifier}${q}`);
  const lines = linesOf(root, file);
  const i = lines.findIndex((l) => quoted.some((q) => l.includes(q)));
  return i < 0 ? 1 : i + 1;
}

/**
 * 1-based line of the first line containing `needle`, 1 when not found.
 * @param {string} root @param {string} file @param {string} needle
 */
function lineOfText(root, file, needle) {
  const i = linesOf(root, file).findIndex((l) => l.includes(needle));
  return i < 0 ? 1 : i + 1;
}

module.exports = { lineOfSpecifier, lineOfText, linesOf };
