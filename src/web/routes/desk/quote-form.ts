import { decimalSeparatorOf, decimalText } from '../../../domain/shared/decimal.js';
import type { Locale } from '../../../domain/shared/locale.js';
import { LIMITS, type QuoteDraftInput, type QuoteProblem } from '../../../domain/quotes/quote-draft.js';
import { MAX_QUOTE_LINES } from '../../../domain/quotes/quote-totals.js';
import type { Quote } from '../../../domain/quotes/quotes.js';
import type { Translate } from '../../../i18n/index.js';

/** Rows the form offers at first, and how many more "Ajouter des lignes" adds: no script needed. */
export const FIRST_ROWS = 8;
export const MORE_ROWS = 4;
/** Row fields read from a post: more than a quote may hold, so that too many lines are reported, not dropped. */
const ROWS_READ = MAX_QUOTE_LINES * 2;

const DRAFT_FIELDS = ['name', 'email', 'postcode', 'deliveryMethod', 'deliveryAddress', 'validUntil', 'username', 'unitsPrice', 'staffNote', 'locale'] as const;
const LINE_FIELDS = ['description', 'quantity', 'unitPrice', 'vatRate'] as const;
type LineValues = Record<(typeof LINE_FIELDS)[number], string>;

/** The form as shown: every value as text, as typed or as stored; `version`, a draft's, is the one the form was made from. */
export interface QuoteFormValues extends Record<(typeof DRAFT_FIELDS)[number], string> {
  version: string;
  lines: LineValues[];
}

/** A field's longest text worth showing back (a re-rendered form shows no more than its input takes). */
const SHOWN: Record<string, number> = { ...LIMITS, deliveryMethod: 10, validUntil: 10, locale: 5, username: 100, unitsPrice: 20, quantity: 10, unitPrice: 20, vatRate: 10, postcode: 40, version: 12 };
const textOf = (value: unknown, field: string) => (typeof value === 'string' ? value.slice(0, SHOWN[field] ?? 100) : '');

/** "20", "5,5": a rate in per cent as a person of that language types it. */
export function vatRateText(basisPoints: number, locale: Locale): string {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 2, useGrouping: false }).format(basisPoints / 100);
}

const emptyRow = (vatRate: string): LineValues => ({ description: '', quantity: '1', unitPrice: '', vatRate });

/** The lines padded with empty rows to `rows` (never fewer than the lines). */
const padded = (lines: LineValues[], rows: number, vatRate: string) => [...lines, ...Array.from({ length: Math.max(0, rows - lines.length) }, () => emptyRow(vatRate))];

/**
 * Reads the desk's form: the customer, and rows `description-<n>`, `quantity-<n>`, `unitPrice-<n>`,
 * `vatRate-<n>`. Nothing else is read: totals and amounts are the server's, whatever the browser sends.
 */
export function readQuoteForm(body: Record<string, unknown>): { input: QuoteDraftInput; version: number | null; values: QuoteFormValues } {
  const rows: Array<Record<string, unknown>> = [];
  for (let index = 0; index < ROWS_READ; index += 1) {
    if (LINE_FIELDS.some((field) => `${field}-${index}` in body)) rows[index] = Object.fromEntries(LINE_FIELDS.map((field) => [field, body[`${field}-${index}`]]));
  }
  const lines = Array.from(rows, (row) => row ?? {});
  const customer = Object.fromEntries(DRAFT_FIELDS.map((field) => [field, body[field]]));
  const values = {
    ...(Object.fromEntries(DRAFT_FIELDS.map((field) => [field, textOf(body[field], field)])) as Record<(typeof DRAFT_FIELDS)[number], string>),
    version: textOf(body.version, 'version'),
    lines: lines.map((row) => Object.fromEntries(LINE_FIELDS.map((field) => [field, textOf(row[field], field)])) as LineValues),
  };
  return { input: { ...customer, lines }, version: versionOf(body.version), values };
}

const versionOf = (value: unknown) => (typeof value === 'string' && /^[1-9]\d{0,8}$/.test(value) ? Number(value) : null);

/** The rows to show for `values`: at least the first rows, more when asked, up to twice the most a quote holds. */
export function withRows(values: QuoteFormValues, vatRate: string, more: boolean): QuoteFormValues {
  const filled = values.lines.length;
  const rows = Math.min(Math.max(FIRST_ROWS, filled) + (more ? MORE_ROWS : 0), Math.max(MAX_QUOTE_LINES, filled));
  return { ...values, lines: padded(values.lines, rows, vatRate) };
}

/** A new quote's form: pickup at the desk, valid for 30 days, in the portal's language, empty rows at the price list's VAT rate. */
export function newQuoteValues(validUntil: string, vatRate: string, locale: Locale): QuoteFormValues {
  return {
    name: '',
    email: '',
    postcode: '',
    deliveryMethod: 'pickup',
    deliveryAddress: '',
    validUntil,
    username: '',
    unitsPrice: '',
    staffNote: '',
    locale,
    version: '',
    lines: padded([], FIRST_ROWS, vatRate),
  };
}

/** A stored quote in the form, amounts typed back as the reader's language writes them. */
export function quoteValues(quote: Quote, locale: Locale, vatRate: string): QuoteFormValues {
  const { customer, staffNote, version } = quote;
  const separator = decimalSeparatorOf(locale);
  const lines = quote.lines.map((line) => ({
    description: line.description,
    quantity: String(line.quantity),
    unitPrice: decimalText(line.unitPriceCents, separator),
    vatRate: vatRateText(line.vatRateBasisPoints, locale),
  }));
  const unitsPrice = quote.unitsPrice === null ? '' : decimalText(quote.unitsPrice, separator);
  return { ...customer, username: customer.username ?? '', unitsPrice, staffNote, version: String(version), lines: padded(lines, Math.max(FIRST_ROWS, lines.length), vatRate) };
}

/** Each problem as a message by the form's field ids (`quantity-2`, `email`, `lines`). */
export function problemMessages(problems: readonly QuoteProblem[], t: Translate): Record<string, string> {
  return Object.fromEntries(
    problems.map(({ field, code }) => {
      const [first, row, lineField] = field.split('.');
      const kind = first === 'lines' && lineField ? lineField : (first ?? field);
      const id = first === 'lines' && lineField ? `${lineField}-${row}` : field;
      // A field posted twice is the same mistake whichever field it is: one message for all.
      if (code === 'repeated') return [id, t('deskQuotes.errors.repeated')];
      return [id, t(`deskQuotes.errors.${kind}.${code}`, { max: (LIMITS as Record<string, number>)[kind] ?? 0, maxLines: MAX_QUOTE_LINES })];
    }),
  );
}
