import type { Database } from '../db/database.js';
import type { IssuedDocument } from '../domain/documents.js';
import type { Locale, Translate } from '../i18n/index.js';
import { renderDocumentPdf } from './document-pdf.js';
import { loadDocumentView } from './document-view.js';

/** How the published theme appears on documents. */
export interface DocumentBranding {
  organisationName: string;
  /** Headings and rules, readable on white paper. */
  accentColour: string;
  logoPng: Buffer | null;
}

/** Receipts and credit notes as PDF files, made when asked for (download, mail) from what the database holds. */
export function createDocumentFiles(deps: { db: Database; translations: (locale: Locale) => Translate; timeZone: string; branding: () => Promise<DocumentBranding> }) {
  return {
    /** In the document's own language unless told otherwise (a buyer reading the portal in another language). */
    async pdf(document: IssuedDocument, locale: Locale = document.locale): Promise<Buffer> {
      const [view, branding] = await Promise.all([loadDocumentView(deps.db.knex, document), deps.branding()]);
      return renderDocumentPdf(view, { t: deps.translations(locale), locale, timeZone: deps.timeZone, branding });
    },
    fileName: (document: IssuedDocument) => `${document.number}.pdf`,
  };
}

export type DocumentFiles = ReturnType<typeof createDocumentFiles>;
