import type { Knex } from 'knex';
import { recordAudit } from '../../db/audit/audit-repository.js';
import type { Database } from '../../db/database.js';
import { findQuoteDocument } from '../../db/documents/document-repository.js';
import { isMailQueued } from '../../db/mail/mail-outbox-repository.js';
import { countQuoteEventsSince, findQuote, insertQuoteEvent, lockQuote, moveQuote } from '../../db/quotes/quote-repository.js';
import type { AuditActor } from '../../domain/audit/audit.js';
import type { IssuedDocument } from '../../domain/documents/documents.js';
import { outboxKeys } from '../../domain/mail/outbox-keys.js';
import { assertResendable, assertStillSent, QuoteSendError, RESEND_WINDOW_MS, sendingOf } from '../../domain/quotes/quote-sending.js';
import type { Quote } from '../../domain/quotes/quotes.js';
import { dayOf } from '../../domain/time/calendar.js';
import type { Clock } from '../../domain/time/clock.js';
import type { DocumentIssuing } from '../documents/document-issuing.js';
import { QuoteError } from './quote-desk.js';

export interface QuoteSendingDependencies {
  db: Database;
  clock: Clock;
  timeZone: string;
  /** The seller's address (SELLER_EMAIL), the mail's Reply-To: the mail asks the customer to reply. */
  sellerEmail: string;
  documents: DocumentIssuing;
  /** After the transaction that issued a document or queued a mail commits: render it, nudge the mail. */
  onMailQueued: (documents: IssuedDocument[]) => void;
}

/**
 * Sending a quote to its customer: the move to `sent`, the quote's document and its mail, all in one
 * transaction under the quote's lock, so however many clicks or instances send it, the quote is sent
 * once, with one document and one mail (the outbox's key is the document). Sending it again is a new
 * mail of the same document on purpose, keyed by the form's nonce: one per click, a few a day.
 */
export function createQuoteSending({ db, clock, timeZone, sellerEmail, documents, onMailQueued }: QuoteSendingDependencies) {
  function assertReplyAddress(): void {
    if (sellerEmail === '') throw new QuoteSendError('no_reply_address', 'SELLER_EMAIL is not set: a quote mail asks its customer to reply');
  }

  async function lockedQuote(trx: Knex.Transaction, id: number): Promise<Quote> {
    const quote = await lockQuote(trx, id);
    if (!quote) throw new QuoteError('quote_not_found', `no quote ${id}`);
    return quote;
  }

  return {
    /**
     * Sends a draft (QuoteSendError when its last day has gone, QuoteStatusError when it is cancelled,
     * expired or paid); a quote already sent is left as it is. Answers whether this call sent it.
     */
    async send(actor: AuditActor, id: number): Promise<{ quote: Quote; sentNow: boolean }> {
      assertReplyAddress();
      const now = clock.now();
      const result = await db.transaction(async (trx) => {
        const before = await lockedQuote(trx, id);
        if (sendingOf(before, dayOf(now, timeZone)) === 'already_sent') return { quote: before, document: null };
        await moveQuote(trx, id, before.status, 'sent', now);
        const quote = (await findQuote(trx, id))!;
        const { document } = await documents.issueQuote(trx, quote, now);
        await insertQuoteEvent(trx, id, { type: 'sent', fromStatus: before.status, toStatus: 'sent', detail: quote.customer.email, actorUsername: actor.username }, now);
        await recordAudit(trx, { actor, action: 'quote.send', target: quote.number, before: { status: before.status }, after: { status: 'sent', document: document.number, recipient: quote.customer.email } }, now);
        return { quote, document };
      });
      if (result.document) onMailQueued([result.document]);
      return { quote: result.quote, sentNow: result.document !== null };
    },

    /**
     * Mails a sent quote's document again, once per `nonce` (a form sent twice queues one mail), at
     * most QUOTE_RESENDS_PER_DAY times in 24 hours (QuoteSendError). Answers whether this call queued it.
     */
    async resend(actor: AuditActor, id: number, nonce: string): Promise<{ queued: boolean }> {
      assertReplyAddress();
      const now = clock.now();
      const queued = await db.transaction(async (trx) => {
        const quote = await lockedQuote(trx, id);
        // Before the replay's answer: a form sent again after the quote was cancelled must not read "sent again".
        assertStillSent(quote);
        const sendKey = outboxKeys.quoteResend(id, nonce);
        // The same form sent again: its mail is queued already, whatever the limit says now.
        if (await isMailQueued(trx, sendKey)) return null;
        assertResendable(quote, dayOf(now, timeZone), await countQuoteEventsSince(trx, id, 'resent', new Date(now.getTime() - RESEND_WINDOW_MS)));
        const document = await findQuoteDocument(trx, id);
        if (!document) throw new Error(`quote ${quote.number} was sent without a document`);
        await documents.queueAnotherMail(trx, document, sendKey, now);
        await insertQuoteEvent(trx, id, { type: 'resent', fromStatus: null, toStatus: null, detail: document.buyer.email, actorUsername: actor.username }, now);
        await recordAudit(trx, { actor, action: 'quote.resend', target: quote.number, before: null, after: { document: document.number, recipient: document.buyer.email } }, now);
        return document;
      });
      if (queued) onMailQueued([queued]);
      return { queued: queued !== null };
    },
  };
}

export type QuoteSending = ReturnType<typeof createQuoteSending>;
