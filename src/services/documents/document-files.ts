import type { Logger } from 'pino';
import type { Database, Queryable } from '../../db/database.js';
import { findDocumentFile, storeDocumentFile } from '../../db/documents/document-file-repository.js';
import { findDocument, recordMissingBrand } from '../../db/documents/document-repository.js';
import type { Clock } from '../../domain/time/clock.js';
import type { DocumentBrand, IssuedDocument } from '../../domain/documents/documents.js';
import type { Locale } from '../../i18n/index.js';
import type { DocumentBranding } from './document-pdf.js';
import type { DocumentRenderer } from './document-renderer.js';
import { loadRenderableView } from './document-view.js';

interface DocumentFilesDependencies {
  db: Database;
  clock: Clock;
  logger: Logger;
  timeZone: string;
  /** The portal's address, which a quote's "Payer maintenant" link leads to. */
  publicUrl: string;
  renderer: DocumentRenderer;
  /** The published look now, for a document issued without one. */
  currentBrand: (db: Queryable) => Promise<DocumentBrand>;
  /** A recorded brand, ready to draw. */
  drawBrand: (brand: DocumentBrand) => Promise<DocumentBranding>;
}

/**
 * Receipts, credit notes and quotes as PDF files. Each is rendered once per language, on the render thread,
 * and stored in the database (every instance serves the same bytes); from then on the stored file is
 * the document, whatever changes afterwards in the look of the portal or in the code that draws it.
 */
export function createDocumentFiles({ db, clock, logger, timeZone, publicUrl, renderer, currentBrand, drawBrand }: DocumentFilesDependencies) {
  /** Renditions being looked up or rendered in this process: asked for again meanwhile, they are waited for, not rendered twice. */
  const pending = new Map<string, Promise<Buffer>>();
  let preparing: Promise<void> = Promise.resolve();
  let closing = false;

  async function brandOf(document: IssuedDocument): Promise<DocumentBrand> {
    if (document.brand) return document.brand;
    // Issued before brands were recorded, or from the command line: the look of its first rendering, from then on.
    await recordMissingBrand(db.knex, document.id, await currentBrand(db.knex));
    return (await findDocument(db.knex, { id: document.id }))!.brand!;
  }

  async function storedOrRendered(document: IssuedDocument, locale: Locale): Promise<Buffer> {
    const stored = await findDocumentFile(db.knex, document.id, locale);
    if (stored) return stored;
    const [view, branding] = await Promise.all([loadRenderableView(db.knex, document), brandOf(document).then(drawBrand)]);
    const { pdf, threadId } = await renderer.render({ view, locale, timeZone, publicUrl, branding });
    const storedNow = await storeDocumentFile(db.knex, { documentId: document.id, locale, pdf }, clock.now());
    logger.info({ document: document.number, locale, threadId, bytes: pdf.length, stored: storedNow }, 'document rendered');
    // Another instance stored its rendition first: that one is the document.
    return storedNow ? pdf : ((await findDocumentFile(db.knex, document.id, locale)) ?? pdf);
  }

  /** In the document's own language unless told otherwise (a buyer reading the portal in another language). */
  function pdf(document: IssuedDocument, locale: Locale = document.locale): Promise<Buffer> {
    const key = `${document.id}:${locale}`;
    let file = pending.get(key);
    if (!file) {
      file = storedOrRendered(document, locale).finally(() => pending.delete(key));
      pending.set(key, file);
    }
    return file;
  }

  /** Once the documents being prepared, including those added meanwhile, are rendered and stored. */
  async function idle(): Promise<void> {
    let waited: Promise<void>;
    do {
      waited = preparing;
      await waited;
    } while (waited !== preparing);
  }

  return {
    pdf,

    /**
     * Renders documents just issued, in their own language, once their transaction has committed: in the
     * background, one after the other. A failure, or a shutdown before its turn, leaves a document to
     * be rendered when first asked for (a failure is logged).
     */
    prepare(documents: IssuedDocument[]): void {
      preparing = preparing.then(async () => {
        for (const document of documents) {
          if (closing) return;
          await pdf(document).catch((error: unknown) => logger.error({ err: error, document: document.number }, 'cannot render document'));
        }
      });
    },

    idle,

    /** At shutdown: the document being prepared is rendered and stored, the others are left, the render thread stops. */
    async close(): Promise<void> {
      closing = true;
      await idle();
      await renderer.close();
    },

    fileName: (document: IssuedDocument) => `${document.number}.pdf`,
  };
}

export type DocumentFiles = ReturnType<typeof createDocumentFiles>;
