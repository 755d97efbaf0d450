import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Database, Queryable } from '../db/database.js';
import { findAccountByUserId, getAccountByCode, postTransaction } from '../db/ledger-repository.js';
import {
  addOrderEvent,
  findOrder,
  hasWebhookEvent,
  insertOrder,
  listOpenOrders,
  lockOrder,
  moveOrder,
  recordWebhookEvent,
} from '../db/order-repository.js';
import { loadPriceList } from '../db/price-list-repository.js';
import { currentTerms } from '../db/terms-repository.js';
import type { Locale } from '../i18n/index.js';
import { GatewayError, type CaptureSnapshot, type PaymentGateway, type PaymentSnapshot, type PaymentWebhookEvent } from '../payments/gateway.js';
import type { Clock } from './clock.js';
import { DomainError } from './errors.js';
import { SystemAccount, type PostingLine } from './ledger.js';
import type { OrderStatus } from './order-status.js';
import type { Order } from './orders.js';
import { parseAmount, quoteFreeAmount, quotePack } from './pricing.js';
import type { User } from './users.js';

export type CheckoutErrorCode = 'no_terms' | 'terms_not_accepted' | 'order_not_found' | 'order_not_payable' | 'payment_unavailable';
export class CheckoutError extends DomainError<CheckoutErrorCode> {}

export type OfferChoice = { packId: unknown } | { amount: unknown };

export interface CheckoutDependencies {
  db: Database;
  gateway: PaymentGateway;
  clock: Clock;
  logger: Logger;
  publicUrl: string;
  brandName: string;
  orderExpiryMinutes: number;
}

/** Statuses in which the payment may still be captured and credited. */
const OPEN: readonly OrderStatus[] = ['awaiting_payment', 'approved', 'capture_pending'];
/** Statuses of orders whose units were credited. */
const CREDITED: readonly OrderStatus[] = ['paid', 'partially_refunded', 'refunded', 'reversed'];
const CAPTURED_STATUSES = new Set(['COMPLETED', 'PARTIALLY_REFUNDED', 'REFUNDED', 'REVERSED']);

/**
 * Top-ups from order to credit. Every path that learns something about a payment — the buyer's
 * return, a webhook, the reconciler — goes through `settle`, which re-fetches the payment from the
 * provider and moves the order only forward. The credit is a ledger transaction keyed by the
 * provider's capture id, in the same database transaction as the order's move to `paid`: whichever
 * path gets there first credits, the others find it done.
 */
export function createCheckout(deps: CheckoutDependencies) {
  const { db, gateway, clock, logger } = deps;

  async function placeOrder(user: User, choice: OfferChoice, acceptedTermsId: unknown): Promise<Order> {
    const terms = await currentTerms(db.knex);
    if (!terms) throw new CheckoutError('no_terms', 'no terms of sale are published');
    if (String(acceptedTermsId) !== String(terms.id)) throw new CheckoutError('terms_not_accepted', 'the current terms of sale were not accepted');
    const now = clock.now();
    const priceList = await loadPriceList(db.knex);
    const quote = 'packId' in choice ? quotePack(priceList, choice.packId, now) : quoteFreeAmount(priceList, parseAmount(choice.amount), now);
    return db.transaction((trx) => insertOrder(trx, { userId: user.id, quote, termsVersionId: terms.id }, now));
  }

  async function ownOrder(user: User, by: { id?: number; paypalOrderId?: string }): Promise<Order> {
    const order = await findOrder(db.knex, { ...by, userId: user.id });
    if (!order) throw new CheckoutError('order_not_found', 'no such order');
    return order;
  }

  /** Creates the PayPal order (once, whatever the clicks) and returns where to send the buyer. */
  async function startPayment(user: User, orderId: number, locale: Locale): Promise<string> {
    const order = await ownOrder(user, { id: orderId });
    if (order.status === 'awaiting_payment' && order.approvalUrl) return order.approvalUrl;
    if (order.status !== 'created') throw new CheckoutError('order_not_payable', `order ${order.number} is ${order.status}`);
    const input = {
      orderId: order.id,
      orderNumber: order.number,
      amountCents: order.priceCents,
      currency: order.currency,
      description: `${deps.brandName} ${order.number}`,
      returnUrl: `${deps.publicUrl}/topup/return`,
      cancelUrl: `${deps.publicUrl}/topup/cancel`,
      locale,
      brandName: deps.brandName,
      // The same id on a retry makes PayPal answer with the order it already created.
      requestId: `create-order-${order.id}`,
    };
    let created;
    try {
      created = await gateway.createPayment(input).catch((error: unknown) => {
        if (error instanceof GatewayError && error.kind === 'unknown_outcome') return gateway.createPayment(input);
        throw error;
      });
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      logger.warn({ err: error, order: order.number }, 'payment could not be started');
      await addOrderEvent(db.knex, order.id, { type: 'gateway_error', fromStatus: null, toStatus: null, detail: error.message }, clock.now());
      throw new CheckoutError('payment_unavailable', 'the payment service did not answer');
    }
    const moved = await db.transaction((trx) =>
      moveOrder(trx, order.id, { from: ['created'], to: 'awaiting_payment', columns: { paypal_order_id: created.providerOrderId, approval_url: created.approvalUrl } }, clock.now()),
    );
    if (!moved) return (await ownOrder(user, { id: order.id })).approvalUrl ?? created.approvalUrl;
    return created.approvalUrl;
  }

  /** The buyer is back from PayPal: capture now if it is not done. Never trusts the URL beyond finding the person's own order. */
  async function completeReturn(user: User, paypalOrderId: unknown): Promise<{ order: Order; retryUrl: string | null }> {
    if (typeof paypalOrderId !== 'string' || paypalOrderId.length > 64) throw new CheckoutError('order_not_found', 'no such order');
    const order = await ownOrder(user, { paypalOrderId });
    const { retryUrl } = await settle(order, { captureFirst: true });
    return { order: await ownOrder(user, { id: order.id }), retryUrl };
  }

  async function cancelAtReturn(user: User, paypalOrderId: unknown): Promise<Order> {
    if (typeof paypalOrderId !== 'string' || paypalOrderId.length > 64) throw new CheckoutError('order_not_found', 'no such order');
    const order = await ownOrder(user, { paypalOrderId });
    await db.transaction((trx) => moveOrder(trx, order.id, { from: ['created', 'awaiting_payment'], to: 'cancelled', detail: 'cancelled by the buyer at PayPal' }, clock.now()));
    return ownOrder(user, { id: order.id });
  }

  type Recorder = (db: Queryable) => Promise<void>;

  /**
   * Brings an order up to date with the provider. `captureFirst` (the buyer's return, an APPROVED
   * webhook) tries the capture straight away; otherwise the payment is looked up first and captured
   * only if PayPal says it is approved. `record` runs inside every database transaction that changes
   * something (the webhook's deduplication row goes with its effect).
   */
  async function settle(order: Order, { captureFirst, record }: { captureFirst: boolean; record?: Recorder }): Promise<{ retryUrl: string | null }> {
    if (!order.paypalOrderId) return { retryUrl: null };
    const capturable = order.status === 'awaiting_payment' || order.status === 'approved';
    let outcome = captureFirst && capturable ? await tryCapture(order) : { snapshot: await lookUp(order), retryUrl: null };
    if (outcome.snapshot?.status === 'APPROVED' && !outcome.snapshot.capture && capturable) outcome = await tryCapture(order);
    if (outcome.snapshot) await apply(order, outcome.snapshot, record);
    return { retryUrl: outcome.retryUrl };
  }

  async function lookUp(order: Order): Promise<PaymentSnapshot | null> {
    try {
      return await gateway.getPayment(order.paypalOrderId as string);
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      // Nothing is decided on a failed look-up: the order stays as it is and the reconciler looks again.
      logger.warn({ err: error, order: order.number }, 'payment look-up failed');
      return null;
    }
  }

  async function tryCapture(order: Order): Promise<{ snapshot: PaymentSnapshot | null; retryUrl: string | null }> {
    try {
      return { snapshot: await gateway.capture(order.paypalOrderId as string, `capture-order-${order.id}`), retryUrl: null };
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      if (error.kind === 'instrument_declined') {
        await addOrderEvent(db.knex, order.id, { type: 'instrument_declined', fromStatus: null, toStatus: null, detail: error.message }, clock.now());
        const retryUrl = [error.details.approvalUrl, order.approvalUrl].find((url) => url && gateway.approvalOrigins.includes(new URL(url).origin)) ?? null;
        return { snapshot: null, retryUrl };
      }
      // Already captured, not approved yet, no answer, an unreadable answer: look before deciding.
      logger.info({ order: order.number, kind: error.kind }, 'capture did not answer clearly; looking the payment up');
      return { snapshot: await lookUp(order), retryUrl: null };
    }
  }

  async function apply(order: Order, snapshot: PaymentSnapshot, record?: Recorder): Promise<void> {
    const now = clock.now();
    const capture = snapshot.capture;
    const move = (from: readonly OrderStatus[], to: OrderStatus, detail: string, columns?: Record<string, unknown>) =>
      db.transaction(async (trx) => {
        await lockOrder(trx, order.id);
        await record?.(trx);
        return moveOrder(trx, order.id, { from, to, detail, columns }, now);
      });
    if (!capture) {
      if (snapshot.status === 'APPROVED') await move(['awaiting_payment'], 'approved', 'approved by the buyer');
      if (snapshot.status === 'VOIDED') await move(['awaiting_payment', 'approved'], 'expired', 'PayPal voided the payment');
      return;
    }
    const customId = capture.customId ?? snapshot.customId;
    if (capture.amountCents !== order.priceCents || capture.currency !== order.currency || customId !== String(order.id)) {
      // Never credit what does not match what we asked for; a person has to look at it.
      logger.error({ order: order.number, capture: capture.id, amount: capture.amountCents, currency: capture.currency, customId }, 'capture does not match its order');
      await move(OPEN, 'failed', `capture ${capture.id} does not match the order (${capture.amountCents} ${capture.currency}, custom_id ${customId})`);
      return;
    }
    if (capture.status === 'PENDING') {
      await move(['awaiting_payment', 'approved'], 'capture_pending', `capture ${capture.id} pending: ${capture.reason ?? 'no reason given'}`, { paypal_capture_id: capture.id });
    } else if (capture.status === 'DECLINED' || capture.status === 'FAILED') {
      await move(OPEN, 'failed', `capture ${capture.id} ${capture.status.toLowerCase()}`, { paypal_capture_id: capture.id });
    } else if (CAPTURED_STATUSES.has(capture.status)) {
      await credit(order, capture, snapshot, record);
    }
  }

  /** Credits the units once (key: the capture id), then applies refunds and reversals, all in one transaction. */
  async function credit(order: Order, capture: CaptureSnapshot, snapshot: PaymentSnapshot, record?: Recorder): Promise<void> {
    const now = clock.now();
    await db.transaction(async (trx) => {
      const current = await lockOrder(trx, order.id);
      await record?.(trx);
      const account = await findAccountByUserId(trx, order.userId);
      if (!account) throw new Error(`user ${order.userId} has no account`);
      if (!CREDITED.includes(current.status)) {
        if (!OPEN.includes(current.status)) {
          logger.error({ order: order.number, status: current.status, capture: capture.id }, 'a completed capture arrived for a closed order');
          await addOrderEvent(trx, order.id, { type: 'attention', fromStatus: null, toStatus: null, detail: `capture ${capture.id} completed while the order is ${current.status}` }, now);
          return;
        }
        const lines = await topUpLines(trx, account.id, order.units, order.bonusUnits, 1);
        const posted = await postTransaction(trx, { idempotencyKey: `paypal-capture:${capture.id}`, kind: 'top_up', description: order.number, lines }, now);
        await moveOrder(trx, order.id, { from: OPEN, to: 'paid', detail: `capture ${capture.id}`, columns: { paypal_capture_id: capture.id, ledger_transaction_id: posted.transactionId, paid_at: now.toISOString() } }, now);
      }
      await applyRefunds(trx, order, account.id, capture, snapshot, now);
    });
  }

  /**
   * Takes back units for each completed refund (key: the refund id), in proportion to the amount
   * refunded — all of them once the whole price is refunded — and everything left after a chargeback.
   * Units already spent may take the balance below zero; the account is then flagged.
   */
  async function applyRefunds(trx: Knex.Transaction, order: Order, accountId: number, capture: CaptureSnapshot, snapshot: PaymentSnapshot, now: Date): Promise<void> {
    const total = order.units + order.bonusUnits;
    let refundedCents = 0;
    let debited = 0;
    for (const refund of snapshot.refunds.filter((candidate) => candidate.status === 'COMPLETED')) {
      refundedCents = Math.min(order.priceCents, refundedCents + refund.amountCents);
      const target = refundedCents >= order.priceCents ? total : Math.floor((total * refundedCents) / order.priceCents);
      await takeBack(`paypal-refund:${refund.id}`, target - debited, 'refund');
      debited = target;
    }
    const current = (await findOrder(trx, { id: order.id })) as Order;
    if (capture.status === 'REVERSED') {
      await takeBack(`paypal-reversal:${capture.id}`, total - debited, 'reversal');
      await moveOrder(trx, order.id, { from: ['paid', 'partially_refunded'], to: 'reversed', detail: `capture ${capture.id} reversed`, columns: { refunded_cents: refundedCents } }, now);
    } else if (refundedCents > current.refundedCents) {
      const to: OrderStatus = refundedCents >= order.priceCents ? 'refunded' : 'partially_refunded';
      await moveOrder(trx, order.id, { from: ['paid', 'partially_refunded'], to, detail: `refunded ${refundedCents} of ${order.priceCents}`, columns: { refunded_cents: refundedCents } }, now);
    }

    async function takeBack(idempotencyKey: string, amount: number, kind: string): Promise<void> {
      if (amount <= 0) return;
      const share = order.bonusUnits === 0 ? 0 : Math.floor((amount * order.bonusUnits) / total);
      const lines = await topUpLines(trx, accountId, amount - share, share, -1);
      await postTransaction(trx, { idempotencyKey, kind: 'reversal', description: `${order.number} ${kind}`, lines, allowOverdraft: true }, now);
      await trx('accounts').where('id', accountId).where('balance', '<', 0).update({ flagged: true });
    }
  }

  /** Lines moving units (and bonus) between the person and the top-up (and bonus) accounts; sign −1 takes them back. */
  async function topUpLines(trx: Knex.Transaction, accountId: number, units: number, bonus: number, sign: 1 | -1): Promise<PostingLine[]> {
    const lines: PostingLine[] = [{ accountId, amount: sign * (units + bonus) }];
    if (units > 0) lines.push({ accountId: (await getAccountByCode(trx, SystemAccount.topUps)).id, amount: -sign * units });
    if (bonus > 0) lines.push({ accountId: (await getAccountByCode(trx, SystemAccount.bonuses)).id, amount: -sign * bonus });
    return lines;
  }

  /** A verified webhook: a trigger to look the payment up again, handled once per event id. */
  async function handleWebhook(event: PaymentWebhookEvent): Promise<'processed' | 'duplicate' | 'ignored'> {
    if (await hasWebhookEvent(db.knex, event.id)) return 'duplicate';
    const orderId = event.customId && /^\d{1,9}$/.test(event.customId) ? Number(event.customId) : undefined;
    const order = orderId !== undefined ? await findOrder(db.knex, { id: orderId }) : event.providerOrderId ? await findOrder(db.knex, { paypalOrderId: event.providerOrderId }) : undefined;
    const known = order && (!event.providerOrderId || order.paypalOrderId === event.providerOrderId) ? order : undefined;
    const record: Recorder = (trx) => recordWebhookEvent(trx, { id: event.id, type: event.type, orderId: known?.id ?? null }, clock.now());
    if (known) await settle(known, { captureFirst: event.type === 'CHECKOUT.ORDER.APPROVED', record });
    await record(db.knex);
    return known ? 'processed' : 'ignored';
  }

  /** One sweep over unfinished orders: look each up, capture the approved, credit the completed, expire the stale. */
  async function reconcile(): Promise<{ examined: number; changed: number }> {
    const orders = await listOpenOrders(db.knex, ['created', ...OPEN], 500);
    const expiredBefore = clock.now().getTime() - deps.orderExpiryMinutes * 60_000;
    let changed = 0;
    for (const order of orders) {
      try {
        if (order.status !== 'created') await settle(order, { captureFirst: false });
        const current = (await findOrder(db.knex, { id: order.id })) as Order;
        if ((current.status === 'created' || current.status === 'awaiting_payment') && current.createdAt.getTime() < expiredBefore) {
          await db.transaction((trx) => moveOrder(trx, order.id, { from: ['created', 'awaiting_payment'], to: 'expired', detail: 'not paid in time' }, clock.now()));
        }
        if ((await findOrder(db.knex, { id: order.id }))?.status !== order.status) changed += 1;
      } catch (error) {
        logger.error({ err: error, order: order.number }, 'reconciling an order failed');
      }
    }
    return { examined: orders.length, changed };
  }

  return { placeOrder, startPayment, completeReturn, cancelAtReturn, settle, handleWebhook, reconcile, ownOrder };
}

export type Checkout = ReturnType<typeof createCheckout>;
