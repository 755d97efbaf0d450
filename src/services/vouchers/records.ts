/** Reads of bought batches the web layer makes directly (who bought an order's codes, who may buy). */
export { findPurchase, isVoucherBuyer } from '../../db/vouchers/voucher-purchase-repository.js';
