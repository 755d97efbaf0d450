import { countAttempt } from '../attempt-counters.js';
import type { Database, Queryable } from '../database.js';

/** Wrong second-factor codes, and the class of the transaction locks taken on their counters ('2FAC'). */
const SECOND_FACTOR_ATTEMPTS = { table: 'second_factor_attempts', lockClass: 0x32464143 };

/**
 * Counts a check as a failure of its person before the code is looked at, so that parallel guesses
 * cannot outrun the limit, unless `waitOf` says it must wait (db/attempt-counters.ts); a right code
 * takes its row back (forgiveSecondFactorAttempt).
 */
export const countSecondFactorAttempt = (db: Database, keys: readonly string[], window: { now: number; since: number }, waitOf: (failures: ReadonlyMap<string, number[]>) => number) =>
  countAttempt(db, SECOND_FACTOR_ATTEMPTS, keys, window, waitOf);

export async function forgiveSecondFactorAttempt(db: Queryable, attemptIds: readonly number[]): Promise<void> {
  await db(SECOND_FACTOR_ATTEMPTS.table).whereIn('id', attemptIds).del();
}

/** Deletes the failures counted at or before `before`, which no limit looks at any more. */
export async function purgeSecondFactorAttempts(db: Queryable, before: number): Promise<number> {
  return db(SECOND_FACTOR_ATTEMPTS.table).where('attempted_at', '<=', before).del();
}
