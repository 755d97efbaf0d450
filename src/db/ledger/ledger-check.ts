import type { Knex } from 'knex';
import { ALL_TIME, QUARTER_HOUR_MS, SPANS, type ActivityClass } from '../../domain/ledger/account-activity.js';
import { categoryAccountCode, HISTORY_CATEGORIES } from '../../domain/ledger/account-history.js';
import { SystemAccount, USAGE_CATEGORIES } from '../../domain/ledger/ledger.js';
import { toSafeInteger, type Queryable } from '../database.js';

export interface LedgerCheckReport {
  ok: boolean;
  transactions: number;
  entries: number;
  /** Σ of every entry: zero in a double-entry ledger. */
  total: number;
  unbalancedTransactions: Array<{ transactionId: number; sum: number; entries: number }>;
  balanceMismatches: Array<{ accountId: number; code: string; stored: number; fromEntries: number }>;
  runningBalanceMismatches: Array<{ entryId: number; accountId: number; recorded: number; fromEntries: number }>;
  /** Rows of `account_activity` that differ from the entries: either side null where it has no row. */
  activityMismatches: Array<{ accountId: number; activityClass: ActivityClass; span: number; bucket: number; stored: ActivityFigures | null; fromEntries: ActivityFigures | null }>;
}

interface ActivityFigures {
  entries: number;
  usedUnits: number;
}

/**
 * The rows of `account_activity` that differ from the entries, each side as it is (null: no row). The
 * activity is recomputed from the entries in SQL, apart from the code that keeps it
 * (domain/ledger/account-activity.ts), so that a mistake there shows here: each entry of a person's
 * account counts in `all` and in the category of each system account its transaction touches, at the
 * transaction's time; the units a usage account received count as used at the job's time (a
 * reversal's: that of the transaction it reverses). In buckets of every span, and since the account
 * was opened.
 */
async function activityMismatches(db: Queryable): Promise<LedgerCheckReport['activityMismatches']> {
  // Constants of the code are written as literals: PostgreSQL could not type them as parameters in a union.
  const quarterHour = (instant: Knex.Raw) =>
    db.client.dialect === 'postgresql'
      ? db.raw(`cast(floor(extract(epoch from ?) * 1000 / ${QUARTER_HOUR_MS}) as bigint)`, [instant])
      : db.raw(`cast(strftime('%s', ?) as integer) * 1000 / ${QUARTER_HOUR_MS}`, [instant]);
  const postedAt = quarterHour(db.raw('??', ['tx.created_at']));
  const categoryOf = db.raw(`case ${HISTORY_CATEGORIES.map(() => 'when ?? = ? then ?').join(' ')} end`, HISTORY_CATEGORIES.flatMap((category) => ['other_account.code', categoryAccountCode(category), category]));
  const personEntries = () =>
    db('ledger_entries as entry')
      .join('accounts as account', 'account.id', 'entry.account_id')
      .join('ledger_transactions as tx', 'tx.id', 'entry.transaction_id')
      .where('account.kind', 'user');
  const withOthers = (codes: string[]) =>
    personEntries()
      .join('ledger_entries as other', 'other.transaction_id', 'entry.transaction_id')
      .join('accounts as other_account', 'other_account.id', 'other.account_id')
      .whereIn('other_account.code', codes);
  const counted = personEntries().select('entry.account_id', db.raw("'all' as class"), { quarter_hour: postedAt }, db.raw('1 as entries'), db.raw('0 as used_units'));
  const countedInCategory = withOthers(HISTORY_CATEGORIES.map(categoryAccountCode)).select('entry.account_id', { class: categoryOf }, { quarter_hour: postedAt }, db.raw('1 as entries'), db.raw('0 as used_units'));
  const used = withOthers(USAGE_CATEGORIES.map(SystemAccount.usage))
    .leftJoin('ledger_transactions as reversed', 'reversed.id', 'tx.reverses_transaction_id')
    .select('entry.account_id', { class: categoryOf }, { quarter_hour: quarterHour(db.raw('coalesce(??, ??)', ['reversed.created_at', 'tx.created_at'])) }, db.raw('0 as entries'), { used_units: 'other.amount' });
  const sums = [db.raw('sum(entries) as entries'), db.raw('sum(used_units) as used_units')];
  const quarterHours = db('contribution').groupBy('account_id', 'class', 'quarter_hour').select('account_id', 'class', 'quarter_hour', ...sums);
  const bySpan = [
    ...SPANS.map((span) => {
      const bucket = db.raw(`quarter_hour / ${span}`);
      return db('quarter_hours').groupBy('account_id', 'class', bucket).select('account_id', 'class', db.raw(`${span} as span`), { bucket }, ...sums);
    }),
    db('quarter_hours').groupBy('account_id', 'class').select('account_id', 'class', db.raw(`${ALL_TIME} as span`), db.raw('0 as bucket'), ...sums),
  ];
  // Each grouping in a subquery of its own: knex writes a union before the GROUP BY of its first side.
  const [first, ...others] = bySpan.map((grouped, index) => db.select('*').from(grouped.as(`span_${index}`)));
  const columns = ['account_id', 'class', 'span', 'bucket', 'entries', 'used_units'];
  const only = (side: string, kept: string, left: string) => db.select(db.raw('? as side', [side]), ...columns).from(db(kept).select(columns).except(db(left).select(columns)).as(`only_${side}`));
  const rows: Array<Record<string, unknown>> = await db
    .with('contribution', counted.unionAll([countedInCategory, used]))
    .with('quarter_hours', quarterHours)
    .with('recomputed', first!.unionAll(others))
    .with('stored', db('account_activity').select(columns))
    .from(only('stored', 'stored', 'recomputed').unionAll(only('fromEntries', 'recomputed', 'stored')).as('mismatch'))
    .select('*');
  const mismatches = new Map<string, LedgerCheckReport['activityMismatches'][number]>();
  for (const row of rows) {
    const key = { accountId: toSafeInteger(row.account_id), activityClass: row.class as ActivityClass, span: toSafeInteger(row.span), bucket: toSafeInteger(row.bucket) };
    const id = `${key.accountId}:${key.activityClass}:${key.span}:${key.bucket}`;
    const mismatch = mismatches.get(id) ?? { ...key, stored: null, fromEntries: null };
    mismatch[row.side as 'stored' | 'fromEntries'] = { entries: toSafeInteger(row.entries), usedUnits: toSafeInteger(row.used_units) };
    mismatches.set(id, mismatch);
  }
  return [...mismatches.values()];
}

/** Recomputes everything the ledger keeps from its entries and lists any disagreement. */
export async function checkLedger(db: Queryable): Promise<LedgerCheckReport> {
  const [totals, transactionCount, unbalanced, mismatched, running, activity] = await Promise.all([
    db('ledger_entries').select(db.raw('count(*) as entries'), db.raw('coalesce(sum(amount), 0) as total')).first(),
    db('ledger_transactions').count({ count: '*' }).first(),
    db('ledger_transactions as tx')
      .leftJoin('ledger_entries as entry', 'entry.transaction_id', 'tx.id')
      .groupBy('tx.id')
      .havingRaw('coalesce(sum(entry.amount), 0) <> 0 or count(entry.id) < 2')
      .select('tx.id', db.raw('coalesce(sum(entry.amount), 0) as sum'), db.raw('count(entry.id) as entries')),
    db('accounts as account')
      .leftJoin('ledger_entries as entry', 'entry.account_id', 'account.id')
      .groupBy('account.id', 'account.code', 'account.balance')
      .havingRaw('account.balance <> coalesce(sum(entry.amount), 0)')
      .select('account.id', 'account.code', 'account.balance', db.raw('coalesce(sum(entry.amount), 0) as from_entries')),
    db
      .from(
        db('ledger_entries')
          .select('id', 'account_id', 'balance_after', db.raw('sum(amount) over (partition by account_id order by id) as running'))
          .as('chain'),
      )
      .whereRaw('chain.balance_after <> chain.running')
      .select('id', 'account_id', 'balance_after', 'running'),
    activityMismatches(db),
  ]);
  const report: LedgerCheckReport = {
    ok: false,
    transactions: toSafeInteger(transactionCount?.count ?? 0),
    entries: toSafeInteger(totals?.entries ?? 0),
    total: toSafeInteger(totals?.total ?? 0),
    unbalancedTransactions: unbalanced.map((row: Record<string, unknown>) => ({
      transactionId: toSafeInteger(row.id),
      sum: toSafeInteger(row.sum),
      entries: toSafeInteger(row.entries),
    })),
    balanceMismatches: mismatched.map((row: Record<string, unknown>) => ({
      accountId: toSafeInteger(row.id),
      code: String(row.code),
      stored: toSafeInteger(row.balance),
      fromEntries: toSafeInteger(row.from_entries),
    })),
    runningBalanceMismatches: running.map((row: Record<string, unknown>) => ({
      entryId: toSafeInteger(row.id),
      accountId: toSafeInteger(row.account_id),
      recorded: toSafeInteger(row.balance_after),
      fromEntries: toSafeInteger(row.running),
    })),
    activityMismatches: activity,
  };
  report.ok =
    report.total === 0 &&
    report.unbalancedTransactions.length === 0 &&
    report.balanceMismatches.length === 0 &&
    report.runningBalanceMismatches.length === 0 &&
    report.activityMismatches.length === 0;
  return report;
}
