import { wallClockOf } from '../time/calendar.js';
import { decimalSeparatorOf, decimalText } from '../shared/decimal.js';
import { paymentLedgerKeys } from '../checkout/payment-ledger-keys.js';
import { USAGE_CATEGORIES, type Hundredths, type TransactionKind } from '../ledger/ledger.js';
import { formatOrderNumber } from '../checkout/orders.js';

/**
 * How the checkout keys its postings for PayPal's refunds and chargebacks, without the PayPal id
 * that ends each key: the keys are stored for ever, so they tell a refund or a chargeback from a
 * manual reversal, and name the capture a remainder or a chargeback belongs to.
 */
export const PAYPAL_KEYS = {
  refund: paymentLedgerKeys.refund(''),
  /** The rounding remainder taken once a capture is wholly refunded; the key ends with the capture id. */
  refundRemainder: paymentLedgerKeys.refundRest(''),
  /** A chargeback; the key ends with the capture id. */
  chargeback: paymentLedgerKeys.reversal(''),
} as const;

/** One ledger transaction as it touched one person's account, with what the export shows beside it. */
export interface ExportedTransaction {
  transactionId: number;
  kind: TransactionKind;
  idempotencyKey: string;
  description: string | null;
  createdAt: Date;
  /** The person's entry: positive credits their account. */
  units: Hundredths;
  username: string;
  displayName: string;
  /** The admin who posted it (manual adjustments) or asked PayPal for the refund, if any. */
  authorUsername: string | null;
  /** The first system account of the transaction, e.g. `system:usage:print`. */
  counterpart: string | null;
  order: {
    id: number;
    createdAt: Date;
    currency: string;
    priceCents: number;
    netCents: number;
    vatCents: number;
    vatRateBasisPoints: number;
    paypalOrderId: string | null;
    paypalCaptureId: string | null;
    ledgerTransactionId: number | null;
  } | null;
  refund: { refundId: string; currency: string; amountCents: number; netCents: number; vatCents: number } | null;
}

export const EXPORT_KINDS = ['top_up', 'refund', 'chargeback', 'reversal', 'adjustment', 'quote_payment', 'voucher', 'usage', ...USAGE_CATEGORIES.map((category) => `usage_${category}` as const)] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

/** The columns of the export, in order; the header row translates each. */
export const EXPORT_COLUMNS = [
  'dateTime',
  'transaction',
  'kind',
  'username',
  'name',
  'units',
  'order',
  'amount',
  'net',
  'vat',
  'vatRate',
  'currency',
  'paypalOrder',
  'paypalCapture',
  'paypalRefund',
  'description',
  'author',
] as const;
export type ExportColumn = (typeof EXPORT_COLUMNS)[number];

/** What accountants call a transaction, which the ledger's kinds do not say on their own. */
export function exportKind(row: Pick<ExportedTransaction, 'kind' | 'idempotencyKey' | 'counterpart' | 'refund'>): ExportKind {
  switch (row.kind) {
    case 'top_up':
    case 'adjustment':
    case 'quote_payment':
    case 'voucher':
      return row.kind;
    case 'usage': {
      const category = /^system:usage:(\w+)$/.exec(row.counterpart ?? '')?.[1];
      return USAGE_CATEGORIES.find((known) => known === category) ? (`usage_${category}` as ExportKind) : 'usage';
    }
    case 'reversal':
      if (row.refund || row.idempotencyKey.startsWith(PAYPAL_KEYS.refund) || row.idempotencyKey.startsWith(PAYPAL_KEYS.refundRemainder)) return 'refund';
      return row.idempotencyKey.startsWith(PAYPAL_KEYS.chargeback) ? 'chargeback' : 'reversal';
  }
}

/** The spreadsheet conventions of the reader: Excel in France reads `;` and decimal commas. */
export interface CsvConventions {
  delimiter: ';' | ',';
  decimalSeparator: ',' | '.';
}

export function csvConventionsFor(locale: string): CsvConventions {
  const decimalSeparator = decimalSeparatorOf(locale);
  return { delimiter: decimalSeparator === ',' ? ';' : ',', decimalSeparator };
}

/**
 * A text a spreadsheet would run as a formula (=, +, -, @, or a leading tab or carriage return) is
 * prefixed with an apostrophe, as OWASP recommends against CSV injection. Only texts go through
 * here: the numbers the export writes itself must stay numbers.
 */
export function guardFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** One row of the export, every cell a string (empty when it does not apply). */
export function exportRecord(
  row: ExportedTransaction,
  { decimalSeparator, timeZone, kindLabel }: Pick<CsvConventions, 'decimalSeparator'> & { timeZone: string; kindLabel: (kind: ExportKind) => string },
): string[] {
  const decimal = (value: number | null) => (value === null ? '' : decimalText(value, decimalSeparator));
  const text = (value: string | null) => (value === null ? '' : guardFormula(value));
  const { order, refund } = row;
  const creditsOrder = order !== null && order.ledgerTransactionId === row.transactionId;
  // A top-up shows what the buyer paid; a refund what PayPal gave back, negative like its units.
  const money = refund
    ? { currency: refund.currency, amount: -refund.amountCents, net: -refund.netCents, vat: -refund.vatCents }
    : creditsOrder
      ? { currency: order.currency, amount: order.priceCents, net: order.netCents, vat: order.vatCents }
      : null;
  const cells: Record<ExportColumn, string> = {
    dateTime: dateTimeText(row.createdAt, timeZone),
    transaction: String(row.transactionId),
    kind: text(kindLabel(exportKind(row))),
    username: text(row.username),
    name: text(row.displayName),
    units: decimal(row.units),
    order: order ? formatOrderNumber(order.id, order.createdAt) : '',
    amount: decimal(money?.amount ?? null),
    net: decimal(money?.net ?? null),
    vat: decimal(money?.vat ?? null),
    vatRate: money && order ? decimal(order.vatRateBasisPoints) : '',
    currency: text(money?.currency ?? null),
    paypalOrder: text(order?.paypalOrderId ?? null),
    paypalCapture: text(order?.paypalCaptureId ?? null),
    paypalRefund: text(refund?.refundId ?? null),
    description: text(row.description),
    author: text(row.authorUsername),
  };
  return EXPORT_COLUMNS.map((column) => cells[column]);
}

/** `YYYY-MM-DD HH:mm:ss` on the wall clock of `timeZone`; zones are whole minutes off UTC, so the seconds are UTC's. */
export function dateTimeText(instant: Date, timeZone: string): string {
  const { day, minutes } = wallClockOf(instant, timeZone);
  const two = (value: number) => String(value).padStart(2, '0');
  return `${day} ${two(Math.floor(minutes / 60))}:${two(minutes % 60)}:${two(instant.getUTCSeconds())}`;
}
