import type { DocumentParty } from '../../domain/documents/documents.js';
import type { Locale, Translate } from '../../i18n/index.js';
import { startFontedPdf } from './document-fonts.js';

// A4 in points, and the layout's measures.
export const PAGE_HEIGHT = 841.89;
export const MARGIN = 50;
export const WIDTH = 595.28 - 2 * MARGIN;
export const COLUMN = (WIDTH - 20) / 2;
const LOGO = 56;
/** Where the reference and payment rows end, and where their values start. */
export const DETAILS = { width: 300, label: 150 };
const TEXT = '#1a1a1a';
export const MUTED = '#555555';
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
  /** The portal's address, for the links a document carries (a quote's "Payer maintenant"). */
  publicUrl: string;
  branding: DocumentBranding;
}

type WriteOptions = PDFKit.Mixins.TextOptions & { font?: 'regular' | 'bold'; size?: number; colour?: string };

/**
 * One branded A4 document being drawn: the header (logo, organisation, title and number), the helpers
 * every document's body is written with, and the footer on every page. Its metadata comes from the
 * document only (title = number, author = seller, creation date = issue date), so a document renders
 * the same bytes every time.
 */
export function startDocument(
  { title, number, seller, issuedAt }: { title: string; number: string; seller: DocumentParty; issuedAt: Date },
  { t, locale, branding }: Pick<DocumentRendering, 't' | 'locale' | 'branding'>,
) {
  const { pdf, rendered } = startFontedPdf({
    size: 'A4',
    margin: MARGIN,
    bufferPages: true,
    lang: locale,
    displayTitle: true,
    info: { Title: number, Subject: title, Author: seller.name, Creator: branding.organisationName, CreationDate: issuedAt },
  });

  /** Writes `text` at (x, top); returns where it ends. */
  const write = (text: string, x: number, top: number, { font = 'regular', size = 10, colour = TEXT, ...options }: WriteOptions) => {
    pdf.font(font).fontSize(size).fillColor(colour).text(text, x, top, options);
    return pdf.y;
  };
  const rule = (y: number, colour = RULE) => {
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
  /** A party's block: its heading, its name in bold, then only the lines it has; returns where it ends. */
  const party = (label: string, name: string, lines: string[], x: number, top: number) => {
    const start = heading(label, x, top, COLUMN);
    let bottom = name.trim() ? write(name, x, start, { width: COLUMN, font: 'bold' }) : start;
    for (const line of lines.map((text) => text.trim()).filter(Boolean)) bottom = write(line, x, bottom, { width: COLUMN });
    return bottom;
  };
  /** The seller's lines as issued: address, VAT number, e-mail. */
  const sellerLines = () => [...seller.address.split('\n'), seller.vatNumber.trim() && t('documents.vatNumber', { number: seller.vatNumber.trim() }), seller.email];

  // Header: logo and organisation on the left, what the document is on the right.
  let nameX = MARGIN;
  if (branding.logoPng) {
    // pdfkit takes a Buffer for bytes (anything else for a file name).
    pdf.image(Buffer.from(branding.logoPng), MARGIN, MARGIN, { fit: [LOGO, LOGO] });
    nameX += LOGO + 12;
  }
  const nameWidth = COLUMN - (nameX - MARGIN);
  const nameHeight = pdf.font('bold').fontSize(14).heightOfString(branding.organisationName, { width: nameWidth });
  const nameEnd = write(branding.organisationName, nameX, MARGIN + Math.max(0, (LOGO - nameHeight) / 2), { width: nameWidth, font: 'bold', size: 14 });
  const titleEnd = write(title, MARGIN + COLUMN + 20, MARGIN, { width: COLUMN, align: 'right', font: 'bold', size: 24, colour: branding.accentColour });
  const numberEnd = write(number, MARGIN + COLUMN + 20, titleEnd + 2, { width: COLUMN, align: 'right', font: 'bold', size: 13 });
  const headerEnd = Math.max(branding.logoPng ? MARGIN + LOGO : MARGIN, nameEnd, numberEnd) + 14;
  rule(headerEnd, branding.accentColour);

  return {
    pdf,
    write,
    rule,
    heading,
    pairs,
    party,
    sellerLines,
    /** Where the body starts, below the header's rule. */
    bodyTop: headerEnd + 12,

    /** The footer on every page, then the bytes. */
    finish(): Promise<Buffer> {
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
    },
  };
}

export type DocumentLayout = ReturnType<typeof startDocument>;
