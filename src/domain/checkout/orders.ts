import type { Locale } from '../shared/locale.js';
import type { OrderStatus } from './order-status.js';
import type { Cents, Quote } from '../pricing/pricing.js';

/** A top-up (a pack or a free amount), the payment of a staff's quote (quotes/) or a batch of codes bought by a department (vouchers/). */
export type OrderKind = Quote['kind'] | 'quote' | 'voucher_batch';

/**
 * An order carries the price it was placed with: later price changes never touch it. A top-up's is a
 * person's (`userId`) and credits units; a quote's (`quoteId`, kind `quote`, no units) pays that quote,
 * maybe by someone without an account.
 */
export interface Order extends Omit<Quote, 'kind'> {
  id: number;
  kind: OrderKind;
  /** Human number shown to people and sent to PayPal as invoice_id, e.g. R-2026-000123. */
  number: string;
  /** The person a top-up is for; null for a quote's order and a batch of codes' (its buyer is the purchase's). */
  userId: number | null;
  /** The quote an order of kind `quote` pays. */
  quoteId: number | null;
  status: OrderStatus;
  termsVersionId: number;
  paypalOrderId: string | null;
  paypalCaptureId: string | null;
  approvalUrl: string | null;
  ledgerTransactionId: number | null;
  refundedCents: Cents;
  createdAt: Date;
  updatedAt: Date;
  paidAt: Date | null;
  /** The language the buyer ordered in (null for orders placed before it was kept). */
  locale: Locale | null;
  /** PayPal refused the last capture (card declined…): only the buyer approving again may capture. */
  captureDeclinedAt: Date | null;
  /** While a capture refusal lasts: when the order may be looked up (or, refused for the seller, captured) again. */
  nextCheckAt: Date | null;
}

export interface OrderEvent {
  type: string;
  fromStatus: OrderStatus | null;
  toStatus: OrderStatus | null;
  detail: string | null;
  createdAt: Date;
}

/** R-<year of the order>-<id on six digits>: unique because the id is, readable over the phone. */
export function formatOrderNumber(id: number, createdAt: Date): string {
  return `R-${createdAt.getUTCFullYear()}-${String(id).padStart(6, '0')}`;
}

/** The order id inside a number, or null for anything that is not an order number. */
export function parseOrderNumber(number: unknown): number | null {
  const match = typeof number === 'string' ? /^R-\d{4}-(\d{6,9})$/.exec(number) : null;
  return match ? Number(match[1]) : null;
}
