import type { Knex } from 'knex';
import { addOrderEvent } from '../../db/checkout/order-repository.js';
import { getAccountByCode } from '../../db/ledger/ledger-repository.js';
import { insertVoucherBatch, lockVoucherBatch, markBatchVoided } from '../../db/vouchers/voucher-repository.js';
import { findPurchase, lockPurchase, setPurchaseBatch } from '../../db/vouchers/voucher-purchase-repository.js';
import type { Order } from '../../domain/checkout/orders.js';
import { SystemAccount } from '../../domain/ledger/ledger.js';

/** The order of a batch of codes bought by a department: its units are the codes', held by `system:vouchers` until redeemed. */
export const isVoucherOrder = (order: Pick<Order, 'kind'>) => order.kind === 'voucher_batch';

async function purchaseOf(trx: Knex.Transaction, order: Order) {
  const purchase = await lockPurchase(trx, { orderId: order.id });
  if (!purchase) throw new Error(`order ${order.number} buys codes but has no purchase`);
  return purchase;
}

/**
 * The account a bought batch's capture credits (and its refunds take back from), once its purchase and
 * batch are locked: a redemption locks the batch row, then the codes' account; a handover the purchase,
 * then codes. Taking them in that order, a refund never waits for a lock a redemption holds while
 * holding one it waits for.
 */
export async function voucherOrderAccountId(trx: Knex.Transaction, order: Order): Promise<number> {
  const purchase = await purchaseOf(trx, order);
  if (purchase.batchId !== null) await lockVoucherBatch(trx, purchase.batchId);
  return (await getAccountByCode(trx, SystemAccount.vouchers)).id;
}

/** The units of a bought batch's codes not redeemed (its whole units before the codes were made). */
export async function unredeemedUnitsOf(trx: Knex.Transaction, order: Order): Promise<number> {
  const purchase = await findPurchase(trx, { orderId: order.id });
  return purchase ? (purchase.count - purchase.redeemedCount) * purchase.value : 0;
}

/**
 * The batch's order was just captured (in the crediting transaction, under the order's lock): its batch
 * is made now, once — even for an order that had expired or been cancelled, since the money was taken.
 * Its codes are drawn when the buyer first downloads them (voucher-purchases.ts), so that they are
 * handed over by the response that carries them and stored as hashes only.
 */
export async function voucherOrderPaid(trx: Knex.Transaction, order: Order, now: Date): Promise<void> {
  const purchase = await purchaseOf(trx, order);
  if (purchase.batchId !== null) return;
  const batchId = await insertVoucherBatch(trx, { name: purchase.name, count: purchase.count, value: purchase.value, expiresOn: purchase.expiresOn, createdBy: purchase.buyerId }, now);
  if (!(await setPurchaseBatch(trx, purchase.id, batchId))) throw new Error(`purchase ${purchase.id} got a batch meanwhile`);
  // Paid after the buyer's account was closed (an order being paid then is left to finish): nobody can download its codes.
  if (purchase.buyerClosed) await addOrderEvent(trx, order.id, { type: 'attention', fromStatus: null, toStatus: null, detail: 'the buyer’s account is closed: refund this payment' }, now);
  // Captured after the codes' last day (a capture PayPal held for weeks): codes nobody can redeem (the day compared in UTC, a few hours of margin).
  if (purchase.expiresOn < now.toISOString().slice(0, 10)) await addOrderEvent(trx, order.id, { type: 'attention', fromStatus: null, toStatus: null, detail: `captured after the codes’ last day (${purchase.expiresOn}): refund this payment` }, now);
}

/**
 * Money of the batch's order went back (a refund, in part or whole, or a chargeback): the codes not
 * redeemed yet stop working, so that nothing is both paid back and still spendable. Codes already
 * redeemed stay redeemed (the refund's take-back leaves `system:vouchers` short of them, on the record).
 */
export async function voucherOrderRefunded(trx: Knex.Transaction, order: Order, now: Date): Promise<void> {
  if (order.refundedCents === 0 && order.status !== 'reversed') return;
  const purchase = await purchaseOf(trx, order);
  if (purchase.batchId === null || !(await markBatchVoided(trx, purchase.batchId, { by: null }, now))) return;
  await addOrderEvent(trx, order.id, { type: 'vouchers_voided', fromStatus: null, toStatus: null, detail: `codes of batch ${purchase.batchId} not redeemed yet are void` }, now);
}
