import type { QuoteStatus } from '../../domain/quotes/quote-status.js';
import type { Quote } from '../../domain/quotes/quotes.js';
import { attemptCounter } from '../attempt-counters.js';
import { toSafeInteger, type Queryable } from '../database.js';

/** What "Recherche de commande" reads of a quote: enough to compare the postcode and say what may be done. */
export type LookedUpQuote = Pick<Quote, 'id' | 'number' | 'status' | 'totalCents'> & { customer: Pick<Quote['customer'], 'postcode' | 'validUntil'> };

/**
 * The look-ups' failures ('QLKP' locks): a look-up is counted as a failure of each of its keys before
 * anything is checked; a right answer (number and postcode) takes its rows back (db/attempt-counters.ts).
 */
export const {
  count: countLookupAttempt,
  forgive: forgiveLookupAttempt,
  purge: purgeLookupAttempts,
} = attemptCounter({ table: 'quote_lookup_attempts', lockClass: 0x514c4b50 });

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
