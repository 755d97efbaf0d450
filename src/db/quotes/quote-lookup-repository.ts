import { createHash } from 'node:crypto';
import type { QuoteStatus } from '../../domain/quotes/quote-status.js';
import type { Quote } from '../../domain/quotes/quotes.js';
import { toSafeInteger, type Database, type Queryable } from '../database.js';

/** What "Recherche de commande" reads of a quote: enough to compare the postcode and say what may be done. */
export type LookedUpQuote = Pick<Quote, 'id' | 'number' | 'status' | 'totalCents'> & { customer: Pick<Quote['customer'], 'postcode' | 'validUntil'> };

/** The class of the transaction locks taken on look-up keys ('QLKP'), apart from the portal's other advisory locks. */
const KEY_LOCK_CLASS = 0x514c4b50;

/** A key as the 32-bit number of its advisory lock (two keys may share one: they then wait for each other). */
const keyLockId = (key: string) => createHash('sha256').update(key, 'utf8').digest().readInt32BE(0);

/**
 * Reads the failures counted under `keys` since `since`, with those keys locked against concurrent
 * look-ups, and asks `waitOf` how long this attempt must wait. If it need not, the attempt is counted
 * as a failure of every key at `now` in the same transaction, before anything is checked, so that
 * parallel attempts cannot outrun the limits; a right answer then takes its rows back
 * (forgiveLookupAttempt). On PostgreSQL each key is locked (a transaction advisory lock, in the order
 * of their lock numbers) whether or not it has rows yet; SQLite has one writer.
 */
export async function countLookupAttempt(
  db: Database,
  keys: readonly string[],
  { now, since }: { now: number; since: number },
  waitOf: (failures: ReadonlyMap<string, number[]>) => number,
): Promise<{ waitMs: number; attemptIds: number[] }> {
  const sorted = [...new Set(keys)].sort();
  return db.transaction(async (trx) => {
    if (db.dialect === 'postgres') {
      const lockIds = [...new Set(sorted.map(keyLockId))].sort((left, right) => left - right);
      for (const id of lockIds) await trx.raw('SELECT pg_advisory_xact_lock(?, ?)', [KEY_LOCK_CLASS, id]);
    }
    const rows: Array<{ key: unknown; attempted_at: unknown }> = await trx('quote_lookup_attempts').whereIn('key', sorted).where('attempted_at', '>', since).select('key', 'attempted_at');
    const failures = new Map(sorted.map((key) => [key, [] as number[]]));
    for (const row of rows) failures.get(String(row.key))?.push(toSafeInteger(row.attempted_at));
    const waitMs = waitOf(failures);
    if (waitMs > 0) return { waitMs, attemptIds: [] };
    const inserted: Array<{ id: unknown }> = await trx('quote_lookup_attempts')
      .insert(sorted.map((key) => ({ key, attempted_at: now })))
      .returning('id');
    return { waitMs: 0, attemptIds: inserted.map((row) => toSafeInteger(row.id)) };
  });
}

/** Takes back the failures an attempt was counted as: its number and postcode were right. */
export async function forgiveLookupAttempt(db: Queryable, attemptIds: readonly number[]): Promise<void> {
  await db('quote_lookup_attempts').whereIn('id', attemptIds).del();
}

/** Deletes the failures counted at or before `before`, which no limit looks at any more. */
export async function purgeLookupAttempts(db: Queryable, before: number): Promise<number> {
  return db('quote_lookup_attempts').where('attempted_at', '<=', before).del();
}

/**
 * The quote numbered exactly `number`, as stored, in one query whether or not it exists: a look-up of
 * a number nobody has costs what a look-up with a wrong postcode costs.
 */
export async function findQuoteForLookup(db: Queryable, number: string): Promise<LookedUpQuote | undefined> {
  const row = (await db('quotes').where('number', number).first('id', 'number', 'status', 'total_cents', 'delivery_postcode', 'valid_until')) as Record<string, unknown> | undefined;
  if (!row) return undefined;
  return {
    id: toSafeInteger(row.id),
    number: String(row.number),
    status: row.status as QuoteStatus,
    totalCents: toSafeInteger(row.total_cents),
    customer: { postcode: String(row.delivery_postcode), validUntil: String(row.valid_until) },
  };
}
