import { Router } from 'express';
import type { Database } from '../../db/database.js';
import { findDocument } from '../../services/documents/records.js';
import { findOrder } from '../../services/checkout/records.js';
import type { Clock } from '../../domain/time/clock.js';
import { parseDocumentNumber } from '../../domain/documents/documents.js';
import type { DocumentFiles } from '../../services/documents/document-files.js';
import type { Locale } from '../../i18n/index.js';
import { notFound } from '../http-error.js';
import { requireUser } from '../middleware/authentication.js';
import { perPersonLimit } from '../middleware/per-person-limit.js';

/** The URL of a document's PDF, e.g. /documents/RC-000001.pdf. */
export const documentUrl = (number: string) => `/documents/${number}.pdf`;

/**
 * Receipts and credit notes as PDF downloads, for their buyer and for admins. Anyone else gets the
 * 404 of a number that was never issued, so numbers cannot be probed. Each person, admins included,
 * may download `downloadsPerMinute` documents a minute (asked-for names that are not documents count too).
 */
export function documentRoutes({ db, files, clock, downloadsPerMinute }: { db: Database; files: DocumentFiles; clock: Clock; downloadsPerMinute: number }): Router {
  const router = Router();
  const downloadLimit = perPersonLimit({ limit: downloadsPerMinute, windowMs: 60_000, clock });

  router.get('/documents/:file', requireUser, downloadLimit, async (request, response) => {
    const { file } = request.params;
    const number = typeof file === 'string' ? /^(.+)\.pdf$/.exec(file)?.[1] : undefined;
    const document = number !== undefined && parseDocumentNumber(number) ? await findDocument(db.knex, { number }) : undefined;
    // Only order documents are downloaded here (a quote's number does not even parse as one).
    if (!document || document.orderId === null) throw notFound();
    const user = request.user!;
    const order = await findOrder(db.knex, user.role === 'admin' ? { id: document.orderId } : { id: document.orderId, userId: user.id });
    if (!order) throw notFound();
    // The buyer reads it in the language they are using now; an admin in the buyer's.
    const locale = order.userId === user.id ? (response.locals.locale as Locale) : document.locale;
    const pdf = await files.pdf(document, locale);
    response.set({ 'Content-Type': 'application/pdf', 'Cache-Control': 'private, no-store', 'Content-Length': String(pdf.length) });
    response.attachment(files.fileName(document));
    response.end(pdf);
  });

  return router;
}
