import type { Knex } from 'knex';
import type { OrderStatus } from '../../domain/checkout/order-status.js';
import { quoteSearchText } from '../../domain/quotes/quotes.js';
import { toSafeInteger } from '../database.js';
import { withdrawPendingCrossingNotices } from '../low-balance/alert-repository.js';

/** The username an anonymised account takes: unique, and saying nothing of the person. */
export const anonymisedUsername = (userId: number) => `closed-${userId}`;

/**
 * Closes the account: disabled for good (no sign-in, no debit), its sessions end at their next request,
 * a low-balance alert still waiting to be sent is withdrawn ("top up" means nothing to a closed account),
 * and the right to buy codes is taken back.
 */
export async function markUserClosed(trx: Knex.Transaction, userId: number, now: Date): Promise<void> {
  await trx('users')
    .where('id', userId)
    .update({ closed_at: now.toISOString(), disabled: true, session_version: trx.raw('session_version + 1'), updated_at: now.toISOString() });
  const account = (await trx('accounts').where('user_id', userId).first('id')) as { id: unknown } | undefined;
  if (account) await withdrawPendingCrossingNotices(trx, toSafeInteger(account.id));
  // Nor does buying codes for a department: their batches stay (a closed account downloads nothing).
  await trx('voucher_buyers').where('user_id', userId).del();
}

/**
 * Replaces what names the person on a closed account, and deletes what only served to sign them in:
 * identity links, sign-ins and their sessions, familiar sources, second factors and recovery codes. The ledger, the orders and the
 * documents keep the account's id (accounting records); the mails already handled lose the address.
 */
export async function eraseUserIdentity(trx: Knex.Transaction, user: { id: number; email: string }, now: Date): Promise<void> {
  const sids = trx('login_sessions').where('user_id', user.id).select('sid');
  await trx('sessions').whereIn('sid', sids).del();
  await trx('login_sessions').where('user_id', user.id).del();
  await trx('user_identities').where('user_id', user.id).del();
  await trx('login_familiar_sources').where('user_id', user.id).del();
  await trx('second_factors').where('user_id', user.id).del();
  await trx('recovery_codes').where('user_id', user.id).del();
  if (user.email !== '') {
    // A notice still waiting (a refund's step, an alert) is about an account that no longer names anyone: it is not sent.
    await trx('mail_outbox').where('recipient', user.email).whereNotNull('notice_kind').where('status', 'pending').del();
    await trx('mail_outbox').where('recipient', user.email).whereIn('status', ['sent', 'kept', 'failed']).update({ recipient: '' });
  }
  await trx('low_balance_alerts').whereIn('account_id', trx('accounts').where('user_id', user.id).select('id')).del();
  await trx('users')
    .where('id', user.id)
    .update({
      username: anonymisedUsername(user.id),
      display_name: '',
      email: '',
      password_hash: null,
      locale: null,
      anonymised_at: now.toISOString(),
      session_version: trx.raw('session_version + 1'),
      updated_at: now.toISOString(),
    });
}

/** Orders a closure has to look at: not yet approved (cancelled by it) or being paid (refusing it). */
const ORDERS_BEFORE_PAYMENT: readonly OrderStatus[] = ['created', 'awaiting_payment'];
const ORDERS_BEING_PAID: readonly OrderStatus[] = ['approved', 'capture_pending'];

/** The person's orders: their top-ups, and the batches of codes they bought (orders of nobody, their purchase names them). */
const ordersOf = (trx: Knex.Transaction, userId: number) => (orders: Knex.QueryBuilder) =>
  void orders.where('user_id', userId).orWhereIn('id', trx('voucher_purchases').where('buyer_id', userId).select('order_id'));

/**
 * The person's own orders not yet paid nor closed, locked (as every payment path locks an order
 * before moving it): a capture waiting on the lock finds the order as this transaction leaves it.
 */
export async function lockUnfinishedOrders(trx: Knex.Transaction, userId: number): Promise<Array<{ id: number; status: OrderStatus }>> {
  const rows: Array<{ id: unknown; status: string }> = await trx('orders')
    .where(ordersOf(trx, userId))
    .whereIn('status', [...ORDERS_BEFORE_PAYMENT, ...ORDERS_BEING_PAID])
    .orderBy('id')
    .forUpdate()
    .select('id', 'status');
  return rows.map((row) => ({ id: toSafeInteger(row.id), status: row.status as OrderStatus }));
}

export const isBeingPaid = (status: OrderStatus) => ORDERS_BEING_PAID.includes(status);

/** An order paying one of the person's quotes is being paid (their own orders: lockUnfinishedOrders). */
export async function hasQuotePaymentInFlight(db: Knex.Transaction, userId: number): Promise<boolean> {
  const row = await db('orders')
    .whereIn('quote_id', db('quotes').where('user_id', userId).select('id'))
    .whereIn('status', [...ORDERS_BEING_PAID])
    .first('id');
  return row !== undefined;
}

/**
 * Money still moving back to the person: a refund an admin asked PayPal for, not answered yet, or a
 * refund of unused credit requested, approved and not paid in full (a PayPal part pending, a transfer awaited).
 */
export async function hasRefundInFlight(trx: Knex.Transaction, userId: number): Promise<boolean> {
  const admin = await trx('admin_refund_requests as r').whereIn('r.order_id', trx('orders').where(ordersOf(trx, userId)).select('id')).where('r.status', 'pending').first('r.request_id');
  if (admin) return true;
  const request = await trx('credit_refund_requests').where('user_id', userId).whereIn('status', ['requested', 'approved']).first('id');
  if (request) return true;
  const part = await trx('credit_refund_parts as p')
    .join('credit_refund_requests as q', 'q.id', 'p.request_id')
    .where('q.user_id', userId)
    .whereIn('p.status', ['pending', 'awaiting_transfer'])
    .first('p.id');
  return part !== undefined;
}

/** A quote made out to the person that staff may still change or the person still pay (draft, sent). */
export async function hasOpenQuote(trx: Knex.Transaction, userId: number): Promise<boolean> {
  return (await trx('quotes').where('user_id', userId).whereIn('status', ['draft', 'sent']).first('id')) !== undefined;
}

/**
 * The person's quotes lose who they were made out to: name, e-mail and delivery address, and the
 * desk's search text (built from them as the quotes do). The lines, totals and documents stay.
 */
export async function eraseQuoteCustomers(trx: Knex.Transaction, userId: number, now: Date): Promise<void> {
  const quotes: Array<{ id: unknown; number: unknown }> = await trx('quotes').where('user_id', userId).select('id', 'number');
  for (const quote of quotes) {
    await trx('quotes')
      .where('id', toSafeInteger(quote.id))
      .update({ customer_name: '', customer_email: '', delivery_address: '', search_text: quoteSearchText(String(quote.number ?? ''), { name: '', email: '' }), updated_at: now.toISOString() });
  }
}
