import type { Request, Response, Router } from 'express';
import { createVoucherBatches, VoucherBatchNotFound } from '../../../services/vouchers/voucher-batches.js';
import { voucherCsv } from '../../../services/vouchers/voucher-handover.js';
import { VoucherPurchaseError } from '../../../services/vouchers/voucher-purchases.js';
import { findPurchase } from '../../../services/vouchers/records.js';
import { renderVoucherPdf } from '../../../services/vouchers/voucher-pdf-thread.js';
import { BATCH_MAX_COUNT, BATCH_NAME_MAX, VoucherBatchError, VOUCHER_MAX_DAYS, VOUCHER_MAX_VALUE, type BatchField, type BatchProblem } from '../../../domain/vouchers/voucher-batches.js';
import { addDays, dayOf } from '../../../domain/time/calendar.js';
import type { Locale, Translate } from '../../../i18n/index.js';
import { formatDay, formatUnits } from '../../../i18n/format.js';
import { notFound } from '../../http-error.js';
import { perPersonLimit } from '../../middleware/per-person-limit.js';
import { pageLinks, parsePage } from '../../paging.js';
import { renderPage } from '../../render.js';
import type { AdminDependencies } from './dependencies.js';

const LIST_PATH = '/admin/vouchers';
const BATCH_ID = /^[1-9]\d{0,8}$/;
/** Batches an admin may generate in 10 minutes: each draws, stores and renders up to 10,000 codes. */
const GENERATIONS_PER_10_MINUTES = 10;

/** The notices a redirect may ask a batch's page to show, by name (never text from the URL). */
const NOTICES = ['voided', 'alreadyVoided'] as const;
/** The notices a redirect may ask the list to show about buyers. */
const BUYER_NOTICES = ['added', 'alreadyBuyer', 'removed'] as const;
const BUYERS_PATH = `${LIST_PATH}/buyers`;

type Typed = Partial<Record<BatchField, string>>;

/**
 * Top-up codes: batches generated, handed over once (the answer to the form is the PDF sheet or the
 * CSV file, and nothing keeps the codes), voided, and reported on from their counters.
 */
export function registerVoucherRoutes(router: Router, { db, clock, config, voucherPurchases }: AdminDependencies): void {
  const batches = createVoucherBatches({ db, clock, timeZone: config.i18n.timeZone });
  const generationLimit = perPersonLimit({ limit: GENERATIONS_PER_10_MINUTES, windowMs: 600_000, clock });

  async function showList(
    request: Request,
    response: Response,
    { typed = {}, problems = {}, status = 200, buyerError = null, buyerTyped = '' }: { typed?: Typed; problems?: Partial<Record<BatchField, BatchProblem>>; status?: number; buyerError?: string | null; buyerTyped?: string } = {},
  ) {
    const t = response.locals.t as Translate;
    const locale = response.locals.locale as Locale;
    const page = parsePage(request.query.page);
    const [{ batches: listed, pageCount }, buyers] = await Promise.all([batches.list(page), voucherPurchases.listBuyers()]);
    const buyerNotice = status === 200 && (BUYER_NOTICES as readonly unknown[]).includes(request.query.notice) ? t(`vouchers.admin.buyers.notices.${String(request.query.notice)}`) : null;
    const today = dayOf(clock.now(), config.i18n.timeZone);
    const limits = { maxCount: new Intl.NumberFormat(locale).format(BATCH_MAX_COUNT), maxValue: formatUnits(t, VOUCHER_MAX_VALUE, locale), maxDay: formatDay(addDays(today, VOUCHER_MAX_DAYS), locale), max: BATCH_NAME_MAX };
    const errors = Object.fromEntries(Object.entries(problems).map(([field, problem]) => [field, t(`vouchers.admin.errors.${field}.${problem}`, limits)]));
    await renderPage(response.status(status), 'admin/vouchers/list', {
      title: t('vouchers.admin.title'),
      adminSection: 'vouchers',
      batches: listed,
      pager: pageLinks(LIST_PATH, {}, page, pageCount),
      typed: { name: '', count: '', value: '', expiresOn: '', format: 'pdf', ...typed },
      errors,
      limits,
      today,
      maxDay: addDays(today, VOUCHER_MAX_DAYS),
      buyers,
      buyerNotice,
      buyerError,
      buyerTyped,
    });
  }

  router.get(LIST_PATH, (request, response) => showList(request, response));

  router.post(LIST_PATH, generationLimit, async (request, response) => {
    const t = response.locals.t as Translate;
    const locale = response.locals.locale as Locale;
    const body = (request.body ?? {}) as Record<string, unknown>;
    let batchRequest;
    try {
      batchRequest = batches.check(body);
    } catch (error) {
      if (!(error instanceof VoucherBatchError)) throw error;
      const typed = Object.fromEntries((['name', 'count', 'value', 'expiresOn', 'format'] as const).map((field) => [field, typeof body[field] === 'string' ? body[field].slice(0, 200) : ''])) as Typed;
      return showList(request, response, { typed, problems: error.problems, status: 400 });
    }
    const { batchId, codes } = await batches.generate(batchRequest, request.user!);
    const wording = { t, locale, topUpUrl: `${config.server.publicUrl}/topup` };
    const handover = { id: batchId, name: batchRequest.name, value: batchRequest.value, expiresOn: batchRequest.expiresOn };
    const file = batchRequest.format === 'pdf' ? await renderVoucherPdf({ batch: handover, codes, locale, topUpUrl: wording.topUpUrl }) : voucherCsv(handover, codes, wording);
    // The only copy of the codes: neither stored nor kept by the browser or a proxy.
    response.set({
      'Cache-Control': 'no-store',
      'Content-Type': batchRequest.format === 'pdf' ? 'application/pdf' : 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="vouchers-${batchId}.${batchRequest.format}"`,
    });
    response.status(201).send(file);
  });

  router.post(BUYERS_PATH, async (request, response) => {
    const t = response.locals.t as Translate;
    const typed = ((request.body ?? {}) as Record<string, unknown>).username;
    const username = typeof typed === 'string' ? typed.trim().slice(0, 200) : '';
    try {
      const added = await voucherPurchases.addBuyer(request.user!, username);
      response.redirect(303, `${LIST_PATH}?notice=${added ? 'added' : 'alreadyBuyer'}#buyers-title`);
    } catch (error) {
      if (!(error instanceof VoucherPurchaseError && error.code === 'user_not_found')) throw error;
      await showList(request, response, { status: 400, buyerError: t('vouchers.admin.buyers.errors.user_not_found'), buyerTyped: username });
    }
  });

  router.post(`${BUYERS_PATH}/:userId/remove`, async (request, response) => {
    const userId = request.params.userId ?? '';
    if (!BATCH_ID.test(userId)) throw notFound();
    await voucherPurchases.removeBuyer(request.user!, Number(userId));
    response.redirect(303, `${LIST_PATH}?notice=removed#buyers-title`);
  });

  router.get(`${LIST_PATH}/:id`, async (request, response) => {
    const t = response.locals.t as Translate;
    const id = request.params.id ?? '';
    if (!BATCH_ID.test(id)) throw notFound();
    const page = parsePage(request.query.page);
    const [found, purchase] = await Promise.all([batches.batchPage(Number(id), page), findPurchase(db.knex, { batchId: Number(id) })]);
    if (!found) throw notFound();
    const notice = (NOTICES as readonly unknown[]).includes(request.query.notice) ? t(`vouchers.admin.notices.${String(request.query.notice)}`) : null;
    await renderPage(response, 'admin/vouchers/batch', {
      title: t('vouchers.admin.batch.title', { name: found.batch.name }),
      adminSection: 'vouchers',
      batch: found.batch,
      purchase: purchase ?? null,
      redemptions: found.redemptions,
      pager: pageLinks(`${LIST_PATH}/${id}`, {}, page, found.pageCount),
      notice,
    });
  });

  router.post(`${LIST_PATH}/:id/void`, async (request, response) => {
    const id = request.params.id ?? '';
    if (!BATCH_ID.test(id)) throw notFound();
    try {
      const voided = await batches.void(Number(id), request.user!);
      response.redirect(303, `${LIST_PATH}/${id}?notice=${voided ? 'voided' : 'alreadyVoided'}`);
    } catch (error) {
      if (error instanceof VoucherBatchNotFound) throw notFound();
      throw error;
    }
  });
}
