import { getDocument, OPS } from 'pdfjs-dist/legacy/build/pdf.mjs';

export interface PdfContents {
  /** The printed text, a line per baseline (pieces on one baseline joined by a space), pages separated by a blank line. */
  text: string;
  lines: string[];
  pages: number;
  /** The document information dictionary (Title, Author, CreationDate as PDF date strings, …). */
  info: Record<string, unknown>;
  /** The pixel size of each image drawn (a logo), in page order. */
  images: Array<{ width: number; height: number }>;
  /** Where each link leads, in page order. */
  links: string[];
}

/** How far apart two pieces of text may sit vertically and still be read as one line (points). */
const SAME_LINE = 2;

/**
 * Reads a PDF back as a reader would copy it, with pdf.js. Spaces of any kind come out as plain
 * spaces (pdf.js normalises the no-break spaces of French amounts).
 */
export async function readPdf(bytes: Buffer): Promise<PdfContents> {
  const document = await getDocument({ data: new Uint8Array(bytes), verbosity: 0 }).promise;
  try {
    const lines: string[] = [];
    const images: PdfContents['images'] = [];
    const links: string[] = [];
    for (let number = 1; number <= document.numPages; number += 1) {
      const page = await document.getPage(number);
      for (const annotation of (await page.getAnnotations()) as Array<{ subtype: string; url?: string }>) if (annotation.subtype === 'Link' && annotation.url) links.push(annotation.url);
      const { fnArray, argsArray } = await page.getOperatorList();
      for (const [index, operation] of fnArray.entries()) {
        // paintImageXObject's arguments: the image's id, then its width and height in pixels.
        if (operation === OPS.paintImageXObject) images.push({ width: Number(argsArray[index][1]), height: Number(argsArray[index][2]) });
      }
      const pieces = (await page.getTextContent()).items
        .flatMap((item) => ('str' in item && item.str.trim() !== '' ? [{ text: item.str.trim(), x: Number(item.transform[4]), y: Number(item.transform[5]) }] : []))
        .sort((one, other) => other.y - one.y || one.x - other.x);
      const rows: Array<Array<{ text: string; x: number; y: number }>> = [];
      for (const piece of pieces) {
        const row = rows.at(-1);
        if (row && Math.abs(row[0]!.y - piece.y) <= SAME_LINE) row.push(piece);
        else rows.push([piece]);
      }
      if (number > 1) lines.push('');
      lines.push(...rows.map((row) => row.sort((one, other) => one.x - other.x).map((piece) => piece.text).join(' ').replace(/\s+/g, ' ')));
    }
    const { info } = await document.getMetadata();
    return { text: lines.join('\n'), lines, pages: document.numPages, info: info as Record<string, unknown>, images, links };
  } finally {
    await document.destroy();
  }
}
