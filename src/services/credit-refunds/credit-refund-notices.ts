import { formatMoney } from '../../i18n/format.js';
import type { NoticeWriter } from '../mail/notices.js';

/** The mails a request sends the person: asked, approved (with what goes by PayPal or by transfer), refused (with the reason), paid. */
export const creditRefundNoticeKinds = {
  requested: 'credit_refund.requested',
  approved: 'credit_refund.approved',
  refused: 'credit_refund.refused',
  completed: 'credit_refund.completed',
} as const;
export type CreditRefundNoticeKind = keyof typeof creditRefundNoticeKinds;

const money = (params: Parameters<NoticeWriter>[0], locale: Parameters<NoticeWriter>[2]['locale'], key = 'amountCents') => formatMoney(Number(params[key]), String(params.currency), locale);

/** How each notice is written, in the person's language, at each sending attempt. */
export const creditRefundNotices: Record<string, NoticeWriter> = {
  [creditRefundNoticeKinds.requested]: (params, t, { publicUrl, locale }) => ({
    subject: t('creditRefunds.mail.requested.subject', { number: params.requestId }),
    paragraphs: [
      [t('creditRefunds.mail.greeting')],
      [t('creditRefunds.mail.requested.body', { amount: money(params, locale) })],
      ...(params.closeAccount ? [[t('creditRefunds.mail.requested.closing')]] : []),
      [t('creditRefunds.mail.follow'), `${publicUrl}/account/refund`],
    ],
  }),
  [creditRefundNoticeKinds.approved]: (params, t, { locale }) => ({
    subject: t('creditRefunds.mail.approved.subject', { number: params.requestId }),
    paragraphs: [
      [t('creditRefunds.mail.greeting')],
      [Number(params.amountCents) > 0 ? t('creditRefunds.mail.approved.body', { amount: money(params, locale) }) : t('creditRefunds.mail.approved.nothingLeft')],
      ...(Number(params.transferCents) > 0 ? [[t('creditRefunds.mail.approved.transfer', { amount: money(params, locale, 'transferCents') })]] : []),
      ...(params.accountClosed ? [[t('creditRefunds.mail.approved.closed')]] : []),
    ],
  }),
  [creditRefundNoticeKinds.refused]: (params, t, { publicUrl }) => ({
    subject: t('creditRefunds.mail.refused.subject', { number: params.requestId }),
    paragraphs: [[t('creditRefunds.mail.greeting')], [t('creditRefunds.mail.refused.body')], [String(params.reason)], [t('creditRefunds.mail.follow'), `${publicUrl}/account/refund`]],
  }),
  [creditRefundNoticeKinds.completed]: (params, t, { locale }) => ({
    subject: t('creditRefunds.mail.completed.subject', { number: params.requestId }),
    paragraphs: [[t('creditRefunds.mail.greeting')], [t('creditRefunds.mail.completed.body', { amount: money(params, locale) })]],
  }),
};
