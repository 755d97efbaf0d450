import { Router, type Response } from 'express';
import type { Database } from '../../db/database.js';
import { findDocument } from '../../services/documents/records.js';
import { findOrder } from '../../services/checkout/records.js';
import { findPurchase } from '../../services/vouchers/records.js';
import type { Clock } from '../../domain/time/clock.js';
import type { Order } from '../../domain/checkout/orders.js';
import { parseDocumentNumber, type IssuedDocument } from '../../domain/documents/documents.js';
import { loginSource } from '../../domain/people/login-throttle.js';
import type { User } from '../../domain/people/users.js';
import { canUseQuoteDesk } from '../../domain/quotes/quote-desk.js';
import type { DocumentFiles } from '../../services/documents/document-files.js';
import type { Locale } from '../../i18n/index.js';
import { notFound } from '../http-error.js';
import { requireUser } from '../middleware/authentication.js';
import { perPersonLimit } from '../middleware/per-person-limit.js';

/** The URL of a document's PDF, e.g. /documents/RC-000001.pdf. */
export const documentUrl = (number: string) => `/documents/${number}.pdf`;

/**
 * At most `downloadsPerMinute` documents a minute for each reader: a signed-in person, or else the
 * address of a quote's customer without an account (asked-for names that are not documents count too).
 */
export const documentDownloadLimit = ({ clock, downloadsPerMinute }: { clock: Clock; downloadsPerMinute: number }) =>
  perPersonLimit({ limit: downloadsPerMinute, windowMs: 60_000, clock, keyOf: (request) => request.user?.id ?? `address:${loginSource(request.ip ?? 'unknown')}` });

/** Sends a document's stored PDF, rendered in `locale` if it never was, as a download that no cache keeps. */
export async function sendDocumentPdf(response: Response, files: DocumentFiles, document: IssuedDocument, locale: Locale): Promise<void> {
  const pdf = await files.pdf(document, locale);
  response.set({ 'Content-Type': 'application/pdf', 'Cache-Control': 'private, no-store', 'Content-Length': String(pdf.length) });
  response.attachment(files.fileName(document));
  response.end(pdf);
}

/** An order's documents are read by its buyer, by admins, and by the reprography desk for a quote's payment. */
const mayRead = (user: User, order: Order, buyerId: number | null) => user.role === 'admin' || buyerId === user.id || (order.quoteId !== null && canUseQuoteDesk(user));

/** Who bought the order: the person who topped up, or who bought a batch of codes (a quote's customer reads theirs on the quotes' pages). */
const buyerOf = async (db: Database, order: Order) => (order.kind === 'voucher_batch' ? ((await findPurchase(db.knex, { orderId: order.id }))?.buyerId ?? null) : order.userId);

/**
 * Receipts and credit notes as PDF downloads, for their buyer, for admins, and for the desk when they
 * are a quote's. Anyone else gets the 404 of a number that was never issued, so numbers cannot be
 * probed. Each person, admins included, may download `downloadsPerMinute` documents a minute.
 */
export function documentRoutes({ db, files, clock, downloadsPerMinute }: { db: Database; files: DocumentFiles; clock: Clock; downloadsPerMinute: number }): Router {
  const router = Router();
  const downloadLimit = documentDownloadLimit({ clock, downloadsPerMinute });

  router.get('/documents/:file', requireUser, downloadLimit, async (request, response) => {
    const { file } = request.params;
    const number = typeof file === 'string' ? /^(.+)\.pdf$/.exec(file)?.[1] : undefined;
    const document = number !== undefined && parseDocumentNumber(number) ? await findDocument(db.knex, { number }) : undefined;
    // Only order documents are downloaded here (a quote's number does not even parse as one).
    if (!document || document.orderId === null) throw notFound();
    const user = request.user!;
    const order = await findOrder(db.knex, { id: document.orderId });
    const buyerId = order ? await buyerOf(db, order) : null;
    if (!order || !mayRead(user, order, buyerId)) throw notFound();
    // The buyer reads it in the language they are using now; staff in the buyer's.
    const locale = buyerId === user.id ? (response.locals.locale as Locale) : document.locale;
    await sendDocumentPdf(response, files, document, locale);
  });

  return router;
}
