import { Router, type Request } from 'express';
import type { Config } from '../../config.js';
import type { Database } from '../../db/database.js';
import { listOrderDocuments } from '../../db/document-repository.js';
import { CheckoutError, type Checkout } from '../../domain/checkout.js';
import { parseOrderNumber, type Order } from '../../domain/orders.js';
import type { Locale, Translate } from '../../i18n/index.js';
import { formatMoney } from '../../i18n/format.js';
import { notFound } from '../http-error.js';
import { requireUser } from '../middleware/authentication.js';
import { renderPage } from '../render.js';
import { documentUrl } from './documents.js';

const RECEIPT_STATUSES = new Set(['paid', 'partially_refunded', 'refunded']);

export function orderRoutes({ checkout, seller, db }: { checkout: Checkout; seller: Config['seller']; db: Database }): Router {
  const router = Router();

  /** Another person's order, or no order at all: the same 404. */
  async function orderOf(request: Request): Promise<Order> {
    const id = parseOrderNumber(request.params.number);
    if (id === null) throw notFound();
    try {
      return await checkout.ownOrder(request.user!, { id });
    } catch (error) {
      if (error instanceof CheckoutError) throw notFound();
      throw error;
    }
  }

  const viewOf = async (order: Order, locale: Locale) => ({
    order,
    money: (cents: number) => formatMoney(cents, order.currency, locale),
    vatRate: order.vatRateBasisPoints / 100,
    documents: await listOrderDocuments(db.knex, order.id),
    documentUrl,
  });

  router.get('/orders/:number', requireUser, async (request, response) => {
    const t = response.locals.t as Translate;
    const order = await orderOf(request);
    const problem = typeof request.query.problem === 'string' && ['notPayable', 'paymentUnavailable'].includes(request.query.problem) ? t(`order.${request.query.problem}`) : null;
    await renderPage(response, 'pages/order', { title: t('order.title', { number: order.number }), ...(await viewOf(order, response.locals.locale as Locale)), problem });
  });

  router.post('/orders/:number/pay', requireUser, async (request, response) => {
    const order = await orderOf(request);
    try {
      response.redirect(303, await checkout.startPayment(request.user!, order.id, response.locals.locale as Locale));
    } catch (error) {
      if (!(error instanceof CheckoutError)) throw error;
      response.redirect(303, `/orders/${order.number}?problem=${error.code === 'payment_unavailable' ? 'paymentUnavailable' : 'notPayable'}`);
    }
  });

  router.get('/orders/:number/receipt', requireUser, async (request, response) => {
    const t = response.locals.t as Translate;
    const order = await orderOf(request);
    if (!RECEIPT_STATUSES.has(order.status)) throw notFound();
    await renderPage(response, 'pages/receipt', { title: t('receipt.title', { number: order.number }), ...(await viewOf(order, response.locals.locale as Locale)), seller });
  });

  // PayPal sends the buyer back here with ?token=<PayPal order id>; the token only finds the person's own order.
  router.get('/topup/return', requireUser, async (request, response) => {
    try {
      const { order, retryUrl } = await checkout.completeReturn(request.user!, request.query.token);
      response.redirect(303, retryUrl ?? `/orders/${order.number}`);
    } catch (error) {
      if (error instanceof CheckoutError) throw notFound();
      throw error;
    }
  });

  router.get('/topup/cancel', requireUser, async (request, response) => {
    try {
      const order = await checkout.cancelAtReturn(request.user!, request.query.token);
      response.redirect(303, `/topup?cancelled=${order.number}`);
    } catch (error) {
      if (error instanceof CheckoutError) throw notFound();
      throw error;
    }
  });

  return router;
}
