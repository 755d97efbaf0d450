import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { create as parseFont, type Font } from 'fontkit';

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
