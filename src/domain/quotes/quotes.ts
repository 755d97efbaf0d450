import type { Currency } from '../pricing/pricing.js';
import type { QuoteCustomer } from './quote-draft.js';
import type { QuoteStatus } from './quote-status.js';
import type { QuoteLine } from './quote-totals.js';

/** A quote as stored: its lines in order, its total as the server computed it from them. */
export interface Quote {
  id: number;
  /** D-2026-000123 (quote-numbers.ts). */
  number: string;
  status: QuoteStatus;
  customer: QuoteCustomer;
  /** For staff only: never in the customer block, the PDF or the mail. */
  staffNote: string;
  /** Bumped by every change: an edit form carries the one it was made from, and a stale one is refused. */
  version: number;
  userId: number | null;
  lines: QuoteLine[];
  totalCents: number;
  currency: Currency;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
  sentAt: Date | null;
  cancelledAt: Date | null;
  /** The units a person of the portal linked to the quote may pay it with instead of money; null: not offered. */
  unitsPrice: number | null;
  /** How the quote was paid: its order (PayPal) or its ledger transaction (units), and when. */
  paidOrderId: number | null;
  paidLedgerTransactionId: number | null;
  paidAt: Date | null;
  /** What refunds gave back so far, in cents of the total. */
  refundedCents: number;
}

/** One entry of a quote's timeline. */
export interface QuoteEvent {
  type: string;
  fromStatus: QuoteStatus | null;
  toStatus: QuoteStatus | null;
  detail: string | null;
  actorUsername: string;
  createdAt: Date;
}

/** What the desk's list is narrowed to; absent fields do not narrow. */
export interface QuoteSearch {
  status?: QuoteStatus;
  /** Part of the customer's name or e-mail, or a quote number (spaces and case forgiven). */
  text?: string;
}

export const QUOTES_PAGE_SIZE = 25;

/**
 * Text folded for the desk's search, in JavaScript so that SQLite (whose lower() folds ASCII only)
 * and PostgreSQL find the same quotes: "Élise", "élise" and "ÉLISE" are one.
 */
export const foldForSearch = (text: string) => text.normalize('NFKC').toLowerCase();

/** What the desk's search looks in, stored with the quote: its number, the customer's name and e-mail. */
export const quoteSearchText = (number: string, customer: Pick<QuoteCustomer, 'name' | 'email'>) => foldForSearch(`${number}\n${customer.name}\n${customer.email}`);
