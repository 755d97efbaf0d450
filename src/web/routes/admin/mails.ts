import type { Request, Response, Router } from 'express';
import { findMail, listMails, MAIL_STATUSES, type MailStatus, type OutboxMail } from '../../../services/mail/records.js';
import { retryFailedMail } from '../../../services/mail/mail-retry.js';
import type { Translate } from '../../../i18n/index.js';
import { notFound } from '../../http-error.js';
import { pageLinks, parsePage } from '../../paging.js';
import { renderPage } from '../../render.js';
import type { AdminDependencies } from './dependencies.js';
import { shortError } from '../../short-error.js';

export const MAILS_PAGE_SIZE = 25;
const LIST_PATH = '/admin/mails';
const MAIL_ID = /^[1-9]\d{0,8}$/;

/** A document's mail is named by the document; a notice, which has none, as a notice to its recipient. */
export const mailTitle = (mail: OutboxMail, t: Translate) => (mail.documentNumber ? t('admin.mails.mail.title', { number: mail.documentNumber }) : t('admin.mails.mail.noticeTitle', { recipient: mail.recipient }));

const isMailStatus = (value: unknown): value is MailStatus => (MAIL_STATUSES as readonly unknown[]).includes(value);

/**
 * The outbox as admins see it: every receipt and credit-note mail, what it says, whether it left
 * (or, in demo mode, was kept here instead), and "try again" for one that gave up.
 */
export function registerMailRoutes(router: Router, { db, clock, config, mail: delivery, outboxMails }: AdminDependencies): void {
  router.get(LIST_PATH, async (request, response) => {
    const t = response.locals.t as Translate;
    const requested = request.query.status;
    const filter = requested === undefined || requested === '' ? undefined : requested;
    const view = {
      title: t('admin.mails.title'),
      adminSection: 'mails',
      statuses: MAIL_STATUSES,
      kept: config.mail.delivery === 'keep',
      typedStatus: typeof requested === 'string' ? requested : '',
    };
    if (filter !== undefined && !isMailStatus(filter)) {
      await renderPage(response.status(400), 'admin/mails/list', { ...view, filterError: t('admin.mails.list.filterError'), listing: null });
      return;
    }

    const pageOf = (page: number) => listMails(db.knex, { ...(filter ? { status: filter } : {}), offset: (page - 1) * MAILS_PAGE_SIZE, limit: MAILS_PAGE_SIZE });
    let page = parsePage(request.query.page);
    let { mails, total } = await pageOf(page);
    const pageCount = Math.max(1, Math.ceil(total / MAILS_PAGE_SIZE));
    if (page > pageCount) {
      // A page past the end (mails left the filtered status since the link was made) shows the last one.
      page = pageCount;
      ({ mails, total } = await pageOf(page));
    }
    await renderPage(response, 'admin/mails/list', {
      ...view,
      filterError: null,
      listing: {
        total,
        rows: mails.map((mail) => ({ ...mail, label: mail.documentNumber ?? t('admin.mails.list.notice'), shortError: shortError(mail.lastError) })),
        pager: pageLinks(LIST_PATH, filter ? { status: filter } : {}, page, pageCount),
      },
    });
  });

  async function mailOf(request: Request): Promise<OutboxMail> {
    const id = request.params.id;
    const mail = typeof id === 'string' && MAIL_ID.test(id) ? await findMail(db.knex, Number(id)) : undefined;
    if (!mail) throw notFound();
    return mail;
  }

  async function showMail(response: Response, mail: OutboxMail, state: { notice?: string | null; problem?: string | null }, status = 200) {
    const t = response.locals.t as Translate;
    // Written again from the document or notice, as delivery does: the text is the one sent, or about to be. A
    // mail that cannot be written is exactly the one an admin comes to look at: its page still shows, with why.
    const composed = await outboxMails.preview(mail).catch((error: unknown) => {
      response.req.log.error({ err: error, mailId: mail.id }, 'cannot compose mail for the admin mailbox');
      return null;
    });
    await renderPage(response.status(status), 'admin/mails/mail', {
      title: mailTitle(mail, t),
      adminSection: 'mails',
      mail,
      composed,
      // The mail is in the buyer's language, which need not be the admin's.
      mailLocale: composed?.locale ?? config.i18n.defaultLocale,
      giveUpHours: config.mail.giveUpHours,
      notice: state.notice ?? null,
      problem: state.problem ?? null,
    });
  }

  router.get(`${LIST_PATH}/:id`, async (request, response) => {
    const t = response.locals.t as Translate;
    const mail = await mailOf(request);
    // Said only while it is true: a later visit to the same address shows the mail as it is.
    const notice = request.query.notice === 'retried' && mail.status === 'pending' ? t('admin.mails.notices.retried') : null;
    await showMail(response, mail, { notice });
  });

  router.post(`${LIST_PATH}/:id/retry`, async (request, response) => {
    const t = response.locals.t as Translate;
    const mail = await mailOf(request);
    if (!(await retryFailedMail(db, mail, request.user!, clock.now()))) {
      const current = (await findMail(db.knex, mail.id)) ?? mail;
      return showMail(response, current, { problem: t('admin.mails.retry.notFailed', { status: t(`admin.mails.statuses.${current.status}`) }) }, 409);
    }
    delivery.kick();
    response.redirect(303, `${LIST_PATH}/${mail.id}?notice=retried`);
  });
}
