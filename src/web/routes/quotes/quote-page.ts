import type { Request, Response } from 'express';
import { mayPayInUnits } from '../../../domain/quotes/quote-payment.js';
import type { Quote } from '../../../domain/quotes/quotes.js';
import { formatMoney } from '../../../i18n/format.js';
import type { Locale, Translate } from '../../../i18n/index.js';
import { currentTerms } from '../../../services/pricing/records.js';
import { renderPage } from '../../render.js';
import type { QuoteRoutesDependencies } from './dependencies.js';
import { quoteDocumentUrl } from './documents.js';

/** Why "Passer au paiement" or "Payer avec mes unités" was refused: a message of quotePayment.problems or quoteUnits.problems. */
export type QuotePageProblem =
  | { of: 'payment'; code: 'terms' | 'notPayable' | 'paymentUnavailable' }
  | { of: 'units'; code: 'unitsNotPayable' | 'unitsNotOffered' | 'unitsTerms' | 'unitsInProgress' | 'unitsInsufficient' };

/**
 * The quote's page (`/quotes/<number>`), for a browser allowed to see it: the quote checked like a
 * basket, its state (to pay, being confirmed, paid, closed), the PayPal form and, for the person the
 * quote is made out to, the units form; with `problem` (and its status) when a payment was refused.
 */
export function quotePage({ config, db, ledger, payment }: QuoteRoutesDependencies) {
  return async function show(request: Request, response: Response, quote: Quote, { problem = null, status = 200 }: { problem?: QuotePageProblem | null; status?: number } = {}): Promise<void> {
    const t = response.locals.t as Translate;
    const locale = response.locals.locale as Locale;
    const view = await payment.view(quote.id);
    const terms = await currentTerms(db.knex);
    const notice = request.query.from === 'cancel' && view.payability === 'payable' && !view.pendingOrder ? t('quotePayment.cancelled') : null;
    const payableInUnits = view.payability === 'payable' && mayPayInUnits(quote, request.user?.id);
    const unitsBalance = payableInUnits ? (await ledger.userAccount(request.user!.id)).balance : null;
    const formatUnits = response.locals.formatUnits as (amount: number) => string;
    const message =
      problem?.of === 'payment'
        ? t(`quotePayment.problems.${problem.code}`)
        : problem?.of === 'units'
          ? t(`quoteUnits.problems.${problem.code}`, { price: formatUnits(quote.unitsPrice ?? 0), balance: formatUnits(unitsBalance ?? 0) })
          : null;
    await renderPage(response.status(status), 'quotes/quote', {
      title: t('quotePayment.title', { number: quote.number }),
      ...view,
      terms: terms ?? null,
      problem: message,
      notice,
      payableInUnits,
      unitsBalance,
      money: (cents: number) => formatMoney(cents, quote.currency, locale),
      currency: quote.currency,
      sellerEmail: config.seller.email || null,
      receiptUrl: view.receipt ? quoteDocumentUrl(quote.number, view.receipt.number) : null,
    });
  };
}

export type QuotePage = ReturnType<typeof quotePage>;
