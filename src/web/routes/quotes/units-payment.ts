import { Router } from 'express';
import { canonicalQuoteNumber } from '../../../domain/quotes/quote-numbers.js';
import { createQuoteUnitsPayment, QuoteUnitsPaymentError, type QuoteUnitsPaymentErrorCode } from '../../../services/quotes/quote-units-payment.js';
import { findQuote, findQuoteIdByNumber } from '../../../services/quotes/records.js';
import { notFound } from '../../http-error.js';
import { requireUser } from '../../middleware/authentication.js';
import type { QuoteRoutesDependencies } from './dependencies.js';
import { quotePage, type QuotePageProblem } from './quote-page.js';

type UnitsProblem = Extract<QuotePageProblem, { of: 'units' }>['code'];

/** Why a payment in units was refused: its message (quoteUnits.problems) and status, on the quote's page. */
const REFUSAL: Record<Exclude<QuoteUnitsPaymentErrorCode, 'quote_not_found'>, { code: UnitsProblem; status: number }> = {
  not_payable: { code: 'unitsNotPayable', status: 409 },
  units_not_offered: { code: 'unitsNotOffered', status: 409 },
  no_terms: { code: 'unitsTerms', status: 400 },
  terms_not_accepted: { code: 'unitsTerms', status: 400 },
  payment_in_progress: { code: 'unitsInProgress', status: 409 },
  insufficient_balance: { code: 'unitsInsufficient', status: 409 },
};

/**
 * "Payer avec mes unités" on a quote's page, for the signed-in person it is made out to. Any other
 * person, like a number that is no quote, gets 404: the answer says nothing of whose a quote is.
 * Success goes back to the quote's page, which shows the payment; a refusal shows that page with why, and a 4xx.
 */
export function quoteUnitsPaymentRoutes(deps: QuoteRoutesDependencies): Router {
  const { db, clock, config } = deps;
  const router = Router();
  const showQuote = quotePage(deps);
  const unitsPayment = createQuoteUnitsPayment({ db, clock, timeZone: config.i18n.timeZone });

  router.post('/quotes/:number/pay-with-units', requireUser, async (request, response) => {
    const number = canonicalQuoteNumber(request.params.number);
    const quoteId = number === null ? undefined : await findQuoteIdByNumber(db.knex, number);
    if (quoteId === undefined) throw notFound();
    const { termsId, acceptTerms } = (request.body ?? {}) as Record<string, unknown>;
    try {
      // The version shown counts as accepted only with its box ticked.
      await unitsPayment.payWithUnits(request.user!, quoteId, acceptTerms === 'on' ? termsId : null);
      response.redirect(303, `/quotes/${number}`);
    } catch (error) {
      if (!(error instanceof QuoteUnitsPaymentError)) throw error;
      if (error.code === 'quote_not_found') throw notFound();
      const { code, status } = REFUSAL[error.code];
      await showQuote(request, response, (await findQuote(db.knex, quoteId))!, { problem: { of: 'units', code }, status });
    }
  });

  return router;
}
