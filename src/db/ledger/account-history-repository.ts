import type { Knex } from 'knex';
import { categoryAccountCode, type HistoryFilter } from '../../domain/ledger/account-history.js';
import { SystemAccount, USAGE_CATEGORIES, type Hundredths, type TransactionKind, type UsageCategory } from '../../domain/ledger/ledger.js';
import { toDate, toSafeInteger, type Queryable } from '../database.js';
import type { RefusalReason } from '../print-api/refusal-repository.js';
import { jobDetailsOf } from '../print-api/usage-repository.js';

export interface HistoryRow {
  /** The account's ledger entry: the order of the history, and the cursor of the next page. */
  entryId: number;
  transactionId: number;
  kind: TransactionKind;
  description: string | null;
  /** The code of the first other account of the transaction, e.g. `system:usage:print`. */
  counterpart: string | null;
  /** The usage category of a job, and of the reversal that cancels one; null for anything else. */
  category: UsageCategory | null;
  /** What the print server said of the job (of the job cancelled, for its reversal); null otherwise. */
  pages: number | null;
  /** Likewise: the printer, colour (or black and white), two-sided (or one side); null when the server did not say. */
  printer: string | null;
  colour: boolean | null;
  duplex: boolean | null;
  reference: string | null;
  createdAt: Date;
  amount: Hundredths;
  balanceAfter: Hundredths;
}

export interface HistoryQuery extends HistoryFilter {
  limit: number;
  offset?: number;
  /** Only entries older than this one (keyset paging: entry ids grow with time). */
  beforeEntryId?: number;
}

const CATEGORY_OF_ACCOUNT = new Map<string, UsageCategory>(USAGE_CATEGORIES.map((category) => [SystemAccount.usage(category), category]));

/** Keeps the rows whose `column` falls in [from, until); timestamps compare as ISO strings in SQLite, as instants in PostgreSQL. */
function inPeriod(builder: Knex.QueryBuilder, column: string, period: Pick<HistoryFilter, 'from' | 'until'>): Knex.QueryBuilder {
  if (period.from) void builder.where(column, '>=', period.from.toISOString());
  if (period.until) void builder.where(column, '<', period.until.toISOString());
  return builder;
}

/** The account's entries the filter keeps; a category keeps the transactions that touch its system account. */
function filteredEntries(db: Queryable, accountId: number, filter: HistoryFilter): Knex.QueryBuilder {
  const entries = db('ledger_entries as entry').join('ledger_transactions as tx', 'tx.id', 'entry.transaction_id').where('entry.account_id', accountId);
  if (filter.category) {
    const touchingCategory = db('ledger_entries as other')
      .join('accounts as other_account', 'other_account.id', 'other.account_id')
      .where('other.transaction_id', db.ref('entry.transaction_id'))
      .where('other_account.code', categoryAccountCode(filter.category))
      .select('other.id');
    void entries.whereExists(touchingCategory);
  }
  return inPeriod(entries, 'tx.created_at', filter);
}

/** One page of an account's history, newest first. */
export async function listAccountHistory(db: Queryable, accountId: number, query: HistoryQuery): Promise<HistoryRow[]> {
  const counterpart = db('ledger_entries as other')
    .join('accounts as other_account', 'other_account.id', 'other.account_id')
    .where('other.transaction_id', db.ref('entry.transaction_id'))
    .where('other.account_id', '<>', db.ref('entry.account_id'))
    .orderBy('other.id')
    .limit(1)
    .select('other_account.code');
  const page = filteredEntries(db, accountId, query)
    // A job's own row, or the row of the job a reversal cancels.
    .leftJoin('usage_debits as debit', 'debit.transaction_id', 'tx.id')
    .leftJoin('usage_debits as cancelled', 'cancelled.transaction_id', 'tx.reverses_transaction_id')
    .orderBy('entry.id', 'desc')
    .limit(query.limit)
    .offset(query.offset ?? 0)
    .select({
      entry_id: 'entry.id',
      transaction_id: 'tx.id',
      kind: 'tx.kind',
      description: 'tx.description',
      created_at: 'tx.created_at',
      amount: 'entry.amount',
      balance_after: 'entry.balance_after',
      pages: 'debit.pages',
      printer: 'debit.printer',
      colour: 'debit.colour',
      duplex: 'debit.duplex',
      reference: 'debit.reference',
      cancelled_pages: 'cancelled.pages',
      cancelled_printer: 'cancelled.printer',
      cancelled_colour: 'cancelled.colour',
      cancelled_duplex: 'cancelled.duplex',
      cancelled_reference: 'cancelled.reference',
    })
    .select(counterpart.as('counterpart'));
  if (query.beforeEntryId !== undefined) void page.where('entry.id', '<', query.beforeEntryId);
  const rows: Array<Record<string, unknown>> = await page;
  return rows.map((row) => {
    const counterpartCode = (row.counterpart as string | null) ?? null;
    const job =
      row.reference != null
        ? { ...jobDetailsOf(row), reference: row.reference }
        : { ...jobDetailsOf({ pages: row.cancelled_pages, printer: row.cancelled_printer, colour: row.cancelled_colour, duplex: row.cancelled_duplex }), reference: row.cancelled_reference };
    return {
      entryId: toSafeInteger(row.entry_id),
      transactionId: toSafeInteger(row.transaction_id),
      kind: row.kind as TransactionKind,
      description: (row.description as string | null) ?? null,
      counterpart: counterpartCode,
      category: CATEGORY_OF_ACCOUNT.get(counterpartCode ?? '') ?? null,
      pages: job.pages,
      printer: job.printer,
      colour: job.colour,
      duplex: job.duplex,
      reference: job.reference == null ? null : String(job.reference),
      createdAt: toDate(row.created_at),
      amount: toSafeInteger(row.amount),
      balanceAfter: toSafeInteger(row.balance_after),
    };
  });
}

/** A job a print server refused before printing it, as the person's history shows it: nothing was taken. */
export interface RefusedJobRow {
  id: number;
  category: UsageCategory;
  reason: RefusalReason;
  /** What the job would have cost. */
  amount: Hundredths;
  pages: number | null;
  printer: string | null;
  colour: boolean | null;
  duplex: boolean | null;
  createdAt: Date;
}

/** The account's refused jobs in the filter's period and category (top-ups have none), newest first, at most `limit`. */
export async function listRefusedJobs(db: Queryable, accountId: number, query: HistoryFilter & { limit: number }): Promise<RefusedJobRow[]> {
  const refusals = db('usage_refusals').where('account_id', accountId);
  if (query.category) void refusals.where('category', query.category);
  const rows: Array<Record<string, unknown>> = await inPeriod(refusals, 'created_at', query)
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(query.limit)
    .select('id', 'category', 'reason', 'amount', 'pages', 'printer', 'colour', 'duplex', 'created_at');
  return rows.map((row) => ({
    id: toSafeInteger(row.id),
    category: row.category as UsageCategory,
    reason: row.reason as RefusalReason,
    amount: toSafeInteger(row.amount),
    ...jobDetailsOf(row),
    createdAt: toDate(row.created_at),
  }));
}
