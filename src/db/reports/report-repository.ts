import type { Knex } from 'knex';
import { CREDITED_STATUSES } from '../../domain/checkout/order-status.js';
import type { PaidTopUp } from '../../domain/reports/top-ups-per-day.js';
import { PAYPAL_KEYS, type ExportedTransaction } from '../../domain/reports/transaction-export.js';
import type { TransactionKind } from '../../domain/ledger/ledger.js';
import type { OrderKind } from '../../domain/checkout/orders.js';
import { toDate, toSafeInteger, type Queryable } from '../database.js';

/** The kind of a quote's order: it pays a quote, credits no units, and is no top-up in any figure. */
export const QUOTE_ORDER_KIND: OrderKind = 'quote';

export interface Period {
  from: Date;
  /** Excluded. */
  until: Date;
}

/**
 * Pages of rows in [from, until) of `columns.time`, ordered by it then by id, each page its own query
 * (keyset paging): nothing holds a connection between pages (SQLite has one), and no page costs more
 * than the one before. `query` builds the filtered query afresh for each page; each row carries
 * `keyset_time` and `keyset_id` besides the `select`ed columns.
 */
export async function* keysetPages(
  query: () => Knex.QueryBuilder,
  columns: { time: string; id: string },
  period: Period,
  pageSize: number,
  select: Record<string, string> = {},
): AsyncGenerator<Array<Record<string, unknown>>> {
  let after: { time: string; id: number } | null = null;
  for (;;) {
    const page = query()
      .where(columns.time, '>=', period.from.toISOString())
      .where(columns.time, '<', period.until.toISOString())
      .orderBy([{ column: columns.time }, { column: columns.id }])
      .limit(pageSize)
      .select({ keyset_time: columns.time, keyset_id: columns.id, ...select });
    if (after) {
      const { time, id } = after;
      void page.where((next) => next.where(columns.time, '>', time).orWhere((tie) => tie.where(columns.time, time).where(columns.id, '>', id)));
    }
    const rows = (await page) as Array<Record<string, unknown>>;
    const last = rows[rows.length - 1];
    if (!last) return;
    yield rows;
    if (rows.length < pageSize) return;
    // Timestamps are stored as ISO strings (SQLite) or read back as dates (PostgreSQL): both compare as ISO.
    after = { time: toDate(last.keyset_time).toISOString(), id: toSafeInteger(last.keyset_id) };
  }
}

// The order a posting belongs to: the refund's, the one it credited, or the capture its key names.
function orderIdOf(db: Queryable): Knex.Raw {
  const captureIdInKey = `CASE ${[PAYPAL_KEYS.refundRemainder, PAYPAL_KEYS.chargeback]
    .map((prefix) => `WHEN tx.idempotency_key LIKE '${prefix}%' THEN substr(tx.idempotency_key, ${prefix.length + 1})`)
    .join(' ')} END`;
  const credited = db('orders').whereRaw('orders.ledger_transaction_id = tx.id').select('orders.id').limit(1);
  const captured = db('orders').whereRaw(`orders.paypal_capture_id = ${captureIdInKey}`).select('orders.id').limit(1);
  return db.raw('COALESCE(refund.order_id, (?), (?))', [credited, captured]);
}

/**
 * Ledger transactions of [from, until) that touched a person's account, oldest first, one row per
 * person's entry, in pages of at most `pageSize` transactions: an export streams them without ever
 * holding the whole range in memory.
 */
export async function* exportedTransactionPages(db: Queryable, period: Period, pageSize = 500): AsyncGenerator<ExportedTransaction[]> {
  const counterpart = db('ledger_entries as other')
    .join('accounts as other_account', 'other_account.id', 'other.account_id')
    .whereRaw('other.transaction_id = tx.id')
    .where('other_account.kind', 'system')
    .orderBy('other.id')
    .limit(1)
    .select('other_account.code');
  for await (const page of keysetPages(() => db('ledger_transactions'), { time: 'created_at', id: 'id' }, period, pageSize)) {
    const rows: Array<Record<string, unknown>> = await db('ledger_transactions as tx')
      .join('ledger_entries as entry', 'entry.transaction_id', 'tx.id')
      .join('accounts as account', 'account.id', 'entry.account_id')
      .join('users as person', 'person.id', 'account.user_id')
      .leftJoin('users as author', 'author.id', 'tx.created_by')
      .leftJoin('payment_refunds as refund', 'refund.ledger_transaction_id', 'tx.id')
      .leftJoin('admin_refund_requests as refund_request', 'refund_request.refund_id', 'refund.refund_id')
      .leftJoin('users as requester', 'requester.id', 'refund_request.requested_by')
      .leftJoin('orders as o', (join) => join.on('o.id', '=', orderIdOf(db)))
      .whereIn(
        'tx.id',
        page.map((row) => toSafeInteger(row.keyset_id)),
      )
      .orderBy([{ column: 'tx.created_at' }, { column: 'tx.id' }, { column: 'entry.id' }])
      .select({
        transaction_id: 'tx.id',
        kind: 'tx.kind',
        idempotency_key: 'tx.idempotency_key',
        description: 'tx.description',
        created_at: 'tx.created_at',
        units: 'entry.amount',
        username: 'person.username',
        display_name: 'person.display_name',
        author_username: 'author.username',
        requester_username: 'requester.username',
        refund_id: 'refund.refund_id',
        refund_currency: 'refund.currency',
        refund_amount_cents: 'refund.amount_cents',
        refund_net_cents: 'refund.net_cents',
        refund_vat_cents: 'refund.vat_cents',
        order_id: 'o.id',
        order_created_at: 'o.created_at',
        order_currency: 'o.currency',
        order_price_cents: 'o.price_cents',
        order_net_cents: 'o.net_cents',
        order_vat_cents: 'o.vat_cents',
        order_vat_rate_basis_points: 'o.vat_rate_basis_points',
        order_paypal_order_id: 'o.paypal_order_id',
        order_paypal_capture_id: 'o.paypal_capture_id',
        order_ledger_transaction_id: 'o.ledger_transaction_id',
      })
      .select(counterpart.as('counterpart'));
    yield rows.map(toExportedTransaction);
  }
}

const textOrNull = (value: unknown) => (value == null ? null : String(value));

function toExportedTransaction(row: Record<string, unknown>): ExportedTransaction {
  return {
    transactionId: toSafeInteger(row.transaction_id),
    kind: row.kind as TransactionKind,
    idempotencyKey: String(row.idempotency_key),
    description: textOrNull(row.description),
    createdAt: toDate(row.created_at),
    units: toSafeInteger(row.units),
    username: String(row.username),
    displayName: String(row.display_name),
    authorUsername: textOrNull(row.author_username ?? row.requester_username),
    counterpart: textOrNull(row.counterpart),
    order:
      row.order_id == null
        ? null
        : {
            id: toSafeInteger(row.order_id),
            createdAt: toDate(row.order_created_at),
            currency: String(row.order_currency),
            priceCents: toSafeInteger(row.order_price_cents),
            netCents: toSafeInteger(row.order_net_cents),
            vatCents: toSafeInteger(row.order_vat_cents),
            vatRateBasisPoints: toSafeInteger(row.order_vat_rate_basis_points),
            paypalOrderId: textOrNull(row.order_paypal_order_id),
            paypalCaptureId: textOrNull(row.order_paypal_capture_id),
            ledgerTransactionId: row.order_ledger_transaction_id == null ? null : toSafeInteger(row.order_ledger_transaction_id),
          },
    refund:
      row.refund_id == null
        ? null
        : {
            refundId: String(row.refund_id),
            currency: String(row.refund_currency),
            amountCents: toSafeInteger(row.refund_amount_cents),
            netCents: toSafeInteger(row.refund_net_cents),
            vatCents: toSafeInteger(row.refund_vat_cents),
          },
  };
}

/** Top-ups paid in [from, until) (refunded since or not), in pages, for the top-ups chart; quotes' orders are no top-ups. */
export async function* paidTopUpPages(db: Queryable, period: Period, pageSize = 2000): AsyncGenerator<PaidTopUp[]> {
  const paid = () => db('orders').whereIn('status', [...CREDITED_STATUSES]).whereNot('kind', QUOTE_ORDER_KIND);
  for await (const page of keysetPages(paid, { time: 'paid_at', id: 'id' }, period, pageSize, { currency: 'currency', price_cents: 'price_cents' })) {
    yield page.map((row) => ({ paidAt: toDate(row.keyset_time), currency: String(row.currency), priceCents: toSafeInteger(row.price_cents) }));
  }
}
