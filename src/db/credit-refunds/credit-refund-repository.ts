import type { Knex } from 'knex';
import type { CreditRefundStatus, PlannedPart, RefundableTopUp, RefundPartMethod, RefundPartStatus } from '../../domain/credit-refunds/credit-refunds.js';
import type { Cents } from '../../domain/pricing/pricing.js';
import { formatOrderNumber } from '../../domain/checkout/orders.js';
import { optionalDate, optionalInteger, type Queryable, toDate, toSafeInteger } from '../database.js';

export interface CreditRefundRequest {
  id: number;
  userId: number;
  status: CreditRefundStatus;
  closeAccount: boolean;
  estimatedCents: Cents;
  currency: string;
  refundedUnits: number | null;
  refundedCents: Cents | null;
  takeBackTransactionId: number | null;
  refusalReason: string | null;
  decidedBy: number | null;
  decidedAt: Date | null;
  accountClosedAt: Date | null;
  completedAt: Date | null;
  createdAt: Date;
}

export interface CreditRefundPart {
  id: number;
  requestId: number;
  orderId: number;
  method: RefundPartMethod;
  status: RefundPartStatus;
  amountCents: Cents;
  currency: string;
  units: number;
  bonusUnits: number;
  paypalRequestId: string;
  refundId: string | null;
  attempts: number;
  lastOutcome: 'refused' | 'unknown' | 'not_refunded' | null;
  lastError: string | null;
  doneAt: Date | null;
  createdAt: Date;
  /** The part's last change: its last PayPal attempt, or its making. */
  updatedAt: Date;
}

function toRequest(row: Record<string, unknown>): CreditRefundRequest {
  return {
    id: toSafeInteger(row.id),
    userId: toSafeInteger(row.user_id),
    status: row.status as CreditRefundStatus,
    closeAccount: Boolean(row.close_account),
    estimatedCents: toSafeInteger(row.estimated_cents),
    currency: String(row.currency),
    refundedUnits: optionalInteger(row.refunded_units),
    refundedCents: optionalInteger(row.refunded_cents),
    takeBackTransactionId: optionalInteger(row.take_back_transaction_id),
    refusalReason: row.refusal_reason == null ? null : String(row.refusal_reason),
    decidedBy: optionalInteger(row.decided_by),
    decidedAt: optionalDate(row.decided_at),
    accountClosedAt: optionalDate(row.account_closed_at),
    completedAt: optionalDate(row.completed_at),
    createdAt: toDate(row.created_at),
  };
}

function toPart(row: Record<string, unknown>): CreditRefundPart {
  return {
    id: toSafeInteger(row.id),
    requestId: toSafeInteger(row.request_id),
    orderId: toSafeInteger(row.order_id),
    method: row.method as RefundPartMethod,
    status: row.status as RefundPartStatus,
    amountCents: toSafeInteger(row.amount_cents),
    currency: String(row.currency),
    units: toSafeInteger(row.units),
    bonusUnits: toSafeInteger(row.bonus_units),
    paypalRequestId: String(row.paypal_request_id),
    refundId: row.refund_id == null ? null : String(row.refund_id),
    attempts: toSafeInteger(row.attempts),
    lastOutcome: (row.last_outcome ?? null) as CreditRefundPart['lastOutcome'],
    lastError: row.last_error == null ? null : String(row.last_error),
    doneAt: optionalDate(row.done_at),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

/** Inserts a request; the unique `open_user_id` refuses a second open one of the same person (a unique violation). */
export async function insertCreditRefundRequest(
  trx: Knex.Transaction,
  request: { userId: number; closeAccount: boolean; estimatedCents: Cents; currency: string },
  now: Date,
): Promise<number> {
  const [row] = (await trx('credit_refund_requests')
    .insert({
      user_id: request.userId,
      open_user_id: request.userId,
      status: 'requested',
      close_account: request.closeAccount,
      estimated_cents: request.estimatedCents,
      currency: request.currency,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    })
    .returning('id')) as Array<{ id: unknown }>;
  return toSafeInteger(row!.id);
}

export async function findCreditRefundRequest(db: Queryable, id: number): Promise<CreditRefundRequest | undefined> {
  const row = (await db('credit_refund_requests').where('id', id).first()) as Record<string, unknown> | undefined;
  return row && toRequest(row);
}

/** The request, locked until the end of the transaction (PostgreSQL; SQLite has one writer). */
export async function lockCreditRefundRequest(trx: Knex.Transaction, id: number): Promise<CreditRefundRequest | undefined> {
  const row = (await trx('credit_refund_requests').where('id', id).forUpdate().first()) as Record<string, unknown> | undefined;
  return row && toRequest(row);
}

/** The person's requests, newest first. */
export async function listCreditRefundRequestsOf(db: Queryable, userId: number, limit: number): Promise<CreditRefundRequest[]> {
  const rows = (await db('credit_refund_requests').where('user_id', userId).orderBy('id', 'desc').limit(limit)) as Array<Record<string, unknown>>;
  return rows.map(toRequest);
}

export type CreditRefundListRow = CreditRefundRequest & { username: string; displayName: string };

/** Requests for the admins, newest first; `open` only those waiting for a decision or a payment. */
export async function listCreditRefundRequests(db: Queryable, page: { open: boolean; limit: number; offset: number }): Promise<{ rows: CreditRefundListRow[]; total: number }> {
  const base = () => {
    const query = db('credit_refund_requests as r').join('users as u', 'u.id', 'r.user_id');
    return page.open ? query.whereNotNull('r.open_user_id') : query;
  };
  const [rows, count] = await Promise.all([
    base().orderBy('r.id', 'desc').limit(page.limit).offset(page.offset).select('r.*', 'u.username', 'u.display_name') as Promise<Array<Record<string, unknown>>>,
    base().count({ count: '*' }).first() as Promise<{ count: unknown } | undefined>,
  ]);
  return { rows: rows.map((row) => ({ ...toRequest(row), username: String(row.username), displayName: String(row.display_name) })), total: toSafeInteger(count?.count ?? 0) };
}

/**
 * The person's paid top-ups that may still be refunded, with every refund of each so far: those
 * recorded in `payment_refunds`, credit-refund parts not recorded there yet (approved, still
 * waiting for PayPal or a transfer), and admins' refunds PayPal has not answered clearly or not
 * completed yet (their money may already be on its way back), so that nothing is counted twice or
 * forgotten. `lock` locks the
 * orders (ascending id, like every path that locks orders) until the end of the transaction.
 */
export async function listRefundableTopUps(db: Queryable, userId: number, { lock = false }: { lock?: boolean } = {}): Promise<RefundableTopUp[]> {
  const query = db('orders').where('user_id', userId).whereNot('kind', 'quote').whereIn('status', ['paid', 'partially_refunded']).whereNotNull('paypal_capture_id').orderBy('id');
  const orders = (await (lock ? query.forUpdate() : query)) as Array<Record<string, unknown>>;
  if (orders.length === 0) return [];
  const ids = orders.map((row) => toSafeInteger(row.id));
  const [refunds, parts, adminRefunds] = await Promise.all([
    db('payment_refunds').whereIn('order_id', ids).select('order_id', 'amount_cents') as Promise<Array<Record<string, unknown>>>,
    db('credit_refund_parts as p')
      .whereIn('p.order_id', ids)
      .whereNotExists((recorded) => recorded.select(db.raw('1')).from('payment_refunds as pr').whereRaw('pr.invoice_id = p.paypal_request_id or pr.refund_id = p.refund_id'))
      .select('p.order_id', 'p.amount_cents') as Promise<Array<Record<string, unknown>>>,
    db('admin_refund_requests as a')
      .whereIn('a.order_id', ids)
      .whereIn('a.status', ['pending', 'refunded'])
      .whereNotExists((recorded) => recorded.select(db.raw('1')).from('payment_refunds as pr').whereRaw('pr.invoice_id = a.request_id or pr.refund_id = a.refund_id'))
      .select('a.order_id', 'a.amount_cents') as Promise<Array<Record<string, unknown>>>,
  ]);
  return orders.map((row) => {
    const id = toSafeInteger(row.id);
    const earlier = [...refunds, ...parts, ...adminRefunds].filter((refund) => toSafeInteger(refund.order_id) === id).map((refund) => toSafeInteger(refund.amount_cents));
    return {
      orderId: id,
      orderNumber: formatOrderNumber(id, toDate(row.created_at)),
      capturedAt: toDate(row.paid_at ?? row.updated_at),
      currency: String(row.currency),
      priceCents: toSafeInteger(row.price_cents),
      units: toSafeInteger(row.units),
      bonusUnits: toSafeInteger(row.bonus_units),
      earlierRefundsCents: earlier,
    };
  });
}

/**
 * The money of an order that credit refunds pay or paid outside the order's own `refunded_cents`
 * (which follows PayPal): parts approved and not recorded as refunds yet, and parts paid by
 * transfer. An admin's ordinary refund of the order may refund only what remains after these.
 */
export async function centsOwedByCreditRefunds(db: Queryable, orderId: number): Promise<Cents> {
  const [waiting, transferred] = await Promise.all([
    db('credit_refund_parts as p')
      .where('p.order_id', orderId)
      .whereIn('p.status', ['pending', 'awaiting_transfer'])
      .whereNotExists((recorded) => recorded.select(db.raw('1')).from('payment_refunds as pr').whereRaw('pr.invoice_id = p.paypal_request_id or pr.refund_id = p.refund_id'))
      .sum({ cents: 'p.amount_cents' })
      .first() as Promise<{ cents: unknown } | undefined>,
    db('credit_refund_parts').where({ order_id: orderId, status: 'transferred' }).sum({ cents: 'amount_cents' }).first() as Promise<{ cents: unknown } | undefined>,
  ]);
  return toSafeInteger(waiting?.cents ?? 0) + toSafeInteger(transferred?.cents ?? 0);
}

/** Approves a request still `requested`; false when it was decided meanwhile. */
export async function markCreditRefundApproved(
  trx: Knex.Transaction,
  id: number,
  decision: { decidedBy: number | null; units: number; cents: Cents; takeBackTransactionId: number | null; accountClosed: boolean },
  now: Date,
): Promise<boolean> {
  const changed = await trx('credit_refund_requests').where({ id, status: 'requested' }).update({
    status: 'approved',
    decided_by: decision.decidedBy,
    decided_at: now.toISOString(),
    refunded_units: decision.units,
    refunded_cents: decision.cents,
    take_back_transaction_id: decision.takeBackTransactionId,
    account_closed_at: decision.accountClosed ? now.toISOString() : null,
    updated_at: now.toISOString(),
  });
  return changed > 0;
}

/** Refuses a request still `requested` (it is then closed); false when it was decided meanwhile. */
export async function markCreditRefundRefused(trx: Knex.Transaction, id: number, decision: { decidedBy: number; reason: string }, now: Date): Promise<boolean> {
  const changed = await trx('credit_refund_requests')
    .where({ id, status: 'requested' })
    .update({ status: 'refused', open_user_id: null, refusal_reason: decision.reason, decided_by: decision.decidedBy, decided_at: now.toISOString(), updated_at: now.toISOString() });
  return changed > 0;
}

/** Completes an approved request once none of its parts waits any more; false when it is not (yet) complete. */
export async function completeCreditRefundIfPaid(trx: Knex.Transaction, id: number, now: Date): Promise<boolean> {
  const changed = await trx('credit_refund_requests')
    .where({ id, status: 'approved' })
    .whereNotExists((waiting) => waiting.select(trx.raw('1')).from('credit_refund_parts').where('request_id', id).whereIn('status', ['pending', 'awaiting_transfer']))
    .update({ status: 'completed', open_user_id: null, completed_at: now.toISOString(), updated_at: now.toISOString() });
  return changed > 0;
}

export async function insertCreditRefundParts(trx: Knex.Transaction, requestId: number, parts: ReadonlyArray<PlannedPart & { paypalRequestId: string }>, now: Date): Promise<void> {
  if (parts.length === 0) return;
  await trx('credit_refund_parts').insert(
    parts.map((part) => ({
      request_id: requestId,
      order_id: part.orderId,
      method: part.method,
      status: part.method === 'paypal' ? 'pending' : 'awaiting_transfer',
      amount_cents: part.amountCents,
      currency: part.currency,
      units: part.units,
      bonus_units: part.bonusUnits,
      paypal_request_id: part.paypalRequestId,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    })),
  );
}

export async function listCreditRefundParts(db: Queryable, requestId: number): Promise<CreditRefundPart[]> {
  const rows = (await db('credit_refund_parts').where('request_id', requestId).orderBy('id')) as Array<Record<string, unknown>>;
  return rows.map(toPart);
}

export async function lockCreditRefundPart(trx: Knex.Transaction, partId: number): Promise<CreditRefundPart | undefined> {
  const row = (await trx('credit_refund_parts').where('id', partId).forUpdate().first()) as Record<string, unknown> | undefined;
  return row && toPart(row);
}

/**
 * The units requests took back for an order's parts that no PayPal refund of it pays: parts paid or
 * to be paid by transfer, and parts still waiting for PayPal that no recorded refund was taken for. A
 * chargeback of the order has these no more to take: the request's posting took them.
 */
export async function creditRefundUnitsOutsidePayPal(db: Queryable, orderId: number): Promise<number> {
  const row = (await db('credit_refund_parts as p')
    .join('credit_refund_requests as r', 'r.id', 'p.request_id')
    .where('p.order_id', orderId)
    .where((outside) => {
      outside.whereIn('p.status', ['awaiting_transfer', 'transferred']).orWhere((waiting) =>
        waiting
          .where('p.status', 'pending')
          .whereNotExists((recorded) =>
            recorded
              .select(db.raw('1'))
              .from('payment_refunds as pr')
              .whereRaw('pr.invoice_id = p.paypal_request_id or pr.refund_id = p.refund_id or (pr.order_id = p.order_id and pr.ledger_transaction_id = r.take_back_transaction_id)'),
          ),
      );
    })
    .sum({ units: 'p.units' })
    .first()) as { units: unknown } | undefined;
  return toSafeInteger(row?.units ?? 0);
}

/**
 * The refund of a part already recorded (a webhook or a look-up saw it, by its invoice id or taken for
 * it after PayPal dropped that id), if any: PayPal remembers a PayPal-Request-Id for hours only, so a
 * part tried again later must not be sent again when its refund is known.
 */
export async function recordedRefundOfPart(db: Queryable, part: { orderId: number; paypalRequestId: string }, takeBackTransactionId: number | null): Promise<string | undefined> {
  const row = (await db('payment_refunds')
    .where('order_id', part.orderId)
    .where((match) => {
      match.where('invoice_id', part.paypalRequestId);
      if (takeBackTransactionId !== null) match.orWhere('ledger_transaction_id', takeBackTransactionId);
    })
    .orderBy('created_at')
    .first('refund_id')) as { refund_id: unknown } | undefined;
  return row && String(row.refund_id);
}

/** A PayPal part refunded: once (guarded on `pending`); false when another attempt recorded it first. */
export async function markPartRefunded(trx: Knex.Transaction, partId: number, refundId: string, now: Date): Promise<boolean> {
  const changed = await trx('credit_refund_parts')
    .where({ id: partId, status: 'pending' })
    .update({ status: 'refunded', refund_id: refundId, last_outcome: null, last_error: null, done_at: now.toISOString(), updated_at: now.toISOString(), attempts: trx.raw('attempts + 1') });
  return changed > 0;
}

/** A PayPal attempt that refunded nothing (or may have): the part stays pending, to be tried again with the same request id. */
export async function recordPartAttempt(db: Queryable, partId: number, attempt: { outcome: 'refused' | 'unknown' | 'not_refunded'; error: string | null }, now: Date): Promise<void> {
  await db('credit_refund_parts')
    .where({ id: partId, status: 'pending' })
    .update({ last_outcome: attempt.outcome, last_error: attempt.error?.slice(0, 500) ?? null, updated_at: now.toISOString(), attempts: db.raw('attempts + 1') });
}

/**
 * Parts of approved requests still waiting for a PayPal refund not refused for certain, made after
 * `madeAfter` and asked fewer than `maxAttempts` times — the ones the sweep may still ask for; the
 * domain's partRetryDue decides which are due. Those it gave up on are left out here, so that however
 * many wait for an admin, the newest are still found.
 */
export async function listPayPalPartsWaiting(db: Queryable, { madeAfter, maxAttempts }: { madeAfter: Date; maxAttempts: number }): Promise<CreditRefundPart[]> {
  const rows = (await db('credit_refund_parts as p')
    .join('credit_refund_requests as r', 'r.id', 'p.request_id')
    .where({ 'r.status': 'approved', 'p.status': 'pending', 'p.method': 'paypal' })
    .where((outcome) => void outcome.whereNull('p.last_outcome').orWhereNot('p.last_outcome', 'refused'))
    .where('p.created_at', '>', madeAfter.toISOString())
    .where('p.attempts', '<', maxAttempts)
    .orderBy('p.id')
    .limit(100)
    .select('p.*')) as Array<Record<string, unknown>>;
  return rows.map(toPart);
}

/** A part PayPal refused for certain becomes a transfer for an admin to make (guarded: only then). */
export async function switchPartToTransfer(trx: Knex.Transaction, partId: number, now: Date): Promise<boolean> {
  const changed = await trx('credit_refund_parts')
    .where({ id: partId, status: 'pending', method: 'paypal', last_outcome: 'refused' })
    .update({ method: 'transfer', status: 'awaiting_transfer', updated_at: now.toISOString() });
  return changed > 0;
}

export async function markPartTransferred(trx: Knex.Transaction, partId: number, doneBy: number, now: Date): Promise<boolean> {
  const changed = await trx('credit_refund_parts')
    .where({ id: partId, status: 'awaiting_transfer' })
    .update({ status: 'transferred', done_by: doneBy, done_at: now.toISOString(), updated_at: now.toISOString() });
  return changed > 0;
}

/**
 * The part a PayPal refund belongs to: checkout's take-back of that refund is the request's own
 * posting, already made. A refund recorded before keeps the decision made then (its row names the
 * request's take-back, or its own): deciding again once the part's state has moved on would take its
 * units back a second time, or never. Else found by the request id the refund carries as its invoice
 * id, or by its refund id once recorded. A refund whose invoice id PayPal dropped, or replaced by the
 * order's (its number), is taken for the part of its order and amount still waiting for PayPal with no
 * refund id, unless another refund was already taken for that part: two such refunds of one order (an
 * admin's ordinary refund of the same amount, say) cannot both be the part's.
 */
export async function creditRefundPartOf(
  db: Queryable,
  refund: { refundId: string; invoiceId: string | null; orderId: number; orderNumber: string; amountCents: Cents },
): Promise<{ units: number; takeBackTransactionId: number | null } | undefined> {
  const parts = () => db('credit_refund_parts as p').join('credit_refund_requests as r', 'r.id', 'p.request_id').select('p.units', 'r.take_back_transaction_id');
  const recorded = (await db('payment_refunds').where('refund_id', refund.refundId).first('ledger_transaction_id')) as { ledger_transaction_id: unknown } | undefined;
  if (recorded) {
    if (recorded.ledger_transaction_id == null) return undefined;
    const claimed = (await parts().where({ 'p.order_id': refund.orderId, 'r.take_back_transaction_id': toSafeInteger(recorded.ledger_transaction_id) }).first()) as Record<string, unknown> | undefined;
    return claimed && { units: toSafeInteger(claimed.units), takeBackTransactionId: optionalInteger(claimed.take_back_transaction_id) };
  }
  const found = (await parts()
    .where('p.refund_id', refund.refundId)
    .modify((query) => (refund.invoiceId ? query.orWhere('p.paypal_request_id', refund.invoiceId) : query))
    .first()) as Record<string, unknown> | undefined;
  const row =
    found ??
    (refund.invoiceId === null || refund.invoiceId === refund.orderNumber
      ? ((await parts()
          .where({ 'p.order_id': refund.orderId, 'p.amount_cents': refund.amountCents, 'p.method': 'paypal', 'p.status': 'pending' })
          .whereNull('p.refund_id')
          .whereNotExists((taken) => taken.select(db.raw('1')).from('payment_refunds as pr').whereRaw('pr.order_id = p.order_id and pr.ledger_transaction_id = r.take_back_transaction_id'))
          .orderBy('p.id')
          .first()) as Record<string, unknown> | undefined)
      : undefined);
  return row && { units: toSafeInteger(row.units), takeBackTransactionId: optionalInteger(row.take_back_transaction_id) };
}

const AUTO_APPROVE_KEY = 'credit_refund_auto_approve_cents';

/** Requests up to this amount are approved without an admin; 0 (the default): every request waits for one. */
export async function loadAutoApproveCents(db: Queryable): Promise<Cents> {
  const row = (await db('portal_settings').where('key', AUTO_APPROVE_KEY).first('value')) as { value: unknown } | undefined;
  const value = Number(row?.value);
  return Number.isSafeInteger(value) && value > 0 ? value : 0;
}

export async function saveAutoApproveCents(db: Queryable, cents: Cents): Promise<void> {
  await db('portal_settings').insert({ key: AUTO_APPROVE_KEY, value: String(cents) }).onConflict('key').merge();
}
