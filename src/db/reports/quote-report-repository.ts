import type { QuoteExportDate, ExportedQuote } from '../../domain/reports/quote-export.js';
import type { QuoteStatus } from '../../domain/quotes/quote-status.js';
import type { QuoteLine } from '../../domain/quotes/quote-totals.js';
import { optionalDate, type Queryable, toDate, toSafeInteger } from '../database.js';
import { keysetPages, type Period } from './report-repository.js';
import { toQuoteLine } from '../quotes/quote-repository.js';

/** The column of `quotes` an export's range is about. */
const timeColumn = (by: QuoteExportDate) => (by === 'paid' ? 'q.paid_at' : 'q.created_at');
const textOrNull = (value: unknown) => (value == null ? null : String(value));

/** The VAT rates of the lines of the quotes made (or paid) in the period, highest first: the export's columns. */
export async function quoteVatRatesIn(db: Queryable, period: Period, by: QuoteExportDate): Promise<number[]> {
  const rows: Array<{ rate: unknown }> = await db('quote_lines as l')
    .join('quotes as q', 'q.id', 'l.quote_id')
    .where(timeColumn(by), '>=', period.from.toISOString())
    .where(timeColumn(by), '<', period.until.toISOString())
    .distinct({ rate: 'l.vat_rate_basis_points' })
    .orderBy('rate', 'desc');
  return rows.map((row) => toSafeInteger(row.rate));
}

/**
 * Quotes made (or paid) in [from, until), oldest first, in pages: each page with its lines and, for
 * those paid, the PayPal order or the units that paid them, read in a query or two per page.
 */
export async function* exportedQuotePages(db: Queryable, period: Period, by: QuoteExportDate, pageSize = 500): AsyncGenerator<ExportedQuote[]> {
  const quotes = () => db('quotes as q').leftJoin('orders as o', 'o.id', 'q.paid_order_id');
  const select = {
    number: 'q.number',
    status: 'q.status',
    customer_name: 'q.customer_name',
    customer_email: 'q.customer_email',
    delivery_postcode: 'q.delivery_postcode',
    created_at: 'q.created_at',
    sent_at: 'q.sent_at',
    paid_at: 'q.paid_at',
    currency: 'q.currency',
    refunded_cents: 'q.refunded_cents',
    paid_ledger_transaction_id: 'q.paid_ledger_transaction_id',
    order_id: 'o.id',
    order_created_at: 'o.created_at',
    paypal_order_id: 'o.paypal_order_id',
    paypal_capture_id: 'o.paypal_capture_id',
  };
  for await (const page of keysetPages(quotes, { time: timeColumn(by), id: 'q.id' }, period, pageSize, select)) {
    const ids = page.map((row) => toSafeInteger(row.keyset_id));
    const [lines, units] = await Promise.all([linesOf(db, ids), unitsPaidBy(db, page.flatMap((row) => (row.paid_ledger_transaction_id == null ? [] : [toSafeInteger(row.paid_ledger_transaction_id)])))]);
    yield page.map((row, index) => {
      const transactionId = row.paid_ledger_transaction_id == null ? null : toSafeInteger(row.paid_ledger_transaction_id);
      return {
        number: String(row.number),
        status: row.status as QuoteStatus,
        customerName: String(row.customer_name),
        customerEmail: String(row.customer_email),
        postcode: String(row.delivery_postcode),
        createdAt: toDate(row.created_at),
        sentAt: optionalDate(row.sent_at),
        paidAt: optionalDate(row.paid_at),
        currency: String(row.currency),
        lines: lines.get(ids[index]!) ?? [],
        refundedCents: toSafeInteger(row.refunded_cents ?? 0),
        paidOrder:
          row.order_id == null
            ? null
            : { id: toSafeInteger(row.order_id), createdAt: toDate(row.order_created_at), paypalOrderId: textOrNull(row.paypal_order_id), paypalCaptureId: textOrNull(row.paypal_capture_id) },
        paidInUnits: transactionId === null ? null : { transactionId, units: units.get(transactionId) ?? 0 },
      };
    });
  }
}

/** The lines of these quotes, by quote, in order. */
async function linesOf(db: Queryable, quoteIds: readonly number[]): Promise<Map<number, QuoteLine[]>> {
  const rows: Array<Record<string, unknown>> = await db('quote_lines').whereIn('quote_id', [...quoteIds]).orderBy([{ column: 'quote_id' }, { column: 'position' }]);
  const byQuote = new Map<number, QuoteLine[]>();
  for (const row of rows) {
    const quoteId = toSafeInteger(row.quote_id);
    const lines = byQuote.get(quoteId) ?? [];
    lines.push(toQuoteLine(row));
    byQuote.set(quoteId, lines);
  }
  return byQuote;
}

/**
 * The units each of these ledger transactions moved: what its positive entries add up to (a payment
 * in units takes them from the person and gives them to the quotes' system account, in double entry).
 */
async function unitsPaidBy(db: Queryable, transactionIds: readonly number[]): Promise<Map<number, number>> {
  if (transactionIds.length === 0) return new Map();
  const rows: Array<Record<string, unknown>> = await db('ledger_entries')
    .whereIn('transaction_id', [...transactionIds])
    .where('amount', '>', 0)
    .groupBy('transaction_id')
    .select('transaction_id')
    .sum({ units: 'amount' });
  return new Map(rows.map((row) => [toSafeInteger(row.transaction_id), toSafeInteger(row.units ?? 0)]));
}
