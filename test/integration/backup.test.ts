import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { createEmptyPostgresDatabase } from '../helpers/postgres-database.js';
import { runCliInProcess } from '../helpers/cli.js';
import { BackupError } from '../../src/db/backup/backup-error.js';
import { backUpSqlite } from '../../src/db/backup/sqlite-backup.js';
import { createDatabase, toSafeInteger, type Database } from '../../src/db/database.js';
import { createAccount, getAccountByCode, type Account } from '../../src/db/ledger/ledger-repository.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { SystemAccount } from '../../src/domain/ledger/ledger.js';
import { createLedger } from '../../src/services/ledger/accounts.js';
import { systemClock } from '../../src/system-clock.js';
import { createTestDatabase, expectLedgerConsistent, testDialect, type TestDatabase } from '../helpers/database.js';

const run = promisify(execFile);

const cli = (args: string[], env: NodeJS.ProcessEnv) => runCliInProcess(args, env);

/** Every account's balance, by code. */
async function balances(db: Database): Promise<Record<string, number>> {
  const rows: Array<{ code: string; balance: unknown }> = await db.knex('accounts').select('code', 'balance').orderBy('code');
  return Object.fromEntries(rows.map((row) => [row.code, toSafeInteger(row.balance)]));
}

/** Each account's balance from the source's entries up to transaction `lastId`: what a copy taken right after it must hold. */
async function balancesUpTo(db: Database, lastId: number): Promise<Record<string, number>> {
  const rows: Array<{ code: string; balance: unknown }> = await db
    .knex('accounts as account')
    .leftJoin('ledger_entries as entry', function () {
      this.on('entry.account_id', 'account.id').andOn('entry.transaction_id', '<=', db.knex.raw('?', [lastId]));
    })
    .groupBy('account.code')
    .orderBy('account.code')
    .select('account.code', db.knex.raw('coalesce(sum(entry.amount), 0) as balance'));
  return Object.fromEntries(rows.map((row) => [row.code, toSafeInteger(row.balance)]));
}

const lastTransactionId = async (db: Database) => toSafeInteger((await db.knex('ledger_transactions').max({ id: 'id' }).first())?.id ?? 0);
const transactionCount = async (db: Database) => toSafeInteger((await db.knex('ledger_transactions').count({ count: '*' }).first())?.count ?? 0);

/**
 * A ledger that keeps changing: top-ups and print jobs on a few people's accounts, one after the
 * other, until `stop()`. `written` counts the transactions committed so far.
 */
function startWriting(database: TestDatabase, accounts: Account[], topUps: Account, print: Account) {
  const ledger = createLedger({ db: database.db, clock: systemClock });
  const state: { written: number; stopping: boolean; failure?: unknown } = { written: 0, stopping: false };
  const done = (async () => {
    for (let step = 0; !state.stopping; step += 1) {
      // Two top-ups, then a job, on each account in turn.
      const account = accounts[Math.floor(step / 3) % accounts.length] as Account;
      const lines =
        step % 3 === 2
          ? [{ accountId: account.id, amount: -40 }, { accountId: print.id, amount: 40 }]
          : [{ accountId: account.id, amount: 125 }, { accountId: topUps.id, amount: -125 }];
      await ledger.post({ idempotencyKey: `backup-test:${step}`, kind: step % 3 === 2 ? 'usage' : 'top_up', lines });
      state.written += 1;
    }
  })().catch((error: unknown) => void (state.failure = error));
  return {
    state,
    async stop() {
      state.stopping = true;
      await done;
    },
  };
}

async function untilWritten(state: { written: number; failure?: unknown }, count: number): Promise<void> {
  while (state.written < count) {
    if (state.failure) throw state.failure;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe(`npm run cli -- backup (${testDialect})`, () => {
  let database: TestDatabase;
  let folder: string;
  let accounts: Account[];
  let topUps: Account;
  let print: Account;

  beforeEach(async () => {
    database = await createTestDatabase();
    folder = await mkdtemp(path.join(tmpdir(), 'recharge-backup-'));
    const now = new Date();
    accounts = [];
    for (const code of ['user:backup-1', 'user:backup-2', 'user:backup-3']) accounts.push(await createAccount(database.db.knex, { code, kind: 'user' }, now));
    topUps = await getAccountByCode(database.db.knex, SystemAccount.topUps);
    print = await getAccountByCode(database.db.knex, SystemAccount.usage('print'));
  });
  afterEach(async () => {
    await expectLedgerConsistent(database.db);
    await database.cleanup();
    await rm(folder, { recursive: true, force: true });
  });

  it('refuses a file that already exists, and changes nothing', async () => {
    const target = path.join(folder, 'monday.backup');
    await writeFile(target, 'last week’s backup');
    const result = await cli(['backup', target], { DATABASE_URL: database.url });
    expect(result.code).to.equal(1);
    expect(result.err).to.equal(`Error: ${target} already exists: a backup never replaces a file; choose another name\n`);
    expect(result.out).to.equal('');
    expect(await readFile(target, 'utf8')).to.equal('last week’s backup');
    expect(await readdir(folder)).to.deep.equal(['monday.backup']);
  });

  it('says what is missing when the file is not given, or more than one is', async () => {
    for (const args of [['backup'], ['backup', 'a.sqlite', 'b.sqlite']]) {
      const result = await cli(args, { DATABASE_URL: database.url });
      expect(result.code, args.join(' ')).to.equal(2);
      expect(result.err).to.match(/^backup needs one argument, the file to write: npm run cli -- backup <file>\n\nUsage: /);
    }
    expect(await readdir(folder)).to.deep.equal([]);
  });

  if (testDialect === 'sqlite') {
    it('copies the database while the ledger is being written, as of one moment: migrations current, every balance as it was then, ledger check passing', async () => {
      const writer = startWriting(database, accounts, topUps, print);
      const target = path.join(folder, 'recharge-backup.sqlite');
      let before: number;
      let after: number;
      try {
        await untilWritten(writer.state, 30);
        before = writer.state.written;
        const result = await cli(['backup', target], { DATABASE_URL: database.url });
        after = writer.state.written;
        expect(result, result.err).to.include({ code: 0, err: '' });
        expect(result.out).to.match(new RegExp(`^Backed up \\S+ to ${target} \\(\\d+ bytes\\): the database as of one moment, integrity checked\\.\\nUploaded logos and favicons are files, not in the database: back up \\S+ as well\\.\\n$`));
        await untilWritten(writer.state, after + 10);
      } finally {
        await writer.stop();
      }
      expect(writer.state.failure).to.equal(undefined);
      expect(await readdir(folder)).to.deep.equal(['recharge-backup.sqlite']);

      const copy = createDatabase({ dialect: 'sqlite', filename: target });
      try {
        const lastId = await lastTransactionId(copy);
        // The copy holds every transaction committed before the backup began, none after it ended, and no gap.
        expect(await transactionCount(copy)).to.equal(lastId).and.be.within(before, after);
        expect(await balances(copy)).to.deep.equal(await balancesUpTo(database.db, lastId));
        expect(await lastTransactionId(database.db)).to.be.greaterThan(lastId);
      } finally {
        await copy.close();
      }
      expect(await cli(['migrate'], { DATABASE_URL: `sqlite:${target}` })).to.include({ code: 0, out: 'Database is up to date.\n' });
      const check = await cli(['ledger', 'check'], { DATABASE_URL: `sqlite:${target}` });
      expect(check.code, check.out).to.equal(0);
      expect(check.out).to.match(/, sum of all entries 0\.\nLedger OK\.\n$/);
    });

    it('restores as README says: the portal stopped, its database with the -wal and -shm beside it moved aside, the backup copied in, ledger check passing', async () => {
      // A portal's database of its own, so that this test can stop it and swap its files.
      const live = path.join(folder, 'data', 'recharge.sqlite');
      await mkdir(path.dirname(live));
      const portalDb = createDatabase({ dialect: 'sqlite', filename: live });
      await migrateToLatest(portalDb.knex);
      const person = await createAccount(portalDb.knex, { code: 'user:restored', kind: 'user' }, new Date());
      const portalTopUps = await getAccountByCode(portalDb.knex, SystemAccount.topUps);
      const ledger = createLedger({ db: portalDb, clock: systemClock });
      const topUp = (key: string, amount: number) => ledger.post({ idempotencyKey: key, kind: 'top_up', lines: [{ accountId: person.id, amount }, { accountId: portalTopUps.id, amount: -amount }] });
      for (let step = 0; step < 5; step += 1) await topUp(`restore-test:${step}`, 500);
      const atBackup = await balances(portalDb);
      const target = path.join(folder, 'before-the-mistake.sqlite');
      expect((await cli(['backup', target], { DATABASE_URL: `sqlite:${live}` })).code).to.equal(0);
      await topUp('restore-test:after', 999);
      await portalDb.close();

      const aside = path.join(folder, 'aside');
      await mkdir(aside);
      for (const file of await readdir(path.dirname(live))) await rename(path.join(path.dirname(live), file), path.join(aside, file));
      await copyFile(target, live);
      const check = await cli(['ledger', 'check'], { DATABASE_URL: `sqlite:${live}` });
      expect(check.out).to.equal('5 transactions, 10 entries, sum of all entries 0.\nLedger OK.\n');
      expect(check.code).to.equal(0);
      const restored = createDatabase({ dialect: 'sqlite', filename: live });
      try {
        expect(await balances(restored)).to.deep.equal(atBackup);
      } finally {
        await restored.close();
      }
    });

    it('writes the copy readable by its owner only (0600): it holds e-mail addresses and password hashes', async () => {
      const target = path.join(folder, 'private.sqlite');
      // An admin's shell: files are created 0644 unless the program asks for less.
      const umask = process.umask(0o022);
      try {
        expect((await cli(['backup', target], { DATABASE_URL: database.url })).code).to.equal(0);
      } finally {
        process.umask(umask);
      }
      expect((await stat(target)).mode & 0o777).to.equal(0o600);
    });

    describe('on a file system without hard links (vfat, exFAT, some CIFS and FUSE mounts)', () => {
      /** link() as the kernel answers it there. */
      const refusedLink = async (existing: unknown, wanted: unknown): Promise<void> => {
        throw Object.assign(new Error(`EPERM: operation not permitted, link '${String(existing)}' -> '${String(wanted)}'`), { code: 'EPERM', syscall: 'link' });
      };

      it('copies the checked file into place instead, 0600 like a linked one, and leaves no temporary file', async () => {
        const ledger = createLedger({ db: database.db, clock: systemClock });
        for (let step = 0; step < 4; step += 1) {
          await ledger.post({ idempotencyKey: `no-links:${step}`, kind: 'top_up', lines: [{ accountId: (accounts[0] as Account).id, amount: 100 }, { accountId: topUps.id, amount: -100 }] });
        }
        const target = path.join(folder, 'usb-stick.sqlite');
        const backup = await backUpSqlite(database.db.knex, target, { linkFile: refusedLink });
        expect(backup).to.deep.equal({ file: target, bytes: (await stat(target)).size });
        expect((await stat(target)).mode & 0o777).to.equal(0o600);
        expect(await readdir(folder)).to.deep.equal(['usb-stick.sqlite']);
        const copy = createDatabase({ dialect: 'sqlite', filename: target });
        try {
          expect(await transactionCount(copy)).to.equal(4);
          expect(await balances(copy)).to.deep.equal(await balances(database.db));
        } finally {
          await copy.close();
        }
      });

      it('still never replaces a file that appeared under the name meanwhile', async () => {
        const target = path.join(folder, 'taken.sqlite');
        const appearing = async (existing: unknown, wanted: unknown): Promise<void> => {
          await writeFile(target, 'written by someone else meanwhile');
          return refusedLink(existing, wanted);
        };
        const refusal = await backUpSqlite(database.db.knex, target, { linkFile: appearing }).catch((error: unknown) => error);
        expect(refusal).to.be.instanceOf(BackupError);
        expect((refusal as BackupError).message).to.equal(`${target} already exists: a backup never replaces a file; choose another name`);
        expect(await readFile(target, 'utf8')).to.equal('written by someone else meanwhile');
        expect(await readdir(folder)).to.deep.equal(['taken.sqlite']);
      });
    });

    it('refuses a database file that does not exist rather than back up an empty one', async () => {
      const missing = path.join(folder, 'nothing-here.sqlite');
      const result = await cli(['backup', path.join(folder, 'copy.sqlite')], { DATABASE_URL: `sqlite:${missing}` });
      expect(result).to.include({ code: 1, err: `Error: there is no database at ${missing} (DATABASE_URL) to back up\n` });
      expect(await readdir(folder)).to.deep.equal([]);
    });
  }

  if (testDialect === 'postgres') {
    it('prints a pg_dump line without the password that, run as printed, makes a dump pg_restore puts back in a new database where ledger check passes', async () => {
      const ledger = createLedger({ db: database.db, clock: systemClock });
      for (let step = 0; step < 12; step += 1) {
        await ledger.post({ idempotencyKey: `pg-backup-test:${step}`, kind: 'top_up', lines: [{ accountId: (accounts[step % 3] as Account).id, amount: 250 }, { accountId: topUps.id, amount: -250 }] });
      }
      const target = path.join(folder, 'recharge.dump');
      const withPassword = new URL(database.url);
      // PostgreSQL here trusts local connections, so a password in the URL is ignored: it only has to stay out of the line.
      withPassword.password = 'not-to-be-printed';
      // Without sslmode the client key is never read: its passphrase too only has to stay out of the line.
      withPassword.searchParams.set('sslpassword', 'key-passphrase-not-to-be-printed');
      const result = await cli(['backup', target], { DATABASE_URL: withPassword.toString() });
      expect(result, result.err).to.include({ code: 0, err: '' });
      expect(result.out).not.to.include('not-to-be-printed');
      expect(result.out).to.include('The password in DATABASE_URL is left out: give it to pg_dump in PGPASSWORD or a ~/.pgpass line');
      expect(result.out).to.include('The passphrase of the TLS key (sslpassword) in DATABASE_URL is left out: pg_dump asks for it');
      expect(result.out).to.match(/^pg_dump \S+ can dump this server \(PostgreSQL \S+\)\.$/m);
      const line = /^ {2}(pg_dump .*)$/m.exec(result.out)?.[1] as string;
      expect(line).to.equal(`pg_dump --format=custom --file=${target} --dbname=${database.url}`);
      expect(await readdir(folder)).to.deep.equal([]);

      await run('sh', ['-c', line]);
      const restored = await createEmptyPostgresDatabase(process.env.TEST_DATABASE_URL as string, 'recharge_restore');
      try {
        await run('pg_restore', ['--clean', '--if-exists', '--no-owner', `--dbname=${restored.url}`, target]);
        expect(await cli(['migrate'], { DATABASE_URL: restored.url })).to.include({ code: 0, out: 'Database is up to date.\n' });
        const check = await cli(['ledger', 'check'], { DATABASE_URL: restored.url });
        expect(check.out).to.match(/^12 transactions, 24 entries, sum of all entries 0\.\nLedger OK\.\n$/);
        const copy = createDatabase({ dialect: 'postgres', connectionString: restored.url });
        try {
          expect(await balances(copy)).to.deep.equal(await balances(database.db));
        } finally {
          await copy.close();
        }
      } finally {
        await restored.drop();
      }
    });

    it('prints the pg_dump line and says so, exit code 1, when pg_dump cannot be found', async () => {
      const result = await cli(['backup', path.join(folder, 'recharge.dump')], { DATABASE_URL: database.url, PATH: path.join(folder, 'no-programs-here') });
      expect(result.code).to.equal(1);
      expect(result.out).to.match(/^ {2}pg_dump --format=custom /m);
      expect(result.err).to.match(/^Error: pg_dump was not found on the PATH: install PostgreSQL's client programs, version \d+ or later/);
    });
  }
});
