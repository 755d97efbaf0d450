import { OPEN_STATUSES, type OrderStatus } from './order-status.js';
import type { Order } from './orders.js';
import type { Quote } from '../pricing/pricing.js';

export interface OrderLimits {
  /** Orders waiting for payment, placed within the expiry time, that one person may have at once. */
  openOrdersPerPerson: number;
  /** PayPal orders one person may start in a minute. */
  paypalOrdersPerMinute: number;
}

/** Orders counted against `openOrdersPerPerson`: not paid, not closed. */
export const UNPAID_STATUSES: readonly OrderStatus[] = ['created', ...OPEN_STATUSES];
/** Orders the person can still pay from their page, so choosing the same offer again brings them back to it. */
const REUSABLE_STATUSES: readonly OrderStatus[] = ['created', 'awaiting_payment'];
/** The window of `paypalOrdersPerMinute`. */
export const PAYPAL_ORDER_WINDOW_MS = 60_000;

const QUOTE_FIELDS = ['kind', 'packId', 'currency', 'priceCents', 'netCents', 'vatCents', 'vatRateBasisPoints', 'units', 'bonusUnits'] as const satisfies ReadonlyArray<keyof Quote>;

/**
 * The open order to send the person back to when they choose an offer again: one they can still pay,
 * with exactly this quote (so the same pack or amount at today's prices and bonuses) and these terms.
 */
export function reusableOrder(open: readonly Order[], quote: Quote, termsVersionId: number): Order | undefined {
  return open.find(
    (order) => REUSABLE_STATUSES.includes(order.status) && order.termsVersionId === termsVersionId && QUOTE_FIELDS.every((field) => order[field] === quote[field]),
  );
}

/** Whole seconds until the oldest of the starts in the window leaves it (at least 1). */
export function secondsUntilPayPalOrderAllowed(startsInWindow: readonly Date[], now: Date): number {
  const oldest = Math.min(...startsInWindow.map((start) => start.getTime()));
  return Math.max(1, Math.ceil((oldest + PAYPAL_ORDER_WINDOW_MS - now.getTime()) / 1000));
}
