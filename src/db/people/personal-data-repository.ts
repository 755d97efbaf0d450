import type { Queryable } from '../database.js';

/**
 * What the portal keeps about one person, as stored, for their own download (`/account/data`). Each
 * read is bounded or paged: the ledger history by entry id, the PDFs one at a time.
 */
type Row = Record<string, unknown>;

export async function readProfile(db: Queryable, userId: number): Promise<Row | undefined> {
  return db('users').where('id', userId).first('id', 'username', 'display_name', 'email', 'role', 'locale', 'disabled', 'quote_desk', 'created_at', 'updated_at', 'closed_at');
}

export async function readIdentityLinks(db: Queryable, userId: number): Promise<Row[]> {
  return db('user_identities').where('user_id', userId).orderBy('provider_id').select('provider_id', 'subject', 'linked_by', 'created_at', 'last_sign_in_at');
}

export async function readSignIns(db: Queryable, userId: number): Promise<Row[]> {
  return db('login_sessions').where('user_id', userId).orderBy('id').select('method', 'user_agent', 'started_at');
}

export async function readOrders(db: Queryable, userId: number): Promise<Row[]> {
  return db('orders')
    .where('user_id', userId)
    .orderBy('id')
    .select('id', 'status', 'kind', 'pack_id', 'currency', 'price_cents', 'net_cents', 'vat_cents', 'vat_rate_basis_points', 'units', 'bonus_units', 'refunded_cents', 'paypal_order_id', 'paypal_capture_id', 'created_at', 'updated_at', 'paid_at');
}

/** One page of the person's ledger entries after entry `afterId`, oldest first. */
export async function readLedgerPage(db: Queryable, userId: number, afterId: number, limit: number): Promise<Row[]> {
  return db('ledger_entries as entry')
    .join('accounts as account', 'account.id', 'entry.account_id')
    .join('ledger_transactions as tx', 'tx.id', 'entry.transaction_id')
    .where('account.user_id', userId)
    .andWhere('entry.id', '>', afterId)
    .orderBy('entry.id')
    .limit(limit)
    .select('entry.id', 'tx.id as transaction_id', 'tx.kind', 'tx.description', 'entry.amount', 'entry.balance_after', 'tx.created_at');
}

/** The person's receipts and credit notes, with the languages their PDF is stored in. */
export async function readDocuments(db: Queryable, userId: number): Promise<Array<Row & { id: number; number: string; locales: string[] }>> {
  const documents: Row[] = await db('documents')
    .join('orders', 'orders.id', 'documents.order_id')
    .where('orders.user_id', userId)
    .orderBy('documents.id')
    .select('documents.id', 'documents.kind', 'documents.number', 'documents.order_id', 'documents.refund_id', 'documents.issued_at', 'documents.locale', 'documents.buyer_name', 'documents.buyer_username', 'documents.buyer_email');
  const files: Array<{ document_id: number; locale: string }> = documents.length === 0 ? [] : await db('document_files').whereIn('document_id', documents.map((document) => document.id as number)).orderBy('locale').select('document_id', 'locale');
  return documents.map((document) => ({
    ...document,
    id: Number(document.id),
    number: String(document.number),
    locales: files.filter((file) => Number(file.document_id) === Number(document.id)).map((file) => file.locale),
  }));
}

export async function readDocumentPdf(db: Queryable, documentId: number, locale: string): Promise<Buffer | undefined> {
  const row = (await db('document_files').where({ document_id: documentId, locale }).first('pdf')) as { pdf: Buffer } | undefined;
  return row?.pdf;
}

export async function readQuotes(db: Queryable, userId: number): Promise<Row[]> {
  const quotes: Row[] = await db('quotes')
    .where('user_id', userId)
    .orderBy('id')
    .select('id', 'number', 'status', 'customer_name', 'customer_email', 'delivery_postcode', 'delivery_method', 'delivery_address', 'valid_until', 'total_cents', 'currency', 'created_at', 'sent_at', 'cancelled_at');
  const lines: Row[] = quotes.length === 0 ? [] : await db('quote_lines').whereIn('quote_id', quotes.map((quote) => quote.id as number)).orderBy(['quote_id', 'position']).select('quote_id', 'description', 'quantity', 'unit_price_cents', 'vat_rate_basis_points');
  return quotes.map((quote) => ({ ...quote, lines: lines.filter((line) => Number(line.quote_id) === Number(quote.id)).map(({ quote_id: _quoteId, ...line }) => line) }));
}
