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
}

/** Recomputes everything the ledger keeps from its entries and lists any disagreement. */
export async function checkLedger(db: Queryable): Promise<LedgerCheckReport> {
  const [totals, transactionCount, unbalanced, mismatched, running] = await Promise.all([
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
  };
  report.ok =
    report.total === 0 &&
    report.unbalancedTransactions.length === 0 &&
    report.balanceMismatches.length === 0 &&
    report.runningBalanceMismatches.length === 0;
  return report;
}
