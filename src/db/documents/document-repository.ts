import type { Knex } from 'knex';
import { formatDocumentNumber, type DocumentBrand, type DocumentBuyer, type DocumentKind, type DocumentParty, type OrderDocumentKind, type IssuedDocument } from '../../domain/documents/documents.js';
import type { Locale } from '../../domain/shared/locale.js';
import { toDate, toSafeInteger, type Queryable } from '../database.js';

function toDocument(row: Record<string, unknown>): IssuedDocument {
  return {
    id: toSafeInteger(row.id),
    kind: row.kind as DocumentKind,
    number: String(row.number),
    seriesNumber: toSafeInteger(row.series_number),
    orderId: row.order_id == null ? null : toSafeInteger(row.order_id),
    quoteId: row.quote_id == null ? null : toSafeInteger(row.quote_id),
    refundId: row.refund_id == null ? null : String(row.refund_id),
    issuedAt: toDate(row.issued_at),
    locale: row.locale as Locale,
    buyer: { name: String(row.buyer_name), username: String(row.buyer_username), email: String(row.buyer_email) },
    seller: { name: String(row.seller_name), address: String(row.seller_address), vatNumber: String(row.seller_vat_number), email: String(row.seller_email) },
    brand: row.brand_name == null ? null : { organisationName: String(row.brand_name), accentColour: String(row.brand_colour), logo: String(row.brand_logo) },
  };
}

const brandColumns = (brand: DocumentBrand | null) => ({ brand_name: brand?.organisationName ?? null, brand_colour: brand?.accentColour ?? null, brand_logo: brand?.logo ?? null });

export type DocumentToIssue = (
  | { kind: OrderDocumentKind; orderId: number; refundId: string | null }
  /** A quote's document carries the quote's number (domain/documents/documents.ts says why). */
  | { kind: 'quote'; quoteId: number; number: string }
) & {
  sourceKey: string;
  locale: Locale;
  buyer: DocumentBuyer;
  seller: DocumentParty;
  brand: DocumentBrand | null;
};

/**
 * Issues the document for `sourceKey`, or finds the one already issued. The next number is taken by
 * moving the series' counter inside the caller's transaction: the counter row stays locked until
 * commit (PostgreSQL; SQLite has one writer), and a rollback gives the number back.
 */
export async function issueDocument(trx: Knex.Transaction, document: DocumentToIssue, now: Date): Promise<{ document: IssuedDocument; created: boolean }> {
  const existing = await trx('documents').where('source_key', document.sourceKey).first();
  if (existing) return { document: toDocument(existing), created: false };
  const [counter] = (await trx('document_series').where('series', document.kind).increment('last_number', 1).returning('last_number')) as Array<{ last_number: unknown }>;
  if (!counter) throw new Error(`no document series ${document.kind}`);
  const seriesNumber = toSafeInteger(counter.last_number);
  const [row] = await trx('documents')
    .insert({
      kind: document.kind,
      source_key: document.sourceKey,
      series_number: seriesNumber,
      ...(document.kind === 'quote'
        ? { number: document.number, quote_id: document.quoteId }
        : { number: formatDocumentNumber(document.kind, seriesNumber), order_id: document.orderId, refund_id: document.refundId }),
      issued_at: now.toISOString(),
      locale: document.locale,
      buyer_name: document.buyer.name,
      buyer_username: document.buyer.username,
      buyer_email: document.buyer.email,
      seller_name: document.seller.name,
      seller_address: document.seller.address,
      seller_vat_number: document.seller.vatNumber,
      seller_email: document.seller.email,
      ...brandColumns(document.brand),
    })
    .returning('*');
  return { document: toDocument(row as Record<string, unknown>), created: true };
}

export async function findDocument(db: Queryable, by: { id: number } | { number: string }): Promise<IssuedDocument | undefined> {
  const row = await db('documents')
    .where('id' in by ? { id: by.id } : { number: by.number })
    .first();
  return row ? toDocument(row) : undefined;
}

/** The document issued for a quote, if it was sent. */
export async function findQuoteDocument(db: Queryable, quoteId: number): Promise<IssuedDocument | undefined> {
  const row = await db('documents').where({ quote_id: quoteId, kind: 'quote' }).orderBy('id').first();
  return row ? toDocument(row) : undefined;
}

/** Records the brand of a document issued without one; a brand already recorded (by another instance) stays. */
export async function recordMissingBrand(db: Queryable, documentId: number, brand: DocumentBrand): Promise<void> {
  await db('documents').where('id', documentId).whereNull('brand_name').update(brandColumns(brand));
}

/** An order's receipt and credit notes, receipt first, then credit notes in the order they were issued. */
export async function listOrderDocuments(db: Queryable, orderId: number): Promise<IssuedDocument[]> {
  const rows: Array<Record<string, unknown>> = await db('documents').where('order_id', orderId).orderBy([{ column: 'kind', order: 'desc' }, { column: 'id' }]);
  return rows.map(toDocument);
}

/** Credited orders with no receipt (paid before receipts existed), oldest payment first. */
export async function listOrdersWithoutReceipt(db: Queryable): Promise<number[]> {
  const rows: Array<{ id: unknown }> = await db('orders')
    .whereNotNull('ledger_transaction_id')
    .whereNotExists((query) => query.select(db.raw('1')).from('documents').whereRaw('documents.order_id = orders.id').where('documents.kind', 'receipt'))
    .orderBy([{ column: 'paid_at' }, { column: 'id' }])
    .select('id');
  return rows.map((row) => toSafeInteger(row.id));
}

/** Recorded refunds with no credit note, oldest first. */
export async function listRefundsWithoutCreditNote(db: Queryable): Promise<Array<{ refundId: string; orderId: number }>> {
  const rows: Array<{ refund_id: unknown; order_id: unknown }> = await db('payment_refunds')
    .whereNotExists((query) => query.select(db.raw('1')).from('documents').whereRaw('documents.refund_id = payment_refunds.refund_id'))
    .orderBy([{ column: 'created_at' }, { column: 'refund_id' }])
    .select('refund_id', 'order_id');
  return rows.map((row) => ({ refundId: String(row.refund_id), orderId: toSafeInteger(row.order_id) }));
}
