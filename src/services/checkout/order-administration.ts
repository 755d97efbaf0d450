import { recordAudit } from '../../db/audit/audit-repository.js';
import type { Database } from '../../db/database.js';
import {
  findOrderPerson,
  findRefundRequest,
  listOrderEvents,
  listOrderWebhooks,
  listRefundRequests,
  listTransactionsByKeys,
  closeRefundRequest,
  savePendingRefundRequest,
  termsVersionNumber,
  unitsHeldByPendingRefunds,
} from '../../db/checkout/order-admin-repository.js';
import { listRefunds, lockOrder } from '../../db/checkout/order-repository.js';
import { centsOwedByCreditRefunds } from '../../db/credit-refunds/credit-refund-repository.js';
import { lockPersonAccount } from '../../db/people/people-repository.js';
import { findQuote } from '../../db/quotes/quote-repository.js';
import { findPurchase } from '../../db/vouchers/voucher-purchase-repository.js';
import { isVoucherOrder, unredeemedUnitsOf } from './voucher-orders.js';
import { loadRefundPolicy, saveRefundPolicy } from '../../db/checkout/refund-policy-repository.js';
import { paymentLedgerKeys } from '../../domain/checkout/payment-ledger-keys.js';
import type { Checkout } from './checkout.js';
import type { Clock } from '../../domain/time/clock.js';
import type { Order } from '../../domain/checkout/orders.js';
import type { Cents } from '../../domain/pricing/pricing.js';
import { checkRefundAmount, checkUnitsAvailable, refundableCents, RefundError, unitsTakenBack, type RefundPolicy } from '../../domain/checkout/refunds.js';
import type { User } from '../../domain/people/users.js';

/**
 * What an admin's refund came to: a new refund (`settled` once its units were taken back), one this
 * form had already obtained (sent twice), or, after PayPal answered unclearly, no refund or no way
 * to know yet.
 */
export type AdminRefundResult =
  | { kind: 'refunded'; refundId: string; settled: boolean }
  | { kind: 'already_refunded'; refundId: string }
  | { kind: 'not_refunded' }
  | { kind: 'unknown' };

/** How long a refund PayPal has not clearly answered holds its units against the person's balance. */
const PENDING_REFUND_HOLD_MS = 15 * 60_000;

/** What the audit log keeps of an order before and after an admin acted on it. */
const auditedState = (order: Order) => ({ status: order.status, refundedCents: order.refundedCents, paypalCaptureId: order.paypalCaptureId });

/** Orders as admins see and handle them: the whole file of an order, refunds, checks with PayPal, the refund policy. */
export function createOrderAdministration({ db, checkout, clock }: { db: Database; checkout: Checkout; clock: Clock }) {
  /**
   * Everything known about an order: its person (or, for a quote's order, its quote; for codes, their purchase), history, PayPal's
   * notifications, refunds and ledger postings.
   */
  async function orderDetails(order: Order) {
    const [person, quote, purchase, termsVersion, events, webhooks, refunds, refundRequests] = await Promise.all([
      order.userId === null ? null : findOrderPerson(db.knex, order.userId),
      order.quoteId === null ? null : findQuote(db.knex, order.quoteId),
      isVoucherOrder(order) ? findPurchase(db.knex, { orderId: order.id }) : null,
      termsVersionNumber(db.knex, order.termsVersionId),
      listOrderEvents(db.knex, order.id),
      listOrderWebhooks(db.knex, order.id),
      listRefunds(db.knex, order.id),
      listRefundRequests(db.knex, order.id),
    ]);
    if (order.userId !== null && !person) throw new Error(`the person of order ${order.number} has no account`);
    const captureId = order.paypalCaptureId;
    const keys = [
      ...(captureId ? [paymentLedgerKeys.credit(captureId), paymentLedgerKeys.refundRest(captureId), paymentLedgerKeys.reversal(captureId)] : []),
      ...refunds.map((refund) => paymentLedgerKeys.refund(refund.refundId)),
    ];
    const transactions = person ? await listTransactionsByKeys(db.knex, keys, person.accountId) : [];
    return { person, quote: quote ?? null, purchase: purchase ?? null, termsVersion, events, webhooks, refunds, refundRequests, transactions };
  }

  /**
   * Refunds `amountCents` of a credited order at PayPal, once per form (`nonce`), and records who
   * asked and why. The request is written first, under the order's and the person's locks, holding
   * the units it will take back: under the 'refuse' policy a refund that would take back units the
   * person has spent — or that another pending refund already holds — is refused before PayPal is
   * asked. Units spent between this check and PayPal's answer are still taken back (the balance may
   * then go below zero and the account is flagged).
   */
  async function refund(actor: User, order: Order, request: { amountCents: Cents; reason: string; nonce: string }): Promise<AdminRefundResult> {
    const requestId = `admin-refund-${order.id}-${request.nonce}`;
    const now = clock.now();
    const prepared = await db.transaction(async (trx) => {
      const current = await lockOrder(trx, order.id);
      // A quote's order credited no units: there are none to take back.
      const account = order.userId === null ? null : await lockPersonAccount(trx, order.userId);
      if (order.userId !== null && !account) throw new Error(`the person of order ${order.number} has no account`);
      const earlier = await findRefundRequest(trx, requestId);
      // The same PayPal-Request-Id with another amount would make PayPal replay the first refund.
      if (earlier && earlier.amountCents !== request.amountCents) throw new RefundError('form_reused', `this form already asked for ${earlier.amountCents} cents`);
      if (earlier?.status === 'refunded') return { current, alreadyRefunded: earlier.refundId };
      if (earlier?.status === 'pending') return { current, alreadyRefunded: null };
      checkRefundAmount(current, request.amountCents);
      // Money a person's credit refund pays of this order (waiting for PayPal, or paid by transfer) is not the admins' to refund again.
      const owed = await centsOwedByCreditRefunds(trx, order.id);
      if (owed > 0 && request.amountCents > refundableCents(current) - owed) {
        throw new RefundError('amount_exceeds_remaining', `only ${Math.max(0, refundableCents(current) - owed)} cents of ${order.number} remain refundable`);
      }
      const policy = await loadRefundPolicy(trx);
      const earlierRefunds = await listRefunds(trx, order.id);
      const units = unitsTakenBack(current, earlierRefunds.map((refunded) => refunded.amountCents), request.amountCents);
      if (account && order.userId !== null) {
        const held = await unitsHeldByPendingRefunds(trx, order.userId, new Date(now.getTime() - PENDING_REFUND_HOLD_MS));
        checkUnitsAvailable(policy, account.balance - held, units);
      } else if (isVoucherOrder(order)) {
        // A batch of codes: its units still to spend are those of the codes not redeemed, less what earlier refunds took back or hold.
        const pending = (await listRefundRequests(trx, order.id)).filter((held) => held.status === 'pending' && held.createdAt.getTime() > now.getTime() - PENDING_REFUND_HOLD_MS);
        const takenBefore = unitsTakenBack(current, [], earlierRefunds.reduce((sum, refunded) => sum + refunded.amountCents, 0));
        checkUnitsAvailable(policy, (await unredeemedUnitsOf(trx, order)) - takenBefore - pending.reduce((sum, held) => sum + held.unitsReserved, 0), units);
      }
      await savePendingRefundRequest(trx, { requestId, orderId: order.id, amountCents: request.amountCents, unitsReserved: units, reason: request.reason, requestedBy: actor.id }, now);
      return { current, alreadyRefunded: null };
    });
    if (prepared.alreadyRefunded) return { kind: 'already_refunded', refundId: prepared.alreadyRefunded };

    let outcome;
    try {
      outcome = await checkout.refund(prepared.current, request.amountCents, requestId);
    } catch (error) {
      await db.transaction((trx) => closeRefundRequest(trx, requestId, { status: 'not_refunded' }, clock.now()));
      throw error;
    }
    // Unknown: the request stays pending (its units held) until the same form is sent again or the hold ends.
    if (outcome.kind === 'unknown') return outcome;
    if (outcome.kind === 'not_refunded') {
      await db.transaction((trx) => closeRefundRequest(trx, requestId, { status: 'not_refunded' }, clock.now()));
      return outcome;
    }
    const refunded = outcome;
    const recorded = await db.transaction(async (trx) => {
      const after = await lockOrder(trx, order.id);
      const first = await closeRefundRequest(trx, requestId, { status: 'refunded', refundId: refunded.refundId }, clock.now());
      if (first) {
        await recordAudit(
          trx,
          {
            actor,
            action: 'order.refund',
            target: order.number,
            before: auditedState(order),
            after: { ...auditedState(after), refundId: refunded.refundId, paypalStatus: refunded.status, amountCents: request.amountCents, reason: request.reason },
          },
          clock.now(),
        );
      }
      return first;
    });
    return recorded ? { kind: 'refunded', refundId: refunded.refundId, settled: refunded.settled } : { kind: 'already_refunded', refundId: refunded.refundId };
  }

  /** Reconciles one order with PayPal now; audited when PayPal answered. */
  async function check(actor: User, order: Order): Promise<{ reached: boolean; after: Order }> {
    const result = await checkout.checkNow(order);
    if (result.reached) {
      await db.transaction((trx) =>
        recordAudit(trx, { actor, action: 'order.check', target: order.number, before: auditedState(order), after: auditedState(result.after) }, clock.now()),
      );
    }
    return result;
  }

  async function setRefundPolicy(actor: User, policy: RefundPolicy): Promise<void> {
    await db.transaction(async (trx) => {
      const before = await loadRefundPolicy(trx);
      await saveRefundPolicy(trx, policy);
      await recordAudit(trx, { actor, action: 'settings.refund_policy', target: 'refund_policy', before: { policy: before }, after: { policy } }, clock.now());
    });
  }

  return { orderDetails, refund, check, setRefundPolicy, refundPolicy: () => loadRefundPolicy(db.knex) };
}

export type OrderAdministration = ReturnType<typeof createOrderAdministration>;
