import { Router, type Request, type Response } from 'express';
import { findQuote, findQuoteIdByNumber } from '../../../services/quotes/records.js';
import { CLOSED_UNPAID_STATUSES } from '../../../domain/checkout/order-status.js';
import { canonicalQuoteNumber } from '../../../domain/quotes/quote-numbers.js';
import type { Quote } from '../../../domain/quotes/quotes.js';
import { CheckoutError } from '../../../services/checkout/checkout.js';
import { QuotePaymentError } from '../../../services/quotes/quote-payment.js';
import { notFound } from '../../http-error.js';
import { perAddressLimit } from '../sign-in.js';
import type { Locale } from '../../../i18n/index.js';
import type { QuoteRoutesDependencies } from './dependencies.js';
import { quotePage } from './quote-page.js';

/**
 * The quote as its customer sees it (`/quotes/<number>`): checked like a basket, then "Passer au
 * paiement" → PayPal → back here, where the payment shows. Only a browser that gave the quote's number
 * and postcode, or the person the quote is made out to, sees it; anyone else is sent to the lookup
 * with the number filled in, whether the quote exists or not.
 */
export function quotePaymentRoutes(deps: QuoteRoutesDependencies): Router {
  const { db, clock, payment, access } = deps;
  const router = Router();
  const showQuote = quotePage(deps);
  // Each of these asks PayPal something: a limit per address, as sign-in steps have.
  const payLimit = perAddressLimit(clock, 'quote-pay');
  const returnLimit = perAddressLimit(clock, 'quote-return');

  const viewerOf = (request: Request) => ({ grantedQuoteIds: access.granted(request), userId: request.user?.id });

  /** The quote this browser may see, or null after answering (a redirect to the lookup). */
  async function visibleQuote(request: Request, response: Response): Promise<Quote | null> {
    const number = canonicalQuoteNumber(request.params.number);
    if (number === null) throw notFound();
    const id = await findQuoteIdByNumber(db.knex, number);
    const quote = id === undefined ? undefined : await findQuote(db.knex, id);
    if (quote && access.allows(request, quote.id)) return quote;
    // The person it is made out to, signed in, once it is sent (nothing is granted to the browser: it ends with the session).
    if (quote && request.user && quote.userId === request.user.id && quote.status !== 'draft') return quote;
    response.redirect(303, `/quotes/lookup?number=${encodeURIComponent(number)}`);
    return null;
  }

  router.post('/quotes/:number/pay', payLimit, async (request, response) => {
    const quote = await visibleQuote(request, response);
    if (!quote) return;
    const body = (request.body ?? {}) as Record<string, unknown>;
    try {
      response.redirect(303, await payment.startPayment(quote.id, body.terms, response.locals.locale as Locale));
    } catch (error) {
      const refused = (code: 'terms' | 'notPayable' | 'paymentUnavailable', status: number) => showQuote(request, response, quote, { problem: { of: 'payment', code }, status });
      if (error instanceof QuotePaymentError && (error.code === 'terms_not_accepted' || error.code === 'no_terms')) return refused('terms', 400);
      if (error instanceof QuotePaymentError && error.code === 'not_payable') return refused('notPayable', 409);
      if (error instanceof CheckoutError && error.code === 'payment_unavailable') return refused('paymentUnavailable', 502);
      if (error instanceof CheckoutError && error.code === 'order_not_payable') return refused('notPayable', 409);
      throw error;
    }
  });

  // Before `/quotes/:number`: neither is a quote number.
  router.get('/quotes/return', returnLimit, async (request, response) => {
    try {
      const { quoteId, retryUrl } = await payment.completeReturn(request.query.token, viewerOf(request));
      const quote = await findQuote(db.knex, quoteId);
      response.redirect(303, retryUrl ?? `/quotes/${quote!.number}`);
    } catch (error) {
      if (error instanceof QuotePaymentError) throw notFound();
      throw error;
    }
  });

  router.get('/quotes/cancel', returnLimit, async (request, response) => {
    try {
      const { quoteId, order } = await payment.cancelAtReturn(request.query.token, viewerOf(request));
      const quote = await findQuote(db.knex, quoteId);
      // Cancelled: the quote may be paid again; otherwise (paid in another tab, PayPal not answering) its page says what it is.
      response.redirect(303, `/quotes/${quote!.number}${CLOSED_UNPAID_STATUSES.includes(order.status) ? '?from=cancel' : ''}`);
    } catch (error) {
      if (error instanceof QuotePaymentError) throw notFound();
      throw error;
    }
  });

  router.get('/quotes/:number', async (request, response) => {
    const quote = await visibleQuote(request, response);
    if (!quote) return;
    await showQuote(request, response, quote);
  });

  return router;
}
