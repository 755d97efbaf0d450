import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inflateSync } from 'node:zlib';

/**
 * The person printing controls the document, so every count here errs towards more pages: several
 * counts are taken and the largest wins, and a document that cannot be counted gets null (the job
 * is held, never printed free).
 */
export type DocumentKind = 'pdf' | 'postscript' | 'text';

/** PJL, which drivers put around PostScript and PDF, starts each section with the Universal Exit Language sequence. */
const UEL = '\x1b%-12345X';

/** What the document is; null when it is none of the kinds counted here. */
export function kindOf(data: Buffer): DocumentKind | null {
  const head = data.subarray(0, 4096).toString('latin1');
  if (head.slice(0, 1024).includes('%PDF-')) return 'pdf';
  if (head.startsWith('%!') || (head.startsWith(UEL) && /^%!/m.test(head))) return 'postscript';
  return isText(data) ? 'text' : null;
}

/** Control characters that plain text does not hold (PCL and other printer languages use ESC); tab, line feed, carriage return and form feed are text. */
const CONTROL = /(?![\t\n\r\f])\p{Cc}/u;

/** The whole document, not its start: a printer language may follow any amount of text. */
function isText(data: Buffer): boolean {
  try {
    return !CONTROL.test(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch {
    return false; // Not UTF-8.
  }
}

/**
 * After a UEL the printer may switch to another language (PCL…), whose pages nobody counts here: only
 * PJL lines may follow, then the counted language (`ENTER LANGUAGE` naming it), or nothing.
 */
function onlyCountedLanguageAfterEachUel(text: string, pjlLanguage: string, languageStart: string): boolean {
  const languages = [...text.matchAll(/@PJL\s+ENTER\s+LANGUAGE\s*=\s*([A-Za-z0-9]*)/gi)].map((match) => (match[1] as string).toUpperCase());
  if (languages.some((language) => language !== pjlLanguage)) return false;
  return text
    .split(UEL)
    .slice(1)
    .every((section) => {
      const afterPjl = section.replace(/^(?:\s|@PJL[^\r\n]*)*/i, '');
      return afterPjl === '' || afterPjl.startsWith(languageStart);
    });
}

const TOOL_TIMEOUT_MS = 30_000;

/** Standard output of a program looked up on `searchPath`; null when it is missing or fails. */
function outputOf(program: string, args: string[], searchPath: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(program, args, { env: { PATH: searchPath, LC_ALL: 'C' }, timeout: TOOL_TIMEOUT_MS, maxBuffer: 1 << 20 }, (error, stdout) => resolve(error ? null : stdout));
  });
}

/** Poppler's pdfinfo and qpdf read any PDF (object streams, incremental updates, repairs), but each trusts some of what the file says. */
async function pdfPagesByTools(file: string, searchPath: string): Promise<number[]> {
  const info = await outputOf('pdfinfo', [file], searchPath);
  const fromInfo = info === null ? undefined : /^Pages:\s+(\d+)\s*$/m.exec(info)?.[1];
  const qpdf = await outputOf('qpdf', ['--show-npages', file], searchPath);
  const fromQpdf = qpdf !== null && /^\d+\s*$/.test(qpdf) ? qpdf : undefined;
  return [fromInfo, fromQpdf].filter((count) => count !== undefined).map(Number);
}

/** A name ends at white space or a delimiter: `/Type /Page` but not `/Pages`, the tree's inner nodes, nor `/PageX`. */
const PAGE_TYPE = /\/Type(?:\s|%[^\r\n]*)*\/Page(?![^\s()<>[\]{}/%])/;
const PAGE_TYPES = new RegExp(PAGE_TYPE.source, 'g');
const OBJECT_STREAM_TYPE = /\/Type(?:\s|%[^\r\n]*)*\/ObjStm(?![^\s()<>[\]{}/%])/;

/** Names may write any character as `#` and two hex digits (`/P#61ge` is `/Page`). */
const withNameEscapesDecoded = (text: string) => text.replace(/#([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

/**
 * Without trusting the page tree's `/Count`: each page object once, by its object number (an
 * incremental update writes a page again under the same number). Page objects in compressed object
 * streams (PDF 1.5) are counted in the inflated streams, where they carry no number.
 */
export function countPdfPageObjects(pdf: Buffer): number {
  const text = pdf.toString('latin1');
  const pageObjects = new Set<string>();
  let inStreams = 0;
  for (const match of text.matchAll(/(\d+)\s+(\d+)\s+obj\b([\s\S]*?)\bendobj\b/g)) {
    const body = match[3] as string;
    const streamKeyword = /\bstream\r?\n/.exec(body);
    const dictionary = withNameEscapesDecoded(body.slice(0, streamKeyword?.index ?? body.length));
    if (PAGE_TYPE.test(dictionary)) pageObjects.add(`${match[1]} ${match[2]}`);
    if (streamKeyword === null || !OBJECT_STREAM_TYPE.test(dictionary)) continue;
    const bodyStart = (match.index ?? 0) + match[0].length - 'endobj'.length - body.length;
    const start = bodyStart + streamKeyword.index + streamKeyword[0].length;
    const end = text.indexOf('endstream', start);
    try {
      inStreams += withNameEscapesDecoded(inflateSync(pdf.subarray(start, end === -1 ? pdf.length : end)).toString('latin1')).match(PAGE_TYPES)?.length ?? 0;
    } catch {
      // Not deflated, or cut: its pages cannot be counted here.
    }
  }
  return pageObjects.size + inStreams;
}

/**
 * Several documents in one job (`lp a.pdf b.pdf`) reach the backend as one stream, each PDF after the
 * `%%EOF` line of the one before (white space and a PJL preamble may come between). A `%PDF-` anywhere
 * else is the document's own text (a title, an uncompressed page), not another document. Each
 * alternative starts with a different character and a PJL line ends at its line break, so this never
 * backtracks, whatever the stream holds.
 */
const NEXT_PDF_HEADER = new RegExp(String.raw`(?<![^\r\n])%%EOF(?:[\0\t\n\f\r ]|${UEL}|@PJL[^\r\n]*[\r\n])*(?=%PDF-)`, 'g');

/** Each PDF of the stream; the first keeps what comes before its header (PJL). */
function pdfParts(pdf: Buffer): Buffer[] {
  const starts = [0, ...[...pdf.toString('latin1').matchAll(NEXT_PDF_HEADER)].map((match) => match.index + match[0].length)];
  return starts.map((start, index) => pdf.subarray(start, starts[index + 1] ?? pdf.length));
}

const largestPositive = (counts: number[]) => {
  const largest = Math.max(0, ...counts);
  return largest > 0 ? largest : null;
};

/** Each part's largest count, summed; null when any part has no page (a real document has one). */
async function countPdfPages(file: string, pdf: Buffer, searchPath: string): Promise<number | null> {
  const parts = pdfParts(pdf);
  if (parts.length === 1) return largestPositive([...(await pdfPagesByTools(file, searchPath)), countPdfPageObjects(pdf)]);
  const folder = await mkdtemp(path.join(tmpdir(), 'recharge-pdf-parts-'));
  try {
    let total = 0;
    for (const [index, part] of parts.entries()) {
      const partFile = path.join(folder, `${index}.pdf`);
      await writeFile(partFile, part);
      const pages = largestPositive([...(await pdfPagesByTools(partFile, searchPath)), countPdfPageObjects(part)]);
      if (pages === null) return null;
      total += pages;
    }
    return total;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** A line of white space or Ctrl-D (which drivers put between PostScript jobs) does not end what a `%%EOF` line began. */
// eslint-disable-next-line no-control-regex -- Ctrl-D is the point
const BLANK_LINE = /^[\s\x04]*$/;
// eslint-disable-next-line no-control-regex -- Ctrl-D is the point
const DOCUMENT_START = /^[\s\x04]*%!/;

/**
 * The lines of each document of one UEL section that are its own. A document starts the section or
 * starts with `%!` after a `%%EOF` line. Between `%%BeginDocument` and `%%EndDocument` (nested) is an
 * included document, such as an EPS figure drawn on a page: its header, `%%EOF` and page comments are
 * not the including document's. One never ended leaves unknown where it stops, so all of it counts.
 */
function postScriptDocuments(section: string): string[][] {
  const documents: string[][] = [];
  let own: string[] = [];
  let included: string[] = [];
  let depth = 0;
  let afterEof = false;
  for (const line of section.split(/\r\n?|\n/)) {
    if (afterEof && DOCUMENT_START.test(line)) {
      documents.push(own);
      own = [];
      included = [];
    }
    if (line.startsWith('%%BeginDocument')) depth += 1;
    (depth === 0 ? own : included).push(line);
    if (depth > 0 && line.startsWith('%%EndDocument')) depth -= 1;
    if (!BLANK_LINE.test(line)) afterEof = depth === 0 && /^%%EOF\b/.test(line);
  }
  documents.push(depth === 0 ? own : [...own, ...included]);
  return documents;
}

/** The largest of a document's `%%Pages:` values (header and trailer) and the number of its `%%Page:` comments. */
function dscPages(lines: string[]): number {
  const marked = lines.filter((line) => line.startsWith('%%Page:')).length;
  return lines.reduce((largest, line) => Math.max(largest, Number(/^%%Pages:\s*(\d+)/.exec(line)?.[1] ?? 0)), marked);
}

/** DSC, document by document, summed: after a UEL the printer starts a new job whatever came before. */
export function countPostScriptPages(text: string): number | null {
  const pages = text
    .split(UEL)
    .flatMap((section) => postScriptDocuments(section))
    .reduce((sum, lines) => sum + dscPages(lines), 0);
  return pages > 0 ? pages : null;
}

/** Form feeds start a page; a page longer than 60 lines runs onto the next. */
export const LINES_PER_PAGE = 60;
/** A longer line wraps onto the next lines. */
export const CHARACTERS_PER_LINE = 100;
/** A tab is counted as the widest it can be, so that tabs cannot hide a wrapped line. */
const TAB_WIDTH = 8;

const linesOf = (line: string) => {
  const columns = line.length + (TAB_WIDTH - 1) * (line.match(/\t/g)?.length ?? 0);
  return Math.max(1, Math.ceil(columns / CHARACTERS_PER_LINE));
};

export function countTextPages(text: string): number {
  if (text === '') return 0;
  const sheets = text.replace(/\f$/, '').split('\f');
  return sheets.reduce((pages, sheet) => {
    const lines = sheet
      .replace(/\r?\n$/, '')
      .split(/\r?\n/)
      .reduce((sum, line) => sum + linesOf(line), 0);
    return pages + Math.max(1, Math.ceil(lines / LINES_PER_PAGE));
  }, 0);
}

export interface PageCount {
  kind: DocumentKind | null;
  /** null: the pages could not be counted (0 pages counts as that: a real job prints at least one). */
  pages: number | null;
}

async function countOfKind(file: string, data: Buffer, kind: DocumentKind | null, searchPath: string): Promise<number | null> {
  switch (kind) {
    case 'pdf':
      return onlyCountedLanguageAfterEachUel(data.toString('latin1'), 'PDF', '%PDF-') ? countPdfPages(file, data, searchPath) : null;
    case 'postscript': {
      const text = data.toString('latin1');
      return onlyCountedLanguageAfterEachUel(text, 'POSTSCRIPT', '%!') ? countPostScriptPages(text) : null;
    }
    case 'text':
      return countTextPages(data.toString('utf8')) || null;
    default:
      return null;
  }
}

/** The document's pages, one copy. `searchPath` is where pdfinfo and qpdf are looked for (PATH). */
export async function countPages(file: string, searchPath = process.env.PATH ?? ''): Promise<PageCount> {
  const data = await readFile(file);
  const kind = kindOf(data);
  try {
    return { kind, pages: await countOfKind(file, data, kind, searchPath) };
  } catch {
    // A document too large to read as one string cannot be counted here.
    return { kind, pages: null };
  }
}
