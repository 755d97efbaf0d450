import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '../src/config.js';
import { benchDatabase } from './database.js';
import { buildIfStale, freePort, productionEnvironment } from './processes.js';

/** How each way of starting the portal is spawned, from the project's folder. */
const TARGETS = [
  { name: 'tsx src/server.ts (npm start before the build)', command: path.join(projectRoot, 'node_modules/.bin/tsx'), args: ['src/server.ts'] },
  { name: 'compiled (npm start now, without npm)', command: process.execPath, args: ['--enable-source-maps', 'scripts/run-compiled.mjs', 'src/server.ts'] },
  // What the launcher's check of the build and the source maps cost, by difference.
  { name: 'node dist/src/server.js (no check of the build, no source maps)', command: process.execPath, args: ['dist/src/server.js'] },
];

/** Start-up work after the first answer (the first reconciler sweep comes 2 s after start) is over by then. */
const SETTLE_MS = 3_000;
const POLL_MS = 5;
const READY_TIMEOUT_MS = 60_000;

const runs = Number(process.env.BENCH_RUNS ?? 10);
if (!Number.isInteger(runs) || runs < 1) throw new Error('BENCH_RUNS must be a whole number from 1');

/** Production as a site runs it: real PayPal settings (never called at start), no demo data, mail kept. */
function siteEnvironment(port: number, databaseUrl: string, workDir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...productionEnvironment(port, databaseUrl, workDir),
    PAYPAL_ENV: 'sandbox',
    PAYPAL_CLIENT_ID: 'bench-client',
    PAYPAL_CLIENT_SECRET: 'bench-secret',
    PAYPAL_WEBHOOK_ID: 'BENCH-WEBHOOK',
  };
}

/** Resident memory of a process and all its descendants (tsx runs the portal in a child of its own), in MiB. */
function treeRssMiB(pid: number): number {
  const rssKiB = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  return rssKiB / 1024 + children.reduce((sum, child) => sum + treeRssMiB(child), 0);
}

async function firstAnswer(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the portal exited with code ${child.exitCode}:\n${output()}`);
    const ok = await fetch(url).then(
      async (response) => (await response.arrayBuffer(), response.status === 200),
      () => false,
    );
    if (ok) return;
    await sleep(POLL_MS);
  }
  throw new Error(`no 200 from ${url} within ${READY_TIMEOUT_MS / 1000} s:\n${output()}`);
}

/** One cold start: spawn → first 200 on /healthz (ms), then the resident memory once start-up is over (MiB). */
async function measureStart(target: (typeof TARGETS)[number], databaseUrl: string, workDir: string) {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(target.command, target.args, { cwd: projectRoot, env: siteEnvironment(port, databaseUrl, workDir), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-10_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = once(child, 'exit');
  try {
    await firstAnswer(`http://127.0.0.1:${port}/healthz`, child, () => output);
    const coldStartMs = performance.now() - started;
    await sleep(SETTLE_MS);
    return { coldStartMs, rssMiB: treeRssMiB(child.pid!) };
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/**
 * `npm run bench:start-up [-- <part of a target's name>]`: how long each way of starting the portal
 * takes from spawning the process to the first 200 on /healthz, on a database already migrated, and its
 * resident memory (RSS) once started, in production mode (docs/benchmarks.md, "Start-up"). Targets run
 * in turn, BENCH_RUNS times each (10), after one start each that is not counted (it migrates the
 * database and warms the file cache); medians, with the fastest and slowest. BENCH_DATABASE_URL: on a
 * new PostgreSQL database instead of an SQLite file. The compiled build is brought up to date first.
 */
async function main(): Promise<void> {
  const filter = process.argv[2] ?? '';
  const targets = TARGETS.filter((target) => target.name.includes(filter));
  if (targets.length === 0) throw new Error(`no target's name contains "${filter}"`);
  const workDir = await mkdtemp(path.join(tmpdir(), 'recharge-bench-start-'));
  const database = await benchDatabase(workDir, process.env.BENCH_DATABASE_URL);
  try {
    await buildIfStale();
    for (const target of targets) await measureStart(target, database.url, workDir);

    const results = new Map(targets.map((target) => [target, { coldStartMs: [] as number[], rssMiB: [] as number[] }]));
    for (let run = 0; run < runs; run += 1) {
      for (const target of targets) {
        const { coldStartMs, rssMiB } = await measureStart(target, database.url, workDir);
        results.get(target)!.coldStartMs.push(coldStartMs);
        results.get(target)!.rssMiB.push(rssMiB);
      }
    }

    console.log(`\nStart-up: ${runs} runs a target, NODE_ENV=production, ${database.dialect}, Node ${process.version}\n`);
    console.log('| Target | cold start to first 200, ms: median (min–max) | RSS after start, MiB: median (min–max) |');
    console.log('| --- | ---: | ---: |');
    const spread = (values: number[], digits: number) => `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
    for (const [target, { coldStartMs, rssMiB }] of results) console.log(`| ${target.name} | ${spread(coldStartMs, 0)} | ${spread(rssMiB, 1)} |`);
  } finally {
    await database.cleanup();
    await rm(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
