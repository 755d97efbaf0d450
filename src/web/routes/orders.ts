import type { PrintSystem } from '../../services/credit-transfers/print-system.js';
import { Router, type Request, type Response } from 'express';
import type { Config } from '../../config.js';
import type { Database } from '../../db/database.js';
import { listOrderDocuments } from '../../services/documents/records.js';
import { listOrderTransactionIds, listTransfersOfTransactions, type CreditTransfer } from '../../services/credit-transfers/records.js';
import { waitsForTheBuyer, waitsForTheSeller } from '../../services/checkout/capture-refusals.js';
import { CheckoutError, OrderLimitError, type Checkout } from '../../services/checkout/checkout.js';
import { CLOSED_UNPAID_STATUSES, CREDITED_STATUSES, type OrderStatus } from '../../domain/checkout/order-status.js';
import { parseOrderNumber, type Order } from '../../domain/checkout/orders.js';
import type { Locale, Translate } from '../../i18n/index.js';
import { formatMoney, formatUnits } from '../../i18n/format.js';
import { notFound } from '../http-error.js';
import { requireUser } from '../middleware/authentication.js';
import { printSystemRefusal } from '../print-system-refusal.js';
import { renderPage } from '../render.js';
import { documentUrl } from './documents.js';

const RECEIPT_STATUSES = new Set(['paid', 'partially_refunded', 'refunded']);
/** After PayPal's cancel link, an order in these statuses is being paid after all. */
const PAYMENT_UNDER_WAY: readonly OrderStatus[] = ['approved', 'capture_pending'];

/**
 * Where one transfer of the order is, in the person's words: when it was applied, or that it is on
 * its way, or that an administrator has it in hand (its error is for admins only).
 */
function transferState(transfer: CreditTransfer, context: string, t: Translate, formatDateTime: (date: Date) => string): string {
  if (transfer.state === 'delivered' && transfer.deliveredAt) {
    return t(transfer.amount < 0 ? 'order.transfers.debited' : 'order.transfers.credited', { context, date: formatDateTime(transfer.deliveredAt) });
  }
  return t(transfer.state === 'pending' || transfer.state === 'delivering' ? 'order.transfers.inProgress' : 'order.transfers.waitingForAdmin', { context });
}

export function orderRoutes({ checkout, seller, db, printSystem }: { checkout: Checkout; seller: Config['seller']; db: Database; printSystem: PrintSystem | null }): Router {
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
    /** PayPal refused the way the buyer chose to pay: they may pay another way. */
    paymentMethodRefused: waitsForTheBuyer(order),
    documentUrl,
  });

  /** The transfers of the order's credit and take-backs to the print system, when credits go to one. */
  async function transfersOf(order: Order, response: Response) {
    if (!printSystem || order.userId === null) return null;
    const { t, locale } = response.locals as { t: Translate; locale: Locale };
    const transfers = (await listTransfersOfTransactions(db.knex, await listOrderTransactionIds(db.knex, order))).filter((transfer) => transfer.userId === order.userId);
    if (transfers.length === 0) return null;
    const context = printSystem.balances.kind;
    return {
      heading: t('order.transfers.heading', { context }),
      items: transfers.map((transfer) => ({
        what: t(transfer.amount < 0 ? 'order.transfers.takeBack' : 'order.transfers.credit', { units: formatUnits(t, Math.abs(transfer.amount), locale) }),
        state: transferState(transfer, context, t, response.locals.formatDateTime as (date: Date) => string),
      })),
    };
  }

  async function showOrder(response: Response, order: Order, { problem = null, notice = null }: { problem?: string | null; notice?: string | null } = {}) {
    const t = response.locals.t as Translate;
    const [view, transfers] = await Promise.all([viewOf(order, response.locals.locale as Locale), transfersOf(order, response)]);
    await renderPage(response, 'pages/order', { title: t('order.title', { number: order.number }), ...view, seller, transfers, problem, notice });
  }

  /** Back from PayPal's cancel link on an order that was paid, or is being paid, after all: say so. */
  function afterCancelNotice(order: Order, t: Translate, locale: Locale): string | null {
    if (CREDITED_STATUSES.includes(order.status)) return t('order.afterCancel.paid', { units: formatUnits(t, order.units + order.bonusUnits, locale) });
    if (waitsForTheSeller(order)) return t('order.afterCancel.heldBySeller');
    return PAYMENT_UNDER_WAY.includes(order.status) ? t('order.afterCancel.processing') : null;
  }

  router.get('/orders/:number', requireUser, async (request, response) => {
    const t = response.locals.t as Translate;
    const order = await orderOf(request);
    const problem = typeof request.query.problem === 'string' && ['notPayable', 'paymentUnavailable'].includes(request.query.problem) ? t(`order.${request.query.problem}`) : null;
    const notice = request.query.from === 'cancel' ? afterCancelNotice(order, t, response.locals.locale as Locale) : null;
    await showOrder(response, order, { problem, notice });
  });

  router.post('/orders/:number/pay', requireUser, async (request, response) => {
    const order = await orderOf(request);
    // The person may have been removed from the print system since they placed the order.
    const refusal = await printSystemRefusal(printSystem, request, response.locals.t as Translate);
    if (refusal) return showOrder(response.status(409), order, { problem: refusal });
    try {
      response.redirect(303, await checkout.startOrderPayment(order, response.locals.locale as Locale));
    } catch (error) {
      if (!(error instanceof CheckoutError)) throw error;
      if (error instanceof OrderLimitError && error.details.retryAfterSeconds !== undefined) {
        const seconds = error.details.retryAfterSeconds;
        response.status(429).setHeader('Retry-After', String(seconds));
        return showOrder(response, order, { problem: (response.locals.t as Translate)('order.tooManyPayPalOrders', { count: seconds }) });
      }
      response.redirect(303, `/orders/${order.number}?problem=${error.code === 'payment_unavailable' ? 'paymentUnavailable' : 'notPayable'}`);
    }
  });

  // "Back" on the basket: the order not yet sent to PayPal is cancelled and the offers are shown again.
  router.post('/orders/:number/back', requireUser, async (request, response) => {
    const order = await checkout.withdraw(await orderOf(request));
    response.redirect(303, order.status === 'cancelled' ? '/topup' : `/orders/${order.number}`);
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

  // PayPal's cancel link: the order's real state decides what the person is told (it may have been paid meanwhile).
  // When PayPal could not be asked, the order is left as it is and its page says so (following the link again asks again).
  router.get('/topup/cancel', requireUser, async (request, response) => {
    try {
      const { order, paypalAnswered } = await checkout.cancelAtReturn(request.user!, request.query.token);
      if (!paypalAnswered) return await showOrder(response, order, { notice: (response.locals.t as Translate)('order.afterCancel.unconfirmed') });
      response.redirect(303, CLOSED_UNPAID_STATUSES.includes(order.status) ? `/topup?cancelled=${order.number}` : `/orders/${order.number}?from=cancel`);
    } catch (error) {
      if (error instanceof CheckoutError) throw notFound();
      throw error;
    }
  });

  return router;
}
