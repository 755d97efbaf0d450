import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { runHoldingLock, runIfLockFree } from './db/advisory-lock.js';
import { createDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { systemClock } from './domain/clock.js';
import { DEMO_API_KEY, seedDemoData, type DemoLogin } from './domain/demo.js';
import { createArgon2Hasher } from './domain/passwords.js';
import { createUserManagement } from './domain/user-management.js';
import { createLogger } from './logger.js';
import { createGatewayFromConfig } from './payments/paypal/from-config.js';
import { createPayPalSimulator, type PayPalSimulator } from './payments/paypal/simulator/index.js';

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

function banner(url: string, demoLogins: readonly DemoLogin[], simulator: PayPalSimulator | null, mailDelivery: Config['mail']['delivery']): string {
  const lines = [`Recharge is running at ${url}`];
  if (simulator) lines.push(`Payments go to the built-in PayPal simulator at ${simulator.baseUrl} (no real money).`);
  if (mailDelivery === 'keep') lines.push(`Receipts are not e-mailed: they are kept in the admin mailbox at ${url}/admin/mails.`);
  if (demoLogins.length > 0) {
    lines.push('Demo data is on. Log in with:');
    for (const login of demoLogins) lines.push(`  ${login.role.padEnd(6)} ${login.username} / ${login.password}`);
    lines.push(`Demo print-server API key: ${DEMO_API_KEY}`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger(config);
  if (config.session.secretGenerated) logger.warn('SESSION_SECRET is not set: a random one is used, so sessions end when the portal restarts');
  const db = createDatabase(config.database.target, { poolMax: config.database.poolMax });
  const applied = await migrateToLatest(db.knex);
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');

  // Simulated payments without PAYPAL_API_BASE_URL: the simulator runs in this process, beside the portal.
  const simulator = config.payments.provider === 'simulator' && !config.payments.apiBaseUrl ? createPayPalSimulator() : null;
  const simulatorUrl = simulator ? await simulator.start(config.payments.simulatorPort) : undefined;
  const gateway = createGatewayFromConfig(config.payments, simulatorUrl);

  const clock = systemClock;
  const hasher = createArgon2Hasher();
  // Instances starting together would both add the demo people (one fails on the unique username): they take turns.
  const demoLogins = config.demo.enabled ? await runHoldingLock(db.knex, 'demoData', () => seedDemoData({ db, clock, users: createUserManagement({ db, hasher, clock }) })) : [];
  const { app, checkout, documents, mail } = createApp({ config, db, logger, gateway, clock, hasher });
  const backfilled = await documents.issueMissing(db, clock.now());
  if (backfilled.length > 0) logger.info({ documents: backfilled.length }, 'issued the receipts and credit notes missing for earlier payments and refunds');

  const server = app.listen(config.server.port, config.server.host, () => {
    const { port } = server.address() as AddressInfo;
    simulator?.setWebhookUrl(`http://127.0.0.1:${port}/webhooks/paypal`);
    const url = config.server.port === 0 ? `http://localhost:${port}` : config.server.publicUrl;
    console.log(banner(url, demoLogins, simulator, config.mail.delivery));
  });
  server.on('error', (error) => {
    logger.fatal({ err: error }, 'cannot listen');
    process.exit(1);
  });

  // One sweep at a time across every instance: a sweep finding the lock taken is skipped, the next tick tries again.
  const sweep = async () => {
    try {
      const run = await runIfLockFree(db.knex, 'reconciler', () => checkout.reconcile());
      if (!run.ran) logger.debug('reconciler skipped: another process holds the reconciler lock');
      else if (run.value.changed > 0) logger.info(run.value, 'reconciler changed orders');
      else logger.debug(run.value, 'reconciler swept');
    } catch (error) {
      logger.error({ err: error }, 'reconciler failed');
    }
  };
  // A tick while this instance is still sweeping (a slow provider) waits for the next one.
  let sweeping: Promise<void> | null = null;
  const reconciler =
    config.payments.reconcileIntervalSeconds > 0
      ? setInterval(() => {
          sweeping ??= sweep().finally(() => (sweeping = null));
        }, config.payments.reconcileIntervalSeconds * 1000)
      : null;

  // Mails queued while the portal was down, and retries whose time has come.
  const deliverMails = async () => {
    const counts = await mail.deliverDue().catch((error: unknown) => logger.error({ err: error }, 'mail delivery failed'));
    if (counts && Object.values(counts).some((count) => count > 0)) logger.info(counts, 'mails delivered');
  };
  void deliverMails();
  const mailer = config.mail.deliveryIntervalSeconds > 0 ? setInterval(() => void deliverMails(), config.mail.deliveryIntervalSeconds * 1000) : null;

  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    if (reconciler) clearInterval(reconciler);
    if (mailer) clearInterval(mailer);
    // A delivery run or a sweep in progress finishes (bounded by the transport's and the provider's timeouts) before the database closes.
    server.close(() => void Promise.all([Promise.all([mail.idle(), sweeping]).then(() => db.close()), simulator?.stop()]).then(() => process.exit(0)));
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
