import type { Knex } from 'knex';
import { assertMove, type OrderStatus } from '../../domain/checkout/order-status.js';
import { formatOrderNumber, type Order, type OrderEvent, type OrderKind } from '../../domain/checkout/orders.js';
import { paymentLedgerKeys } from '../../domain/checkout/payment-ledger-keys.js';
import type { Currency, Quote } from '../../domain/pricing/pricing.js';
import { isLocale, type Locale } from '../../domain/shared/locale.js';
import { toDate, toSafeInteger, type Queryable } from '../database.js';

export function toOrder(row: Record<string, unknown>): Order {
  const id = toSafeInteger(row.id);
  const createdAt = toDate(row.created_at);
  const optionalText = (value: unknown) => (value == null ? null : String(value));
  return {
    id,
    number: formatOrderNumber(id, createdAt),
    userId: row.user_id == null ? null : toSafeInteger(row.user_id),
    quoteId: row.quote_id == null ? null : toSafeInteger(row.quote_id),
    status: row.status as OrderStatus,
    kind: row.kind as OrderKind,
    packId: optionalText(row.pack_id),
    currency: row.currency as Currency,
    priceCents: toSafeInteger(row.price_cents),
    netCents: toSafeInteger(row.net_cents),
    vatCents: toSafeInteger(row.vat_cents),
    vatRateBasisPoints: toSafeInteger(row.vat_rate_basis_points),
    units: toSafeInteger(row.units),
    bonusUnits: toSafeInteger(row.bonus_units),
    termsVersionId: toSafeInteger(row.terms_version_id),
    paypalOrderId: optionalText(row.paypal_order_id),
    paypalCaptureId: optionalText(row.paypal_capture_id),
    approvalUrl: optionalText(row.approval_url),
    ledgerTransactionId: row.ledger_transaction_id == null ? null : toSafeInteger(row.ledger_transaction_id),
    refundedCents: toSafeInteger(row.refunded_cents),
    createdAt,
    updatedAt: toDate(row.updated_at),
    paidAt: row.paid_at == null ? null : toDate(row.paid_at),
    locale: isLocale(row.locale) ? row.locale : null,
    captureDeclinedAt: row.capture_declined_at == null ? null : toDate(row.capture_declined_at),
    nextCheckAt: row.next_check_at == null ? null : toDate(row.next_check_at),
  };
}

export async function insertOrder(trx: Knex.Transaction, order: { userId: number; quote: Quote; termsVersionId: number; locale: Locale }, now: Date): Promise<Order> {
  const { quote } = order;
  return insertOrderRow(
    trx,
    {
      user_id: order.userId,
      kind: quote.kind,
      pack_id: quote.packId,
      currency: quote.currency,
      price_cents: quote.priceCents,
      net_cents: quote.netCents,
      vat_cents: quote.vatCents,
      vat_rate_basis_points: quote.vatRateBasisPoints,
      units: quote.units,
      bonus_units: quote.bonusUnits,
      terms_version_id: order.termsVersionId,
      locale: order.locale,
    },
    now,
  );
}

/** What an order nobody's (a quote's, a batch of codes') is placed with: its price and terms, from the server. */
interface OrderPrice {
  currency: Currency;
  priceCents: number;
  netCents: number;
  vatCents: number;
  vatRateBasisPoints: number;
  termsVersionId: number;
  locale: Locale;
}

/**
 * A new order paying a quote, at the quote's total (the server's, from its lines). The partial unique
 * index orders_open_quote_unique refuses a second open order for the quote: the caller holds the
 * quote's lock and reuses the open one instead (findOpenQuoteOrder).
 */
export function insertQuoteOrder(trx: Knex.Transaction, order: OrderPrice & { quoteId: number }, now: Date): Promise<Order> {
  return insertNobodysOrder(trx, { kind: 'quote', quote_id: order.quoteId, units: 0 }, order, now);
}

/** A new order buying a batch of codes (its request is the purchase's row): nobody's, its units the codes'. */
export function insertVoucherOrder(trx: Knex.Transaction, order: OrderPrice & { units: number }, now: Date): Promise<Order> {
  return insertNobodysOrder(trx, { kind: 'voucher_batch', quote_id: null, units: order.units }, order, now);
}

function insertNobodysOrder(trx: Knex.Transaction, what: { kind: OrderKind; quote_id: number | null; units: number }, order: OrderPrice, now: Date): Promise<Order> {
  return insertOrderRow(
    trx,
    {
      ...what,
      user_id: null,
      pack_id: null,
      currency: order.currency,
      price_cents: order.priceCents,
      net_cents: order.netCents,
      vat_cents: order.vatCents,
      vat_rate_basis_points: order.vatRateBasisPoints,
      bonus_units: 0,
      terms_version_id: order.termsVersionId,
      locale: order.locale,
    },
    now,
  );
}

/** Inserts a new order (status `created`, nothing refunded) with its `created` event. */
async function insertOrderRow(trx: Knex.Transaction, columns: Record<string, unknown>, now: Date): Promise<Order> {
  const [row] = await trx('orders')
    .insert({ ...columns, status: 'created', refunded_cents: 0, created_at: now.toISOString(), updated_at: now.toISOString() })
    .returning('*');
  const order = toOrder(row as Record<string, unknown>);
  await addOrderEvent(trx, order.id, { type: 'created', fromStatus: null, toStatus: 'created', detail: null }, now);
  return order;
}

/** The quote's order that may still be paid (at most one: orders_open_quote_unique), if any. */
export async function findOpenQuoteOrder(db: Queryable, quoteId: number, openStatuses: readonly OrderStatus[]): Promise<Order | undefined> {
  const row = await db('orders').where('quote_id', quoteId).whereIn('status', [...openStatuses]).first();
  return row ? toOrder(row) : undefined;
}

/** Every order made to pay the quote, oldest first. */
export async function listQuoteOrders(db: Queryable, quoteId: number): Promise<Order[]> {
  const rows: Array<Record<string, unknown>> = await db('orders').where('quote_id', quoteId).orderBy('id');
  return rows.map(toOrder);
}

/** Finds an order by id or PayPal order id; with `userId`, only that person's (others' orders do not exist for them). */
export async function findOrder(db: Queryable, by: { id?: number; paypalOrderId?: string; userId?: number }): Promise<Order | undefined> {
  const query = db('orders');
  if (by.id !== undefined) void query.where('id', by.id);
  if (by.paypalOrderId !== undefined) void query.where('paypal_order_id', by.paypalOrderId);
  if (by.userId !== undefined) void query.where('user_id', by.userId);
  if (by.id === undefined && by.paypalOrderId === undefined) return undefined;
  const row = await query.first();
  return row ? toOrder(row) : undefined;
}

/**
 * Locks the order's row for the rest of the transaction (PostgreSQL; SQLite has one writer anyway).
 * Every transaction that changes an order takes this lock first, so transactions about one order
 * queue on it instead of locking the ledger key, the webhook row and the order in different orders.
 */
export async function lockOrder(trx: Knex.Transaction, orderId: number): Promise<Order> {
  const row = await trx('orders').where('id', orderId).forUpdate().first();
  if (!row) throw new Error(`order ${orderId} does not exist`);
  return toOrder(row);
}

/**
 * Moves an order to `to` only if it is still in one of `from` (a guarded update, so two paths racing
 * cannot both move it), with the other columns given, and logs the event. Answers the order as moved,
 * or undefined when it was in none of `from`. A caller holding the order's lock (lockOrder) knows its
 * status and gives that one alone: the status moved from is then known without reading it again.
 */
export async function moveOrder(
  trx: Knex.Transaction,
  orderId: number,
  move: { from: readonly OrderStatus[]; to: OrderStatus; columns?: Record<string, unknown>; detail?: string | null },
  now: Date,
): Promise<Order | undefined> {
  // The domain's state machine is the one rule: a caller asking for a move it forbids is a bug.
  for (const from of move.from) assertMove(from, move.to);
  const fromStatus = move.from.length === 1 ? move.from[0] : ((await trx('orders').where('id', orderId).first('status'))?.status as OrderStatus | undefined);
  const [row] = await trx('orders')
    .where('id', orderId)
    .whereIn('status', [...move.from])
    .update({ ...move.columns, status: move.to, updated_at: now.toISOString() })
    .returning('*');
  if (!row) return undefined;
  await addOrderEvent(trx, orderId, { type: 'status', fromStatus: fromStatus ?? null, toStatus: move.to, detail: move.detail ?? null }, now);
  return toOrder(row as Record<string, unknown>);
}

export async function addOrderEvent(db: Queryable, orderId: number, event: Omit<OrderEvent, 'createdAt'>, now: Date): Promise<void> {
  await db('order_events').insert({
    order_id: orderId,
    type: event.type,
    from_status: event.fromStatus,
    to_status: event.toStatus,
    detail: event.detail?.slice(0, 1000) ?? null,
    created_at: now.toISOString(),
  });
}

/**
 * One page (by id) of the orders the reconciler looks at: those in `statuses`, and those in
 * `recentlyClosed` that reached PayPal and changed after `closedSince`; none whose next check is after `now`.
 */
export async function listOrdersToReconcile(
  db: Queryable,
  query: { statuses: readonly OrderStatus[]; recentlyClosed: readonly OrderStatus[]; closedSince: Date; now: Date; afterId: number; limit: number },
): Promise<Order[]> {
  const rows: Array<Record<string, unknown>> = await db('orders')
    .where('id', '>', query.afterId)
    .andWhere((due) => due.whereNull('next_check_at').orWhere('next_check_at', '<=', query.now.toISOString()))
    .andWhere((where) =>
      where.whereIn('status', [...query.statuses]).orWhere((closed) =>
        closed.whereIn('status', [...query.recentlyClosed]).whereNotNull('paypal_order_id').where('updated_at', '>=', query.closedSince.toISOString()),
      ),
    )
    .orderBy('id')
    .limit(query.limit);
  return rows.map(toOrder);
}

/**
 * PayPal refused a capture: `since` is when this run of refusals began, and the reconciler leaves the
 * order alone until `nextCheckAt`. Logged as `event` (`instrument_declined` for the buyer, `attention`
 * for the admins), PayPal's issue in the detail.
 */
export async function recordCaptureRefusal(
  trx: Knex.Transaction,
  orderId: number,
  refusal: { since: Date; nextCheckAt: Date; event: 'instrument_declined' | 'attention'; detail: string },
  now: Date,
): Promise<void> {
  await trx('orders').where('id', orderId).update({ capture_declined_at: refusal.since.toISOString(), next_check_at: refusal.nextCheckAt.toISOString() });
  await addOrderEvent(trx, orderId, { type: refusal.event, fromStatus: null, toStatus: null, detail: refusal.detail }, now);
}

/**
 * The id of the order's latest refusal event (instrument_declined or attention), null if none: a new
 * one after each refusal, whatever the clock says, so it tells capture attempts apart.
 */
export async function latestRefusalEventId(db: Queryable, orderId: number): Promise<number | null> {
  const row = await db('order_events').where('order_id', orderId).whereIn('type', ['instrument_declined', 'attention']).max('id as id').first();
  return row?.id == null ? null : Number(row.id);
}

/** A capture PayPal did not refuse ends the refusal: the reconciler looks at the order on its next sweep. */
export async function clearCaptureRefusal(db: Queryable, orderId: number): Promise<void> {
  await db('orders').where('id', orderId).update({ capture_declined_at: null, next_check_at: null });
}

/** The reconciler looks at a refused order again at `nextCheckAt`, not before (unless it was captured meanwhile). */
export async function deferOrderCheck(db: Queryable, orderId: number, nextCheckAt: Date): Promise<void> {
  await db('orders').where('id', orderId).whereNotNull('capture_declined_at').update({ next_check_at: nextCheckAt.toISOString() });
}

export async function recordWebhookEvent(db: Queryable, event: { id: string; type: string; orderId: number | null }, now: Date): Promise<void> {
  await db('webhook_events')
    .insert({ event_id: event.id, event_type: event.type, order_id: event.orderId, received_at: now.toISOString() })
    .onConflict('event_id')
    .ignore();
}

export interface RefundRecord {
  refundId: string;
  orderId: number;
  currency: string;
  amountCents: number;
  netCents: number;
  vatCents: number;
  ledgerTransactionId: number | null;
  /** PayPal's invoice_id of the refund: the portal's request id when the portal asked for it. */
  invoiceId: string | null;
}

/** Records a completed refund once (PayPal's refund id is the key); a later sighting changes nothing. */
export async function recordRefund(trx: Knex.Transaction, refund: RefundRecord, now: Date): Promise<void> {
  await trx('payment_refunds')
    .insert({
      refund_id: refund.refundId,
      order_id: refund.orderId,
      currency: refund.currency,
      amount_cents: refund.amountCents,
      net_cents: refund.netCents,
      vat_cents: refund.vatCents,
      ledger_transaction_id: refund.ledgerTransactionId,
      invoice_id: refund.invoiceId,
      created_at: now.toISOString(),
    })
    .onConflict('refund_id')
    .ignore();
}

export async function listRefunds(db: Queryable, orderId: number): Promise<Array<RefundRecord & { createdAt: Date }>> {
  const rows: Array<Record<string, unknown>> = await db('payment_refunds').where('order_id', orderId).orderBy('created_at');
  return rows.map((row) => ({
    refundId: String(row.refund_id),
    orderId: toSafeInteger(row.order_id),
    currency: String(row.currency),
    amountCents: toSafeInteger(row.amount_cents),
    netCents: toSafeInteger(row.net_cents),
    vatCents: toSafeInteger(row.vat_cents),
    ledgerTransactionId: row.ledger_transaction_id == null ? null : toSafeInteger(row.ledger_transaction_id),
    invoiceId: row.invoice_id == null ? null : String(row.invoice_id),
    createdAt: toDate(row.created_at),
  }));
}

/**
 * The ledger transactions of an order's payment, oldest first: its credit and every take-back (each
 * refund's, the rounding rest, a reversal), found by the keys they were posted under and the refunds' links.
 */
export async function listOrderTransactionIds(db: Queryable, order: Pick<Order, 'id' | 'paypalCaptureId'>): Promise<number[]> {
  const captureId = order.paypalCaptureId;
  if (captureId === null) return [];
  const rows: Array<{ id: unknown }> = await db('ledger_transactions')
    .whereIn('idempotency_key', [paymentLedgerKeys.credit(captureId), paymentLedgerKeys.refundRest(captureId), paymentLedgerKeys.reversal(captureId)])
    .orWhereIn('id', db('payment_refunds').where('order_id', order.id).whereNotNull('ledger_transaction_id').select('ledger_transaction_id'))
    .orderBy('id')
    .select('id');
  return rows.map((row) => toSafeInteger(row.id));
}
