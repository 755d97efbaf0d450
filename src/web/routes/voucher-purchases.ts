import { Router, type Request, type RequestHandler, type Response } from 'express';
import { addDays, dayOf } from '../../domain/time/calendar.js';
import type { Clock } from '../../domain/time/clock.js';
import { BATCH_NAME_MAX, HANDOVER_FORMATS, VoucherBatchError, VOUCHER_MAX_DAYS, type BatchField, type BatchProblem, type HandoverFormat } from '../../domain/vouchers/voucher-batches.js';
import { PURCHASE_MAX_CENTS, PURCHASE_MAX_COUNT, PURCHASE_MIN_DAYS, VOUCHER_PURCHASES_PATH, type PurchaseQuote } from '../../domain/vouchers/voucher-purchases.js';
import { formatDay, formatMoney, formatUnits } from '../../i18n/format.js';
import type { Locale, Translate } from '../../i18n/index.js';
import { CheckoutError } from '../../services/checkout/checkout.js';
import { currentTerms } from '../../services/pricing/records.js';
import { voucherCsv } from '../../services/vouchers/voucher-handover.js';
import { renderVoucherPdf } from '../../services/vouchers/voucher-pdf-thread.js';
import { VoucherPurchaseError, type VoucherPurchases } from '../../services/vouchers/voucher-purchases.js';
import type { Database } from '../../db/database.js';
import { forbidden, notFound } from '../http-error.js';
import { requireUser } from '../middleware/authentication.js';
import { perPersonLimit } from '../middleware/per-person-limit.js';
import { renderPage } from '../render.js';

export const VOUCHER_BUY_PATH = '/vouchers/buy';
const PURCHASE_ID = /^[1-9]\d{0,8}$/;
const FIELDS = ['name', 'count', 'value', 'expiresOn'] as const;
/** Payments a buyer may start in 10 minutes, and code files they may ask for: each asks PayPal, or draws and renders up to 1,000 codes. */
const STARTS_PER_10_MINUTES = 10;
const HANDOVERS_PER_10_MINUTES = 10;
/** Returns from PayPal a buyer may make in 10 minutes: each looks the payment up; a limit of its own, so that refused clicks never keep a buyer from coming back. */
const RETURNS_PER_10_MINUTES = 60;

/** The notices a redirect may ask the purchases' page to show, by name (never text from the URL). */
const NOTICES = ['paid', 'pending', 'cancelled'] as const;
/** Refusals of a handover, by the service's code: the page's message and the status. */
const HANDOVER_REFUSALS: Partial<Record<VoucherPurchaseError['code'], number>> = { not_paid: 409, voided: 409, handed_over: 409, not_handed_over: 409, nothing_to_replace: 409 };

type Typed = Record<(typeof FIELDS)[number], string>;

export interface VoucherPurchaseRoutesDependencies {
  db: Database;
  clock: Clock;
  timeZone: string;
  publicUrl: string;
  purchases: VoucherPurchases;
}

/**
 * A department's purchase of a batch of codes (`/vouchers/buy`): the batch described, priced by the
 * server, the terms accepted, paid through PayPal and back; then `/vouchers/purchases`, where each paid
 * batch's codes are downloaded as a PDF sheet or a CSV file — drawn by that download — and replaced if
 * the file is lost. Only people an admin made buyers may buy; anyone keeps access to what they bought.
 */
export function voucherPurchaseRoutes({ db, clock, timeZone, publicUrl, purchases }: VoucherPurchaseRoutesDependencies): Router {
  const router = Router();
  const startLimit = perPersonLimit({ limit: STARTS_PER_10_MINUTES, windowMs: 600_000, clock });
  const handoverLimit = perPersonLimit({ limit: HANDOVERS_PER_10_MINUTES, windowMs: 600_000, clock });
  const returnLimit = perPersonLimit({ limit: RETURNS_PER_10_MINUTES, windowMs: 600_000, clock });
  const today = () => dayOf(clock.now(), timeZone);

  const limitsFor = (t: Translate, locale: Locale, currency: string) => ({
    max: BATCH_NAME_MAX,
    maxCount: new Intl.NumberFormat(locale).format(PURCHASE_MAX_COUNT),
    maxPrice: formatMoney(PURCHASE_MAX_CENTS, currency, locale),
    minDay: formatDay(addDays(today(), PURCHASE_MIN_DAYS), locale),
    maxDay: formatDay(addDays(today(), VOUCHER_MAX_DAYS), locale),
    unit: formatUnits(t, 100, locale),
  });

  interface Form {
    typed: Typed;
    problems?: Partial<Record<BatchField, BatchProblem>>;
    quote?: PurchaseQuote | null;
    termsAccepted?: boolean;
    termsError?: boolean;
    refusal?: string | null;
  }

  async function showForm(request: Request, response: Response, form: Form, status = 200) {
    const t = response.locals.t as Translate;
    const locale = response.locals.locale as Locale;
    const terms = await currentTerms(db.knex);
    const { settings } = await purchases.priceSettings();
    const limits = limitsFor(t, locale, settings.currency);
    const errors: Record<string, string> = Object.fromEntries(Object.entries(form.problems ?? {}).map(([field, problem]) => [field, t(`vouchers.buy.errors.${field}.${problem}`, limits)]));
    if (form.termsError) errors.terms = t('topup.errors.terms');
    await renderPage(response.status(status), 'pages/voucher-purchase', {
      title: t('vouchers.buy.title'),
      typed: form.typed,
      errors,
      limits,
      unitPrice: formatMoney(settings.unitPriceCents, settings.currency, locale),
      money: (cents: number) => formatMoney(cents, settings.currency, locale),
      minDay: addDays(today(), PURCHASE_MIN_DAYS),
      maxDay: addDays(today(), VOUCHER_MAX_DAYS),
      quote: form.quote ?? null,
      terms: terms ?? null,
      termsAccepted: form.termsAccepted ?? false,
      refusal: form.refusal ?? null,
    });
  }

  /** Only buyers reach the form; others get the 403 page that says so. */
  async function buyerOnly(request: Request): Promise<void> {
    if (!(await purchases.isBuyer(request.user!))) throw forbidden();
  }

  const typedOf = (body: Record<string, unknown>): Typed => Object.fromEntries(FIELDS.map((field) => [field, typeof body[field] === 'string' ? body[field].slice(0, 200) : ''])) as Typed;

  router.get(VOUCHER_BUY_PATH, requireUser, async (request, response) => {
    await buyerOnly(request);
    await showForm(request, response, { typed: { name: '', count: '', value: '', expiresOn: addDays(today(), 365) } });
  });

  // "Voir le prix" asks nothing of PayPal: only the payments count against the limit.
  const paymentLimit: RequestHandler = (request, response, next) => (((request.body ?? {}) as Record<string, unknown>).summary !== undefined ? next() : startLimit(request, response, next));

  router.post(VOUCHER_BUY_PATH, requireUser, paymentLimit, async (request, response) => {
    await buyerOnly(request);
    const t = response.locals.t as Translate;
    const body = (request.body ?? {}) as Record<string, unknown>;
    const typed = typedOf(body);
    const termsAccepted = typeof body.terms === 'string';
    let quote: PurchaseQuote;
    try {
      ({ quote } = await purchases.review(typed));
    } catch (error) {
      if (!(error instanceof VoucherBatchError)) throw error;
      return showForm(request, response, { typed, problems: error.problems, termsAccepted, termsError: body.summary === undefined && !termsAccepted }, 400);
    }
    // "Voir le prix": the server's price, before anything is ordered.
    if (body.summary !== undefined) return showForm(request, response, { typed, quote, termsAccepted });
    if (!termsAccepted) return showForm(request, response, { typed, quote, termsError: true }, 400);
    try {
      response.redirect(303, await purchases.startPayment(request.user!, typed, body.terms, response.locals.locale as Locale));
    } catch (error) {
      const refused = (message: string, status: number, extra: Partial<Form> = {}) => showForm(request, response, { typed, quote, termsAccepted, refusal: message, ...extra }, status);
      if (error instanceof VoucherPurchaseError && (error.code === 'terms_not_accepted' || error.code === 'no_terms')) return refused(t('topup.errors.terms'), 400, { termsAccepted: false, termsError: true });
      if (error instanceof VoucherPurchaseError && error.code === 'too_many_open_purchases') return refused(t('vouchers.buy.errors.tooManyOpen'), 409);
      if (error instanceof VoucherPurchaseError && error.code === 'not_a_buyer') throw forbidden();
      // The price changed between the summary and the click: the new one is shown, nothing ordered.
      if (error instanceof VoucherBatchError) return showForm(request, response, { typed, problems: error.problems, termsAccepted }, 400);
      if (error instanceof CheckoutError && error.code === 'payment_unavailable') return refused(t('vouchers.buy.errors.paymentUnavailable'), 502);
      if (error instanceof CheckoutError) return refused(t('vouchers.buy.errors.notPayable'), 409);
      throw error;
    }
  });

  router.get(`${VOUCHER_BUY_PATH}/return`, requireUser, returnLimit, async (request, response) => {
    try {
      const { order, retryUrl } = await purchases.completeReturn(request.user!, request.query.token);
      response.redirect(303, retryUrl ?? `${VOUCHER_PURCHASES_PATH}?notice=${order.status === 'paid' ? 'paid' : 'pending'}`);
    } catch (error) {
      if (error instanceof VoucherPurchaseError) throw notFound();
      throw error;
    }
  });

  router.get(`${VOUCHER_BUY_PATH}/cancel`, requireUser, returnLimit, async (request, response) => {
    try {
      await purchases.cancelAtReturn(request.user!, request.query.token);
      response.redirect(303, `${VOUCHER_PURCHASES_PATH}?notice=cancelled`);
    } catch (error) {
      if (error instanceof VoucherPurchaseError) throw notFound();
      throw error;
    }
  });

  async function showPurchases(request: Request, response: Response, { problem = null, status = 200 }: { problem?: string | null; status?: number } = {}) {
    const t = response.locals.t as Translate;
    const locale = response.locals.locale as Locale;
    const [listed, isBuyer] = await Promise.all([purchases.list(request.user!), purchases.isBuyer(request.user!)]);
    const notice = status === 200 && (NOTICES as readonly unknown[]).includes(request.query.notice) ? t(`vouchers.purchases.notices.${String(request.query.notice)}`) : null;
    await renderPage(response.status(status), 'pages/voucher-purchases', {
      title: t('vouchers.purchases.title'),
      purchases: listed,
      receipts: await purchases.receiptsOf(listed),
      isBuyer,
      notice,
      problem,
      money: (cents: number, currency: string) => formatMoney(cents, currency, locale),
    });
  }

  router.get(VOUCHER_PURCHASES_PATH, requireUser, (request, response) => showPurchases(request, response));

  router.post(`${VOUCHER_PURCHASES_PATH}/:id/codes`, requireUser, handoverLimit, async (request, response) => {
    const t = response.locals.t as Translate;
    const locale = response.locals.locale as Locale;
    const id = request.params.id;
    if (typeof id !== 'string' || !PURCHASE_ID.test(id)) throw notFound();
    const body = (request.body ?? {}) as Record<string, unknown>;
    const format: HandoverFormat = (HANDOVER_FORMATS as readonly unknown[]).includes(body.format) ? (body.format as HandoverFormat) : 'pdf';
    let handover;
    try {
      handover = await purchases.handOver(request.user!, Number(id), { replace: body.replace === '1', format });
    } catch (error) {
      if (error instanceof VoucherPurchaseError && error.code === 'purchase_not_found') throw notFound();
      const status = error instanceof VoucherPurchaseError ? HANDOVER_REFUSALS[error.code] : undefined;
      if (status) return showPurchases(request, response, { problem: t(`vouchers.purchases.errors.${(error as VoucherPurchaseError).code}`), status });
      throw error;
    }
    const { purchase, codes } = handover;
    const topUpUrl = `${publicUrl}/topup`;
    const batch = { id: purchase.batchId!, name: purchase.name, value: purchase.value, expiresOn: purchase.expiresOn };
    const file = format === 'pdf' ? await renderVoucherPdf({ batch, codes, locale, topUpUrl }) : voucherCsv(batch, codes, { t, locale, topUpUrl });
    // The codes exist nowhere else: neither stored nor kept by the browser or a proxy.
    response.set({
      'Cache-Control': 'no-store',
      'Content-Type': format === 'pdf' ? 'application/pdf' : 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="codes-${purchase.orderNumber}${handover.replaced ? `-${purchase.handoverCount + 1}` : ''}.${format}"`,
    });
    response.status(201).send(file);
  });

  return router;
}
