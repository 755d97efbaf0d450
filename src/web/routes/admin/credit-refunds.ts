import type { Request, Response, Router } from 'express';
import { CreditRefundError, CREDIT_REFUND_REASON_MAX_LENGTH } from '../../../domain/credit-refunds/credit-refunds.js';
import { parseAmount, PricingError } from '../../../domain/pricing/pricing.js';
import type { Translate } from '../../../i18n/index.js';
import { notFound } from '../../http-error.js';
import { pageLinks, parsePage } from '../../paging.js';
import { renderPage } from '../../render.js';
import type { AdminDependencies } from './dependencies.js';

const LIST_PATH = '/admin/credit-refunds';
const PAGE_SIZE = 50;
const ID = /^[1-9]\d{0,8}$/;
const LIST_NOTICES = ['settingSaved'] as const;
const REQUEST_NOTICES = ['approved', 'alreadyDecided', 'refused', 'retried', 'switched', 'transferred'] as const;

const idOf = (value: unknown) => {
  if (typeof value !== 'string' || !ID.test(value)) throw notFound();
  return Number(value);
};
const noticeOf = (t: Translate, query: Request['query'], names: readonly string[], prefix: string) => (names.includes(String(query.notice)) ? t(`${prefix}.${String(query.notice)}`) : null);

/** Requests of refunds of unused credit: the list with the automatic approval's amount, and each request to approve, refuse and follow. */
export function registerCreditRefundRoutes(router: Router, { creditRefunds }: AdminDependencies): void {
  async function showList(request: Request, response: Response, settingError: string | null = null, status = 200) {
    const t = response.locals.t as Translate;
    const all = request.query.all === '1';
    const page = parsePage(request.query.page);
    const { rows, total } = await creditRefunds.list({ open: !all, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
    await renderPage(response.status(status), 'admin/credit-refunds/list', {
      title: t('admin.creditRefunds.title'),
      adminSection: 'creditRefunds',
      all,
      rows,
      pager: pageLinks(LIST_PATH, all ? { all: '1' } : {}, page, Math.max(1, Math.ceil(total / PAGE_SIZE))),
      autoApproval: await creditRefunds.autoApproval(),
      settingError,
      notice: status === 200 ? noticeOf(t, request.query, LIST_NOTICES, 'admin.creditRefunds.notices') : null,
    });
  }

  async function showRequest(request: Request, response: Response, problem: string | null = null, status = 200) {
    const t = response.locals.t as Translate;
    const id = idOf(request.params.id);
    const found = await creditRefunds.details(id);
    if (!found) throw notFound();
    await renderPage(response.status(status), 'admin/credit-refunds/request', {
      title: t('admin.creditRefunds.request.title', { number: id }),
      adminSection: 'creditRefunds',
      ...found,
      problem,
      reasonMaxLength: CREDIT_REFUND_REASON_MAX_LENGTH,
      notice: status === 200 ? noticeOf(t, request.query, REQUEST_NOTICES, 'admin.creditRefunds.request.notices') : null,
    });
  }

  const back = (response: Response, id: number, notice: (typeof REQUEST_NOTICES)[number]) => response.redirect(303, `${LIST_PATH}/${id}?notice=${notice}`);

  /** A refused action shows the page again with why, changing nothing. */
  async function refusedWith(request: Request, response: Response, error: unknown) {
    if (!(error instanceof CreditRefundError)) throw error;
    if (error.code === 'not_found') throw notFound();
    await showRequest(request, response, (response.locals.t as Translate)(`admin.creditRefunds.request.errors.${error.code}`), error.code === 'invalid_reason' ? 400 : 409);
  }

  router.get(LIST_PATH, (request, response) => showList(request, response));

  router.post(`${LIST_PATH}/settings`, async (request, response) => {
    const t = response.locals.t as Translate;
    let cents;
    try {
      cents = parseAmount((request.body as Record<string, unknown>).autoApprove);
    } catch (error) {
      if (!(error instanceof PricingError)) throw error;
      return showList(request, response, t('admin.creditRefunds.settings.invalid'), 400);
    }
    try {
      await creditRefunds.setAutoApproveCents(request.user!, cents);
    } catch (error) {
      if (!(error instanceof CreditRefundError)) throw error;
      return showList(request, response, t('admin.creditRefunds.settings.invalid'), 400);
    }
    response.redirect(303, `${LIST_PATH}?notice=settingSaved`);
  });

  router.get(`${LIST_PATH}/:id`, (request, response) => showRequest(request, response));

  router.post(`${LIST_PATH}/:id/approve`, async (request, response) => {
    const id = idOf(request.params.id);
    try {
      const { approved } = await creditRefunds.approve(request.user!, id);
      back(response, id, approved ? 'approved' : 'alreadyDecided');
    } catch (error) {
      await refusedWith(request, response, error);
    }
  });

  router.post(`${LIST_PATH}/:id/refuse`, async (request, response) => {
    const id = idOf(request.params.id);
    try {
      const { refused } = await creditRefunds.refuse(request.user!, id, (request.body as Record<string, unknown>).reason);
      back(response, id, refused ? 'refused' : 'alreadyDecided');
    } catch (error) {
      await refusedWith(request, response, error);
    }
  });

  router.post(`${LIST_PATH}/:id/retry`, async (request, response) => {
    const id = idOf(request.params.id);
    if (!(await creditRefunds.details(id))) throw notFound();
    await creditRefunds.payPendingParts(request.user!, id);
    back(response, id, 'retried');
  });

  for (const [action, notice] of [['transfer', 'switched'], ['transferred', 'transferred']] as const) {
    router.post(`${LIST_PATH}/:id/parts/:part/${action}`, async (request, response) => {
      const id = idOf(request.params.id);
      const part = idOf(request.params.part);
      try {
        await (action === 'transfer' ? creditRefunds.switchToTransfer(request.user!, id, part) : creditRefunds.markTransferred(request.user!, id, part));
        back(response, id, notice);
      } catch (error) {
        await refusedWith(request, response, error);
      }
    });
  }
}
