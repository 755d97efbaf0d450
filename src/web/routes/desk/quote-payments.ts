import { Router, type Request, type Response } from 'express';
import { CheckoutError } from '../../../services/checkout/checkout.js';
import type { QuotePaymentRow } from '../../../services/quotes/quote-payment-desk.js';
import type { QuoteDetails } from '../../../services/quotes/quote-desk.js';
import { REFUND_REASON_MAX_LENGTH, refundableCents, RefundError } from '../../../domain/checkout/refunds.js';
import type { Cents } from '../../../domain/pricing/pricing.js';
import { formatMoney } from '../../../i18n/format.js';
import type { Locale, Translate } from '../../../i18n/index.js';
import { notFound } from '../../http-error.js';
import { documentUrl } from '../documents.js';
import { freshRefundForm, readRefundForm, type RefundForm } from '../../refund-form.js';
import type { DeskDependencies } from './dependencies.js';
import { quoteNamedBy, showQuote } from './quote-page.js';

const REFUND_ID = /^[A-Za-z0-9-]{1,64}$/;
/** The notices a redirect may ask the section to show, by name (never text from the URL). */
const NOTICES = { refunded: 'deskQuotePayments.notices.refunded', refundUnsettled: 'deskQuotePayments.notices.refundUnsettled', alreadyRefunded: 'admin.orders.notices.alreadyRefunded' } as const;

/** A refund form sent back: what was typed, for the order it was typed for, and what is wrong with it. */
interface SentForm {
  orderNumber: string;
  form: RefundForm;
  errors: Partial<Record<'amount' | 'reason', string>>;
}

/**
 * The "Paiements" section of a quote's page (views/desk/quotes/payments.ejs): the orders that paid or
 * tried to pay the quote, their documents, and a PayPal refund form for each one that may still be
 * refunded. The section's data is put in `response.locals.quotePayments` for every page of a quote, so
 * that the quote's page shows it whichever route answers with it.
 */
export function deskQuotePaymentRoutes({ quotes, payments }: DeskDependencies): Router {
  const router = Router();

  function showSection(request: Request, response: Response, rows: QuotePaymentRow[], sent: SentForm | null, notice: string | null): void {
    const locale = response.locals.locale as Locale;
    const freshForm = (row: QuotePaymentRow): RefundForm => freshRefundForm(row.refundableCents, locale);
    response.locals.quotePayments = {
      rows: rows.map((row) => ({ ...row, form: row.order.number === sent?.orderNumber ? sent.form : freshForm(row), errors: row.order.number === sent?.orderNumber ? sent.errors : {} })),
      notice,
      adminLinks: request.user?.role === 'admin',
      documentUrl,
      reasonMaxLength: REFUND_REASON_MAX_LENGTH,
    };
  }

  /** A notice named in the URL after a refund, with its PayPal reference checked (it comes from a URL). */
  function noticeOf(request: Request, t: Translate): string | null {
    const { payment, refund } = request.query;
    if (typeof payment !== 'string' || !Object.hasOwn(NOTICES, payment) || typeof refund !== 'string' || !REFUND_ID.test(refund)) return null;
    return t(NOTICES[payment as keyof typeof NOTICES], { refundId: refund });
  }

  router.use('/desk/quotes/:number', async (request, response, next) => {
    showSection(request, response, await payments.payments(String(request.params.number)), null, noticeOf(request, response.locals.t as Translate));
    next();
  });

  router.post('/desk/quotes/:number/payments/:order/refund', async (request, response) => {
    const t = response.locals.t as Translate;
    const locale = response.locals.locale as Locale;
    const details = await quoteNamedBy(quotes, request);
    const rows = await payments.payments(details.quote.number);
    const order = rows.find((row) => row.order.number === request.params.order)?.order;
    if (!order) throw notFound();
    const body = (request.body ?? {}) as Record<string, unknown>;
    const { form, amountCents, errors } = readRefundForm(body, t);
    /** The quote's page again, as it is now, with the form as sent and why nothing was refunded. */
    const refused = async (status: number, { errors = {}, problem }: { errors?: SentForm['errors']; problem: string }) => {
      const current = (await quotes.details(details.quote.id)) as QuoteDetails;
      showSection(request, response, await payments.payments(details.quote.number), { orderNumber: order.number, form, errors }, null);
      await showQuote(response, current, { problem }, status);
    };
    const money = (cents: Cents) => formatMoney(cents, order.currency, locale);

    if (Object.keys(errors).length > 0) return refused(400, { errors, problem: t('admin.orders.refund.errors.summary') });

    let result;
    try {
      result = await payments.refund(request.user!, order, { amountCents, reason: form.reason, nonce: form.nonce });
    } catch (error) {
      if (error instanceof RefundError) {
        if (error.code === 'amount_not_positive') return refused(400, { errors: { amount: t('admin.orders.refund.errors.amountPositive') }, problem: t('admin.orders.refund.errors.summary') });
        if (error.code === 'amount_exceeds_remaining') {
          const amount = t('admin.orders.refund.errors.amountExceeds', { amount: money(refundableCents(order)) });
          return refused(400, { errors: { amount }, problem: t('admin.orders.refund.errors.summary') });
        }
        if (error.code === 'form_reused') return refused(409, { problem: t('admin.orders.refund.errors.formReused') });
        if (error.code === 'not_refundable') return refused(409, { problem: t('admin.orders.refund.errors.notRefundable', { status: t(`order.statusName.${order.status}`) }) });
        // units_spent: a quote's order credited no units, so none can be missing.
      }
      if (error instanceof CheckoutError && error.code === 'refund_refused') return refused(502, { problem: t('admin.orders.refund.errors.refused', { reason: error.message }) });
      throw error;
    }
    if (result.kind === 'not_refunded' || result.kind === 'unknown') return refused(502, { problem: t(`admin.orders.refund.errors.${result.kind === 'unknown' ? 'unknown' : 'notRefunded'}`) });
    const notice = result.kind === 'already_refunded' ? 'alreadyRefunded' : result.settled ? 'refunded' : 'refundUnsettled';
    response.redirect(303, `/desk/quotes/${details.quote.number}?${new URLSearchParams({ payment: notice, refund: result.refundId }).toString()}`);
  });

  return router;
}
