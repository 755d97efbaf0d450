import type { Database } from '../../db/database.js';
import { findDocument } from '../../db/documents/document-repository.js';
import type { DocumentFiles } from '../documents/document-files.js';
import { loadDocumentView, type DocumentView } from '../documents/document-view.js';
import type { IssuedDocument } from '../../domain/documents/documents.js';
import { formatDateTime, formatMoney, formatUnits } from '../../i18n/format.js';
import type { Locale, Translate } from '../../i18n/index.js';
import type { OutgoingMail } from '../../smtp/transport.js';

/** A document's mail as admins read it: everything but the PDF's bytes. */
export interface MailPreview {
  from: string;
  subject: string;
  text: string;
  /** The language the subject and text are written in (the buyer's). */
  locale: Locale;
  attachmentName: string;
}

/** A document's mail without its envelope: the outbox row says to whom and under which Message-ID. */
export interface ComposedMail {
  from: string;
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
 * Writes the mail of a receipt or credit note, in the language of the document, from what was
 * recorded (the order, the refund, the document's own copy of buyer and seller). The text is written
 * again at each attempt from those records; the PDF attached is the document's stored file, the same
 * bytes the buyer downloads (rendered and stored first if it is not yet).
 */
export function createDocumentMails({ db, translations, files, from, publicUrl, timeZone }: DocumentMailDependencies) {
  function amountLines({ document, order, refund }: DocumentView, t: Translate): string[] {
    const { locale } = document;
    if (refund) return [t('documentMail.refunded', { amount: formatMoney(refund.amountCents, order.currency, locale) })];
    return [
      t('documentMail.paid', { amount: formatMoney(order.priceCents, order.currency, locale) }),
      t('documentMail.credited', { units: formatUnits(t, order.units + order.bonusUnits, locale) }),
      ...(order.bonusUnits > 0 ? [t('documentMail.bonus', { units: formatUnits(t, order.bonusUnits, locale) })] : []),
    ];
  }

  async function write(documentId: number): Promise<{ document: IssuedDocument; preview: MailPreview }> {
    const document = await findDocument(db.knex, { id: documentId });
    if (!document) throw new Error(`document ${documentId} does not exist`);
    const view = await loadDocumentView(db.knex, document);
    const t = translations(document.locale);
    const names = { number: document.number, order: view.order.number };
    const paragraphs = [
      [t('documentMail.greeting', { name: document.buyer.name || document.buyer.username })],
      [t(`documentMail.intro.${document.kind}`, names)],
      [t('documentMail.issuedAt', { date: formatDateTime(document.issuedAt, document.locale, timeZone) }), ...amountLines(view, t)],
      [t('documentMail.orderLink', { url: `${publicUrl}/orders/${view.order.number}` })],
      ...(document.seller.email ? [[t('documentMail.contact', { email: document.seller.email })]] : []),
      [t('documentMail.closing'), document.seller.name],
      [t('documentMail.automatic')],
    ];
    const preview = {
      from,
      subject: t(`documentMail.subject.${document.kind}`, names),
      text: `${paragraphs.map((lines) => lines.join('\n')).join('\n\n')}\n`,
      locale: document.locale,
      attachmentName: files.fileName(document),
    };
    return { document, preview };
  }

  return {
    /** What the mail says, without drawing its PDF: for the admin mailbox. */
    preview: async (documentId: number): Promise<MailPreview> => (await write(documentId)).preview,

    /** The mail as it is sent, its stored PDF attached. */
    async compose(documentId: number): Promise<ComposedMail> {
      const { document, preview } = await write(documentId);
      const { from: sender, subject, text, attachmentName } = preview;
      return { from: sender, subject, text, attachments: [{ filename: attachmentName, content: await files.pdf(document), contentType: 'application/pdf' }] };
    },
  };
}

export type DocumentMails = ReturnType<typeof createDocumentMails>;
