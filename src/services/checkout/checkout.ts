import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Database, Queryable } from '../../db/database.js';
import { flagIfOverdrawn, getAccountByCode, postTransaction } from '../../db/ledger/ledger-repository.js';
import { findCreditedAccount } from '../../db/people/people-repository.js';
import { listRecentOrdersOf, lockPersonsOrders, markPayPalOrderStarted, paypalOrderStartsOf } from '../../db/checkout/order-limits-repository.js';
import {
  addOrderEvent,
  clearCaptureRefusal,
  deferOrderCheck,
  findOrder,
  insertOrder,
  latestRefusalEventId,
  listOrdersToReconcile,
  listRefunds,
  lockOrder,
  moveOrder,
  recordCaptureRefusal,
  recordRefund,
  recordWebhookEvent,
} from '../../db/checkout/order-repository.js';
import { loadPriceList } from '../../db/pricing/price-list-repository.js';
import { currentTerms } from '../../db/pricing/terms-repository.js';
import { purgeWebhookTransmissions, recordWebhookTransmission, webhookSeenBefore } from '../../db/checkout/webhook-transmission-repository.js';
import type { Locale } from '../../i18n/index.js';
import { GatewayError, type CaptureSnapshot, type PaymentGateway, type PaymentSnapshot, type PaymentWebhookEvent } from '../../payments/gateway.js';
import { captureRefusalOf, nextCheckAfterRefusal, sellerRefusalBacksOff, waitsForTheBuyer, type CaptureRefusal } from './capture-refusals.js';
import type { Clock } from '../../domain/time/clock.js';
import type { DocumentIssuing } from '../documents/document-issuing.js';
import type { IssuedDocument } from '../../domain/documents/documents.js';
import { DomainError } from '../../domain/shared/errors.js';
import { SystemAccount, type PostingLine } from '../../domain/ledger/ledger.js';
import { PAYPAL_ORDER_WINDOW_MS, reusableOrder, secondsUntilPayPalOrderAllowed, UNPAID_STATUSES, type OrderLimits } from '../../domain/checkout/order-limits.js';
import { CLOSED_UNPAID_STATUSES, CREDITED_STATUSES, OPEN_STATUSES, type OrderStatus } from '../../domain/checkout/order-status.js';
import type { Order } from '../../domain/checkout/orders.js';
import { parseAmount, quoteFreeAmount, quotePack, type Cents } from '../../domain/pricing/pricing.js';
import { refundShare, refundVat, REFUNDABLE_STATUSES } from '../../domain/checkout/refunds.js';
import { quoteOrderPaid, quoteOrderRefunded } from './quote-orders.js';
import { isVoucherOrder, voucherOrderAccountId, voucherOrderPaid, voucherOrderRefunded } from './voucher-orders.js';
import type { User } from '../../domain/people/users.js';
import { isFreshTransmission, oldestFreshTransmission } from '../../domain/checkout/webhook-freshness.js';
import { paymentLedgerKeys } from '../../domain/checkout/payment-ledger-keys.js';
import { creditRefundPartOf, creditRefundUnitsOutsidePayPal } from '../../db/credit-refunds/credit-refund-repository.js';

export type CheckoutErrorCode =
  | 'no_terms'
  | 'terms_not_accepted'
  | 'order_not_found'
  | 'order_not_payable'
  | 'payment_unavailable'
  | 'order_not_refundable'
  | 'refund_refused'
  | 'too_many_open_orders'
  | 'too_many_paypal_orders';
export class CheckoutError extends DomainError<CheckoutErrorCode> {}

/** A person's limit is reached: their open orders (to pay one of them), or when a PayPal order may be started again. */
export class OrderLimitError extends CheckoutError {
  constructor(
    code: 'too_many_open_orders' | 'too_many_paypal_orders',
    message: string,
    readonly details: { openOrders?: Order[]; retryAfterSeconds?: number },
  ) {
    super(code, message);
  }
}

/** The provider could not be reached about an event: answer so that it is delivered again. */
export class ProviderUnreachableError extends Error {}

export type OfferChoice = { packId: unknown } | { amount: unknown };

/**
 * What became of a refund asked of the provider: `refunded` (with its id; `settled` when the
 * payment could be read back and applied), or, after an unclear answer, `not_refunded` when a
 * look-up shows no new refund and `unknown` when the look-up failed too.
 */
export type RefundOutcome =
  | { kind: 'refunded'; refundId: string; status: string; settled: boolean }
  | { kind: 'not_refunded' }
  | { kind: 'unknown' };

export interface CheckoutDependencies {
  db: Database;
  gateway: PaymentGateway;
  clock: Clock;
  logger: Logger;
  publicUrl: string;
  brandName: string;
  orderExpiryMinutes: number;
  limits: OrderLimits;
  documents: DocumentIssuing;
  /** Called after a transaction that issued receipts or credit notes has committed: they may be rendered and mailed now. */
  onDocumentsIssued?: (documents: IssuedDocument[]) => void;
}

/** How long after closing an order the reconciler still looks it up at PayPal (approval + capture windows). */
const CLOSED_WATCH_MS = 6 * 3600_000;
const PAYPAL_UNAPPROVED = new Set(['CREATED', 'PAYER_ACTION_REQUIRED']);
const CAPTURED_STATUSES = new Set(['COMPLETED', 'PARTIALLY_REFUNDED', 'REFUNDED', 'REVERSED']);
/** Our statuses in which an order may be captured. */
const CAPTURABLE_STATUSES: readonly OrderStatus[] = ['awaiting_payment', 'approved'];

/** What a capture attempt gave: PayPal's view of the payment if it could be had, where to send the buyer back, who PayPal refused it for. */
interface CaptureOutcome {
  snapshot: PaymentSnapshot | null;
  retryUrl: string | null;
  refusal: CaptureRefusal | null;
}

/**
 * Top-ups from order to credit. Every path that learns something about a payment — the buyer's
 * return, a webhook, the reconciler — goes through `settle`, which re-fetches the payment from the
 * provider and moves the order only forward. The credit is a ledger transaction keyed by the
 * provider's capture id, in the same database transaction as the order's move to `paid`: whichever
 * path gets there first credits, the others find it done.
 */
export function createCheckout(deps: CheckoutDependencies) {
  const { db, gateway, clock, logger } = deps;

  async function placeOrder(user: User, choice: OfferChoice, acceptedTermsId: unknown, locale: Locale): Promise<Order> {
    const terms = await currentTerms(db.knex);
    if (!terms) throw new CheckoutError('no_terms', 'no terms of sale are published');
    if (String(acceptedTermsId) !== String(terms.id)) throw new CheckoutError('terms_not_accepted', 'the current terms of sale were not accepted');
    const now = clock.now();
    const priceList = await loadPriceList(db.knex);
    const quote = 'packId' in choice ? quotePack(priceList, choice.packId, now) : quoteFreeAmount(priceList, parseAmount(choice.amount), now);
    return db.transaction(async (trx) => {
      // Under the person's lock, so that requests at once see each other's orders.
      await lockPersonsOrders(trx, db.dialect, user.id);
      const open = await listRecentOrdersOf(trx, user.id, { statuses: UNPAID_STATUSES, since: new Date(now.getTime() - deps.orderExpiryMinutes * 60_000) });
      const same = reusableOrder(open, quote, terms.id);
      if (same) return same;
      if (open.length >= deps.limits.openOrdersPerPerson) {
        throw new OrderLimitError('too_many_open_orders', `${user.username} has ${open.length} orders waiting for payment`, { openOrders: open });
      }
      return insertOrder(trx, { userId: user.id, quote, termsVersionId: terms.id, locale }, now);
    });
  }

  async function ownOrder(user: User, by: { id?: number; paypalOrderId?: string }): Promise<Order> {
    const order = await findOrder(db.knex, { ...by, userId: user.id });
    if (!order) throw new CheckoutError('order_not_found', 'no such order');
    return order;
  }

  /**
   * Creates the order's PayPal order (once, whatever the clicks) and returns where to send the buyer;
   * the caller has checked that the order is theirs to pay. A quote's buyer comes back to the quotes' pages.
   */
  async function startOrderPayment(order: Order, locale: Locale): Promise<string> {
    if (order.status === 'awaiting_payment' && order.approvalUrl) return order.approvalUrl;
    if (order.status !== 'created') throw new CheckoutError('order_not_payable', `order ${order.number} is ${order.status}`);
    // A quote's orders are limited by the quote (one open at a time) and the pages' per-address limits.
    if (order.userId !== null) await countPayPalOrderStart(order, order.userId);
    const returnPages = order.kind === 'quote' ? 'quotes' : isVoucherOrder(order) ? 'vouchers/buy' : 'topup';
    const input = {
      orderId: order.id,
      orderNumber: order.number,
      amountCents: order.priceCents,
      currency: order.currency,
      description: `${deps.brandName} ${order.number}`,
      returnUrl: `${deps.publicUrl}/${returnPages}/return`,
      cancelUrl: `${deps.publicUrl}/${returnPages}/cancel`,
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
    if (moved) return created.approvalUrl;
    // Another click stored its PayPal order first (same request id: the same order), or the order closed meanwhile.
    const current = (await findOrder(db.knex, { id: order.id })) as Order;
    if (current.status === 'awaiting_payment' && current.approvalUrl) return current.approvalUrl;
    throw new CheckoutError('order_not_payable', `order ${order.number} is ${current.status}`);
  }

  /**
   * Counts the order's PayPal order against the person's limit a minute, once: a retry asks PayPal for the
   * same order (same request id), so it is not counted again. Under the person's lock, like placeOrder.
   */
  async function countPayPalOrderStart(order: Order, userId: number): Promise<void> {
    const now = clock.now();
    await db.transaction(async (trx) => {
      await lockPersonsOrders(trx, db.dialect, userId);
      // Marked first: an order marked already was counted then. Refused, the mark is rolled back with the transaction.
      if (!(await markPayPalOrderStarted(trx, order.id, now))) {
        // Counted already (a retry), or closed since the caller read it (expired, cancelled): refused before PayPal is asked.
        const current = (await findOrder(trx, { id: order.id })) as Order;
        if (current.status !== 'created') throw new CheckoutError('order_not_payable', `order ${order.number} is ${current.status}`);
        return;
      }
      const starts = await paypalOrderStartsOf(trx, userId, new Date(now.getTime() - PAYPAL_ORDER_WINDOW_MS), order.id);
      if (starts.length >= deps.limits.paypalOrdersPerMinute) {
        throw new OrderLimitError('too_many_paypal_orders', `${starts.length} PayPal orders started in the last minute`, { retryAfterSeconds: secondsUntilPayPalOrderAllowed(starts, now) });
      }
    });
  }

  /** The buyer is back from PayPal: capture now if it is not done. Never trusts the URL beyond finding the person's own order. */
  async function completeReturn(user: User, paypalOrderId: unknown): Promise<{ order: Order; retryUrl: string | null }> {
    if (typeof paypalOrderId !== 'string' || paypalOrderId.length > 64) throw new CheckoutError('order_not_found', 'no such order');
    return completeReturnOf(await ownOrder(user, { paypalOrderId }));
  }

  /** The buyer of `order` (found and checked by the caller) is back from PayPal: capture now if it is not done. */
  async function completeReturnOf(order: Order): Promise<{ order: Order; retryUrl: string | null }> {
    const settled = await settle(order, { captureFirst: true });
    return { order: settled.order ?? ((await findOrder(db.knex, { id: order.id })) as Order), retryUrl: settled.retryUrl };
  }

  /**
   * The buyer left PayPal through its cancel link. PayPal is asked first, as on the return: the order may
   * have been paid in another tab, or the link may be an old one of an order paid since. Only an order
   * still waiting for payment is cancelled, and only once PayPal said it was not paid: when PayPal could
   * not be asked (`paypalAnswered` false) nothing changes. The caller says what the order really became.
   */
  async function cancelAtReturn(user: User, paypalOrderId: unknown): Promise<{ order: Order; paypalAnswered: boolean }> {
    if (typeof paypalOrderId !== 'string' || paypalOrderId.length > 64) throw new CheckoutError('order_not_found', 'no such order');
    return cancelAtReturnOf(await ownOrder(user, { paypalOrderId }));
  }

  /** cancelAtReturn for an order the caller found and checked. */
  async function cancelAtReturnOf(order: Order): Promise<{ order: Order; paypalAnswered: boolean }> {
    const current = async () => (await findOrder(db.knex, { id: order.id })) as Order;
    if (OPEN_STATUSES.includes(order.status)) {
      const { reached } = await settle(order, { captureFirst: false });
      // PayPal may have taken the money: cancelling would tell the buyer that nothing was charged.
      if (!reached) return { order: await current(), paypalAnswered: false };
    }
    await db.transaction(async (trx) => {
      await lockOrder(trx, order.id);
      await moveOrder(trx, order.id, { from: ['created', 'awaiting_payment'], to: 'cancelled', detail: 'cancelled by the buyer at PayPal' }, clock.now());
    });
    return { order: await current(), paypalAnswered: true };
  }

  /**
   * "Back" from the basket: an order not yet sent to PayPal is cancelled, so going back to choose
   * another amount leaves no unpaid order behind. One already sent is left as it is (its buyer may be
   * paying it in another tab; it expires or its cancel link closes it). Answers the order as it is now.
   */
  async function withdraw(order: Order): Promise<Order> {
    return db.transaction(async (trx) => {
      const locked = await lockOrder(trx, order.id);
      return (await moveOrder(trx, order.id, { from: ['created'], to: 'cancelled', detail: 'the buyer went back to the offers' }, clock.now())) ?? locked;
    });
  }

  type Recorder = (db: Queryable) => Promise<void>;

  /**
   * Brings an order up to date with the provider. `captureFirst` (the buyer's return, an APPROVED
   * webhook: the buyer has just approved) tries the capture straight away; otherwise the payment is
   * looked up first and captured if PayPal says it is approved — unless PayPal refused its capture for
   * the buyer since (`waitsForTheBuyer`: capturing again would be refused again, only the buyer
   * approving again can help). A buyer's capture PayPal does not refuse ends that wait, even when its
   * outcome is unclear: the order is then captured or looked up like any approved one. An order PayPal
   * refused for the seller is not captured at all while its backoff runs (`sellerRefusalBacksOff`),
   * whatever the path — except when `adminAsked` ("Check with PayPal now": an admin's explicit action,
   * maybe right after putting the account right; only admins can ask, so nobody can hammer PayPal
   * with it). `record` runs inside every database transaction that changes something (the webhook's
   * deduplication rows go with their effect). Answers, besides, the order as the transaction applying
   * PayPal's answer left it, when one ran (`order`).
   */
  async function settle(
    order: Order,
    { captureFirst, record, adminAsked = false }: { captureFirst: boolean; record?: Recorder; adminAsked?: boolean },
  ): Promise<{ retryUrl: string | null; snapshot: PaymentSnapshot | null; reached: boolean; order?: Order }> {
    if (!order.paypalOrderId) return { retryUrl: null, snapshot: null, reached: true };
    const capturable = CAPTURABLE_STATUSES.includes(order.status) && (adminAsked || !sellerRefusalBacksOff(order, clock.now()));
    const buyersCapture = captureFirst && capturable;
    let outcome: CaptureOutcome = buyersCapture ? await tryCapture(order) : { snapshot: await lookUp(order), retryUrl: null, refusal: null };
    let buyerMustApprove = outcome.refusal === 'buyer' || (!buyersCapture && waitsForTheBuyer(order));
    if (outcome.snapshot?.status === 'APPROVED' && !outcome.snapshot.capture && capturable && !buyerMustApprove && outcome.refusal === null) {
      outcome = await tryCapture(order);
      buyerMustApprove = outcome.refusal === 'buyer';
    }
    const applied = outcome.snapshot ? await apply(order, outcome.snapshot, { record, buyerMustApprove }) : undefined;
    return { retryUrl: outcome.retryUrl, snapshot: outcome.snapshot, reached: outcome.snapshot !== null || outcome.retryUrl !== null, order: applied };
  }

  const isApprovalUrl = (url: string | null | undefined): url is string => {
    try {
      return !!url && gateway.approvalOrigins.includes(new URL(url).origin);
    } catch {
      return false;
    }
  };

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

  /**
   * Captures, and records what PayPal refused (then nothing captures the order at once again). A capture
   * PayPal did not refuse — taken, or unanswered, as it may have gone through — ends an earlier refusal.
   */
  async function tryCapture(order: Order): Promise<CaptureOutcome> {
    let snapshot: PaymentSnapshot | null;
    try {
      snapshot = await gateway.capture(order.paypalOrderId as string, await captureRequestId(order));
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      const refusal = captureRefusalOf(error);
      if (refusal) return onCaptureRefused(order, refusal, error);
      // Already captured, not approved yet, no answer, an unreadable answer: look before deciding.
      logger.info({ order: order.number, kind: error.kind }, 'capture did not answer clearly; looking the payment up');
      snapshot = await lookUp(order);
    }
    if (order.captureDeclinedAt !== null) await clearCaptureRefusal(db.knex, order.id);
    return { snapshot, retryUrl: null, refusal: null };
  }

  /**
   * The capture's PayPal-Request-Id: `capture-order-<id>` until PayPal first refuses it, then one per
   * refusal (`-<id of the refusal's event>`), since PayPal may answer a repeated id with the earlier
   * refusal and the buyer's new approval, or the seller's put-right account, would never be captured.
   * A new id is safe: a refused capture took nothing, and PayPal captures an order once
   * (ORDER_ALREADY_CAPTURED, then a look-up). Paths capturing at once share the id, as before.
   */
  async function captureRequestId(order: Order): Promise<string> {
    const refusal = await latestRefusalEventId(db.knex, order.id);
    return refusal === null ? `capture-order-${order.id}` : `capture-order-${order.id}-${refusal}`;
  }

  /**
   * PayPal refused the capture. For the buyer: the order goes back to awaiting payment and the buyer back
   * to PayPal to pay another way (on a decline at once; otherwise when a look-up shows PayPal still waits
   * for them — a voided order is refused too). For the seller: the admins are told (`attention`), the
   * order is approved (the buyer did their part) and the reconciler captures it again, with backoff
   * counted from the first of these refusals, in case the account is put right before PayPal voids it.
   */
  async function onCaptureRefused(order: Order, refusal: CaptureRefusal, error: GatewayError): Promise<CaptureOutcome> {
    const now = clock.now();
    await db.transaction(async (trx) => {
      const current = await lockOrder(trx, order.id);
      if (!CAPTURABLE_STATUSES.includes(current.status)) return;
      if (refusal === 'buyer') {
        await recordCaptureRefusal(trx, order.id, { since: now, nextCheckAt: nextCheckAfterRefusal(now, now), event: 'instrument_declined', detail: error.message }, now);
        await moveOrder(trx, order.id, { from: ['approved'], to: 'awaiting_payment', detail: 'PayPal refused the capture: the buyer has to approve again' }, now);
      } else {
        const since = current.status === 'approved' && current.captureDeclinedAt ? current.captureDeclinedAt : now;
        const detail = `PayPal refused the capture for a reason on the seller's side: ${error.message}`;
        await recordCaptureRefusal(trx, order.id, { since, nextCheckAt: nextCheckAfterRefusal(since, now), event: 'attention', detail }, now);
        await moveOrder(trx, order.id, { from: ['awaiting_payment'], to: 'approved', detail: 'approved by the buyer' }, now);
      }
    });
    if (refusal === 'seller') {
      logger.error({ err: error, order: order.number }, "PayPal refused a capture for a reason on the seller's side");
      return { snapshot: await lookUp(order), retryUrl: null, refusal };
    }
    const backToPayPal = () => [error.details.approvalUrl, order.approvalUrl].find(isApprovalUrl) ?? null;
    if (error.kind === 'instrument_declined') return { snapshot: null, retryUrl: backToPayPal(), refusal };
    const snapshot = await lookUp(order);
    const buyerCanAct = snapshot !== null && !snapshot.capture && (snapshot.status === 'APPROVED' || PAYPAL_UNAPPROVED.has(snapshot.status));
    return { snapshot, retryUrl: buyerCanAct ? backToPayPal() : null, refusal };
  }

  /**
   * Applies what PayPal says; answers the order as the transaction left it, undefined when none ran. While
   * the buyer must approve again, the order stays awaiting payment even though PayPal says APPROVED.
   */
  async function apply(order: Order, snapshot: PaymentSnapshot, { record, buyerMustApprove }: { record?: Recorder; buyerMustApprove: boolean }): Promise<Order | undefined> {
    const now = clock.now();
    const capture = snapshot.capture;
    const move = (from: readonly OrderStatus[], to: OrderStatus, detail: string, columns?: Record<string, unknown>) =>
      db.transaction(async (trx) => {
        const locked = await lockOrder(trx, order.id);
        await record?.(trx);
        if (!from.includes(locked.status)) return locked;
        // Under the lock, the status it has is the one it moves from.
        return (await moveOrder(trx, order.id, { from: [locked.status], to, detail, columns }, now)) ?? locked;
      });
    if (!capture) {
      if (snapshot.status === 'APPROVED' && !buyerMustApprove) return move(['awaiting_payment'], 'approved', 'approved by the buyer');
      if (snapshot.status === 'VOIDED') return move(['awaiting_payment', 'approved'], 'expired', 'PayPal voided the payment');
      return undefined;
    }
    const customId = capture.customId ?? snapshot.customId;
    if (capture.amountCents !== order.priceCents || capture.currency !== order.currency || customId !== String(order.id)) {
      // Never credit what does not match what we asked for; a person has to look at it.
      logger.error({ order: order.number, capture: capture.id, amount: capture.amountCents, currency: capture.currency, customId }, 'capture does not match its order');
      return move(OPEN_STATUSES, 'failed', `capture ${capture.id} does not match the order (${capture.amountCents} ${capture.currency}, custom_id ${customId})`);
    }
    if (capture.status === 'PENDING') {
      return move(['awaiting_payment', 'approved'], 'capture_pending', `capture ${capture.id} pending: ${capture.reason ?? 'no reason given'}`, {
        paypal_capture_id: capture.id,
        // Captured after all: the reconciler looks at it on every sweep again.
        capture_declined_at: null,
        next_check_at: null,
      });
    }
    if (capture.status === 'DECLINED' || capture.status === 'FAILED') return move(OPEN_STATUSES, 'failed', `capture ${capture.id} ${capture.status.toLowerCase()}`, { paypal_capture_id: capture.id });
    return CAPTURED_STATUSES.has(capture.status) ? credit(order, capture, snapshot, record) : undefined;
  }

  /**
   * Credits the units once (key: the capture id) — or, for a quote's order, marks the quote paid — then
   * applies refunds and reversals, all in one transaction; answers the order as that transaction left it.
   */
  async function credit(order: Order, capture: CaptureSnapshot, snapshot: PaymentSnapshot, record?: Recorder): Promise<Order> {
    const now = clock.now();
    const { documents, after } = await db.transaction(async (trx) => {
      const documents: IssuedDocument[] = [];
      // Under the lock, this row is the order until the transaction ends, but for what it changes itself.
      const locked = await lockOrder(trx, order.id);
      await record?.(trx);
      let account: Promise<number | null> | undefined;
      /** Whether the person's account was closed, learnt when their account is read. */
      let accountClosed = false;
      /** The account credited, read once units are to move: the person's, or the codes' for a bought batch (a quote's order moves none; a payment seen again, usually none). */
      const accountId = () =>
        (account ??= isVoucherOrder(order)
          ? voucherOrderAccountId(trx, order)
          : order.userId === null
            ? Promise.resolve(null)
            : findCreditedAccount(trx, order.userId).then((found) => {
                if (!found) throw new Error(`user ${order.userId} has no account`);
                accountClosed = found.closed;
                return found.id;
              }));
      let current = locked;
      if (!CREDITED_STATUSES.includes(locked.status)) {
        const creditable = [...OPEN_STATUSES, ...CLOSED_UNPAID_STATUSES];
        if (!creditable.includes(locked.status)) {
          logger.error({ order: order.number, status: locked.status, capture: capture.id }, 'a completed capture arrived for a closed order');
          await addOrderEvent(trx, order.id, { type: 'attention', fromStatus: null, toStatus: null, detail: `capture ${capture.id} completed while the order is ${locked.status}` }, now);
          return { documents, after: locked };
        }
        // A quote's order moves no units: the money pays the quote (the receipt shows its lines).
        const creditedAccountId = await accountId();
        const posted =
          creditedAccountId === null
            ? null
            : await postTransaction(trx, { idempotencyKey: paymentLedgerKeys.credit(capture.id), kind: 'top_up', description: order.number, lines: await topUpLines(trx, creditedAccountId, order.units, order.bonusUnits, 1) }, now);
        const paid = await moveOrder(trx, order.id, {
          from: [locked.status],
          to: 'paid',
          detail: `capture ${capture.id}`,
          columns: { paypal_capture_id: capture.id, ledger_transaction_id: posted?.transactionId ?? null, paid_at: now.toISOString(), capture_declined_at: null, next_check_at: null },
        }, now);
        current = paid ?? locked;
        // Paid after the account was closed (an order being paid when a refund closed it): the units are recorded, and staff refund the money.
        if (accountClosed) await addOrderEvent(trx, order.id, { type: 'attention', fromStatus: null, toStatus: null, detail: 'the person’s account is closed: refund this payment' }, now);
        if (order.quoteId !== null) await quoteOrderPaid(trx, order, now);
        if (isVoucherOrder(order)) await voucherOrderPaid(trx, order, now);
        const receipt = await deps.documents.issueReceipt(trx, order, now);
        if (receipt.created) documents.push(receipt.document);
      }
      const refunded = await applyRefunds(trx, current, accountId, capture, snapshot, now);
      return { documents: [...documents, ...refunded.creditNotes], after: refunded.after };
    });
    if (documents.length > 0) deps.onDocumentsIssued?.(documents);
    return after;
  }

  /**
   * Takes back units for each completed refund on its own (key: the refund id), in proportion to its
   * amount and rounded down; once the whole price is refunded, the rounding remainder goes with a last
   * posting; a chargeback takes everything left. Each posting depends only on its own refund, so the
   * order in which PayPal lists or completes refunds changes nothing. Units already spent may take the
   * balance below zero; the account is then flagged. Each refund gets its credit note. `order` is the
   * order as the transaction has it, under its lock; returns the credit notes issued now and the order after.
   */
  async function applyRefunds(
    trx: Knex.Transaction,
    order: Order,
    accountIdOf: () => Promise<number | null>,
    capture: CaptureSnapshot,
    snapshot: PaymentSnapshot,
    now: Date,
  ): Promise<{ creditNotes: IssuedDocument[]; after: Order }> {
    const creditNotes: IssuedDocument[] = [];
    const total = order.units + order.bonusUnits;
    let refundedCents = 0;
    let debited = 0;
    for (const refund of snapshot.refunds.filter((candidate) => candidate.status === 'COMPLETED')) {
      // A refund a person asked for (credit-refunds) took its units back before PayPal was asked, in its request's own posting.
      const requested = await creditRefundPartOf(trx, { refundId: refund.id, invoiceId: refund.invoiceId, orderId: order.id, orderNumber: order.number, amountCents: refund.amountCents });
      const share = requested?.units ?? refundShare(order, refund.amountCents);
      const ledgerTransactionId = requested ? requested.takeBackTransactionId : await takeBack(paymentLedgerKeys.refund(refund.id), share, 'refund');
      const recorded = await listRefunds(trx, order.id);
      const earlier = recorded.filter((candidate) => candidate.refundId !== refund.id);
      const money = { currency: refund.currency, amountCents: refund.amountCents, ...refundVat(order, refund.amountCents, earlier) };
      await recordRefund(trx, { refundId: refund.id, orderId: order.id, ...money, ledgerTransactionId, invoiceId: refund.invoiceId }, now);
      const creditNote = await deps.documents.issueCreditNote(trx, order, refund.id, now);
      if (creditNote.created) creditNotes.push(creditNote.document);
      debited += share;
      refundedCents += refund.amountCents;
    }
    refundedCents = Math.min(refundedCents, order.priceCents);
    if (refundedCents >= order.priceCents) {
      await takeBack(paymentLedgerKeys.refundRest(capture.id), total - debited, 'refund');
      debited = total;
    }
    let after = order;
    /** Under the lock, the status it has is the one it moves from; in neither of `from`, it stays. */
    const move = async (from: readonly OrderStatus[], to: OrderStatus, detail: string) => {
      if (from.includes(after.status)) after = (await moveOrder(trx, order.id, { from: [after.status], to, detail, columns: { refunded_cents: refundedCents } }, now)) ?? after;
    };
    if (capture.status === 'REVERSED') {
      // Units a person's credit refund took back for money PayPal does not pay (a transfer, a part still waiting) are gone already.
      await takeBack(paymentLedgerKeys.reversal(capture.id), total - debited - (await creditRefundUnitsOutsidePayPal(trx, order.id)), 'reversal');
      await move(['paid', 'partially_refunded'], 'reversed', `capture ${capture.id} reversed`);
    } else if (refundedCents > order.refundedCents) {
      await move(['paid', 'partially_refunded'], refundedCents >= order.priceCents ? 'refunded' : 'partially_refunded', `refunded ${refundedCents} of ${order.priceCents}`);
    }
    if (order.quoteId !== null) await quoteOrderRefunded(trx, after, now);
    if (isVoucherOrder(order)) await voucherOrderRefunded(trx, after, now);
    return { creditNotes, after };

    /** The ledger transaction taking `amount` back (replayed if already posted), or null when there is nothing to take. */
    async function takeBack(idempotencyKey: string, amount: number, kind: string): Promise<number | null> {
      if (amount <= 0) return null;
      const accountId = await accountIdOf();
      if (accountId === null) return null;
      const share = order.bonusUnits === 0 ? 0 : Math.floor((amount * order.bonusUnits) / total);
      const lines = await topUpLines(trx, accountId, amount - share, share, -1);
      const posted = await postTransaction(trx, { idempotencyKey, kind: 'reversal', description: `${order.number} ${kind}`, lines, allowOverdraft: true }, now);
      // A person's account below zero is flagged; `system:vouchers` may go below zero (admins' codes).
      if (order.userId !== null) await flagIfOverdrawn(trx, accountId);
      return posted.transactionId;
    }
  }

  /** Lines moving units (and bonus) between the person and the top-up (and bonus) accounts; sign −1 takes them back. */
  async function topUpLines(trx: Knex.Transaction, accountId: number, units: number, bonus: number, sign: 1 | -1): Promise<PostingLine[]> {
    const lines: PostingLine[] = [{ accountId, amount: sign * (units + bonus) }];
    if (units > 0) lines.push({ accountId: (await getAccountByCode(trx, SystemAccount.topUps)).id, amount: -sign * units });
    if (bonus > 0) lines.push({ accountId: (await getAccountByCode(trx, SystemAccount.bonuses)).id, amount: -sign * bonus });
    return lines;
  }

  /**
   * A verified webhook: a trigger to look the payment up again, handled once per transmission and once
   * per event id. A transmission older than the freshness window is `stale` (refused: PayPal stopped
   * retrying it long ago); one answered 2xx before is a `duplicate`, whatever body it carries now.
   */
  async function handleWebhook(event: PaymentWebhookEvent): Promise<'processed' | 'duplicate' | 'ignored' | 'stale'> {
    if (!isFreshTransmission(event.transmission.time, clock.now())) return 'stale';
    const seen = await webhookSeenBefore(db.knex, event.transmission.id, event.id);
    if (seen.transmission) return 'duplicate';
    const rememberTransmission = (trx: Queryable) => recordWebhookTransmission(trx, { ...event.transmission, eventId: event.id }, clock.now());
    if (seen.event) {
      await rememberTransmission(db.knex);
      return 'duplicate';
    }
    const orderId = event.customId && /^\d{1,9}$/.test(event.customId) ? Number(event.customId) : undefined;
    const order = orderId !== undefined ? await findOrder(db.knex, { id: orderId }) : event.providerOrderId ? await findOrder(db.knex, { paypalOrderId: event.providerOrderId }) : undefined;
    const known = order && (!event.providerOrderId || order.paypalOrderId === event.providerOrderId) ? order : undefined;
    let recorded = false;
    const record: Recorder = async (trx) => {
      await recordWebhookEvent(trx, { id: event.id, type: event.type, orderId: known?.id ?? null }, clock.now());
      await rememberTransmission(trx);
      recorded = true;
    };
    if (known) {
      const { reached } = await settle(known, { captureFirst: event.type === 'CHECKOUT.ORDER.APPROVED', record });
      if (!reached) throw new ProviderUnreachableError(`could not look up ${known.number} at the payment provider`);
    }
    // Recorded already when settling changed something (its transaction committed, or settle would have thrown); else now.
    if (!recorded) await record(db.knex);
    return known ? 'processed' : 'ignored';
  }

  /**
   * One sweep over unfinished orders, page by page: look each up, capture the approved, credit the
   * completed, expire the stale — an order sent to PayPal only when PayPal itself says it was never
   * approved (a failed look-up decides nothing). Recently closed orders are looked up too, in case
   * PayPal took the money after all. An order whose capture PayPal refused is visited with a growing wait
   * (`next_check_at`): only looked up while it waits for its buyer, captured again when refused for the
   * seller. Also forgets webhook transmissions too old to matter.
   */
  async function reconcile(): Promise<{ examined: number; changed: number }> {
    const now = clock.now();
    const expiredBefore = now.getTime() - deps.orderExpiryMinutes * 60_000;
    let examined = 0;
    let changed = 0;
    await purgeWebhookTransmissions(db.knex, oldestFreshTransmission(now));
    for (let afterId = 0; ; ) {
      const page = await listOrdersToReconcile(db.knex, {
        statuses: ['created', ...OPEN_STATUSES],
        recentlyClosed: CLOSED_UNPAID_STATUSES,
        closedSince: new Date(now.getTime() - CLOSED_WATCH_MS),
        now,
        afterId,
        limit: 200,
      });
      if (page.length === 0) break;
      afterId = page[page.length - 1]!.id;
      for (const order of page) {
        examined += 1;
        try {
          const stale = order.createdAt.getTime() < expiredBefore;
          if (order.status === 'created') {
            if (stale) await expire(order, ['created'], 'never sent to PayPal in time');
          } else {
            const { snapshot } = await settle(order, { captureFirst: false });
            // A refused order is visited less and less often (unless a capture PayPal did not refuse ended the refusal).
            if (order.captureDeclinedAt) await deferOrderCheck(db.knex, order.id, nextCheckAfterRefusal(order.captureDeclinedAt, now));
            if (stale && order.status === 'awaiting_payment' && snapshot && !snapshot.capture && PAYPAL_UNAPPROVED.has(snapshot.status)) {
              await expire(order, ['awaiting_payment'], 'not approved at PayPal in time');
            }
          }
          if ((await findOrder(db.knex, { id: order.id }))?.status !== order.status) changed += 1;
        } catch (error) {
          logger.error({ err: error, order: order.number }, 'reconciling an order failed');
          // Shown on the admin dashboard; if the database itself is what failed, the log line above is all there is.
          await addOrderEvent(db.knex, order.id, { type: 'reconcile_error', fromStatus: null, toStatus: null, detail: error instanceof Error ? error.message : String(error) }, clock.now()).catch(() => undefined);
        }
      }
    }
    return { examined, changed };
  }

  /**
   * Refunds part or all of a credited order at the provider, then settles the order: the units go
   * back through applyRefunds, like any refund the provider reports. The same `requestId` refunds
   * once however often it is sent. An unclear answer is followed by a look-up, never by a second
   * refund: a refund found there carrying `requestId` as its invoice id is this one. "Not refunded" is
   * concluded only when nothing there could be it: a request PayPal says is still in progress, or any
   * refund not recorded before this call (its invoice id may have been dropped or replaced by the
   * order's), leaves the outcome unknown: the request stays pending, its units held, and the same form
   * asks again with the same id, which PayPal answers with that refund if it made one.
   */
  async function refund(order: Order, amountCents: Cents, requestId: string): Promise<RefundOutcome> {
    if (!REFUNDABLE_STATUSES.includes(order.status) || !order.paypalCaptureId) throw new CheckoutError('order_not_refundable', `order ${order.number} is ${order.status}`);
    const known = new Set((await listRefunds(db.knex, order.id)).map((recorded) => recorded.refundId));
    let answer: { refundId: string; status: string } | null = null;
    let inProgress = false;
    try {
      answer = await gateway.refund(order.paypalCaptureId, { amountCents, currency: order.currency, requestId });
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      inProgress = error.details.issue === 'PREVIOUS_REQUEST_IN_PROGRESS';
      if (error.kind !== 'unknown_outcome' && !inProgress) {
        logger.warn({ err: error, order: order.number }, 'the refund was refused');
        throw new CheckoutError('refund_refused', error.details.issue ?? error.message);
      }
      logger.warn({ err: error, order: order.number }, 'the refund did not answer clearly; looking the payment up');
    }
    const { snapshot } = await settle(order, { captureFirst: false });
    if (answer) return { kind: 'refunded', ...answer, settled: snapshot !== null };
    if (!snapshot) return { kind: 'unknown' };
    const found = snapshot.refunds.find((candidate) => candidate.invoiceId === requestId);
    if (found) return { kind: 'refunded', refundId: found.id, status: found.status, settled: true };
    const unseen = snapshot.refunds.some((candidate) => !known.has(candidate.id));
    return inProgress || unseen ? { kind: 'unknown' } : { kind: 'not_refunded' };
  }

  /**
   * "Check with PayPal now": looks one order up (capturing it if PayPal says approved, even while a
   * refusal on the seller's side backs off) and applies what PayPal says.
   */
  async function checkNow(order: Order): Promise<{ reached: boolean; after: Order }> {
    const { reached } = await settle(order, { captureFirst: false, adminAsked: true });
    return { reached, after: (await findOrder(db.knex, { id: order.id })) as Order };
  }

  async function expire(order: Order, from: readonly OrderStatus[], detail: string): Promise<void> {
    await db.transaction(async (trx) => {
      await lockOrder(trx, order.id);
      await moveOrder(trx, order.id, { from, to: 'expired', detail }, clock.now());
    });
  }

  return { placeOrder, startOrderPayment, completeReturn, completeReturnOf, cancelAtReturn, cancelAtReturnOf, withdraw, settle, handleWebhook, reconcile, ownOrder, refund, checkNow };
}

export type Checkout = ReturnType<typeof createCheckout>;
