import type { DayKey } from '../../domain/time/calendar.js';
import { CREDITED_STATUSES, type OrderStatus } from '../../domain/checkout/order-status.js';
import { toDate, toSafeInteger, type Queryable } from '../database.js';
import { QUOTE_ORDER_KIND } from './report-repository.js';

/** What paid orders of one currency brought in a period: top-ups, or quotes paid through PayPal. */
export interface PaidTotals {
  currency: string;
  count: number;
  amountCents: number;
  vatCents: number;
  refundedCents: number;
}

/** Top-ups paid in [from, until), per currency (one, unless the price list's currency changed). */
export async function topUpTotals(db: Queryable, from: Date, until: Date): Promise<PaidTotals[]> {
  return paidOrderTotals(db, from, until, 'top_ups');
}

/** Quotes paid through PayPal in [from, until), per currency: money taken like top-ups', but for no units. */
export async function quotePaymentTotals(db: Queryable, from: Date, until: Date): Promise<PaidTotals[]> {
  return paidOrderTotals(db, from, until, 'quotes');
}

async function paidOrderTotals(db: Queryable, from: Date, until: Date, of: 'top_ups' | 'quotes'): Promise<PaidTotals[]> {
  const orders = of === 'quotes' ? db('orders').where('kind', QUOTE_ORDER_KIND) : db('orders').whereNot('kind', QUOTE_ORDER_KIND);
  const rows: Array<Record<string, unknown>> = await orders
    .whereIn('status', [...CREDITED_STATUSES])
    .where('paid_at', '>=', from.toISOString())
    .where('paid_at', '<', until.toISOString())
    .groupBy('currency')
    .orderBy('currency')
    .select('currency')
    .count({ count: '*' })
    .sum({ amount: 'price_cents', vat: 'vat_cents', refunded: 'refunded_cents' });
  return rows.map((row) => ({
    currency: String(row.currency),
    count: toSafeInteger(row.count),
    amountCents: toSafeInteger(row.amount ?? 0),
    vatCents: toSafeInteger(row.vat ?? 0),
    refundedCents: toSafeInteger(row.refunded ?? 0),
  }));
}

/**
 * What the portal owes its users: the sum of their balances, how many accounts are below zero, and the
 * units of bought codes still redeemable on `today` (paid for, not in anyone's balance yet).
 */
export async function unitsOutstanding(db: Queryable, today: DayKey): Promise<{ total: number; negativeAccounts: number; boughtCodes: number }> {
  const [sum, negative, codes] = await Promise.all([
    db('accounts').where('kind', 'user').sum({ total: 'balance' }).first(),
    db('accounts').where('kind', 'user').where('balance', '<', 0).count({ count: '*' }).first(),
    db('voucher_purchases as p')
      .join('voucher_batches as b', 'b.id', 'p.batch_id')
      .whereNull('b.voided_at')
      .where('b.expires_on', '>=', today)
      .sum({ units: db.raw('(b.code_count - b.redeemed_count) * b.value') })
      .first(),
  ]);
  return { total: toSafeInteger(sum?.total ?? 0), negativeAccounts: toSafeInteger(negative?.count ?? 0), boughtCodes: toSafeInteger(codes?.units ?? 0) };
}

export async function countOrdersIn(db: Queryable, statuses: readonly OrderStatus[]): Promise<number> {
  const row = await db('orders').whereIn('status', [...statuses]).count({ count: '*' }).first();
  return toSafeInteger(row?.count ?? 0);
}

/** Order events that need a person's eye; `failed` moves included. */
export const PROBLEM_EVENT_TYPES = ['attention', 'gateway_error', 'reconcile_error'] as const;

export interface PaymentProblem {
  orderId: number;
  orderCreatedAt: Date;
  type: string;
  detail: string | null;
  createdAt: Date;
}

export async function recentPaymentProblems(db: Queryable, since: Date, limit: number): Promise<PaymentProblem[]> {
  const rows: Array<Record<string, unknown>> = await db('order_events as e')
    .join('orders as o', 'o.id', 'e.order_id')
    .where('e.created_at', '>=', since.toISOString())
    .andWhere((where) => where.whereIn('e.type', [...PROBLEM_EVENT_TYPES]).orWhere('e.to_status', 'failed'))
    .orderBy('e.id', 'desc')
    .limit(limit)
    .select('e.order_id', 'o.created_at as order_created_at', 'e.type', 'e.to_status', 'e.detail', 'e.created_at');
  return rows.map((row) => ({
    orderId: toSafeInteger(row.order_id),
    orderCreatedAt: toDate(row.order_created_at),
    type: row.to_status === 'failed' ? 'failed' : String(row.type),
    detail: row.detail == null ? null : String(row.detail),
    createdAt: toDate(row.created_at),
  }));
}

/** Webhook deliveries, verified, that named no order of ours. */
export async function countUnmatchedWebhooks(db: Queryable, since: Date): Promise<number> {
  const row = await db('webhook_events').whereNull('order_id').where('received_at', '>=', since.toISOString()).count({ count: '*' }).first();
  return toSafeInteger(row?.count ?? 0);
}
