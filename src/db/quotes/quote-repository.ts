import type { Knex } from 'knex';
import type { Currency } from '../../domain/pricing/pricing.js';
import type { Locale } from '../../domain/shared/locale.js';
import type { DeliveryMethod, QuoteCustomer } from '../../domain/quotes/quote-draft.js';
import { canonicalQuoteNumber, formatQuoteNumber } from '../../domain/quotes/quote-numbers.js';
import type { QuoteStatus } from '../../domain/quotes/quote-status.js';
import type { QuoteLine } from '../../domain/quotes/quote-totals.js';
import { foldForSearch, quoteSearchText, type Quote, type QuoteEvent, type QuoteSearch } from '../../domain/quotes/quotes.js';
import type { DayKey } from '../../domain/time/calendar.js';
import { optionalDate, type Queryable, toDate, toSafeInteger } from '../database.js';

/** A quote's row with its person's username (null when it is for nobody of the portal). */
function toQuote(row: Record<string, unknown>, lines: QuoteLine[]): Quote {
  return {
    id: toSafeInteger(row.id),
    number: String(row.number),
    status: row.status as QuoteStatus,
    customer: {
      name: String(row.customer_name),
      email: String(row.customer_email),
      postcode: String(row.delivery_postcode),
      deliveryMethod: row.delivery_method as DeliveryMethod,
      deliveryAddress: String(row.delivery_address),
      validUntil: String(row.valid_until),
      username: row.username == null ? null : String(row.username),
      locale: row.locale as Locale,
    },
    staffNote: String(row.staff_note),
    version: toSafeInteger(row.version),
    userId: row.user_id == null ? null : toSafeInteger(row.user_id),
    lines,
    totalCents: toSafeInteger(row.total_cents),
    currency: row.currency as Currency,
    createdBy: String(row.created_by),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
    sentAt: optionalDate(row.sent_at),
    cancelledAt: optionalDate(row.cancelled_at),
    unitsPrice: row.units_price == null ? null : toSafeInteger(row.units_price),
    paidOrderId: row.paid_order_id == null ? null : toSafeInteger(row.paid_order_id),
    paidLedgerTransactionId: row.paid_ledger_transaction_id == null ? null : toSafeInteger(row.paid_ledger_transaction_id),
    paidAt: optionalDate(row.paid_at),
    refundedCents: toSafeInteger(row.refunded_cents ?? 0),
  };
}

/** What staff type, as columns; `number` goes into the search text. */
interface QuoteContents {
  customer: QuoteCustomer;
  staffNote: string;
  userId: number | null;
  totalCents: number;
  /** Hundredths of a unit the person may pay instead; null: not offered. */
  unitsPrice: number | null;
}

const contentColumns = ({ customer, staffNote, userId, totalCents, unitsPrice }: QuoteContents, number: string) => ({
  customer_name: customer.name,
  customer_email: customer.email,
  delivery_postcode: customer.postcode,
  delivery_method: customer.deliveryMethod,
  delivery_address: customer.deliveryAddress,
  valid_until: customer.validUntil,
  user_id: userId,
  staff_note: staffNote,
  locale: customer.locale,
  total_cents: totalCents,
  units_price: unitsPrice,
  search_text: quoteSearchText(number, customer),
});

/** Refuses an UPDATE that found no row in the status (and version) the caller locked and checked: a second line of defence. */
function expectOneRow(count: number, what: string): void {
  if (count !== 1) throw new Error(`${what}: the quote is no longer as locked`);
}

const withUsername = (db: Queryable) => db('quotes as q').leftJoin('users as u', 'u.id', 'q.user_id').select('q.*', 'u.username');

/**
 * A new draft in the caller's transaction, numbered once and for good from its id and `createdOn`
 * (the portal's day); its lines are written with replaceQuoteLines. Answers its id and number.
 */
export async function insertQuote(
  trx: Knex.Transaction,
  quote: QuoteContents & { currency: Currency; createdBy: string },
  now: Date,
  createdOn: DayKey,
): Promise<{ id: number; number: string }> {
  const [row] = await trx('quotes')
    .insert({
      status: 'draft',
      ...contentColumns(quote, ''),
      currency: quote.currency,
      created_by: quote.createdBy,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    })
    .returning('id');
  const id = toSafeInteger((row as { id: unknown }).id);
  const number = formatQuoteNumber(id, createdOn);
  await trx('quotes').where('id', id).update({ number, search_text: quoteSearchText(number, quote.customer) });
  return { id, number };
}

/** A locked draft's new contents, if it is still at `version` (the caller checked it): the version moves on. */
export async function updateQuoteContents(trx: Knex.Transaction, quote: Pick<Quote, 'id' | 'number' | 'version'>, contents: QuoteContents, now: Date): Promise<void> {
  const count = await trx('quotes')
    .where({ id: quote.id, status: 'draft', version: quote.version })
    .update({ ...contentColumns(contents, quote.number), version: quote.version + 1, updated_at: now.toISOString() });
  expectOneRow(count, `update of ${quote.number}`);
}

/** Moves the locked quote from `from` to `to` (the caller checked the move), stamping when it was sent or cancelled. */
export async function moveQuote(trx: Knex.Transaction, id: number, from: QuoteStatus, to: QuoteStatus, now: Date): Promise<void> {
  const stamp = to === 'sent' ? { sent_at: now.toISOString() } : to === 'cancelled' ? { cancelled_at: now.toISOString() } : {};
  const count = await trx('quotes')
    .where({ id, status: from })
    .update({ status: to, version: trx.raw('version + 1'), updated_at: now.toISOString(), ...stamp });
  expectOneRow(count, `move of quote ${id} from ${from} to ${to}`);
}

/** The quote is paid, by its order (PayPal) or a ledger transaction (units): a guarded move, like moveQuote. */
export async function recordQuotePaid(
  trx: Knex.Transaction,
  id: number,
  from: QuoteStatus,
  by: { orderId: number } | { ledgerTransactionId: number },
  now: Date,
): Promise<void> {
  const paidBy = 'orderId' in by ? { paid_order_id: by.orderId } : { paid_ledger_transaction_id: by.ledgerTransactionId };
  const count = await trx('quotes')
    .where({ id, status: from })
    .update({ status: 'paid', version: trx.raw('version + 1'), updated_at: now.toISOString(), paid_at: now.toISOString(), ...paidBy });
  expectOneRow(count, `payment of quote ${id}`);
}

/** What refunds gave back of a paid quote so far, and the status that follows. */
export async function recordQuoteRefunded(trx: Knex.Transaction, id: number, from: QuoteStatus, to: QuoteStatus, refundedCents: number, now: Date): Promise<void> {
  const count = await trx('quotes')
    .where({ id, status: from })
    .update({ status: to, refunded_cents: refundedCents, version: trx.raw('version + 1'), updated_at: now.toISOString() });
  expectOneRow(count, `refund of quote ${id}`);
}

/** A draft's lines become these, in this order; the lines of a quote that is no longer a draft are never touched. */
export async function replaceQuoteLines(trx: Knex.Transaction, quoteId: number, lines: readonly QuoteLine[]): Promise<void> {
  const draft = (await trx('quotes').where({ id: quoteId, status: 'draft' }).count({ total: '*' }).first()) as { total: unknown } | undefined;
  expectOneRow(toSafeInteger(draft?.total ?? 0), `lines of quote ${quoteId}`);
  await trx('quote_lines').where('quote_id', quoteId).del();
  if (lines.length === 0) return;
  await trx('quote_lines').insert(
    lines.map((line, position) => ({
      quote_id: quoteId,
      position,
      description: line.description,
      quantity: line.quantity,
      unit_price_cents: line.unitPriceCents,
      vat_rate_basis_points: line.vatRateBasisPoints,
    })),
  );
}

/** A `quote_lines` row as the line it stores. */
export const toQuoteLine = (row: Record<string, unknown>): QuoteLine => ({
  description: String(row.description),
  quantity: toSafeInteger(row.quantity),
  unitPriceCents: toSafeInteger(row.unit_price_cents),
  vatRateBasisPoints: toSafeInteger(row.vat_rate_basis_points),
});

async function quoteLines(db: Queryable, quoteId: number): Promise<QuoteLine[]> {
  const rows: Array<Record<string, unknown>> = await db('quote_lines').where('quote_id', quoteId).orderBy('position');
  return rows.map(toQuoteLine);
}

export async function findQuote(db: Queryable, id: number): Promise<Quote | undefined> {
  const row = (await withUsername(db).where('q.id', id).first()) as Record<string, unknown> | undefined;
  return row ? toQuote(row, await quoteLines(db, id)) : undefined;
}

/** The quote numbered exactly `number`, as stored. */
export async function findQuoteIdByNumber(db: Queryable, number: string): Promise<number | undefined> {
  const row = (await db('quotes').where('number', number).first('id')) as { id: unknown } | undefined;
  return row ? toSafeInteger(row.id) : undefined;
}

/** The quote, its row locked until the end of the transaction (PostgreSQL; SQLite has one writer anyway). */
export async function lockQuote(trx: Knex.Transaction, id: number): Promise<Quote | undefined> {
  const locked = await trx('quotes').where('id', id).forUpdate().first('id');
  return locked ? findQuote(trx, id) : undefined;
}

export async function insertQuoteEvent(db: Queryable, quoteId: number, event: Omit<QuoteEvent, 'createdAt'>, now: Date): Promise<void> {
  await db('quote_events').insert({
    quote_id: quoteId,
    type: event.type,
    from_status: event.fromStatus,
    to_status: event.toStatus,
    detail: event.detail?.slice(0, 1000) ?? null,
    actor_username: event.actorUsername,
    created_at: now.toISOString(),
  });
}

/** How many events of `type` a quote's timeline has since `since`. */
export async function countQuoteEventsSince(db: Queryable, quoteId: number, type: string, since: Date): Promise<number> {
  const row = (await db('quote_events').where({ quote_id: quoteId, type }).where('created_at', '>=', since.toISOString()).count({ total: '*' }).first()) as { total: unknown } | undefined;
  return toSafeInteger(row?.total ?? 0);
}

/** Sent quotes whose last day is before `today`, oldest first: the expiry sweep's work. */
export async function listQuotesDueToExpire(db: Queryable, today: string): Promise<number[]> {
  const rows: Array<{ id: unknown }> = await db('quotes').where('status', 'sent').where('valid_until', '<', today).orderBy('id').select('id');
  return rows.map((row) => toSafeInteger(row.id));
}

/** The quote's timeline, oldest first. */
export async function listQuoteEvents(db: Queryable, quoteId: number): Promise<QuoteEvent[]> {
  const rows: Array<Record<string, unknown>> = await db('quote_events').where('quote_id', quoteId).orderBy('id');
  return rows.map((row) => ({
    type: String(row.type),
    fromStatus: (row.from_status as QuoteStatus | null) ?? null,
    toStatus: (row.to_status as QuoteStatus | null) ?? null,
    detail: row.detail == null ? null : String(row.detail),
    actorUsername: String(row.actor_username),
    createdAt: toDate(row.created_at),
  }));
}

/** One line of the desk's list. */
export interface QuoteListRow {
  number: string;
  status: QuoteStatus;
  customerName: string;
  customerEmail: string;
  validUntil: string;
  totalCents: number;
  currency: Currency;
  createdAt: Date;
}

const containing = (text: string) => `%${foldForSearch(text).replace(/[\\%_]/g, (character) => `\\${character}`)}%`;

/** Both sides folded in JavaScript (quoteSearchText): no SQL lower(), which SQLite applies to ASCII only. */
function searched(db: Queryable, search: QuoteSearch): Knex.QueryBuilder {
  const query = db('quotes');
  if (search.status) void query.where('status', search.status);
  if (search.text) {
    const pattern = containing(search.text);
    const number = canonicalQuoteNumber(search.text);
    void query.where((where) => {
      void where.whereRaw("search_text like ? escape '\\'", [pattern]);
      if (number !== null) void where.orWhere('number', number);
    });
  }
  return query;
}

export async function countQuotes(db: Queryable, search: QuoteSearch): Promise<number> {
  const row = (await searched(db, search).count({ total: '*' }).first()) as { total: unknown } | undefined;
  return toSafeInteger(row?.total ?? 0);
}

/** One page of the quotes matching `search`, newest first. */
export async function searchQuotes(db: Queryable, search: QuoteSearch, page: { limit: number; offset: number }): Promise<QuoteListRow[]> {
  const rows: Array<Record<string, unknown>> = await searched(db, search)
    .orderBy('id', 'desc')
    .limit(page.limit)
    .offset(page.offset)
    .select('number', 'status', 'customer_name', 'customer_email', 'valid_until', 'total_cents', 'currency', 'created_at');
  return rows.map((row) => ({
    number: String(row.number),
    status: row.status as QuoteStatus,
    customerName: String(row.customer_name),
    customerEmail: String(row.customer_email),
    validUntil: String(row.valid_until),
    totalCents: toSafeInteger(row.total_cents),
    currency: row.currency as Currency,
    createdAt: toDate(row.created_at),
  }));
}
