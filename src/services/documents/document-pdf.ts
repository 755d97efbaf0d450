import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import PDFDocument from 'pdfkit';
import { formatDateTime, formatMoney, formatPercent, formatUnits } from '../../i18n/format.js';
import type { Locale, Translate } from '../../i18n/index.js';
import type { DocumentView } from './document-view.js';

const require = createRequire(import.meta.url);
/**
 * DejaVu Sans covers Latin, Greek and Cyrillic names and the narrow no-break spaces of French amounts.
 * Read once: every receipt, download and mail embeds the glyphs it uses from these bytes.
 */
const REGULAR_FONT_FILE = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
const FONTS = {
  regular: readFileSync(REGULAR_FONT_FILE),
  bold: readFileSync(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf')),
};

// A4 in points, and the layout's measures.
const PAGE_HEIGHT = 841.89;
const MARGIN = 50;
const WIDTH = 595.28 - 2 * MARGIN;
const COLUMN = (WIDTH - 20) / 2;
const LOGO = 56;
/** Where the reference and payment rows end, and where their values start. */
const DETAILS = { width: 300, label: 150 };
const TEXT = '#1a1a1a';
const MUTED = '#555555';
const RULE = '#bbbbbb';

/** How the document's brand is drawn. */
export interface DocumentBranding {
  organisationName: string;
  /** Headings and rules, readable on white paper. */
  accentColour: string;
  /** A PNG: a Buffer, or the Uint8Array a Buffer becomes on its way to the render thread. */
  logoPng: Uint8Array | null;
}

export interface DocumentRendering {
  t: Translate;
  locale: Locale;
  timeZone: string;
  branding: DocumentBranding;
}

/**
 * A receipt or credit note as a one-page A4 PDF in `locale`. The PDF's metadata comes from the
 * document only (title = number, author = seller, creation date = issue date), so a document renders
 * the same bytes every time it is downloaded or mailed.
 */
export function renderDocumentPdf(view: DocumentView, { t, locale, timeZone, branding }: DocumentRendering): Promise<Buffer> {
  const { document, order, refund } = view;
  const isReceipt = document.kind === 'receipt';
  const title = t(`documents.title.${document.kind}`);
  const money = (cents: number) => formatMoney(cents, order.currency, locale);
  const date = (value: Date) => formatDateTime(value, locale, timeZone);
  const units = (amount: number) => formatUnits(t, amount, locale);

  const pdf = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    bufferPages: true,
    // pdfkit's types take a file here; without it, it would load Helvetica, which is never used.
    font: REGULAR_FONT_FILE,
    lang: locale,
    displayTitle: true,
    info: { Title: document.number, Subject: title, Author: document.seller.name, Creator: branding.organisationName, CreationDate: document.issuedAt },
  });
  pdf.registerFont('regular', FONTS.regular);
  pdf.registerFont('bold', FONTS.bold);
  const chunks: Buffer[] = [];
  const rendered = new Promise<Buffer>((resolve, reject) => {
    pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });

  let y = MARGIN;
  /** Writes `text` at (x, top); returns where it ends. */
  const write = (text: string, x: number, top: number, { font = 'regular', size = 10, colour = TEXT, ...options }: PDFKit.Mixins.TextOptions & { font?: 'regular' | 'bold'; size?: number; colour?: string }) => {
    pdf.font(font).fontSize(size).fillColor(colour).text(text, x, top, options);
    return pdf.y;
  };
  const rule = (colour = RULE) => {
    pdf.moveTo(MARGIN, y).lineTo(MARGIN + WIDTH, y).lineWidth(colour === RULE ? 0.5 : 1.5).strokeColor(colour).stroke();
  };
  const heading = (text: string, x: number, top: number, width: number) => write(text, x, top, { width, font: 'bold', size: 11, colour: branding.accentColour }) + 4;
  /** Label and value side by side, one row each; returns where the rows end. */
  const pairs = (rows: Array<[string, string]>, x: number, top: number, width: number, labelWidth: number, { bold = false } = {}) => {
    let bottom = top;
    for (const [label, value] of rows) {
      const labelEnd = write(label, x, bottom, { width: labelWidth - 8, colour: MUTED, font: bold ? 'bold' : 'regular' });
      const valueEnd = write(value, x + labelWidth, bottom, { width: width - labelWidth, align: 'right', font: bold ? 'bold' : 'regular' });
      bottom = Math.max(labelEnd, valueEnd) + 3;
    }
    return bottom;
  };

  // Header: logo and organisation on the left, what the document is on the right.
  let nameX = MARGIN;
  if (branding.logoPng) {
    // pdfkit takes a Buffer for bytes (anything else for a file name).
    pdf.image(Buffer.from(branding.logoPng), MARGIN, y, { fit: [LOGO, LOGO] });
    nameX += LOGO + 12;
  }
  const nameWidth = COLUMN - (nameX - MARGIN);
  const nameHeight = pdf.font('bold').fontSize(14).heightOfString(branding.organisationName, { width: nameWidth });
  const nameEnd = write(branding.organisationName, nameX, y + Math.max(0, (LOGO - nameHeight) / 2), { width: nameWidth, font: 'bold', size: 14 });
  const titleEnd = write(title, MARGIN + COLUMN + 20, y, { width: COLUMN, align: 'right', font: 'bold', size: 24, colour: branding.accentColour });
  const numberEnd = write(document.number, MARGIN + COLUMN + 20, titleEnd + 2, { width: COLUMN, align: 'right', font: 'bold', size: 13 });
  y = Math.max(branding.logoPng ? y + LOGO : y, nameEnd, numberEnd) + 14;
  rule(branding.accentColour);
  y += 12;

  const references: Array<[string, string]> = [
    [t(`documents.numberLabel.${document.kind}`), document.number],
    [t('documents.issuedAt'), date(document.issuedAt)],
    [t('documents.order'), order.number],
  ];
  if (!isReceipt && view.receiptNumber) references.push([t('documents.corrects'), view.receiptNumber]);
  y = pairs(references, MARGIN, y, DETAILS.width, DETAILS.label) + 16;

  // Seller and buyer: only the lines they have, as they were when the document was issued.
  const { seller, buyer } = document;
  const sellerLines = [
    ...seller.address.split('\n'),
    seller.vatNumber.trim() && t('documents.vatNumber', { number: seller.vatNumber.trim() }),
    seller.email,
  ].map((line) => line.trim());
  const buyerLines = [t('documents.username', { username: buyer.username }), buyer.email].map((line) => line.trim());
  const party = (name: string, lines: string[], label: string, x: number) => {
    const top = heading(label, x, y, COLUMN);
    let bottom = name.trim() ? write(name, x, top, { width: COLUMN, font: 'bold' }) : top;
    for (const line of lines.filter(Boolean)) bottom = write(line, x, bottom, { width: COLUMN });
    return bottom;
  };
  y = Math.max(party(seller.name, sellerLines, t('documents.seller'), MARGIN), party(buyer.name, buyerLines, t('documents.buyer'), MARGIN + COLUMN + 20)) + 20;

  // The line, then the amounts: what was paid, or what is paid back.
  const amountWidth = 130;
  const descriptionWidth = WIDTH - amountWidth;
  write(t('documents.item'), MARGIN, y, { width: descriptionWidth, font: 'bold', size: 9, colour: MUTED });
  y = write(t('documents.amount'), MARGIN + descriptionWidth, y, { width: amountWidth, align: 'right', font: 'bold', size: 9, colour: MUTED }) + 4;
  rule();
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
  rule();
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

  const { count } = pdf.bufferedPageRange();
  for (let page = 0; page < count; page += 1) {
    pdf.switchToPage(page);
    // Writing inside the bottom margin would otherwise start a new page.
    pdf.page.margins.bottom = 0;
    write(t('documents.footer', { organisation: branding.organisationName, page: page + 1, pages: count }), MARGIN, PAGE_HEIGHT - MARGIN + 10, {
      width: WIDTH,
      align: 'center',
      size: 8,
      colour: MUTED,
      lineBreak: false,
    });
  }
  pdf.end();
  return rendered;
}
