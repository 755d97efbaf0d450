import { formatDateTime, formatMoney, formatPercent, formatUnits } from '../../i18n/format.js';
import { COLUMN, DETAILS, MARGIN, MUTED, startDocument, WIDTH, type DocumentRendering } from './document-layout.js';
import type { DocumentView } from './document-view.js';
import { drawQuoteLines, drawQuoteTotals } from './quote-table.js';

export type { DocumentBranding, DocumentRendering } from './document-layout.js';

/** A quote's totals and the payment block below its lines, kept together on one page. */
const QUOTE_CLOSING_HEIGHT = 200;

/**
 * A receipt or credit note as an A4 PDF in `locale` (document-layout.ts draws its header and footer):
 * one page for a top-up; the receipt of a quote's payment prints the quote's lines, on as many pages as they need.
 */
export function renderDocumentPdf(view: DocumentView, { t, locale, timeZone, branding }: DocumentRendering): Promise<Buffer> {
  const { document, order, refund, paidQuote } = view;
  const isReceipt = document.kind === 'receipt';
  const title = t(`documents.title.${document.kind}`);
  const money = (cents: number) => formatMoney(cents, order.currency, locale);
  const date = (value: Date) => formatDateTime(value, locale, timeZone);
  const units = (amount: number) => formatUnits(t, amount, locale);
  const layout = startDocument({ title, number: document.number, seller: document.seller, issuedAt: document.issuedAt }, { t, locale, branding });
  const { write, rule, heading, pairs, party, sellerLines, bodyTop, finish } = layout;

  let y = bodyTop;
  const references: Array<[string, string]> = [
    [t(`documents.numberLabel.${document.kind}`), document.number],
    [t('documents.issuedAt'), date(document.issuedAt)],
    [t('documents.order'), order.number],
    ...(paidQuote ? [[t('documents.quote'), paidQuote.number] as [string, string]] : []),
  ];
  if (!isReceipt && view.receiptNumber) references.push([t('documents.corrects'), view.receiptNumber]);
  y = pairs(references, MARGIN, y, DETAILS.width, DETAILS.label) + 16;

  // Seller and buyer: only the lines they have, as they were when the document was issued.
  const { seller, buyer } = document;
  // A quote's customer may have no account, hence no username.
  const buyerLines = [buyer.username && t('documents.username', { username: buyer.username }), buyer.email];
  y = Math.max(party(t('documents.seller'), seller.name, sellerLines(), MARGIN, y), party(t('documents.buyer'), buyer.name, buyerLines, MARGIN + COLUMN + 20, y)) + 20;

  /** The line, then the amounts: what was paid for a top-up, or what is paid back. */
  function drawSingleLine(top: number): number {
    const amountWidth = 130;
    const descriptionWidth = WIDTH - amountWidth;
    let bottom = top;
    write(t('documents.item'), MARGIN, bottom, { width: descriptionWidth, font: 'bold', size: 9, colour: MUTED });
    bottom = write(t('documents.amount'), MARGIN + descriptionWidth, bottom, { width: amountWidth, align: 'right', font: 'bold', size: 9, colour: MUTED }) + 4;
    rule(bottom);
    bottom += 6;
    const line = isReceipt
      ? view.boughtCodes
        ? t('documents.codesLine', { count: view.boughtCodes.count, value: units(view.boughtCodes.value), name: view.boughtCodes.name })
        : order.kind === 'pack'
        ? t('order.packLine', { units: units(order.units) })
        : t('order.freeLine', { amount: money(order.priceCents) })
      : paidQuote
        ? t('documents.quoteRefundLine', { quote: paidQuote.number, order: order.number })
        : t('documents.refundLine', { order: order.number });
    const details = view.boughtCodes ? [] : isReceipt ? [...(order.bonusUnits > 0 ? [t('order.bonusLine', { units: units(order.bonusUnits) })] : []), t('documents.unitsCredited', { units: units(order.units + order.bonusUnits) })] : [];
    const amounts = refund ? { priceCents: refund.amountCents, netCents: refund.netCents, vatCents: refund.vatCents } : order;
    const lineEnd = write(money(amounts.priceCents), MARGIN + descriptionWidth, bottom, { width: amountWidth, align: 'right' });
    let descriptionEnd = write(line, MARGIN, bottom, { width: descriptionWidth - 10 });
    for (const detail of details) descriptionEnd = write(detail, MARGIN, descriptionEnd + 1, { width: descriptionWidth - 10, size: 9, colour: MUTED });
    bottom = Math.max(lineEnd, descriptionEnd) + 6;
    rule(bottom);
    bottom += 8;
    const totalsX = MARGIN + WIDTH / 2;
    bottom = pairs(
      [
        [t('documents.net'), money(amounts.netCents)],
        [vatLabel(), money(amounts.vatCents)],
      ],
      totalsX,
      bottom,
      WIDTH / 2,
      150,
    );
    return pairs([[t(isReceipt ? 'documents.total' : 'documents.refundTotal'), money(amounts.priceCents)]], totalsX, bottom + 2, WIDTH / 2, 150, { bold: true });
  }

  /**
   * The VAT's label with its rate. A quote whose lines mix rates was paid by an order that records no
   * single rate (0): a refund of it gives back VAT in proportion to the order's, and says so rather than "0 %".
   */
  function vatLabel(): string {
    const rates = paidQuote ? paidQuote.totals.vatRates.map((rate) => rate.vatRateBasisPoints) : [order.vatRateBasisPoints];
    return rates.length === 1 ? t('documents.vat', { rate: formatPercent(rates[0]!, locale) }) : t('documents.vatProrated');
  }

  if (paidQuote && isReceipt) {
    // A quote's payment: the quote's lines and its VAT per rate, as the quote printed them.
    const table = { t, locale, currency: order.currency };
    y = drawQuoteLines(layout, paidQuote.totals, y, table, QUOTE_CLOSING_HEIGHT);
    y = drawQuoteTotals(layout, paidQuote.totals, y, table) + 20;
  } else {
    y = drawSingleLine(y) + 20;
  }

  // How the money moved.
  const capture: Array<[string, string]> = order.paypalCaptureId ? [[t('documents.paypalTransaction'), order.paypalCaptureId]] : [];
  const payment: Array<[string, string]> = refund
    ? [[t('documents.refundMethod'), t('documents.paypal')], [t('documents.paypalRefund'), refund.refundId], [t('documents.refundedAt'), date(refund.createdAt)], ...capture]
    : [[t('documents.paymentMethod'), t('documents.paypal')], ...capture, ...(order.paidAt ? ([[t('documents.paidAt'), date(order.paidAt)]] as Array<[string, string]>) : [])];
  y = heading(t(refund ? 'documents.refund' : 'documents.payment'), MARGIN, y, WIDTH);
  pairs(payment, MARGIN, y, DETAILS.width, DETAILS.label);

  return finish();
}
