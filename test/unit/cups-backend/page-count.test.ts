import { expect } from 'chai';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
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

  it('takes the count of pdfinfo, else of qpdf, from the search path', async () => {
    const threePages = await file('tools.pdf', await pdfOfPages(3));
    const tool = async (folderName: string, name: string, output: string) => {
      await mkdir(path.join(folder, folderName), { recursive: true });
      await writeFile(path.join(folder, folderName, name), `#!/bin/sh\nprintf '${output}'\n`);
      await chmod(path.join(folder, folderName, name), 0o755);
    };
    await tool('poppler', 'pdfinfo', 'Title: x\\nPages:          7\\n');
    await tool('qpdf', 'qpdf', '9\\n');
    expect((await countPages(threePages, path.join(folder, 'poppler'))).pages).to.equal(7);
    expect((await countPages(threePages, path.join(folder, 'qpdf'))).pages).to.equal(9);
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

  it('counts pages inside compressed object streams', () => {
    const objects = deflateSync(Buffer.from('3 0 4 40 << /Type /Page /Parent 2 0 R >> << /Type /Page /Parent 2 0 R >>', 'latin1'));
    const pdf = Buffer.concat([
      Buffer.from('%PDF-1.5\n2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >> endobj\n5 0 obj << /Type /ObjStm /N 2 /First 8 /Filter /FlateDecode >>\nstream\n', 'latin1'),
      objects,
      Buffer.from('\nendstream\nendobj\n%%EOF\n', 'latin1'),
    ]);
    expect(countPdfPageObjects(pdf)).to.equal(2);
    expect(countPdfPageObjects(Buffer.from('%PDF-1.4\n%%EOF\n'))).to.equal(null);
  });

  it('counts PostScript by its DSC comments', async () => {
    expect(countPostScriptPages(postScript('%%Pages: 4\n', 4))).to.equal(4);
    expect(countPostScriptPages(postScript('%%Pages: (atend)\n', 2, '%%Pages: 2\n'))).to.equal(2);
    expect(countPostScriptPages(postScript('', 5))).to.equal(5);
    expect(countPostScriptPages('%!PS\n(no comments) show showpage\n')).to.equal(null);
    const withPjl = await file('pjl.ps', `\x1b%-12345X@PJL JOB\n@PJL ENTER LANGUAGE=POSTSCRIPT\n${postScript('%%Pages: 3\n', 3)}`);
    expect(await countPages(withPjl)).to.deep.equal({ kind: 'postscript', pages: 3 });
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

  it('counts nothing it cannot read: printer languages and binary data', async () => {
    expect(kindOf(Buffer.from('\x1bE\x1b&l1O PCL job'))).to.equal(null);
    expect(await countPages(await file('raster.bin', Buffer.from([0x52, 0x61, 0x53, 0x32, 0, 0, 1, 0xff, 0xfe])))).to.deep.equal({ kind: null, pages: null });
  });
});
