import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CanonicalCode } from '../../domain/vouchers/voucher-codes.js';
import type { Locale } from '../../i18n/index.js';
import type { HandoverBatch } from './voucher-handover.js';

export interface VoucherPdfJob {
  batch: HandoverBatch;
  codes: readonly CanonicalCode[];
  locale: Locale;
  topUpUrl: string;
}

/** The thread's module, beside this one: .ts under tsx (development, tests), .js once compiled. */
const WORKER_MODULE = new URL(`./voucher-pdf-worker${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * A batch's PDF sheet, drawn on a thread of its own: 10,000 cards take several seconds of pdfkit's
 * synchronous layout, which on the event loop would hold every other request (print servers' debits
 * included) that long. One thread per sheet, ended with it: batches are rare, and the documents'
 * render thread keeps to receipts, credit notes and quotes.
 */
export function renderVoucherPdf(job: VoucherPdfJob): Promise<Buffer> {
  const worker = WORKER_MODULE.pathname.endsWith('.ts')
    ? // Node 20 does not carry tsx's loader into worker threads: the thread registers it, then loads its module (as the documents' thread does).
      new Worker(`require(${JSON.stringify(createRequire(import.meta.url).resolve('tsx/cjs/api'))}).register(); require(${JSON.stringify(fileURLToPath(WORKER_MODULE))});`, { eval: true, workerData: job })
    : new Worker(WORKER_MODULE, { workerData: job });
  return new Promise<Buffer>((resolve, reject) => {
    worker.once('message', (bytes: Uint8Array) => resolve(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the voucher PDF thread ended (${code}) without a sheet`)));
  });
}
