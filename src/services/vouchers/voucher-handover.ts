import { stringify } from 'csv-stringify/sync';
import { decimalSeparatorOf, decimalText } from '../../domain/shared/decimal.js';
import type { CanonicalCode } from '../../domain/vouchers/voucher-codes.js';
import { formatVoucherCode } from '../../domain/vouchers/voucher-codes.js';
import type { VoucherBatchRequest } from '../../domain/vouchers/voucher-batches.js';
import { formatDay, formatUnits } from '../../i18n/format.js';
import type { Locale, Translate } from '../../i18n/index.js';
import { startFontedPdf } from '../documents/document-fonts.js';

/** What a batch's sheet or file says besides its codes. */
export interface HandoverBatch extends Pick<VoucherBatchRequest, 'name' | 'value' | 'expiresOn'> {
  id: number;
}

export interface HandoverWording {
  t: Translate;
  locale: Locale;
  /** Where codes are redeemed, printed on each card. */
  topUpUrl: string;
}

/** A text a spreadsheet would run as a formula (=, +, -, @ first) is written with a quote before it. */
const spreadsheetSafe = (text: string) => (/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);

/**
 * The codes as CSV, one per line, in the admin's language: semicolons and decimal commas in French
 * (what a French spreadsheet opens), commas and points in English; a BOM so Excel reads UTF-8.
 */
export function voucherCsv(batch: HandoverBatch, codes: readonly CanonicalCode[], { t, locale }: HandoverWording): Buffer {
  const separator = decimalSeparatorOf(locale);
  const value = decimalText(batch.value, separator);
  const name = spreadsheetSafe(batch.name);
  const rows = [
    [t('vouchers.file.code'), t('vouchers.file.value'), t('vouchers.file.expiresOn'), t('vouchers.file.batch')],
    ...codes.map((code) => [formatVoucherCode(code), value, batch.expiresOn, name]),
  ];
  return Buffer.from(stringify(rows, { bom: true, delimiter: separator === ',' ? ';' : ',', record_delimiter: 'windows' }), 'utf8');
}

// A4 in points, cut into cards of 3 columns and 8 rows.
const PAGE = { width: 595.28, height: 841.89, margin: 28 };
const COLUMNS = 3;
const ROWS = 8;
const CARD = { width: (PAGE.width - 2 * PAGE.margin) / COLUMNS, height: (PAGE.height - 2 * PAGE.margin - 16) / ROWS, padding: 8 };

/**
 * The codes as a sheet of cards to cut out, 24 an A4 page: each card says what it is worth, until
 * when, where to type it, and the code in large letters. Drawn with the documents' fonts (DejaVu Sans,
 * for every name and French spacing) from start to end without a pause, as documentFonts requires.
 */
export function voucherPdf(batch: HandoverBatch, codes: readonly CanonicalCode[], { t, locale, topUpUrl }: HandoverWording): Promise<Buffer> {
  const { pdf, rendered } = startFontedPdf({ size: 'A4', margin: PAGE.margin, lang: locale, autoFirstPage: false, info: { Title: batch.name, Subject: t('vouchers.file.title') } });
  const value = formatUnits(t, batch.value, locale);
  const until = t('vouchers.file.validUntil', { day: formatDay(batch.expiresOn, locale) });
  const where = t('vouchers.file.where', { url: topUpUrl });
  const perPage = COLUMNS * ROWS;
  const pages = Math.ceil(codes.length / perPage);
  const inner = CARD.width - 2 * CARD.padding;
  codes.forEach((code, index) => {
    const place = index % perPage;
    if (place === 0) {
      pdf.addPage();
      const page = index / perPage + 1;
      pdf.font('regular').fontSize(8).fillColor('#555555').text(t('vouchers.file.pageHeader', { name: batch.name, page, pages }), PAGE.margin, PAGE.margin - 14, { width: PAGE.width - 2 * PAGE.margin, lineBreak: false, ellipsis: true });
    }
    const x = PAGE.margin + (place % COLUMNS) * CARD.width;
    const y = PAGE.margin + 4 + Math.floor(place / COLUMNS) * CARD.height;
    pdf.rect(x, y, CARD.width, CARD.height).dash(3, { space: 3 }).lineWidth(0.5).strokeColor('#999999').stroke().undash();
    const left = x + CARD.padding;
    let top = y + CARD.padding;
    pdf.font('bold').fontSize(9).fillColor('#1a1a1a').text(batch.name, left, top, { width: inner, height: 12, lineBreak: false, ellipsis: true });
    top += 14;
    pdf.font('bold').fontSize(12).text(value, left, top, { width: inner, lineBreak: false });
    top += 18;
    pdf.font('bold').fontSize(11).text(formatVoucherCode(code), left, top, { width: inner, lineBreak: false });
    top += 20;
    pdf.font('regular').fontSize(7.5).fillColor('#555555').text(until, left, top, { width: inner, lineBreak: false });
    top += 11;
    pdf.text(where, left, top, { width: inner, height: 20, ellipsis: true });
  });
  pdf.end();
  return rendered;
}
