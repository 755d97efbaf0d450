/**
 * `node scripts/run-compiled.mjs src/server.ts [arguments…]`: runs the compiled form of a source entry
 * (dist/src/server.js) in this very process, with plain Node, after compiling it if dist/ is missing or
 * was compiled from other sources (scripts/build.mjs). `npm start`, the CLI scripts and
 * `npm run paypal-sim` go through it, so a fresh clone still starts with `npm install && npm start`,
 * and production, installed without the development packages, loads no TypeScript toolchain.
 * The same process, not a child: signals (SIGTERM from npm or a service manager) reach the portal itself.
 * docs/deploy/recharge.service runs it too: on a Node older than package.json's `engines`, this is where
 * it stops with what to install (supported-node.mjs, first); the compiled code would fail before any
 * of its own lines ran (a missing export is an error while modules are linked).
 */
import './supported-node.mjs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildIfStale, distDir } from './build.mjs';

const [entry, ...args] = process.argv.slice(2);
if (!entry || !/^src\/.+\.ts$/.test(entry)) {
  console.error('Usage: node scripts/run-compiled.mjs src/<entry>.ts [arguments…]');
  process.exit(2);
}
const compiled = path.join(distDir, entry.replace(/\.ts$/, '.js'));

try {
  await buildIfStale();
} catch (error) {
  console.error(`Recharge could not be compiled (dist/ is missing or was compiled from other sources): ${error.message}`);
  if (['EROFS', 'EACCES', 'EPERM'].includes(error.code)) {
    // A release this user may not write (the systemd unit's ProtectSystem=strict, another owner, a read-only
    // mount): only its owner can mend it, so exit code 78 (EX_CONFIG), which the unit does not restart.
    console.error('This user may not write the checkout, so the build must be made beforehand: run `npm run build` as its owner (after each update), then start again.');
    process.exit(78);
  }
  // Where the development packages were pruned, the build cannot run (or lacks the type definitions).
  if (!error.stopped) console.error('In production, build before pruning the development packages: `npm ci && npm run build && npm prune --omit=dev`.');
  process.exit(1);
}
// The entry reads its arguments from process.argv as if Node had started it directly.
process.argv = [process.argv[0], compiled, ...args];
await import(pathToFileURL(compiled).href);
