import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { ThrottleState } from '../../domain/people/login-throttle.js';
import { toSafeInteger, type Database, type Queryable } from '../database.js';

/** New state per key; null (or a state that holds neither a count nor a lock) deletes the key's row. */
export type ThrottleChanges = Map<string, ThrottleState | null>;

/** The class of the transaction locks taken on throttle keys ('RLOG'), apart from the portal's other advisory locks. */
const KEY_LOCK_CLASS = 0x524c4f47;

/**
 * Reads the throttle rows of `keys` locked against concurrent logins, lets `decide` choose the
 * changes, and writes them in the same transaction. On PostgreSQL each key is locked (a transaction
 * advisory lock, in the order of their lock numbers) whether or not it has a row yet; SQLite has one writer. Only rows that
 * hold a count or a lock are kept: an attempt refused or forgiven leaves no row behind.
 */
export async function updateThrottleStates<T>(
  db: Database,
  keys: string[],
  decide: (states: Map<string, ThrottleState>) => { result: T; changes: ThrottleChanges },
): Promise<T> {
  const sorted = [...new Set(keys)].sort();
  return db.transaction(async (trx) => {
    if (db.dialect === 'postgres') {
      const lockIds = [...new Set(sorted.map(keyLockId))].sort((left, right) => left - right);
      for (const id of lockIds) await trx.raw('SELECT pg_advisory_xact_lock(?, ?)', [KEY_LOCK_CLASS, id]);
    }
    const query = trx('login_throttle').whereIn('key', sorted).orderBy('key');
    // Row locks as well: `login unlock` deletes these rows without the advisory locks.
    if (db.dialect === 'postgres') void query.forUpdate();
    const rows: Array<Record<string, unknown>> = await query;
    const states = new Map(rows.map((row) => [String(row.key), toState(row)]));
    const { result, changes } = decide(states);
    for (const [key, state] of changes) {
      await (state === null || (state.failures === 0 && state.lockedUntil === null)
        ? trx('login_throttle').where('key', key).del()
        : trx('login_throttle')
            .insert({ key, failures: state.failures, window_started_at: state.windowStartedAt, locked_until: state.lockedUntil })
            .onConflict('key')
            .merge());
    }
    return result;
  });
}

/**
 * Deletes the rows that no longer hold anything at `now`: their lock has ended, or, unlocked, their
 * counting window of `windowMs` has (a failure after either starts counting afresh).
 */
export async function purgeExpiredThrottleRows(db: Queryable, now: number, windowMs: number): Promise<number> {
  return db('login_throttle')
    .where((ended) => void ended.whereNotNull('locked_until').andWhere('locked_until', '<=', now))
    .orWhere((stale) => void stale.whereNull('locked_until').andWhere('window_started_at', '<=', now - windowMs))
    .del();
}

/** A key as the 32-bit number of its advisory lock (two keys may share one: they then wait for each other). */
const keyLockId = (key: string) => createHash('sha256').update(key, 'utf8').digest().readInt32BE(0);

/** Deletes the rows of `keys` and of every key starting with `prefix`, in the caller's transaction; returns what they held, by key. */
export async function deleteThrottleRows(trx: Knex.Transaction, keys: string[], prefix: string): Promise<Map<string, ThrottleState>> {
  const rows = () => trx('login_throttle').whereIn('key', keys).orWhere('key', 'like', `${prefix}%`);
  const found: Array<Record<string, unknown>> = await rows().select();
  await rows().del();
  return new Map(found.map((row) => [String(row.key), toState(row)]));
}

function toState(row: Record<string, unknown>): ThrottleState {
  return {
    failures: toSafeInteger(row.failures),
    windowStartedAt: toSafeInteger(row.window_started_at),
    lockedUntil: row.locked_until == null ? null : toSafeInteger(row.locked_until),
  };
}
