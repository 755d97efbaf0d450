import type { QuoteDesk } from '../../../services/quotes/quote-desk.js';
import type { QuoteSending } from '../../../services/quotes/quote-sending.js';
import type { QuotePaymentDesk } from '../../../services/quotes/quote-payment-desk.js';

/** What the desk's pages are built from: its own module, so that the pages and the router that mounts them do not import each other. */
export interface DeskDependencies {
  quotes: QuoteDesk;
  sending: QuoteSending;
  /** The quote's online payments and their refunds (routes/desk/quote-payments.ts); without it, the quote's page has no "Paiements" section. */
  payments: QuotePaymentDesk;
}
