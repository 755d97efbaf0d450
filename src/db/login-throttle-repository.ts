import type { ThrottleState } from '../domain/login-throttle.js';
import { toSafeInteger, type Database } from './database.js';

/** New state per key; null deletes the key's row. */
export type ThrottleChanges = Map<string, ThrottleState | null>;

/**
 * Reads the throttle rows of `keys` locked against concurrent logins (PostgreSQL row locks taken in
 * key order; SQLite's single writer), lets `decide` choose the changes, and writes them in the same
 * transaction. Missing rows are created empty first so that there is always a row to lock.
 */
export async function updateThrottleStates<T>(
  db: Database,
  keys: string[],
  decide: (states: Map<string, ThrottleState>) => { result: T; changes: ThrottleChanges },
): Promise<T> {
  const sorted = [...new Set(keys)].sort();
  return db.transaction(async (trx) => {
    await trx('login_throttle')
      .insert(sorted.map((key) => ({ key, failures: 0, window_started_at: 0, locked_until: null })))
      .onConflict('key')
      .ignore();
    const query = trx('login_throttle').whereIn('key', sorted).orderBy('key');
    if (db.dialect === 'postgres') void query.forUpdate();
    const rows: Array<Record<string, unknown>> = await query;
    const states = new Map(
      rows.map((row) => [
        String(row.key),
        {
          failures: toSafeInteger(row.failures),
          windowStartedAt: toSafeInteger(row.window_started_at),
          lockedUntil: row.locked_until == null ? null : toSafeInteger(row.locked_until),
        },
      ]),
    );
    const { result, changes } = decide(states);
    for (const [key, state] of changes) {
      const row = trx('login_throttle').where('key', key);
      await (state === null
        ? row.del()
        : row.update({ failures: state.failures, window_started_at: state.windowStartedAt, locked_until: state.lockedUntil }));
    }
    return result;
  });
}
