import { Router, type Response } from 'express';
import { LIMITS } from '../../../domain/quotes/quote-draft.js';
import { canonicalQuoteNumber, lookupKey } from '../../../domain/quotes/quote-numbers.js';
import type { DayKey } from '../../../domain/time/calendar.js';
import { formatDateTime } from '../../../i18n/format.js';
import type { Locale, Translate } from '../../../i18n/index.js';
import { createQuoteLookup } from '../../../services/quotes/quote-lookup.js';
import { renderPage } from '../../render.js';
import { perAddressLimit } from '../sign-in.js';
import type { QuoteRoutesDependencies } from './dependencies.js';

/** Longest a field may be typed (spaces included); the postcode must also fit, spaces aside, the printed one's limit. */
const MAX_TYPED = 40;

type LookupFieldErrors = Partial<Record<'number' | 'postcode', string>>;

interface LookupPage {
  number: string;
  postcode: string;
  errors?: LookupFieldErrors;
  /** Why nothing was found or checked: one message for both fields, which never says which one was wrong. */
  problem?: string;
  /** The right number and postcode of a quote that can no longer be paid. */
  closed?: { number: string; state: 'expired' | 'cancelled'; validUntil: DayKey };
}

/**
 * "Recherche de commande": a quote found by its number and delivery postcode, as printed on it
 * (spaces and case forgiven), grants this browser the quote and leads to its page. A wrong number, a
 * wrong postcode, another quote's postcode and a draft get the same answer; limits on failures per
 * number and per address (services/quotes/quote-lookup.ts) answer 429, whatever was typed.
 */
export function quoteLookupRoutes({ config, db, clock, access }: QuoteRoutesDependencies): Router {
  const router = Router();
  const lookUp = createQuoteLookup({ db, clock, timeZone: config.i18n.timeZone });

  async function showForm(response: Response, page: LookupPage, status = 200) {
    const t = response.locals.t as Translate;
    await renderPage(response.status(status), 'quotes/lookup', { title: t('quoteLookup.title'), maxLength: MAX_TYPED, errors: {}, problem: null, closed: null, sellerEmail: config.seller.email, ...page });
  }

  router.get('/quotes/lookup', async (request, response) => {
    // The "Payer maintenant" link of the quote's mail and PDF fills the number in; only the postcode is asked.
    await showForm(response, { number: canonicalQuoteNumber(request.query.number) ?? '', postcode: '' });
  });

  // In front of the counted attempts (a write each): a flood from one address stops here, in memory.
  router.post('/quotes/lookup', perAddressLimit(clock, 'quote-lookup'), async (request, response) => {
    const t = response.locals.t as Translate;
    const body = (request.body ?? {}) as Record<string, unknown>;
    const typedNumber = typeof body.number === 'string' ? body.number.slice(0, MAX_TYPED) : '';
    const typedPostcode = typeof body.postcode === 'string' ? body.postcode.slice(0, MAX_TYPED) : '';
    const typed = { number: typedNumber, postcode: typedPostcode };

    const number = canonicalQuoteNumber(typedNumber);
    const postcode = lookupKey(typedPostcode);
    const errors: LookupFieldErrors = {};
    if (!typedNumber.trim()) errors.number = t('quoteLookup.errors.numberMissing');
    else if (number === null) errors.number = t('quoteLookup.errors.numberInvalid');
    if (!postcode) errors.postcode = t('quoteLookup.errors.postcodeMissing');
    else if (postcode.length > LIMITS.postcode) errors.postcode = t('quoteLookup.errors.postcodeTooLong', { max: LIMITS.postcode });
    if (number === null || Object.keys(errors).length > 0) return showForm(response, { ...typed, errors }, 400);

    const result = await lookUp({ number, postcode: typedPostcode, ip: request.ip ?? 'unknown' });
    switch (result.outcome) {
      case 'throttled': {
        response.setHeader('Retry-After', String(result.retryAfterSeconds));
        const until = formatDateTime(new Date(clock.now().getTime() + result.retryAfterSeconds * 1000), response.locals.locale as Locale, config.i18n.timeZone);
        return showForm(response, { ...typed, problem: t('quoteLookup.errors.throttled', { until }) }, 429);
      }
      case 'not_found':
        return showForm(response, { ...typed, problem: t('quoteLookup.errors.notFound') }, 404);
      case 'closed':
        return showForm(response, { ...typed, closed: { number: result.number, state: result.payability, validUntil: result.validUntil } });
      case 'found':
        // Paid already, or too large to pay online: the quote's page says so (with the receipt, or whom to ask).
        access.grant(request, response, result.quoteId);
        return response.redirect(303, `/quotes/${result.number}`);
    }
  });

  return router;
}
