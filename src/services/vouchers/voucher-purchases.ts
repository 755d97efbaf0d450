import { recordAudit } from '../../db/audit/audit-repository.js';
import { findOrder, insertVoucherOrder } from '../../db/checkout/order-repository.js';
import type { Database } from '../../db/database.js';
import { findUserByUsername } from '../../db/people/user-repository.js';
import { loadPriceList } from '../../db/pricing/price-list-repository.js';
import { currentTerms } from '../../db/pricing/terms-repository.js';
import {
  addVoucherBuyer,
  findPurchase,
  insertVoucherPurchase,
  isVoucherBuyer,
  listBuyerPurchases,
  listRecentPurchasesOf,
  listVoucherBuyers,
  lockPurchase,
  lockVoucherBuyer,
  receiptNumbersOf,
  recordHandover,
  removeVoucherBuyer,
  type VoucherPurchase,
} from '../../db/vouchers/voucher-purchase-repository.js';
import { insertBatchCodes, replaceUnredeemedCodes } from '../../db/vouchers/voucher-repository.js';
import { UNPAID_STATUSES } from '../../domain/checkout/order-limits.js';
import type { Order } from '../../domain/checkout/orders.js';
import { normalizeUsername, type User } from '../../domain/people/users.js';
import { DomainError } from '../../domain/shared/errors.js';
import type { Locale } from '../../domain/shared/locale.js';
import { dayOf } from '../../domain/time/calendar.js';
import type { Clock } from '../../domain/time/clock.js';
import type { HandoverFormat } from '../../domain/vouchers/voucher-batches.js';
import { generateVoucherCode, voucherCodeHash, type CanonicalCode } from '../../domain/vouchers/voucher-codes.js';
import { checkPurchaseRequest, type PurchaseQuote, type PurchaseRequest } from '../../domain/vouchers/voucher-purchases.js';
import type { Checkout } from '../checkout/checkout.js';

export type VoucherPurchaseErrorCode =
  | 'not_a_buyer'
  | 'no_terms'
  | 'terms_not_accepted'
  | 'too_many_open_purchases'
  | 'purchase_not_found'
  | 'not_paid'
  | 'voided'
  | 'handed_over'
  | 'not_handed_over'
  | 'nothing_to_replace'
  | 'user_not_found';

export class VoucherPurchaseError extends DomainError<VoucherPurchaseErrorCode> {}

/** Purchases waiting for payment one buyer may have at once: enough to correct a mistake, not to flood PayPal. */
export const OPEN_PURCHASES_PER_BUYER = 3;

type Actor = Pick<User, 'id' | 'username'>;

export interface VoucherPurchaseDependencies {
  db: Database;
  checkout: Checkout;
  clock: Clock;
  timeZone: string;
  orderExpiryMinutes: number;
}

/** Codes handed over: the first time, or replacing those of the batch not redeemed yet. */
export interface CodesHandover {
  purchase: VoucherPurchase;
  codes: CanonicalCode[];
  replaced: boolean;
}

/**
 * A department buys a batch of codes through the top-ups' checkout (the same PayPal gateway, webhooks,
 * reconciler and crediting transaction: checkout/voucher-orders.ts makes the batch once the money is
 * taken, whichever path sees the capture first). The codes are drawn when the buyer downloads them and
 * handed over by that response, their hashes stored in the same transaction; a lost file is recovered
 * by replacing the codes not redeemed yet, which refuses the old ones from then on.
 */
export function createVoucherPurchases({ db, checkout, clock, timeZone, orderExpiryMinutes }: VoucherPurchaseDependencies) {
  const today = () => dayOf(clock.now(), timeZone);

  async function assertBuyer(user: Actor): Promise<void> {
    if (!(await isVoucherBuyer(db.knex, user.id))) throw new VoucherPurchaseError('not_a_buyer', `${user.username} may not buy codes`);
  }

  /** The form as typed, priced at today's base rate (VoucherBatchError lists what is wrong). */
  async function review(input: Record<string, unknown>): Promise<{ request: PurchaseRequest; quote: PurchaseQuote }> {
    const { settings } = await loadPriceList(db.knex);
    return checkPurchaseRequest(input, today(), settings);
  }

  /**
   * "Payer": the order placed (or the same one still open, for a second click) and sent to PayPal;
   * answers where to send the buyer. The price is the server's, from the request as typed.
   */
  async function startPayment(user: Actor, input: Record<string, unknown>, acceptedTermsId: unknown, locale: Locale): Promise<string> {
    await assertBuyer(user);
    const terms = await currentTerms(db.knex);
    if (!terms) throw new VoucherPurchaseError('no_terms', 'no terms of sale are published');
    if (String(acceptedTermsId) !== String(terms.id)) throw new VoucherPurchaseError('terms_not_accepted', 'the current terms of sale were not accepted');
    const { request, quote } = await review(input);
    const now = clock.now();
    const order = await db.transaction(async (trx): Promise<Order> => {
      // Under the buyer's lock, so that purchases placed at once see each other; gone if an admin removed them meanwhile.
      if (!(await lockVoucherBuyer(trx, user.id))) throw new VoucherPurchaseError('not_a_buyer', `${user.username} may not buy codes`);
      const open = await listRecentPurchasesOf(trx, user.id, { statuses: UNPAID_STATUSES, since: new Date(now.getTime() - orderExpiryMinutes * 60_000) });
      const same = open.find(
        (purchase) =>
          ['created', 'awaiting_payment'].includes(purchase.orderStatus) &&
          purchase.termsVersionId === terms.id &&
          purchase.priceCents === quote.priceCents &&
          purchase.name === request.name &&
          purchase.count === request.count &&
          purchase.value === request.value &&
          purchase.expiresOn === request.expiresOn,
      );
      if (same) return (await findOrder(trx, { id: same.orderId })) as Order;
      if (open.length >= OPEN_PURCHASES_PER_BUYER) throw new VoucherPurchaseError('too_many_open_purchases', `${user.username} has ${open.length} purchases waiting for payment`);
      const placed = await insertVoucherOrder(trx, { ...quote, termsVersionId: terms.id, locale }, now);
      await insertVoucherPurchase(trx, { orderId: placed.id, buyerId: user.id, request }, now);
      await recordAudit(trx, { actor: user, action: 'voucher.purchase', target: request.name, before: null, after: { order: placed.number, ...request, priceCents: quote.priceCents } }, now);
      return placed;
    });
    return checkout.startOrderPayment(order, locale);
  }

  /** The purchase whose order has this PayPal order id, when it is this buyer's (others do not exist for them). */
  async function orderFor(user: Actor, paypalOrderId: unknown): Promise<Order> {
    const order = typeof paypalOrderId === 'string' && paypalOrderId.length <= 64 ? await findOrder(db.knex, { paypalOrderId }) : undefined;
    const purchase = order?.kind === 'voucher_batch' ? await findPurchase(db.knex, { orderId: order.id }) : undefined;
    if (!order || purchase?.buyerId !== user.id) throw new VoucherPurchaseError('purchase_not_found', 'no such purchase');
    return order;
  }

  /**
   * The codes, drawn now and handed over by the caller's response: the first time, or — `replace` —
   * new ones for the batch's codes not redeemed yet, which are refused from then on. Under the
   * purchase's lock, so that two clicks hand over one set; the codes' hashes, the count of handovers
   * and the audit entry commit together.
   */
  async function handOver(user: Actor, purchaseId: number, { replace, format }: { replace: boolean; format: HandoverFormat }): Promise<CodesHandover> {
    const now = clock.now();
    return db.transaction(async (trx) => {
      const purchase = await lockPurchase(trx, { id: purchaseId });
      if (purchase?.buyerId !== user.id) throw new VoucherPurchaseError('purchase_not_found', `no purchase ${purchaseId} for ${user.username}`);
      if (purchase.batchId === null) throw new VoucherPurchaseError('not_paid', `purchase ${purchaseId} is not paid`);
      if (purchase.batchVoidedAt) throw new VoucherPurchaseError('voided', `purchase ${purchaseId}'s batch is void`);
      if ((purchase.handedOverAt !== null) !== replace) throw new VoucherPurchaseError(replace ? 'not_handed_over' : 'handed_over', `purchase ${purchaseId}'s codes were ${replace ? 'never' : 'already'} handed over`);
      const count = replace ? await replaceUnredeemedCodes(trx, purchase.batchId, now) : purchase.count;
      if (count === 0) throw new VoucherPurchaseError('nothing_to_replace', `every code of purchase ${purchaseId} was redeemed`);
      const codes = new Set<CanonicalCode>();
      while (codes.size < count) codes.add(generateVoucherCode());
      const list = [...codes];
      await insertBatchCodes(trx, purchase.batchId, list.map(voucherCodeHash));
      await recordHandover(trx, purchase.id, now);
      await recordAudit(trx, { actor: user, action: replace ? 'voucher.replace' : 'voucher.handover', target: purchase.name, before: null, after: { batchId: purchase.batchId, order: purchase.orderNumber, codes: count, format } }, now);
      return { purchase, codes: list, replaced: replace };
    });
  }

  return {
    isBuyer: (user: Actor) => isVoucherBuyer(db.knex, user.id),
    review,
    startPayment,
    list: (user: Actor) => listBuyerPurchases(db.knex, user.id),
    /** Today's price settings, which the form shows (a unit's price) and the purchase is priced with. */
    priceSettings: () => loadPriceList(db.knex),
    /** The receipt number of each listed purchase that has one, by order id. */
    receiptsOf: (listed: readonly VoucherPurchase[]) => receiptNumbersOf(db.knex, listed.map((purchase) => purchase.orderId)),
    handOver,
    /** The buyer is back from PayPal: capture now if not done (checkout.completeReturnOf). */
    async completeReturn(user: Actor, paypalOrderId: unknown) {
      return checkout.completeReturnOf(await orderFor(user, paypalOrderId));
    },
    /** The buyer left PayPal through its cancel link (checkout.cancelAtReturnOf). */
    async cancelAtReturn(user: Actor, paypalOrderId: unknown) {
      return checkout.cancelAtReturnOf(await orderFor(user, paypalOrderId));
    },
    /** Who may buy, for the admins' page. */
    listBuyers: () => listVoucherBuyers(db.knex),
    /** An admin allows a person to buy batches (true if added now). */
    async addBuyer(actor: Actor, username: string): Promise<boolean> {
      const person = await findUserByUsername(db.knex, normalizeUsername(username));
      // A closed account buys nothing: it is not offered.
      if (!person || person.closedAt) throw new VoucherPurchaseError('user_not_found', `no person ${username} who may buy`);
      const now = clock.now();
      return db.transaction(async (trx) => {
        const added = await addVoucherBuyer(trx, person.id, actor.id, now);
        if (added) await recordAudit(trx, { actor, action: 'voucher.buyer.add', target: person.username, before: { buyer: false }, after: { buyer: true } }, now);
        return added;
      });
    },
    /** An admin takes the right back: their purchases stay, new ones are refused (true if removed now). */
    async removeBuyer(actor: Actor, userId: number): Promise<boolean> {
      const now = clock.now();
      return db.transaction(async (trx) => {
        const removed = await removeVoucherBuyer(trx, userId);
        if (removed) await recordAudit(trx, { actor, action: 'voucher.buyer.remove', target: String(userId), before: { buyer: true }, after: { buyer: false } }, now);
        return removed;
      });
    },
  };
}

export type VoucherPurchases = ReturnType<typeof createVoucherPurchases>;
