import type { QuoteStatus } from '../../domain/quotes/quote-status.js';
import type { Quote } from '../../domain/quotes/quotes.js';
import { countAttempt } from '../attempt-counters.js';
import { toSafeInteger, type Database, type Queryable } from '../database.js';

/** What "Recherche de commande" reads of a quote: enough to compare the postcode and say what may be done. */
export type LookedUpQuote = Pick<Quote, 'id' | 'number' | 'status' | 'totalCents'> & { customer: Pick<Quote['customer'], 'postcode' | 'validUntil'> };

/** The look-ups' failures, and the class of the transaction locks taken on their keys ('QLKP'). */
const LOOKUP_ATTEMPTS = { table: 'quote_lookup_attempts', lockClass: 0x514c4b50 };

/**
 * Counts a look-up as a failure of each of its keys before anything is checked, unless `waitOf` says
 * it must wait (db/attempt-counters.ts); a right answer then takes its rows back (forgiveLookupAttempt).
 */
export const countLookupAttempt = (db: Database, keys: readonly string[], window: { now: number; since: number }, waitOf: (failures: ReadonlyMap<string, number[]>) => number) =>
  countAttempt(db, LOOKUP_ATTEMPTS, keys, window, waitOf);

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
