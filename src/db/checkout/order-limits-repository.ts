import type { Knex } from 'knex';
import type { OrderStatus } from '../../domain/checkout/order-status.js';
import type { Order } from '../../domain/checkout/orders.js';
import { toDate, type Dialect, type Queryable } from '../database.js';
import { toOrder } from './order-repository.js';

/**
 * Serializes the transactions that place a person's orders or start their PayPal orders, on the
 * person's user row, so that two requests at once cannot both pass a limit. NO KEY UPDATE does not
 * block the key-share locks of rows referencing the person (orders, ledger rows), and no transaction
 * holding an order's or account's lock waits for this one. On SQLite there is nothing to take: its
 * transactions begin IMMEDIATE, so this one is the only writer already.
 */
export async function lockPersonsOrders(trx: Knex.Transaction, dialect: Dialect, userId: number): Promise<void> {
  if (dialect === 'postgres') await trx('users').where('id', userId).forNoKeyUpdate().first('id');
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

/** When the person's PayPal orders started after `after` were asked for, but for the order `exceptOrderId`. */
export async function paypalOrderStartsOf(db: Queryable, userId: number, after: Date, exceptOrderId: number): Promise<Date[]> {
  const rows: Array<{ payment_started_at: unknown }> = await db('orders')
    .where('user_id', userId)
    .where('payment_started_at', '>', after.toISOString())
    .whereNot('id', exceptOrderId)
    .select('payment_started_at');
  return rows.map((row) => toDate(row.payment_started_at));
}

/**
 * Records when the order's PayPal order was first asked for, if it is still waiting to be paid: true
 * now; false when it already was, or when the order is no longer `created` (closed meanwhile).
 */
export async function markPayPalOrderStarted(trx: Knex.Transaction, orderId: number, now: Date): Promise<boolean> {
  return (await trx('orders').where({ id: orderId, status: 'created' }).whereNull('payment_started_at').update({ payment_started_at: now.toISOString() })) > 0;
}
