import type { Request, Response, Router } from 'express';
import { DELIVERY_METHODS, LIMITS, QuoteDraftError, validateQuoteDraft } from '../../../domain/quotes/quote-draft.js';
import { isQuoteStatus, QUOTE_STATUSES, QuoteStatusError, canMoveQuote, EDITABLE_STATUSES } from '../../../domain/quotes/quote-status.js';
import { MAX_QUOTE_LINES, quoteTotals, type QuoteTotals } from '../../../domain/quotes/quote-totals.js';
import { QUOTES_PAGE_SIZE, type QuoteSearch } from '../../../domain/quotes/quotes.js';
import { addDays } from '../../../domain/time/calendar.js';
import { CANCEL_REASON_MAX_LENGTH, QuoteError, type QuoteDetails } from '../../../services/quotes/quote-desk.js';
import type { Locale, Translate } from '../../../i18n/index.js';
import { SUPPORTED_LOCALES } from '../../../domain/shared/locale.js';
import { HttpError } from '../../http-error.js';
import { pageLinks, parsePage } from '../../paging.js';
import { renderPage } from '../../render.js';
import type { DeskDependencies } from './dependencies.js';
import { quoteNamedBy, showQuote } from './quote-page.js';
import { registerQuoteSendingRoutes } from './quote-sending.js';
import { registerQuoteUnitsRefundRoutes, UNITS_REFUND_NOTICES } from './quote-units-refund.js';
import { newQuoteValues, problemMessages, quoteValues, readQuoteForm, vatRateText, withRows, type QuoteFormValues } from './quote-form.js';

const MAX_SEARCH_LENGTH = 100;
/** How long a new quote is valid unless staff choose otherwise. */
const DEFAULT_VALIDITY_DAYS = 30;
/** The notices a redirect may ask the quote page to show, by name (never text from the URL). */
const NOTICES = new Set<string>(['created', 'updated', 'cancelled', 'sent', 'alreadySent', 'resent', ...UNITS_REFUND_NOTICES]);

const bodyOf = (request: Request) => (request.body ?? {}) as Record<string, unknown>;
const quotePath = (number: string) => `/desk/quotes/${number}`;

/** What the form's buttons ask: save (the default), more empty rows, or the totals without saving. */
const actionOf = (body: Record<string, unknown>) => (body.action === 'addLines' || body.action === 'preview' ? body.action : 'save');

interface FormState {
  values: QuoteFormValues;
  errors?: Record<string, string>;
  /** Why nothing was saved, when no field is to blame. */
  problem?: string;
  totals?: QuoteTotals | null;
}

export function registerQuoteRoutes(router: Router, deps: DeskDependencies): void {
  const { quotes } = deps;
  router.get('/desk/quotes', async (request, response) => {
    const t = response.locals.t as Translate;
    const { status, q } = request.query;
    if ((status !== undefined && typeof status !== 'string') || (q !== undefined && typeof q !== 'string')) throw new HttpError(400, 'badRequest', 'one filter value at a time');
    const text = (q ?? '').trim();
    const errors: Record<string, string> = {};
    if (status && !isQuoteStatus(status)) errors.status = t('deskQuotes.list.errors.status');
    if (text.length > MAX_SEARCH_LENGTH) errors.q = t('deskQuotes.list.errors.q', { max: MAX_SEARCH_LENGTH });
    const search: QuoteSearch = { ...(status && isQuoteStatus(status) ? { status } : {}), ...(text ? { text } : {}) };
    let listing = null;
    if (Object.keys(errors).length === 0) {
      const requested = parsePage(request.query.page);
      const first = await quotes.list(search, { limit: QUOTES_PAGE_SIZE, offset: (requested - 1) * QUOTES_PAGE_SIZE });
      const pageCount = Math.max(1, Math.ceil(first.total / QUOTES_PAGE_SIZE));
      const page = Math.min(requested, pageCount);
      const found = page === requested ? first : await quotes.list(search, { limit: QUOTES_PAGE_SIZE, offset: (page - 1) * QUOTES_PAGE_SIZE });
      const query = { ...(status ? { status } : {}), ...(text ? { q: text } : {}) };
      listing = { ...found, pager: pageLinks('/desk/quotes', query, page, pageCount) };
    }
    await renderPage(response.status(Object.keys(errors).length > 0 ? 400 : 200), 'desk/quotes/list', {
      title: t('deskQuotes.list.title'),
      statuses: QUOTE_STATUSES,
      typed: { status: typeof status === 'string' ? status.slice(0, 20) : '', q: text.slice(0, MAX_SEARCH_LENGTH) },
      maxSearchLength: MAX_SEARCH_LENGTH,
      errors,
      listing,
    });
  });

  /** The form for a new quote (no `details`) or a draft's, as sent or fresh. */
  async function showForm(response: Response, details: QuoteDetails | null, state: FormState, status = 200) {
    const t = response.locals.t as Translate;
    const defaults = await quotes.defaults();
    await renderPage(response.status(status), 'desk/quotes/form', {
      title: details ? t('deskQuotes.form.editTitle', { number: details.quote.number }) : t('deskQuotes.form.newTitle'),
      quote: details?.quote ?? null,
      action: details ? `${quotePath(details.quote.number)}/edit` : '/desk/quotes/new',
      currency: details?.quote.currency ?? defaults.currency,
      values: state.values,
      errors: state.errors ?? {},
      problem: state.problem ?? null,
      totals: state.totals ?? null,
      deliveryMethods: DELIVERY_METHODS,
      customerLocales: SUPPORTED_LOCALES,
      limits: LIMITS,
      maxLines: MAX_QUOTE_LINES,
      today: defaults.today,
    });
  }

  const defaultVatRate = async (response: Response) => vatRateText((await quotes.defaults()).vatRateBasisPoints, response.locals.locale as Locale);

  /** Answers a post of the form: more rows, the totals, or the quote saved by `save` (then a redirect to it). */
  async function handleForm(request: Request, response: Response, details: QuoteDetails | null, save: (form: ReturnType<typeof readQuoteForm>) => Promise<{ number: string }>, notice: string) {
    const t = response.locals.t as Translate;
    const body = bodyOf(request);
    const form = readQuoteForm(body);
    const { input, values } = form;
    const action = actionOf(body);
    const vatRate = await defaultVatRate(response);
    if (action === 'addLines') return showForm(response, details, { values: withRows(values, vatRate, true) });
    try {
      if (action === 'preview') {
        const draft = validateQuoteDraft(input, (await quotes.defaults()).today);
        return await showForm(response, details, { values: withRows(values, vatRate, false), totals: quoteTotals(draft.lines) });
      }
      const saved = await save(form);
      response.redirect(303, `${quotePath(saved.number)}?notice=${notice}`);
    } catch (error) {
      if (error instanceof QuoteError && error.code === 'stale') {
        // What this person typed is shown again, still from the version they started from: saving it
        // as it is would undo the other save, so it is refused again until they reopen the draft.
        return await showForm(response, details, { values: withRows(values, vatRate, false), problem: t('deskQuotes.form.stale') }, 409);
      }
      if (!(error instanceof QuoteDraftError)) throw error;
      await showForm(response, details, { values: withRows(values, vatRate, false), errors: problemMessages(error.problems, t) }, 400);
    }
  }

  router.get('/desk/quotes/new', async (request, response) => {
    const defaults = await quotes.defaults();
    await showForm(response, null, { values: newQuoteValues(addDays(defaults.today, DEFAULT_VALIDITY_DAYS), await defaultVatRate(response), defaults.locale) });
  });

  router.post('/desk/quotes/new', (request, response) => handleForm(request, response, null, ({ input }) => quotes.createDraft(request.user!, input), 'created'));

  const quoteOf = (request: Request) => quoteNamedBy(quotes, request);

  router.get('/desk/quotes/:number', async (request, response) => {
    const t = response.locals.t as Translate;
    const details = await quoteOf(request);
    const notice = typeof request.query.notice === 'string' && NOTICES.has(request.query.notice) ? t(`deskQuotes.quote.notices.${request.query.notice}`) : null;
    await showQuote(response, details, { notice });
  });

  /** A quote that is no longer a draft: its page, saying why nothing was changed (409). */
  const refuseEdit = (response: Response, details: QuoteDetails) =>
    showQuote(response, details, { problem: (response.locals.t as Translate)('deskQuotes.quote.notEditable', { status: (response.locals.t as Translate)(`deskQuotes.status.${details.quote.status}`) }) }, 409);

  router.get('/desk/quotes/:number/edit', async (request, response) => {
    const details = await quoteOf(request);
    if (!EDITABLE_STATUSES.includes(details.quote.status)) return refuseEdit(response, details);
    await showForm(response, details, { values: quoteValues(details.quote, response.locals.locale as Locale, await defaultVatRate(response)) });
  });

  router.post('/desk/quotes/:number/edit', async (request, response) => {
    const details = await quoteOf(request);
    if (!EDITABLE_STATUSES.includes(details.quote.status)) return refuseEdit(response, details);
    try {
      // A form without a version (not made by this page) counts as made from none: always stale.
      await handleForm(request, response, details, ({ input, version }) => quotes.updateDraft(request.user!, details.quote.id, version ?? 0, input), 'updated');
    } catch (error) {
      if (!(error instanceof QuoteError && error.code === 'not_editable')) throw error;
      await refuseEdit(response, (await quotes.details(details.quote.id))!);
    }
  });

  /** Cancelling is asked for twice: this page says what it does, its form does it. */
  router.get('/desk/quotes/:number/cancel', async (request, response) => {
    const t = response.locals.t as Translate;
    const details = await quoteOf(request);
    if (!canMoveQuote(details.quote.status, 'cancelled')) return showQuote(response, details, { problem: t('deskQuotes.quote.notCancellable') }, 409);
    await showCancel(response, details, '', null);
  });

  async function showCancel(response: Response, details: QuoteDetails, reason: string, error: string | null, status = 200) {
    const t = response.locals.t as Translate;
    await renderPage(response.status(status), 'desk/quotes/cancel', {
      title: t('deskQuotes.cancel.title', { number: details.quote.number }),
      quote: details.quote,
      reasonMaxLength: CANCEL_REASON_MAX_LENGTH,
      reason,
      error,
    });
  }

  router.post('/desk/quotes/:number/cancel', async (request, response) => {
    const t = response.locals.t as Translate;
    const details = await quoteOf(request);
    const posted = bodyOf(request).reason;
    const reason = typeof posted === 'string' ? posted : '';
    try {
      await quotes.cancel(request.user!, details.quote.id, reason);
      response.redirect(303, `${quotePath(details.quote.number)}?notice=cancelled`);
    } catch (error) {
      if (error instanceof QuoteError && error.code === 'reason_too_long') {
        return await showCancel(response, details, reason, t('deskQuotes.cancel.reasonTooLong', { max: CANCEL_REASON_MAX_LENGTH }), 400);
      }
      const inProgress = error instanceof QuoteError && error.code === 'payment_in_progress';
      if (!inProgress && !(error instanceof QuoteStatusError)) throw error;
      await showQuote(response, (await quotes.details(details.quote.id))!, { problem: t(inProgress ? 'deskQuotes.quote.paymentInProgress' : 'deskQuotes.quote.notCancellable') }, 409);
    }
  });
  registerQuoteSendingRoutes(router, deps);
  registerQuoteUnitsRefundRoutes(router, deps);
}
