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

/** Their second factors as their page lists them: kinds, names and dates, never a key or a secret. */
export async function readSecondFactors(db: Queryable, userId: number): Promise<Row[]> {
  return db('second_factors').where('user_id', userId).orderBy('id').select('kind', 'name', 'created_at', 'last_used_at');
}

/** The orders of the person that bought a batch of codes: nobody's orders, their purchase names the buyer. */
const theirCodeOrders = (db: Queryable, userId: number) => db('voucher_purchases').where('buyer_id', userId).select('order_id');

export async function readOrders(db: Queryable, userId: number): Promise<Row[]> {
  return db('orders')
    .where((theirs) => void theirs.where('user_id', userId).orWhereIn('id', theirCodeOrders(db, userId)))
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

/** One page of what print servers reported of the person's jobs, charged or refused, after row `afterId`, oldest first. */
export async function readPrintJobPage(db: Queryable, table: 'usage_debits' | 'usage_refusals', userId: number, afterId: number, limit: number): Promise<Row[]> {
  const details = table === 'usage_debits' ? ['job.transaction_id'] : ['job.reason', 'job.balance_seen'];
  return db(`${table} as job`)
    .join('accounts as account', 'account.id', 'job.account_id')
    .where('account.user_id', userId)
    .andWhere('job.id', '>', afterId)
    .orderBy('job.id')
    .limit(limit)
    .select('job.id', 'job.category', 'job.amount', 'job.pages', 'job.printer', 'job.colour', 'job.duplex', 'job.reference', ...details, 'job.created_at');
}

/**
 * The person's documents, with the languages their PDF is stored in: the receipts and credit notes of
 * their top-ups and of the batches of codes they bought and, for each quote made out to their account, the quote and the receipts and credit
 * notes of its payment (a quote's order names no person: its quote does).
 */
export async function readDocuments(db: Queryable, userId: number): Promise<Array<Row & { id: number; number: string; locales: string[] }>> {
  const theirQuotes = () => db('quotes').where('user_id', userId).select('id');
  const documents: Row[] = await db('documents')
    .leftJoin('orders', 'orders.id', 'documents.order_id')
    .where(
      (theirs) =>
        void theirs
          .where('orders.user_id', userId)
          .orWhereIn('documents.quote_id', theirQuotes())
          .orWhereIn('orders.quote_id', theirQuotes())
          .orWhereIn('documents.order_id', theirCodeOrders(db, userId)),
    )
    .orderBy('documents.id')
    .select('documents.id', 'documents.kind', 'documents.number', 'documents.order_id', 'documents.quote_id', 'documents.refund_id', 'documents.issued_at', 'documents.locale', 'documents.buyer_name', 'documents.buyer_username', 'documents.buyer_email');
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

/** The batches of codes the person bought (never a code: only their hashes exist), and whether they may buy more. */
export async function readVoucherPurchases(db: Queryable, userId: number): Promise<{ buyer: Row | null; purchases: Row[] }> {
  const [buyer, purchases] = await Promise.all([
    db('voucher_buyers').where('user_id', userId).first('added_at') as Promise<Row | undefined>,
    db('voucher_purchases').where('buyer_id', userId).orderBy('id').select('id', 'order_id', 'name', 'code_count', 'value', 'expires_on', 'batch_id', 'handed_over_at', 'handover_count', 'created_at') as Promise<Row[]>,
  ]);
  return { buyer: buyer ?? null, purchases };
}

export async function readQuotes(db: Queryable, userId: number): Promise<Row[]> {
  const quotes: Row[] = await db('quotes')
    .where('user_id', userId)
    .orderBy('id')
    .select('id', 'number', 'status', 'customer_name', 'customer_email', 'delivery_postcode', 'delivery_method', 'delivery_address', 'valid_until', 'total_cents', 'currency', 'created_at', 'sent_at', 'cancelled_at');
  const lines: Row[] = quotes.length === 0 ? [] : await db('quote_lines').whereIn('quote_id', quotes.map((quote) => quote.id as number)).orderBy(['quote_id', 'position']).select('quote_id', 'description', 'quantity', 'unit_price_cents', 'vat_rate_basis_points');
  return quotes.map((quote) => ({ ...quote, lines: lines.filter((line) => Number(line.quote_id) === Number(quote.id)).map(({ quote_id: _quoteId, ...line }) => line) }));
}

/** The person's low-balance alert (null: none): its threshold in hundredths and the language it was set in. */
export async function readLowBalanceAlert(db: Queryable, userId: number): Promise<Row | null> {
  const row = await db('low_balance_alerts as alert').join('accounts', 'accounts.id', 'alert.account_id').where('accounts.user_id', userId).first('alert.threshold', 'alert.locale', 'alert.updated_at');
  return row ?? null;
}

/** The person's requests for a refund of unused credit, oldest first, each with its parts (the money per top-up and how it was paid). */
export async function readCreditRefundRequests(db: Queryable, userId: number): Promise<Row[]> {
  const requests: Row[] = await db('credit_refund_requests')
    .where('user_id', userId)
    .orderBy('id')
    .select('id', 'status', 'close_account', 'estimated_cents', 'currency', 'refunded_units', 'refunded_cents', 'refusal_reason', 'decided_at', 'account_closed_at', 'completed_at', 'created_at');
  const parts: Row[] = requests.length === 0 ? [] : await db('credit_refund_parts as part')
    .whereIn('part.request_id', requests.map((request) => request.id as number))
    .orderBy('part.id')
    .select('part.request_id', 'part.order_id', 'part.method', 'part.status', 'part.amount_cents', 'part.currency', 'part.units', 'part.bonus_units', 'part.done_at', 'part.created_at');
  return requests.map((request) => ({ ...request, parts: parts.filter((part) => part.request_id === request.id).map(({ request_id: _request, ...part }) => part) }));
}
