import type { Request, Response, Router } from 'express';
import type { Quote } from '../../../domain/quotes/quotes.js';
import { REFUND_REASON_MAX_LENGTH } from '../../../domain/checkout/refunds.js';
import { isRefundableInUnits, QuoteUnitsRefundError } from '../../../services/quotes/quote-units-payment.js';
import type { Translate } from '../../../i18n/index.js';
import { notFound } from '../../http-error.js';
import { renderPage } from '../../render.js';
import type { DeskDependencies } from './dependencies.js';
import { quoteNamedBy, showQuote } from './quote-page.js';

/** Notices the quote's page shows after a refund in units (quotes.ts reads them by name). */
export const UNITS_REFUND_NOTICES = ['unitsRefunded', 'unitsAlreadyRefunded'] as const;

/**
 * "Rembourser les unités" on the page of a quote paid in units: a confirmation page with the reason to
 * give (required: the person gets units back, the audit log says why), then the refund, once.
 */
export function registerQuoteUnitsRefundRoutes(router: Router, { quotes }: DeskDependencies): void {
  const path = (quote: Pick<Quote, 'number'>) => `/desk/quotes/${quote.number}`;

  async function showConfirmation(response: Response, quote: Quote, reason: string, error: string | null, status = 200) {
    const t = response.locals.t as Translate;
    await renderPage(response.status(status), 'desk/quotes/units-refund', {
      title: t('quoteUnits.refund.title', { number: quote.number }),
      quote,
      reasonMaxLength: REFUND_REASON_MAX_LENGTH,
      reason,
      error,
    });
  }

  const notRefundable = async (request: Request, response: Response) => {
    const details = await quoteNamedBy(quotes, request);
    await showQuote(response, details, { problem: (response.locals.t as Translate)('quoteUnits.refund.errors.not_paid_in_units') }, 409);
  };

  router.get('/desk/quotes/:number/units-refund', async (request, response) => {
    const { quote } = await quoteNamedBy(quotes, request);
    if (!isRefundableInUnits(quote)) return notRefundable(request, response);
    await showConfirmation(response, quote, '', null);
  });

  router.post('/desk/quotes/:number/units-refund', async (request, response) => {
    const t = response.locals.t as Translate;
    const { quote } = await quoteNamedBy(quotes, request);
    const posted = ((request.body ?? {}) as Record<string, unknown>).reason;
    const reason = typeof posted === 'string' ? posted : '';
    try {
      const { replayed } = await quotes.refundUnits(request.user!, quote.id, reason);
      response.redirect(303, `${path(quote)}?notice=${replayed ? 'unitsAlreadyRefunded' : 'unitsRefunded'}`);
    } catch (error) {
      if (!(error instanceof QuoteUnitsRefundError)) throw error;
      if (error.code === 'quote_not_found') throw notFound();
      if (error.code === 'not_paid_in_units') return notRefundable(request, response);
      await showConfirmation(response, quote, reason, t(`quoteUnits.refund.errors.${error.code}`, { max: REFUND_REASON_MAX_LENGTH }), 400);
    }
  });
}
