import { formatDateTime, formatMoney, formatPercent, formatUnits } from '../../i18n/format.js';
import { COLUMN, DETAILS, MARGIN, MUTED, startDocument, WIDTH, type DocumentRendering } from './document-layout.js';
import type { DocumentView } from './document-view.js';

export type { DocumentBranding, DocumentRendering } from './document-layout.js';

/** A receipt or credit note as a one-page A4 PDF in `locale` (document-layout.ts draws its header and footer). */
export function renderDocumentPdf(view: DocumentView, { t, locale, timeZone, branding }: DocumentRendering): Promise<Buffer> {
  const { document, order, refund } = view;
  const isReceipt = document.kind === 'receipt';
  const title = t(`documents.title.${document.kind}`);
  const money = (cents: number) => formatMoney(cents, order.currency, locale);
  const date = (value: Date) => formatDateTime(value, locale, timeZone);
  const units = (amount: number) => formatUnits(t, amount, locale);
  const { write, rule, heading, pairs, party, sellerLines, bodyTop, finish } = startDocument({ title, number: document.number, seller: document.seller, issuedAt: document.issuedAt }, { t, locale, branding });

  let y = bodyTop;
  const references: Array<[string, string]> = [
    [t(`documents.numberLabel.${document.kind}`), document.number],
    [t('documents.issuedAt'), date(document.issuedAt)],
    [t('documents.order'), order.number],
  ];
  if (!isReceipt && view.receiptNumber) references.push([t('documents.corrects'), view.receiptNumber]);
  y = pairs(references, MARGIN, y, DETAILS.width, DETAILS.label) + 16;

  // Seller and buyer: only the lines they have, as they were when the document was issued.
  const { seller, buyer } = document;
  const buyerLines = [t('documents.username', { username: buyer.username }), buyer.email];
  y = Math.max(party(t('documents.seller'), seller.name, sellerLines(), MARGIN, y), party(t('documents.buyer'), buyer.name, buyerLines, MARGIN + COLUMN + 20, y)) + 20;

  // The line, then the amounts: what was paid, or what is paid back.
  const amountWidth = 130;
  const descriptionWidth = WIDTH - amountWidth;
  write(t('documents.item'), MARGIN, y, { width: descriptionWidth, font: 'bold', size: 9, colour: MUTED });
  y = write(t('documents.amount'), MARGIN + descriptionWidth, y, { width: amountWidth, align: 'right', font: 'bold', size: 9, colour: MUTED }) + 4;
  rule(y);
  y += 6;
  const line = isReceipt
    ? order.kind === 'pack'
      ? t('order.packLine', { units: units(order.units) })
      : t('order.freeLine', { amount: money(order.priceCents) })
    : t('documents.refundLine', { order: order.number });
  const details = isReceipt ? [...(order.bonusUnits > 0 ? [t('order.bonusLine', { units: units(order.bonusUnits) })] : []), t('documents.unitsCredited', { units: units(order.units + order.bonusUnits) })] : [];
  const amounts = refund ? { priceCents: refund.amountCents, netCents: refund.netCents, vatCents: refund.vatCents } : order;
  const lineEnd = write(money(amounts.priceCents), MARGIN + descriptionWidth, y, { width: amountWidth, align: 'right' });
  let descriptionEnd = write(line, MARGIN, y, { width: descriptionWidth - 10 });
  for (const detail of details) descriptionEnd = write(detail, MARGIN, descriptionEnd + 1, { width: descriptionWidth - 10, size: 9, colour: MUTED });
  y = Math.max(lineEnd, descriptionEnd) + 6;
  rule(y);
  y += 8;
  const totalsX = MARGIN + WIDTH / 2;
  y = pairs(
    [
      [t('documents.net'), money(amounts.netCents)],
      [t('documents.vat', { rate: formatPercent(order.vatRateBasisPoints, locale) }), money(amounts.vatCents)],
    ],
    totalsX,
    y,
    WIDTH / 2,
    150,
  );
  y = pairs([[t(isReceipt ? 'documents.total' : 'documents.refundTotal'), money(amounts.priceCents)]], totalsX, y + 2, WIDTH / 2, 150, { bold: true }) + 20;

  // How the money moved.
  const capture: Array<[string, string]> = order.paypalCaptureId ? [[t('documents.paypalTransaction'), order.paypalCaptureId]] : [];
  const payment: Array<[string, string]> = refund
    ? [[t('documents.refundMethod'), t('documents.paypal')], [t('documents.paypalRefund'), refund.refundId], [t('documents.refundedAt'), date(refund.createdAt)], ...capture]
    : [[t('documents.paymentMethod'), t('documents.paypal')], ...capture, ...(order.paidAt ? ([[t('documents.paidAt'), date(order.paidAt)]] as Array<[string, string]>) : [])];
  y = heading(t(refund ? 'documents.refund' : 'documents.payment'), MARGIN, y, WIDTH);
  pairs(payment, MARGIN, y, DETAILS.width, DETAILS.label);

  return finish();
}
