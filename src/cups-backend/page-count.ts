import { execFile } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';

/** What the document is, from its first bytes; null when it is none of the kinds counted here. */
export type DocumentKind = 'pdf' | 'postscript' | 'text';

/** PJL, which drivers put before PostScript, starts with the Universal Exit Language sequence. */
const PJL_PREFIX = '\x1b%-12345X';
const HEAD_BYTES = 4096;

export function kindOf(head: Buffer): DocumentKind | null {
  const text = head.toString('latin1');
  if (text.slice(0, 1024).includes('%PDF-')) return 'pdf';
  if (text.startsWith('%!') || (text.startsWith(PJL_PREFIX) && /^%!/m.test(text))) return 'postscript';
  // Text: valid UTF-8 (a character cut at the end of the head is fine) and no control character but tab, line feed, carriage return and form feed.
  const decoded = new TextDecoder('utf-8', { fatal: false }).decode(head);
  const withoutCutEnd = decoded.replace(/\uFFFD{1,3}$/, '');
  return withoutCutEnd.includes('\uFFFD') || [...withoutCutEnd].some(isControl) ? null : 'text';
}

/** Control characters that plain text does not hold (PCL and other printer languages start with ESC). */
const isControl = (char: string) => {
  const code = char.charCodeAt(0);
  return (code < 0x20 && !'\t\n\r\f'.includes(char)) || code === 0x7f;
};

const TOOL_TIMEOUT_MS = 30_000;

/** Standard output of a program looked up on `searchPath`; null when it is missing or fails. */
function outputOf(program: string, args: string[], searchPath: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(program, args, { env: { PATH: searchPath, LC_ALL: 'C' }, timeout: TOOL_TIMEOUT_MS, maxBuffer: 1 << 20 }, (error, stdout) => resolve(error ? null : stdout));
  });
}

/** Poppler's pdfinfo, then qpdf: they read any PDF (object streams, incremental updates, repairs). */
async function pdfPagesByTool(file: string, searchPath: string): Promise<number | null> {
  const info = await outputOf('pdfinfo', [file], searchPath);
  const fromInfo = info === null ? undefined : /^Pages:\s+(\d+)\s*$/m.exec(info)?.[1];
  if (fromInfo !== undefined) return Number(fromInfo);
  const qpdf = await outputOf('qpdf', ['--show-npages', file], searchPath);
  return qpdf !== null && /^\d+\s*$/.test(qpdf) ? Number(qpdf) : null;
}

/** `/Type /Page` (or `/Type/Page`), not `/Pages`, the tree's inner nodes. */
const PAGE_TYPE = /\/Type\s*\/Page(?![A-Za-z0-9#])/;
const PAGE_TYPES = new RegExp(PAGE_TYPE.source, 'g');

/**
 * Without a tool: each page object once, by its object number (an incremental update writes a page
 * again under the same number). Page objects in compressed object streams (PDF 1.5) are counted in
 * the inflated streams, where they carry no number.
 */
export function countPdfPageObjects(pdf: Buffer): number | null {
  const text = pdf.toString('latin1');
  const pageObjects = new Set<string>();
  for (const match of text.matchAll(/(\d+)\s+(\d+)\s+obj\b([\s\S]*?)\bendobj\b/g)) {
    const body = (match[3] as string).split(/\bstream\r?\n/)[0] as string;
    if (PAGE_TYPE.test(body)) pageObjects.add(`${match[1]} ${match[2]}`);
  }
  let inStreams = 0;
  for (const match of text.matchAll(/\/Type\s*\/ObjStm\b[\s\S]*?\bstream\r?\n/g)) {
    const start = (match.index ?? 0) + match[0].length;
    const end = text.indexOf('endstream', start);
    if (end === -1) continue;
    try {
      inStreams += inflateSync(pdf.subarray(start, end)).toString('latin1').match(PAGE_TYPES)?.length ?? 0;
    } catch {
      // Not deflated, or cut: its pages cannot be counted here.
    }
  }
  const pages = pageObjects.size + inStreams;
  return pages > 0 ? pages : null;
}

/** DSC: `%%Pages: n` (the trailer's when the header says `(atend)`), else the `%%Page:` comments. */
export function countPostScriptPages(text: string): number | null {
  const declared = [...text.matchAll(/^%%Pages:\s*(\d+)/gm)].map((match) => Number(match[1]));
  const last = declared.at(-1);
  if (last !== undefined) return last;
  const pages = text.match(/^%%Page:/gm)?.length ?? 0;
  return pages > 0 ? pages : null;
}

/** Form feeds start a page; a page longer than 60 lines runs onto the next. */
export const LINES_PER_PAGE = 60;

export function countTextPages(text: string): number {
  if (text === '') return 0;
  const sheets = text.replace(/\f$/, '').split('\f');
  return sheets.reduce((pages, sheet) => {
    const lines = sheet.replace(/\r?\n$/, '').split(/\r?\n/).length;
    return pages + Math.max(1, Math.ceil(lines / LINES_PER_PAGE));
  }, 0);
}

async function headOf(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export interface PageCount {
  kind: DocumentKind | null;
  /** null: the pages could not be counted. */
  pages: number | null;
}

/** The document's pages, one copy. `searchPath` is where pdfinfo and qpdf are looked for (PATH). */
export async function countPages(file: string, searchPath = process.env.PATH ?? ''): Promise<PageCount> {
  const kind = kindOf(await headOf(file));
  switch (kind) {
    case 'pdf':
      return { kind, pages: (await pdfPagesByTool(file, searchPath)) ?? countPdfPageObjects(await readFile(file)) };
    case 'postscript':
      return { kind, pages: countPostScriptPages((await readFile(file)).toString('latin1')) };
    case 'text':
      return { kind, pages: countTextPages((await readFile(file)).toString('utf8')) };
    default:
      return { kind, pages: null };
  }
}
