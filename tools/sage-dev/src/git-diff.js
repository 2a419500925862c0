// @ts-check
'use strict';
// Which files changed, for --changed-only (vs HEAD) and --diff REF. Untracked files count as changed.
const { execFileSync } = require('node:child_process');

class GitError extends Error {}

/** @param {string} cwd @param {string[]} args */
function git(cwd, args) {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = /** @type {{ stderr?: string, message: string }} */ (e);
    throw new GitError(`git ${args.join(' ')} failed: ${(err.stderr || err.message).trim()}`);
  }
}

/** @param {string} out */
const lines = (out) => out.split('\0').map((s) => s.trim()).filter(Boolean);

/**
 * Files changed against `ref` (working tree vs ref, staged or not) plus untracked files,
 * relative to `root` with forward slashes.
 * @param {string} root
 * @param {string} ref
 * @returns {Set<string>}
 */
function changedFiles(root, ref) {
  git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  const changed = lines(git(root, ['diff', '--name-only', '--relative', '-z', ref, '--']));
  const untracked = lines(git(root, ['ls-files', '--others', '--exclude-standard', '-z']));
  return new Set([...changed, ...untracked].map((f) => f.split('\\').join('/')));
}

module.exports = { changedFiles, GitError };
