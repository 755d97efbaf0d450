import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import type { Database } from '../../db/database.js';
import {
  readCreditRefundRequests,
  readDocumentPdf,
  readDocuments,
  readIdentityLinks,
  readLedgerPage,
  readLowBalanceAlert,
  readOrders,
  readPrintJobPage,
  readProfile,
  readQuotes,
  readVoucherPurchases,
  readSignIns,
  readSecondFactors,
} from '../../db/people/personal-data-repository.js';

/** Rows read per query while a long history (ledger entries, print jobs) is written. */
const PAGE = 1000;

/** What a person's download holds, and how each file is named in it. */
export const PERSONAL_DATA_FILES = {
  readme: 'README.txt',
  profile: 'profile.json',
  signIns: 'sign-ins.json',
  secondFactors: 'second-factors.json',
  orders: 'orders.json',
  creditRefunds: 'credit-refund-requests.json',
  ledger: 'ledger-history.json',
  printJobs: 'print-jobs.json',
  refusedJobs: 'refused-print-jobs.json',
  documents: 'documents.json',
  quotes: 'quotes.json',
  voucherPurchases: 'bought-codes.json',
  pdfFolder: 'documents/',
} as const;

const README = `Your data as the print-credit portal keeps it, in JSON (UTF-8), with your receipts and credit notes as PDF.
Amounts are integers: hundredths of a unit ("amount", "balance_after", "units") or cents ("price_cents"). Times are UTC.
`;

const json = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

/**
 * The person's data as one ZIP, produced chunk by chunk as the reader pulls: each file is compressed
 * as it is read, the ledger history and the print jobs a page of rows at a time, the PDFs one at a
 * time (stored, not compressed again), so memory stays bounded however long the history. Nothing is
 * cached.
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
  whole(PERSONAL_DATA_FILES.profile, json({ exportedAt: now.toISOString(), profile: await readProfile(knex, userId), identityLinks: await readIdentityLinks(knex, userId), lowBalanceAlert: await readLowBalanceAlert(knex, userId) }));
  yield* drain();
  whole(PERSONAL_DATA_FILES.signIns, json(await readSignIns(knex, userId)));
  whole(PERSONAL_DATA_FILES.secondFactors, json(await readSecondFactors(knex, userId)));
  whole(PERSONAL_DATA_FILES.orders, json(await readOrders(knex, userId)));
  whole(PERSONAL_DATA_FILES.creditRefunds, json(await readCreditRefundRequests(knex, userId)));
  yield* drain();

  /** A JSON array written a page of rows at a time. */
  async function* pages(name: string, readPage: (afterId: number) => Promise<Array<Record<string, unknown>>>): AsyncGenerator<Uint8Array> {
    const entry = file(name);
    entry.push(new TextEncoder().encode('['));
    let afterId = 0;
    let first = true;
    for (;;) {
      const page = await readPage(afterId);
      for (const row of page) {
        entry.push(new TextEncoder().encode(`${first ? '\n' : ',\n'}  ${JSON.stringify(row)}`));
        first = false;
      }
      yield* drain();
      if (page.length < PAGE) break;
      afterId = Number(page[page.length - 1]?.id);
    }
    entry.push(new TextEncoder().encode('\n]\n'), true);
  }
  yield* pages(PERSONAL_DATA_FILES.ledger, (afterId) => readLedgerPage(knex, userId, afterId, PAGE));
  yield* pages(PERSONAL_DATA_FILES.printJobs, (afterId) => readPrintJobPage(knex, 'usage_debits', userId, afterId, PAGE));
  yield* pages(PERSONAL_DATA_FILES.refusedJobs, (afterId) => readPrintJobPage(knex, 'usage_refusals', userId, afterId, PAGE));

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
  whole(PERSONAL_DATA_FILES.voucherPurchases, json(await readVoucherPurchases(knex, userId)));
  zip.end();
  yield* drain();
}
