import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { runIfLockFree } from '../db/advisory-lock.js';
import { backUp } from './backup.js';
import { createDatabase, type Database } from '../db/database.js';
import { checkLedger, type LedgerCheckReport } from '../db/ledger/ledger-check.js';
import { migrateDownAll, migrateToLatest } from '../db/migrate.js';
import { systemClock } from '../system-clock.js';
import { DomainError } from '../domain/shared/errors.js';
import { createArgon2Hasher } from '../domain/people/passwords.js';
import { createCheckout } from '../services/checkout/checkout.js';
import { createDocumentIssuing } from '../services/documents/document-issuing.js';
import { createLogger } from '../logger.js';
import { createGatewayFromConfig } from '../payments/paypal/from-config.js';
import { createUserManagement } from '../services/people/user-management.js';
import type { AuditActor } from '../domain/audit/audit.js';
import { removeDemoCredentials } from '../services/demo/demo-credentials.js';
import { unlockLogin } from '../services/people/login-unlock.js';
import { createRetentionJob, type RetentionRun } from '../services/retention/retention-job.js';
import { retentionJobDeps } from './retention.js';
import { resetSecondFactorsCommand, secondFactorsDeps } from './second-factors.js';

export interface CliIo {
  stdin: AsyncIterable<Buffer | string>;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
}

export const USAGE = `Usage: npm run cli -- <command>

  migrate                      apply pending database migrations
  migrate down                 undo every migration (drops all data)
  ledger check                 recompute balances from the ledger entries and report mismatches
  backup <file>                SQLite: copy the database into a new file, consistent even while the portal
                               writes; PostgreSQL: print the pg_dump line that does it, and check pg_dump
  reconcile                    look up unfinished orders at PayPal: capture, credit, expire (safe to repeat;
                               refused while another process is reconciling)
  user add --username U --name N --email E --role user|admin|it [--locale fr|en] [--password-stdin]
  user passwd --username U --password-stdin
  user role --username U --role user|admin|it
  user disable --username U    (their sessions end at their next request)
  user enable --username U
  login unlock --username U    lift an admin or IT account's lock after failed logins (or another
                               account's slowing) and forget its failures; audited
  second-factors reset --username U
                               delete every second factor and recovery code of an admin or IT person
                               and end their sessions (a lost phone or key, even the last admin's); audited
  retention run                delete what is past its retention period, in batches (README, "Personal data
                               and retention"; safe to repeat; refused while another process runs it)
  demo remove                  disable the demo people that still have their demo password and revoke
                               the demo print-server API key; audited (production refuses to start
                               while they work)

The database is the one the portal uses (DATABASE_URL, else data/recharge.sqlite).
Exit codes: 0 done, 1 refused (the message says why), 2 wrong usage.`;

class UsageError extends Error {}

const OPTIONS = {
  username: { type: 'string' },
  name: { type: 'string' },
  email: { type: 'string' },
  role: { type: 'string' },
  locale: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Runs one command; returns the process exit code. Never calls process.exit, so tests run it in-process. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    (values.help ? io.stdout : io.stderr).write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }

  let db: Database | undefined;
  try {
    const config = loadConfig({ env: io.env });
    if (positionals[0] === 'backup') {
      if (positionals.length !== 2) throw new UsageError('backup needs one argument, the file to write: npm run cli -- backup <file>');
      // Before anything that opens, creates or migrates the database: a backup changes nothing.
      return await backUp(positionals[1] as string, config, io);
    }
    db = createDatabase(config.database.target, { poolMax: 2 });
    const command = positionals.join(' ');
    if (command === 'migrate down') {
      const undone = await migrateDownAll(db.knex);
      io.stdout.write(undone.length ? `Undid ${undone.length} migration(s).\n` : 'Nothing to undo.\n');
      return 0;
    }
    const applied = await migrateToLatest(db.knex);
    if (command === 'migrate') {
      io.stdout.write(applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}\n` : 'Database is up to date.\n');
      return 0;
    }
    if (command === 'ledger check') return reportLedger(await checkLedger(db.knex), io);
    if (command === 'reconcile') {
      const checkout = createCheckout({
        db,
        gateway: createGatewayFromConfig(config.payments),
        clock: systemClock,
        logger: createLogger({ log: { level: 'warn' } }),
        publicUrl: config.server.publicUrl,
        brandName: config.payments.brandName,
        orderExpiryMinutes: config.payments.orderExpiryMinutes,
        limits: { openOrdersPerPerson: config.payments.openOrdersPerPerson, paypalOrdersPerMinute: config.payments.paypalOrdersPerMinute },
        // Receipts are issued here too; their mails wait in the outbox for a running portal to send.
        documents: createDocumentIssuing({ seller: config.seller, defaultLocale: config.i18n.defaultLocale, mailDomain: new URL(config.server.publicUrl).hostname }),
      });
      // The portal's own sweeps take the same lock: never two sweeps at once, and never a wait for one.
      const run = await runIfLockFree(db.knex, 'reconciler', () => checkout.reconcile());
      if (!run.ran) {
        io.stderr.write('Error: another process (a running portal) is reconciling right now; nothing was done. Run it again once that sweep is over.\n');
        return 1;
      }
      io.stdout.write(`Examined ${run.value.examined} unfinished order(s); ${run.value.changed} changed.\n`);
      return 0;
    }
    if (positionals[0] === 'user' && positionals.length === 2) return await userCommand(positionals[1] as string, values, db, io);
    if (command === 'login unlock') {
      if (typeof values.username !== 'string' || values.username.trim() === '') throw new UsageError('login unlock needs --username');
      const outcome = await unlockLogin({ db, clock: systemClock }, values.username, commandLineActor());
      io.stdout.write(outcome === 'changed' ? `Unlocked ${values.username}: its failed logins are forgotten.\n` : `${values.username} had no failed logins counted; nothing changed.\n`);
      return 0;
    }
    if (command === 'second-factors reset') {
      if (typeof values.username !== 'string' || values.username.trim() === '') throw new UsageError('second-factors reset needs --username');
      return await resetSecondFactorsCommand(secondFactorsDeps(config, db, systemClock), commandLineActor(), values.username, io);
    }
    if (command === 'retention run') return reportRetention(await createRetentionJob(retentionJobDeps(config, db, systemClock, createLogger({ log: { level: 'warn' } }))).run(), io);
    if (command === 'demo remove') return reportDemoRemoval(await removeDemoCredentials({ db, hasher: createArgon2Hasher(), clock: systemClock, actor: commandLineActor() }), io);
    throw new UsageError(`unknown command: ${command}`);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (error instanceof DomainError || error instanceof ConfigError) {
      io.stderr.write(`Error: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await db?.close();
  }
}

async function userCommand(action: string, values: Record<string, string | boolean | undefined>, db: Database, io: CliIo): Promise<number> {
  const users = createUserManagement({ db, hasher: createArgon2Hasher(), clock: systemClock });
  const required = (name: string): string => {
    const value = values[name];
    if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`user ${action} needs --${name}`);
    return value;
  };
  const password = async (): Promise<string> => {
    if (!values['password-stdin']) throw new UsageError(`user ${action} needs --password-stdin (the password is read from standard input)`);
    return readPassword(io.stdin);
  };
  const username = required('username');
  switch (action) {
    case 'add': {
      const user = await users.addUser({
        username,
        displayName: required('name'),
        email: required('email'),
        role: required('role') as 'user',
        locale: (values.locale as 'fr' | undefined) ?? null,
        password: values['password-stdin'] ? await password() : null,
      });
      io.stdout.write(`Added ${user.role} ${user.username} (id ${user.id}).\n`);
      return 0;
    }
    case 'passwd':
      await users.setPassword(username, await password());
      io.stdout.write(`Password changed for ${username}.\n`);
      return 0;
    case 'role':
      await users.setRole(username, required('role'));
      io.stdout.write(`${username} is now ${values.role}.\n`);
      return 0;
    case 'disable':
    case 'enable':
      await users.setDisabled(username, action === 'disable');
      io.stdout.write(`${username} is ${action}d.\n`);
      return 0;
    default:
      throw new UsageError(`unknown command: user ${action}`);
  }
}

/** The command line audits as no person (`id` null), named after the system account that ran it. */
function commandLineActor(): AuditActor {
  let who = 'unknown';
  try {
    who = userInfo().username;
  } catch {
    // A user id without a name (some containers): the log still says it came from the command line.
  }
  return { id: null, username: `cli:${who}`.slice(0, 100) };
}

function reportDemoRemoval({ disabled, revoked }: { disabled: string[]; revoked: boolean }, io: CliIo): number {
  if (disabled.length === 0 && !revoked) {
    io.stdout.write('Nothing to remove: no demo person has their demo password and the demo API key is revoked or absent.\n');
    return 0;
  }
  if (disabled.length > 0) io.stdout.write(`Disabled ${disabled.join(', ')} (they still had their demo password).\n`);
  if (revoked) io.stdout.write('Revoked the demo print-server API key.\n');
  return 0;
}

/** The whole of standard input, less one trailing line break (what `echo` or a here-string adds). */
async function readPassword(stdin: AsyncIterable<Buffer | string>): Promise<string> {
  let text = '';
  for await (const chunk of stdin) text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
  return text.replace(/\r?\n$/, '');
}

function reportLedger(report: LedgerCheckReport, io: CliIo): number {
  io.stdout.write(`${report.transactions} transactions, ${report.entries} entries, sum of all entries ${report.total}.\n`);
  for (const item of report.unbalancedTransactions) {
    io.stdout.write(`UNBALANCED transaction ${item.transactionId}: ${item.entries} entries summing to ${item.sum}\n`);
  }
  for (const item of report.balanceMismatches) {
    io.stdout.write(`MISMATCH account ${item.code}: stored balance ${item.stored}, entries say ${item.fromEntries}\n`);
  }
  for (const item of report.runningBalanceMismatches) {
    io.stdout.write(`MISMATCH entry ${item.entryId} (account ${item.accountId}): balance after ${item.recorded}, entries say ${item.fromEntries}\n`);
  }
  for (const item of report.activityMismatches) {
    io.stdout.write(
      `MISMATCH activity of account ${item.accountId} (${item.activityClass}, span ${item.span}, bucket ${item.bucket}): stored ${JSON.stringify(item.stored)}, entries say ${JSON.stringify(item.fromEntries)}\n`,
    );
  }
  io.stdout.write(report.ok ? 'Ledger OK.\n' : 'Ledger check FAILED.\n');
  return report.ok ? 0 : 1;
}

function reportRetention(run: RetentionRun, io: CliIo): number {
  if (!run.ran) {
    io.stderr.write('Error: another process (a running portal) is applying the retention periods right now; nothing was done. Run it again later.\n');
    return 1;
  }
  const lines = Object.entries(run.removed).map(([kind, count]) => `  ${kind}: ${count}`);
  io.stdout.write(`Removed what was past its retention period:\n${lines.join('\n')}\n`);
  if (run.failed.length === 0) return 0;
  io.stderr.write(`Error: removing ${run.failed.join(', ')} failed (the log says why); the rest was done. Run it again once that is fixed.\n`);
  return 1;
}
