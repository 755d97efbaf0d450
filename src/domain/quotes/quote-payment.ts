import type { DayKey } from '../time/calendar.js';
import { PAID_STATUSES } from './quote-status.js';
import type { QuoteTotals } from './quote-totals.js';
import type { QuoteCustomer } from './quote-draft.js';
import type { Quote } from './quotes.js';

/** What a customer who found a quote may do with it, and why not: the lookup's and the confirm page's message. */
export type QuotePayability = 'payable' | 'paid' | 'expired' | 'cancelled' | 'not_sent' | 'too_large';

/**
 * The most a quote may be paid online, as for a top-up (pricing.ts): above it the desk takes a bank
 * transfer. A quote may total more (quote-totals.ts); the orders' integer columns and PayPal's limits may not.
 */
export const MAX_ONLINE_PAYMENT_CENTS = 10_000_000;

/**
 * A sent quote may be paid up to and including its last day (the portal's calendar day); the sweep
 * marks it expired later, but a quote past its day is already expired for the customer.
 */
export function quotePayability(quote: Pick<Quote, 'status' | 'totalCents'> & { customer: Pick<QuoteCustomer, 'validUntil'> }, today: DayKey): QuotePayability {
  if (PAID_STATUSES.includes(quote.status)) return 'paid';
  switch (quote.status) {
    case 'draft':
      return 'not_sent';
    case 'cancelled':
      return 'cancelled';
    case 'expired':
      return 'expired';
    default:
      if (today > quote.customer.validUntil) return 'expired';
      return quote.totalCents > MAX_ONLINE_PAYMENT_CENTS ? 'too_large' : 'payable';
  }
}

/**
 * The single VAT rate an order paying these totals records: the rate when every line has the same one,
 * otherwise 0 — the receipt then prints the VAT per rate from the quote, and the order's VAT amount
 * (the sum over the rates) is what the accounts use.
 */
export function orderVatRateOf(totals: Pick<QuoteTotals, 'vatRates'>): number {
  return totals.vatRates.length === 1 ? totals.vatRates[0]!.vatRateBasisPoints : 0;
}

/** A signed-in person may pay in units a quote made out to them, when staff set a price in units. */
export function mayPayInUnits(quote: Pick<Quote, 'userId' | 'unitsPrice'>, userId: number | undefined): boolean {
  return userId !== undefined && quote.userId === userId && quote.unitsPrice !== null && quote.unitsPrice > 0;
}
