import { expect } from 'chai';
import { createDatabase, type Database } from '../../src/db/database.js';
import { checkLedger } from '../../src/db/ledger/ledger-check.js';
import { listAccountHistory } from '../../src/db/ledger/account-history-repository.js';
import { createAccount, findAccountByCode, getAccountByCode, type Account } from '../../src/db/ledger/ledger-repository.js';
import { parseDatabaseUrl } from '../../src/config.js';
import { createLedger, type Ledger } from '../../src/services/ledger/accounts.js';
import { systemClock } from '../../src/system-clock.js';
import { LedgerError, SystemAccount } from '../../src/domain/ledger/ledger.js';
import { createTestDatabase, expectLedgerConsistent, testDialect, type TestDatabase } from '../helpers/database.js';

async function refusalCode(action: Promise<unknown>): Promise<string> {
  const error = await action.then(() => undefined, (caught: unknown) => caught);
  expect(error).to.be.instanceOf(LedgerError);
  return (error as LedgerError).code;
}

describe(`ledger in the database (${testDialect})`, () => {
  let database: TestDatabase;
  let ledger: Ledger;
  let topUps: Account;
  let print: Account;
  let counter = 0;

  const newAccount = (allowNegative = false) => createAccount(database.db.knex, { code: `test:${(counter += 1)}`, kind: 'user', allowNegative }, new Date());
  const balanceOf = async (account: Account) => (await findAccountByCode(database.db.knex, account.code))?.balance;
  const credit = (account: Account, amount: number, key = `credit:${(counter += 1)}`) =>
    ledger.post({ idempotencyKey: key, kind: 'top_up', lines: [{ accountId: account.id, amount }, { accountId: topUps.id, amount: -amount }] });
  const debit = (account: Account, amount: number, key = `debit:${(counter += 1)}`) =>
    ledger.post({ idempotencyKey: key, kind: 'usage', lines: [{ accountId: account.id, amount: -amount }, { accountId: print.id, amount }] });

  before(async () => {
    database = await createTestDatabase();
    ledger = createLedger({ db: database.db, clock: systemClock });
    topUps = await getAccountByCode(database.db.knex, SystemAccount.topUps);
    print = await getAccountByCode(database.db.knex, SystemAccount.usage('print'));
  });
  afterEach(() => expectLedgerConsistent(database.db));
  after(() => database.cleanup());

  it('records a credit with its running balance on each entry', async () => {
    const account = await newAccount();
    await credit(account, 1234);
    await debit(account, 234);
    expect(await balanceOf(account)).to.equal(1000);
    const history = await listAccountHistory(database.db.knex, account.id, { limit: 10, offset: 0 });
    expect(history.map((row) => [row.kind, row.amount, row.balanceAfter, row.counterpart])).to.deep.equal([
      ['usage', -234, 1000, 'system:usage:print'],
      ['top_up', 1234, 1234, 'system:top-ups'],
    ]);
  });

  it('records a transaction once when its idempotency key is posted again, and refuses the key for something else', async () => {
    const account = await newAccount();
    const first = await credit(account, 500, 'same-key');
    expect(await credit(account, 500, 'same-key')).to.deep.equal({ transactionId: first.transactionId, replayed: true });
    expect(await refusalCode(credit(account, 600, 'same-key'))).to.equal('idempotency_conflict');
    expect(await balanceOf(account)).to.equal(500);
    const rows = await database.db.knex('ledger_transactions').where('idempotency_key', 'same-key');
    expect(rows).to.have.length(1);
  });

  it('refuses a debit that would overdraw and writes nothing of it', async () => {
    const account = await newAccount();
    await credit(account, 100);
    const before = await checkLedger(database.db.knex);
    expect(await refusalCode(debit(account, 101, 'too-much'))).to.equal('insufficient_balance');
    expect(await balanceOf(account)).to.equal(100);
    expect(await database.db.knex('ledger_transactions').where('idempotency_key', 'too-much')).to.have.length(0);
    expect((await checkLedger(database.db.knex)).entries).to.equal(before.entries);
  });

  it('lets an account that allows it, or a transaction that allows it, go below zero', async () => {
    const overdraftable = await newAccount(true);
    await debit(overdraftable, 300);
    expect(await balanceOf(overdraftable)).to.equal(-300);
    const account = await newAccount();
    await ledger.post({
      idempotencyKey: `refund:${(counter += 1)}`,
      kind: 'reversal',
      allowOverdraft: true,
      lines: [{ accountId: account.id, amount: -50 }, { accountId: topUps.id, amount: 50 }],
    });
    expect(await balanceOf(account)).to.equal(-50);
  });

  it('reverses a transaction once, with a new transaction and never by changing the old one', async () => {
    const account = await newAccount();
    const original = await credit(account, 700);
    const reversal = await ledger.reverse({ transactionId: original.transactionId, idempotencyKey: 'undo-1' });
    expect(await balanceOf(account)).to.equal(0);
    expect(await ledger.reverse({ transactionId: original.transactionId, idempotencyKey: 'undo-1' })).to.deep.equal({ ...reversal, replayed: true });
    expect(await refusalCode(ledger.reverse({ transactionId: original.transactionId, idempotencyKey: 'undo-2' }))).to.equal('already_reversed');
    expect(await refusalCode(ledger.reverse({ transactionId: reversal.transactionId, idempotencyKey: 'undo-3' }))).to.equal('invalid_transaction');
    expect(await refusalCode(ledger.reverse({ transactionId: 999_999, idempotencyKey: 'undo-4' }))).to.equal('transaction_not_found');
    const stored = await database.db.knex('ledger_transactions').where('id', reversal.transactionId).first();
    expect(Number(stored.reverses_transaction_id)).to.equal(original.transactionId);
  });

  it('reverses a transaction once when different reversals race', async () => {
    const account = await newAccount();
    const original = await credit(account, 900);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, index) => ledger.reverse({ transactionId: original.transactionId, idempotencyKey: `race-${index}` })),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).to.have.length(1);
    const reasons = results.flatMap((result) => (result.status === 'rejected' ? [(result.reason as LedgerError).code] : []));
    expect(reasons).to.deep.equal(Array(9).fill('already_reversed'));
    expect(await balanceOf(account)).to.equal(0);
  });

  it('refuses to post to an account that does not exist', async () => {
    const code = await refusalCode(
      ledger.post({ idempotencyKey: 'ghost', kind: 'adjustment', lines: [{ accountId: 987_654, amount: 5 }, { accountId: topUps.id, amount: -5 }] }),
    );
    expect(code).to.equal('account_not_found');
  });

  it('lets exactly 10 of 50 concurrent 1-unit debits through against a balance of 10 units', async () => {
    const account = await newAccount();
    await credit(account, 1000);
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => debit(account, 100)));
    const refused = results.filter((result) => result.status === 'rejected');
    expect(results.filter((result) => result.status === 'fulfilled')).to.have.length(10);
    expect(refused.map((result) => ((result as PromiseRejectedResult).reason as LedgerError).code)).to.deep.equal(Array(40).fill('insufficient_balance'));
    expect(await balanceOf(account)).to.equal(0);
  });

  it('records one transaction when the same key is posted 20 times at once', async () => {
    const account = await newAccount();
    const results = await Promise.all(Array.from({ length: 20 }, () => credit(account, 250, 'burst')));
    expect(new Set(results.map((result) => result.transactionId)).size).to.equal(1);
    expect(results.filter((result) => !result.replayed)).to.have.length(1);
    expect(await balanceOf(account)).to.equal(250);
  });

  it('serializes writers from separate connections instead of failing with "database is locked"', async () => {
    // A second Database is a second connection pool: for SQLite the same situation as a second process.
    const second: Database = createDatabase(parseDatabaseUrl(database.url));
    try {
      const account = await newAccount();
      const readThenWrite = (db: Database, index: number) =>
        db.transaction(async (trx) => {
          await trx('accounts').where('id', account.id).first('balance'); // a read first: the case a deferred BEGIN fails
          await new Promise((resolve) => setTimeout(resolve, 5));
          await trx('accounts').where('id', account.id).update({ allow_negative: false });
          return index;
        });
      const secondLedger = createLedger({ db: second, clock: systemClock });
      const work = Array.from({ length: 40 }, (_, index) =>
        index % 2 === 0
          ? readThenWrite(index % 4 === 0 ? database.db : second, index).then(() => credit(account, 1))
          : secondLedger.post({ idempotencyKey: `second:${index}`, kind: 'top_up', lines: [{ accountId: account.id, amount: 1 }, { accountId: topUps.id, amount: -1 }] }),
      );
      await Promise.all(work);
      expect(await balanceOf(account)).to.equal(40);
    } finally {
      await second.close();
    }
  });

  it('refuses to update or delete ledger entries and transactions (append-only triggers)', async () => {
    const account = await newAccount();
    const { transactionId } = await credit(account, 10);
    const knex = database.db.knex;
    const attempts = [
      knex('ledger_entries').where('transaction_id', transactionId).update({ amount: 20 }),
      knex('ledger_entries').where('transaction_id', transactionId).del(),
      knex('ledger_transactions').where('id', transactionId).update({ kind: 'adjustment' }),
      knex('ledger_transactions').where('id', transactionId).del(),
      ...(testDialect === 'postgres' ? [knex.raw('TRUNCATE ledger_entries CASCADE')] : []),
    ];
    for (const attempt of attempts) {
      const error = await attempt.then(() => undefined, (caught: unknown) => caught as Error);
      expect(error?.message).to.match(/append-only/);
    }
    expect(await balanceOf(account)).to.equal(10);
  });

  it('reports a stored balance that disagrees with its entries', async () => {
    const account = await newAccount();
    await credit(account, 300);
    await database.db.knex('accounts').where('id', account.id).update({ balance: 301 });
    try {
      const report = await checkLedger(database.db.knex);
      expect(report.ok).to.equal(false);
      expect(report.balanceMismatches).to.deep.equal([{ accountId: account.id, code: account.code, stored: 301, fromEntries: 300 }]);
    } finally {
      await database.db.knex('accounts').where('id', account.id).update({ balance: 300 });
    }
  });
});

describe(`ledger check on a damaged ledger (${testDialect})`, () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database.cleanup());

  it('reports a transaction whose entries, written around the ledger, do not balance', async () => {
    const knex = database.db.knex;
    const topUps = await getAccountByCode(knex, SystemAccount.topUps);
    const [row] = await knex('ledger_transactions')
      .insert({ idempotency_key: 'forged', kind: 'adjustment', created_at: new Date().toISOString() })
      .returning('id');
    const transactionId = Number((row as { id: number }).id);
    await knex('ledger_entries').insert({ transaction_id: transactionId, account_id: topUps.id, amount: 5, balance_after: 7 });
    const report = await checkLedger(knex);
    expect(report.ok).to.equal(false);
    expect(report.total).to.equal(5);
    expect(report.unbalancedTransactions).to.deep.equal([{ transactionId, sum: 5, entries: 1 }]);
    expect(report.balanceMismatches).to.deep.equal([{ accountId: topUps.id, code: SystemAccount.topUps, stored: 0, fromEntries: 5 }]);
    expect(report.runningBalanceMismatches).to.have.length(1);
  });
});
