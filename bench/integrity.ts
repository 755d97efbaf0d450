import type { Knex } from 'knex';
import { parseDatabaseUrl } from '../src/config.js';
import { createDatabase, toSafeInteger, type Queryable } from '../src/db/database.js';
import { checkLedger, type LedgerCheckReport } from '../src/db/ledger/ledger-check.js';
import { buyerUsername, printerUsername } from './prepare.js';

export interface IntegrityInput {
  databaseUrl: string;
  buyers: number;
  printers: number;
  /** Top-up flows, warm-up included: each completed one paid an order, a failed one may have. */
  flows: { completed: number; failed: number };
  /** Debit requests sent (warm-up included), and those measured that were answered 2xx. */
  debits: { sent: number; answeredOk: number };
}

export interface IntegrityReport {
  /** What was counted, for the reader. */
  lines: string[];
  /** Each disagreement: any makes the run fail. */
  problems: string[];
}

/** The `value` a count or sum selects (null, for a sum of no rows, is 0). */
const valueOf = async (query: Knex.QueryBuilder) => toSafeInteger(((await query.first()) as { value: unknown } | undefined)?.value ?? 0);

/** Ids of the people's accounts, by username. */
async function accountIds(db: Queryable, usernames: string[]): Promise<number[]> {
  const rows: Array<{ id: unknown }> = await db('accounts').join('users', 'users.id', 'accounts.user_id').whereIn('users.username', usernames).select('accounts.id');
  return rows.map((row) => toSafeInteger(row.id));
}

/**
 * What `ledger check` found, in a line: the totals when clean, else how many disagreements of each kind
 * (every list of the report) and the first of each.
 */
function describeLedgerCheck(report: LedgerCheckReport): string {
  const totals = `${report.transactions} transactions, ${report.entries} entries, sum of all entries ${report.total}`;
  if (report.ok) return `ledger check: ${totals}, clean`;
  const lists = Object.entries(report).filter((field): field is [string, unknown[]] => Array.isArray(field[1]) && field[1].length > 0);
  return `ledger check failed (${totals}): ${lists.map(([name, items]) => `${items.length} ${name}, e.g. ${JSON.stringify(items[0])}`).join('; ')}`;
}

/**
 * Money exactly once, after the load: every paid order of the buyers has one top-up credit and one
 * receipt, and as many as the flows paid; every debit recorded on the printers' accounts is one usage
 * transaction, their balances are what the debits took, and no more debits were recorded than sent;
 * and `ledger check` (what `npm run ledger:check` runs: everything the ledger keeps, recomputed from
 * its entries) is clean.
 */
export async function checkIntegrity(input: IntegrityInput): Promise<IntegrityReport> {
  const db = createDatabase(parseDatabaseUrl(input.databaseUrl), { poolMax: 2 });
  const problems: string[] = [];
  const lines: string[] = [];
  try {
    const knex = db.knex;
    const buyerAccounts = await accountIds(knex, Array.from({ length: input.buyers }, (_, index) => buyerUsername(index)));
    const paidOrders = knex('orders').join('accounts', 'accounts.user_id', 'orders.user_id').whereIn('accounts.id', buyerAccounts).where('orders.status', 'paid');
    const paid = await valueOf(paidOrders.clone().count({ value: '*' }));
    const orderedUnits = await valueOf(paidOrders.clone().sum({ value: knex.raw('orders.units + orders.bonus_units') }));
    const topUps = knex('ledger_entries as entry').join('ledger_transactions as tx', 'tx.id', 'entry.transaction_id').whereIn('entry.account_id', buyerAccounts).where('tx.kind', 'top_up');
    const credits = await valueOf(topUps.clone().countDistinct({ value: 'tx.id' }));
    const creditedUnits = await valueOf(topUps.clone().sum({ value: 'entry.amount' }));
    const receipts = await valueOf(
      knex('documents').where('kind', 'receipt').whereIn('order_id', paidOrders.clone().select('orders.id')).countDistinct({ value: 'order_id' }),
    );
    lines.push(`${paid} paid orders, ${credits} top-up credits, ${receipts} receipts; ${input.flows.completed} flows completed, ${input.flows.failed} failed (warm-up included)`);
    if (paid !== credits || paid !== receipts) problems.push(`paid orders (${paid}), top-up credits (${credits}) and receipts (${receipts}) differ`);
    if (orderedUnits !== creditedUnits) problems.push(`the paid orders are for ${orderedUnits} hundredths of a unit, the credits gave ${creditedUnits}`);
    if (paid < input.flows.completed || paid > input.flows.completed + input.flows.failed) {
      problems.push(`${paid} orders paid for ${input.flows.completed} flows completed and ${input.flows.failed} failed`);
    }

    const printerAccounts = await accountIds(knex, Array.from({ length: input.printers }, (_, index) => printerUsername(index)));
    const debits = knex('usage_debits').whereIn('account_id', printerAccounts);
    const recorded = await valueOf(debits.clone().count({ value: '*' }));
    const debitedUnits = await valueOf(debits.clone().sum({ value: 'amount' }));
    const usage = knex('ledger_entries as entry').join('ledger_transactions as tx', 'tx.id', 'entry.transaction_id').whereIn('entry.account_id', printerAccounts).where('tx.kind', 'usage');
    const usageTransactions = await valueOf(usage.clone().countDistinct({ value: 'tx.id' }));
    const balances = await valueOf(knex('accounts').whereIn('id', printerAccounts).sum({ value: 'balance' }));
    lines.push(`${recorded} debits recorded on ${printerAccounts.length} printer accounts, ${usageTransactions} usage transactions; ${input.debits.sent} sent, ${input.debits.answeredOk} measured answered 2xx`);
    if (recorded !== usageTransactions) problems.push(`${recorded} debits recorded but ${usageTransactions} usage transactions`);
    if (balances !== -debitedUnits) problems.push(`the printers' balances add up to ${balances}, their debits to ${-debitedUnits}`);
    if (recorded > input.debits.sent || recorded < input.debits.answeredOk) problems.push(`${recorded} debits recorded for ${input.debits.sent} sent and ${input.debits.answeredOk} measured answered 2xx`);
    const ledger = await checkLedger(knex);
    (ledger.ok ? lines : problems).push(describeLedgerCheck(ledger));
  } finally {
    await db.close();
  }
  return { lines, problems };
}
