import type { Database } from '../../db/database.js';
import { countLookupAttempt, findQuoteForLookup, forgiveLookupAttempt, purgeLookupAttempts } from '../../db/quotes/quote-lookup-repository.js';
import { loginSource } from '../../domain/people/login-throttle.js';
import { longestLookupWindowMs, lookupKeys, QUOTE_LOOKUP_LIMITS, quoteLookupWaitMs } from '../../domain/quotes/quote-lookup.js';
import { sameLookupText } from '../../domain/quotes/quote-numbers.js';
import { quotePayability, type QuotePayability } from '../../domain/quotes/quote-payment.js';
import type { Clock } from '../../domain/time/clock.js';
import { dayOf, type DayKey } from '../../domain/time/calendar.js';

/** How often an instance deletes the failures no limit looks at any more. */
const PURGE_INTERVAL_MS = 60_000;

export type QuoteLookupResult =
  /** The right number and postcode of a quote the customer may now see: to be paid, already paid, or to be paid otherwise. */
  | { outcome: 'found'; quoteId: number; number: string; payability: Exclude<QuotePayability, 'expired' | 'cancelled' | 'not_sent'> }
  /** The right number and postcode of a quote that can no longer be paid: the customer is told why. */
  | { outcome: 'closed'; number: string; payability: 'expired' | 'cancelled'; validUntil: DayKey }
  /** No quote the customer may see has this number and postcode: a wrong number, a wrong postcode and a draft alike. */
  | { outcome: 'not_found' }
  /** Too many failures for this number or from this address: nothing was checked. */
  | { outcome: 'throttled'; retryAfterSeconds: number };

export interface QuoteLookupDependencies {
  db: Database;
  clock: Clock;
  /** The portal's calendar, in which a quote's last day is counted. */
  timeZone: string;
}

/**
 * "Recherche de commande": a quote found by its number (as stored: the caller made it canonical) and
 * its delivery postcode as printed, spaces and case forgiven. Each attempt is counted as a failure of
 * its number and its address before anything is checked (so parallel attempts cannot outrun the
 * limits) and forgiven if the postcode was right. An unknown number, a wrong postcode and a draft go
 * through the same queries and get the same answer. Once a minute, an attempt first deletes the
 * failures that have aged out of every window: the table holds the last day's failures at most.
 */
export function createQuoteLookup({ db, clock, timeZone }: QuoteLookupDependencies) {
  const keptMs = longestLookupWindowMs(QUOTE_LOOKUP_LIMITS);
  let purgeDueAt = 0;

  return async function lookUp({ number, postcode, ip }: { number: string; postcode: string; ip: string }): Promise<QuoteLookupResult> {
    const now = clock.now().getTime();
    if (now >= purgeDueAt) {
      purgeDueAt = now + PURGE_INTERVAL_MS;
      // Housekeeping: failing (PostgreSQL may pick it as a deadlock's victim against another instance's
      // purge) must not fail this look-up; the next purge comes a minute later.
      await purgeLookupAttempts(db.knex, now - keptMs).catch(() => undefined);
    }
    const keys = lookupKeys(number, loginSource(ip));
    const { waitMs, attemptIds } = await countLookupAttempt(db, [keys.number, keys.address], { now, since: now - keptMs }, (failures) =>
      quoteLookupWaitMs({ number: failures.get(keys.number) ?? [], address: failures.get(keys.address) ?? [] }, now),
    );
    if (waitMs > 0) return { outcome: 'throttled', retryAfterSeconds: Math.ceil(waitMs / 1000) };

    const quote = await findQuoteForLookup(db.knex, number);
    if (!quote || !sameLookupText(postcode, quote.customer.postcode)) return { outcome: 'not_found' };
    // quotePayability reads the status, the total and the last day only: the one query reads no more of the quote.
    const payability = quotePayability(quote, dayOf(new Date(now), timeZone));
    // A draft was never sent: nobody outside the desk knows its postcode, so it is answered as no quote.
    if (payability === 'not_sent') return { outcome: 'not_found' };
    await forgiveLookupAttempt(db.knex, attemptIds);
    if (payability === 'expired' || payability === 'cancelled') return { outcome: 'closed', number: quote.number, payability, validUntil: quote.customer.validUntil };
    return { outcome: 'found', quoteId: quote.id, number: quote.number, payability };
  };
}

export type QuoteLookup = ReturnType<typeof createQuoteLookup>;
