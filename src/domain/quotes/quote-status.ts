import { DomainError } from '../shared/errors.js';

export const QUOTE_STATUSES = ['draft', 'sent', 'paid', 'partially_refunded', 'refunded', 'cancelled', 'expired'] as const;
export type QuoteStatus = (typeof QUOTE_STATUSES)[number];

/**
 * Where each status may go: forward only, never back. Staff edit a draft, send it, and the customer
 * pays what was sent; a refund follows a payment (a partial one may follow another). A quote is
 * cancelled by staff before it is paid, or expires once sent and not paid in time. A cancelled or
 * expired quote may still become paid: a customer who was already at PayPal when it closed was
 * charged, and the money is recorded against the quote (staff are told, and may refund it).
 */
const NEXT: Record<QuoteStatus, readonly QuoteStatus[]> = {
  draft: ['sent', 'cancelled'],
  sent: ['paid', 'cancelled', 'expired'],
  paid: ['partially_refunded', 'refunded'],
  partially_refunded: ['partially_refunded', 'refunded'],
  refunded: [],
  cancelled: ['paid'],
  expired: ['paid'],
};

/** Statuses of quotes whose money was taken (refunds may have given some back since). */
export const PAID_STATUSES: readonly QuoteStatus[] = ['paid', 'partially_refunded', 'refunded'];
/** Staff may still change the lines, the customer and the delivery. */
export const EDITABLE_STATUSES: readonly QuoteStatus[] = ['draft'];

export class QuoteStatusError extends DomainError<'invalid_transition'> {}

export function isQuoteStatus(value: unknown): value is QuoteStatus {
  return typeof value === 'string' && (QUOTE_STATUSES as readonly string[]).includes(value);
}

export function nextQuoteStatuses(status: QuoteStatus): readonly QuoteStatus[] {
  return NEXT[status];
}

export function canMoveQuote(from: QuoteStatus, to: QuoteStatus): boolean {
  return NEXT[from].includes(to);
}

export function assertQuoteMove(from: QuoteStatus, to: QuoteStatus): void {
  if (!canMoveQuote(from, to)) throw new QuoteStatusError('invalid_transition', `a quote cannot go from ${from} to ${to}`);
}
