import { countAttempt } from '../attempt-counters.js';
import type { Database, Queryable } from '../database.js';

/** Failed redemptions, and the class of the transaction locks taken on their counters ('VCHR'). */
const REDEMPTION_ATTEMPTS = { table: 'voucher_redemption_attempts', lockClass: 0x56434852 };

/**
 * Counts a redemption as a failure of its person and its address before the code is looked at, so
 * that parallel guesses cannot outrun the limits, unless `waitOf` says it must wait
 * (db/attempt-counters.ts); a redemption that succeeds takes its rows back (forgiveRedemptionAttempt).
 */
export const countRedemptionAttempt = (db: Database, keys: readonly string[], window: { now: number; since: number }, waitOf: (failures: ReadonlyMap<string, number[]>) => number) =>
  countAttempt(db, REDEMPTION_ATTEMPTS, keys, window, waitOf);

/** Takes back the failures an attempt was counted as: the code was redeemed. */
export async function forgiveRedemptionAttempt(db: Queryable, attemptIds: readonly number[]): Promise<void> {
  await db(REDEMPTION_ATTEMPTS.table).whereIn('id', attemptIds).del();
}

/** Deletes the failures counted at or before `before`, which no limit looks at any more. */
export async function purgeRedemptionAttempts(db: Queryable, before: number): Promise<number> {
  return db(REDEMPTION_ATTEMPTS.table).where('attempted_at', '<=', before).del();
}
