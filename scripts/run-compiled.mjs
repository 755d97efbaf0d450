/**
 * `node scripts/run-compiled.mjs src/server.ts [arguments…]`: runs the compiled form of a source entry
 * (dist/src/server.js) in this very process, with plain Node, after compiling it if dist/ is missing or
 * was compiled from other sources (scripts/build.mjs). `npm start`, the CLI scripts and
 * `npm run paypal-sim` go through it, so a fresh clone still starts with `npm install && npm start`,
 * and production, installed without the development packages, loads no TypeScript toolchain.
 * The same process, not a child: signals (SIGTERM from npm or a service manager) reach the portal itself.
 */
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
  // Where the development packages were pruned, the build cannot run (or lacks the type definitions).
  if (!error.stopped) console.error('In production, build before pruning the development packages: `npm ci && npm run build && npm prune --omit=dev`.');
  process.exit(1);
}
// The entry reads its arguments from process.argv as if Node had started it directly.
process.argv = [process.argv[0], compiled, ...args];
await import(pathToFileURL(compiled).href);
