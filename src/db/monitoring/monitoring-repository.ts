import type { Knex } from 'knex';
import { toSafeInteger, type Queryable } from '../database.js';

/** Rows per value of `column`: one grouped count, values with no row left out. */
async function countBy(query: Knex.QueryBuilder, column: string): Promise<Map<string, number>> {
  const rows: Array<Record<string, unknown>> = await query.groupBy(column).select({ value: column }).count({ count: '*' });
  return new Map(rows.map((row) => [String(row.value), toSafeInteger(row.count)]));
}

/** Top-up orders per status (indexed on status). */
export const countOrdersByStatus = (db: Queryable) => countBy(db('orders'), 'status');

/** Outbox mails per status (indexed on status). */
export const countMailsByStatus = (db: Queryable) => countBy(db('mail_outbox'), 'status');

/** Ledger transactions per kind among ids in (`after`, `upTo`]: a range of the primary key, `upTo` open when left out. */
export function countLedgerTransactionsByKind(db: Queryable, ids: { after: number; upTo?: number }): Promise<Map<string, number>> {
  const query = db('ledger_transactions').where('id', '>', ids.after);
  if (ids.upTo !== undefined) void query.andWhere('id', '<=', ids.upTo);
  return countBy(query, 'kind');
}

/**
 * The highest ledger id in sight, and the transactions that may still add a row below it: on
 * PostgreSQL, those holding the lock every INSERT into the ledger takes before it draws its id from
 * the sequence (which hands ids out in order) and keeps until it ends: pg_locks, read after the id's
 * snapshot in the same statement. On SQLite none: writes take turns, and a writer still at work draws
 * ids above every committed one.
 */
export async function ledgerHighWater(db: Knex): Promise<{ lastId: number; writers: string[] }> {
  if (db.client.dialect === 'postgresql') {
    const { rows } = (await db.raw(`
      SELECT (SELECT max(id) FROM ledger_transactions) AS last_id,
        ARRAY(SELECT virtualtransaction FROM pg_locks
          WHERE locktype = 'relation' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND relation = 'ledger_transactions'::regclass AND mode = 'RowExclusiveLock' AND granted) AS writers`)) as {
      rows: Array<{ last_id: unknown; writers: string[] }>;
    };
    return { lastId: toSafeInteger(rows[0]?.last_id ?? 0), writers: rows[0]?.writers ?? [] };
  }
  const row = await db('ledger_transactions').max({ lastId: 'id' }).first();
  return { lastId: toSafeInteger(row?.lastId ?? 0), writers: [] };
}
