import type { Locale } from '../shared/locale.js';
import type { OrderStatus } from './order-status.js';
import type { Cents, Quote } from '../pricing/pricing.js';

/** An order carries the quote it was placed with: later price changes never touch it. */
export interface Order extends Quote {
  id: number;
  /** Human number shown to people and sent to PayPal as invoice_id, e.g. R-2026-000123. */
  number: string;
  userId: number;
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
