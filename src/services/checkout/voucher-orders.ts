import type { Knex } from 'knex';
import { addOrderEvent } from '../../db/checkout/order-repository.js';
import { getAccountByCode } from '../../db/ledger/ledger-repository.js';
import { insertVoucherBatch, markBatchVoided } from '../../db/vouchers/voucher-repository.js';
import { lockPurchase, setPurchaseBatch } from '../../db/vouchers/voucher-purchase-repository.js';
import type { Order } from '../../domain/checkout/orders.js';
import { SystemAccount } from '../../domain/ledger/ledger.js';

/** The order of a batch of codes bought by a department: its units are the codes', held by `system:vouchers` until redeemed. */
export const isVoucherOrder = (order: Pick<Order, 'kind'>) => order.kind === 'voucher_batch';

/** The account a bought batch's capture credits (and its refunds take back from). */
export async function voucherOrderAccountId(trx: Knex.Transaction): Promise<number> {
  return (await getAccountByCode(trx, SystemAccount.vouchers)).id;
}

async function purchaseOf(trx: Knex.Transaction, order: Order) {
  const purchase = await lockPurchase(trx, { orderId: order.id });
  if (!purchase) throw new Error(`order ${order.number} buys codes but has no purchase`);
  return purchase;
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
