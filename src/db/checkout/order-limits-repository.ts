import type { Knex } from 'knex';
import type { OrderStatus } from '../../domain/checkout/order-status.js';
import type { Order } from '../../domain/checkout/orders.js';
import { toDate, type Queryable } from '../database.js';
import { toOrder } from './order-repository.js';

/**
 * Serializes the transactions that place a person's orders or start their PayPal orders, on the
 * person's user row, so that two requests at once cannot both pass a limit (PostgreSQL; SQLite has one
 * writer). NO KEY UPDATE does not block the key-share locks of rows referencing the person (orders,
 * ledger rows), and no transaction holding an order's or account's lock waits for this one.
 */
export async function lockPersonsOrders(trx: Knex.Transaction, userId: number): Promise<void> {
  await trx('users').where('id', userId).forNoKeyUpdate().first('id');
}

/** The person's orders in `statuses` placed since `since`, newest first. */
export async function listRecentOrdersOf(db: Queryable, userId: number, query: { statuses: readonly OrderStatus[]; since: Date }): Promise<Order[]> {
  const rows: Array<Record<string, unknown>> = await db('orders')
    .where('user_id', userId)
    .whereIn('status', [...query.statuses])
    .where('created_at', '>=', query.since.toISOString())
    .orderBy('id', 'desc');
  return rows.map(toOrder);
}

/** When the person's PayPal orders started after `after` were asked for. */
export async function paypalOrderStartsOf(db: Queryable, userId: number, after: Date): Promise<Date[]> {
  const rows: Array<{ payment_started_at: unknown }> = await db('orders').where('user_id', userId).where('payment_started_at', '>', after.toISOString()).select('payment_started_at');
  return rows.map((row) => toDate(row.payment_started_at));
}

/** When the order's PayPal order was first asked for, or null if it never was. */
export async function paypalOrderStartedAt(db: Queryable, orderId: number): Promise<Date | null> {
  const row = await db('orders').where('id', orderId).first('payment_started_at');
  return row?.payment_started_at == null ? null : toDate(row.payment_started_at);
}

export async function markPayPalOrderStarted(trx: Knex.Transaction, orderId: number, now: Date): Promise<void> {
  await trx('orders').where('id', orderId).whereNull('payment_started_at').update({ payment_started_at: now.toISOString() });
}
