import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { recordAudit } from '../../db/audit/audit-repository.js';
import { isUniqueViolation, type Database } from '../../db/database.js';
import { findOrder, listRefunds, lockOrder, moveOrder, recordRefund } from '../../db/checkout/order-repository.js';
import { unitsHeldByPendingRefunds } from '../../db/checkout/order-admin-repository.js';
import { lockPersonsOrders } from '../../db/checkout/order-limits-repository.js';
import { isBeingPaid, lockUnfinishedOrders, markUserClosed } from '../../db/people/anonymisation-repository.js';
import {
  completeCreditRefundIfPaid,
  findCreditRefundRequest,
  insertCreditRefundParts,
  insertCreditRefundRequest,
  listCreditRefundParts,
  listCreditRefundRequests,
  listCreditRefundRequestsOf,
  listPayPalPartsWaiting,
  listRefundableTopUps,
  loadAutoApproveCents,
  lockCreditRefundPart,
  lockCreditRefundRequest,
  markCreditRefundApproved,
  markCreditRefundRefused,
  markPartRefunded,
  markPartTransferred,
  recordedRefundOfPart,
  recordPartAttempt,
  saveAutoApproveCents,
  switchPartToTransfer,
  type CreditRefundPart,
  type CreditRefundRequest,
} from '../../db/credit-refunds/credit-refund-repository.js';
import { loadPriceList } from '../../db/pricing/price-list-repository.js';
import { getAccountByCode, postTransaction } from '../../db/ledger/ledger-repository.js';
import { deleteLoginSessions, listLoginSessions } from '../../db/people/login-session-repository.js';
import { findPersonAccount, lockPersonAccount } from '../../db/people/people-repository.js';
import { findUserById, stripPassword } from '../../db/people/user-repository.js';
import type { AuditActor } from '../../domain/audit/audit.js';
import type { Order } from '../../domain/checkout/orders.js';
import { refundVat } from '../../domain/checkout/refunds.js';
import type { IssuedDocument } from '../../domain/documents/documents.js';
import type { DocumentIssuing } from '../documents/document-issuing.js';
import { AUTOMATIC_PART_ATTEMPTS, CreditRefundError, OPEN_CREDIT_REFUND_STATUSES, partRequestId, partRetryDue, REQUEST_ID_REMEMBERED_MS, planCreditRefund, takeBackKey, validateRefusalReason, type RefundPlan } from '../../domain/credit-refunds/credit-refunds.js';
import { SystemAccount, type PostingLine } from '../../domain/ledger/ledger.js';
import type { Cents } from '../../domain/pricing/pricing.js';
import type { Locale } from '../../domain/shared/locale.js';
import type { Clock } from '../../domain/time/clock.js';
import type { User } from '../../domain/people/users.js';
import { CheckoutError, type Checkout } from '../checkout/checkout.js';
import { queueNotice, type NoticeParams } from '../mail/notices.js';
import { creditRefundNoticeKinds, type CreditRefundNoticeKind } from './credit-refund-notices.js';

/** Who decides when the portal approves a request on its own (a name no person can have). */
export const AUTO_APPROVAL_ACTOR: AuditActor = { id: null, username: 'system:credit-refunds' };

/**
 * How long an admin's refund that PayPal has not clearly answered holds its units against the balance
 * (order-administration.ts holds them as long): those units are not refundable twice.
 */
const PENDING_ADMIN_REFUND_HOLD_MS = 15 * 60_000;

export interface CreditRefundsDependencies {
  db: Database;
  checkout: Checkout;
  clock: Clock;
  logger: Logger;
  /** The host of PUBLIC_URL: the notices' Message-IDs. */
  mailDomain: string;
  defaultLocale: Locale;
  /** Credit notes of refunds paid by transfer (PayPal's are issued by checkout). */
  documents: DocumentIssuing;
  /** Called after a transaction that queued a notice has committed: delivery may start. */
  onMailQueued?: () => void;
  /** Called after a transaction that issued a credit note has committed: it may be rendered and mailed. */
  onDocumentsIssued?: (documents: IssuedDocument[]) => void;
}

type Actor = Pick<User, 'id' | 'username'>;

/**
 * Refunds of unused credit on request (README "Refund of unused credit"). A person asks; an admin — or
 * the automatic approval, up to an amount — approves or refuses. Approving takes the units back in one
 * ledger posting (key `credit-refund:<id>`, guarded: never below zero) computed from the balance at that
 * moment, under the person's orders' and account's locks, and records the parts to pay; the PayPal parts
 * are then refunded through checkout's refund path with a PayPal-Request-Id per part that never changes,
 * so a retry never refunds twice. Checkout recognises those refunds and takes nothing back again.
 */
export function createCreditRefunds(deps: CreditRefundsDependencies) {
  const { db, checkout, clock, logger } = deps;

  async function availableUnits(trx: Knex.Transaction | Database['knex'], userId: number, balance: number, now: Date): Promise<number> {
    const held = await unitsHeldByPendingRefunds(trx, userId, new Date(now.getTime() - PENDING_ADMIN_REFUND_HOLD_MS));
    return Math.max(0, balance - held);
  }

  /** What the person could be refunded now, their open request and their last ones. */
  async function overview(user: User): Promise<{ balance: number; plan: RefundPlan; open: CreditRefundRequest | null; requests: CreditRefundRequest[] }> {
    const now = clock.now();
    const [account, topUps, requests] = await Promise.all([findPersonAccount(db.knex, user.id), listRefundableTopUps(db.knex, user.id), listCreditRefundRequestsOf(db.knex, user.id, 10)]);
    const balance = account?.balance ?? 0;
    const plan = planCreditRefund(await availableUnits(db.knex, user.id, balance, now), topUps, now);
    return { balance, plan, open: requests.find((request) => OPEN_CREDIT_REFUND_STATUSES.includes(request.status)) ?? null, requests };
  }

  async function notify(trx: Knex.Transaction, request: Pick<CreditRefundRequest, 'id' | 'userId'>, kind: CreditRefundNoticeKind, params: NoticeParams, now: Date): Promise<boolean> {
    const person = await findUserById(trx, request.userId);
    if (!person || person.email === '') return false;
    return queueNotice(
      trx,
      { sendKey: `credit-refund:${request.id}:${kind}`, recipient: person.email, locale: person.locale ?? deps.defaultLocale, kind: creditRefundNoticeKinds[kind], params: { requestId: request.id, ...params } },
      now,
      deps.mailDomain,
    );
  }

  /**
   * A person asks for their unused credit back (once at a time: the database refuses a second open
   * request). Refused when nothing is refundable. Approved at once when the automatic approval covers it.
   */
  async function request(user: User, { closeAccount }: { closeAccount: boolean }): Promise<{ id: number; approved: boolean }> {
    const now = clock.now();
    let automatic = false;
    const id = await db
      .transaction(async (trx) => {
        const account = await lockPersonAccount(trx, user.id);
        const plan = planCreditRefund(await availableUnits(trx, user.id, account?.balance ?? 0, now), await listRefundableTopUps(trx, user.id), now);
        if (plan.cents === 0) throw new CreditRefundError('nothing_refundable', `${user.username} has nothing refundable`);
        const inserted = await insertCreditRefundRequest(trx, { userId: user.id, closeAccount, estimatedCents: plan.cents, currency: plan.parts[0]!.currency }, now);
        const threshold = await loadAutoApproveCents(trx);
        // A transfer needs an admin anyway.
        automatic = threshold > 0 && plan.cents <= threshold && plan.parts.every((part) => part.method === 'paypal');
        await recordAudit(trx, { actor: user, action: 'credit_refund.request', target: `credit-refund:${inserted}`, before: null, after: { estimatedCents: plan.cents, units: plan.units, closeAccount } }, now);
        await notify(trx, { id: inserted, userId: user.id }, 'requested', { amountCents: plan.cents, currency: plan.parts[0]!.currency, closeAccount }, now);
        return inserted;
      })
      .catch((error: unknown) => {
        if (isUniqueViolation(error)) throw new CreditRefundError('already_open', `${user.username} already has an open request`);
        throw error;
      });
    deps.onMailQueued?.();
    if (!automatic) return { id, approved: false };
    try {
      await approve(null, id);
    } catch (error) {
      // The request is recorded: an admin approves it by hand.
      logger.error({ err: error, creditRefund: id }, 'the automatic approval of a credit refund failed');
      return { id, approved: false };
    }
    return { id, approved: true };
  }

  /**
   * Approves a request still waiting (a second click, another admin or a retry finds it decided and
   * changes nothing), then pays its PayPal parts. The units are taken back from the balance as it is
   * now: anything spent since the request (a print job debited meanwhile) is not refunded, and the
   * posting's guard keeps the balance at zero or above.
   */
  async function approve(actor: Actor | null, id: number): Promise<{ approved: boolean }> {
    const now = clock.now();
    const approved = await db.transaction(async (trx) => {
      const current = await lockCreditRefundRequest(trx, id);
      if (!current) throw new CreditRefundError('not_found', `no credit refund ${id}`);
      if (current.status !== 'requested') return false;
      // Closing: the person's row first, as placing an order or starting its payment locks it, so that none slips past the closure.
      if (current.closeAccount) await lockPersonsOrders(trx, db.dialect, current.userId);
      // Orders next, then the account: the order in which checkout's settling locks them.
      const topUps = await listRefundableTopUps(trx, current.userId, { lock: true });
      // Closing: the person's orders not approved yet are cancelled, as an admin's closure does; one being paid is left to finish (credited, it asks staff to refund it).
      const unfinished = current.closeAccount ? await lockUnfinishedOrders(trx, current.userId) : [];
      const account = await lockPersonAccount(trx, current.userId);
      if (!account) throw new Error(`the person of credit refund ${id} has no account`);
      const plan = planCreditRefund(await availableUnits(trx, current.userId, account.balance, now), topUps, now);
      const posted = plan.units > 0 ? await postTransaction(trx, { idempotencyKey: takeBackKey(id), kind: 'reversal', description: `credit refund ${id}`, lines: await takeBackLines(trx, account.id, plan), createdBy: actor?.id ?? null }, now) : null;
      await insertCreditRefundParts(trx, id, plan.parts.map((part) => ({ ...part, paypalRequestId: partRequestId(id, part.orderId) })), now);
      if (current.closeAccount) {
        for (const order of unfinished.filter(({ status }) => !isBeingPaid(status))) await moveOrder(trx, order.id, { from: [order.status], to: 'cancelled', detail: 'the account was closed' }, now);
        await markUserClosed(trx, current.userId, now);
        await deleteLoginSessions(trx, await listLoginSessions(trx, current.userId));
      }
      await markCreditRefundApproved(trx, id, { decidedBy: actor?.id ?? null, units: plan.units, cents: plan.cents, takeBackTransactionId: posted?.transactionId ?? null, accountClosed: current.closeAccount }, now);
      await recordAudit(
        trx,
        {
          actor: actor ?? AUTO_APPROVAL_ACTOR,
          action: 'credit_refund.approve',
          target: `credit-refund:${id}`,
          before: { status: current.status, balance: account.balance },
          after: { status: 'approved', units: plan.units, cents: plan.cents, takeBackTransactionId: posted?.transactionId ?? null, parts: plan.parts.map(({ orderNumber, method, amountCents, units }) => ({ orderNumber, method, amountCents, units })), accountClosed: current.closeAccount },
        },
        now,
      );
      const transferCents = plan.parts.filter((part) => part.method === 'transfer').reduce((sum, part) => sum + part.amountCents, 0);
      await notify(trx, current, 'approved', { amountCents: plan.cents, transferCents, currency: current.currency, units: plan.units, accountClosed: current.closeAccount }, now);
      if (await completeCreditRefundIfPaid(trx, id, now)) await notify(trx, current, 'completed', { amountCents: plan.cents, currency: current.currency }, now);
      return true;
    });
    deps.onMailQueued?.();
    if (approved) await payPendingParts(actor, id);
    return { approved };
  }

  /** Lines taking the plan's units back: the paid ones to the top-ups account, the bonus to the bonuses account. */
  async function takeBackLines(trx: Knex.Transaction, accountId: number, plan: RefundPlan): Promise<PostingLine[]> {
    const bonus = plan.parts.reduce((sum, part) => sum + part.bonusUnits, 0);
    const lines: PostingLine[] = [
      { accountId, amount: -plan.units },
      { accountId: (await getAccountByCode(trx, SystemAccount.topUps)).id, amount: plan.units - bonus },
    ];
    if (bonus > 0) lines.push({ accountId: (await getAccountByCode(trx, SystemAccount.bonuses)).id, amount: bonus });
    return lines;
  }

  /**
   * Asks PayPal to refund each part still pending, through checkout's refund path with the part's own
   * PayPal-Request-Id: an unclear answer is looked up, never repeated blindly, and sending the same id
   * again gets PayPal's refund rather than a second one. Whatever PayPal answers, the part stays pending
   * until a refund is known, so an admin may try again; a certain refusal lets them pay it by transfer.
   */
  async function payPendingParts(actor: Actor | null, id: number, only: (part: CreditRefundPart) => boolean = () => true): Promise<{ pending: number }> {
    let pending = 0;
    const takeBack = (await findCreditRefundRequest(db.knex, id))?.takeBackTransactionId ?? null;
    for (const part of await listCreditRefundParts(db.knex, id)) {
      if (part.status !== 'pending' || !only(part)) continue;
      const order = (await findOrder(db.knex, { id: part.orderId })) as Order;
      let outcome: Awaited<ReturnType<Checkout['refund']>> | { kind: 'refused'; error: string };
      const known = await recordedRefundOfPart(db.knex, part, takeBack);
      try {
        // A refund already seen is this part's: sent again after PayPal forgot its request id, it would be a second one.
        outcome = known ? { kind: 'refunded', refundId: known, status: 'COMPLETED', settled: true } : await checkout.refund(order, part.amountCents, part.paypalRequestId);
      } catch (error) {
        if (!(error instanceof CheckoutError)) throw error;
        outcome = { kind: 'refused', error: error.message };
      }
      const now = clock.now();
      if (outcome.kind !== 'refunded') {
        logger.warn({ creditRefund: id, order: order.number, outcome: outcome.kind }, 'a credit refund part was not refunded');
        await recordPartAttempt(db.knex, part.id, { outcome: outcome.kind, error: 'error' in outcome ? outcome.error : null }, now);
        pending += 1;
        continue;
      }
      const refundId = outcome.refundId;
      const queued = await db.transaction(async (trx) => {
        if (!(await markPartRefunded(trx, part.id, refundId, now))) return false;
        await recordAudit(trx, { actor: actor ?? AUTO_APPROVAL_ACTOR, action: 'credit_refund.paypal_refund', target: `credit-refund:${id}`, before: { part: part.id, status: 'pending' }, after: { part: part.id, status: 'refunded', orderNumber: order.number, amountCents: part.amountCents, refundId } }, now);
        return completeAndNotify(trx, id, now);
      });
      if (queued) deps.onMailQueued?.();
    }
    return { pending };
  }

  /**
   * The reconciler's sweep: asks PayPal again for the parts whose refund is unknown or was not made
   * (a lost answer, PayPal down, the process stopped), on partRetryDue's schedule, each with its own
   * PayPal-Request-Id. Answers how many parts were asked and how many still wait.
   */
  async function retryWaitingParts(): Promise<{ asked: number; pending: number }> {
    const now = clock.now();
    const waiting = await listPayPalPartsWaiting(db.knex, { madeAfter: new Date(now.getTime() - REQUEST_ID_REMEMBERED_MS), maxAttempts: AUTOMATIC_PART_ATTEMPTS });
    const due = waiting.filter((part) => partRetryDue(part, now));
    const dueIds = new Set(due.map((part) => part.id));
    let pending = 0;
    for (const requestId of new Set(due.map((part) => part.requestId))) {
      pending += (await payPendingParts(null, requestId, (part) => dueIds.has(part.id))).pending;
    }
    return { asked: due.length, pending };
  }

  /** Completes the request if nothing waits any more, and tells the person; true when a notice was queued. */
  async function completeAndNotify(trx: Knex.Transaction, id: number, now: Date): Promise<boolean> {
    if (!(await completeCreditRefundIfPaid(trx, id, now))) return false;
    const request = (await findCreditRefundRequest(trx, id))!;
    return notify(trx, request, 'completed', { amountCents: request.refundedCents ?? 0, currency: request.currency }, now);
  }

  async function refuse(actor: Actor, id: number, reasonInput: unknown): Promise<{ refused: boolean }> {
    const reason = validateRefusalReason(reasonInput);
    const now = clock.now();
    const refused = await db.transaction(async (trx) => {
      const current = await lockCreditRefundRequest(trx, id);
      if (!current) throw new CreditRefundError('not_found', `no credit refund ${id}`);
      if (!(await markCreditRefundRefused(trx, id, { decidedBy: actor.id, reason }, now))) return false;
      await recordAudit(trx, { actor, action: 'credit_refund.refuse', target: `credit-refund:${id}`, before: { status: current.status }, after: { status: 'refused', reason } }, now);
      await notify(trx, current, 'refused', { reason, amountCents: current.estimatedCents, currency: current.currency }, now);
      return true;
    });
    deps.onMailQueued?.();
    return { refused };
  }

  /**
   * Refuses to pay a part outside PayPal when its order's refunds would then exceed its price: a refund
   * PayPal already made of that order (an admin's ordinary refund, one taken for this part after its
   * invoice id was dropped) may be this very money. PayPal refusing the part for certain
   * (REFUND_AMOUNT_EXCEEDED) says so too. Nor once the payment was reversed: the buyer's bank gave the
   * whole price back already.
   */
  async function checkPayableOutsidePayPal(trx: Knex.Transaction, part: CreditRefundPart): Promise<Order> {
    const order = await lockOrder(trx, part.orderId);
    const request = (await findCreditRefundRequest(trx, part.requestId))!;
    const refunds = await listRefunds(trx, order.id);
    const takenForThisPart = refunds.some((refund) => refund.ledgerTransactionId !== null && refund.ledgerTransactionId === request.takeBackTransactionId);
    const refundedCents = refunds.reduce((sum, refund) => sum + refund.amountCents, 0);
    if (order.status === 'reversed' || takenForThisPart || refundedCents + part.amountCents > order.priceCents) {
      throw new CreditRefundError('exceeds_order', `order ${order.number}: ${refundedCents} refunded already, the part's ${part.amountCents} would exceed ${order.priceCents}`);
    }
    return order;
  }

  /** A part PayPal refused for certain is to be paid by bank transfer instead (never one whose refund may have happened). */
  async function switchToTransfer(actor: Actor, id: number, partId: number): Promise<void> {
    const now = clock.now();
    await db.transaction(async (trx) => {
      const part = await lockCreditRefundPart(trx, partId);
      if (!part || part.requestId !== id) throw new CreditRefundError('not_found', `no part ${partId} in credit refund ${id}`);
      if (!(await switchPartToTransfer(trx, partId, now))) throw new CreditRefundError('not_switchable', `part ${partId} is ${part.status} (${part.lastOutcome ?? 'not tried'})`);
      await checkPayableOutsidePayPal(trx, part);
      await recordAudit(trx, { actor, action: 'credit_refund.to_transfer', target: `credit-refund:${id}`, before: { part: partId, method: 'paypal', lastError: part.lastError }, after: { part: partId, method: 'transfer' } }, now);
    });
  }

  /**
   * An admin made the bank transfer of a part: recorded once, audited, and recorded as a refund of its
   * order (`transfer-<part id>`, linked to the request's take-back) with its credit note, like a PayPal
   * refund; the request completes when nothing else waits.
   */
  async function markTransferred(actor: Actor, id: number, partId: number): Promise<void> {
    const now = clock.now();
    const { queued, creditNote } = await db.transaction(async (trx) => {
      const part = await lockCreditRefundPart(trx, partId);
      if (!part || part.requestId !== id) throw new CreditRefundError('not_found', `no part ${partId} in credit refund ${id}`);
      if (!(await markPartTransferred(trx, partId, actor.id, now))) throw new CreditRefundError('not_awaiting_transfer', `part ${partId} is ${part.status}`);
      const order = await checkPayableOutsidePayPal(trx, part);
      const request = (await findCreditRefundRequest(trx, id))!;
      const refundId = `transfer-${partId}`;
      const money = refundVat(order, part.amountCents, await listRefunds(trx, order.id));
      await recordRefund(trx, { refundId, orderId: order.id, currency: part.currency, amountCents: part.amountCents, ...money, ledgerTransactionId: request.takeBackTransactionId, invoiceId: part.paypalRequestId }, now);
      const issued = await deps.documents.issueCreditNote(trx, order, refundId, now);
      await recordAudit(trx, { actor, action: 'credit_refund.transferred', target: `credit-refund:${id}`, before: { part: partId, status: part.status }, after: { part: partId, status: 'transferred', amountCents: part.amountCents, refundId } }, now);
      return { queued: await completeAndNotify(trx, id, now), creditNote: issued.created ? issued.document : null };
    });
    if (creditNote) deps.onDocumentsIssued?.([creditNote]);
    if (queued) deps.onMailQueued?.();
  }

  async function setAutoApproveCents(actor: Actor, cents: Cents): Promise<void> {
    if (!Number.isSafeInteger(cents) || cents < 0 || cents > 100_000_00) throw new CreditRefundError('invalid_threshold', 'the automatic approval is 0 to 100 000,00');
    await db.transaction(async (trx) => {
      const before = await loadAutoApproveCents(trx);
      await saveAutoApproveCents(trx, cents);
      await recordAudit(trx, { actor, action: 'settings.credit_refund_auto_approve', target: 'credit_refund_auto_approve_cents', before: { cents: before }, after: { cents } }, clock.now());
    });
  }

  /** One request as admins see it: the person, the parts with their orders. */
  async function details(id: number): Promise<{ request: CreditRefundRequest; person: User | undefined; parts: Array<CreditRefundPart & { orderNumber: string }> } | undefined> {
    const request = await findCreditRefundRequest(db.knex, id);
    if (!request) return undefined;
    const [person, parts] = await Promise.all([findUserById(db.knex, request.userId), listCreditRefundParts(db.knex, id)]);
    const orders = await Promise.all(parts.map((part) => findOrder(db.knex, { id: part.orderId })));
    return { request, person: person && stripPassword(person), parts: parts.map((part, index) => ({ ...part, orderNumber: orders[index]!.number })) };
  }

  return {
    overview,
    request,
    approve,
    refuse,
    payPendingParts,
    retryWaitingParts,
    switchToTransfer,
    markTransferred,
    setAutoApproveCents,
    /** The automatic approval's amount, in the price list's currency. */
    autoApproval: async () => ({ cents: await loadAutoApproveCents(db.knex), currency: (await loadPriceList(db.knex)).settings.currency }),
    list: (page: { open: boolean; limit: number; offset: number }) => listCreditRefundRequests(db.knex, page),
    details,
  };
}

export type CreditRefunds = ReturnType<typeof createCreditRefunds>;
