// @ts-check
'use strict';
// The eslint-plugin-boundaries side of the layer law, generated from the same layer map and package tags
// as the architecture check, so the editor flags a wrong import as it is typed.
const { discoverPackages, loadWorkspaceLayerMap } = require('./workspace');
const { publicSpecifiers } = require('./rules');

/**
 * eslint-plugin-boundaries 7 settings and `boundaries/dependencies` options, generated from the layer map
 * and the `layer:` tag each package declares in its project.json (the same data the architecture check uses).
 * One element per package (type "<layer>:<folder>"). A package imported the proper way (`@sage/x`) resolves
 * through node_modules, so the plugin sees it as an external module: the layer law is written on the raw
 * import source, and any import that lands on another package's element is a relative/deep path past its entry.
 * @param {string} root workspace root
 */
function boundariesConfig(root) {
  const { map } = loadWorkspaceLayerMap(root);
  const packages = discoverPackages(root, map).filter((p) => p.layer.id !== null && p.name);
  const typeOf = (/** @type {typeof packages[number]} */ p) => `${p.layer.id}:${p.folder}`;
  const elements = packages.map((p) => ({ type: typeOf(p), pattern: p.dir, partialMatch: false }));
  const policies = packages.flatMap((p) => {
    const others = packages.filter((q) => q !== p);
    const notLower = others.filter((q) => q.layer.index >= p.layer.index);
    const from = { element: { type: typeOf(p) } };
    // order matters: when several policies match, the last one decides (and gives the message)
    /** @type {object[]} */
    const out = [];
    if (others.length) {
      out.push({
        from,
        // "x/**" would also match "x" itself in micromatch: these two need at least one segment after the name
        disallow: { dependency: { source: others.flatMap((q) => [`${q.name}/*`, `${q.name}/**/*`]) } },
        message: 'import another package only through its public entry (@sage/x), never a deep path',
      });
      // ...except the subpaths a package exports on purpose (@sage/common/http, @sage/llm-core/testing)
      const subpaths = others.flatMap((q) => publicSpecifiers(q).slice(1));
      if (subpaths.length) out.push({ from, allow: { dependency: { source: subpaths } } });
      out.push({
        from,
        disallow: { to: { element: { types: others.map(typeOf) } } },
        message: 'a path into another package bypasses its public entry: import it as @sage/x',
      });
    }
    if (notLower.length) {
      const lower = map.layers.slice(0, p.layer.index).map((l) => l.id);
      out.push({
        from,
        disallow: { dependency: { source: notLower.flatMap((q) => [q.name, `${q.name}/**`]) } },
        message: `${p.name} is layer ${p.layer.id}: it may import ${lower.length ? `only packages of layers ${lower.join(', ')}` : 'no workspace package'} (tools/sage-dev/layers.json)`,
      });
    }
    return out;
  });
  return {
    settings: {
      // element patterns are relative to the workspace root, whatever directory eslint runs from
      'boundaries/root-path': root,
      'boundaries/elements': elements,
      'boundaries/include': [`${map.packagesDir}/**/*`],
      // the node resolver keeps npm-workspace symlinks (node_modules/@sage/x): those imports count as external
      'import/resolver': { node: { extensions: ['.ts', '.tsx', '.js', '.cjs', '.mjs', '.json'] } },
    },
    dependenciesOptions: { default: 'allow', checkAllOrigins: true, policies },
  };
}

module.exports = { boundariesConfig };
