import type { Database } from '../../db/database.js';
import { findOpenQuoteOrder, findOrder, insertQuoteOrder, listQuoteOrders } from '../../db/checkout/order-repository.js';
import { listOrderDocuments } from '../../db/documents/document-repository.js';
import { currentTerms } from '../../db/pricing/terms-repository.js';
import { findQuote, lockQuote } from '../../db/quotes/quote-repository.js';
import type { Order } from '../../domain/checkout/orders.js';
import { OPEN_STATUSES } from '../../domain/checkout/order-status.js';
import { UNPAID_STATUSES } from '../../domain/checkout/order-limits.js';
import type { IssuedDocument } from '../../domain/documents/documents.js';
import { DomainError } from '../../domain/shared/errors.js';
import type { Locale } from '../../domain/shared/locale.js';
import type { Clock } from '../../domain/time/clock.js';
import { dayOf } from '../../domain/time/calendar.js';
import { orderVatRateOf, quotePayability, type QuotePayability } from '../../domain/quotes/quote-payment.js';
import { quoteTotals, type QuoteTotals } from '../../domain/quotes/quote-totals.js';
import type { Quote } from '../../domain/quotes/quotes.js';
import type { Checkout } from '../checkout/checkout.js';

export type QuotePaymentErrorCode = 'quote_not_found' | 'not_payable' | 'no_terms' | 'terms_not_accepted';

export class QuotePaymentError extends DomainError<QuotePaymentErrorCode> {
  constructor(
    code: QuotePaymentErrorCode,
    message: string,
    /** For `not_payable`: why (paid, expired, cancelled…), which the page says in the customer's words. */
    readonly payability?: QuotePayability,
  ) {
    super(code, message);
  }
}


/** What the customer's pages show of a quote: the quote, its totals, what may be done, how it was paid. */
export interface QuotePaymentView {
  quote: Quote;
  totals: QuoteTotals;
  payability: QuotePayability;
  /** The order that paid it (PayPal), if any. */
  paidOrder: Order | null;
  /** The paying order's receipt, once issued. */
  receipt: IssuedDocument | null;
  /** An order sent to PayPal and not finished yet: its page says the payment is being confirmed. */
  pendingOrder: Order | null;
}

/** Who is coming back from PayPal: the quotes their browser was granted by the lookup, and the signed-in person. */
export interface QuoteViewer {
  grantedQuoteIds: readonly number[];
  userId?: number;
}

export interface QuotePaymentDependencies {
  db: Database;
  checkout: Checkout;
  clock: Clock;
  timeZone: string;
}

/**
 * Paying a sent quote online. The quote's order goes through the top-ups' checkout — the same PayPal
 * gateway, webhooks, reconciler and crediting transaction — so a quote is paid once whatever the
 * clicks, returns and webhooks: one open order per quote (reused by every click, refused twice by
 * the database), one PayPal order per order (its request id), one capture per PayPal order, and the
 * quote marked paid under its lock in the capture's transaction (checkout/quote-orders.ts). Who may
 * see a quote (its number and postcode, or its person) is the web layer's to check before calling.
 */
export function createQuotePayment({ db, checkout, clock, timeZone }: QuotePaymentDependencies) {
  const today = () => dayOf(clock.now(), timeZone);

  async function view(quoteId: number): Promise<QuotePaymentView> {
    const quote = await findQuote(db.knex, quoteId);
    if (!quote) throw new QuotePaymentError('quote_not_found', `quote ${quoteId} does not exist`);
    const orders = await listQuoteOrders(db.knex, quote.id);
    const paidOrder = orders.find((order) => order.id === quote.paidOrderId) ?? null;
    const receipt = paidOrder ? ((await listOrderDocuments(db.knex, paidOrder.id)).find((document) => document.kind === 'receipt') ?? null) : null;
    const pendingOrder = orders.find((order) => OPEN_STATUSES.includes(order.status)) ?? null;
    return { quote, totals: quoteTotals(quote.lines), payability: quotePayability(quote, today()), paidOrder, receipt, pendingOrder };
  }

  /**
   * "Passer au paiement": the quote's open order (made now if there is none) sent to PayPal; answers
   * where to send the buyer. The price is the quote's, read under its lock: nothing from the browser
   * but the terms version accepted.
   */
  async function startPayment(quoteId: number, acceptedTermsId: unknown, locale: Locale): Promise<string> {
    const terms = await currentTerms(db.knex);
    if (!terms) throw new QuotePaymentError('no_terms', 'no terms of sale are published');
    if (String(acceptedTermsId) !== String(terms.id)) throw new QuotePaymentError('terms_not_accepted', 'the current terms of sale were not accepted');
    const order = await db.transaction(async (trx) => {
      const quote = await lockQuote(trx, quoteId);
      if (!quote) throw new QuotePaymentError('quote_not_found', `quote ${quoteId} does not exist`);
      // Checked first: an order opened while the quote was payable is not reused once it was cancelled or expired.
      const payability = quotePayability(quote, today());
      if (payability !== 'payable') throw new QuotePaymentError('not_payable', `quote ${quote.number} is ${payability}`, payability);
      const open = await findOpenQuoteOrder(trx, quote.id, UNPAID_STATUSES);
      if (open) return open;
      const totals = quoteTotals(quote.lines);
      return insertQuoteOrder(
        trx,
        {
          quoteId: quote.id,
          currency: quote.currency,
          priceCents: totals.totalCents,
          netCents: totals.netCents,
          vatCents: totals.vatCents,
          vatRateBasisPoints: orderVatRateOf(totals),
          termsVersionId: terms.id,
          locale,
        },
        clock.now(),
      );
    });
    return checkout.startOrderPayment(order, locale);
  }

  /**
   * The quote's order with this PayPal order id, when the viewer may see its quote: one of the quotes
   * their browser was granted, or one made out to them (others do not exist for this browser).
   */
  async function orderFor(paypalOrderId: unknown, viewer: QuoteViewer): Promise<Order> {
    const order = typeof paypalOrderId === 'string' && paypalOrderId.length <= 64 ? await findOrder(db.knex, { paypalOrderId }) : undefined;
    const quoteId = order?.quoteId ?? null;
    const visible = quoteId !== null && (viewer.grantedQuoteIds.includes(quoteId) || (viewer.userId !== undefined && (await findQuote(db.knex, quoteId))?.userId === viewer.userId));
    if (!order || !visible) throw new QuotePaymentError('quote_not_found', 'no such quote payment');
    return order;
  }

  return {
    view,
    startPayment,
    /** The buyer is back from PayPal: capture now if not done; answers the quote and where to send the buyer again if PayPal asks. */
    async completeReturn(paypalOrderId: unknown, viewer: QuoteViewer) {
      const { order, retryUrl } = await checkout.completeReturnOf(await orderFor(paypalOrderId, viewer));
      return { quoteId: order.quoteId as number, order, retryUrl };
    },
    /** The buyer left PayPal through its cancel link (see checkout.cancelAtReturn). */
    async cancelAtReturn(paypalOrderId: unknown, viewer: QuoteViewer) {
      const { order, paypalAnswered } = await checkout.cancelAtReturnOf(await orderFor(paypalOrderId, viewer));
      return { quoteId: order.quoteId as number, order, paypalAnswered };
    },
  };
}

export type QuotePayment = ReturnType<typeof createQuotePayment>;
