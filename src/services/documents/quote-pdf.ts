import { formatDateTime, formatDay, formatMoney, formatPercent } from '../../i18n/format.js';
import { COLUMN, DETAILS, MARGIN, MUTED, PAGE_HEIGHT, startDocument, WIDTH, type DocumentRendering } from './document-layout.js';
import type { QuoteDocumentView } from './document-view.js';
import { howToAccept } from './quote-acceptance.js';

/** The lines table's columns, right to left from the page's edge; the description takes what is left. */
const COLUMNS = { total: 80, vatRate: 48, unitPrice: 80, quantity: 40 };
const NUMBERS_WIDTH = COLUMNS.total + COLUMNS.vatRate + COLUMNS.unitPrice + COLUMNS.quantity;
const DESCRIPTION_WIDTH = WIDTH - NUMBERS_WIDTH;
/** Below this, a line or the totals start on a new page (the footer sits under the bottom margin). */
const BODY_BOTTOM = PAGE_HEIGHT - MARGIN - 10;
/** The totals and the acceptance block, kept together on one page. */
const CLOSING_HEIGHT = 200;

/**
 * A quote as an A4 PDF in `locale`, on as many pages as its lines need: the references the customer
 * will be asked for (the number, the delivery postcode), seller and customer, delivery, the lines with
 * quantities and prices incl. VAT, the VAT of each rate and the total, and how to accept it.
 */
export function renderQuotePdf(view: QuoteDocumentView, { t, locale, timeZone, branding }: DocumentRendering): Promise<Buffer> {
  const { document, quote, totals } = view;
  const money = (cents: number) => formatMoney(cents, quote.currency, locale);
  const { pdf, write, rule, heading, pairs, party, sellerLines, bodyTop, finish } = startDocument(
    { title: t('quoteDocument.title'), number: document.number, seller: document.seller, issuedAt: document.issuedAt },
    { t, locale, branding },
  );
  const { customer } = quote;

  let y = bodyTop;
  y =
    pairs(
      [
        [t('quoteDocument.number'), quote.number],
        [t('quoteDocument.issuedAt'), formatDateTime(document.issuedAt, locale, timeZone)],
        [t('quoteDocument.validUntil'), formatDay(customer.validUntil, locale)],
        [t('quoteDocument.postcode'), customer.postcode],
      ],
      MARGIN,
      y,
      DETAILS.width,
      DETAILS.label,
    ) + 16;

  // Seller and customer as they were when the quote was sent.
  const { seller, buyer } = document;
  y = Math.max(party(t('documents.seller'), seller.name, sellerLines(), MARGIN, y), party(t('documents.buyer'), buyer.name, [buyer.email], MARGIN + COLUMN + 20, y)) + 16;

  y = heading(t('quoteDocument.delivery'), MARGIN, y, WIDTH);
  y = write(t(`quoteDocument.deliveryMethod.${customer.deliveryMethod}`), MARGIN, y, { width: WIDTH });
  if (customer.deliveryAddress) y = write(customer.deliveryAddress, MARGIN, y + 2, { width: WIDTH });
  y += 18;

  // The lines, their column titles again at the top of every page they run onto.
  const cell = (text: string, column: keyof typeof COLUMNS, top: number, options: { font?: 'bold'; size?: number; colour?: string } = {}) => {
    const right = { total: WIDTH, vatRate: WIDTH - COLUMNS.total, unitPrice: WIDTH - COLUMNS.total - COLUMNS.vatRate, quantity: DESCRIPTION_WIDTH + COLUMNS.quantity }[column];
    return write(text, MARGIN + right - COLUMNS[column], top, { width: COLUMNS[column], align: 'right', ...options });
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
  if (y + CLOSING_HEIGHT > BODY_BOTTOM) newPage();

  // The totals as the basket shows them: excl. VAT, the VAT of each rate on its base, then the total.
  const totalsX = MARGIN + WIDTH / 2;
  y = pairs(
    [
      [t('documents.net'), money(totals.netCents)],
      ...totals.vatRates.map((rate): [string, string] => [t('quoteDocument.vatOn', { rate: formatPercent(rate.vatRateBasisPoints, locale), base: money(rate.grossCents) }), money(rate.vatCents)]),
    ],
    totalsX,
    y,
    WIDTH / 2,
    170,
  );
  y = pairs([[t('documents.total'), money(totals.totalCents)]], totalsX, y + 2, WIDTH / 2, 170, { bold: true }) + 20;

  y = heading(t('quoteDocument.accept.heading'), MARGIN, y, WIDTH);
  for (const paragraph of howToAccept(quote, t, 'document')) y = write(paragraph, MARGIN, y, { width: WIDTH }) + 4;
  return finish();
}
