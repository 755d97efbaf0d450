import { formatMoney, formatPercent } from '../../i18n/format.js';
import type { Locale, Translate } from '../../i18n/index.js';
import type { QuoteTotals } from '../../domain/quotes/quote-totals.js';
import { MARGIN, MUTED, PAGE_HEIGHT, WIDTH, type DocumentLayout } from './document-layout.js';

/** The lines table's columns, right to left from the page's edge; the description takes what is left. */
const COLUMNS = { total: 80, vatRate: 48, unitPrice: 80, quantity: 40 };
const NUMBERS_WIDTH = COLUMNS.total + COLUMNS.vatRate + COLUMNS.unitPrice + COLUMNS.quantity;
const DESCRIPTION_WIDTH = WIDTH - NUMBERS_WIDTH;
/** Below this, a line or what closes the document starts on a new page (the footer sits under the bottom margin). */
const BODY_BOTTOM = PAGE_HEIGHT - MARGIN - 10;

interface QuoteTableText {
  t: Translate;
  locale: Locale;
  currency: string;
}

/**
 * A quote's lines as the quote prints them, and as the receipt of its payment prints them again:
 * description, quantity, unit price and total incl. VAT, VAT rate; the column titles again at the top
 * of every page the lines run onto. Starts at `top`; returns where the next block starts, on a new
 * page when the `closingHeight` points that must stay together (the totals and what follows them) do
 * not fit below the lines.
 */
export function drawQuoteLines(layout: DocumentLayout, totals: QuoteTotals, top: number, { t, locale, currency }: QuoteTableText, closingHeight: number): number {
  const { pdf, write, rule } = layout;
  const money = (cents: number) => formatMoney(cents, currency, locale);
  let y = top;
  const cell = (text: string, column: keyof typeof COLUMNS, at: number, options: { font?: 'bold'; size?: number; colour?: string } = {}) => {
    const right = { total: WIDTH, vatRate: WIDTH - COLUMNS.total, unitPrice: WIDTH - COLUMNS.total - COLUMNS.vatRate, quantity: DESCRIPTION_WIDTH + COLUMNS.quantity }[column];
    return write(text, MARGIN + right - COLUMNS[column], at, { width: COLUMNS[column], align: 'right', ...options });
  };
  const columnTitles = () => {
    const titles = { font: 'bold', size: 9, colour: MUTED } as const;
    const ends = [
      write(t('quoteDocument.columns.description'), MARGIN, y, { width: DESCRIPTION_WIDTH - 10, ...titles }),
      cell(t('quoteDocument.columns.quantity'), 'quantity', y, titles),
      cell(t('quoteDocument.columns.unitPrice'), 'unitPrice', y, titles),
      cell(t('quoteDocument.columns.vatRate'), 'vatRate', y, titles),
      cell(t('quoteDocument.columns.total'), 'total', y, titles),
    ];
    y = Math.max(...ends) + 4;
    rule(y);
    y += 6;
  };
  const newPage = () => {
    pdf.addPage();
    y = MARGIN;
  };
  const lineHeight = (description: string) => pdf.font('regular').fontSize(10).heightOfString(description, { width: DESCRIPTION_WIDTH - 10 });
  const titlesHeight = () => pdf.font('bold').fontSize(9).heightOfString(t('quoteDocument.columns.unitPrice'), { width: COLUMNS.unitPrice }) + 10;
  // The titles never alone at a page's foot (a long address can push them there): with the first line, or on the next page.
  if (y + titlesHeight() + lineHeight(totals.lines[0]?.description ?? '') > BODY_BOTTOM) newPage();
  columnTitles();
  for (const line of totals.lines) {
    const height = lineHeight(line.description);
    if (y + height > BODY_BOTTOM) {
      newPage();
      columnTitles();
    }
    const ends = [
      write(line.description, MARGIN, y, { width: DESCRIPTION_WIDTH - 10 }),
      cell(String(line.quantity), 'quantity', y),
      cell(money(line.unitPriceCents), 'unitPrice', y),
      cell(`${formatPercent(line.vatRateBasisPoints, locale)}\u00a0%`, 'vatRate', y),
      cell(money(line.totalCents), 'total', y),
    ];
    y = Math.max(...ends) + 5;
  }
  rule(y);
  y += 8;
  if (y + closingHeight > BODY_BOTTOM) newPage();
  return y;
}

/**
 * A quote's totals as the basket shows them, on the right half of the page: excl. VAT, the VAT of each
 * rate on its base, then the total in bold. Returns where they end.
 */
export function drawQuoteTotals(layout: DocumentLayout, totals: QuoteTotals, top: number, { t, locale, currency }: QuoteTableText): number {
  const { pairs } = layout;
  const money = (cents: number) => formatMoney(cents, currency, locale);
  const totalsX = MARGIN + WIDTH / 2;
  const y = pairs(
    [
      [t('documents.net'), money(totals.netCents)],
      ...totals.vatRates.map((rate): [string, string] => [t('quoteDocument.vatOn', { rate: formatPercent(rate.vatRateBasisPoints, locale), base: money(rate.grossCents) }), money(rate.vatCents)]),
    ],
    totalsX,
    top,
    WIDTH / 2,
    170,
  );
  return pairs([[t('documents.total'), money(totals.totalCents)]], totalsX, y + 2, WIDTH / 2, 170, { bold: true });
}
