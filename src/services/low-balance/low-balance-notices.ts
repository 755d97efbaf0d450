import { LOW_BALANCE_NOTICE_KIND } from '../../domain/low-balance/low-balance.js';
import { formatUnits } from '../../i18n/format.js';
import type { NoticeWriter } from '../mail/notices.js';

/** Amounts are stored as hundredths in the notice; anything else would be a bug, written as 0. */
const hundredths = (value: unknown) => (typeof value === 'number' && Number.isSafeInteger(value) ? value : 0);

/**
 * The mail of a balance gone below the person's threshold: how much is left, a one-click link to the
 * top-up page, and where to change or turn off the alert.
 */
export const lowBalanceNotices: Record<string, NoticeWriter> = {
  [LOW_BALANCE_NOTICE_KIND]: (params, t, { publicUrl, locale }) => {
    const balance = formatUnits(t, hundredths(params.balance), locale);
    const threshold = formatUnits(t, hundredths(params.threshold), locale);
    return {
      subject: t('lowBalance.mail.subject', { balance }),
      paragraphs: [
        [t('lowBalance.mail.greeting')],
        [t('lowBalance.mail.crossed', { balance, threshold })],
        [t('lowBalance.mail.topUp'), `${publicUrl}/topup`],
        [t('lowBalance.mail.settings'), `${publicUrl}/account/low-balance-alert`],
      ],
    };
  },
};
