import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { enqueueNoticeMail } from '../../db/mail/mail-outbox-repository.js';
import type { Notice, NoticeParams } from '../../domain/mail/notices.js';
import type { Locale, Translate } from '../../i18n/index.js';
import type { ComposedMail, MailPreview } from './document-mail.js';

export type { Notice, NoticeParams };

/** How one kind of notice is written, at each attempt, in the notice's language: a subject and paragraphs of lines. */
export type NoticeWriter = (params: NoticeParams, t: Translate, context: { publicUrl: string; locale: Locale; timeZone: string }) => { subject: string; paragraphs: string[][] };

/**
 * Queues a notice in the caller's transaction, once per `sendKey` (unique in the outbox): a retry or a
 * replay of what caused it queues nothing more. Answers whether it was queued now; the caller kicks
 * delivery once its transaction has committed.
 */
export function queueNotice(trx: Knex.Transaction, notice: Notice & { sendKey: string; recipient: string }, now: Date, mailDomain: string): Promise<boolean> {
  const { sendKey, recipient, kind, params, locale } = notice;
  // Fixed when queued, like a document's: a notice sent again after a crash carries the same Message-ID.
  const messageId = `<${kind}.${randomBytes(8).toString('hex')}@${mailDomain}>`;
  return enqueueNoticeMail(trx, { notice: { kind, params, locale }, sendKey, recipient, messageId }, now);
}

export interface NoticeMailDependencies {
  translations: (locale: Locale) => Translate;
  from: string;
  publicUrl: string;
  timeZone: string;
  /** Every kind of notice the portal sends, by kind. */
  writers: Readonly<Record<string, NoticeWriter>>;
}

/** Writes notices as they are sent (and as admins read them in the outbox): text only, no attachment. */
export function createNoticeMails({ translations, from, publicUrl, timeZone, writers }: NoticeMailDependencies) {
  function preview(notice: Notice): MailPreview {
    const writer = writers[notice.kind];
    if (!writer) throw new Error(`no writer for notices of kind ${notice.kind}`);
    const { subject, paragraphs } = writer(notice.params, translations(notice.locale), { publicUrl, locale: notice.locale, timeZone });
    return { from, subject, text: `${paragraphs.map((lines) => lines.join('\n')).join('\n\n')}\n`, locale: notice.locale, attachmentName: null };
  }
  return {
    preview,
    compose(notice: Notice): ComposedMail {
      const { subject, text } = preview(notice);
      return { from, subject, text, attachments: [] };
    },
  };
}

export type NoticeMails = ReturnType<typeof createNoticeMails>;
