import { expect } from 'chai';
import { toSafeInteger } from '../../src/db/database.js';
import { createAccount, getAccountByCode, postTransaction, type Account } from '../../src/db/ledger/ledger-repository.js';
import { SystemAccount } from '../../src/domain/ledger/ledger.js';
import { createLedger, type Ledger } from '../../src/services/ledger/accounts.js';
import { ledgerCounts } from '../../src/services/monitoring/ledger-counts.js';
import { systemClock } from '../../src/system-clock.js';
import { createTestDatabase, expectLedgerConsistent, testDialect, type TestDatabase } from '../helpers/database.js';

describe(`ledger transactions counted by kind for /metrics (${testDialect})`, () => {
  let database: TestDatabase;
  let ledger: Ledger;
  let person: Account;
  let other: Account;
  let topUps: Account;
  let adjustments: Account;
  let step = 0;

  const topUp = (account: Account) => ledger.post({ idempotencyKey: `counts:${(step += 1)}`, kind: 'top_up', lines: [{ accountId: account.id, amount: 500 }, { accountId: topUps.id, amount: -500 }] });
  const print = () => ledger.post({ idempotencyKey: `counts:${(step += 1)}`, kind: 'usage', lines: [{ accountId: person.id, amount: -30 }, { accountId: topUps.id, amount: 30 }] });

  /** What one grouped count over the whole table says, kinds in order. */
  async function counted(): Promise<Record<string, number>> {
    const rows: Array<{ kind: string; count: unknown }> = await database.db.knex('ledger_transactions').groupBy('kind').select('kind').count({ count: '*' });
    return Object.fromEntries(rows.map((row) => [row.kind, toSafeInteger(row.count)]).sort());
  }
  const sorted = (counts: Map<string, number>) => Object.fromEntries([...counts].sort());

  /** The id ranges (the bindings) of the grouped counts of the ledger that `work` asks for. */
  async function countedRanges<T>(work: () => Promise<T>): Promise<{ result: T; ranges: unknown[][] }> {
    const ranges: unknown[][] = [];
    const watch = (query: { sql: string; bindings?: unknown[] }) => {
      if (/ledger_transactions/.test(query.sql) && /group by/i.test(query.sql)) ranges.push(query.bindings ?? []);
    };
    database.db.knex.on('query', watch);
    try {
      return { result: await work(), ranges };
    } finally {
      database.db.knex.off('query', watch);
    }
  }

  before(async () => {
    database = await createTestDatabase();
    ledger = createLedger({ db: database.db, clock: systemClock });
    person = await createAccount(database.db.knex, { code: 'user:counts-1', kind: 'user' }, new Date());
    other = await createAccount(database.db.knex, { code: 'user:counts-2', kind: 'user' }, new Date());
    topUps = await getAccountByCode(database.db.knex, SystemAccount.topUps);
    adjustments = await getAccountByCode(database.db.knex, SystemAccount.adjustments);
  });
  afterEach(() => expectLedgerConsistent(database.db));
  after(() => database.cleanup());

  it('stays exact across postings, and counts each row once: later readings ask only for the rows added since', async () => {
    const read = ledgerCounts({ db: database.db });
    expect(sorted(await read())).to.deep.equal({});
    await topUp(person);
    await topUp(other);
    await print();
    const first = await countedRanges(read);
    expect(sorted(first.result)).to.deep.equal(await counted());
    expect(first.ranges).to.deep.equal([[0, 3], [3]]);

    await print();
    await ledger.reverse({ transactionId: 3, idempotencyKey: `counts:${(step += 1)}` });
    const second = await countedRanges(read);
    expect(sorted(second.result)).to.deep.equal(await counted());
    expect(second.ranges).to.deep.equal([[3, 5], [5]]);

    const unchanged = await countedRanges(read);
    expect(sorted(unchanged.result)).to.deep.equal(await counted());
    expect(unchanged.ranges).to.deep.equal([[5]]);
    expect(await counted()).to.deep.equal({ reversal: 1, top_up: 2, usage: 2 });
  });

  if (testDialect === 'postgres') {
    it('counts a transaction that commits after one with a higher id, however many readings it stays open', async () => {
      const read = ledgerCounts({ db: database.db });
      await read();
      // One connection holds a lower id, uncommitted, while another commits a higher one.
      const late = await database.db.knex.transaction();
      let whileOpen: Record<string, number> = {};
      try {
        const { transactionId: lowerId } = await postTransaction(
          late,
          { idempotencyKey: `counts:${(step += 1)}`, kind: 'adjustment', lines: [{ accountId: person.id, amount: 100 }, { accountId: adjustments.id, amount: -100 }] },
          new Date(),
        );
        const { transactionId: higherId } = await topUp(other);
        expect(lowerId).to.be.lessThan(higherId);
        for (let reading = 0; reading < 3; reading += 1) {
          whileOpen = sorted(await read());
          expect(whileOpen).to.deep.equal(await counted());
        }
        await late.commit();
      } finally {
        if (!late.isCompleted()) await late.rollback();
      }
      const committed = sorted(await read());
      expect(committed).to.deep.equal(await counted());
      expect(committed.adjustment).to.equal((whileOpen.adjustment ?? 0) + 1);
      await topUp(person);
      expect(sorted(await read())).to.deep.equal(await counted());
      // Nobody writing any more: the next reading asks only for the ids above the last one.
      const lastId = toSafeInteger((await database.db.knex('ledger_transactions').max({ id: 'id' }).first())?.id);
      expect((await countedRanges(read)).ranges).to.deep.equal([[lastId]]);
    });
  }
});
