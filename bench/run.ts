import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { DEMO_API_KEY, DEMO_LOGINS } from '../src/services/demo/demo-logins.js';
import { expectStatus, logIn } from './browser.js';
import { benchDatabase } from './database.js';
import { measureRequests, type LoadSettings, type Measurement } from './measurement.js';
import { addBenchPeople, PRINTER_USERNAME } from './prepare.js';
import { freePort, productionEnvironment, startServer, type ServerProcess } from './processes.js';
import { formatTable } from './report.js';
import { measureTopUps } from './topup-flow.js';

function whole(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number from 1`);
  return value;
}

const seconds = whole('BENCH_SECONDS', 10);
const settings: LoadSettings = { seconds, connections: whole('BENCH_CONNECTIONS', 10), warmUpSeconds: Math.max(1, Math.round(seconds / 5)) };

function portalEnvironment(port: number, databaseUrl: string, workDir: string): Record<string, string> {
  return {
    ...productionEnvironment(port, databaseUrl, workDir),
    DEMO_DATA: 'true',
    ALLOW_DEMO_IN_PRODUCTION: 'true',
    PAYPAL_ENV: 'simulator',
    ALLOW_SIMULATED_PAYMENTS_IN_PRODUCTION: 'true',
    PAYPAL_SIM_PORT: '0',
    // Each benchmark buyer pays several times a second, far past any person: the per-person limits
    // are raised so that the top-up flow measures the work of a payment, not its refusal.
    PAYPAL_ORDERS_PER_PERSON_PER_MINUTE: '1000',
    OPEN_ORDERS_PER_PERSON: '1000',
  };
}

async function measureAll(portal: ServerProcess, startBaseline: (bytes: number) => Promise<ServerProcess>): Promise<{ baseline: Measurement; measurements: Measurement[] }> {
  const student = DEMO_LOGINS.find((login) => login.role === 'user')!;
  const { browser } = await logIn(portal.baseUrl, student.username, student.password);
  const accountUrl = `${portal.baseUrl}/account`;
  const topUpUrl = `${portal.baseUrl}/topup`;
  const accountPage = expectStatus(await browser.get(accountUrl), 200);
  const signedIn = { cookie: browser.cookieHeader(accountUrl), 'accept-language': 'en' };

  const baselineServer = await startBaseline(accountPage.bytes);
  let baseline: Measurement;
  try {
    baseline = await measureRequests('baseline: bare Express + EJS page', baselineServer, { url: `${baselineServer.baseUrl}/` }, settings);
  } finally {
    await baselineServer.stop();
  }

  let debits = 0;
  const measurements = [
    baseline,
    await measureRequests('GET /account (signed in)', portal, { url: accountUrl, headers: signedIn }, settings),
    await measureRequests('GET /topup (signed in)', portal, { url: topUpUrl, headers: signedIn }, settings),
    await measureRequests('GET /healthz', portal, { url: `${portal.baseUrl}/healthz` }, settings),
    await measureRequests(
      'POST /api/v1/…/debits',
      portal,
      {
        url: `${portal.baseUrl}/api/v1/accounts/${PRINTER_USERNAME}/debits`,
        method: 'POST',
        headers: { authorization: `Bearer ${DEMO_API_KEY}`, 'content-type': 'application/json' },
        // Each debit is a new job: its own Idempotency-Key and reference, one page in black and white.
        requests: [
          {
            setupRequest: (request) => {
              const reference = `bench-${(debits += 1)}`;
              return { ...request, headers: { ...request.headers, 'idempotency-key': reference }, body: JSON.stringify({ category: 'print', units: 0.05, pages: 1, reference }) };
            },
          },
        ],
      },
      settings,
    ),
    await measureTopUps(portal.baseUrl, portal, settings),
  ];
  return { baseline, measurements };
}

/**
 * `npm run bench`: the portal in production mode in a process of its own, on a new database with the
 * demo data, measured with autocannon from this process, beside a bare Express + EJS page measured the
 * same way (docs/benchmarks.md). Prints a table; exits 1 when a target answered anything but 2xx (a
 * broken benchmark), never because of speed. BENCH_SECONDS (10 per target), BENCH_CONNECTIONS (10),
 * BENCH_DATABASE_URL (a PostgreSQL server to use instead of an SQLite file), BENCH_CPU_PROFILE_DIR
 * (where the portal writes a V8 CPU profile when it stops).
 */
async function main(): Promise<number> {
  const workDir = await mkdtemp(path.join(tmpdir(), 'recharge-bench-'));
  const database = await benchDatabase(workDir, process.env.BENCH_DATABASE_URL);
  const servers = new Set<ServerProcess>();
  const cleanUp = async () => {
    await Promise.all([...servers].map((server) => server.stop()));
    await database.cleanup();
    await rm(workDir, { recursive: true, force: true });
  };
  // Stopped from outside (Ctrl-C, a CI timeout): no portal or database is left behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanUp().finally(() => process.exit(1)));

  const start = async (entry: string, env: Record<string, string>, port: number, readyPath: string, nodeOptions: string[] = [], compiled = false) => {
    const server = await startServer({ entry, env, port, readyPath, nodeOptions, compiled });
    servers.add(server);
    return server;
  };
  try {
    await addBenchPeople(database.url, settings.connections);
    const port = await freePort();
    const profileDir = process.env.BENCH_CPU_PROFILE_DIR;
    const portal = await start('src/server.ts', portalEnvironment(port, database.url, workDir), port, '/healthz', profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : [], true);
    const startBaseline = async (bytes: number) => {
      const baselinePort = await freePort();
      return start('bench/baseline/server.ts', { NODE_ENV: 'production', PORT: String(baselinePort), BASELINE_BYTES: String(bytes) }, baselinePort, '/');
    };
    const { baseline, measurements } = await measureAll(portal, startBaseline);

    console.log(
      `\nRecharge benchmark: ${settings.seconds} s per target after ${settings.warmUpSeconds} s of warm-up, ${settings.connections} connections, ` +
        `NODE_ENV=production, ${database.dialect}, Node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'})\n`,
    );
    console.log(formatTable(measurements, baseline));
    console.log(
      '\nRate ÷ base: the rate over the baseline\'s (1 = as fast). p50 ÷ base: the median latency over the baseline\'s. ' +
        'CPU ms/answer: CPU time of the answering process per answer (per flow).',
    );
    const failed = measurements.filter((measurement) => measurement.failures > 0);
    if (failed.length > 0) {
      console.error(`\nFailed: ${failed.map((measurement) => measurement.name).join(', ')} answered errors (see the Failures column).`);
      return 1;
    }
    return 0;
  } finally {
    await cleanUp();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
