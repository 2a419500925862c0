// @ts-check
'use strict';
// Finds the workspace root and discovers its packages with their declared layer.
// Everything the checker knows about packages comes from here, so rules are generated, never hand-listed.
const fs = require('node:fs');
const path = require('node:path');
const { loadLayerMap } = require('./layer-map');

const DEFAULT_TOOLS_DIR = 'tools';

/** @typedef {import('./layer-map').LayerMap} LayerMap */

/**
 * @typedef {object} LayerTag
 * @property {string | null} id        the layer id when exactly one known `layer:` tag is present
 * @property {number} index            position in the layer map (0 = lowest), -1 when unknown
 * @property {string | null} problem   why the layer could not be determined, null when it could
 */

/**
 * @typedef {object} WorkspacePackage
 * @property {'package' | 'tool'} kind  a layered package (packagesDir) or workspace tooling (toolsDir, no layer)
 * @property {string} dir              path relative to the root, with forward slashes (e.g. "packages/common")
 * @property {string} absDir
 * @property {string} folder           the directory name (e.g. "common")
 * @property {string | null} name      package.json "name"
 * @property {Record<string, unknown> | null} manifest   parsed package.json (null when unreadable)
 * @property {string} manifestText
 * @property {Record<string, unknown> | null} project    parsed project.json (null when missing/unreadable)
 * @property {string} projectText
 * @property {string[]} tags
 * @property {LayerTag} layer
 */

/**
 * Walks up from `start` to the first directory holding nx.json.
 * @param {string} start
 * @returns {string | null}
 */
function findWorkspaceRoot(start) {
  let dir = path.resolve(start);
  for (;;) {
    if (fs.existsSync(path.join(dir, 'nx.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/**
 * The workspace's own layer map wins over the one shipped with the tool, so fixtures and forks can differ.
 * @param {string} root
 * @param {string} [explicit]
 * @returns {{ map: LayerMap, file: string }}
 */
function loadWorkspaceLayerMap(root, explicit) {
  const candidates = explicit
    ? [path.resolve(root, explicit)]
    : [path.join(root, 'tools', 'sage-dev', 'layers.json'), path.join(__dirname, '..', 'layers.json')];
  for (const file of candidates) {
    if (fs.existsSync(file)) return { map: loadLayerMap(file), file };
  }
  throw new Error(`layer map not found: ${candidates.join(', ')}`);
}

/** @param {string} file @returns {{ text: string, json: Record<string, unknown> | null }} */
function readJson(file) {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { text: '', json: null };
  }
  try {
    const json = JSON.parse(text);
    return { text, json: json && typeof json === 'object' && !Array.isArray(json) ? json : null };
  } catch {
    return { text, json: null };
  }
}

/**
 * @param {string[]} tags
 * @param {LayerMap} map
 * @returns {LayerTag}
 */
function layerFromTags(tags, map) {
  const layerTags = tags.filter((t) => t.startsWith('layer:'));
  const known = map.layers.map((l) => l.id);
  if (layerTags.length === 0) return { id: null, index: -1, problem: 'no layer tag' };
  if (layerTags.length > 1) return { id: null, index: -1, problem: `several layer tags (${layerTags.join(', ')})` };
  const id = layerTags[0].slice('layer:'.length);
  const index = known.indexOf(id);
  if (index < 0) return { id: null, index: -1, problem: `unknown layer "${id}" (known: ${known.join(', ')})` };
  return { id, index, problem: null };
}

/**
 * Every directory directly under `baseDir` (relative to the root) that holds a package.json.
 * @param {string} root
 * @param {string} baseDir
 * @param {'package' | 'tool'} kind
 * @param {LayerMap} map
 * @returns {WorkspacePackage[]}
 */
function discoverIn(root, baseDir, kind, map) {
  const base = path.join(root, baseDir);
  if (!fs.existsSync(base)) return [];
  return fs
    .readdirSync(base, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(base, d.name, 'package.json')))
    .map((d) => d.name)
    .sort()
    .map((folder) => {
      const absDir = path.join(base, folder);
      const manifest = readJson(path.join(absDir, 'package.json'));
      const project = readJson(path.join(absDir, 'project.json'));
      const rawTags = project.json && Array.isArray(project.json.tags) ? project.json.tags : [];
      const tags = rawTags.filter((t) => typeof t === 'string');
      const name = manifest.json && typeof manifest.json.name === 'string' ? manifest.json.name : null;
      // tooling sits outside the layer order: it is checked for cycles, deep imports and its manifest only
      const layer =
        kind === 'tool'
          ? { id: null, index: -1, problem: null }
          : project.json
            ? layerFromTags(tags, map)
            : { id: null, index: -1, problem: project.text ? 'project.json is not valid JSON' : 'no project.json' };
      return {
        kind,
        dir: `${baseDir}/${folder}`.split(path.sep).join('/'),
        absDir,
        folder,
        name,
        manifest: manifest.json,
        manifestText: manifest.text,
        project: project.json,
        projectText: project.text,
        tags,
        layer,
      };
    });
}

/**
 * Every directory directly under the layer map's packagesDir that holds a package.json is a package.
 * @param {string} root
 * @param {LayerMap} map
 * @returns {WorkspacePackage[]}
 */
function discoverPackages(root, map) {
  return discoverIn(root, map.packagesDir, 'package', map);
}

/** @param {LayerMap} map */
const toolsDirOf = (map) => map.toolsDir ?? DEFAULT_TOOLS_DIR;

/**
 * Every directory directly under the tools folder that holds a package.json is a tool (e.g. tools/sage-dev).
 * @param {string} root
 * @param {LayerMap} map
 * @returns {WorkspacePackage[]}
 */
function discoverTools(root, map) {
  return discoverIn(root, toolsDirOf(map), 'tool', map);
}

module.exports = { findWorkspaceRoot, loadWorkspaceLayerMap, discoverPackages, discoverTools, toolsDirOf, layerFromTags, readJson };
