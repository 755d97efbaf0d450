/**
 * The compiled build: `tsc -p tsconfig.build.json` into dist/ (dist/src/server.js, dist/migrations/…,
 * with source maps), plus the files beside the sources that tsc does not emit (the i18n catalogs).
 * `npm run build` always builds; `npm start` and the other production scripts (scripts/run-compiled.mjs)
 * build only when dist/ is missing or was compiled from other sources than these.
 *
 * Plain JavaScript with Node's own modules only: it runs where tsx is not installed. Building needs
 * TypeScript (a dev dependency), so production builds before `npm prune --omit=dev`.
 */
import './supported-node.mjs';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const projectRoot = path.resolve(import.meta.dirname, '..');
export const distDir = path.join(projectRoot, 'dist');

/**
 * What the build is made from: a change to any of these makes dist/ stale. Not package-lock.json, on
 * purpose: a new TypeScript or type package changes how the sources are checked, not the JavaScript
 * they compile to, and the packages themselves are loaded from node_modules/ at run time, never
 * compiled in. So an `npm install` alone does not cost the next start a build (`npm run build` always builds).
 */
const INPUTS = ['src', 'migrations', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs'];
/** In dist/: the fingerprint of the inputs it was compiled from. Written last, so a dist/ without it is no build. */
const STAMP = 'build.json';

/**
 * Builders take turns on a lock: several portals started at once on a fresh checkout build once, the
 * others wait, then find the build done. The lock is the folder dist.lock holding a file that names its
 * holder; it is made beside (dist.lock-<holder>) and renamed into place, which is atomic and fails while
 * another lock is there, so a lock is never seen without its holder. The holder touches the lock while
 * it builds; one left untouched that long was left by a build that died, and is taken over.
 */
const LOCK_DIR = `${distDir}.lock`;
const LOCK_HOLDER_FILE = 'holder';
const LOCK_TOUCH_MS = 2_000;
const LOCK_STALE_MS = 30_000;
/** This process, as the lock names it: its pid first, so that what a dead one left beside dist/ can be told. */
const holder = `${process.pid}-${randomBytes(6).toString('hex')}`;
/** Each build compiles into a folder of its own beside dist/ (same file system), renamed into place when complete. */
const BUILDING_PREFIX = 'dist.building-';
const REPLACED_PREFIX = 'dist.replaced-';
/** Folders beside dist/ that a process makes for a moment, named with its pid: left behind only when it died. */
const LEFTOVER = /^dist\.(?:building|replaced|lock|lock-removed)-(\d+)(?:-|$)/;

/**
 * Editors' lock and backup files (Emacs' `.#server.ts` is a link to nowhere) are no input: names starting
 * with a dot, and links that lead nowhere, are skipped here and when the assets are copied.
 */
const isInput = (full) => !path.basename(full).startsWith('.') && statSync(full, { throwIfNoEntry: false }) !== undefined;

function filesUnder(relative) {
  const full = path.join(projectRoot, relative);
  if (!statSync(full).isDirectory()) return [relative];
  return readdirSync(full)
    .filter((name) => isInput(path.join(full, name)))
    .flatMap((name) => filesUnder(path.join(relative, name)));
}

/**
 * SHA-256 of every input's path and content: unlike modification times, it survives a copy, an archive
 * or a checkout. Read synchronously: a few milliseconds at start, where reading the same files through
 * the thread pool takes several times as long.
 */
function sourcesFingerprint() {
  const hash = createHash('sha256');
  for (const file of INPUTS.flatMap(filesUnder).sort()) {
    hash.update(`${file.split(path.sep).join('/')}\0`).update(readFileSync(path.join(projectRoot, file))).update('\0');
  }
  return hash.digest('hex');
}

async function builtFingerprint() {
  try {
    return JSON.parse(await readFile(path.join(distDir, STAMP), 'utf8')).sources;
  } catch {
    return null;
  }
}

/**
 * SIGINT or SIGTERM while this process holds the lock (Ctrl-C, a service manager stopping it) stops the
 * build: tsc is stopped, and the build removes its folder and the lock before this process ends, so the
 * next start need not wait for the lock to go stale.
 */
let stopSignal = null;
let compiler = null;
const stopBuilding = (signal) => {
  stopSignal = signal;
  compiler?.kill(signal);
};
const stoppedError = () => Object.assign(new Error(`the build was stopped (${stopSignal})`), { stopped: true });

function run(command, args) {
  return new Promise((resolve, reject) => {
    if (stopSignal) throw stoppedError();
    // tsc writes its errors on standard output: sent to standard error, which is where a CLI command's output is not.
    compiler = spawn(command, args, { cwd: projectRoot, stdio: ['ignore', 2, 2] });
    compiler.on('error', reject);
    compiler.on('exit', (code) => {
      compiler = null;
      if (stopSignal) reject(stoppedError());
      else if (code === 0) resolve();
      else reject(new Error(`${path.basename(args[0] ?? command)} failed (exit code ${code})`));
    });
  });
}

function typescriptCompiler() {
  try {
    return createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    throw new Error('TypeScript is not installed.');
  }
}

/** Copies what tsc does not emit: every file of src/ and migrations/ that is not TypeScript. */
async function copyAssets(outDir) {
  for (const folder of ['src', 'migrations']) {
    await cp(path.join(projectRoot, folder), path.join(outDir, folder), { recursive: true, filter: (source) => isInput(source) && (statSync(source).isDirectory() || !source.endsWith('.ts')) });
  }
}

/** Who holds the lock and when they last touched it; null when there is none. The name is read first: see removeLock. */
async function lockHolder() {
  try {
    const name = await readFile(path.join(LOCK_DIR, LOCK_HOLDER_FILE), 'utf8');
    return { name, touched: (await stat(LOCK_DIR)).mtimeMs };
  } catch (error) {
    if (error.code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Removes the lock if `name` holds it. Two waiters may both find the same lock stale; the first removes
 * it and puts its own in place before the second acts. So the lock is first moved aside (atomic: of two
 * processes moving it, one gets it), and a lock that turns out to be another's is put back. Only when a
 * third process places a lock in that very instant does the put-back fail: then two build, each into
 * its own folder, and dist/ is still whole.
 */
export async function removeLock(name) {
  const aside = `${LOCK_DIR}-removed-${holder}`;
  try {
    await rename(LOCK_DIR, aside);
  } catch (error) {
    if (error.code === 'ENOENT') return;
    throw error;
  }
  const moved = await readFile(path.join(aside, LOCK_HOLDER_FILE), 'utf8').catch(() => null);
  if (moved !== name) await rename(aside, LOCK_DIR).catch(() => {});
  await rm(aside, { recursive: true, force: true });
}

async function takeLock() {
  const mine = `${LOCK_DIR}-${holder}`;
  await mkdir(mine);
  try {
    await writeFile(path.join(mine, LOCK_HOLDER_FILE), holder);
    let told = false;
    for (;;) {
      try {
        // Onto an existing lock (never empty: it holds its holder's name), rename fails.
        await rename(mine, LOCK_DIR);
        return;
      } catch (error) {
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      }
      const current = await lockHolder();
      if (current && Date.now() - current.touched > LOCK_STALE_MS) {
        await removeLock(current.name);
        continue;
      }
      if (!told) console.error('Waiting for another build of Recharge to finish…');
      told = true;
      await sleep(200);
    }
  } catch (error) {
    await rm(mine, { recursive: true, force: true });
    throw error;
  }
}

async function holdingLock(work) {
  await takeLock();
  process.on('SIGINT', stopBuilding).on('SIGTERM', stopBuilding);
  const toucher = setInterval(() => {
    const now = new Date();
    utimes(LOCK_DIR, now, now).catch(() => {});
  }, LOCK_TOUCH_MS);
  try {
    const done = await work();
    if (stopSignal) throw stoppedError();
    return done;
  } finally {
    clearInterval(toucher);
    // Not a lock another process took over meanwhile (this one stopped touching it for that long).
    await removeLock(holder);
    process.off('SIGINT', stopBuilding).off('SIGTERM', stopBuilding);
  }
}

function isRunning(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return error.code === 'EPERM';
  }
}

/** Compiles into a folder of its own, then puts it in dist/'s place. Call holding the lock. */
async function compile(fingerprint) {
  const tsc = typescriptCompiler();
  // Left by a process that died; another one's folders stay, even if it builds beside this one after a takeover.
  for (const name of await readdir(projectRoot)) {
    const pid = Number(LEFTOVER.exec(name)?.[1]);
    if (pid && !isRunning(pid)) await rm(path.join(projectRoot, name), { recursive: true, force: true });
  }
  const outDir = path.join(projectRoot, `${BUILDING_PREFIX}${process.pid}`);
  const replaced = path.join(projectRoot, `${REPLACED_PREFIX}${process.pid}`);
  try {
    await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir]);
    await copyAssets(outDir);
    await writeFile(path.join(outDir, STAMP), `${JSON.stringify({ sources: fingerprint }, null, 2)}\n`);
    await rename(distDir, replaced).catch((error) => {
      if (error.code !== 'ENOENT') throw error;
    });
    await rename(outDir, distDir);
  } finally {
    await rm(outDir, { recursive: true, force: true });
    await rm(replaced, { recursive: true, force: true });
  }
}

/** `npm run build`: compiles whatever dist/ holds. */
async function build() {
  await holdingLock(async () => {
    console.error('Compiling Recharge into dist/…');
    await compile(sourcesFingerprint());
  });
}

/** Compiles unless dist/ was compiled from these very sources; returns whether it compiled. */
export async function buildIfStale() {
  const fingerprint = sourcesFingerprint();
  if ((await builtFingerprint()) === fingerprint) return false;
  return holdingLock(async () => {
    // Another process may have built while this one waited for the lock.
    if ((await builtFingerprint()) === fingerprint) return false;
    console.error('Compiling Recharge into dist/ (missing or older than the sources)…');
    await compile(fingerprint);
    return true;
  });
}

/** `node scripts/build.mjs` compiles; with `--if-stale`, only when dist/ is missing or stale (the tests use it). */
if (import.meta.filename === process.argv[1]) {
  (process.argv[2] === '--if-stale' ? buildIfStale() : build()).catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
