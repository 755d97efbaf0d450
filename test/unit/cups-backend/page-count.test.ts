import { expect } from 'chai';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import PDFDocument from 'pdfkit';
import { pdfOfPages } from '../../helpers/pdf-pages.js';
import { countPages, countPdfPageObjects, countPostScriptPages, countTextPages, kindOf } from '../../../src/cups-backend/page-count.js';


const postScript = (header: string, pages: number, trailer = '') =>
  `%!PS-Adobe-3.0\n${header}%%EndComments\n${Array.from({ length: pages }, (_, page) => `%%Page: ${page + 1} ${page + 1}\n(page) show showpage\n`).join('')}%%Trailer\n${trailer}%%EOF\n`;

describe('CUPS backend: counting pages', () => {
  let folder: string;
  const file = async (name: string, content: string | Buffer) => {
    await writeFile(path.join(folder, name), content);
    return path.join(folder, name);
  };
  before(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'recharge-cups-pages-'));
  });
  after(() => rm(folder, { recursive: true, force: true }));

  it('counts a 3-page PDF with pdfinfo or qpdf when installed, and without them by its page objects', async () => {
    const threePages = await file('three.pdf', await pdfOfPages(3));
    expect(await countPages(threePages)).to.deep.equal({ kind: 'pdf', pages: 3 });
    // An empty search path: no tool is found, the objects are counted.
    expect(await countPages(threePages, '')).to.deep.equal({ kind: 'pdf', pages: 3 });
  });

  it('takes the largest of the counts of pdfinfo, qpdf and the page objects', async () => {
    const threePages = await file('tools.pdf', await pdfOfPages(3));
    const tool = async (folderName: string, name: string, output: string) => {
      await mkdir(path.join(folder, folderName), { recursive: true });
      await writeFile(path.join(folder, folderName, name), `#!/bin/sh\nprintf '${output}'\n`);
      await chmod(path.join(folder, folderName, name), 0o755);
    };
    await tool('poppler', 'pdfinfo', 'Title: x\\nPages:          7\\n');
    await tool('qpdf', 'qpdf', '9\\n');
    await tool('both', 'pdfinfo', 'Pages: 7\\n');
    await tool('both', 'qpdf', '9\\n');
    await tool('fooled', 'pdfinfo', 'Pages: 1\\n');
    await tool('fooled', 'qpdf', '1\\n');
    expect((await countPages(threePages, path.join(folder, 'poppler'))).pages).to.equal(7);
    expect((await countPages(threePages, path.join(folder, 'qpdf'))).pages).to.equal(9);
    expect((await countPages(threePages, path.join(folder, 'both'))).pages).to.equal(9);
    // Tools that believe the page tree's /Count do not hide the page objects.
    expect((await countPages(threePages, path.join(folder, 'fooled'))).pages).to.equal(3);
  });

  it('does not believe a page tree whose /Count says fewer pages than it has', async () => {
    const five = (await pdfOfPages(5)).toString('latin1');
    expect(five).to.match(/\/Count 5\b/);
    const countSaysOne = await file('count-one.pdf', Buffer.from(five.replace(/\/Count 5\b/, '/Count 1'), 'latin1'));
    expect(await countPages(countSaysOne)).to.deep.equal({ kind: 'pdf', pages: 5 });
  });

  it('sums the PDFs of a job of several documents, which reach the backend as one stream', async () => {
    const tenThenOne = await file('ten-then-one.pdf', Buffer.concat([await pdfOfPages(10), await pdfOfPages(1)]));
    expect(await countPages(tenThenOne)).to.deep.equal({ kind: 'pdf', pages: 11 });
    expect(await countPages(tenThenOne, '')).to.deep.equal({ kind: 'pdf', pages: 11 });
    // A tool that says 20 pages for each PDF header in the file it reads: it reads each document alone.
    await mkdir(path.join(folder, 'per-header'), { recursive: true });
    await writeFile(path.join(folder, 'per-header', 'pdfinfo'), `#!/bin/sh\necho "Pages: $(( $(grep -a -c %PDF- "$1") * 20 ))"\n`);
    await chmod(path.join(folder, 'per-header', 'pdfinfo'), 0o755);
    expect(await countPages(tenThenOne, `${path.join(folder, 'per-header')}:/usr/bin:/bin`)).to.deep.equal({ kind: 'pdf', pages: 40 });
  });

  it('takes "%PDF-" in a document\'s text for text: only one after a %%EOF line starts another PDF', async () => {
    const document = new PDFDocument({ autoFirstPage: false, compress: false, info: { Title: 'Notes on %%EOF %PDF-1.7 headers' } });
    const chunks: Buffer[] = [];
    document.on('data', (chunk: Buffer) => chunks.push(chunk));
    const ended = new Promise((resolve) => document.on('end', resolve));
    for (let page = 1; page <= 3; page += 1) document.addPage().text('A PDF starts with %PDF-1.7');
    document.end();
    await ended;
    const headerInTitle = await file('header-in-title.pdf', Buffer.concat(chunks));
    expect(await countPages(headerInTitle)).to.deep.equal({ kind: 'pdf', pages: 3 });
    expect(await countPages(headerInTitle, '')).to.deep.equal({ kind: 'pdf', pages: 3 });
    const pjl = Buffer.from('\r\n\x1b%-12345X@PJL JOB\r\n@PJL ENTER LANGUAGE=PDF\r\n', 'latin1');
    const afterPjl = await file('after-pjl.pdf', Buffer.concat([await pdfOfPages(10), pjl, await pdfOfPages(1)]));
    expect(await countPages(afterPjl, '')).to.deep.equal({ kind: 'pdf', pages: 11 });
    // A document in the middle with no page still holds the job.
    const noPage = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n%%EOF\n', 'latin1');
    const emptyInMiddle = await file('empty-in-middle.pdf', Buffer.concat([await pdfOfPages(2), noPage, await pdfOfPages(1)]));
    expect(await countPages(emptyInMiddle)).to.deep.equal({ kind: 'pdf', pages: null });
  });

  it('counts /Type /Page and /Type/Page objects once each, not the /Pages tree', () => {
    const pdf = [
      '%PDF-1.4',
      '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj',
      '2 0 obj << /Type/Pages /Kids [3 0 R 4 0 R] /Count 2 >> endobj',
      '3 0 obj << /Type /Page /Parent 2 0 R >> endobj',
      '4 0 obj << /Type/Page/Parent 2 0 R >> endobj',
      // An incremental update writes object 4 again: still one page.
      '4 0 obj << /Type /Page /Parent 2 0 R /Rotate 90 >> endobj',
      '%%EOF',
    ].join('\n');
    expect(countPdfPageObjects(Buffer.from(pdf, 'latin1'))).to.equal(2);
  });

  it('reads name escapes and comments in page objects', () => {
    const pdf = [
      '%PDF-1.4',
      '2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 1 >> endobj',
      '3 0 obj << /Type /P#61ge /Parent 2 0 R >> endobj',
      '4 0 obj << /Type %a comment\n/Page /Parent 2 0 R >> endobj',
      '5 0 obj << /Type/Page>> endobj',
      '6 0 obj << /Type /P#61ges /Type /PageX >> endobj',
      '%%EOF',
    ].join('\n');
    expect(countPdfPageObjects(Buffer.from(pdf, 'latin1'))).to.equal(3);
  });

  it('counts pages inside compressed object streams', () => {
    const objects = deflateSync(Buffer.from('3 0 4 40 << /Type /Page /Parent 2 0 R >> << /Type /Page /Parent 2 0 R >>', 'latin1'));
    const pdf = Buffer.concat([
      Buffer.from('%PDF-1.5\n2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >> endobj\n5 0 obj << /Type /ObjStm /N 2 /First 8 /Filter /FlateDecode >>\nstream\n', 'latin1'),
      objects,
      Buffer.from('\nendstream\nendobj\n%%EOF\n', 'latin1'),
    ]);
    expect(countPdfPageObjects(pdf)).to.equal(2);
    expect(countPdfPageObjects(Buffer.from('%PDF-1.4\n%%EOF\n'))).to.equal(0);
  });

  it('counts PostScript by its DSC comments, the largest of %%Pages: and the %%Page: comments', async () => {
    expect(countPostScriptPages(postScript('%%Pages: 4\n', 4))).to.equal(4);
    expect(countPostScriptPages(postScript('%%Pages: (atend)\n', 2, '%%Pages: 2\n'))).to.equal(2);
    expect(countPostScriptPages(postScript('', 5))).to.equal(5);
    expect(countPostScriptPages(postScript('%%Pages: 1\n', 3))).to.equal(3);
    expect(countPostScriptPages(postScript('%%Pages: 1\n', 1, '%%Pages: 6\n'))).to.equal(6);
    expect(countPostScriptPages('%!PS\n(no comments) show showpage\n')).to.equal(null);
    const withPjl = await file('pjl.ps', `\x1b%-12345X@PJL JOB\n@PJL ENTER LANGUAGE=POSTSCRIPT\n${postScript('%%Pages: 3\n', 3)}\x1b%-12345X@PJL EOJ\n\x1b%-12345X`);
    expect(await countPages(withPjl)).to.deep.equal({ kind: 'postscript', pages: 3 });
  });

  it('sums the PostScript documents of a job of several documents', () => {
    expect(countPostScriptPages(postScript('%%Pages: 4\n', 4) + postScript('%%Pages: 3\n', 0))).to.equal(7);
  });

  it('counts an included document (an EPS figure) with the page it is drawn on, not as a document of its own', () => {
    const eps = '%!PS-Adobe-3.0 EPSF-3.0\n%%Pages: 1\n%%EndComments\n%%Page: 1 1\nstroke\n%%EOF\n';
    const figure = (content: string) => `%%BeginDocument: figure.eps\n${content}%%EndDocument\n`;
    // A figure that includes another, and a figure whose file holds two EPS.
    const nested = figure(`%!PS-Adobe-3.0 EPSF-3.0\n%%Pages: 1\n%%EndComments\n${figure(eps)}%%Page: 1 1\nstroke\n%%EOF\n`);
    const page = (number: number, body = '') => `%%Page: ${number} ${number}\n(page) show\n${body}showpage\n`;
    const dvips = `%!PS-Adobe-2.0\n%%Pages: (atend)\n%%EndComments\n${page(1)}${page(2, figure(eps))}${page(3, nested)}${page(4, figure(eps + eps))}%%Trailer\n%%Pages: 4\n%%EOF\n`;
    expect(countPostScriptPages(dvips)).to.equal(4);
    expect(countPostScriptPages(dvips + postScript('%%Pages: 3\n', 3))).to.equal(7);
    // The printer starts a new job after a UEL, %%EOF or not.
    expect(countPostScriptPages(`%!PS\n%%Pages: 2\n\x1b%-12345X%!PS\n%%Pages: 3\n`)).to.equal(5);
    // Where an included document never ended is unknown: its pages count too.
    expect(countPostScriptPages(`%!PS\n%%Pages: 1\n%%Page: 1 1\n%%BeginDocument\n%%Page: 2 2\n%%Page: 3 3\n`)).to.equal(3);
  });

  it('counts nothing when PJL switches to a language it does not count', async () => {
    const pcl = '\x1bE' + 'page\x1b&l0H'.repeat(50);
    const psThenPcl = await file('ps-then-pcl.prn', `${postScript('%%Pages: 1\n', 1)}\x1b%-12345X${pcl}`);
    expect(await countPages(psThenPcl)).to.deep.equal({ kind: 'postscript', pages: null });
    const entersPcl = await file('enter-pcl.prn', `\x1b%-12345X@PJL ENTER LANGUAGE=PCL\n${postScript('%%Pages: 1\n', 1)}`);
    expect(await countPages(entersPcl)).to.deep.equal({ kind: 'postscript', pages: null });
    const pdfThenPcl = await file('pdf-then-pcl.prn', Buffer.concat([await pdfOfPages(1), Buffer.from(`\x1b%-12345X@PJL JOB\n${pcl}`, 'latin1')]));
    expect(await countPages(pdfThenPcl)).to.deep.equal({ kind: 'pdf', pages: null });
  });

  it('counts text by form feeds and 60 lines a page', async () => {
    const lines = (count: number) => Array.from({ length: count }, (_, line) => `line ${line + 1}`).join('\n');
    expect(countTextPages('')).to.equal(0);
    expect(countTextPages('one line\n')).to.equal(1);
    expect(countTextPages(`${lines(60)}\n`)).to.equal(1);
    expect(countTextPages(lines(61))).to.equal(2);
    expect(countTextPages(`first\fsecond\f${lines(130)}\f`)).to.equal(5);
    expect(await countPages(await file('letter.txt', `Dear reader,\n\nÉté 2026 — 3 pages?\f${lines(70)}`))).to.deep.equal({ kind: 'text', pages: 3 });
  });

  it('counts a line longer than 100 characters as the lines it wraps onto, a tab as 8 characters', () => {
    expect(countTextPages(`${'y'.repeat(100)}\n`.repeat(60))).to.equal(1);
    expect(countTextPages(`${'y'.repeat(101)}\n`.repeat(60))).to.equal(2);
    expect(countTextPages(`${'y'.repeat(5000)}\n`.repeat(60))).to.equal(50);
    expect(countTextPages(`${'\t'.repeat(13)}\n`.repeat(60))).to.equal(2);
  });

  it('counts an empty document as uncountable: a job prints at least one page', async () => {
    expect(await countPages(await file('empty.txt', ''))).to.deep.equal({ kind: 'text', pages: null });
    expect(await countPages(await file('no-page.pdf', '%PDF-1.4\n1 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n%%EOF\n'))).to.deep.equal({ kind: 'pdf', pages: null });
    expect(await countPages(await file('no-page.ps', postScript('%%Pages: 0\n', 0)))).to.deep.equal({ kind: 'postscript', pages: null });
  });

  it('takes a document for text only when all of it is text', async () => {
    const textThenPcl = await file('text-then-pcl.prn', `${'x'.repeat(5000)}\r\n\x1bE${'page\x1b&l0H'.repeat(100)}`);
    expect(await countPages(textThenPcl)).to.deep.equal({ kind: null, pages: null });
    const textThenBadUtf8 = await file('text-then-latin1.txt', Buffer.concat([Buffer.from('x'.repeat(5000)), Buffer.from([0xe9])]));
    expect(await countPages(textThenBadUtf8)).to.deep.equal({ kind: null, pages: null });
  });

  it('counts nothing it cannot read: printer languages and binary data', async () => {
    expect(kindOf(Buffer.from('\x1bE\x1b&l1O PCL job'))).to.equal(null);
    expect(await countPages(await file('raster.bin', Buffer.from([0x52, 0x61, 0x53, 0x32, 0, 0, 1, 0xff, 0xfe])))).to.deep.equal({ kind: null, pages: null });
  });
});
