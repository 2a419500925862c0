// @ts-check
'use strict';
// Reads the one layer map (layers.json) and turns it into Nx depConstraints (by layer tag).
// The eslint-plugin-boundaries config, which also needs the discovered packages, is in eslint-boundaries.js.
const fs = require('node:fs');
const path = require('node:path');

/** @typedef {{ id: string, name: string, description: string }} Layer */
/**
 * @typedef {object} LayerMap
 * @property {Layer[]} layers
 * @property {string} packagesDir   folder of the layered packages
 * @property {string} [toolsDir]    folder of workspace tooling (default "tools"): checked for cycles and deep imports
 * @property {string} scope
 */

/** @param {string} [file] @returns {LayerMap} */
function loadLayerMap(file = path.join(__dirname, '..', 'layers.json')) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** Nx depConstraints: each layer may depend only on strictly lower layers. */
function layerDepConstraints(map = loadLayerMap()) {
  return map.layers.map((layer, i) => ({
    sourceTag: `layer:${layer.id}`,
    onlyDependOnLibsWithTags: map.layers.slice(0, i).map((l) => `layer:${l.id}`),
  }));
}

module.exports = { loadLayerMap, layerDepConstraints };
