import type { Knex } from 'knex';
import type { Database } from '../../db/database.js';
import { findQuote, insertQuoteEvent, listQuotesDueToExpire, lockQuote, moveQuote } from '../../db/quotes/quote-repository.js';
import { EXPIRY_ACTOR, isDueToExpire } from '../../domain/quotes/quote-sending.js';
import { dayOf } from '../../domain/time/calendar.js';

/**
 * Sent quotes whose last day has gone move to `expired`, with a timeline event: in the reconciler's
 * periodic sweep, and when a quote is looked at before the sweep came. Each move is checked again
 * under the quote's lock, so two sweeps (or a sweep and a page) expire a quote once.
 */
export function createQuoteExpiry({ db, timeZone }: { db: Database; timeZone: string }) {
  async function expireLocked(trx: Knex.Transaction, id: number, now: Date): Promise<boolean> {
    const quote = await lockQuote(trx, id);
    if (!quote || !isDueToExpire(quote, dayOf(now, timeZone))) return false;
    await moveQuote(trx, id, 'sent', 'expired', now);
    await insertQuoteEvent(trx, id, { type: 'expired', fromStatus: 'sent', toStatus: 'expired', detail: quote.customer.validUntil, actorUsername: EXPIRY_ACTOR }, now);
    return true;
  }

  return {
    /** The sweep: every sent quote past its last day; answers how many it expired. */
    async expireQuotes(now: Date): Promise<{ expired: number }> {
      let expired = 0;
      for (const id of await listQuotesDueToExpire(db.knex, dayOf(now, timeZone))) {
        if (await db.transaction((trx) => expireLocked(trx, id, now))) expired += 1;
      }
      return { expired };
    },

    /** Before a quote is shown: expired now if its day has gone (a read first, so a page usually writes nothing). */
    async expireIfDue(id: number, now: Date): Promise<void> {
      const quote = await findQuote(db.knex, id);
      if (quote && isDueToExpire(quote, dayOf(now, timeZone))) await db.transaction((trx) => expireLocked(trx, id, now));
    },
  };
}

export type QuoteExpiry = ReturnType<typeof createQuoteExpiry>;
