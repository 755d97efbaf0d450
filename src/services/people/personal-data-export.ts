import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import type { Database } from '../../db/database.js';
import { readDocumentPdf, readDocuments, readIdentityLinks, readLedgerPage, readOrders, readProfile, readQuotes, readSignIns } from '../../db/people/personal-data-repository.js';

/** Ledger entries read per query while the history is written. */
const LEDGER_PAGE = 1000;

/** What a person's download holds, and how each file is named in it. */
export const PERSONAL_DATA_FILES = {
  readme: 'README.txt',
  profile: 'profile.json',
  signIns: 'sign-ins.json',
  orders: 'orders.json',
  ledger: 'ledger-history.json',
  documents: 'documents.json',
  quotes: 'quotes.json',
  pdfFolder: 'documents/',
} as const;

const README = `Your data as the print-credit portal keeps it, in JSON (UTF-8), with your receipts and credit notes as PDF.
Amounts are integers: hundredths of a unit ("amount", "balance_after", "units") or cents ("price_cents"). Times are UTC.
`;

const json = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

/**
 * The person's data as one ZIP, produced chunk by chunk as the reader pulls: each file is compressed
 * as it is read, the ledger history a page of entries at a time and the PDFs one at a time (stored,
 * not compressed again), so memory stays bounded however long the history. Nothing is cached.
 */
export async function* personalDataArchive(db: Database, userId: number, now: Date): AsyncGenerator<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let failure: Error | null = null;
  const zip = new Zip((error, chunk) => {
    if (error) failure = error;
    else chunks.push(chunk);
  });
  /** What the ZIP wrote since the last call. */
  function* drain(): Generator<Uint8Array> {
    if (failure) throw failure;
    while (chunks.length > 0) yield chunks.shift() as Uint8Array;
  }
  const file = (name: string, stored = false) => {
    const entry = stored ? new ZipPassThrough(name) : new ZipDeflate(name, { level: 6 });
    entry.mtime = now;
    zip.add(entry);
    return entry;
  };
  const whole = (name: string, bytes: Uint8Array, stored = false) => file(name, stored).push(bytes, true);

  const knex = db.knex;
  whole(PERSONAL_DATA_FILES.readme, new TextEncoder().encode(README));
  whole(PERSONAL_DATA_FILES.profile, json({ exportedAt: now.toISOString(), profile: await readProfile(knex, userId), identityLinks: await readIdentityLinks(knex, userId) }));
  yield* drain();
  whole(PERSONAL_DATA_FILES.signIns, json(await readSignIns(knex, userId)));
  whole(PERSONAL_DATA_FILES.orders, json(await readOrders(knex, userId)));
  yield* drain();

  // A JSON array written a page at a time.
  const ledger = file(PERSONAL_DATA_FILES.ledger);
  ledger.push(new TextEncoder().encode('['));
  let afterId = 0;
  let first = true;
  for (;;) {
    const page = await readLedgerPage(knex, userId, afterId, LEDGER_PAGE);
    for (const entry of page) {
      ledger.push(new TextEncoder().encode(`${first ? '\n' : ',\n'}  ${JSON.stringify(entry)}`));
      first = false;
    }
    yield* drain();
    if (page.length < LEDGER_PAGE) break;
    afterId = Number(page[page.length - 1]?.id);
  }
  ledger.push(new TextEncoder().encode('\n]\n'), true);

  const documents = await readDocuments(knex, userId);
  whole(PERSONAL_DATA_FILES.documents, json(documents.map(({ locales: _locales, ...document }) => document)));
  yield* drain();
  for (const document of documents) {
    for (const locale of document.locales) {
      const pdf = await readDocumentPdf(knex, document.id, locale);
      if (pdf) whole(`${PERSONAL_DATA_FILES.pdfFolder}${document.number}-${locale}.pdf`, pdf, true);
      yield* drain();
    }
  }
  whole(PERSONAL_DATA_FILES.quotes, json(await readQuotes(knex, userId)));
  zip.end();
  yield* drain();
}
