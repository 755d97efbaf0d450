import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { create as parseFont, type Font } from 'fontkit';
import PDFDocument from 'pdfkit';

const require = createRequire(import.meta.url);
const dejaVu = (file: string) => parseFont(readFileSync(require.resolve(`dejavu-fonts-ttf/ttf/${file}`)));

/**
 * DejaVu Sans covers Latin, Greek and Cyrillic names and the narrow no-break spaces of French amounts.
 * Parsed once per thread (each render thread loads this module anew), at the first document: parsing
 * the files again for each document, with their tables and layout engine, took three quarters of its drawing.
 */
let parsed: { regular: Font; bold: Font } | undefined;

/**
 * The fonts of the document about to be drawn. A parsed font keeps every glyph it has handed out, with
 * the characters it was first handed out for, and pdfkit writes the text a reader copies or searches
 * (the PDF's ToUnicode map) from those: kept from one document to the next, they lose or change the
 * next document's letters (after a French "Reçu", an English "Receipt" reads "Reeipt"). So each
 * document starts with none, as freshly parsed fonts would, and is drawn to the bytes they would give.
 * That holds as long as a document is drawn from here to its end without another one started in
 * between, as every document is: pdfkit lays out, subsets and writes its fonts synchronously.
 */
export function documentFonts(): { regular: Font; bold: Font } {
  parsed ??= { regular: dejaVu('DejaVuSans.ttf'), bold: dejaVu('DejaVuSans-Bold.ttf') };
  for (const font of Object.values(parsed)) font._glyphs = {};
  return parsed;
}

/**
 * A new PDF drawn with the documents' fonts, registered as `regular` and `bold` (no default font: an
 * empty name loads none, where pdfkit would load Helvetica, never used), and its bytes once it ends.
 */
export function startFontedPdf(options: PDFKit.PDFDocumentOptions): { pdf: PDFKit.PDFDocument; rendered: Promise<Buffer> } {
  const fonts = documentFonts();
  const pdf = new PDFDocument({ ...options, font: '' });
  // pdfkit takes parsed fonts as they are (since 0.20), which its types leave out.
  pdf.registerFont('regular', fonts.regular as unknown as PDFKit.Mixins.PDFFontSource);
  pdf.registerFont('bold', fonts.bold as unknown as PDFKit.Mixins.PDFFontSource);
  const chunks: Buffer[] = [];
  const rendered = new Promise<Buffer>((resolve, reject) => {
    pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  return { pdf, rendered };
}
