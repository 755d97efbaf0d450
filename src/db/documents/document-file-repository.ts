import { createHash } from 'node:crypto';
import type { Locale } from '../../domain/shared/locale.js';
import type { Queryable } from '../database.js';

/** A document's stored rendition in `locale`, byte for byte as it was first served. */
export async function findDocumentFile(db: Queryable, documentId: number, locale: Locale): Promise<Buffer | undefined> {
  const row: { pdf: Buffer } | undefined = await db('document_files').where({ document_id: documentId, locale }).first('pdf');
  return row?.pdf;
}

/**
 * Stores a rendition unless one is stored already (two instances rendering the same document at once):
 * answers whether this one was stored. Either way, the stored one is the document.
 */
export async function storeDocumentFile(db: Queryable, file: { documentId: number; locale: Locale; pdf: Buffer }, now: Date): Promise<boolean> {
  const inserted = await db('document_files')
    .insert({
      document_id: file.documentId,
      locale: file.locale,
      pdf: file.pdf,
      sha256: createHash('sha256').update(file.pdf).digest('hex'),
      byte_size: file.pdf.length,
      created_at: now.toISOString(),
    })
    .onConflict(['document_id', 'locale'])
    .ignore()
    .returning('document_id');
  return inserted.length > 0;
}
