import PDFDocument from 'pdfkit';

/** A PDF of `pages` pages, each saying which it is, as a person would print one. */
export async function pdfOfPages(pages: number): Promise<Buffer> {
  const document = new PDFDocument({ autoFirstPage: false });
  const chunks: Buffer[] = [];
  document.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise((resolve) => document.on('end', resolve));
  for (let page = 1; page <= pages; page += 1) document.addPage().text(`Page ${page} of ${pages}`);
  document.end();
  await ended;
  return Buffer.concat(chunks);
}
