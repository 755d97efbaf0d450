import { DomainError } from '../shared/errors.js';
import type { DayKey } from '../time/calendar.js';
import { assertQuoteMove, QuoteStatusError, type QuoteStatus } from './quote-status.js';

/** How many times a day staff may send a quote again: enough for a lost mail, not a way to flood a mailbox. */
export const QUOTE_RESENDS_PER_DAY = 5;
export const RESEND_WINDOW_MS = 24 * 3600_000;
/** Who expires quotes in their timeline: the portal itself (no person's name has a colon). */
export const EXPIRY_ACTOR = 'system:expiry';

export type QuoteSendRefusal = 'validity_passed' | 'too_many_resends' | 'no_reply_address';
export class QuoteSendError extends DomainError<QuoteSendRefusal> {}

type Sendable = { status: QuoteStatus; customer: { validUntil: DayKey } };

/** Whether a quote's last day to be paid is behind `today` (both in the portal's time zone). */
export const validityPassed = (quote: Sendable, today: DayKey) => quote.customer.validUntil < today;

/** A sent quote whose last day has gone: the sweep, or the next look at it, moves it to `expired`. */
export const isDueToExpire = (quote: Sendable, today: DayKey) => quote.status === 'sent' && validityPassed(quote, today);

/**
 * What "send to the customer" does to a quote. A draft is sent, unless its last day has gone (staff
 * change the date first); a quote already sent was sent by an earlier click of the same button, so
 * nothing more happens; any other status is refused (QuoteStatusError).
 */
export function sendingOf(quote: Sendable, today: DayKey): 'send' | 'already_sent' {
  if (quote.status === 'sent') return 'already_sent';
  assertQuoteMove(quote.status, 'sent');
  if (validityPassed(quote, today)) throw new QuoteSendError('validity_passed', `the quote was valid until ${quote.customer.validUntil}`);
  return 'send';
}

/** A quote mailed again is one still sent (not cancelled, expired or paid since). */
export function assertStillSent(quote: Sendable): void {
  if (quote.status !== 'sent') throw new QuoteStatusError('invalid_transition', `a quote ${quote.status} is not sent again`);
}

/**
 * Whether a quote may be mailed again: only once sent and still valid (anything else is refused as
 * the status says, QuoteStatusError), and at most QUOTE_RESENDS_PER_DAY times in a day.
 */
export function assertResendable(quote: Sendable, today: DayKey, resendsInLastDay: number): void {
  assertStillSent(quote);
  if (validityPassed(quote, today)) throw new QuoteSendError('validity_passed', `the quote was valid until ${quote.customer.validUntil}`);
  if (resendsInLastDay >= QUOTE_RESENDS_PER_DAY) throw new QuoteSendError('too_many_resends', `sent again ${resendsInLastDay} times in a day`);
}
