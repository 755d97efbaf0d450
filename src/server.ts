import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createApp } from './app.js';
import { ConfigError, configWarnings, loadConfig, projectRoot, type Config } from './config.js';
import { runHoldingLock, runIfLockFree } from './db/advisory-lock.js';
import { createDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { systemClock } from './system-clock.js';
import { demoBannerLines } from './services/demo/demo-banner.js';
import type { DemoData } from './services/demo/demo.js';
import { demoCredentialsRefusal } from './services/demo/demo-credentials.js';
import { createArgon2Hasher } from './domain/people/passwords.js';
import { createUserManagement } from './services/people/user-management.js';
import { createLogger } from './logger.js';
import { createGatewayFromConfig } from './payments/paypal/from-config.js';
import type { PayPalSimulator } from './payments/paypal/simulator/index.js';
import { createShutdown } from './shutdown.js';
import { createIdentityRegistry, demoProviderConfig } from './identity-setup.js';
import { createTranslations } from './i18n/index.js';
import { createCreditDestinationFromConfig } from './credit-destination-setup.js';
import { recordCreditDestination } from './services/credit-transfers/destination-setup.js';
import { createRetentionJob } from './services/retention/retention-job.js';
import { retentionJobDeps } from './cli/retention.js';

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      // EX_CONFIG (sysexits.h): a setting to fix, which no restart mends; recharge.service does not restart on it.
      process.exit(78);
    }
    throw error;
  }
}

function banner(url: string, demo: DemoData | null, simulator: PayPalSimulator | null, mailDelivery: Config['mail']['delivery'], demoCasUrl: string | null, credits: string | null): string {
  const lines = [`Recharge is running at ${url}`];
  if (simulator) lines.push(`Payments go to the built-in PayPal simulator at ${simulator.baseUrl} (no real money).`);
  if (credits) lines.push(credits);
  if (demoCasUrl) lines.push(`"Log in with the demo institution (CAS)" uses the built-in demo CAS server at ${demoCasUrl} (made-up people, no password).`);
  if (mailDelivery === 'keep') lines.push(`Receipts are not e-mailed: they are kept in the admin mailbox at ${url}/admin/mails.`);
  if (demo) lines.push(...demoBannerLines(url, demo));
  return lines.join('\n');
}

/**
 * Where the built-in PayPal simulator keeps its webhook signing key between starts: in a folder of its
 * own beside an SQLite database, else in the project's data/ folder; never in UPLOADS_DIR, which is served.
 */
function simulatorKeyFile({ database: { target } }: Config): string {
  const dataDir = target.dialect === 'sqlite' ? path.dirname(target.filename) : path.join(projectRoot, 'data');
  return path.join(dataDir, 'paypal-simulator', 'webhook-signing.pem');
}

/** Long enough for start-up to finish, short enough that a process restarted every few seconds still sweeps. */
const FIRST_SWEEP_DELAY_MS = 2_000;

function exitWith(problem: string): never {
  console.error(problem);
  process.exit(1);
}

/** Says which port could not be had and which variable chooses another. */
function listenProblem(error: NodeJS.ErrnoException, who: string, variable: string, port: number): string {
  if (error.code === 'EADDRINUSE') return `${who} cannot start: port ${port} is already in use by another program. Stop it, or choose another port with ${variable}.`;
  if (error.code === 'EACCES') return `${who} cannot start: this user may not listen on port ${port}. Choose a port above 1023 with ${variable}.`;
  return `${who} cannot start: listening on port ${port} failed (${error.message}).`;
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger(config);
  if (config.session.secretGenerated) logger.warn('SESSION_SECRET is not set: a random one is used, so sessions end when the portal restarts');
  for (const warning of configWarnings(config)) logger.warn(warning);
  const db = createDatabase(config.database.target, { poolMax: config.database.poolMax });
  const applied = await migrateToLatest(db.knex);
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');

  // Simulated payments without PAYPAL_API_BASE_URL: the simulator runs in this process, beside the portal.
  // Imported only then: production never loads the simulator, nor selfsigned, which makes its certificate.
  const simulator =
    config.payments.provider === 'simulator' && !config.payments.apiBaseUrl ? (await import('./payments/paypal/simulator/index.js')).createPayPalSimulator({ signingKeyFile: simulatorKeyFile(config) }) : null;
  const simulatorUrl = simulator
    ? await simulator.start(config.payments.simulatorPort).catch((error: NodeJS.ErrnoException) => exitWith(listenProblem(error, 'The built-in PayPal simulator', 'PAYPAL_SIM_PORT', config.payments.simulatorPort)))
    : undefined;
  const gateway = createGatewayFromConfig(config.payments, simulatorUrl);
  // Demo mode's institution: a CAS server in this process with two made-up people, offered on the login page.
  const demoCas =
    config.demo.enabled && config.demo.identityProvider
      ? await (async () => {
          const { startDemoCasServer, DEMO_CAS_PEOPLE } = await import('./identity/cas/demo-cas-server.js');
          return startDemoCasServer({
            port: config.demo.casPort,
            people: DEMO_CAS_PEOPLE,
            allowedOrigins: [config.server.publicUrl],
            translations: createTranslations(),
            defaultLocale: config.i18n.defaultLocale,
          }).catch((error: NodeJS.ErrnoException) => exitWith(listenProblem(error, 'The built-in demo CAS server', 'DEMO_CAS_PORT', config.demo.casPort)));
        })()
      : null;

  const clock = systemClock;
  const credits = await startCreditDestination(config);
  // Recorded before anything is posted (demo data included): the ledger queues transfers only while it is.
  const { changedFrom } = await recordCreditDestination(db, credits.destination, clock.now());
  if (changedFrom) logger.warn({ from: changedFrom, to: credits.destination?.label ?? 'the ledger alone' }, 'credits now go elsewhere: transfers queued before keep their destination');
  const hasher = createArgon2Hasher();
  // Instances starting together would both add the demo people (one fails on the unique username): they take turns.
  // The seeding is imported only when demo data is on.
  const seedDemo = async () => (await import('./services/demo/demo.js')).seedDemo({ db, clock, config, users: createUserManagement({ db, hasher, clock }) });
  const demo = config.demo.enabled ? await runHoldingLock(db.knex, 'demoData', seedDemo) : null;
  const demoRefusal = await demoCredentialsRefusal({ config, db, hasher, logger });
  if (demoRefusal) exitWith(demoRefusal);
  const identity = await createIdentityRegistry({ config, db, clock, providers: [...config.identity.providers, ...(demoCas ? [demoProviderConfig(demoCas.url)] : [])] });
  const { app, checkout, documents, documentFiles, mail, quoteExpiry, metricsApp, printSystem, creditRefunds } = createApp({ config, db, logger, gateway, clock, hasher, identity, creditDestination: credits.destination });
  const backfilled = await documents.issueMissing(db, clock.now());
  if (backfilled.length > 0) {
    logger.info({ documents: backfilled.length }, 'issued the receipts and credit notes missing for earlier payments and refunds');
    documentFiles.prepare(backfilled);
  }

  const server = app.listen(config.server.port, config.server.host);
  server.once('listening', () => {
    const { port } = server.address() as AddressInfo;
    simulator?.setWebhookUrl(`http://127.0.0.1:${port}/webhooks/paypal`);
    const url = config.server.port === 0 ? `http://localhost:${port}` : config.server.publicUrl;
    console.log(banner(url, demo, simulator, config.mail.delivery, demoCas?.url ?? null, credits.bannerLine));
  });
  server.on('error', (error: NodeJS.ErrnoException) => {
    logger.fatal({ err: error }, 'cannot listen');
    exitWith(listenProblem(error, 'Recharge', 'PORT', config.server.port));
  });
  // /metrics on an address of its own (METRICS_PORT), usually one only Prometheus reaches.
  const metricsServer = metricsApp?.listen(config.metrics.port ?? 0, config.metrics.host);
  metricsServer?.once('listening', () => {
    const { address, port } = metricsServer.address() as AddressInfo;
    console.log(`Metrics for Prometheus at http://${address.includes(':') ? `[${address}]` : address}:${port}/metrics`);
  });
  metricsServer?.on('error', (error: NodeJS.ErrnoException) => exitWith(listenProblem(error, 'The metrics listener', 'METRICS_PORT', config.metrics.port ?? 0)));

  // One sweep at a time across every instance: a sweep finding the lock taken is skipped, the next tick tries again.
  const sweep = async () => {
    try {
      // Quotes expire and refunds of unused credit are asked again in the same sweep, under the same lock: one instance at a time does any.
      const run = await runIfLockFree(db.knex, 'reconciler', async () => {
        await reconcileOrders();
        await expireQuotes();
        await retryCreditRefunds();
      });
      if (!run.ran) logger.debug('reconciler skipped: another process holds the reconciler lock');
    } catch (error) {
      logger.error({ err: error }, 'reconciler failed');
    }
  };
  // Each on its own: a payment provider that is down must not keep quotes past their last day from expiring.
  const reconcileOrders = async () => {
    try {
      const orders = await checkout.reconcile();
      if (orders.changed > 0) logger.info(orders, 'reconciler changed orders');
      else logger.debug(orders, 'reconciler swept');
    } catch (error) {
      logger.error({ err: error }, 'reconciler failed');
    }
  };
  const expireQuotes = async () => {
    try {
      const quotes = await quoteExpiry.expireQuotes(clock.now());
      if (quotes.expired > 0) logger.info(quotes, 'quotes expired');
    } catch (error) {
      logger.error({ err: error }, 'quote expiry failed');
    }
  };
  const retryCreditRefunds = async () => {
    try {
      const parts = await creditRefunds.retryWaitingParts();
      if (parts.asked > 0) logger.info(parts, 'credit refund parts asked of PayPal again');
    } catch (error) {
      logger.error({ err: error }, 'credit refund retry failed');
    }
  };
  // A tick while this instance is still sweeping (a slow provider) waits for the next one.
  let sweeping: Promise<void> | null = null;
  const tick = () => {
    sweeping ??= sweep().finally(() => (sweeping = null));
  };
  const reconcileMs = config.payments.reconcileIntervalSeconds * 1000;
  // The first sweep comes soon after start, not a whole interval later: an instance restarted more
  // often than its interval (a crash loop, frequent deploys) would otherwise never sweep.
  const firstSweep = reconcileMs > 0 ? setTimeout(tick, Math.min(FIRST_SWEEP_DELAY_MS, reconcileMs)) : null;
  const reconciler = reconcileMs > 0 ? setInterval(tick, reconcileMs) : null;

  // Mails queued while the portal was down, and retries whose time has come.
  const deliverMails = async () => {
    const counts = await mail.deliverDue().catch((error: unknown) => logger.error({ err: error }, 'mail delivery failed'));
    if (counts && Object.values(counts).some((count) => count > 0)) logger.info(counts, 'mails delivered');
  };
  void deliverMails();
  const mailer = config.mail.deliveryIntervalSeconds > 0 ? setInterval(() => void deliverMails(), config.mail.deliveryIntervalSeconds * 1000) : null;

  // Credits for the print system queued while the portal was down, retries whose time has come, and
  // attempts an instance left unfinished (they become "unknown", never sent again blindly).
  const deliverTransfers = async () => {
    const counts = await printSystem?.delivery.deliverDue().catch((error: unknown) => logger.error({ err: error }, 'credit transfer delivery failed'));
    if (counts && Object.values(counts).some((count) => count > 0)) logger.info(counts, 'credit transfers delivered');
  };
  void deliverTransfers();
  const transferrer = printSystem && config.credits.deliveryIntervalSeconds > 0 ? setInterval(() => void deliverTransfers(), config.credits.deliveryIntervalSeconds * 1000) : null;

  // Rows past their retention period (README, "Personal data and retention"): one run at a time in this
  // process, one across instances by the job's own lock; the first soon after start, like the sweep.
  const retention = createRetentionJob(retentionJobDeps(config, db, clock, logger));
  let retaining: Promise<void> | null = null;
  const applyRetention = () => {
    retaining ??= retention
      .run()
      .then(() => undefined, (error: unknown) => logger.error({ err: error }, 'retention failed'))
      .finally(() => (retaining = null));
  };
  const retentionMs = config.retention.intervalMinutes * 60_000;
  const firstRetention = retentionMs > 0 ? setTimeout(applyRetention, FIRST_SWEEP_DELAY_MS) : null;
  const retentionTimer = retentionMs > 0 ? setInterval(applyRetention, retentionMs) : null;

  const shutDown = createShutdown({
    server,
    logger,
    timeoutMs: config.server.shutdownTimeoutSeconds * 1000,
    stopTimers() {
      if (firstSweep) clearTimeout(firstSweep);
      if (reconciler) clearInterval(reconciler);
      if (mailer) clearInterval(mailer);
      if (transferrer) clearInterval(transferrer);
      if (firstRetention) clearTimeout(firstRetention);
      if (retentionTimer) clearInterval(retentionTimer);
      // No scrape reads a database about to close; one in flight is answered, the process exit ends the rest.
      metricsServer?.close();
      metricsServer?.closeIdleConnections();
    },
    // A delivery run, a sweep or a document rendering in progress finishes before the database closes;
    // the built-in simulator stops only now: the requests just answered may have been waiting for it.
    release: () =>
      Promise.all([Promise.all([mail.idle(), printSystem?.delivery.idle(), sweeping, retaining, documentFiles.close()]).then(() => db.close()), simulator?.stop(), demoCas?.close(), credits.simulator?.stop()]).then(() => undefined),
    exit: (code) => process.exit(code),
  });
  process.on('SIGINT', shutDown);
  process.on('SIGTERM', shutDown);
}

/**
 * The destination CREDIT_DESTINATION names. `papercut-sim` starts the PaperCut simulator in this process
 * (imported only then), knowing the demo people and the demo institution's, with nothing on their accounts.
 */
async function startCreditDestination(config: Config) {
  if (config.credits.destination !== 'papercut-sim') {
    const destination = createCreditDestinationFromConfig(config.credits);
    return { destination, simulator: null, bannerLine: destination ? `Credits also go to ${destination.label}.` : null };
  }
  const [{ createPaperCutSimulator }, { DEMO_PAPERCUT_PEOPLE }] = await Promise.all([import('./print-systems/papercut/simulator/index.js'), import('./services/demo/demo-logins.js')]);
  const simulator = createPaperCutSimulator({ users: Object.fromEntries(DEMO_PAPERCUT_PEOPLE.map((username) => [username, 0])) });
  const url = await simulator
    .start(config.credits.papercut.simulatorPort)
    .catch((error: NodeJS.ErrnoException) => exitWith(listenProblem(error, 'The built-in PaperCut simulator', 'PAPERCUT_SIM_PORT', config.credits.papercut.simulatorPort)));
  const destination = createCreditDestinationFromConfig(config.credits, { url, authToken: simulator.authToken });
  const origin = new URL(url).origin;
  return { destination, simulator, bannerLine: `Credits also go to the built-in PaperCut simulator at ${url} (its log of credits: ${origin}/simulator/transactions).` };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
