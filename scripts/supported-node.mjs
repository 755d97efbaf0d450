/**
 * Imported first by the scripts that build or run Recharge (build.mjs, run-compiled.mjs): on a Node that
 * package.json's `engines` does not name (Debian 12's own is 18), it stops with what to install and
 * exit code 78 (EX_CONFIG, which recharge.service does not restart), before a module that needs a newer
 * Node fails with a TypeError (import.meta.dirname) or a SyntaxError (an export Node 18 lacks).
 *
 * Written for old Node: nothing here is newer than Node 14 (ES modules with top-level code, fs, URL).
 */
import { readFileSync } from 'node:fs';

/** Exit code for a setting the administrator must change (sysexits.h); the unit's RestartPreventExitStatus names it. */
const EX_CONFIG = 78;

/**
 * Whether `version` (process.versions.node: 20.17.0) is in `range`, the subset of semver ranges
 * package.json uses: alternatives joined by `||`, each `^X.Y.Z` or `>=X[.Y.Z]`.
 */
export function nodeSatisfies(version, range) {
  const numbers = (text) => text.split('.').map(Number);
  const [major, minor, patch] = numbers(version);
  const atLeast = ([wantMajor, wantMinor = 0, wantPatch = 0]) =>
    major !== wantMajor ? major > wantMajor : minor !== wantMinor ? minor > wantMinor : patch >= wantPatch;
  return range.split('||').some((alternative) => {
    const match = /^\s*(\^|>=)(\d+(?:\.\d+){0,2})\s*$/.exec(alternative);
    if (!match) throw new Error(`package.json engines.node: "${alternative.trim()}" is not of the form ^X.Y.Z or >=X.Y.Z`);
    const wanted = numbers(match[2]);
    return atLeast(wanted) && (match[1] === '>=' || major === wanted[0]);
  });
}

const { engines } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
if (!nodeSatisfies(process.versions.node, engines.node)) {
  console.error(
    `Recharge needs Node.js ${engines.node} (package.json "engines"); ${process.execPath} is Node ${process.versions.node}. ` +
      'Install Node 22 or 24 LTS (docs/deploy/README.md, "Node.js") and run Recharge with it.',
  );
  process.exit(EX_CONFIG);
}
