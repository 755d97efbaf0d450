import type { PrintSystem } from '../../services/credit-transfers/print-system.js';
import { Router, type Request, type Response } from 'express';
import type { Checkout, OfferChoice } from '../../services/checkout/checkout.js';
import { CheckoutError, OrderLimitError } from '../../services/checkout/checkout.js';
import type { Clock } from '../../domain/time/clock.js';
import { CLOSED_UNPAID_STATUSES } from '../../domain/checkout/order-status.js';
import { parseOrderNumber } from '../../domain/checkout/orders.js';
import type { User } from '../../domain/people/users.js';
import { PricingError, quoteFreeAmount } from '../../domain/pricing/pricing.js';
import { topUpChoice, type TopUpChoice } from '../../domain/pricing/top-up-choice.js';
import { parseTypedPrice } from '../../domain/pricing/typed-price.js';
import { decimalText } from '../../domain/shared/decimal.js';
import type { Database } from '../../db/database.js';
import { currentTerms, loadPriceList } from '../../services/pricing/records.js';
import type { Locale, Translate } from '../../i18n/index.js';
import { formatMoney } from '../../i18n/format.js';
import { renderMarkdown } from '../markdown.js';
import { requireUser } from '../middleware/authentication.js';
import { printSystemRefusal } from '../print-system-refusal.js';
import { renderPage } from '../render.js';
import { topUpPageLocals, type TopUpFieldErrors, type TopUpPageInput } from '../topup-page.js';

export function topUpRoutes({ db, checkout, clock, printSystem }: { db: Database; checkout: Checkout; clock: Clock; printSystem: PrintSystem | null }): Router {
  const router = Router();

  async function showForm(request: Request, response: Response, form: NonNullable<TopUpPageInput['form']>, status = 200) {
    const [priceList, terms] = await Promise.all([loadPriceList(db.knex), currentTerms(db.knex)]);
    const { t, locale } = response.locals as { t: Translate; locale: Locale };
    // Where the units go, when it is not the portal alone.
    const creditsGoTo = printSystem ? t('topup.creditsGoTo', { context: printSystem.balances.kind }) : null;
    // The portal's balance, read with the person: when credits go on to a print system, it is not the one printing draws on.
    const balance = printSystem ? null : (request.account?.balance ?? null);
    await renderPage(response.status(status), 'pages/topup', { ...topUpPageLocals({ priceList, terms: terms ?? null, now: clock.now(), t, locale, balance, form }), creditsGoTo });
  }

  router.get('/topup', requireUser, async (request, response) => {
    await showForm(request, response, { notice: await cancelledNotice(request.user!, request.query.cancelled, response.locals.t as Translate) });
  });

  /** "Nothing was charged" is said only of the person's own order that really was closed unpaid. */
  async function cancelledNotice(user: User, number: unknown, t: Translate): Promise<string | null> {
    const id = parseOrderNumber(number);
    if (id === null) return null;
    const order = await checkout.ownOrder(user, { id }).catch((error: unknown) => {
      if (error instanceof CheckoutError) return null;
      throw error;
    });
    return order && CLOSED_UNPAID_STATUSES.includes(order.status) ? t('topup.cancelled', { number: order.number }) : null;
  }

  router.post('/topup', requireUser, async (request, response) => {
    const t = response.locals.t as Translate;
    const locale = response.locals.locale as Locale;
    const body = (request.body ?? {}) as Record<string, unknown>;
    const offer = typeof body.offer === 'string' ? body.offer : '';
    const amount = typeof body.amount === 'string' ? body.amount.slice(0, 20) : '';
    const termsAccepted = typeof body.terms === 'string';
    const choice = topUpChoice(offer, amount);
    if (choice.kind === 'pack_and_amount') {
      // Neither is charged: the offer stays chosen, the amount's field (hidden behind it) is emptied, and the person says which.
      return showForm(request, response, { offer, amount: '', termsAccepted, errors: { offer: t('topup.errors.packAndAmount', { amount: amount.trim() }) } }, 400);
    }
    const asked = await offerOf(choice, t, locale);
    const errors: TopUpFieldErrors = 'errors' in asked ? { ...asked.errors } : {};
    // "Update the summary" (without the script): the page again, priced on the server; nothing is ordered.
    if (body.summary !== undefined) return showForm(request, response, { offer, amount, termsAccepted, errors }, Object.keys(errors).length > 0 ? 400 : 200);
    if (!termsAccepted) errors.terms = t('topup.errors.terms');
    if ('offer' in asked && Object.keys(errors).length === 0) {
      const refusal = await printSystemRefusal(printSystem, request, t);
      if (refusal) return showForm(request, response, { offer, amount, termsAccepted, refusal }, 409);
      try {
        // The same offer chosen again while its order waits for payment brings the person back to that order.
        const order = await checkout.placeOrder(request.user!, asked.offer, body.terms, locale);
        return response.redirect(303, `/orders/${order.number}`);
      } catch (error) {
        if (error instanceof OrderLimitError && error.details.openOrders) {
          const openOrders = error.details.openOrders.map((order) => ({ number: order.number, amount: formatMoney(order.priceCents, order.currency, locale) }));
          return showForm(request, response, { offer, amount, termsAccepted, refusal: t('topup.errors.tooManyOpenOrders', { count: openOrders.length }), openOrders }, 409);
        }
        Object.assign(errors, await fieldErrorsFor(error, t, locale));
      }
    }
    await showForm(request, response, { offer, amount, termsAccepted, errors }, 400);
  });

  /**
   * What checkout is asked for, or what is wrong with the choice. A free amount is read as people type it
   * ("25,50 €") and checked here, before the terms, so that both are said at once; checkout is handed it plainly ("25.50").
   */
  async function offerOf(choice: Exclude<TopUpChoice, { kind: 'pack_and_amount' }>, t: Translate, locale: Locale): Promise<{ offer: OfferChoice } | { errors: TopUpFieldErrors }> {
    if (choice.kind === 'none') return { errors: { offer: t('topup.errors.offer') } };
    if (choice.kind === 'pack') return { offer: { packId: choice.packId } };
    try {
      const priceList = await loadPriceList(db.knex);
      const cents = parseTypedPrice(choice.amount, priceList.settings.currency);
      quoteFreeAmount(priceList, cents, clock.now());
      return { offer: { amount: decimalText(cents) } };
    } catch (error) {
      return { errors: await fieldErrorsFor(error, t, locale) };
    }
  }

  router.get('/terms', async (_request, response) => {
    const t = response.locals.t as Translate;
    const terms = await currentTerms(db.knex);
    await renderPage(response, 'pages/terms', { title: t('terms.title'), terms: terms ?? null, html: terms ? renderMarkdown(terms.body[response.locals.locale as Locale]) : '' });
  });

  async function fieldErrorsFor(error: unknown, t: Translate, locale: Locale): Promise<TopUpFieldErrors> {
    if (error instanceof CheckoutError && (error.code === 'terms_not_accepted' || error.code === 'no_terms')) return { terms: t('topup.errors.terms') };
    if (!(error instanceof PricingError)) throw error;
    const { freeAmount: free, settings } = await loadPriceList(db.knex);
    const money = (cents: number) => formatMoney(cents, settings.currency, locale);
    switch (error.code) {
      case 'invalid_amount':
        return { amount: t('topup.errors.amount') };
      case 'amount_out_of_range':
        return { amount: t('topup.errors.range', { min: money(free?.minCents ?? 0), max: money(free?.maxCents ?? 0) }) };
      case 'amount_off_step':
        return { amount: t('topup.errors.step', { step: money(free?.stepCents ?? 0) }) };
      default:
        return { offer: t('topup.errors.offer') };
    }
  }

  return router;
}
