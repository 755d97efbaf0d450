import { Router } from 'express';
import { findQuoteDocument } from '../../../services/quotes/quote-documents.js';
import type { Locale } from '../../../i18n/index.js';
import { notFound } from '../../http-error.js';
import { documentDownloadLimit, sendDocumentPdf } from '../documents.js';
import type { QuoteRoutesDependencies } from './dependencies.js';

/** Where a quote's customer downloads one of its documents: the quote's PDF (numbered as the quote), its receipt or a credit note. */
export const quoteDocumentUrl = (quoteNumber: string, documentNumber: string) => `/quotes/${quoteNumber}/documents/${documentNumber}`;

/**
 * A quote's PDF and the receipt and credit notes of its payment, for whoever may see the quote: the
 * browser that gave its number and postcode, or the person it is made out to. Anyone else gets the 404
 * of a number never issued, so that neither quotes nor documents can be probed; every request counts
 * against the download limit, per person or, for a customer without an account, per address.
 */
export function quoteDocumentRoutes({ db, clock, config, access, documentFiles }: QuoteRoutesDependencies): Router {
  const router = Router();
  const downloadLimit = documentDownloadLimit({ clock, downloadsPerMinute: config.documents.downloadsPerMinute });

  router.get('/quotes/:number/documents/:documentNumber', downloadLimit, async (request, response) => {
    const found = await findQuoteDocument(db.knex, String(request.params.number), String(request.params.documentNumber));
    const mayRead = found !== undefined && (access.allows(request, found.quote.id) || (request.user !== undefined && request.user.id === found.quote.userId));
    if (!found || !mayRead) throw notFound();
    // The customer reads it in the language of the page they came from.
    await sendDocumentPdf(response, documentFiles, found.document, response.locals.locale as Locale);
  });

  return router;
}
