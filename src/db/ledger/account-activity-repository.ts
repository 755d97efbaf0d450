import type { Knex } from 'knex';
import type { ActivityClass, ActivityRow, BucketRange } from '../../domain/ledger/account-activity.js';
import type { Hundredths } from '../../domain/ledger/ledger.js';
import { toSafeInteger, type Queryable } from '../database.js';

/** What an account's rows of one class add up to over a period. */
export interface ActivityTotals {
  entries: number;
  usedUnits: Hundredths;
}

/**
 * Adds a transaction's activity in one statement, inside its posting (db/ledger/ledger-repository.ts).
 * The rows must be one per key (`activityOf` merges them): PostgreSQL refuses a statement that would
 * update a row twice.
 */
export async function recordActivity(trx: Knex.Transaction, rows: readonly ActivityRow[]): Promise<void> {
  if (rows.length === 0) return;
  await trx('account_activity')
    .insert(rows.map((row) => ({ account_id: row.accountId, class: row.activityClass, span: row.span, bucket: row.bucket, entries: row.entries, used_units: row.usedUnits })))
    .onConflict(['account_id', 'class', 'span', 'bucket'])
    .merge({
      entries: trx.raw('?? + excluded.entries', ['account_activity.entries']),
      used_units: trx.raw('?? + excluded.used_units', ['account_activity.used_units']),
    });
}

/**
 * An account's activity in `classes` over the buckets of a period (`bucketRanges`), summed per class,
 * in one statement: each range is a range of the primary key.
 */
export async function readActivity(db: Queryable, accountId: number, classes: readonly ActivityClass[], ranges: readonly BucketRange[]): Promise<Map<ActivityClass, ActivityTotals>> {
  const [first, ...others] = ranges.map((range) => {
    const buckets = db('account_activity').where({ account_id: accountId, span: range.span }).whereIn('class', classes).select('class', 'entries', 'used_units');
    if (Number.isFinite(range.from)) void buckets.where('bucket', '>=', range.from);
    if (Number.isFinite(range.until)) void buckets.where('bucket', '<', range.until);
    return buckets;
  });
  if (!first) return new Map();
  const rows: Array<{ class: ActivityClass; entries: unknown; used_units: unknown }> = await db
    .from(first.unionAll(others).as('activity'))
    .groupBy('class')
    .select('class')
    .sum({ entries: 'entries', used_units: 'used_units' });
  return new Map(rows.map((row) => [row.class, { entries: toSafeInteger(row.entries), usedUnits: toSafeInteger(row.used_units) }]));
}
