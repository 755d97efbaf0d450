import type { Knex } from 'knex';
import type { Hundredths, TransactionKind } from '../../domain/ledger/ledger.js';
import type { OrderSearch } from '../../domain/checkout/order-search.js';
import type { OrderStatus } from '../../domain/checkout/order-status.js';
import { formatOrderNumber, type OrderEvent } from '../../domain/checkout/orders.js';
import type { Cents } from '../../domain/pricing/pricing.js';
import { toDate, toSafeInteger, type Queryable } from '../database.js';

/** One line of the admins' orders list: a person's top-up, a quote's payment (no person: the quote and its customer), or a batch of codes (its buyer). */
export interface OrderListRow {
  number: string;
  createdAt: Date;
  username: string | null;
  quote: { number: string; customerName: string } | null;
  /** Who bought the batch of codes an order pays for. */
  voucherBuyer: string | null;
  status: OrderStatus;
  priceCents: Cents;
  currency: string;
  units: Hundredths;
  paypalOrderId: string | null;
}

/** LIKE's wildcards, taken literally (usernames may contain `_`). */
const likePrefix = (text: string) => `${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;

function searched(db: Queryable, search: OrderSearch): Knex.QueryBuilder {
  // A quote's order has no person, nor a batch of codes': left joins, so that they are listed too, with the quote or the codes' buyer.
  const query = db('orders as o')
    .leftJoin('users as u', 'u.id', 'o.user_id')
    .leftJoin('quotes as q', 'q.id', 'o.quote_id')
    .leftJoin('voucher_purchases as vp', 'vp.order_id', 'o.id')
    .leftJoin('users as vb', 'vb.id', 'vp.buyer_id');
  if (search.status) void query.where('o.status', search.status);
  if (search.from) void query.where('o.created_at', '>=', search.from.toISOString());
  if (search.until) void query.where('o.created_at', '<', search.until.toISOString());
  if (search.person) void query.where((person) => void person.whereRaw("u.username LIKE ? ESCAPE '\\'", [likePrefix(search.person!)]).orWhereRaw("vb.username LIKE ? ESCAPE '\\'", [likePrefix(search.person!)]));
  if (search.minCents !== undefined) void query.where('o.price_cents', '>=', search.minCents);
  if (search.maxCents !== undefined) void query.where('o.price_cents', '<=', search.maxCents);
  return query;
}

export async function countOrders(db: Queryable, search: OrderSearch): Promise<number> {
  const row = (await searched(db, search).count({ total: '*' }).first()) as { total: unknown } | undefined;
  return toSafeInteger(row?.total ?? 0);
}

/** One page of the orders matching `search`, newest first. */
export async function searchOrders(db: Queryable, search: OrderSearch, page: { limit: number; offset: number }): Promise<OrderListRow[]> {
  const rows: Array<Record<string, unknown>> = await searched(db, search)
    .orderBy('o.id', 'desc')
    .limit(page.limit)
    .offset(page.offset)
    .select('o.id', 'o.created_at', 'o.status', 'o.price_cents', 'o.currency', 'o.units', 'o.bonus_units', 'o.paypal_order_id', 'u.username', { quote_number: 'q.number', customer_name: 'q.customer_name', voucher_buyer: 'vb.username' });
  return rows.map((row) => {
    const createdAt = toDate(row.created_at);
    return {
      number: formatOrderNumber(toSafeInteger(row.id), createdAt),
      createdAt,
      username: row.username == null ? null : String(row.username),
      quote: row.quote_number == null ? null : { number: String(row.quote_number), customerName: String(row.customer_name) },
      voucherBuyer: row.voucher_buyer == null ? null : String(row.voucher_buyer),
      status: row.status as OrderStatus,
      priceCents: toSafeInteger(row.price_cents),
      currency: String(row.currency),
      units: toSafeInteger(row.units) + toSafeInteger(row.bonus_units),
      paypalOrderId: row.paypal_order_id == null ? null : String(row.paypal_order_id),
    };
  });
}

/** The person an order belongs to, with their account as it is now. */
export interface OrderPerson {
  username: string;
  displayName: string;
  email: string;
  accountId: number;
  balance: Hundredths;
  flagged: boolean;
}

export async function findOrderPerson(db: Queryable, userId: number): Promise<OrderPerson | undefined> {
  const row = (await db('users as u')
    .join('accounts as a', 'a.user_id', 'u.id')
    .where('u.id', userId)
    .first('u.username', 'u.display_name', 'u.email', 'a.id as account_id', 'a.balance', 'a.flagged')) as Record<string, unknown> | undefined;
  if (!row) return undefined;
  return {
    username: String(row.username),
    displayName: String(row.display_name),
    email: String(row.email),
    accountId: toSafeInteger(row.account_id),
    balance: toSafeInteger(row.balance),
    flagged: Boolean(row.flagged),
  };
}

export async function termsVersionNumber(db: Queryable, termsVersionId: number): Promise<number | null> {
  const row = (await db('terms_versions').where('id', termsVersionId).first('version')) as { version: unknown } | undefined;
  return row ? toSafeInteger(row.version) : null;
}

/** The order's own history: every move and incident, oldest first. */
export async function listOrderEvents(db: Queryable, orderId: number): Promise<OrderEvent[]> {
  const rows: Array<Record<string, unknown>> = await db('order_events').where('order_id', orderId).orderBy('id');
  return rows.map((row) => ({
    type: String(row.type),
    fromStatus: (row.from_status as OrderStatus | null) ?? null,
    toStatus: (row.to_status as OrderStatus | null) ?? null,
    detail: row.detail == null ? null : String(row.detail),
    createdAt: toDate(row.created_at),
  }));
}

export interface ReceivedWebhook {
  eventId: string;
  eventType: string;
  receivedAt: Date;
}

/** PayPal's notifications that were matched to this order, in the order they were handled. */
export async function listOrderWebhooks(db: Queryable, orderId: number): Promise<ReceivedWebhook[]> {
  const rows: Array<Record<string, unknown>> = await db('webhook_events').where('order_id', orderId).orderBy(['received_at', 'event_id']);
  return rows.map((row) => ({ eventId: String(row.event_id), eventType: String(row.event_type), receivedAt: toDate(row.received_at) }));
}

export interface LinkedTransaction {
  id: number;
  idempotencyKey: string;
  kind: TransactionKind;
  description: string | null;
  /** What it did to the person's account (null if it did not touch it). */
  amount: Hundredths | null;
  createdAt: Date;
}

/** The ledger transactions recorded under these idempotency keys, with their effect on one account, oldest first. */
export async function listTransactionsByKeys(db: Queryable, keys: readonly string[], accountId: number): Promise<LinkedTransaction[]> {
  if (keys.length === 0) return [];
  const rows: Array<Record<string, unknown>> = await db('ledger_transactions as tx')
    .leftJoin('ledger_entries as entry', (join) => join.on('entry.transaction_id', '=', 'tx.id').andOnVal('entry.account_id', '=', accountId))
    .whereIn('tx.idempotency_key', [...keys])
    .orderBy('tx.id')
    .select('tx.id', 'tx.idempotency_key', 'tx.kind', 'tx.description', 'tx.created_at', 'entry.amount');
  return rows.map((row) => ({
    id: toSafeInteger(row.id),
    idempotencyKey: String(row.idempotency_key),
    kind: row.kind as TransactionKind,
    description: row.description == null ? null : String(row.description),
    amount: row.amount == null ? null : toSafeInteger(row.amount),
    createdAt: toDate(row.created_at),
  }));
}

export type RefundRequestStatus = 'pending' | 'refunded' | 'not_refunded';

export interface RefundRequest {
  requestId: string;
  orderId: number;
  status: RefundRequestStatus;
  refundId: string | null;
  amountCents: Cents;
  /** The units the refund will take back, held against the balance while it is pending. */
  unitsReserved: number;
  reason: string;
  requestedBy: number;
}

/** A form's refund request, if it was sent before. */
export async function findRefundRequest(db: Queryable, requestId: string): Promise<RefundRequest | undefined> {
  const row = (await db('admin_refund_requests').where('request_id', requestId).first()) as Record<string, unknown> | undefined;
  return row ? toRefundRequest(row) : undefined;
}

/** Writes a request as pending, before PayPal is asked (a new one, or one PayPal said no to, asked again). */
export async function savePendingRefundRequest(trx: Knex.Transaction, request: Omit<RefundRequest, 'status' | 'refundId'>, now: Date): Promise<void> {
  await trx('admin_refund_requests')
    .insert({
      request_id: request.requestId,
      order_id: request.orderId,
      status: 'pending',
      amount_cents: request.amountCents,
      units_reserved: request.unitsReserved,
      reason: request.reason,
      requested_by: request.requestedBy,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    })
    .onConflict('request_id')
    .merge({ status: 'pending', units_reserved: request.unitsReserved, reason: request.reason, requested_by: request.requestedBy, updated_at: now.toISOString() });
}

/** Closes a request with PayPal's answer; false when it was already refunded (a second answer changes nothing). */
export async function closeRefundRequest(trx: Knex.Transaction, requestId: string, outcome: { status: 'refunded'; refundId: string } | { status: 'not_refunded' }, now: Date): Promise<boolean> {
  const changed = await trx('admin_refund_requests')
    .where('request_id', requestId)
    .whereNot('status', 'refunded')
    .update({ status: outcome.status, refund_id: outcome.status === 'refunded' ? outcome.refundId : null, updated_at: now.toISOString() });
  return changed > 0;
}

/**
 * Units held by a person's refund requests made since `since` (older ones were settled by PayPal's
 * word or given up) whose units have not left the balance yet: pending ones, and refunded ones whose
 * refund PayPal has not completed (PENDING at PayPal: no take-back yet). A request whose refund is
 * recorded holds nothing: its units left the balance in the transaction that recorded it.
 */
export async function unitsHeldByPendingRefunds(db: Queryable, userId: number, since: Date): Promise<number> {
  const row = await db('admin_refund_requests as r')
    .join('orders as o', 'o.id', 'r.order_id')
    .where('o.user_id', userId)
    .whereIn('r.status', ['pending', 'refunded'])
    .where('r.updated_at', '>=', since.toISOString())
    .whereNotExists((recorded) => recorded.select(db.raw('1')).from('payment_refunds as p').whereRaw('p.invoice_id = r.request_id'))
    .sum({ held: 'r.units_reserved' })
    .first();
  return toSafeInteger(row?.held ?? 0);
}

/** Who asked for each of an order's refunds, and why, by PayPal refund id. */
export async function listRefundRequests(db: Queryable, orderId: number): Promise<Array<RefundRequest & { username: string; createdAt: Date }>> {
  const rows: Array<Record<string, unknown>> = await db('admin_refund_requests as r')
    .join('users as u', 'u.id', 'r.requested_by')
    .where('r.order_id', orderId)
    .orderBy('r.created_at')
    .select('r.*', 'u.username');
  return rows.map((row) => ({ ...toRefundRequest(row), username: String(row.username), createdAt: toDate(row.created_at) }));
}

function toRefundRequest(row: Record<string, unknown>): RefundRequest {
  return {
    requestId: String(row.request_id),
    orderId: toSafeInteger(row.order_id),
    status: row.status as RefundRequestStatus,
    refundId: row.refund_id == null ? null : String(row.refund_id),
    amountCents: toSafeInteger(row.amount_cents),
    unitsReserved: toSafeInteger(row.units_reserved),
    reason: String(row.reason),
    requestedBy: toSafeInteger(row.requested_by),
  };
}
