import type { Knex } from 'knex';
import type { OrderStatus } from '../../domain/checkout/order-status.js';
import { formatOrderNumber } from '../../domain/checkout/orders.js';
import type { Hundredths } from '../../domain/ledger/ledger.js';
import type { DayKey } from '../../domain/time/calendar.js';
import type { PurchaseRequest } from '../../domain/vouchers/voucher-purchases.js';
import { toDate, toSafeInteger, type Queryable } from '../database.js';

export interface VoucherBuyer {
  userId: number;
  username: string;
  displayName: string;
  addedBy: string;
  addedAt: Date;
}

/** A batch bought through checkout, with its order's state and its batch's counters once paid. */
export interface VoucherPurchase {
  id: number;
  orderId: number;
  orderNumber: string;
  orderStatus: OrderStatus;
  priceCents: number;
  currency: string;
  termsVersionId: number;
  buyerId: number;
  name: string;
  count: number;
  value: Hundredths;
  expiresOn: DayKey;
  batchId: number | null;
  handedOverAt: Date | null;
  handoverCount: number;
  createdAt: Date;
  /** The buyer's username, for the admins' pages. */
  buyerUsername: string;
  /** Whether the buyer's account was closed (they can no longer download the codes). */
  buyerClosed: boolean;
  batchVoidedAt: Date | null;
  redeemedCount: number;
}

export async function isVoucherBuyer(db: Queryable, userId: number): Promise<boolean> {
  return (await db('voucher_buyers').where('user_id', userId).first('user_id')) !== undefined;
}

/** True if added now, false if the person already was a buyer. */
export async function addVoucherBuyer(trx: Knex.Transaction, userId: number, addedBy: number, now: Date): Promise<boolean> {
  const inserted = await trx('voucher_buyers').insert({ user_id: userId, added_by: addedBy, added_at: now.toISOString() }).onConflict('user_id').ignore().returning('user_id');
  return inserted.length === 1;
}

/** True if removed now. Their purchases stay theirs: only new ones are refused. */
export async function removeVoucherBuyer(trx: Knex.Transaction, userId: number): Promise<boolean> {
  return (await trx('voucher_buyers').where('user_id', userId).del()) === 1;
}

export async function listVoucherBuyers(db: Queryable): Promise<VoucherBuyer[]> {
  const rows = (await db('voucher_buyers as b')
    .join('users as u', 'u.id', 'b.user_id')
    .join('users as adder', 'adder.id', 'b.added_by')
    .orderBy('u.username')
    .select('b.user_id', 'u.username', 'u.display_name', 'adder.username as added_by', 'b.added_at')) as Array<Record<string, unknown>>;
  return rows.map((row) => ({
    userId: toSafeInteger(row.user_id),
    username: String(row.username),
    displayName: String(row.display_name ?? ''),
    addedBy: String(row.added_by),
    addedAt: toDate(row.added_at),
  }));
}

export async function insertVoucherPurchase(trx: Knex.Transaction, purchase: { orderId: number; buyerId: number; request: PurchaseRequest }, now: Date): Promise<number> {
  const { request } = purchase;
  const [row]: Array<{ id: unknown }> = await trx('voucher_purchases')
    .insert({
      order_id: purchase.orderId,
      buyer_id: purchase.buyerId,
      name: request.name,
      code_count: request.count,
      value: request.value,
      expires_on: request.expiresOn,
      created_at: now.toISOString(),
    })
    .returning('id');
  return toSafeInteger(row?.id);
}

const purchases = (db: Queryable) =>
  db('voucher_purchases as p')
    .join('orders as o', 'o.id', 'p.order_id')
    .leftJoin('voucher_batches as b', 'b.id', 'p.batch_id')
    .join('users as buyer', 'buyer.id', 'p.buyer_id')
    .select('p.*', 'buyer.username as buyer_username', 'buyer.closed_at as buyer_closed_at', 'o.status as order_status', 'o.price_cents', 'o.currency', 'o.terms_version_id', 'o.created_at as order_created_at', 'b.voided_at as batch_voided_at', 'b.redeemed_count');

function toPurchase(row: Record<string, unknown>): VoucherPurchase {
  const orderId = toSafeInteger(row.order_id);
  return {
    id: toSafeInteger(row.id),
    orderId,
    orderNumber: formatOrderNumber(orderId, toDate(row.order_created_at)),
    orderStatus: row.order_status as OrderStatus,
    priceCents: toSafeInteger(row.price_cents),
    currency: String(row.currency),
    termsVersionId: toSafeInteger(row.terms_version_id),
    buyerId: toSafeInteger(row.buyer_id),
    name: String(row.name),
    count: toSafeInteger(row.code_count),
    value: toSafeInteger(row.value),
    expiresOn: String(row.expires_on),
    batchId: row.batch_id == null ? null : toSafeInteger(row.batch_id),
    handedOverAt: row.handed_over_at == null ? null : toDate(row.handed_over_at),
    handoverCount: toSafeInteger(row.handover_count),
    createdAt: toDate(row.created_at),
    buyerUsername: String(row.buyer_username),
    buyerClosed: row.buyer_closed_at != null,
    batchVoidedAt: row.batch_voided_at == null ? null : toDate(row.batch_voided_at),
    redeemedCount: row.redeemed_count == null ? 0 : toSafeInteger(row.redeemed_count),
  };
}

type PurchaseKey = { id: number } | { orderId: number } | { batchId: number };
const columnOf = (by: PurchaseKey) => ('id' in by ? 'id' : 'orderId' in by ? 'order_id' : 'batch_id');
const valueOf = (by: PurchaseKey) => ('id' in by ? by.id : 'orderId' in by ? by.orderId : by.batchId);

export async function findPurchase(db: Queryable, by: PurchaseKey): Promise<VoucherPurchase | undefined> {
  const [row] = (await purchases(db).where(`p.${columnOf(by)}`, valueOf(by)).limit(1)) as Array<Record<string, unknown>>;
  return row && toPurchase(row);
}

/** The purchase, locked against another handover or its capture until the caller's transaction ends. */
export async function lockPurchase(trx: Knex.Transaction, by: PurchaseKey): Promise<VoucherPurchase | undefined> {
  await trx('voucher_purchases').where(columnOf(by), valueOf(by)).forUpdate().first('id');
  return findPurchase(trx, by);
}

/** A buyer's purchases, newest first (a buyer makes a few a year: the newest hundred are listed). */
export async function listBuyerPurchases(db: Queryable, buyerId: number): Promise<VoucherPurchase[]> {
  const rows = (await purchases(db).where('p.buyer_id', buyerId).orderBy('p.id', 'desc').limit(100)) as Array<Record<string, unknown>>;
  return rows.map(toPurchase);
}

/** The buyer's purchases whose order is in `statuses` and was placed since `since`. */
export async function listRecentPurchasesOf(db: Queryable, buyerId: number, query: { statuses: readonly OrderStatus[]; since: Date }): Promise<VoucherPurchase[]> {
  const rows = (await purchases(db)
    .where('p.buyer_id', buyerId)
    .whereIn('o.status', [...query.statuses])
    .where('o.created_at', '>=', query.since.toISOString())
    .orderBy('p.id', 'desc')) as Array<Record<string, unknown>>;
  return rows.map(toPurchase);
}

/** The buyer's row, locked so that their purchases placed at once see each other (PostgreSQL; SQLite runs one writer at a time). */
export async function lockVoucherBuyer(trx: Knex.Transaction, userId: number): Promise<boolean> {
  return (await trx('voucher_buyers').where('user_id', userId).forUpdate().first('user_id')) !== undefined;
}

/** The receipt number of each of these orders that has one. */
export async function receiptNumbersOf(db: Queryable, orderIds: readonly number[]): Promise<Map<number, string>> {
  if (orderIds.length === 0) return new Map();
  const rows = (await db('documents').whereIn('order_id', [...orderIds]).where('kind', 'receipt').select('order_id', 'number')) as Array<Record<string, unknown>>;
  return new Map(rows.map((row) => [toSafeInteger(row.order_id), String(row.number)]));
}

/** The purchase's batch, made by the capture: set once (the guard makes a second capture's attempt a no-op). */
export async function setPurchaseBatch(trx: Knex.Transaction, purchaseId: number, batchId: number): Promise<boolean> {
  return (await trx('voucher_purchases').where('id', purchaseId).whereNull('batch_id').update({ batch_id: batchId })) === 1;
}

/** Counts a handover; the first sets when the codes were first handed over. */
export async function recordHandover(trx: Knex.Transaction, purchaseId: number, now: Date): Promise<void> {
  await trx('voucher_purchases')
    .where('id', purchaseId)
    .update({ handover_count: trx.raw('handover_count + 1'), handed_over_at: trx.raw('COALESCE(handed_over_at, ?)', [now.toISOString()]) });
}
