import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Database } from '../../db/database.js';
import { issueDocument, listOrdersWithoutReceipt, listRefundsWithoutCreditNote } from '../../db/documents/document-repository.js';
import { enqueueMail } from '../../db/mail/mail-outbox-repository.js';
import { lockOrder } from '../../db/checkout/order-repository.js';
import { findUserById } from '../../db/people/user-repository.js';
import { findQuote } from '../../db/quotes/quote-repository.js';
import { findPurchase } from '../../db/vouchers/voucher-purchase-repository.js';
import type { Locale } from '../../i18n/index.js';
import { documentSourceKeys, type DocumentBrand, type DocumentParty, type IssuedDocument, type OrderDocumentKind } from '../../domain/documents/documents.js';
import { outboxKeys } from '../../domain/mail/outbox-keys.js';
import type { Order } from '../../domain/checkout/orders.js';
import type { Quote } from '../../domain/quotes/quotes.js';

export interface DocumentIssuingDependencies {
  /** The seller as configured now: copied into each document issued. */
  seller: DocumentParty;
  defaultLocale: Locale;
  /** The right-hand side of Message-IDs (the portal's host name). */
  mailDomain: string;
  /**
   * The published look as the issuing transaction reads it, recorded on the document. Absent where no
   * theme is at hand (the command line): the document's first rendering records it then.
   */
  brandAt?: (trx: Knex.Transaction) => Promise<DocumentBrand>;
}

/**
 * Receipts, credit notes and quotes' documents, issued inside the transaction that records what they
 * are for (the credit of an order, a refund, a quote sent), with their mail queued in that same transaction: a payment
 * confirmed twice finds its receipt issued and its mail queued, and a payment rolled back issues nothing.
 */
export function createDocumentIssuing({ seller, defaultLocale, mailDomain, brandAt }: DocumentIssuingDependencies) {
  async function issue(trx: Knex.Transaction, order: Order, kind: OrderDocumentKind, refundId: string | null, now: Date, { mail }: { mail: boolean }) {
    const buyer = await buyerOf(trx, order);
    const sourceKey = refundId === null ? documentSourceKeys.receipt(order.id) : documentSourceKeys.creditNote(refundId);
    const issued = await issueDocument(
      trx,
      {
        kind,
        sourceKey,
        orderId: order.id,
        refundId,
        locale: buyer.locale ?? order.locale ?? defaultLocale,
        buyer: { name: buyer.name, username: buyer.username, email: buyer.email },
        seller: { ...seller },
        brand: brandAt ? await brandAt(trx) : null,
      },
      now,
    );
    if (issued.created && mail && buyer.email) {
      await enqueueMail(trx, { documentId: issued.document.id, sendKey: outboxKeys.document(issued.document.id), recipient: buyer.email, messageId: messageIdOf(issued.document) }, now);
    }
    return issued;
  }

  /** Who a receipt or credit note is made out to: the person who topped up or bought codes, or the customer of the quote paid. */
  async function buyerOf(trx: Knex.Transaction, order: Order): Promise<{ name: string; username: string; email: string; locale: Locale | null }> {
    if (order.quoteId !== null) {
      const quote = await findQuote(trx, order.quoteId);
      if (!quote) throw new Error(`quote ${order.quoteId} does not exist`);
      const { customer } = quote;
      return { name: customer.name, username: customer.username ?? '', email: customer.email, locale: customer.locale };
    }
    // A batch of codes is made out to the person who bought it for their department.
    const userId = order.kind === 'voucher_batch' ? (await findPurchase(trx, { orderId: order.id }))?.buyerId : order.userId;
    const user = userId == null ? undefined : await findUserById(trx, userId);
    if (!user) throw new Error(`order ${order.number}: user ${userId} does not exist`);
    return { name: user.displayName, username: user.username, email: user.email, locale: user.locale };
  }

  /** Fixed when the mail is queued: a copy sent again after a crash carries the same one. */
  const messageIdOf = (document: IssuedDocument) => `<${document.number}.${randomBytes(8).toString('hex')}@${mailDomain}>`;

  return {
    /** The receipt of an order that has just been credited, and its mail. */
    issueReceipt: (trx: Knex.Transaction, order: Order, now: Date) => issue(trx, order, 'receipt', null, now, { mail: true }),

    /** The credit note of one refund of an order, and its mail. */
    issueCreditNote: (trx: Knex.Transaction, order: Order, refundId: string, now: Date) => issue(trx, order, 'credit_note', refundId, now, { mail: true }),

    /**
     * A quote's document, in the customer's language, with its mail: issued once per quote (sending
     * again finds it issued and queues nothing), inside the transaction that sends the quote.
     */
    async issueQuote(trx: Knex.Transaction, quote: Quote, now: Date) {
      const { customer } = quote;
      const issued = await issueDocument(
        trx,
        {
          kind: 'quote',
          quoteId: quote.id,
          number: quote.number,
          sourceKey: documentSourceKeys.quote(quote.id),
          locale: customer.locale,
          buyer: { name: customer.name, username: customer.username ?? '', email: customer.email },
          seller: { ...seller },
          brand: brandAt ? await brandAt(trx) : null,
        },
        now,
      );
      if (issued.created) await enqueueMail(trx, { documentId: issued.document.id, sendKey: outboxKeys.document(issued.document.id), recipient: customer.email, messageId: messageIdOf(issued.document) }, now);
      return issued;
    },

    /** Another mail of a document already issued, to its buyer, once per `sendKey`: answers whether it was queued now. */
    queueAnotherMail: (trx: Knex.Transaction, document: IssuedDocument, sendKey: string, now: Date) =>
      enqueueMail(trx, { documentId: document.id, sendKey, recipient: document.buyer.email, messageId: messageIdOf(document) }, now),

    /**
     * Documents for payments and refunds recorded before receipts existed, in the order they happened;
     * no mail (those buyers were never promised one). Run once at start; finding nothing is the rule.
     */
    async issueMissing(db: Database, now: Date): Promise<IssuedDocument[]> {
      const issued: IssuedDocument[] = [];
      const pending: Array<{ orderId: number; refundId: string | null }> = [
        ...(await listOrdersWithoutReceipt(db.knex)).map((orderId) => ({ orderId, refundId: null })),
        ...(await listRefundsWithoutCreditNote(db.knex)),
      ];
      for (const { orderId, refundId } of pending) {
        // The order's lock, as every payment transaction takes it first: another instance starting at the
        // same time, or a webhook replaying an old refund, waits here and then finds the document issued.
        const { document, created } = await db.transaction(async (trx) => issue(trx, await lockOrder(trx, orderId), refundId === null ? 'receipt' : 'credit_note', refundId, now, { mail: false }));
        if (created) issued.push(document);
      }
      return issued;
    },
  };
}

export type DocumentIssuing = ReturnType<typeof createDocumentIssuing>;
