import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '../src/config.js';

export interface ServerProcess {
  baseUrl: string;
  /** CPU time the process has used so far (user + system), in ms; null where /proc is missing (not Linux). */
  cpuMs(): number | null;
  /** Resident memory now (VmRSS) and at its highest so far (VmHWM), in MiB; null where /proc is missing. */
  memoryMiB(): { resident: number; peak: number } | null;
  /** SIGTERM, then SIGKILL if it has not exited after a while; safe to call twice. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;
/** Linux's USER_HZ, the unit of /proc/<pid>/stat times: 100 on every mainstream architecture. */
const CLOCK_TICKS_PER_SECOND = 100;
const STOP_TIMEOUT_MS = 15_000;

/**
 * Ports the benchmark's servers take: below the kernel's ephemeral range (32768 and up), so a test
 * elsewhere on the machine that listens on port 0 cannot take one between this check and the
 * server's own listen, and then answer its /healthz in its place.
 */
const PORTS = { first: 3400, count: 100 };

const isFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/**
 * What every measured portal runs with: production on this machine's loopback, over plain http (the
 * session cookie is then not Secure, so the benchmark's clients can log in), mail kept, quiet logs.
 */
export function productionEnvironment(port: number, databaseUrl: string, workDir: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: databaseUrl,
    SESSION_SECRET: randomBytes(32).toString('hex'),
    MAIL_DELIVERY: 'keep',
    LOG_LEVEL: 'warn',
    UPLOADS_DIR: path.join(workDir, 'uploads'),
  };
}

/** The ports of a measured portal (`npm run bench`, `npm run lighthouse`): its own, its /metrics listener's, the PayPal simulator's. */
export interface PortalPorts {
  portal: number;
  metrics: number;
  simulator: number;
}

/** The portal as the benchmarks measure it: production, the demo data, PayPal's simulator in a process of its own. */
export function portalEnvironment(ports: PortalPorts, databaseUrl: string, workDir: string): Record<string, string> {
  return {
    ...productionEnvironment(ports.portal, databaseUrl, workDir),
    DEMO_DATA: 'true',
    ALLOW_DEMO_IN_PRODUCTION: 'true',
    PAYPAL_ENV: 'simulator',
    ALLOW_SIMULATED_PAYMENTS_IN_PRODUCTION: 'true',
    // The simulator runs in a process of its own (`npm run paypal-sim`): the portal's CPU time is its own.
    PAYPAL_API_BASE_URL: `http://127.0.0.1:${ports.simulator}`,
    // /metrics on a listener of its own, on the loopback: the statements each target costs are read there.
    METRICS_PORT: String(ports.metrics),
    // Each benchmark buyer pays several times a second, far past any person: the per-person limits
    // are raised so that the top-up flow measures the work of a payment, not its refusal.
    PAYPAL_ORDERS_PER_PERSON_PER_MINUTE: '1000',
    OPEN_ORDERS_PER_PERSON: '1000',
  };
}

/** The PayPal simulator in a process of its own (`npm run paypal-sim`), its webhooks sent to the portal. */
export function simulatorServer(ports: PortalPorts): Parameters<typeof startServer>[0] {
  return {
    entry: 'src/payments/paypal/simulator/main.ts',
    env: { NODE_ENV: 'production', PAYPAL_SIM_PORT: String(ports.simulator), PAYPAL_SIM_WEBHOOK_URL: `http://127.0.0.1:${ports.portal}/webhooks/paypal` },
    port: ports.simulator,
    readyPath: '/',
    anyStatus: true,
    compiled: true,
  };
}

/**
 * `count` different ports of the benchmark's range nobody listens on: the portal needs its addresses
 * before it starts (PUBLIC_URL, PayPal's return URL, the simulator's webhooks, its metrics listener).
 */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  const start = Math.floor(Math.random() * PORTS.count);
  for (let step = 0; step < PORTS.count && ports.length < count; step += 1) {
    const port = PORTS.first + ((start + step) % PORTS.count);
    if (await isFree(port)) ports.push(port);
  }
  if (ports.length < count) throw new Error(`fewer than ${count} free ports in ${PORTS.first}–${PORTS.first + PORTS.count - 1}`);
  return ports;
}

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/**
 * Brings the compiled build up to date (`scripts/build.mjs --if-stale`), so that the servers started
 * `compiled` compile nothing: their time to be ready is their start, not a build.
 */
export async function buildIfStale(): Promise<void> {
  const build = spawn(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: projectRoot, stdio: 'inherit' });
  const [code] = await once(build, 'exit');
  if (code !== 0) throw new Error('the build failed');
}

/**
 * Starts a TypeScript entry of the project in its own Node process, through tsx, or `compiled` as
 * `npm start` runs it (scripts/run-compiled.mjs: the compiled build, compiled first if it is stale),
 * with only the environment given, and waits until `readyPath` answers 200 (any answer with
 * `anyStatus`: a server with no page of its own to ask). Its output is kept and shown if it fails to
 * start. `nodeOptions` go before the entry (Node refuses --cpu-prof in NODE_OPTIONS).
 */
export async function startServer({
  entry,
  env,
  port,
  readyPath,
  anyStatus = false,
  nodeOptions = [],
  compiled = false,
}: {
  entry: string;
  env: Record<string, string>;
  port: number;
  readyPath: string;
  anyStatus?: boolean;
  nodeOptions?: string[];
  compiled?: boolean;
}): Promise<ServerProcess> {
  const run = compiled ? ['--enable-source-maps', path.join(projectRoot, 'scripts/run-compiled.mjs'), entry] : ['--import', 'tsx', path.join(projectRoot, entry)];
  const child = spawn(process.execPath, [...nodeOptions, ...run], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = once(child, 'exit');
  const baseUrl = `http://127.0.0.1:${port}`;

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(killer);
  };

  const cpuMs = () => {
    try {
      // The fields after the command name (in parentheses, and it may hold any character): utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
    } catch {
      return null;
    }
  };

  const memoryMiB = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const mebibytes = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? NaN) / 1024;
      return { resident: mebibytes('VmRSS'), peak: mebibytes('VmHWM') };
    } catch {
      return null;
    }
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${entry} exited with code ${child.exitCode} before it was ready:\n${output}`);
    const ready = await fetch(`${baseUrl}${readyPath}`).then(
      async (response) => (await response.arrayBuffer(), anyStatus || response.ok),
      () => false,
    );
    if (ready) return { baseUrl, cpuMs, memoryMiB, stop };
    await sleep(200);
  }
  await stop();
  throw new Error(`${entry} did not answer ${readyPath} within ${READY_TIMEOUT_MS / 1000} s:\n${output}`);
}
