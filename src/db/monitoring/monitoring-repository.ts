import { toSafeInteger, type Queryable } from '../database.js';

/** Rows per value of `column`: one grouped count, values with no row left out. */
async function countBy(db: Queryable, table: string, column: string): Promise<Map<string, number>> {
  const rows: Array<Record<string, unknown>> = await db(table).groupBy(column).select({ value: column }).count({ count: '*' });
  return new Map(rows.map((row) => [String(row.value), toSafeInteger(row.count)]));
}

/** Top-up orders per status (indexed on status). */
export const countOrdersByStatus = (db: Queryable) => countBy(db, 'orders', 'status');

/** Outbox mails per status (indexed on status). */
export const countMailsByStatus = (db: Queryable) => countBy(db, 'mail_outbox', 'status');

/** Ledger transactions per kind, ever: the ledger is append-only, so these only grow. */
export const countLedgerTransactionsByKind = (db: Queryable) => countBy(db, 'ledger_transactions', 'kind');
