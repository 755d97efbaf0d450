import type { Knex } from 'knex';
import { CLOSED_UNPAID_STATUSES } from '../../domain/checkout/order-status.js';
import type { RetentionCutoffs, RetentionKind } from '../../domain/retention/retention-periods.js';
import type { Database } from '../database.js';

type Where = (query: Knex.QueryBuilder) => void;

/**
 * One kind of row the retention job removes: its table, the columns that name a row, and which rows
 * are due. The condition is written again in the DELETE itself, so a row that changed between the
 * look-up and the delete (a session renewed, a throttle counting again) stays.
 */
interface PurgeRule {
  table: string;
  key: readonly string[];
  due: (cutoffs: RetentionCutoffs, knex: Knex) => Where;
}

/**
 * Never paid, by any path: no capture, no ledger posting, nothing issued or refunded against them.
 * Never `failed`: one without a capture id is an order PayPal captured for an amount it did not match,
 * money held for a person to look at, and those order events are its only record.
 */
const unpaidOrder =
  (before: Date, knex: Knex): Where =>
  (query) =>
    void query
      .whereIn('orders.status', CLOSED_UNPAID_STATUSES)
      .where('orders.updated_at', '<', before.toISOString())
      .whereNull('orders.ledger_transaction_id')
      .whereNull('orders.paypal_capture_id')
      .whereNotExists(knex('payment_refunds').whereRaw('payment_refunds.order_id = orders.id'))
      .whereNotExists(knex('documents').whereRaw('documents.order_id = orders.id'))
      .whereNotExists(knex('quotes').whereRaw('quotes.paid_order_id = orders.id'));

const RULES: Record<Exclude<RetentionKind, 'unpaidOrders' | 'accountingDocuments'>, PurgeRule> = {
  sessions: { table: 'sessions', key: ['sid'], due: (cutoffs) => (query) => void query.where('expired', '<', cutoffs.sessions.toISOString()) },
  signIns: {
    table: 'login_sessions',
    key: ['id'],
    due: (cutoffs, knex) => (query) =>
      void query
        .where('started_at', '<', cutoffs.signIns.toISOString())
        .whereNotExists(knex('sessions').whereRaw('sessions.sid = login_sessions.sid').andWhere('sessions.expired', '>=', cutoffs.sessions.toISOString())),
  },
  loginThrottle: {
    table: 'login_throttle',
    key: ['key'],
    // What purgeExpiredThrottleRows removes: rows that no longer count anything.
    due: (cutoffs) => (query) =>
      void query.where((ended) =>
        ended
          .where((lock) => void lock.whereNotNull('locked_until').andWhere('locked_until', '<=', cutoffs.loginThrottleNow))
          .orWhere((stale) => void stale.whereNull('locked_until').andWhere('window_started_at', '<=', cutoffs.loginThrottleWindowStart)),
      ),
  },
  signInKeys: { table: 'sign_in_keys', key: ['provider_id', 'key'], due: (cutoffs) => (query) => void query.where('expires_at', '<=', cutoffs.signInKeys) },
  quoteLookupAttempts: { table: 'quote_lookup_attempts', key: ['id'], due: (cutoffs) => (query) => void query.where('attempted_at', '<=', cutoffs.quoteLookupAttempts) },
  familiarSources: { table: 'login_familiar_sources', key: ['user_id', 'source_sha256'], due: (cutoffs) => (query) => void query.where('last_signed_in_at', '<', cutoffs.familiarSources) },
  webhookTransmissions: { table: 'webhook_transmissions', key: ['transmission_id'], due: (cutoffs) => (query) => void query.where('received_at', '<', cutoffs.webhooks.toISOString()) },
  // An event this old comes back only in a transmission refused as stale: its id need not be remembered.
  webhookEvents: { table: 'webhook_events', key: ['event_id'], due: (cutoffs) => (query) => void query.where('received_at', '<', cutoffs.webhooks.toISOString()) },
  mails: {
    table: 'mail_outbox',
    key: ['id'],
    due: (cutoffs) => (query) => void query.whereIn('status', ['sent', 'kept', 'failed']).where('created_at', '<', cutoffs.mails.toISOString()),
  },
  // The file of an import, checked and never confirmed or imported long ago: the people are in `users`, the balances in the ledger.
  peopleImports: {
    table: 'people_imports',
    key: ['id'],
    due: (cutoffs) => (query) =>
      void query.where('checked_at', '<', cutoffs.peopleImports.toISOString()).where((ended) => void ended.whereNull('imported_at').orWhere('imported_at', '<', cutoffs.peopleImports.toISOString())),
  },
  apiIdempotency: { table: 'api_idempotency_keys', key: ['id'], due: (cutoffs) => (query) => void query.where('created_at', '<', cutoffs.apiIdempotency.toISOString()) },
  audit: { table: 'audit_log', key: ['id'], due: (cutoffs) => (query) => void query.where('created_at', '<', cutoffs.audit.toISOString()) },
};

/**
 * Deletes at most `limit` due rows of one kind in one short statement; answers how many went. The rows
 * are chosen by a subquery, not a list of values: a batch of any size the configuration accepts stays
 * within the parameters a statement may carry (SQLite 32,766, PostgreSQL 65,535).
 */
async function purgeBatch(db: Database, rule: PurgeRule, cutoffs: RetentionCutoffs, limit: number): Promise<number> {
  const due = rule.due(cutoffs, db.knex);
  const key = [...rule.key];
  const chosen = db.knex(rule.table).where(due).orderBy(key).limit(limit).select(key);
  const [single] = key;
  const rows = key.length === 1 && single !== undefined ? db.knex(rule.table).whereIn(single, chosen) : db.knex(rule.table).whereIn(key, chosen);
  return rows.andWhere(due).del();
}

/**
 * Orders never paid, with their events and the webhook events that named them, in one transaction
 * per batch. The orders are locked first with their condition checked again, as every payment path
 * locks an order before moving it: an order paid meanwhile (a late capture) is not among them.
 */
async function purgeUnpaidOrders(db: Database, cutoffs: RetentionCutoffs, limit: number): Promise<number> {
  return db.transaction(async (trx) => {
    const locking = trx('orders').where(unpaidOrder(cutoffs.unpaidOrders, db.knex)).orderBy('id').limit(limit);
    if (db.dialect === 'postgres') void locking.forUpdate();
    const ids = (await locking.pluck('id')) as number[];
    if (ids.length === 0) return 0;
    await trx('order_events').whereIn('order_id', ids).del();
    await trx('webhook_events').whereIn('order_id', ids).del();
    return trx('orders').whereIn('id', ids).del();
  });
}

/** What an anonymised person's documents say of them once the accounting period is over. */
const DETACHED_BUYER = { name: '', email: '' } as const;

/**
 * Documents (receipts, credit notes, quotes) issued before the cutoff to people whose account was
 * anonymised: their copies of the buyer take the account's new name (`closed-<id>`), and their stored
 * PDFs, which print the old one, are deleted (the trigger allows it only past 10 years); a download
 * would render them again.
 */
async function detachAccountingDocuments(db: Database, cutoffs: RetentionCutoffs, limit: number): Promise<number> {
  return db.transaction(async (trx) => {
    // The person is the order's, the quote's (a quote sent, or paid online through an order of its own), or the buyer of a batch of codes.
    const rows: Array<{ id: number; username: string }> = await trx('documents')
      .leftJoin('orders', 'orders.id', 'documents.order_id')
      .leftJoin('quotes', (on) => void on.on('quotes.id', '=', 'documents.quote_id').orOn('quotes.id', '=', 'orders.quote_id'))
      .leftJoin('voucher_purchases', 'voucher_purchases.order_id', 'orders.id')
      .join('users', (on) => void on.on('users.id', '=', 'orders.user_id').orOn('users.id', '=', 'quotes.user_id').orOn('users.id', '=', 'voucher_purchases.buyer_id'))
      .whereNotNull('users.anonymised_at')
      .where('documents.issued_at', '<', cutoffs.accountingDocuments.toISOString())
      .where((detached) => void detached.whereRaw('documents.buyer_username <> users.username').orWhereExists(trx('document_files').whereRaw('document_files.document_id = documents.id')))
      .orderBy('documents.id')
      .limit(limit)
      .select('documents.id', 'users.username');
    if (rows.length === 0) return 0;
    await trx('document_files').whereIn('document_id', rows.map((row) => row.id)).del();
    for (const row of rows) {
      await trx('documents').where('id', row.id).update({ buyer_name: DETACHED_BUYER.name, buyer_username: row.username, buyer_email: DETACHED_BUYER.email });
    }
    return rows.length;
  });
}

/** One batch of one kind: the number of rows removed (or documents detached), 0 once nothing is due. */
export async function purgeRetentionBatch(db: Database, kind: RetentionKind, cutoffs: RetentionCutoffs, limit: number): Promise<number> {
  if (kind === 'unpaidOrders') return purgeUnpaidOrders(db, cutoffs, limit);
  if (kind === 'accountingDocuments') return detachAccountingDocuments(db, cutoffs, limit);
  return purgeBatch(db, RULES[kind], cutoffs, limit);
}
