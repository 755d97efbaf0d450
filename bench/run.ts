import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { DEMO_API_KEY, DEMO_LOGINS } from '../src/services/demo/demo-logins.js';
import { expectStatus, logIn } from './browser.js';
import { benchDatabase } from './database.js';
import { checkIntegrity } from './integrity.js';
import { measureRequests, type LoadSettings, type MeasuredServer, type Measurement } from './measurement.js';
import { addBenchPeople, BENCH_PASSWORD, HISTORY_USERNAME, printerUsername } from './prepare.js';
import { buildIfStale, freePort, freePorts, portalEnvironment, simulatorServer, startServer, type ServerProcess } from './processes.js';
import { formatComparison, formatTable } from './report.js';
import { readStatementCount } from './statement-count.js';
import { measureTopUps, type TopUpMeasurement } from './topup-flow.js';

function whole(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number from 1`);
  return value;
}

const seconds = whole('BENCH_SECONDS', 10);
const settings: LoadSettings = { seconds, connections: whole('BENCH_CONNECTIONS', 10), warmUpSeconds: Math.max(1, Math.round(seconds / 5)) };
const historyEntries = whole('BENCH_HISTORY_ENTRIES', 100_000);
/** One buyer and one printer account per connection: no two connections pay as, or debit, the same person. */
const people = { buyers: settings.connections, printers: settings.connections, historyEntries };

type MeasuredProcess = ServerProcess & MeasuredServer;

interface Results {
  baseline: Measurement;
  measurements: Measurement[];
  account: Measurement;
  longAccount: Measurement;
  topUps: TopUpMeasurement;
  debits: { sent: number; answeredOk: number };
}

/** `username` logged in through the form, and the headers that send their session with a request. */
async function signedIn(baseUrl: string, username: string, password: string) {
  const { browser } = await logIn(baseUrl, username, password);
  return { browser, headers: { cookie: browser.cookieHeader(`${baseUrl}/account`), 'accept-language': 'en' } };
}

async function measureAll(portal: MeasuredProcess, simulator: MeasuredProcess, startBaseline: (bytes: number) => Promise<ServerProcess>): Promise<Results> {
  const student = DEMO_LOGINS.find((login) => login.role === 'user')!;
  const accountUrl = `${portal.baseUrl}/account`;
  const { browser, headers: studentHeaders } = await signedIn(portal.baseUrl, student.username, student.password);
  const { headers: historyHeaders } = await signedIn(portal.baseUrl, HISTORY_USERNAME, BENCH_PASSWORD);
  const accountPage = expectStatus(await browser.get(accountUrl), 200);

  const baselineServer = await startBaseline(accountPage.bytes);
  let baseline: Measurement;
  try {
    const measuredBaseline = { ...baselineServer, statementCount: async () => null };
    baseline = await measureRequests('baseline: bare Express + EJS page', measuredBaseline, { url: `${baselineServer.baseUrl}/` }, settings);
  } finally {
    await baselineServer.stop();
  }

  let debits = 0;
  const account = await measureRequests('GET /account (signed in)', portal, { url: accountUrl, headers: studentHeaders }, settings);
  const longAccount = await measureRequests(`GET /account (${entriesLabel(historyEntries)} entries)`, portal, { url: accountUrl, headers: historyHeaders }, settings);
  const topUpPage = await measureRequests('GET /topup (signed in)', portal, { url: `${portal.baseUrl}/topup`, headers: studentHeaders }, settings);
  const health = await measureRequests('GET /healthz', portal, { url: `${portal.baseUrl}/healthz` }, settings);
  const debit = await measureRequests(
    `POST /api/v1/…/debits (${people.printers} accounts)`,
    portal,
    {
      url: `${portal.baseUrl}/api/v1/accounts/${printerUsername(0)}/debits`,
      method: 'POST',
      headers: { authorization: `Bearer ${DEMO_API_KEY}`, 'content-type': 'application/json' },
      // Each debit is a new job: its own Idempotency-Key and reference, one page in black and white,
      // on the printer accounts in turn, so that requests in flight at once rarely wait for the same row.
      requests: [
        {
          setupRequest: (request) => {
            const index = debits;
            debits += 1;
            const reference = `bench-${index + 1}`;
            return {
              ...request,
              path: `/api/v1/accounts/${printerUsername(index % people.printers)}/debits`,
              headers: { ...request.headers, 'idempotency-key': reference },
              body: JSON.stringify({ category: 'print', units: 0.05, pages: 1, reference }),
            };
          },
        },
      ],
    },
    settings,
  );
  const topUps = await measureTopUps(portal.baseUrl, portal, simulator, settings);
  return {
    baseline,
    measurements: [baseline, account, longAccount, topUpPage, health, debit, topUps],
    account,
    longAccount,
    topUps,
    debits: { sent: debits, answeredOk: Math.max(0, debit.completed - debit.failures) },
  };
}

const entriesLabel = (entries: number) => (entries % 1000 === 0 ? `${entries / 1000}k` : String(entries));

/**
 * `npm run bench`: the portal in production mode in a process of its own, the PayPal simulator in
 * another, on a new database with the demo data and people of the benchmark's own (one with a long
 * history), measured with autocannon from this process, beside a bare Express + EJS page measured the
 * same way (docs/benchmarks.md). Prints a table, the long history's page against the demo student's,
 * the portal's memory after the load, and an integrity check; exits 1 when a target answered anything
 * but 2xx or the integrity check found a disagreement (a broken benchmark, or money not exactly once),
 * never because of speed. BENCH_SECONDS (10 per target), BENCH_CONNECTIONS (10), BENCH_HISTORY_ENTRIES
 * (100000), BENCH_DATABASE_URL (a PostgreSQL server to use instead of an SQLite file),
 * BENCH_CPU_PROFILE_DIR (where the portal writes a V8 CPU profile when it stops).
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
  // Stopped from outside (Ctrl-C, a CI timeout): no portal, simulator or database is left behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanUp().finally(() => process.exit(1)));

  const start = async (options: Parameters<typeof startServer>[0]) => {
    const server = await startServer(options);
    servers.add(server);
    return server;
  };
  try {
    const { historySeconds } = await addBenchPeople(database.url, people);
    await buildIfStale();
    const [portalPort, metricsPort, simulatorPort] = (await freePorts(3)) as [number, number, number];
    const ports = { portal: portalPort, metrics: metricsPort, simulator: simulatorPort };
    const simulator = await start(simulatorServer(ports));
    const environment = portalEnvironment(ports, database.url, workDir);
    const profileDir = process.env.BENCH_CPU_PROFILE_DIR;
    const portal = await start({
      entry: 'src/server.ts',
      env: environment,
      port: ports.portal,
      readyPath: '/healthz',
      nodeOptions: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : [],
      compiled: true,
    });
    const startBaseline = async (bytes: number) => {
      const baselinePort = await freePort();
      return start({ entry: 'bench/baseline/server.ts', env: { NODE_ENV: 'production', PORT: String(baselinePort), BASELINE_BYTES: String(bytes) }, port: baselinePort, readyPath: '/' });
    };
    const results = await measureAll(
      { ...portal, statementCount: () => readStatementCount(`http://127.0.0.1:${ports.metrics}/metrics`) },
      { ...simulator, statementCount: async () => null },
      startBaseline,
    );
    const memory = portal.memoryMiB();
    // Stopped before the check: what the answers set going (mails, webhooks) is finished by then.
    await portal.stop();
    await simulator.stop();
    const integrity = await checkIntegrity({
      databaseUrl: database.url,
      buyers: people.buyers,
      printers: people.printers,
      flows: results.topUps.allFlows,
      debits: results.debits,
    });

    console.log(
      `\nRecharge benchmark: ${settings.seconds} s per target after ${settings.warmUpSeconds} s of warm-up, ${settings.connections} connections, ` +
        `NODE_ENV=production, ${database.dialect}, Node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'})\n`,
    );
    console.log(formatTable(results.measurements, results.baseline));
    console.log(
      '\nRate ÷ base: the rate over the baseline\'s (1 = as fast). p50 ÷ base: the median latency over the baseline\'s. ' +
        'CPU ms/answer: CPU time of the answering process per answer (per flow). Statements/answer: SQL statements it sent per answer (per flow), from its /metrics.\n',
    );
    console.log(`${formatComparison(results.longAccount, results.account)} (the aim: within 10 %)`);
    const simulatorCpu = results.topUps.simulatorCpuMsPerFlow;
    console.log(`Top-up flow: the PayPal simulator, in its own process, used ${simulatorCpu === null ? '—' : simulatorCpu.toFixed(2)} ms of CPU per flow besides the portal's.`);
    console.log(memory ? `Portal memory after the load: ${memory.resident.toFixed(1)} MiB resident (VmRSS), ${memory.peak.toFixed(1)} MiB at the most (VmHWM).` : 'Portal memory after the load: — (no /proc).');
    console.log(`History: ${historyEntries} ledger entries on ${HISTORY_USERNAME}'s account over two years, written in ${historySeconds.toFixed(1)} s.`);
    console.log(`Integrity:\n${integrity.lines.map((line) => `  ${line}`).join('\n')}`);

    const failed = results.measurements.filter((measurement) => measurement.failures > 0);
    if (failed.length > 0) console.error(`\nFailed: ${failed.map((measurement) => measurement.name).join(', ')} answered errors (see the Failures column).`);
    for (const problem of integrity.problems) console.error(`\nIntegrity check failed: ${problem}`);
    return failed.length > 0 || integrity.problems.length > 0 ? 1 : 0;
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
