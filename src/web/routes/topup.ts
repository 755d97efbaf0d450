import type { PrintSystem } from '../../services/credit-transfers/print-system.js';
import { Router, type Response } from 'express';
import type { Checkout } from '../../services/checkout/checkout.js';
import { CheckoutError, OrderLimitError } from '../../services/checkout/checkout.js';
import type { Clock } from '../../domain/time/clock.js';
import { CLOSED_UNPAID_STATUSES } from '../../domain/checkout/order-status.js';
import { parseOrderNumber } from '../../domain/checkout/orders.js';
import type { User } from '../../domain/people/users.js';
import { PricingError } from '../../domain/pricing/pricing.js';
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

  async function showForm(response: Response, form: NonNullable<TopUpPageInput['form']>, status = 200) {
    const [priceList, terms] = await Promise.all([loadPriceList(db.knex), currentTerms(db.knex)]);
    const { t, locale } = response.locals as { t: Translate; locale: Locale };
    // Where the units go, when it is not the portal alone.
    const creditsGoTo = printSystem ? t('topup.creditsGoTo', { context: printSystem.balances.kind }) : null;
    await renderPage(response.status(status), 'pages/topup', { ...topUpPageLocals({ priceList, terms: terms ?? null, now: clock.now(), t, locale, form }), creditsGoTo });
  }

  router.get('/topup', requireUser, async (request, response) => {
    await showForm(response, { notice: await cancelledNotice(request.user!, request.query.cancelled, response.locals.t as Translate) });
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
    const body = (request.body ?? {}) as Record<string, unknown>;
    const offer = typeof body.offer === 'string' ? body.offer : '';
    const amount = typeof body.amount === 'string' ? body.amount.slice(0, 20) : '';
    const errors: TopUpFieldErrors = {};
    if (!offer) errors.offer = t('topup.errors.offer');
    if (typeof body.terms !== 'string') errors.terms = t('topup.errors.terms');
    if (Object.keys(errors).length === 0) {
      const refusal = await printSystemRefusal(printSystem, request, t);
      if (refusal) return showForm(response, { offer, amount, refusal }, 409);
      try {
        const choice = offer === 'free' ? { amount } : { packId: offer };
        // The same offer chosen again while its order waits for payment brings the person back to that order.
        const order = await checkout.placeOrder(request.user!, choice, body.terms, response.locals.locale as Locale);
        return response.redirect(303, `/orders/${order.number}`);
      } catch (error) {
        if (error instanceof OrderLimitError && error.details.openOrders) {
          const locale = response.locals.locale as Locale;
          const openOrders = error.details.openOrders.map((order) => ({ number: order.number, amount: formatMoney(order.priceCents, order.currency, locale) }));
          return showForm(response, { offer, amount, refusal: t('topup.errors.tooManyOpenOrders', { count: openOrders.length }), openOrders }, 409);
        }
        Object.assign(errors, await fieldErrorsFor(error, t, response.locals.locale as Locale));
      }
    }
    await showForm(response, { offer, amount, errors }, 400);
  });

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
