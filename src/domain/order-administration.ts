import { recordAudit } from '../db/audit-repository.js';
import type { Database } from '../db/database.js';
import {
  findOrderPerson,
  findRefundRequest,
  listOrderEvents,
  listOrderWebhooks,
  listRefundRequests,
  listTransactionsByKeys,
  recordRefundRequest,
  termsVersionNumber,
} from '../db/order-admin-repository.js';
import { listRefunds, lockOrder } from '../db/order-repository.js';
import { loadRefundPolicy, saveRefundPolicy } from '../db/refund-policy-repository.js';
import { paymentLedgerKeys, type Checkout } from './checkout.js';
import type { Clock } from './clock.js';
import type { Order } from './orders.js';
import type { Cents } from './pricing.js';
import { checkRefundAmount, checkUnitsAvailable, unitsTakenBack, type RefundPolicy } from './refunds.js';
import type { User } from './users.js';

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

/** What the audit log keeps of an order before and after an admin acted on it. */
const auditedState = (order: Order) => ({ status: order.status, refundedCents: order.refundedCents, paypalCaptureId: order.paypalCaptureId });

/** Orders as admins see and handle them: the whole file of an order, refunds, checks with PayPal, the refund policy. */
export function createOrderAdministration({ db, checkout, clock }: { db: Database; checkout: Checkout; clock: Clock }) {
  /** Everything known about an order: its person, history, PayPal's notifications, refunds and ledger postings. */
  async function orderDetails(order: Order) {
    const [person, termsVersion, events, webhooks, refunds, refundRequests] = await Promise.all([
      findOrderPerson(db.knex, order.userId),
      termsVersionNumber(db.knex, order.termsVersionId),
      listOrderEvents(db.knex, order.id),
      listOrderWebhooks(db.knex, order.id),
      listRefunds(db.knex, order.id),
      listRefundRequests(db.knex, order.id),
    ]);
    if (!person) throw new Error(`the person of order ${order.number} has no account`);
    const captureId = order.paypalCaptureId;
    const keys = [
      ...(captureId ? [paymentLedgerKeys.credit(captureId), paymentLedgerKeys.refundRest(captureId), paymentLedgerKeys.reversal(captureId)] : []),
      ...refunds.map((refund) => paymentLedgerKeys.refund(refund.refundId)),
    ];
    const transactions = await listTransactionsByKeys(db.knex, keys, person.accountId);
    return { person, termsVersion, events, webhooks, refunds, refundRequests, transactions };
  }

  /**
   * Refunds `amountCents` of a credited order at PayPal, once per form (`nonce`), and records who
   * asked and why. Under the 'refuse' policy, a refund that would take back units the person has
   * already spent is refused before PayPal is asked. Units the person spends between this check and
   * PayPal's answer are still taken back (the balance may then go below zero and the account is flagged).
   */
  async function refund(actor: User, order: Order, request: { amountCents: Cents; reason: string; nonce: string }): Promise<AdminRefundResult> {
    const requestId = `admin-refund-${order.id}-${request.nonce}`;
    const earlier = await findRefundRequest(db.knex, requestId);
    if (earlier) return { kind: 'already_refunded', refundId: earlier.refundId };
    checkRefundAmount(order, request.amountCents);
    const [policy, person, earlierRefunds] = await Promise.all([loadRefundPolicy(db.knex), findOrderPerson(db.knex, order.userId), listRefunds(db.knex, order.id)]);
    if (!person) throw new Error(`the person of order ${order.number} has no account`);
    const units = unitsTakenBack(order, earlierRefunds.map((refunded) => refunded.amountCents), request.amountCents);
    checkUnitsAvailable(policy, person.balance, units);

    const outcome = await checkout.refund(order, request.amountCents, requestId);
    if (outcome.kind !== 'refunded') return outcome;
    const now = clock.now();
    const recorded = await db.transaction(async (trx) => {
      const after = await lockOrder(trx, order.id);
      const first = await recordRefundRequest(trx, { requestId, orderId: order.id, refundId: outcome.refundId, amountCents: request.amountCents, reason: request.reason, requestedBy: actor.id }, now);
      if (first) {
        await recordAudit(
          trx,
          {
            actor,
            action: 'order.refund',
            target: order.number,
            before: auditedState(order),
            after: { ...auditedState(after), refundId: outcome.refundId, paypalStatus: outcome.status, amountCents: request.amountCents, reason: request.reason },
          },
          now,
        );
      }
      return first;
    });
    return recorded ? { kind: 'refunded', refundId: outcome.refundId, settled: outcome.settled } : { kind: 'already_refunded', refundId: outcome.refundId };
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
