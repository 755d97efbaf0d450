import type { Queryable } from '../../db/database.js';
import { findOrder } from '../../db/checkout/order-repository.js';
import { findDocument } from '../../db/documents/document-repository.js';
import { findQuote, findQuoteIdByNumber } from '../../db/quotes/quote-repository.js';
import { parseDocumentNumber, type IssuedDocument } from '../../domain/documents/documents.js';
import type { Quote } from '../../domain/quotes/quotes.js';

/**
 * A document of the quote numbered exactly `quoteNumber`: the quote as sent (its document is numbered
 * as the quote), or the receipt or a credit note of an order that paid it. Undefined when either does
 * not exist or the document is another quote's; who may read it is the caller's to check.
 */
export async function findQuoteDocument(db: Queryable, quoteNumber: string, documentNumber: string): Promise<{ quote: Quote; document: IssuedDocument } | undefined> {
  if (documentNumber !== quoteNumber && !parseDocumentNumber(documentNumber)) return undefined;
  const quoteId = await findQuoteIdByNumber(db, quoteNumber);
  const quote = quoteId === undefined ? undefined : await findQuote(db, quoteId);
  const document = quote ? await findDocument(db, { number: documentNumber }) : undefined;
  if (!quote || !document) return undefined;
  if (document.kind === 'quote') return document.quoteId === quote.id ? { quote, document } : undefined;
  const order = document.orderId === null ? undefined : await findOrder(db, { id: document.orderId });
  return order?.quoteId === quote.id ? { quote, document } : undefined;
}
