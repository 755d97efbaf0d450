import type { Request, Response } from 'express';
import { newFormNonce } from '../../../domain/shared/form-nonce.js';
import { canMoveQuote, EDITABLE_STATUSES } from '../../../domain/quotes/quote-status.js';
import { QUOTE_RESENDS_PER_DAY } from '../../../domain/quotes/quote-sending.js';
import type { QuoteDesk, QuoteDetails } from '../../../services/quotes/quote-desk.js';
import { isRefundableInUnits } from '../../../services/quotes/quote-units-payment.js';
import type { Translate } from '../../../i18n/index.js';
import { notFound } from '../../http-error.js';
import { renderPage } from '../../render.js';

/** The quote the URL names, exactly as numbered and stored; any other text is a 404. */
export async function quoteNamedBy(quotes: QuoteDesk, request: Request): Promise<QuoteDetails> {
  const details = await quotes.detailsByNumber(String(request.params.number));
  if (!details) throw notFound();
  return details;
}

/** A quote's page, with what staff may do to it now; "send again" carries a new nonce each time it is shown. */
export async function showQuote(response: Response, details: QuoteDetails, state: { notice?: string | null; problem?: string | null } = {}, status = 200): Promise<void> {
  const t = response.locals.t as Translate;
  const { quote } = details;
  await renderPage(response.status(status), 'desk/quotes/quote', {
    title: t('deskQuotes.quote.title', { number: quote.number }),
    ...details,
    editable: EDITABLE_STATUSES.includes(quote.status),
    cancellable: canMoveQuote(quote.status, 'cancelled'),
    sendable: quote.status === 'draft',
    resendable: quote.status === 'sent',
    unitsRefundable: isRefundableInUnits(quote),
    resendNonce: newFormNonce(),
    maxResends: QUOTE_RESENDS_PER_DAY,
    notice: state.notice ?? null,
    problem: state.problem ?? null,
  });
}
