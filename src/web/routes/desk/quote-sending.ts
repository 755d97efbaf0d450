import type { Request, Response, Router } from 'express';
import { isFormNonce } from '../../../domain/shared/form-nonce.js';
import { QUOTE_RESENDS_PER_DAY, QuoteSendError } from '../../../domain/quotes/quote-sending.js';
import { QuoteStatusError } from '../../../domain/quotes/quote-status.js';
import type { Translate } from '../../../i18n/index.js';
import { HttpError } from '../../http-error.js';
import type { DeskDependencies } from './dependencies.js';
import { quoteNamedBy, showQuote } from './quote-page.js';

/** What each refusal answers: a date to change first (400), a status or a setting that forbids it (409), enough for today (429). */
const REFUSALS = { validity_passed: 400, too_many_resends: 429, no_reply_address: 409 } as const;

/** "Envoyer au client" and "Renvoyer" on a quote's page: each answers with the quote's page, saying what happened. */
export function registerQuoteSendingRoutes(router: Router, { quotes, sending }: DeskDependencies): void {
  async function refused(request: Request, response: Response, error: unknown) {
    const t = response.locals.t as Translate;
    const details = await quoteNamedBy(quotes, request);
    if (error instanceof QuoteStatusError) {
      return showQuote(response, details, { problem: t('deskQuotes.sending.errors.status', { status: t(`deskQuotes.status.${details.quote.status}`) }) }, 409);
    }
    if (error instanceof QuoteSendError) {
      return showQuote(response, details, { problem: t(`deskQuotes.sending.errors.${error.code}`, { max: QUOTE_RESENDS_PER_DAY }) }, REFUSALS[error.code]);
    }
    throw error;
  }

  router.post('/desk/quotes/:number/send', async (request, response) => {
    const { quote } = await quoteNamedBy(quotes, request);
    try {
      const { sentNow } = await sending.send(request.user!, quote.id);
      response.redirect(303, `/desk/quotes/${quote.number}?notice=${sentNow ? 'sent' : 'alreadySent'}`);
    } catch (error) {
      await refused(request, response, error);
    }
  });

  router.post('/desk/quotes/:number/resend', async (request, response) => {
    const { quote } = await quoteNamedBy(quotes, request);
    const { nonce } = (request.body ?? {}) as Record<string, unknown>;
    if (!isFormNonce(nonce)) throw new HttpError(400, 'badRequest', 'resend form without a valid nonce');
    try {
      await sending.resend(request.user!, quote.id, nonce);
      response.redirect(303, `/desk/quotes/${quote.number}?notice=resent`);
    } catch (error) {
      await refused(request, response, error);
    }
  });
}
