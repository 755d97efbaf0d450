import { expect } from 'chai';
import fc from 'fast-check';
import type { Knex } from 'knex';
import { toSafeInteger, type Queryable } from '../../src/db/database.js';
import { listAccountHistory } from '../../src/db/ledger/account-history-repository.js';
import { checkLedger } from '../../src/db/ledger/ledger-check.js';
import { createAccount, getAccountByCode, postTransaction, reverseTransaction, type Account } from '../../src/db/ledger/ledger-repository.js';
import { ALL_TIME, QUARTER_HOUR_MS } from '../../src/domain/ledger/account-activity.js';
import { checkHistoryFilter, HISTORY_CATEGORIES, type HistoryCategory, type HistoryFilter } from '../../src/domain/ledger/account-history.js';
import { LedgerError, SystemAccount, USAGE_CATEGORIES, type Hundredths, type TransactionRequest, type UsageCategory } from '../../src/domain/ledger/ledger.js';
import { summarizeUsage } from '../../src/domain/ledger/usage-summary.js';
import { addDays } from '../../src/domain/time/calendar.js';
import { createLedger, type Ledger } from '../../src/services/ledger/accounts.js';
import { systemClock } from '../../src/system-clock.js';
import { createTestDatabase, expectLedgerConsistent, testDialect, type TestDatabase } from '../helpers/database.js';
import * as activityMigration from '../../migrations/20261212090000_account_activity.js';

/*
 * The account page's counts and usage summary come from `account_activity`. Here they are held to what
 * the history itself answers, exactly, from the entries: the number of rows it lists for the filter,
 * and the exact usage query the page ran before (kept below as the reference only).
 */

const inPeriod = (builder: Knex.QueryBuilder, column: string, period: Pick<HistoryFilter, 'from' | 'until'>) => {
  if (period.from) void builder.where(column, '>=', period.from.toISOString());
  if (period.until) void builder.where(column, '<', period.until.toISOString());
  return builder;
};

/** Units used per category in [from, until) straight from the entries; a cancellation counts in the period of its job. */
async function usedUnitsFromEntries(db: Queryable, accountId: number, categories: readonly UsageCategory[], period: Pick<HistoryFilter, 'from' | 'until'>) {
  if (categories.length === 0) return {};
  const query = db('ledger_entries as entry')
    .join('ledger_transactions as tx', 'tx.id', 'entry.transaction_id')
    .leftJoin('ledger_transactions as original', 'original.id', 'tx.reverses_transaction_id')
    .join('ledger_entries as usage', (join) => join.on('usage.transaction_id', 'entry.transaction_id').andOn('usage.account_id', '<>', 'entry.account_id'))
    .join('accounts as usage_account', 'usage_account.id', 'usage.account_id')
    .where('entry.account_id', accountId)
    .whereIn('usage_account.code', categories.map(SystemAccount.usage))
    .groupBy('usage_account.code')
    .select('usage_account.code')
    .sum({ used: 'usage.amount' });
  if (period.from || period.until) {
    void query.where((when) =>
      when.where((job) => inPeriod(job.whereNull('tx.reverses_transaction_id'), 'tx.created_at', period)).orWhere((cancellation) => inPeriod(cancellation, 'original.created_at', period)),
    );
  }
  const rows: Array<Record<string, unknown>> = await query;
  return Object.fromEntries(rows.map((row) => [String(row.code).replace('system:usage:', ''), toSafeInteger(row.used ?? 0)])) as Partial<Record<UsageCategory, Hundredths>>;
}

async function fromEntries(db: Queryable, accountId: number, filter: HistoryFilter) {
  const categories = filter.category === undefined ? USAGE_CATEGORIES : filter.category === 'top_up' ? [] : [filter.category];
  return {
    entries: (await listAccountHistory(db, accountId, { ...filter, limit: 1_000_000 })).length,
    usage: summarizeUsage(await usedUnitsFromEntries(db, accountId, categories, filter)),
  };
}

const WINDOW_START = Date.parse('2026-09-20T00:00:00Z');
/** 80 days around the end of summer time in Europe (25 October 2026), over two 32-day buckets' ends. */
const WINDOW_DAYS = 80;
const WINDOW_QUARTER_HOURS = WINDOW_DAYS * 96;
const FIRST_DAY = '2026-09-19';
const ZONES = ['Europe/Paris', 'Asia/Kolkata', 'Asia/Kathmandu'];

/** Any instant of the window, often exactly on a quarter-hour or just before one: where a day starts in every zone. */
const instant = fc
  .tuple(fc.integer({ min: 0, max: WINDOW_QUARTER_HOURS }), fc.oneof(fc.constant(0), fc.constant(-1), fc.integer({ min: 0, max: QUARTER_HOUR_MS - 1 })))
  .map(([quarterHour, offset]) => new Date(WINDOW_START + quarterHour * QUARTER_HOUR_MS + offset));
const person = fc.integer({ min: 0, max: 1 });
const amount = fc.integer({ min: 1, max: 3000 });
const category = fc.constantFrom(...USAGE_CATEGORIES);
const operation = fc.oneof(
  fc.record({ type: fc.constant('top_up' as const), person, amount, at: instant }),
  fc.record({ type: fc.constant('usage' as const), person, amount, category, at: instant }),
  fc.record({ type: fc.constant('usage' as const), person, amount, category, at: instant }),
  fc.record({ type: fc.constant('adjustment' as const), person, amount: fc.integer({ min: -3000, max: 3000 }).filter((value) => value !== 0), at: instant }),
  fc.record({ type: fc.constant('reversal' as const), pick: fc.nat(), at: instant }),
  fc.record({ type: fc.constant('reversal' as const), pick: fc.nat(), at: instant }),
);
/** Days as typed in the filter, either end possibly left open. */
const dayRange = fc
  .tuple(fc.option(fc.integer({ min: 0, max: WINDOW_DAYS + 2 })), fc.option(fc.integer({ min: 0, max: WINDOW_DAYS + 2 })))
  .map(([from, length]) => ({ from: from === null ? '' : addDays(FIRST_DAY, from), to: length === null ? '' : addDays(FIRST_DAY, (from ?? 0) + length) }));

describe(`account activity against the entries, property-based (${testDialect})`, () => {
  let database: TestDatabase;
  let ledger: Ledger;
  let system: { topUps: Account; adjustments: Account; usage: Record<UsageCategory, Account> };
  let runs = 0;

  before(async () => {
    database = await createTestDatabase();
    ledger = createLedger({ db: database.db, clock: systemClock });
    const knex = database.db.knex;
    system = {
      topUps: await getAccountByCode(knex, SystemAccount.topUps),
      adjustments: await getAccountByCode(knex, SystemAccount.adjustments),
      usage: Object.fromEntries(await Promise.all(USAGE_CATEGORIES.map(async (name) => [name, await getAccountByCode(knex, SystemAccount.usage(name))]))) as Record<UsageCategory, Account>,
    };
  });
  after(() => database.cleanup());

  it('counts the entries and sums the usage the history holds, for any days of Paris, Kolkata and Kathmandu and any category', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 5, maxLength: 40 }), fc.array(dayRange, { minLength: 1, maxLength: 2 }), async (operations, ranges) => {
        runs += 1;
        const db = database.db;
        const people = [
          await createAccount(db.knex, { code: `activity:${runs}:0`, kind: 'user' }, new Date()),
          await createAccount(db.knex, { code: `activity:${runs}:1`, kind: 'user' }, new Date()),
        ];
        const reversible: number[] = [];
        // Enough units for most debits: a refused one shows nothing but its rollback.
        for (const [index, account] of people.entries()) {
          const opening = { idempotencyKey: `activity:${runs}:opening:${index}`, kind: 'top_up' as const, lines: [{ accountId: account.id, amount: 50_000 }, { accountId: system.topUps.id, amount: -50_000 }] };
          await db.transaction((trx) => postTransaction(trx, opening, new Date(WINDOW_START)));
        }
        for (const [index, step] of operations.entries()) {
          const key = `activity:${runs}:${index}`;
          const post = (request: Omit<TransactionRequest, 'idempotencyKey'>) => db.transaction((trx) => postTransaction(trx, { ...request, idempotencyKey: key }, step.at));
          const line = (account: Account, value: number) => ({ accountId: account.id, amount: value });
          try {
            if (step.type === 'reversal') {
              if (reversible.length === 0) continue;
              const [transactionId] = reversible.splice(step.pick % reversible.length, 1);
              await db.transaction((trx) => reverseTransaction(trx, { transactionId: transactionId!, idempotencyKey: key, allowOverdraft: true }, step.at));
              continue;
            }
            const posted =
              step.type === 'top_up'
                ? await post({ kind: 'top_up', lines: [line(people[step.person]!, step.amount), line(system.topUps, -step.amount)] })
                : step.type === 'usage'
                  ? await post({ kind: 'usage', lines: [line(people[step.person]!, -step.amount), line(system.usage[step.category], step.amount)] })
                  : await post({ kind: 'adjustment', lines: [line(people[step.person]!, step.amount), line(system.adjustments, -step.amount)], allowOverdraft: true });
            reversible.push(posted.transactionId);
          } catch (error) {
            // A debit beyond the balance is refused, and its activity rolled back with it.
            if (!(error instanceof LedgerError && error.code === 'insufficient_balance')) throw error;
          }
        }

        for (const zone of ZONES) {
          for (const range of ranges) {
            for (const category of [undefined, ...HISTORY_CATEGORIES] as Array<HistoryCategory | undefined>) {
              const { filter, errors } = checkHistoryFilter({ category: category ?? '', ...range }, zone);
              expect(errors).to.deep.equal({});
              for (const account of people) {
                const context = `${zone} ${JSON.stringify(range)} ${category ?? 'all'} account ${account.code}`;
                expect(await ledger.accountActivity(account.id, filter), context).to.deep.equal(await fromEntries(db.knex, account.id, filter));
              }
            }
          }
        }
        // The run's own accounts only: each run stands alone when fast-check shrinks a failure.
        const mismatches = (await checkLedger(db.knex)).activityMismatches.filter((mismatch) => people.some((account) => account.id === mismatch.accountId));
        expect(mismatches).to.deep.equal([]);
      }),
      { numRuns: 20 },
    );
  });
});

describe(`account activity: the migration's backfill and the ledger check (${testDialect})`, () => {
  let database: TestDatabase;
  let people: Account[];

  const activityRows = () => database.db.knex('account_activity').orderBy(['account_id', 'class', 'span', 'bucket']).select('account_id', 'class', 'span', 'bucket', 'entries', 'used_units');

  before(async () => {
    database = await createTestDatabase();
    const knex = database.db.knex;
    const account = (code: string) => getAccountByCode(knex, code);
    const [topUps, adjustments, bonuses] = await Promise.all([account(SystemAccount.topUps), account(SystemAccount.adjustments), account(SystemAccount.bonuses)]);
    const usage = await Promise.all(USAGE_CATEGORIES.map((name) => account(SystemAccount.usage(name))));
    people = [await createAccount(knex, { code: 'backfill:0', kind: 'user' }, new Date()), await createAccount(knex, { code: 'backfill:1', kind: 'user' }, new Date())];
    let key = 0;
    const at = (minutes: number) => new Date(WINDOW_START + minutes * 60_000);
    // More transactions than the backfill reads at a time, over many quarter-hours.
    await database.db.transaction(async (trx) => {
      const post = (lines: Array<[Account, number]>, kind: TransactionRequest['kind'], minutes: number) =>
        postTransaction(trx, { idempotencyKey: `backfill:${(key += 1)}`, kind, lines: lines.map(([owner, value]) => ({ accountId: owner.id, amount: value })), allowOverdraft: true }, at(minutes));
      for (const owner of people) await post([[owner, 100_000], [topUps, -100_000]], 'top_up', 0);
      for (let index = 0; index < 1_050; index += 1) await post([[people[index % 2]!, -(1 + (index % 9))], [usage[index % 4]!, 1 + (index % 9)]], 'usage', index * 7);
      await post([[people[0]!, 500], [adjustments, -500]], 'adjustment', 100);
      await post([[bonuses, 300], [adjustments, -300]], 'adjustment', 200);
      const job = await post([[people[1]!, -250], [usage[2]!, 250]], 'usage', 300);
      await reverseTransaction(trx, { transactionId: job.transactionId, idempotencyKey: 'backfill:cancel' }, at(3_000));
    });
  });
  afterEach(() => expectLedgerConsistent(database.db));
  after(() => database.cleanup());

  it('gives a ledger posted before the migration the activity the postings keep', async () => {
    const kept = await activityRows();
    expect(kept.length).to.be.greaterThan(1_000);
    await database.db.knex.transaction(async (trx) => {
      await activityMigration.down(trx);
      await activityMigration.up(trx);
    });
    expect(await activityRows()).to.deep.equal(kept);
  });

  it('is failed by ledger check when a row of the activity was changed, removed or added', async () => {
    const knex = database.db.knex;
    const row = { account_id: people[1]!.id, class: 'scan', span: ALL_TIME, bucket: 0 };
    const figures = async () => (await checkLedger(knex)).activityMismatches;
    const original = await knex('account_activity').where(row).first('entries', 'used_units');
    const kept = { entries: toSafeInteger(original.entries), usedUnits: toSafeInteger(original.used_units) };
    const mismatch = { accountId: row.account_id, activityClass: 'scan', span: ALL_TIME, bucket: 0 };

    await knex('account_activity').where(row).update({ used_units: kept.usedUnits + 1 });
    expect(await figures()).to.deep.equal([{ ...mismatch, stored: { ...kept, usedUnits: kept.usedUnits + 1 }, fromEntries: kept }]);
    await knex('account_activity').where(row).update({ used_units: kept.usedUnits, entries: kept.entries - 1 });
    expect(await figures()).to.deep.equal([{ ...mismatch, stored: { ...kept, entries: kept.entries - 1 }, fromEntries: kept }]);
    await knex('account_activity').where(row).delete();
    expect(await figures()).to.deep.equal([{ ...mismatch, stored: null, fromEntries: kept }]);
    await knex('account_activity').insert({ ...row, entries: kept.entries, used_units: kept.usedUnits });
    await knex('account_activity').insert({ ...row, span: 96, bucket: 7, entries: 1, used_units: 0 });
    expect(await figures()).to.deep.equal([{ ...mismatch, span: 96, bucket: 7, stored: { entries: 1, usedUnits: 0 }, fromEntries: null }]);
    expect((await checkLedger(knex)).ok).to.equal(false);
    await knex('account_activity').where({ ...row, span: 96, bucket: 7 }).delete();
  });
});
