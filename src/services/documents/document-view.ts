import type { Queryable } from '../../db/database.js';
import { listOrderDocuments } from '../../db/documents/document-repository.js';
import { findOrder, listRefunds } from '../../db/checkout/order-repository.js';
import type { IssuedDocument } from '../../domain/documents/documents.js';
import type { Order } from '../../domain/checkout/orders.js';
import { findQuote } from '../../db/quotes/quote-repository.js';
import { findPurchase } from '../../db/vouchers/voucher-purchase-repository.js';
import { quoteTotals, type QuoteTotals } from '../../domain/quotes/quote-totals.js';
import type { Quote } from '../../domain/quotes/quotes.js';

/** What a document prints of its order: the quote it was paid with and PayPal's capture. */
export type DocumentOrder = Pick<
  Order,
  'number' | 'kind' | 'currency' | 'priceCents' | 'netCents' | 'vatCents' | 'vatRateBasisPoints' | 'units' | 'bonusUnits' | 'paypalCaptureId' | 'paidAt'
>;

export interface DocumentRefund {
  refundId: string;
  amountCents: number;
  netCents: number;
  vatCents: number;
  createdAt: Date;
}

/** The quote an order paid, as sent (a sent quote's lines never change): its receipt prints its lines and VAT per rate. */
export interface PaidQuote {
  number: string;
  totals: QuoteTotals;
}

/**
 * Everything a receipt or credit note prints; amounts come from the order and the refund, which never
 * change. A receipt has no refund; a credit note has its refund and the receipt it corrects (null only
 * for an order that has none). An order that paid a quote has that quote; a top-up has none.
 */
/** The batch of codes an order bought: its receipt names it, its count and each code's value. */
export interface BoughtCodes {
  name: string;
  count: number;
  value: number;
}

export type DocumentView = { document: IssuedDocument; order: DocumentOrder; paidQuote: PaidQuote | null; boughtCodes: BoughtCodes | null } & (
  | { refund: null; receiptNumber: null }
  | { refund: DocumentRefund; receiptNumber: string | null }
);

/**
 * What a quote's document prints: the quote as sent, with the server's totals. A sent quote's lines,
 * customer and delivery never change (only drafts are edited), so neither does its document.
 */
export interface QuoteDocumentView {
  document: IssuedDocument;
  quote: Quote;
  totals: QuoteTotals;
}

/** Anything the render thread draws. */
export type RenderableView = DocumentView | QuoteDocumentView;

export async function loadQuoteDocumentView(db: Queryable, document: IssuedDocument): Promise<QuoteDocumentView> {
  const quote = document.quoteId === null ? undefined : await findQuote(db, document.quoteId);
  if (!quote) throw new Error(`document ${document.number}: quote ${document.quoteId} does not exist`);
  return { document, quote, totals: quoteTotals(quote.lines) };
}

/** The view of any document: a quote's, or an order's receipt or credit note. */
export function loadRenderableView(db: Queryable, document: IssuedDocument): Promise<RenderableView> {
  return document.kind === 'quote' ? loadQuoteDocumentView(db, document) : loadDocumentView(db, document);
}

export async function loadDocumentView(db: Queryable, document: IssuedDocument): Promise<DocumentView> {
  if (document.orderId === null) throw new Error(`document ${document.number} is for no order`);
  const order = await findOrder(db, { id: document.orderId });
  if (!order) throw new Error(`document ${document.number}: order ${document.orderId} does not exist`);
  const paidQuote = order.quoteId === null ? null : await paidQuoteOf(db, order.quoteId);
  const purchase = order.kind === 'voucher_batch' ? await findPurchase(db, { orderId: order.id }) : undefined;
  const boughtCodes = purchase ? { name: purchase.name, count: purchase.count, value: purchase.value } : null;
  if (document.refundId === null) return { document, order, paidQuote, boughtCodes, refund: null, receiptNumber: null };
  const refund = (await listRefunds(db, order.id)).find((candidate) => candidate.refundId === document.refundId);
  if (!refund) throw new Error(`document ${document.number}: refund ${document.refundId} does not exist`);
  const receipt = (await listOrderDocuments(db, order.id)).find((candidate) => candidate.kind === 'receipt');
  return { document, order, paidQuote, boughtCodes, refund, receiptNumber: receipt?.number ?? null };
}

async function paidQuoteOf(db: Queryable, quoteId: number): Promise<PaidQuote> {
  const quote = await findQuote(db, quoteId);
  if (!quote) throw new Error(`quote ${quoteId} does not exist`);
  return { number: quote.number, totals: quoteTotals(quote.lines) };
}
