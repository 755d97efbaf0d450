import type { Database } from '../../db/database.js';
import { listQuoteOrders } from '../../db/checkout/order-repository.js';
import { listOrderDocuments } from '../../db/documents/document-repository.js';
import { findQuoteIdByNumber } from '../../db/quotes/quote-repository.js';
import { refundableCents } from '../../domain/checkout/refunds.js';
import type { Order } from '../../domain/checkout/orders.js';
import type { IssuedDocument } from '../../domain/documents/documents.js';
import type { Cents } from '../../domain/pricing/pricing.js';
import type { Clock } from '../../domain/time/clock.js';
import type { Checkout } from '../checkout/checkout.js';
import { createOrderAdministration } from '../checkout/order-administration.js';

/** One of a quote's orders as the desk sees it: what may still be refunded, and its receipt and credit notes. */
export interface QuotePaymentRow {
  order: Order;
  refundableCents: Cents;
  documents: IssuedDocument[];
}

/**
 * The desk's side of a quote's online payments: every order made to pay it, and refunds through
 * PayPal. A refund is the admins' (order-administration.ts): once per form, audited, its credit note
 * issued and the quote moved to partially refunded or refunded when PayPal's refund is recorded.
 */
export function createQuotePaymentDesk({ db, checkout, clock }: { db: Database; checkout: Checkout; clock: Clock }) {
  const administration = createOrderAdministration({ db, checkout, clock });

  /** The orders of the quote numbered `quoteNumber`, oldest first; none for a number that is no quote's. */
  async function payments(quoteNumber: string): Promise<QuotePaymentRow[]> {
    const quoteId = await findQuoteIdByNumber(db.knex, quoteNumber);
    const orders = quoteId === undefined ? [] : await listQuoteOrders(db.knex, quoteId);
    return Promise.all(orders.map(async (order) => ({ order, refundableCents: refundableCents(order), documents: await listOrderDocuments(db.knex, order.id) })));
  }

  return { payments, refund: administration.refund };
}

export type QuotePaymentDesk = ReturnType<typeof createQuotePaymentDesk>;
