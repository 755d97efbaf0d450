import { formatOrderNumber } from '../checkout/orders.js';
import type { Hundredths } from '../ledger/ledger.js';
import { decimalText } from '../shared/decimal.js';
import type { QuoteStatus } from '../quotes/quote-status.js';
import { quoteTotals, type QuoteLine } from '../quotes/quote-totals.js';
import { dateTimeText, guardFormula, type CsvConventions } from './transaction-export.js';

/** Which date of a quote puts it in an export's range: when it was made, or when it was paid. */
export const QUOTE_EXPORT_DATES = ['created', 'paid'] as const;
export type QuoteExportDate = (typeof QUOTE_EXPORT_DATES)[number];

export function isQuoteExportDate(value: unknown): value is QuoteExportDate {
  return typeof value === 'string' && (QUOTE_EXPORT_DATES as readonly string[]).includes(value);
}

/** A quote as the export shows it: its customer, dates, lines (for the VAT per rate) and how it was paid. */
export interface ExportedQuote {
  number: string;
  status: QuoteStatus;
  customerName: string;
  customerEmail: string;
  postcode: string;
  createdAt: Date;
  sentAt: Date | null;
  paidAt: Date | null;
  currency: string;
  lines: QuoteLine[];
  /** What refunds gave back so far, in cents. */
  refundedCents: number;
  /** The order that paid it through PayPal. */
  paidOrder: { id: number; createdAt: Date; paypalOrderId: string | null; paypalCaptureId: string | null } | null;
  /** The ledger transaction that paid it from a person's units, and the units it took. */
  paidInUnits: { transactionId: number; units: Hundredths } | null;
}

/** The export's columns besides those of each VAT rate, in order; `rates` marks where those go. */
const LEADING = ['number', 'status', 'customerName', 'customerEmail', 'postcode', 'createdAt', 'sentAt', 'paidAt', 'currency', 'total', 'net', 'vat'] as const;
const TRAILING = ['refunded', 'paidWith', 'order', 'paypalOrder', 'paypalCapture', 'units', 'ledgerTransaction'] as const;
export type QuoteExportFixedColumn = (typeof LEADING)[number] | (typeof TRAILING)[number];

/** A column of the export: a fixed one, or the net or VAT of one rate (basis points). */
export type QuoteExportColumn = { key: QuoteExportFixedColumn } | { key: 'netAt' | 'vatAt'; rateBasisPoints: number };

/**
 * The columns for quotes whose lines have these VAT rates: the net and the VAT of each rate in
 * columns of their own, highest rate first, so that a spreadsheet sums each rate as the VAT return
 * asks (a single "20%:12.34;5.5%:1.04" text would have to be taken apart before any sum).
 */
export function quoteExportColumns(rates: readonly number[]): QuoteExportColumn[] {
  const distinct = [...new Set(rates)].sort((a, b) => b - a);
  return [
    ...LEADING.map((key) => ({ key })),
    ...distinct.flatMap((rateBasisPoints) => [
      { key: 'netAt' as const, rateBasisPoints },
      { key: 'vatAt' as const, rateBasisPoints },
    ]),
    ...TRAILING.map((key) => ({ key })),
  ];
}

/** How the export says a quote was paid; null: not paid. */
export type QuotePaidWith = 'paypal' | 'units';

export function quotePaidWith(quote: Pick<ExportedQuote, 'paidOrder' | 'paidInUnits'>): QuotePaidWith | null {
  return quote.paidOrder ? 'paypal' : quote.paidInUnits ? 'units' : null;
}

/**
 * One row of the quotes export, every cell a string (empty when it does not apply). Amounts are the
 * server's, from the lines (quote-totals.ts): net and VAT per rate sum to the quote's net and VAT,
 * and those to its total. A rate a quote has no line at is left empty, and so is the refunded amount
 * of a quote never paid.
 */
export function quoteExportRecord(
  quote: ExportedQuote,
  columns: readonly QuoteExportColumn[],
  format: Pick<CsvConventions, 'decimalSeparator'> & { timeZone: string; statusLabel: (status: QuoteStatus) => string; paidWithLabel: (paidWith: QuotePaidWith) => string },
): string[] {
  const decimal = (value: number | null | undefined) => (value == null ? '' : decimalText(value, format.decimalSeparator));
  const text = (value: string | null | undefined) => (value == null ? '' : guardFormula(value));
  const date = (value: Date | null) => (value === null ? '' : dateTimeText(value, format.timeZone));
  const totals = quoteTotals(quote.lines);
  const rateOf = (basisPoints: number) => totals.vatRates.find((rate) => rate.vatRateBasisPoints === basisPoints);
  const paidWith = quotePaidWith(quote);
  const { paidOrder, paidInUnits } = quote;
  const cells: Record<QuoteExportFixedColumn, string> = {
    number: text(quote.number),
    status: text(format.statusLabel(quote.status)),
    customerName: text(quote.customerName),
    customerEmail: text(quote.customerEmail),
    postcode: text(quote.postcode),
    createdAt: date(quote.createdAt),
    sentAt: date(quote.sentAt),
    paidAt: date(quote.paidAt),
    currency: text(quote.currency),
    total: decimal(totals.totalCents),
    net: decimal(totals.netCents),
    vat: decimal(totals.vatCents),
    refunded: quote.paidAt === null ? '' : decimal(quote.refundedCents),
    paidWith: paidWith === null ? '' : text(format.paidWithLabel(paidWith)),
    order: paidOrder ? formatOrderNumber(paidOrder.id, paidOrder.createdAt) : '',
    paypalOrder: text(paidOrder?.paypalOrderId),
    paypalCapture: text(paidOrder?.paypalCaptureId),
    units: decimal(paidInUnits?.units),
    ledgerTransaction: paidInUnits ? String(paidInUnits.transactionId) : '',
  };
  return columns.map((column) => {
    if (column.key === 'netAt') return decimal(rateOf(column.rateBasisPoints)?.netCents);
    if (column.key === 'vatAt') return decimal(rateOf(column.rateBasisPoints)?.vatCents);
    return cells[column.key];
  });
}
