import type { OutboxMail } from '../../db/mail/mail-outbox-repository.js';
import type { ComposedMail, DocumentMails, MailPreview } from './document-mail.js';
import type { NoticeMails } from './notices.js';

/** Any mail of the outbox, written as it is sent and as admins read it: a document's or a notice's. */
export function createOutboxMails(documentMails: DocumentMails, noticeMails: NoticeMails) {
  return {
    async compose(mail: OutboxMail): Promise<ComposedMail> {
      return mail.notice ? noticeMails.compose(mail.notice) : documentMails.compose(mail.documentId!);
    },
    async preview(mail: OutboxMail): Promise<MailPreview> {
      return mail.notice ? noticeMails.preview(mail.notice) : documentMails.preview(mail.documentId!);
    },
  };
}

export type OutboxMails = ReturnType<typeof createOutboxMails>;
