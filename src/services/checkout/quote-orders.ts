import type { Knex } from 'knex';
import { addOrderEvent } from '../../db/checkout/order-repository.js';
import { insertQuoteEvent, lockQuote, recordQuotePaid, recordQuoteRefunded } from '../../db/quotes/quote-repository.js';
import type { Order } from '../../domain/checkout/orders.js';
import { assertQuoteMove, PAID_STATUSES, type QuoteStatus } from '../../domain/quotes/quote-status.js';

/** The quote's timeline names the portal as the actor of what PayPal and the reconciler record. */
const SYSTEM_ACTOR = 'system';

/**
 * A quote's order was just captured (in the crediting transaction, under the order's lock): the quote
 * is paid by it — even expired or cancelled, since the money was taken (a cancelled one is flagged for
 * staff). Taken under the quote's lock too, so that a payment in units cannot pay it as well. A
 * quote already paid by something else — a customer who approved an earlier order after it closed, on
 * top of the one that paid — keeps its payment; the second one is money taken for nothing, so the order
 * carries an `attention` event for the admins to refund it.
 */
export async function quoteOrderPaid(trx: Knex.Transaction, order: Order, now: Date): Promise<void> {
  const quote = await lockQuote(trx, order.quoteId as number);
  if (!quote) throw new Error(`order ${order.number} pays quote ${order.quoteId}, which does not exist`);
  if (PAID_STATUSES.includes(quote.status) || quote.status === 'draft') {
    const detail = `quote ${quote.number} is ${quote.status}: this payment is not needed and should be refunded`;
    await addOrderEvent(trx, order.id, { type: 'attention', fromStatus: null, toStatus: null, detail }, now);
    await insertQuoteEvent(trx, quote.id, { type: 'attention', fromStatus: null, toStatus: null, detail: `${order.number}: ${detail}`, actorUsername: SYSTEM_ACTOR }, now);
    return;
  }
  assertQuoteMove(quote.status, 'paid');
  await recordQuotePaid(trx, quote.id, quote.status, { orderId: order.id }, now);
  const late = quote.status === 'sent' ? '' : ` (the quote was ${quote.status}: the customer was already paying)`;
  await insertQuoteEvent(trx, quote.id, { type: 'status', fromStatus: quote.status, toStatus: 'paid', detail: `${order.number}${late}`, actorUsername: SYSTEM_ACTOR }, now);
  if (quote.status === 'cancelled') {
    // Cancelling closes the quote's open order, so only a capture PayPal made as staff cancelled gets here: staff decide whether to keep or refund it.
    const detail = `quote ${quote.number} was cancelled by staff, then paid: refund this payment or deliver the job`;
    await addOrderEvent(trx, order.id, { type: 'attention', fromStatus: null, toStatus: null, detail }, now);
    await insertQuoteEvent(trx, quote.id, { type: 'attention', fromStatus: null, toStatus: null, detail: `${order.number}: ${detail}`, actorUsername: SYSTEM_ACTOR }, now);
  }
}

/**
 * The order that paid the quote was refunded (in part) or charged back: the quote follows, with what
 * was given back. An order that did not pay the quote (see quoteOrderPaid) leaves it alone.
 */
export async function quoteOrderRefunded(trx: Knex.Transaction, order: Order, now: Date): Promise<void> {
  const quote = await lockQuote(trx, order.quoteId as number);
  if (!quote || quote.paidOrderId !== order.id || (order.refundedCents <= quote.refundedCents && order.status !== 'reversed')) return;
  const to: QuoteStatus = order.status === 'reversed' || order.refundedCents >= order.priceCents ? 'refunded' : 'partially_refunded';
  if (quote.status === 'refunded') return;
  assertQuoteMove(quote.status, to);
  const refundedCents = order.status === 'reversed' ? order.priceCents : order.refundedCents;
  await recordQuoteRefunded(trx, quote.id, quote.status, to, refundedCents, now);
  const detail = order.status === 'reversed' ? `${order.number} charged back by the buyer` : `${order.number}: ${refundedCents} of ${order.priceCents} refunded`;
  await insertQuoteEvent(trx, quote.id, { type: 'status', fromStatus: quote.status, toStatus: to, detail, actorUsername: SYSTEM_ACTOR }, now);
}
