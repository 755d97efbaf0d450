import { createHash } from 'node:crypto';
import { toSafeInteger, type Database, type Queryable } from './database.js';

/** A table of failed attempts (`id`, `key`, `attempted_at` in ms) and the class of the advisory locks taken on its keys. */
export interface AttemptTable {
  table: string;
  /** Keeps these transaction locks apart from the portal's other advisory locks. */
  lockClass: number;
}

/** A key as the 32-bit number of its advisory lock (two keys may share one: they then wait for each other). */
const keyLockId = (key: string) => createHash('sha256').update(key, 'utf8').digest().readInt32BE(0);

/**
 * Reads the failures counted under `keys` since `since`, with those keys locked against concurrent
 * attempts, and asks `waitOf` how long this attempt must wait. If it need not, the attempt is counted
 * as a failure of every key at `now` in the same transaction, before anything is checked, so that
 * parallel attempts cannot outrun the limits; a right answer then takes its rows back by their ids.
 * On PostgreSQL each key is locked (a transaction advisory lock, in the order of their lock numbers)
 * whether or not it has rows yet; SQLite has one writer. Used by the quote lookup and code redemptions.
 */
export async function countAttempt(
  db: Database,
  { table, lockClass }: AttemptTable,
  keys: readonly string[],
  { now, since }: { now: number; since: number },
  waitOf: (failures: ReadonlyMap<string, number[]>) => number,
): Promise<{ waitMs: number; attemptIds: number[] }> {
  const sorted = [...new Set(keys)].sort();
  return db.transaction(async (trx) => {
    if (db.dialect === 'postgres') {
      const lockIds = [...new Set(sorted.map(keyLockId))].sort((left, right) => left - right);
      for (const id of lockIds) await trx.raw('SELECT pg_advisory_xact_lock(?, ?)', [lockClass, id]);
    }
    const rows: Array<{ key: unknown; attempted_at: unknown }> = await trx(table).whereIn('key', sorted).where('attempted_at', '>', since).select('key', 'attempted_at');
    const failures = new Map(sorted.map((key) => [key, [] as number[]]));
    for (const row of rows) failures.get(String(row.key))?.push(toSafeInteger(row.attempted_at));
    const waitMs = waitOf(failures);
    if (waitMs > 0) return { waitMs, attemptIds: [] };
    const inserted: Array<{ id: unknown }> = await trx(table)
      .insert(sorted.map((key) => ({ key, attempted_at: now })))
      .returning('id');
    return { waitMs: 0, attemptIds: inserted.map((row) => toSafeInteger(row.id)) };
  });
}

/**
 * The three operations every table of failed attempts needs: count an attempt (countAttempt), take
 * back the rows of one that turned out right, and delete the rows no limit looks at any more.
 */
export function attemptCounter(attempts: AttemptTable) {
  return {
    count: (db: Database, keys: readonly string[], window: { now: number; since: number }, waitOf: (failures: ReadonlyMap<string, number[]>) => number) =>
      countAttempt(db, attempts, keys, window, waitOf),
    forgive: async (db: Queryable, attemptIds: readonly number[]): Promise<void> => {
      await db(attempts.table).whereIn('id', attemptIds).del();
    },
    purge: (db: Queryable, before: number): Promise<number> => db(attempts.table).where('attempted_at', '<=', before).del(),
  };
}
