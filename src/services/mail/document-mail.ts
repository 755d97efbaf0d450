import type { Database } from '../../db/database.js';
import { findDocument } from '../../db/documents/document-repository.js';
import type { DocumentFiles } from '../documents/document-files.js';
import { loadDocumentView, loadQuoteDocumentView, type DocumentView } from '../documents/document-view.js';
import { howToAccept, payNowUrl } from '../documents/quote-acceptance.js';
import type { IssuedDocument } from '../../domain/documents/documents.js';
import { VOUCHER_PURCHASES_PATH } from '../../domain/vouchers/voucher-purchases.js';
import { formatDateTime, formatDay, formatMoney, formatUnits } from '../../i18n/format.js';
import type { Locale, Translate } from '../../i18n/index.js';
import type { OutgoingMail } from '../../smtp/transport.js';

/** A document's mail as admins read it: everything but the PDF's bytes. */
export interface MailPreview {
  from: string;
  /** Where the customer's answer goes: the seller, for a quote the customer accepts by replying. */
  replyTo?: string;
  subject: string;
  text: string;
  /** The language the subject and text are written in (the buyer's). */
  locale: Locale;
  /** The PDF attached; null for a notice, which has none. */
  attachmentName: string | null;
}

/** A document's mail without its envelope: the outbox row says to whom and under which Message-ID. */
export interface ComposedMail {
  from: string;
  replyTo?: string;
  subject: string;
  text: string;
  attachments: OutgoingMail['attachments'];
}

export interface DocumentMailDependencies {
  db: Database;
  translations: (locale: Locale) => Translate;
  files: DocumentFiles;
  from: string;
  publicUrl: string;
  timeZone: string;
}

/**
 * Writes the mail of a receipt, credit note or quote, in the language of the document, from what was
 * recorded (the order, the refund, the quote as sent, the document's own copy of buyer and seller). The text is written
 * again at each attempt from those records; the PDF attached is the document's stored file, the same
 * bytes the buyer downloads, read (rendered and stored first if it is not yet) only when the mail is
 * sent: a mail only kept (MAIL_DELIVERY=keep) names it, and it is drawn at its first download.
 */
export function createDocumentMails({ db, translations, files, from, publicUrl, timeZone }: DocumentMailDependencies) {
  function amountLines({ document, order, refund, paidQuote, boughtCodes }: DocumentView, t: Translate): string[] {
    const { locale } = document;
    if (refund) return [t('documentMail.refunded', { amount: formatMoney(refund.amountCents, order.currency, locale) })];
    const paid = t('documentMail.paid', { amount: formatMoney(order.priceCents, order.currency, locale) });
    // A quote's payment credits no units; a batch of codes credits the codes.
    if (paidQuote) return [paid];
    if (boughtCodes) return [paid, t('documentMail.codes', { count: boughtCodes.count, value: formatUnits(t, boughtCodes.value, locale) })];
    return [
      paid,
      t('documentMail.credited', { units: formatUnits(t, order.units + order.bonusUnits, locale) }),
      ...(order.bonusUnits > 0 ? [t('documentMail.bonus', { units: formatUnits(t, order.bonusUnits, locale) })] : []),
    ];
  }

  /**
   * A receipt's or credit note's paragraphs and subject. A quote's payment is told as such, with a link
   * to the quote's page: its customer may have no account, hence no order page of theirs.
   */
  async function orderMail(document: IssuedDocument, t: Translate) {
    const view = await loadDocumentView(db.knex, document);
    const { paidQuote } = view;
    const names = { number: document.number, order: view.order.number, quote: paidQuote?.number };
    const wording = paidQuote ? 'documentMail.quotePayment' : 'documentMail';
    const paragraphs = [
      [t('documentMail.greeting', { name: document.buyer.name || document.buyer.username })],
      [t(`${wording}.intro.${document.kind}`, names)],
      [t('documentMail.issuedAt', { date: formatDateTime(document.issuedAt, document.locale, timeZone) }), ...amountLines(view, t)],
      [
        paidQuote
          ? t('documentMail.quotePayment.quoteLink', { url: `${publicUrl}/quotes/${paidQuote.number}` })
          : view.boughtCodes
            ? t('documentMail.codesLink', { url: `${publicUrl}${VOUCHER_PURCHASES_PATH}` })
            : t('documentMail.orderLink', { url: `${publicUrl}/orders/${view.order.number}` }),
      ],
      ...(document.seller.email ? [[t('documentMail.contact', { email: document.seller.email })]] : []),
      [t('documentMail.closing'), document.seller.name],
      [t('documentMail.automatic')],
    ];
    return { subject: t(`${wording}.subject.${document.kind}`, names), paragraphs };
  }

  /** A quote's: the customer answers it by replying, so the reply goes to the seller when there is an address. */
  async function quoteMail(document: IssuedDocument, t: Translate) {
    const { quote, totals } = await loadQuoteDocumentView(db.knex, document);
    const { locale } = document;
    const paragraphs = [
      [t('quoteMail.greeting', { name: document.buyer.name })],
      [t('quoteMail.intro', { number: quote.number })],
      [t('quoteMail.total', { total: formatMoney(totals.totalCents, quote.currency, locale) }), t('quoteMail.validUntil', { day: formatDay(quote.customer.validUntil, locale) })],
      [t('quoteMail.references', { number: quote.number, postcode: quote.customer.postcode })],
      // A paragraph each: the "Payer maintenant" address stands out, and mail readers make a link of it.
      ...howToAccept(quote, t, 'mail', payNowUrl(publicUrl, quote)).map((paragraph) => [paragraph.text]),
      [t('quoteMail.closing'), document.seller.name],
    ];
    const replyTo = document.seller.email.trim();
    return { subject: t('quoteMail.subject', { number: quote.number, seller: document.seller.name }), paragraphs, ...(replyTo ? { replyTo } : {}) };
  }

  async function write(documentId: number): Promise<{ document: IssuedDocument; preview: MailPreview }> {
    const document = await findDocument(db.knex, { id: documentId });
    if (!document) throw new Error(`document ${documentId} does not exist`);
    const t = translations(document.locale);
    const { subject, paragraphs, replyTo } = document.kind === 'quote' ? await quoteMail(document, t) : { ...(await orderMail(document, t)), replyTo: undefined };
    const preview = {
      from,
      ...(replyTo ? { replyTo } : {}),
      subject,
      text: `${paragraphs.map((lines) => lines.join('\n')).join('\n\n')}\n`,
      locale: document.locale,
      attachmentName: files.fileName(document),
    };
    return { document, preview };
  }

  return {
    /** What the mail says, without drawing its PDF: for the admin mailbox. */
    preview: async (documentId: number): Promise<MailPreview> => (await write(documentId)).preview,

    /** The mail as it is sent, its stored PDF attached (read when the transport asks for it). */
    async compose(documentId: number): Promise<ComposedMail> {
      const { document, preview } = await write(documentId);
      const { from: sender, replyTo, subject, text } = preview;
      return { from: sender, ...(replyTo ? { replyTo } : {}), subject, text, attachments: [{ filename: files.fileName(document), contentType: 'application/pdf', content: () => files.pdf(document) }] };
    },
  };
}

export type DocumentMails = ReturnType<typeof createDocumentMails>;
